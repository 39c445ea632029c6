"""Reports for signed-in users.

In the browser, "生成报告" posts `/reports/build`, which starts a report job (`web/jobs.py`): the job
page shows its steps and then links to the files (`/reports/jobs/{id}/{fmt}`), also after a reload.
Scripts may GET /reports/report.{docx,pdf,html,xlsx}?from=…&to=… and wait for the file.

One month gives the bulletin (月榜), a longer period the annual report with year-on-year figures.
Files are built by the same `govmedia.reports` code as `govmedia report`. Anonymous visitors are
sent to the sign-in page (the public rankings stay available as pages, CSV and XLSX).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from govmedia.core.errors import UserError
from govmedia.core.time import Period
from govmedia.ranking.overview import default_period
from govmedia.reports import FORMATS, build_for_period, write_report
from govmedia.core.text import scrub
from govmedia.store.jobs import get_job
from govmedia.web.auth import RANK
from govmedia.web.deps import Reads, job_runner, message, reader_form, require, signed_in
from govmedia.web.jobs import JobRunner, report_folder, start_report
from govmedia.web.data import report_form
from govmedia.web.render import error_page

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

    def build() -> bytes:
        # The content model is shared by the four formats: gathered once per period until a write.
        content = store.get(("report-model", start, end), build_for_period, start, end, methodology=store.methodology)
        with tempfile.TemporaryDirectory() as folder:
            return write_report(content, Path(folder), [fmt])[fmt].read_bytes()

    body = store.cached(("report-file", start, end, fmt), build)
    stem = "bulletin" if start == end else "report"
    name = f"{stem}-{start}-{end}.{fmt}" if fmt != "xlsx" else f"rankings-{start}-{end}.xlsx"
    disposition = "inline" if fmt in ("html", "pdf") else "attachment"
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"'})


@router.post("/reports/build")
def report_build(request: Request, store: Reads = Depends(reader_form), runner: JobRunner = Depends(job_runner),
                 start: str = Form(..., alias="from"), end: str = Form(..., alias="to"), format: str = Form("all")):
    try:
        period = Period.parse(start, end)
    except UserError as exc:
        return error_page(request, 400, f"未生成报告: {message(exc)}")
    formats = list(FORMATS) if format == "all" else [format]
    if any(f not in FORMATS for f in formats):
        return error_page(request, 400, "未生成报告: 请选择 PDF、Word、HTML、Excel 或全部")
    job = start_report(runner, store, period, formats)
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


@router.get("/reports/jobs/{job_id}/{fmt}")
def report_file(job_id: int, fmt: str, store: Reads = Depends(signed_in)):
    job = store.get(None, get_job, job_id)
    if job is None or job["kind"] != "report" or job["state"] != "done" or fmt not in (job["result"] or {}).get("files", {}):
        raise HTTPException(404, "没有这个报告文件；请重新生成报告")
    if RANK[store.viewer[1]] < RANK["editor"] and job["who"] != store.viewer[0]:
        raise HTTPException(403, "只能下载自己生成的报告")
    path = report_folder(store, job_id) / job["result"]["files"][fmt]
    if not path.is_file():
        raise HTTPException(404, "报告文件已清理（只保留最近 20 次生成的报告）；请重新生成")
    disposition = "inline" if fmt in ("html", "pdf") else "attachment"
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=job["result"]["names"][fmt],
                        content_disposition_type=disposition)


def _preview_period(store: Reads, start: str | None, end: str | None) -> tuple[str, str]:
    if start and end:
        period = Period.parse(start, end)
        return period.first, period.last
    found = store.get(("default_period",), default_period)
    if found is None:
        raise UserError("还没有计算过分数，无法预览报告；请先在「数据」页导入数据并计算分数")
    return found


@router.get("/reports/preview", response_class=HTMLResponse)
def report_preview(request: Request, store: Reads = Depends(signed_in), start: Optional[str] = Query(None, alias="from"),
                   end: Optional[str] = Query(None, alias="to")):
    """The whole report in HTML, under the stored settings (what 生成报告 would write)."""
    from govmedia.reports.html import render_html

    try:
        start, end = _preview_period(store, start, end)
    except UserError as exc:
        return error_page(request, 400, f"无法预览: {message(exc)}")
    model = store.get(("report-model", start, end), build_for_period, start, end, methodology=store.methodology)
    return HTMLResponse(store.cached(("report-preview", start, end), lambda: render_html(scrub(model))))


@router.post("/reports/preview", response_class=HTMLResponse)
def report_preview_unsaved(request: Request, store: Reads = Depends(require("editor", write=False, csrf=True)),
                           form=Depends(report_form), start: Optional[str] = Form(None, alias="from"),
                           end: Optional[str] = Form(None, alias="to")):
    """The report as the settings being edited would make it: nothing is saved."""
    from govmedia.reports.html import render_html

    try:
        parsed = form.settings()
        start, end = _preview_period(store, start, end)
        with store.read() as con:
            model = build_for_period(con, start, end, methodology=store.methodology, settings=parsed)
    except UserError as exc:
        return error_page(request, 400, f"无法预览: {message(exc)}")
    return HTMLResponse(render_html(scrub(model)))
