"""Report downloads for signed-in users: /reports/report.{docx,pdf,html,xlsx}?from=…&to=…

One month gives the bulletin (月榜), a longer period the annual report with year-on-year figures.
Files are built by the same `govmedia.reports` code as `govmedia report` and cached until the
next write to the store. Anonymous visitors are sent to the sign-in page (reports take seconds
to build; the public rankings stay available as pages, CSV and XLSX).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from govmedia.core.time import Period
from govmedia.ranking.overview import default_period
from govmedia.reports import FORMATS, build_bulletin, build_report, write_report
from govmedia.web.deps import Reads, signed_in

router = APIRouter(include_in_schema=False)
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/reports/report.{fmt}")
def report_download(fmt: str, store: Reads = Depends(signed_in), start: Optional[str] = Query(None, alias="from"),
                    end: Optional[str] = Query(None, alias="to")):
    if fmt not in FORMATS:
        raise HTTPException(404, f"只提供 {', '.join(FORMATS)}")
    if start and end:
        period = Period.parse(start, end)
    else:
        found = store.get(("default_period",), default_period)
        if found is None:
            raise HTTPException(404, "还没有计算过分数")
        period = Period.parse(*found)
    start, end = period.first, period.last

    def model(con):
        if start == end:
            return build_bulletin(con, start, methodology=store.methodology)
        return build_report(con, start, end, compare_previous_year=True, methodology=store.methodology)

    def build() -> bytes:
        # The content model is shared by the four formats: gathered once per period until a write.
        content = store.get(("report-model", start, end), model)
        with tempfile.TemporaryDirectory() as folder:
            return write_report(content, Path(folder), [fmt])[fmt].read_bytes()

    body = store.cached(("report-file", start, end, fmt), build)
    stem = "bulletin" if start == end else "report"
    name = f"{stem}-{start}-{end}.{fmt}" if fmt != "xlsx" else f"rankings-{start}-{end}.xlsx"
    disposition = "inline" if fmt in ("html", "pdf") else "attachment"
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"'})
