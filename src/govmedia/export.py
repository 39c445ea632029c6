"""Writing result rows as a terminal table, CSV, JSON, XLSX or Parquet (CLI, API and reports share it).

CSV and XLSX cells go through `core.text.inert`: no control characters, and text that begins like
a formula (`= + - @`, tab, CR) prefixed with `'`, so a name like `=HYPERLINK(…)` is never live in
Excel; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

from govmedia.core.errors import UserError
from govmedia.core.text import inert

FORMATS = ("table", "csv", "json", "xlsx", "parquet")
BINARY = ("xlsx", "parquet")


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([inert(c) for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else inert(_plain(row.get(c))) for c in columns])
    return buffer.getvalue()


def to_json(rows: Sequence[dict], columns: Sequence[str]) -> str:
    return json.dumps([{c: _plain(r.get(c)) for c in columns} for r in rows], ensure_ascii=False, indent=2) + "\n"


def to_xlsx(rows: Sequence[dict], columns: Sequence[str], path: Path, sheet: str = "data",
            headers: dict[str, str] | None = None) -> None:
    to_xlsx_sheets([(sheet, rows, columns)], path, headers)


def to_xlsx_sheets(sheets: Sequence[tuple[str, Sequence[dict], Sequence[str]]], path: Path,
                   headers: dict[str, str] | None = None) -> None:
    """One workbook, a sheet per (title, rows, columns), each with a frozen header row."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for index, (title, rows, columns) in enumerate(sheets):
        ws = workbook.active if index == 0 else workbook.create_sheet()
        ws.title = title[:31]
        ws.append([inert((headers or {}).get(c, c)) for c in columns])
        for row in rows:
            ws.append([inert(_plain(row.get(c))) for c in columns])
        ws.freeze_panes = "A2"
    workbook.save(path)


def to_parquet(rows: Sequence[dict], columns: Sequence[str], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    pq.write_table(table, path)


def write_rows(rows: Sequence[dict], columns: Sequence[str], fmt: str, out: Path | None = None,
               render_table=None) -> None:
    """Write to `out` or stdout. Binary formats need `out`."""
    if fmt not in FORMATS:
        raise UserError(f"未知输出格式 {fmt!r}（可用: {', '.join(FORMATS)}）")
    if fmt in BINARY and out is None:
        raise UserError(f"{fmt} 格式需要用 --out 指定输出文件")
    if fmt == "table":
        if render_table is None:
            raise UserError("此命令不支持 table 格式")
        render_table(rows)
        return
    if fmt == "xlsx":
        to_xlsx(rows, columns, out)
        return
    if fmt == "parquet":
        to_parquet(rows, columns, out)
        return
    text = to_csv(rows, columns) if fmt == "csv" else to_json(rows, columns)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
