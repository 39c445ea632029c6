"""The city components table (城市、传播力、服务力、互动力, optionally 榜单) for the People's Daily
city competitiveness index; `ranking.city.city_index` computes the index from its rows."""

from __future__ import annotations

from pathlib import Path

from govmedia.core.rows import Reject
from govmedia.ingest import values as v
from govmedia.ingest.tabular import map_columns, read_table

_ALIASES = {
    "table": ["table", "榜单", "表"],
    "city": ["city", "城市"],
    "reach": ["reach", "传播力"],
    "service": ["service", "服务力"],
    "interaction": ["interaction", "互动力"],
}


def read_city_table(path: str | Path) -> tuple[list[dict], list[Reject]]:
    """Rows {table, city, reach, service, interaction} and the rows refused, with line and column."""
    table = read_table(path, {n for names in _ALIASES.values() for n in names})
    mapping = map_columns(table, _ALIASES, ("city", "reach", "service", "interaction"), "城市竞争力表")
    rows, rejects = [], []
    for line, raw in table.rows:
        city = v.clean_text(raw.get(mapping["city"]))
        if city is None:
            rejects.append(Reject(line, mapping["city"], "缺少城市", raw))
            continue
        values = {}
        for field in ("reach", "service", "interaction"):
            cell = raw.get(mapping[field])
            try:
                values[field] = float(str(cell).strip())
            except (TypeError, ValueError):
                rejects.append(Reject(line, mapping[field], f"不是数字: {cell!r}", raw))
                break
        else:
            group = v.clean_text(raw.get(mapping["table"])) if "table" in mapping else ""
            rows.append({"table": group or "", "city": city, **values})
    return rows, rejects
