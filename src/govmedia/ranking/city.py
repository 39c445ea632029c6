"""People's Daily city competitiveness (人民日报·政务指数 竞争力指数) from a table of components.

competitiveness = 0.30 × reach (传播力) + 0.35 × service (服务力) + 0.35 × interaction (互动力);
weights in methodology/peoples-daily.toml. A `table` column (榜单) ranks several tables at once.
"""

from __future__ import annotations

from pathlib import Path

from govmedia.ingest import values as v
from govmedia.ingest.canonical import Reject
from govmedia.ingest.tabular import map_columns, read_table
from govmedia.methodology import load_peer
from govmedia.ranking import competition_ranks

CITY_COLUMNS = ("table", "rank", "city", "reach", "service", "interaction", "competitiveness")
_ALIASES = {
    "table": ["table", "榜单", "表"],
    "city": ["city", "城市"],
    "reach": ["reach", "传播力"],
    "service": ["service", "服务力"],
    "interaction": ["interaction", "互动力"],
}


def city_index(path: str | Path) -> tuple[list[dict], list[Reject]]:
    peer = load_peer("peoples-daily")
    weights = peer["weights"]
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
            score = sum(weights[k] * values[k] for k in weights)
            rows.append({"table": group or "", "city": city, **values, "competitiveness": score})
    ranked: list[dict] = []
    for group in dict.fromkeys(r["table"] for r in rows):
        members = [r for r in rows if r["table"] == group]
        ranked.extend(competition_ranks(members, "competitiveness", ("city",)))
    return [{c: r[c] for c in CITY_COLUMNS} for r in ranked], rejects
