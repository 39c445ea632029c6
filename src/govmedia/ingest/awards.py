"""Award lists for the annexes (附件), loaded from a CSV/XLSX file: one row per entry.

Columns: 奖项 (award; also 奖项名称, award) and 名称 (entry; also 条目, 作品, entry, name). Rows keep
the file's order; awards appear in the order of their first row.
"""

from __future__ import annotations

from pathlib import Path

from govmedia.core.errors import UserError
from govmedia.ingest import values as v
from govmedia.ingest.tabular import map_columns, read_table

AWARD_ALIASES = {
    "award": ["award", "奖项", "奖项名称", "奖励", "名单"],
    "entry": ["entry", "名称", "条目", "作品", "获奖名称", "获奖者", "name"],
}


def read_awards(path: str | Path) -> list[tuple[str, list[str]]]:
    known = {n for names in AWARD_ALIASES.values() for n in names}
    table = read_table(path, known)
    mapping = map_columns(table, AWARD_ALIASES, ("award", "entry"), "获奖名单",
                          {"award": "奖项", "entry": "名称"})
    awards: dict[str, list[str]] = {}
    for line, raw in table.rows:
        award, entry = raw.get(mapping["award"]), raw.get(mapping["entry"])
        if v.is_missing(award) and v.is_missing(entry):
            continue
        if v.is_missing(award) or v.is_missing(entry):
            missing = "奖项" if v.is_missing(award) else "名称"
            raise UserError(f"{table.where(line)}: 缺少{missing}")
        awards.setdefault(str(award).strip(), []).append(str(entry).strip())
    if not awards:
        raise UserError(f"{path}: 获奖名单中没有条目")
    return list(awards.items())
