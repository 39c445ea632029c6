"""The account page: scores by month, place in its category, the explanation of one month, top
posts and peer index, all as `govmedia.ranking.accounts.account_view` reads them."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from govmedia.core.time import Period, to_local
from govmedia.core.vocabulary import CATEGORY_NAMES, METRIC_NAMES, PLATFORM_NAMES
from govmedia.methodology import DIMENSION_NAMES, DIMENSIONS, resolve
from govmedia.ranking.accounts import account_view
from govmedia.web.deps import Marks, Reads, marks, page_period, reads
from govmedia.web.render import periods, render

router = APIRouter(include_in_schema=False)


@router.get("/accounts/{platform}/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, platform: str, account_id: str, store: Reads = Depends(reads),
                 period: Optional[Period] = Depends(page_period), month: Optional[str] = None,
                 shown: Marks = Depends(marks)):
    start, end = (period.first, period.last) if period else (None, None)
    # Cached until the next write: signed-in users get a fresh rendering (their name, their
    # forms) without the queries.
    view = store.get(("account_view", platform, account_id, start, end, month), account_view, platform, account_id,
                     start, end, month, store.methodology, store.cached)
    if view is None:
        raise HTTPException(404, f"账号名录中没有{PLATFORM_NAMES.get(platform, '该平台的')}账号 {account_id}；请从榜单或对比页中选择账号")
    account = view.account
    if period is None:
        return render(request, "account.html", account=account, period=None, periods=[])
    months, monthly = view.months, view.monthly

    def values(column: str) -> list[float]:
        return [round(monthly[m][column], 2) if m in monthly else 0 for m in months]

    line = {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "max": 100, "min": 0},
        "series": [{"name": "月度总分", "type": "line", "data": values("total"), "lineStyle": {"width": 3}}]
        + [{"name": DIMENSION_NAMES[d], "type": "line", "data": values(d)} for d in DIMENSIONS],
    }
    averages = [sum(row[d] for row in monthly.values()) / len(months) for d in DIMENSIONS]
    radar = {
        "legend": {"top": 0},
        "radar": {"indicator": [{"name": DIMENSION_NAMES[d], "max": 100} for d in DIMENSIONS], "radius": "62%"},
        "series": [{"type": "radar", "data": [
            {"name": account["name"], "value": [round(a, 2) for a in averages]},
            {"name": f"{CATEGORY_NAMES[account['category']]}类平均",
             "value": [round(view.category_avg.get(d) or 0, 2) for d in DIMENSIONS]},
        ]}],
    }
    posts = [dict(p, local_time=to_local(p["published_at"])) for p in view.top_posts]
    m = store.get(("methodology",), resolve, store.methodology)
    flag_metric = METRIC_NAMES.get(m.thresholds.volume_metric(account["platform"]) or "", "互动")
    # ⚠ marks for signed-in readers only (docs/security.md).
    return render(request, "account.html", flag_metric=flag_metric, flag_months=view.flag_months if shown.shown else {},
                  account=account, period=(start, end), label=period.label,
                  periods=periods(store, period), months=months, month=view.month, place=shown.row(view.place),
                  total=view.ranked, explanation=shown.explanation(view.explanation), line=line, radar=radar,
                  posts=posts, peer=view.peer,
                  monthly=[monthly.get(m) for m in months])
