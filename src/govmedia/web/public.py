"""The public pages (zh-CN): overview, leaderboards and their downloads, compare, the city
calculator, the methodology; and the 疑似刷量 list, for signed-in users only.

The leaderboard's ⚠ marks are shown to signed-in readers only (`marks`, docs/security.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from govmedia.core.errors import FieldError
from govmedia.core.text import printable
from govmedia.core.time import Period
from govmedia.core.vocabulary import (
    CATEGORIES, CATEGORY_NAMES, DIMENSION_NAMES, DIMENSIONS, FORM_LABELS, METRIC_NAMES, PLATFORM_NAMES, PLATFORMS, parse_category, parse_platform,
)
from govmedia.ingest.city import read_city_table
from govmedia.ingest.upload import max_city_bytes, save_bounded
from govmedia.methodology import FEATURE_NAMES, load_peer, resolve
from govmedia.ranking import (FLAG_COLUMNS, FLAG_HEADERS, INTERVAL_COLUMNS, INTERVAL_HEADERS, NOTE_HEADERS, RANK_COLUMNS,
                              RANK_HEADERS, rank, ranked)
from govmedia.ranking.accounts import score_series
from govmedia.methodology.anomalies import KIND_NAMES
from govmedia.ranking.anomalies import ANOMALY_COLUMNS, ANOMALY_HEADERS, find_anomalies, parse_filters
from govmedia.ranking.city import city_index
from govmedia.ranking.whatif import STEP, top3_stability
from govmedia.ranking.overview import comparison_missing, overview, previous_period, scored_months
from govmedia.store.accounts import account_labels, account_lookup, list_accounts
from govmedia.store.reads import stored_methodologies
from govmedia.web.auth import check_csrf, client_address, csrf_token
from govmedia.web.deps import Marks, Reads, api_period, marks, page_period, reads, submitted_csrf, viewer_reads
from govmedia.web.render import error_page, periods, render, table_download

router = APIRouter(include_in_schema=False)


def _platform_category(platform: str, category: str) -> tuple[str, str]:
    try:
        platform = parse_platform(platform)
    except ValueError as exc:
        raise FieldError("platform", platform, str(exc)) from exc
    try:
        category = parse_category(category)
    except ValueError as exc:
        raise FieldError("category", category, str(exc)) from exc
    return platform, category


def _rank(store: Reads, platform: str, category: str, start: str, end: str, intervals: bool = False) -> list[dict]:
    return store.get(("rank", platform, category, start, end, None, intervals), rank, platform, category, start, end,
                     intervals=intervals, methodology=store.methodology)


# --------------------------------------------------------------------------- overview


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, store: Reads = Depends(reads), period: Optional[Period] = Depends(page_period)):
    if period is None:
        return render(request, "overview.html", period=None, periods=[], platforms=[], tops={})
    start, end = period.first, period.last
    totals = store.get(("overview", start, end), overview, start, end, store.methodology)
    tops = {}
    for platform in PLATFORMS:
        for category in CATEGORIES:
            tops[(platform, category)] = [r for r in ranked(_rank(store, platform, category, start, end))
                                          if r["score"] > 0][:3]
    base = {
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
    # On a phone the legend takes two rows: below the chart, where it covers no axis name.
    trend = {"baseOption": base, "media": [{"query": {"maxWidth": 600}, "option": {
        "legend": {"top": "auto", "bottom": 0}, "grid": {"left": 50, "right": 50, "top": 30, "bottom": 80}}}]}
    return render(request, "overview.html", period=(start, end), label=period.label, periods=periods(store, period),
                  platforms=totals, tops=tops, trend=trend)


# --------------------------------------------------------------------------- rankings

# Why a whole column can read 0: said under the leaderboard so that a 0.00 is not taken for a fault.
ZERO_REASONS = {
    "reach": "这些账号在本期间没有已导入的作品。",
    "engagement": "这些账号在本期间没有原创作品或原创作品没有互动。",
    "innovation": "没有一篇原创作品属于创新产品形式（短视频、长图、H5、直播等；抖音、B站、快手的视频本身不算创新形式），"
                  "或这些作品没有互动。",
    "influence": "本期间没有登记这些账号的创新案例，也没有它们参与联动宣传的记录。",
}


def _ranking_rows(store: Reads, platform: str, category: str, period: Period, intervals: bool = False
                  ) -> tuple[list[dict], bool]:
    """The leaderboard's rows with their rank change, and whether the comparison period has scores."""
    rows = _rank(store, platform, category, period.first, period.last, intervals)
    before = Period.parse(*previous_period(period.first, period.last))
    scored = set(store.get(("scored_months",), scored_months))
    previous: dict[str, int] | None = None  # None: the previous period is not scored, nothing to compare
    if all(m in scored for m in before.months):
        # An account not ranked then (registered later, or no post) is new, not "up 12 places".
        previous = {r["account_id"]: r["rank"] for r in ranked(_rank(store, platform, category, before.first,
                                                                       before.last))}
    out = []
    for row in rows:
        row = dict(row)
        was = previous.get(row["account_id"]) if previous is not None else None
        row["change"] = None if was is None or row["rank"] is None else was - row["rank"]
        row["new"] = previous is not None and was is None and row["rank"] is not None
        out.append(row)
    # No score at all then: the column stays empty and its header says so ("—" only means "no change").
    return out, previous is not None


@router.get("/rankings", response_class=HTMLResponse)
def rankings_page(request: Request, store: Reads = Depends(reads), platform: str = "weibo", category: str = "district",
                  period: Optional[Period] = Depends(page_period), intervals: bool = False,
                  shown: Marks = Depends(marks)):
    platform, category = _platform_category(platform, category)
    if period is None:
        return render(request, "rankings.html", period=None, platform=platform, category=category, rows=[], periods=[])
    rows, compared = _ranking_rows(store, platform, category, period, intervals)
    rows = shown.rows(rows)
    m = store.get(("methodology",), resolve, store.methodology)
    applies = {d: m.applies(platform, d) for d in DIMENSIONS}
    all_zero = [d for d in DIMENSIONS if applies[d] and ranked(rows) and not any(r[d] for r in ranked(rows))]
    query = urlencode({"platform": platform, "category": category, "from": period.first, "to": period.last})
    previous = period.previous().label if compared else comparison_missing(period.first, period.last)
    flagged = [r for r in rows if r.get("flagged_posts")]
    return render(request, "rankings.html", period=(period.first, period.last), label=period.label, platform=platform,
                  category=category, rows=rows, periods=periods(store, period), query=query, previous=previous,
                  compared=compared,
                  DIMENSIONS=DIMENSIONS, DIMENSION_NAMES=DIMENSION_NAMES, applies=applies, all_zero=all_zero,
                  zero_reasons=ZERO_REASONS, months=len(period.months), scale=m.scale, weights=m.total_weights,
                  method=m.name, intervals=intervals, flagged=flagged, discount=m.discount,
                  METRIC=METRIC_NAMES.get(m.thresholds.volume_metric(platform) or "", "互动"))


@router.get("/rankings.{kind}")
def rankings_download(kind: str, platform: str, category: str, store: Reads = Depends(reads),
                      period: Period = Depends(api_period), intervals: bool = False, shown: Marks = Depends(marks)):
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "只提供 CSV 和 XLSX")
    platform, category = _platform_category(platform, category)
    start, end = period.first, period.last
    rows = shown.rows(_rank(store, platform, category, start, end, intervals))
    columns = shown.columns((*RANK_COLUMNS, *FLAG_COLUMNS, *(INTERVAL_COLUMNS if intervals else ()), "note"))
    return table_download(rows, columns, kind, f"ranking-{platform}-{category}-{start}-{end}",
                          f"{PLATFORM_NAMES.get(platform, platform)}{CATEGORY_NAMES.get(category, category)}",
                          headers={**RANK_HEADERS, **FLAG_HEADERS, **INTERVAL_HEADERS, **NOTE_HEADERS,
                                   "score": period.label})


# --------------------------------------------------------------------------- inflated posts


def _flagged(store: Reads, platform: str | None, category: str | None, period: Period) -> list[dict]:
    return store.get(("anomalies", period.first, period.last, platform, category, False), find_anomalies,
                     period.first, period.last, platform=platform, category=category, methodology=store.methodology)


@router.get("/anomalies", response_class=HTMLResponse)
def anomalies_page(request: Request, store: Reads = Depends(viewer_reads), platform: str = "", category: str = "",
                   period: Optional[Period] = Depends(page_period)):
    """The posts flagged as possibly inflated, with evidence: what `govmedia anomalies` lists."""
    chosen_platform, chosen_category = parse_filters(platform, category)
    platform, category = chosen_platform or "", chosen_category or ""  # the codes the pickers select
    if period is None:
        return render(request, "anomalies.html", period=None, rows=[], periods=[], platform=platform,
                      category=category)
    rows = _flagged(store, chosen_platform, chosen_category, period)
    m = store.get(("methodology",), resolve, store.methodology)
    query = urlencode({k: v for k, v in {"platform": platform, "category": category, "from": period.first,
                                          "to": period.last}.items() if v})
    return render(request, "anomalies.html", period=(period.first, period.last), label=period.label,
                  periods=periods(store, period), rows=rows[:500], total=len(rows), platform=platform,
                  category=category, query=query, method=m.name, discount=m.discount, source=m.thresholds.source)


@router.get("/anomalies.{kind}")
def anomalies_download(kind: str, store: Reads = Depends(viewer_reads), platform: str = "", category: str = "",
                       period: Period = Depends(api_period)):
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, "只提供 CSV 和 XLSX")
    rows = _flagged(store, *parse_filters(platform, category), period)
    return table_download(rows, ANOMALY_COLUMNS, kind, f"anomalies-{period.first}-{period.last}", "疑似刷量",
                          headers=ANOMALY_HEADERS)


# --------------------------------------------------------------------------- compare


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, store: Reads = Depends(reads), account: list[str] = Query(default=[]),
                 period: Optional[Period] = Depends(page_period)):
    everyone = store.get(("accounts",), list_accounts)
    names = {f"{a['platform']}:{a['account_id']}": a for a in everyone}
    options = store.get(("account_labels",), account_labels)
    labels = {a["key"]: a["label"] for a in options}
    lookup = store.get(("account_lookup",), account_lookup)
    # Each box holds a picker label, a name or (from a link) platform:account_id.
    chosen, unknown = [], []
    for entry in (a.strip() for a in account if a.strip()):
        keys = [entry] if entry in names else [f"{p}:{i}" for p, i in lookup.get(entry, [])]
        if len(keys) == 1:
            chosen.append(keys[0])
        else:
            unknown.append(entry)
    chosen = list(dict.fromkeys(chosen))[:5]
    known = [tuple(key.split(":", 1)) for key in chosen]
    series, months = [], []
    if period:
        months = period.months
        values = store.get(("score_series", tuple(known), period.first, period.last), score_series, known,
                           period.first, period.last)
        for platform, account_id in known:
            series.append({"name": f"{names[f'{platform}:{account_id}']['name']}（{PLATFORM_NAMES[platform]}）",
                           "type": "line", "data": [round(v, 2) for v in values[(platform, account_id)]]})
    option = {"tooltip": {"trigger": "axis"}, "legend": {"top": 0}, "grid": {"left": 50, "right": 20, "top": 50, "bottom": 30},
              "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value", "min": 0, "max": 100},
              "series": series}
    return render(request, "compare.html", period=(period.first, period.last) if period else None,
                  label=period.label if period else "", periods=periods(store, period), chosen=chosen,
                  options=options, labels=labels, unknown=unknown, option=option,
                  too_many=len([a for a in account if a.strip()]) > 5)


# --------------------------------------------------------------------------- city


@router.get("/city", response_class=HTMLResponse)
def city_page(request: Request, store: Reads = Depends(reads)):
    return render(request, "city.html", rows=None, rejects=[], csrf_form=csrf_token(request))


@router.post("/city", response_class=HTMLResponse)
def city_upload(request: Request, store: Reads = Depends(reads), file: UploadFile = File(...),
                csrf: Optional[str] = Depends(submitted_csrf)):
    """Computes the city index of the table sent; writes nothing. Anyone may ask, so each client
    may ask a few times a minute and send a small table only (the body is bounded before this by
    `security.UploadGuard`; here the file is streamed to disk with a counter, never read whole)."""
    wait = request.app.state.city_limiter.take(client_address(request))
    if wait:
        seconds = int(wait) + 1
        limiter = request.app.state.city_limiter
        return error_page(request, 429, f"城市指数计算请求过于频繁（每个地址每 {int(limiter.window)} 秒最多 "
                                        f"{limiter.limit} 次）；请 {seconds} 秒后再试",
                          headers={"Retry-After": str(seconds)})
    check_csrf(request, csrf)
    name = Path(file.filename or "").name.strip()[-100:]  # named as sent: messages say the user's file name
    if not name or name.startswith("."):
        name = "city.csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (name if Path(name).suffix else name + ".csv")
        save_bounded(file.file, path, max_city_bytes(), printable(name),
                     "城市指数表格每个城市一行，请检查是否选错了文件，或删去多余的列和行后再上传")
        components, rejects = read_city_table(path)
        rows = city_index(components)
    return render(request, "city.html", rows=rows, rejects=rejects, csrf_form=csrf_token(request),
                  file_name=file.filename)


# --------------------------------------------------------------------------- methodology


@router.get("/methodology", response_class=HTMLResponse)
def methodology_page(request: Request, store: Reads = Depends(reads), period: Optional[Period] = Depends(page_period)):
    m = store.get(("methodology",), resolve, store.methodology)
    stored = store.get(("stored_methodologies",), stored_methodologies)
    stability = []
    if period is not None:
        stability = store.get(("top3_stability", period.first, period.last), top3_stability, period.first,
                              period.last, m)
    return render(request, "methodology.html", m=m, stored=stored, FEATURE_NAMES=FEATURE_NAMES, FORM_LABELS=FORM_LABELS,
                  wci=load_peer("wci"), bci=load_peer("bci"), pd=load_peer("peoples-daily"),
                  stability=stability, label=period.label if period else "", step=STEP, KIND_NAMES=KIND_NAMES,
                  METRIC_NAMES=METRIC_NAMES)
