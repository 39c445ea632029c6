"""合规检查 pages and API: stored checks, filters, alerts first, pass rates, per-account history.

Every read here needs a signed-in user (`viewer_reads`, docs/security.md): inspection results name
accounts 不合格 and quote the offending posts.

Editors run a check from the page (POST with CSRF) or the API, through the one door
`govmedia.oversight.run_check`, which stores the check and its audit entry together.
"""

from __future__ import annotations

from datetime import date
from typing import Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import CATEGORIES
from govmedia.oversight import (
    ALL, KIND_NAMES, RESULT_COLUMNS, STATUSES, VERDICTS, STATUS_NAMES, UNKNOWN_REGION, account_history, alert_message,
    check_findings, check_points, coverage_warning, data_end, delete_check, latest_summary, load_rules,
    parse_check_point, stored_check, summarize, filter_results,
)
from govmedia.core.time import local_text
from govmedia.ranking.accounts import get_account
from govmedia.web.deps import Reads, Writes, admin, check_rules, editor, job_runner, message, viewer_reads
from govmedia.web.jobs import JobRunner, busy_kinds, job_list, outcome, start_check
from govmedia.web.render import render, table_download

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["checks"])

def _local(moment) -> str:
    return local_text(moment, seconds=False)


def _points(store: Reads) -> list[dict]:
    return store.get(("check_points",), check_points)


def _default_point(store: Reads) -> str:
    """What the run form proposes: the day the data covers up to, not today (a check after the last
    crawl would judge every account silent)."""
    end = store.get(("data_end",), data_end)
    return (end or date.today()).isoformat()


def _load(store: Reads, at: date):
    return store.get(("check", at), lambda con: (stored_check(con, at), check_findings(con, at)))


@router.get("/oversight", response_class=HTMLResponse)
def oversight_page(request: Request, store: Reads = Depends(viewer_reads), at: Optional[str] = None, platform: str = "", region: str = "",
                   category: str = "", verdict: str = "", status: str = ""):
    chosen = dict(platform=platform, region=region, category=category, verdict=verdict, status=status)
    filter_results([], **chosen)  # a bad filter is refused before any work
    points = _points(store)
    notice = request.session.pop("notice", None) if "session" in request.scope else None
    check_busy = "check" in busy_kinds(job_list(store, 20))
    if not points:
        return render(request, "oversight.html", points=[], notice=notice, today=_default_point(store),
                      check_busy=check_busy)
    point = parse_check_point(at) if at else points[0]["check_at"]
    (run, rows), findings = _load(store, point)
    shown = filter_results(rows, **chosen)
    rates = summarize(rows, ("region", "category"), point)
    regions = sorted({r["region"] for r in rates if r["region"] != ALL}, key=lambda v: (v == UNKNOWN_REGION, v))
    categories = [c for c in CATEGORIES if any(r["category"] == c for r in rates)]
    grid = {(r["region"], r["category"]): r for r in rates}
    filters = {"at": point.isoformat(), "platform": platform, "region": region, "category": category,
               "verdict": verdict, "status": status}
    query = urlencode({k: v for k, v in filters.items() if v})
    keys = {(r["platform"], r["account_id"]) for r in shown}
    shown_findings = [f for f in findings if (f["platform"], f["account_id"]) in keys][:200]
    for r in shown:
        r.setdefault("alert_text", alert_message(r))
    return render(request, "oversight.html", points=points, run=run, point=point, rows=shown, total=len(rows),
                  rates=rates, grid=grid, regions=regions, categories=categories, findings=shown_findings,
                  findings_total=len(findings), filters=filters, query=query, notice=notice,
                  STATUS_NAMES=STATUS_NAMES, KIND_NAMES=KIND_NAMES, STATUSES=STATUSES, VERDICTS=VERDICTS,
                  ALL=ALL, local=_local, today=_default_point(store),
                  alerts=sum(1 for r in rows if r["alert"]), check_busy=check_busy)


@router.get("/oversight.{kind}")
def oversight_download(kind: str, at: str, store: Reads = Depends(viewer_reads), platform: str = "", region: str = "",
                       category: str = "", verdict: str = "", status: str = ""):
    chosen = dict(platform=platform, region=region, category=category, verdict=verdict, status=status)
    filter_results([], **chosen)  # a bad filter is refused before any work
    point = parse_check_point(at)
    (run, rows), _ = _load(store, point)
    rows = [dict(r, alert_message=alert_message(r)) for r in filter_results(rows, **chosen)]
    columns = [*RESULT_COLUMNS, "alert_message"]
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "只提供 csv 与 xlsx")
    return table_download(rows, columns, kind, f"check-{point.isoformat()}", "检查结果")


@router.get("/oversight/accounts/{platform}/{account_id}", response_class=HTMLResponse)
def oversight_account(request: Request, platform: str, account_id: str, store: Reads = Depends(viewer_reads)):
    with store.read() as con:
        account = get_account(con, platform, account_id)
        if account is None:
            raise HTTPException(404, "账号不存在")
        history = account_history(con, platform, account_id)
        findings = check_findings(con, history[0]["check_at"], platform, account_id) if history else []
    for r in history:
        r["alert_text"] = alert_message(r)
    return render(request, "oversight_account.html", platform=platform, account_id=account_id,
                  account_name=account["name"], region=account["region"], category=account["category"],
                  active=account["active"], opened_at=account["opened_at"], history=history,
                  findings=findings, STATUS_NAMES=STATUS_NAMES, KIND_NAMES=KIND_NAMES, local=_local)


@router.post("/oversight/run")
def oversight_run(request: Request, store: Writes = Depends(editor), rules_path: Optional[str] = Depends(check_rules),
                  runner: JobRunner = Depends(job_runner), at: str = Form(...), confirm: str = Form("")):
    try:
        point = parse_check_point(at)
        rules = load_rules(rules_path)
    except UserError as exc:
        request.session["notice"] = f"未检查: {message(exc)}"
        return RedirectResponse("/oversight", status_code=303)
    with store.read() as con:
        warning = coverage_warning(con, point)
    if warning and confirm != "yes":  # a false pass rate is one click away: ask first
        return render(request, "oversight_confirm.html", warning=warning, at=point.isoformat(),
                      suggested=_default_point(store))
    job = start_check(runner, store, point, rules)  # runs in the background; its page shows the progress
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


@router.post("/oversight/delete")
def oversight_delete(request: Request, store: Writes = Depends(admin), at: str = Form(...), sure: str = Form("")):
    try:
        point = parse_check_point(at)
        if sure != "yes":
            raise UserError("请勾选「确认删除」后再删除")
        with store.write() as con:
            delete_check(con, point, actor=store.user)
        request.session["notice"] = f"已删除 {point.isoformat()} 的检查结果"
    except UserError as exc:
        request.session["notice"] = f"未删除: {message(exc)}"
    return RedirectResponse("/oversight", status_code=303)


# --------------------------------------------------------------------------- API


@api_router.get("/checks", summary="已保存的检查点及其合格率")
def api_checks(store: Reads = Depends(viewer_reads)):
    return store.get(None, latest_summary, date(1900, 1, 1), date(9999, 12, 30))


@api_router.get("/checks/{at}", summary="某检查点的逐账号结果（预警在前）")
def api_check(at: str, store: Reads = Depends(viewer_reads), platform: str = "", region: str = "", category: str = "",
              verdict: str = "", status: str = ""):
    chosen = dict(platform=platform, region=region, category=category, verdict=verdict, status=status)
    filter_results([], **chosen)  # a bad filter is refused before any work
    (run, rows), _ = _load(store, parse_check_point(at))
    return [dict(r, alert_message=alert_message(r)) for r in filter_results(rows, **chosen)]


@api_router.get("/checks/{at}/pass-rates", summary="某检查点各地区 × 类别的合格率")
def api_pass_rates(at: str, store: Reads = Depends(viewer_reads)):
    point = parse_check_point(at)
    (run, rows), _ = _load(store, point)
    return summarize(rows, ("region", "category"), point)


@api_router.get("/checks/{at}/findings", summary="某检查点的内容问题（严重表述错误、敏感词）")
def api_findings(at: str, store: Reads = Depends(viewer_reads)):
    _, findings = _load(store, parse_check_point(at))
    return findings


@api_router.post("/checks", summary="运行一次检查（编辑，后台任务；?wait=true 等待结果）",
                 responses={202: {"description": "任务已提交：{job_id, state}；用 GET /api/v1/jobs/{job_id} 查看"}})
def api_run(store: Writes = Depends(editor), rules_path: Optional[str] = Depends(check_rules),
            runner: JobRunner = Depends(job_runner), at: str = Query(..., description="检查点 YYYY-MM-DD"),
            wait: bool = Query(False, description="true：等检查完成后返回结果；默认立即返回任务编号（202）"),
            confirm: bool = Query(False, description="true：检查点晚于数据覆盖的最后一天时仍然检查")):
    point = parse_check_point(at)
    rules = load_rules(rules_path)
    with store.read() as con:
        warning = coverage_warning(con, point)
    if warning and not confirm:
        raise HTTPException(409, f"{warning}（确需在此日期检查，请加参数 confirm=true）")
    job = start_check(runner, store, point, rules)
    if not wait:
        return JSONResponse({"job_id": job.job_id, "state": job.state}, status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job.job_id}"})
    return outcome(runner, job)


@api_router.delete("/checks/{at}", summary="删除某检查点的检查结果（管理员）", status_code=204)
def api_delete(at: str, store: Writes = Depends(admin)):
    with store.write() as con:
        delete_check(con, parse_check_point(at), actor=store.user)
