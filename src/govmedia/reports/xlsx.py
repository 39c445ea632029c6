"""Excel workbook (rankings.xlsx), in Chinese: a "说明" sheet (period, methodology and its
fingerprint), an overview sheet, and one sheet per platform and category.

A ranking sheet holds EVERY ranked account, then the accounts without a post in the period
(empty rank, 备注 本期无数据), the rows of `govmedia rank --format csv` (unrounded
values; numbers shown with two decimals by the cell format) with platforms and categories by their
Chinese names, under one frozen header row. The printed reports cut non-district categories to
the Top N; the workbook is the data and is not cut. Figures are numbers, rates percentages.
"""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path

from govmedia.core.text import inert
from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES
from govmedia.ranking import FLAG_COLUMNS, FLAG_HEADERS, NOTE_HEADERS, RANK_COLUMNS, RANK_HEADERS
from govmedia.reports.model import ReportModel

WIDTHS = {"rank": 7, "platform": 9, "category": 13, "account_id": 22, "name": 34, "score": 12}


_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _exact_floats():
    """openpyxl writes floats with "%.16g", which does not always round-trip (147.04649435121615
    becomes 147.0464943512162). While the workbook is saved, floats are written with repr(), the
    shortest text that reads back as the same double — so the cells equal the CLI's CSV exactly."""
    from openpyxl.cell import _writer

    original = _writer.safe_string

    def safe_string(value):
        if isinstance(value, float):
            return repr(value)
        return original(value)

    with _PATCH_LOCK:
        _writer.safe_string = safe_string
        try:
            yield
        finally:
            _writer.safe_string = original


def _append(sheet, values) -> None:
    """A row of inert cells (`core.text.inert`): a name like "=HYPERLINK(…)" stays text."""
    sheet.append([inert(v) for v in values])


_INTEGER = re.compile(r"-?\d{1,3}(?:,\d{3})*|-?\d+")
_DECIMAL = re.compile(r"-?\d+\.\d+")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)%")


def _typed(value):
    """A figure the report's blocks carry as text ("12", "1,234", "85.0%") as a number, with the
    cell format that shows it the same way; other text as it is."""
    if not isinstance(value, str):
        return value, None
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return int(text.replace(",", "")), "#,##0"
    if _DECIMAL.fullmatch(text):
        return float(text), "0.00"
    match = _PERCENT.fullmatch(text)
    if match:
        decimals = len(match.group(1).partition(".")[2])
        return float(match.group(1)) / 100, "0." + "0" * decimals + "%" if decimals else "0%"
    return value, None


def _append_typed(sheet, values) -> None:
    _append(sheet, [_typed(v)[0] for v in values])
    for cell, value in zip(sheet[sheet.max_row], values):
        fmt = _typed(value)[1]
        if fmt:
            cell.number_format = fmt


def write_xlsx(model: ReportModel, path: Path) -> Path:
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F6")
    workbook = openpyxl.Workbook()

    about = workbook.active
    about.title = "说明"
    m = model.methodology
    cut = "、".join(sorted({CATEGORY_NAMES[k.category] for k in model.rankings if len(k.rows) < len(k.full)}))
    for row in (
        ("项目", "内容"),
        ("标题", model.title),
        ("类型", "年度报告" if model.kind == "annual" else "月榜"),
        ("统计周期", model.label),
        ("起始月份", model.start),
        ("结束月份", model.end),
        ("榜单得分列", model.column),
        ("评估方法", f"{m.title}（{m.name}）" if m.title and m.title != m.name else m.name),
        ("方法文件", m.source),
        ("方法文件校验码（SHA-256）", m.sha256),
        ("生成日期", model.generated),
        ("说明", "每个榜单工作表列出该平台该类别的全部账号；分数未取整，显示两位小数。本期间没有发布内容的账号不参与排名、"
                 "不计入账号数，列在最后，备注「本期无数据」。"
                 + (f"报告正文中{cut}类榜单只印前几名，本表不删减。" if cut else "")),
    ):
        _append(about, list(row))
    for cell in about[1]:
        cell.font = bold
        cell.fill = fill
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 90
    for row in about.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    about.freeze_panes = "A2"

    sheet = workbook.create_sheet("概况")
    o = model.overview
    headers = ["平台", "指标", "本期"] + (["上年同期", "同比"] if o.compare else [])
    _append(sheet, headers)
    for p in o.platforms:
        for f in p.figures:
            values = [p.name, f.label, f.value]
            if o.compare:
                values += [f.previous, f.growth]
            _append(sheet, values)
    for row in sheet.iter_rows(min_row=2):
        row[2].number_format = "#,##0"
        if o.compare:
            row[3].number_format = "#,##0"
            row[4].number_format = "+0.0%;-0.0%;0.0%"
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    for letter, width in zip("ABCDE", (8, 22, 16, 16, 10)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    for block in o.blocks:  # other features' summaries, below the figures
        _append(sheet, [])
        _append(sheet, [block.title])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        for text in block.paragraphs:
            _append(sheet, [text])
        if block.headers:
            _append(sheet, list(block.headers))
            for cell in sheet[sheet.max_row]:
                cell.font = bold
            for row in block.rows:
                _append_typed(sheet, list(row))

    columns = (*RANK_COLUMNS, *FLAG_COLUMNS, "note")  # as `govmedia rank --format csv`
    for k in model.rankings:
        ws = workbook.create_sheet(k.sheet[:31])
        labels = {**RANK_HEADERS, **FLAG_HEADERS, **NOTE_HEADERS, "score": k.column}
        _append(ws, [labels[c] for c in columns])
        names = {"platform": PLATFORM_NAMES, "category": CATEGORY_NAMES}
        for row in (*k.full, *k.silent):  # accounts without a post after the ranked ones: no rank, 本期无数据
            _append(ws, [names[c].get(row[c], row[c]) if c in names else row[c] for c in columns])
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
        for index, column in enumerate(columns):
            letter = openpyxl.utils.get_column_letter(index + 1)
            ws.column_dimensions[letter].width = WIDTHS.get(column, 11)
            fmt = "0" if column in ("rank", "flagged_posts") else "@" if column == "account_id" else \
                "0.0%" if column == "flagged_share" else \
                "0.00" if column not in ("platform", "category", "name", "note") else None
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    with _exact_floats():
        workbook.save(str(path))
    return path
