"""合规检查 pages and API: stored checks, filters, alerts first, pass rates, per-account history.

Editors run a check from the page (POST with CSRF, audited), like recomputing scores.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import CATEGORIES, CATEGORY_NAMES
from govmedia.core.vocabulary import PLATFORM_NAMES, PLATFORMS
from govmedia.oversight import (
    ALL, FAIL, KIND_NAMES, PASS, RESULT_COLUMNS, STATUS_NAMES, UNKNOWN_REGION, account_history, alert_message,
    check_findings, check_points, latest_summary, load_rules, parse_check_point, run_check, stored_check, summarize,
)
from govmedia.core.time import local_text
from govmedia.store.users import audit
from govmedia.web.auth import require_role
from govmedia.web.pages import _guard, render, table_download

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["checks"])

STATUSES = ("ok", "sleeping", "zombie", "never")
VERDICTS = (PASS, FAIL)


def _local(moment) -> str:
    return local_text(moment, seconds=False)


def _points(request: Request) -> list[dict]:
    store = request.app.state.store
    with store.read() as con:
        return store.cached(("check_points",), lambda: check_points(con))


def _rules_path(request: Request):
    return getattr(request.app.state, "check_rules", None) or os.environ.get("GOVMEDIA_CHECK_RULES") or None


def _filter(rows: list[dict], platform, region, category, verdict, status) -> list[dict]:
    def keep(r):
        return ((not platform or r["platform"] == platform) and (not region or (r["region"] or UNKNOWN_REGION) == region)
                and (not category or r["category"] == category) and (not verdict or r["verdict"] == verdict)
                and (not status or r["status"] == status))
    return [r for r in rows if keep(r)]


def _validate(platform, category, verdict, status) -> None:
    if platform and platform not in PLATFORMS:
        raise UserError(f"未知平台 {platform!r}")
    if category and category not in CATEGORIES:
        raise UserError(f"未知类别 {category!r}")
    if verdict and verdict not in VERDICTS:
        raise UserError(f"未知结论 {verdict!r}（合格 / 不合格）")
    if status and status not in STATUSES:
        raise UserError(f"未知状态 {status!r}（ok / sleeping / zombie / never）")


def _load(request: Request, at: date):
    store = request.app.state.store
    with store.read() as con:
        return store.cached(("check", at), lambda: (stored_check(con, at), check_findings(con, at)))


@router.get("/oversight", response_class=HTMLResponse)
def oversight_page(request: Request, at: Optional[str] = None, platform: str = "", region: str = "",
                   category: str = "", verdict: str = "", status: str = ""):
    _guard(request)
    _validate(platform, category, verdict, status)
    points = _points(request)
    notice = request.session.pop("notice", None) if "session" in request.scope else None
    if not points:
        return render(request, "oversight.html", points=[], notice=notice, today=date.today().isoformat())
    point = parse_check_point(at) if at else points[0]["check_at"]
    (run, rows), findings = _load(request, point)
    shown = _filter(rows, platform, region, category, verdict, status)
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
                  ALL=ALL, local=_local, today=date.today().isoformat(),
                  alerts=sum(1 for r in rows if r["alert"]))


@router.get("/oversight.{kind}")
def oversight_download(request: Request, kind: str, at: str, platform: str = "", region: str = "",
                       category: str = "", verdict: str = "", status: str = ""):
    _guard(request)
    _validate(platform, category, verdict, status)
    point = parse_check_point(at)
    (run, rows), _ = _load(request, point)
    rows = [dict(r, alert_message=alert_message(r)) for r in _filter(rows, platform, region, category, verdict, status)]
    columns = [*RESULT_COLUMNS, "alert_message"]
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "只提供 csv 与 xlsx")
    return table_download(rows, columns, kind, f"check-{point.isoformat()}", "检查结果")


@router.get("/oversight/accounts/{platform}/{account_id}", response_class=HTMLResponse)
def oversight_account(request: Request, platform: str, account_id: str):
    _guard(request)
    store = request.app.state.store
    with store.read() as con:
        account = con.execute("SELECT name, region, category, active, opened_at FROM accounts "
                              "WHERE platform = ? AND account_id = ?", [platform, account_id]).fetchall()
        if not account:
            raise HTTPException(404, "账号不存在")
        history = account_history(con, platform, account_id)
        findings = check_findings(con, history[0]["check_at"], platform, account_id) if history else []
    for r in history:
        r["alert_text"] = alert_message(r)
    name, region, category, active, opened_at = account[0]
    return render(request, "oversight_account.html", platform=platform, account_id=account_id, account_name=name,
                  region=region, category=category, active=active, opened_at=opened_at, history=history,
                  findings=findings, STATUS_NAMES=STATUS_NAMES, KIND_NAMES=KIND_NAMES, local=_local)


@router.post("/oversight/run")
def oversight_run(request: Request, at: str = Form(...), csrf_token_field: str = Form(alias="csrf_token")):
    user = require_role(request, "editor", csrf_token_field)
    try:
        point = parse_check_point(at)
        rules = load_rules(_rules_path(request))
        with request.app.state.store.write() as con:
            result = run_check(con, point, rules)
            audit(con, user, "checks.run", {"at": point.isoformat(), "rules": rules.name,
                                            "rules_sha256": rules.sha256, "inspected": result.inspected,
                                            "passed": result.passed})
    except UserError as exc:
        request.session["notice"] = f"未检查: {exc}"
        return RedirectResponse("/oversight", status_code=303)
    request.session["notice"] = (f"已检查 {point.isoformat()}：{result.inspected} 个账号，合格 {result.passed} 个，"
                                 f"预警 {len(result.alerts)} 个")
    return RedirectResponse("/oversight?" + urlencode({"at": point.isoformat()}), status_code=303)


# --------------------------------------------------------------------------- API


def _api_guard(request: Request) -> None:
    _guard(request)


@api_router.get("/checks", summary="已保存的检查点及其合格率")
def api_checks(request: Request):
    _api_guard(request)
    with request.app.state.store.read() as con:
        return latest_summary(con, date(1900, 1, 1), date(9999, 12, 30))


@api_router.get("/checks/{at}", summary="某检查点的逐账号结果（预警在前）")
def api_check(request: Request, at: str, platform: str = "", region: str = "", category: str = "",
              verdict: str = "", status: str = ""):
    _api_guard(request)
    _validate(platform, category, verdict, status)
    (run, rows), _ = _load(request, parse_check_point(at))
    return [dict(r, alert_message=alert_message(r)) for r in _filter(rows, platform, region, category, verdict, status)]


@api_router.get("/checks/{at}/pass-rates", summary="某检查点各地区 × 类别的合格率")
def api_pass_rates(request: Request, at: str):
    _api_guard(request)
    point = parse_check_point(at)
    (run, rows), _ = _load(request, point)
    return summarize(rows, ("region", "category"), point)


@api_router.get("/checks/{at}/findings", summary="某检查点的内容问题（严重表述错误、敏感词）")
def api_findings(request: Request, at: str):
    _api_guard(request)
    _, findings = _load(request, parse_check_point(at))
    return findings


@api_router.post("/checks", summary="运行一次检查（编辑）")
def api_run(request: Request, at: str = Query(..., description="检查点 YYYY-MM-DD")):
    user = require_role(request, "editor")
    point = parse_check_point(at)
    rules = load_rules(_rules_path(request))
    with request.app.state.store.write() as con:
        result = run_check(con, point, rules)
        audit(con, user, "checks.run", {"at": point.isoformat(), "rules": rules.name, "rules_sha256": rules.sha256,
                                        "inspected": result.inspected, "passed": result.passed})
    return {"check_at": point, "inspected": result.inspected, "passed": result.passed,
            "pass_rate": result.pass_rate, "alerts": len(result.alerts)}
