"""One account as the account page, `/api/v1/explain` and the reports show it: its registry
entry, its monthly scores, its place in its category, the explanation of one month, its top
posts and its peer index, all under one methodology (the one given, else the one in force)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import duckdb
import ibis

from govmedia.core.time import Month, Period
from govmedia.core.vocabulary import DIMENSIONS
from govmedia.methodology import Methodology, resolve
from govmedia.ranking import rank, ranked as ranked_rows
from govmedia.ranking.anomalies import period_marks
from govmedia.scoring import duckdb_tables
from govmedia.scoring.explain import Explanation, explain
from govmedia.scoring.expressions import post_facts
from govmedia.scoring.indices import compute_index

MONTHLY_COLUMNS = ("month", "total", "reach", "engagement", "innovation", "influence", "posts", "originals")
TOP_POST_COLUMNS = ("post_id", "published_at", "title", "text", "url", "forms", "is_original", "reposts", "comments",
                    "likes", "reads", "wows", "shares", "weight")
_WEIGHTED = ("reposts", "comments", "likes", "reads", "wows", "shares")


@dataclass
class AccountView:
    account: dict
    period: Period | None = None
    month: str | None = None  # the month explained
    monthly: dict[str, dict] = field(default_factory=dict)  # month -> MONTHLY_COLUMNS
    category_avg: dict[str, float] = field(default_factory=dict)
    place: dict | None = None  # the account's ranking row; None without a post in the period
    ranked: int = 0  # accounts ranked in its category (those that posted in the period)
    explanation: Explanation | None = None
    top_posts: list[dict] = field(default_factory=list)
    peer: dict | None = None  # WCI or BCI: name, value, rank, of
    flag_months: dict[str, tuple[int, float]] = field(default_factory=dict)  # month -> (flagged posts, share)

    @property
    def months(self) -> list[str]:
        return self.period.months if self.period else []


def get_account(con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> dict | None:
    rows = con.execute(
        "SELECT a.platform, a.account_id, a.name, a.category, o.name AS organization, a.region, a.followers, "
        "a.active, a.opened_at FROM accounts a LEFT JOIN organizations o USING (organization_id) "
        "WHERE platform = ? AND account_id = ?", [platform, account_id])
    names = [d[0] for d in rows.description]
    found = rows.fetchall()
    return dict(zip(names, found[0])) if found else None


def monthly_scores(con: duckdb.DuckDBPyConnection, platform: str, account_id: str, months: list[str]
                   ) -> dict[str, dict]:
    """month -> total, the four dimensions, posts and originals, as stored."""
    cursor = con.execute(
        f"SELECT {', '.join(MONTHLY_COLUMNS)} FROM monthly_scores "
        "WHERE platform = ? AND account_id = ? AND month IN (SELECT unnest(?::VARCHAR[])) ORDER BY month",
        [platform, account_id, months])
    return {r[0]: dict(zip(MONTHLY_COLUMNS, r)) for r in cursor.fetchall()}


def score_series(con: duckdb.DuckDBPyConnection, accounts: list[tuple[str, str]], start: str, end: str
                 ) -> dict[tuple[str, str], list[float]]:
    """Each account's monthly totals over the period (0 for a month without a score)."""
    months = Period.parse(start, end).months
    out = {}
    for platform, account_id in accounts:
        stored = monthly_scores(con, platform, account_id, months)
        out[(platform, account_id)] = [stored[m]["total"] if m in stored else 0.0 for m in months]
    return out


def category_averages(con: duckdb.DuckDBPyConnection, platform: str, category: str, months: list[str]
                      ) -> dict[str, float]:
    row = con.execute(
        "SELECT avg(s.reach), avg(s.engagement), avg(s.innovation), avg(s.influence) FROM monthly_scores s "
        "JOIN accounts a USING (platform, account_id) WHERE s.platform = ? AND a.category = ? "
        "AND s.month IN (SELECT unnest(?::VARCHAR[])) "
        # the period's participants only (as `ranking.participants`): posted in it, not deactivated before it
        "AND (a.deactivated_on IS NULL OR a.deactivated_on >= ?::DATE) AND s.account_id IN ("
        "  SELECT account_id FROM monthly_scores WHERE platform = ? AND month IN (SELECT unnest(?::VARCHAR[])) "
        "  GROUP BY account_id HAVING sum(posts) > 0)",
        [platform, category, months, f"{months[0]}-01", platform, months]).fetchall()[0]
    return {d: float(v or 0.0) for d, v in zip(DIMENSIONS, row)}


def top_posts(con: duckdb.DuckDBPyConnection, platform: str, account_id: str, month: str,
              methodology: Methodology | str | None = None, limit: int = 10) -> list[dict]:
    """The month's posts with the most interactions, counted from the snapshot the scores use."""
    m = resolve(con, methodology)
    month = str(Month.parse(month))
    backend, tables = duckdb_tables(con, [month])
    try:
        posts = tables.posts.filter((tables.posts.platform == platform) & (tables.posts.account_id == account_id))
        facts = post_facts(posts, tables.snapshots, tables.months, m, wide=False)
        details = posts.select("post_id", "title", "text", "url", "forms", "is_original")
        joined = facts.join(details, "post_id")
        weight = sum((joined[name] for name in _WEIGHTED[1:]), joined[_WEIGHTED[0]])
        expr = joined.select(*TOP_POST_COLUMNS[:-1], weight=weight).order_by(
            [ibis.desc("weight"), "published_at", "post_id"]).limit(limit)
        rows = backend.to_pyarrow(expr).to_pylist()
    finally:
        con.execute("DROP TABLE IF EXISTS score_months")
    return rows


def peer_index(con: duckdb.DuckDBPyConnection, platform: str, account_id: str, start: str, end: str,
               methodology: Methodology | str | None = None,
               memo: Callable[[tuple, Callable[[], Any]], Any] | None = None) -> dict | None:
    """The account's WCI (WeChat) or BCI (Weibo) over the period and its place among its platform's."""
    index = {"wechat": "wci", "weibo": "bci"}.get(platform)
    if index is None:
        return None
    memo = memo or (lambda key, compute: compute())
    values = memo(("index", index, start, end), lambda: compute_index(con, index, start, end, methodology))
    ordered = sorted(values, key=lambda r: -r[index])
    mine = next((i for i, r in enumerate(ordered) if r["account_id"] == account_id), None)
    if mine is None:
        return None
    return {"name": index.upper(), "value": ordered[mine][index], "rank": mine + 1, "of": len(ordered)}


def account_view(con: duckdb.DuckDBPyConnection, platform: str, account_id: str, start: str | None = None,
                 end: str | None = None, month: str | None = None,
                 methodology: Methodology | str | None = None,
                 memo: Callable[[tuple, Callable[[], Any]], Any] | None = None) -> AccountView | None:
    """Everything the account page shows; None when the account is not registered. Without a
    period only the registry entry. The month explained defaults to the last month with posts.

    `memo(key, compute)` lets a caller keep what every account of a category or platform shares
    (the ranking, the peer index of the period) between calls, e.g. the site's cache."""
    memo = memo or (lambda key, compute: compute())
    account = get_account(con, platform, account_id)
    if account is None:
        return None
    if start is None or end is None:
        return AccountView(account)
    period = Period.parse(start, end)
    months = period.months
    if month is not None:
        month = str(Month.parse(month))
    m = resolve(con, methodology)
    monthly = monthly_scores(con, platform, account_id, months)
    ranking = memo(("rank", platform, account["category"], period.first, period.last, None, False),
                   lambda: rank(con, platform, account["category"], period.first, period.last))
    active = [mm for mm in months if monthly.get(mm) and monthly[mm]["posts"] > 0]
    if month not in months:  # none asked, or one outside the period: the last month with posts
        month = active[-1] if active else months[-1]
    return AccountView(
        account=account, period=period, month=month, monthly=monthly,
        category_avg=category_averages(con, platform, account["category"], months),
        place=next((r for r in ranked_rows(ranking) if r["account_id"] == account_id), None),
        ranked=len(ranked_rows(ranking)),
        explanation=explain(con, platform, account_id, month, m),
        top_posts=top_posts(con, platform, account_id, month, m),
        peer=peer_index(con, platform, account_id, period.first, period.last, m, memo),
        flag_months=(period_marks(con, platform, period.first, period.last, m).get(account_id) or {}).get("months", {}),
    )
