"""Server-rendered pages (zh-CN): overview, leaderboards, account, compare, city, methodology,
data management, audit log, sign-in."""

from __future__ import annotations

import io
import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from govmedia.core.errors import UserError
from govmedia.export import to_csv, to_xlsx
from govmedia.core.vocabulary import CATEGORIES, CATEGORY_NAMES, parse_category
from govmedia.core.rows import AccountRow
from govmedia.core.vocabulary import PLATFORM_NAMES, PLATFORMS, parse_platform
from govmedia.core.vocabulary import FORM_LABELS
from govmedia.core.vocabulary import CASE_CATEGORIES
from govmedia.ingest.evaluation import RowError, parse_campaign, parse_case
from govmedia.methodology import DIMENSION_NAMES, DIMENSIONS, FEATURE_NAMES, load_methodology, load_peer
from govmedia.ranking import RANK_COLUMNS, RANK_HEADERS, rank
from govmedia.ingest.city import read_city_table
from govmedia.ranking.city import CITY_COLUMNS, city_index
from govmedia.ranking.overview import default_period, overview, period_label, previous_period, scored_months
from govmedia.scoring import months_between, score
from govmedia.scoring.explain import explain
from govmedia.scoring.indices import compute_index
from govmedia.store.accounts import list_accounts, upsert_accounts
from govmedia.store.evaluation import list_campaigns, list_cases, registry_by_platform, save_campaigns, save_cases
from govmedia.store.users import ROLE_NAMES, audit, audit_entries, authenticate
from govmedia.web.auth import RANK, client_address, csrf_token, current_user, may_read, require_role

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("govmedia.web").joinpath("templates")))
templates.env.globals.update(PLATFORM_NAMES=PLATFORM_NAMES, CATEGORY_NAMES=CATEGORY_NAMES, PLATFORMS=PLATFORMS,
                             CATEGORIES=CATEGORIES, DIMENSION_NAMES=DIMENSION_NAMES, ROLE_NAMES=ROLE_NAMES)
templates.env.filters["num"] = lambda v, d=0: "" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else f"{v:,}")
templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
templates.env.filters["form_names"] = lambda forms: "、".join(FORM_LABELS.get(f, f) for f in (forms or []))


def _user(request: Request):
    try:
        return current_user(request)
    except HTTPException:
        return None


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    user = _user(request)
    context.update(request=request, user=user, can_edit=bool(user and RANK[user[1]] >= RANK["editor"]),
                   is_admin=bool(user and user[1] == "admin"))
    if user:
        context["csrf"] = csrf_token(request)
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _guard(request: Request) -> None:
    if not may_read(request):
        raise HTTPException(401, "请先登录")


def _period(request: Request, start: Optional[str], end: Optional[str]) -> tuple[str, str] | None:
    store = request.app.state.store
    if start and end:
        months_between(start, end)  # validates
        return start, end
    with store.read() as con:
        return store.cached(("default_period",), lambda: default_period(con))


def _periods(request: Request) -> list[tuple[str, str, str]]:
    """Choices for the period picker: each scored year's Feb–Nov window and each scored month."""
    store = request.app.state.store
    with store.read() as con:
        months = store.cached(("scored_months",), lambda: scored_months(con))
    present = set(months)
    choices = []
    for year in sorted({m[:4] for m in months}, reverse=True):
        window = [f"{year}-{mm:02d}" for mm in range(2, 12)]
        if all(m in present for m in window):
            choices.append((window[0], window[-1], f"{year}年 2-11月"))
        mine = [m for m in months if m.startswith(year)]
        if mine and (mine[0], mine[-1]) != (window[0], window[-1]):
            choices.append((mine[0], mine[-1], f"{year}年 {int(mine[0][5:])}-{int(mine[-1][5:])}月"))
    for m in reversed(months):
        choices.append((m, m, f"{int(m[:4])}年{int(m[5:])}月"))
    return choices


def _with_current(choices: list, period: tuple[str, str] | None) -> list:
    """The picker always shows the period on screen, even one typed into the address bar."""
    if period and not any((s, e) == period for s, e, _ in choices):
        return [(period[0], period[1], period_label(*period)), *choices]
    return choices


# --------------------------------------------------------------------------- overview


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, start: Optional[str] = Query(None, alias="from"),
                  end: Optional[str] = Query(None, alias="to")):
    _guard(request)
    period = _period(request, start, end)
    store = request.app.state.store
    if period is None:
        return render(request, "overview.html", period=None, periods=[], platforms=[], tops={})
    start, end = period
    with store.read() as con:
        totals = store.cached(("overview", start, end), lambda: overview(con, start, end))
        tops = {}
        for platform in PLATFORMS:
            for category in CATEGORIES:
                rows = store.cached(("rank", platform, category, start, end, None),
                                    lambda: rank(con, platform, category, start, end))
                tops[(platform, category)] = [r for r in rows if r["score"] > 0][:3]
    trend = {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [m["month"] for m in totals[0].monthly]},
        "yAxis": [{"type": "value", "name": "发布数"}, {"type": "value", "name": "互动量"}],
        "series": [
            *[{"name": f"{PLATFORM_NAMES[t.platform]}发布数", "type": "bar", "data": [m["posts"] for m in t.monthly]}
              for t in totals],
            *[{"name": f"{PLATFORM_NAMES[t.platform]}互动量", "type": "line", "yAxisIndex": 1,
               "data": [m["interactions"] for m in t.monthly]} for t in totals],
        ],
    }
    return render(request, "overview.html", period=period, label=period_label(start, end), periods=_with_current(_periods(request), period),
                  platforms=totals, tops=tops, trend=trend)


# --------------------------------------------------------------------------- rankings


def _ranking_rows(request: Request, platform: str, category: str, start: str, end: str) -> list[dict]:
    store = request.app.state.store
    with store.read() as con:
        rows = store.cached(("rank", platform, category, start, end, None), lambda: rank(con, platform, category, start, end))
        before = previous_period(start, end)
        scored = set(store.cached(("scored_months",), lambda: scored_months(con)))
        previous = {}
        if all(m in scored for m in months_between(*before)):
            previous = {r["account_id"]: r["rank"] for r in store.cached(
                ("rank", platform, category, *before, None), lambda: rank(con, platform, category, *before))}
    out = []
    for row in rows:
        row = dict(row)
        was = previous.get(row["account_id"])
        row["change"] = None if was is None else was - row["rank"]
        out.append(row)
    return out


@router.get("/rankings", response_class=HTMLResponse)
def rankings_page(request: Request, platform: str = "weibo", category: str = "district",
                  start: Optional[str] = Query(None, alias="from"), end: Optional[str] = Query(None, alias="to")):
    _guard(request)
    try:
        platform, category = parse_platform(platform), parse_category(category)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    period = _period(request, start, end)
    if period is None:
        return render(request, "rankings.html", period=None, platform=platform, category=category, rows=[], periods=[])
    start, end = period
    rows = _ranking_rows(request, platform, category, start, end)
    query = urlencode({"platform": platform, "category": category, "from": start, "to": end})
    previous = period_label(*previous_period(start, end))
    return render(request, "rankings.html", period=period, label=period_label(start, end), platform=platform,
                  category=category, rows=rows, periods=_with_current(_periods(request), period), query=query, previous=previous)


@router.get("/rankings.{kind}")
def rankings_download(request: Request, kind: str, platform: str, category: str,
                      start: str = Query(alias="from"), end: str = Query(alias="to")):
    _guard(request)
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "只提供 CSV 和 XLSX")
    store = request.app.state.store
    with store.read() as con:
        rows = store.cached(("rank", platform, category, start, end, None), lambda: rank(con, platform, category, start, end))
    return table_download(rows, RANK_COLUMNS, kind, f"ranking-{platform}-{category}-{start}-{end}",
                          f"{PLATFORM_NAMES.get(platform, platform)}{CATEGORY_NAMES.get(category, category)}",
                          headers={**RANK_HEADERS, "score": period_label(start, end)})


def table_download(rows: list[dict], columns, kind: str, stem: str, sheet: str,
                   headers: dict[str, str] | None = None) -> Response:
    """Rows as a CSV (with a BOM, so that Excel opens it as UTF-8) or XLSX attachment `stem.kind`."""
    name = f"{stem}.{kind}"
    if kind == "csv":
        body = ("\ufeff" + to_csv(rows, columns)).encode("utf-8")
        media_type = "text/csv; charset=utf-8"
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.xlsx"
            to_xlsx(rows, columns, path, sheet=sheet, headers=headers)
            body = path.read_bytes()
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --------------------------------------------------------------------------- account


def _account_data(request: Request, platform: str, account_id: str, period, month):
    store = request.app.state.store
    with store.read() as con:
        found = con.execute(
            "SELECT a.platform, a.account_id, a.name, a.category, o.name, a.region, a.followers, a.active "
            "FROM accounts a LEFT JOIN organizations o USING (organization_id) WHERE platform = ? AND account_id = ?",
            [platform, account_id]).fetchall()
        if not found:
            return None
        account = dict(zip(("platform", "account_id", "name", "category", "organization", "region", "followers",
                            "active"), found[0]))
        if period is None:
            return {"account": account}
        start, end = period
        months = months_between(start, end)
        monthly = con.execute(
            "SELECT month, total, reach, engagement, innovation, influence, posts, originals FROM monthly_scores "
            "WHERE platform = ? AND account_id = ? AND month IN (SELECT unnest(?::VARCHAR[])) ORDER BY month",
            [platform, account_id, months]).fetchall()
        by_month = {r[0]: r for r in monthly}
        category_avg = con.execute(
            "SELECT avg(s.reach), avg(s.engagement), avg(s.innovation), avg(s.influence) FROM monthly_scores s "
            "JOIN accounts a USING (platform, account_id) WHERE s.platform = ? AND a.category = ? "
            "AND s.month IN (SELECT unnest(?::VARCHAR[]))", [platform, account["category"], months]).fetchall()[0]
        ranking = store.cached(("rank", platform, account["category"], start, end, None),
                               lambda: rank(con, platform, account["category"], start, end))
        place = next((r for r in ranking if r["account_id"] == account_id), None)
        active_months = [m for m in months if by_month.get(m) and by_month[m][6] > 0]
        month = month if month in months else (active_months[-1] if active_months else months[-1])
        explanation = store.cached(("explain", platform, account_id, month),
                                   lambda: explain(con, platform, account_id, month, request.app.state.methodology_path))
        top_posts = con.execute(
            """
            WITH chosen AS (
                SELECT s.*, row_number() OVER (
                    PARTITION BY s.platform, s.post_id
                    ORDER BY CASE WHEN s.observed_at IS NOT NULL AND s.observed_at <= p.published_at + INTERVAL 168 HOUR
                                  THEN 0 WHEN s.observed_at IS NULL THEN 1 ELSE 2 END,
                             CASE WHEN s.observed_at <= p.published_at + INTERVAL 168 HOUR THEN epoch(s.observed_at) END DESC,
                             epoch(s.observed_at)) AS choice
                FROM snapshots s JOIN posts p USING (platform, post_id)
                WHERE p.platform = ? AND p.account_id = ?
                  AND strftime(p.published_at + INTERVAL 8 HOUR, '%Y-%m') = ?
            )
            SELECT p.post_id, p.published_at + INTERVAL 8 HOUR AS local_time, p.title, p.text, p.url, p.forms,
                   p.is_original, c.reposts, c.comments, c.likes, c.reads, c.wows, c.shares,
                   coalesce(c.reposts, 0) + coalesce(c.comments, 0) + coalesce(c.likes, 0) + coalesce(c.reads, 0)
                   + coalesce(c.wows, 0) + coalesce(c.shares, 0) AS weight
            FROM chosen c JOIN posts p USING (platform, post_id) WHERE c.choice = 1
            ORDER BY weight DESC, p.published_at LIMIT 10
            """, [platform, account_id, month]).fetchall()
        peer = None
        if platform in ("wechat", "weibo"):
            index = "wci" if platform == "wechat" else "bci"
            values = store.cached(("index", index, start, end), lambda: compute_index(con, index, start, end))
            ordered = sorted(values, key=lambda r: -r[index])
            mine = next((i for i, r in enumerate(ordered) if r["account_id"] == account_id), None)
            if mine is not None:
                peer = {"name": index.upper(), "value": ordered[mine][index], "rank": mine + 1, "of": len(ordered)}
    return {"account": account, "months": months, "month": month, "by_month": by_month, "category_avg": category_avg,
            "place": place, "ranking": ranking, "explanation": explanation, "top_posts": top_posts, "peer": peer}


@router.get("/accounts/{platform}/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, platform: str, account_id: str, start: Optional[str] = Query(None, alias="from"),
                 end: Optional[str] = Query(None, alias="to"), month: Optional[str] = None):
    _guard(request)
    store = request.app.state.store
    period = _period(request, start, end)
    # Everything read from the store, cached until the next write: signed-in users get a fresh
    # rendering (their name, their forms) without the queries.
    data = store.cached(("account_page", platform, account_id, period, month),
                        lambda: _account_data(request, platform, account_id, period, month))
    if data is None:
        raise HTTPException(404, f"没有账号 {platform}:{account_id}")
    if period is None:
        return render(request, "account.html", account=data["account"], period=None, periods=[])
    start, end = period
    account, months, month, by_month = data["account"], data["months"], data["month"], data["by_month"]
    category_avg, place, ranking, explanation = data["category_avg"], data["place"], data["ranking"], data["explanation"]
    top_posts, peer = data["top_posts"], data["peer"]
    line = {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "max": 100, "min": 0},
        "series": [{"name": "月度总分", "type": "line", "data": [round(by_month[m][1], 2) if m in by_month else 0 for m in months],
                    "lineStyle": {"width": 3}}]
        + [{"name": DIMENSION_NAMES[d], "type": "line", "data": [round(by_month[m][2 + i], 2) if m in by_month else 0
                                                                for m in months]} for i, d in enumerate(DIMENSIONS)],
    }
    averages = [sum(by_month[m][2 + i] for m in by_month) / len(months) for i in range(4)]
    radar = {
        "legend": {"top": 0},
        "radar": {"indicator": [{"name": DIMENSION_NAMES[d], "max": 100} for d in DIMENSIONS], "radius": "62%"},
        "series": [{"type": "radar", "data": [
            {"name": account["name"], "value": [round(a, 2) for a in averages]},
            {"name": f"{CATEGORY_NAMES[account['category']]}类平均", "value": [round(c or 0, 2) for c in category_avg]},
        ]}],
    }
    posts = [dict(zip(("post_id", "local_time", "title", "text", "url", "forms", "is_original", "reposts", "comments",
                       "likes", "reads", "wows", "shares", "weight"), p)) for p in top_posts]
    return render(request, "account.html", account=account, period=period, label=period_label(start, end),
                  periods=_with_current(_periods(request), period), months=months, month=month, place=place, total=len(ranking),
                  explanation=explanation, line=line, radar=radar, posts=posts, peer=peer,
                  monthly=[by_month.get(m) for m in months])


# --------------------------------------------------------------------------- compare


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, account: list[str] = Query(default=[]), start: Optional[str] = Query(None, alias="from"),
                 end: Optional[str] = Query(None, alias="to")):
    _guard(request)
    chosen = list(dict.fromkeys(a for a in account if a))[:5]
    period = _period(request, start, end)
    store = request.app.state.store
    with store.read() as con:
        everyone = list_accounts(con)
        names = {f"{a['platform']}:{a['account_id']}": a for a in everyone}
        series, months = [], []
        if period:
            months = months_between(*period)
            for key in chosen:
                if key not in names:
                    continue
                platform, account_id = key.split(":", 1)
                values = dict(con.execute(
                    "SELECT month, total FROM monthly_scores WHERE platform = ? AND account_id = ? "
                    "AND month IN (SELECT unnest(?::VARCHAR[]))", [platform, account_id, months]).fetchall())
                series.append({"name": f"{names[key]['name']}（{PLATFORM_NAMES[platform]}）", "type": "line",
                               "data": [round(values.get(m, 0.0), 2) for m in months]})
    option = {"tooltip": {"trigger": "axis"}, "legend": {"top": 0}, "grid": {"left": 50, "right": 20, "top": 50, "bottom": 30},
              "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value", "min": 0, "max": 100},
              "series": series}
    return render(request, "compare.html", period=period, label=period_label(*period) if period else "",
                  periods=_with_current(_periods(request), period), chosen=chosen, accounts=everyone, option=option, too_many=len(account) > 5)


# --------------------------------------------------------------------------- city


@router.get("/city", response_class=HTMLResponse)
def city_page(request: Request):
    _guard(request)
    return render(request, "city.html", rows=None, rejects=[], csrf_form=csrf_token(request))


@router.post("/city", response_class=HTMLResponse)
def city_upload(request: Request, file: UploadFile = File(...), csrf_token_field: str = Form(alias="csrf_token")):
    _guard(request)
    from govmedia.web.auth import check_csrf

    check_csrf(request, csrf_token_field)
    suffix = Path(file.filename or "city.csv").suffix or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"city{suffix}"
        path.write_bytes(file.file.read())
        components, rejects = read_city_table(path)
        rows = city_index(components)
    return render(request, "city.html", rows=rows, rejects=rejects, csrf_form=csrf_token(request),
                  file_name=file.filename)


# --------------------------------------------------------------------------- methodology


@router.get("/methodology", response_class=HTMLResponse)
def methodology_page(request: Request):
    _guard(request)
    m = load_methodology(request.app.state.methodology_path)
    store = request.app.state.store
    with store.read() as con:
        stored = con.execute("SELECT DISTINCT methodology, methodology_sha256 FROM monthly_scores").fetchall()
    return render(request, "methodology.html", m=m, stored=stored, FEATURE_NAMES=FEATURE_NAMES,
                  wci=load_peer("wci"), bci=load_peer("bci"), pd=load_peer("peoples-daily"))


# --------------------------------------------------------------------------- sign-in


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=next if next.startswith("/") else "/", csrf_form=csrf_token(request))


@router.post("/login")
def login(request: Request, username: str = Form(...), password: str = Form(...), next: str = Form("/"),
          csrf_token_field: str = Form(alias="csrf_token")):
    from govmedia.web.auth import check_csrf

    check_csrf(request, csrf_token_field)
    limiter = request.app.state.limiter
    client = client_address(request)
    wait = limiter.blocked(client)
    if wait:
        return render(request, "login.html", status=429, next=next, csrf_form=csrf_token(request),
                      message=f"登录失败次数过多，请 {int(wait) + 1} 秒后再试")
    with request.app.state.store.read() as con:
        role = authenticate(con, username, password)
    if role is None:
        limiter.failed(client)
        return render(request, "login.html", status=401, next=next, csrf_form=csrf_token(request),
                      message="用户名或密码不正确")
    limiter.succeeded(client)
    request.session.clear()
    request.session["user"] = {"name": username, "role": role}
    with request.app.state.store.write() as con:
        audit(con, username, "login", {"client": client})
    return RedirectResponse(next if next.startswith("/") else "/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token_field: str = Form("", alias="csrf_token")):
    from govmedia.web.auth import check_csrf

    if request.session.get("user"):
        check_csrf(request, csrf_token_field)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


# --------------------------------------------------------------------------- data management


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, report: Optional[str] = None):
    require_role(request, "editor", check=False)
    with request.app.state.store.read() as con:
        batches = con.execute(
            "SELECT batch_id, file_name, format, platform, imported_at, accepted, rejected, unchanged "
            "FROM import_batches ORDER BY batch_id DESC LIMIT 50").fetchall()
        accounts = list_accounts(con)
        cases = list_cases(con)
        campaigns = list_campaigns(con)
        months = scored_months(con)
    last = request.session.pop("import_report", None)
    notice = request.session.pop("notice", None)
    return render(request, "data.html", batches=batches, accounts=accounts, cases=cases, campaigns=campaigns,
                  report=last, notice=notice, case_categories=CASE_CATEGORIES, months=months)


def _back(request: Request, notice: str) -> RedirectResponse:
    request.session["notice"] = notice
    return RedirectResponse("/data", status_code=303)


@router.post("/data/import")
def data_import(request: Request, file: UploadFile = File(...), format: str = Form("auto"),
                account: str = Form(""), csrf_token_field: str = Form(alias="csrf_token")):
    from govmedia.web.api import run_upload

    user = require_role(request, "editor", csrf_token_field)
    try:
        report = run_upload(request, file, format, account.strip() or None, user)
    except UserError as exc:
        return _back(request, f"导入失败: {exc}")
    request.session["import_report"] = report.model_dump()
    return RedirectResponse("/data#import", status_code=303)


@router.post("/data/accounts")
def data_account(request: Request, platform: str = Form(...), account_id: str = Form(...), name: str = Form(...),
                 category: str = Form(...), organization: str = Form(""), region: str = Form(""),
                 active: str = Form("1"), csrf_token_field: str = Form(alias="csrf_token")):
    user = require_role(request, "editor", csrf_token_field)
    try:
        row = AccountRow(0, parse_platform(platform), account_id.strip(), name.strip(), parse_category(category),
                         organization.strip() or None, region.strip() or None, None, active == "1", None)
    except ValueError as exc:
        return _back(request, f"未保存: {exc}")
    if not row.account_id or not row.name:
        return _back(request, "未保存: 账号ID和名称不能为空")
    with request.app.state.store.write() as con:
        result = upsert_accounts(con, [row])
        audit(con, user, "accounts.upsert", {"platform": row.platform, "account_id": row.account_id, "name": row.name,
                                             "category": row.category, "active": row.active})
    what = "新增" if result.inserted else ("已修改" if result.updated else "未变化")
    return _back(request, f"账号 {row.name}（{PLATFORM_NAMES[row.platform]} {row.account_id}）{what}")


@router.post("/data/cases")
def data_case(request: Request, case_id: str = Form(...), title: str = Form(...), month: str = Form(...),
              category: str = Form(""), unit: str = Form(""), score_value: str = Form(..., alias="score"),
              platform: str = Form(""), account_ids: str = Form(...), text: str = Form(""),
              csrf_token_field: str = Form(alias="csrf_token")):
    user = require_role(request, "editor", csrf_token_field)
    cells = {"case_id": case_id, "title": title, "month": month, "category": category, "unit": unit, "score": score_value,
             "platform": platform, "account_ids": account_ids, "text": text}
    with request.app.state.store.write() as con:
        try:
            case = parse_case(0, cells, registry_by_platform(con))
        except RowError as exc:
            return _back(request, f"案例未保存: {exc.reason}")
        save_cases(con, [case])
        audit(con, user, "cases.save", cells)
    return _back(request, f"案例 {case.case_id}「{case.title}」已保存（{case.score:g} 分）")


@router.post("/data/campaigns")
def data_campaign(request: Request, campaign_id: str = Form(...), name: str = Form(...), start: str = Form(...),
                  end: str = Form(...), hashtags: str = Form(""), csrf_token_field: str = Form(alias="csrf_token")):
    user = require_role(request, "editor", csrf_token_field)
    cells = {"campaign_id": campaign_id, "name": name, "start": start, "end": end, "hashtags": hashtags}
    try:
        campaign = parse_campaign(0, cells)
    except RowError as exc:
        return _back(request, f"联动宣传未保存: {exc.reason}")
    with request.app.state.store.write() as con:
        save_campaigns(con, [campaign])
        audit(con, user, "campaigns.save", cells)
    return _back(request, f"联动宣传 {campaign.campaign_id}「{campaign.name}」已保存")


@router.post("/data/score")
def data_score(request: Request, start: str = Form(..., alias="from"), end: str = Form(..., alias="to"),
               csrf_token_field: str = Form(alias="csrf_token")):
    user = require_role(request, "editor", csrf_token_field)
    try:
        with request.app.state.store.write() as con:
            result = score(con, start, end, methodology=request.app.state.methodology_path)
            audit(con, user, "scores.compute", {"from": start, "to": end, "rows": result.rows})
    except UserError as exc:
        return _back(request, f"未计算: {exc}")
    return _back(request, f"已重新计算 {start} 至 {end}：{len(result.months)} 个月、{result.rows} 行分数")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request):
    require_role(request, "admin", check=False)
    with request.app.state.store.read() as con:
        entries = audit_entries(con)
    return render(request, "audit.html", entries=entries)
