"""Publishing: the annual report (white paper) and the monthly bulletin (月榜) as Word, PDF, HTML
and Excel.

    model = build_report(con, "2020-02", "2020-11", compare_previous_year=True)
    paths = write_report(model, Path("out"), ["docx", "pdf", "html", "xlsx"])

`build_report` / `build_bulletin` gather everything from the store into one `ReportModel`; the
writers only render it. Other features add overview paragraphs with `overview_blocks=[Block(...)]`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable

from govmedia.core.errors import UserError
from govmedia.core.text import scrub
from govmedia.reports.model import Block, ReportModel, build_bulletin, build_report, period_column, period_label

FORMATS = ("docx", "pdf", "html", "xlsx")
FILE_NAMES = {"docx": "report.docx", "pdf": "report.pdf", "html": "report.html", "xlsx": "rankings.xlsx"}

__all__ = ["Block", "FORMATS", "FILE_NAMES", "ReportModel", "build_bulletin", "build_for_period", "build_report",
           "parse_formats", "period_column", "period_label", "prepare_out_dir", "write_report"]


def build_for_period(con, start: str, end: str, *, methodology=None, settings=None) -> ReportModel:
    """What the site builds for a period: the bulletin for one month, else the annual report with
    year-on-year figures; under the office's stored report settings unless others are given."""
    from govmedia.reports.settings import stored_settings

    settings = settings or stored_settings(con)
    if start == end:
        return build_bulletin(con, start, methodology=methodology, settings=settings)
    return build_report(con, start, end, compare_previous_year=True, methodology=methodology, settings=settings)


def parse_formats(value: str | Iterable[str]) -> list[str]:
    items = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
    formats = [f.strip().lower() for f in items if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"未知报告格式 {', '.join(unknown) or '（空）'}（可用: {', '.join(FORMATS)}）")
    return list(dict.fromkeys(formats))


def prepare_out_dir(directory: Path) -> Path:
    """Create the output folder and make sure we can write into it, before any work is done."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".govmedia-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"无法写入输出目录 {directory}: {exc.strerror or exc}") from exc
    return directory


def write_report(model: ReportModel, directory: Path, formats: Iterable[str] = FORMATS,
                 timings: dict[str, float] | None = None) -> dict[str, Path]:
    """Write the chosen formats into `directory` (report.docx, report.pdf, report.html, rankings.xlsx).
    Each file is written to a temporary name first and renamed, so a failure leaves no half file."""
    from govmedia.reports.docx import write_docx
    from govmedia.reports.html import write_html, write_pdf
    from govmedia.reports.xlsx import write_xlsx

    writers = {"docx": write_docx, "pdf": write_pdf, "html": write_html, "xlsx": write_xlsx}
    directory = prepare_out_dir(directory)
    model = scrub(model)  # no control character reaches XML (DOCX, XLSX) or the PDF/HTML text
    written = {}
    for fmt in parse_formats(list(formats)):
        target = directory / FILE_NAMES[fmt]
        partial = directory / f".{FILE_NAMES[fmt]}.part"
        started = time.perf_counter()
        try:
            writers[fmt](model, partial)
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise UserError(f"无法写入 {target}: {exc.strerror or exc}") from exc
        if timings is not None:
            timings[fmt] = time.perf_counter() - started
        written[fmt] = target
    return written
