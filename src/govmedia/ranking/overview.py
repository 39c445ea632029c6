"""The period's overview (发展概况): totals per platform, year-on-year change, monthly trend.

Counts use the same snapshot choice as the scores (one definition: scoring.expressions.post_facts).
Interactions follow the white paper: Weibo 转评 (reposts + comments), WeChat 点赞+在看
(likes + wows), Douyin likes + comments + shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from govmedia.core.time import Month, Period, months_between
from govmedia.core.vocabulary import METRICS, PLATFORMS, PROFILES
from govmedia.methodology import Methodology, resolve
from govmedia.scoring import duckdb_tables
from govmedia.scoring.expressions import post_facts

# What the white paper sums as each platform's 互动量 (core profiles).
INTERACTIONS = {code: profile.interactions for code, profile in PROFILES.items()}
TOTAL_COLUMNS = ("posts", "originals", *METRICS)


@dataclass
class PlatformTotals:
    platform: str
    accounts: int
    totals: dict[str, int]
    previous: dict[str, int] | None  # the same months one year earlier, when loaded
    monthly: list[dict] = field(default_factory=list)  # month, posts, interactions, reads

    @property
    def interactions(self) -> int:
        return sum(self.totals[m] for m in INTERACTIONS[self.platform])

    @property
    def previous_interactions(self) -> int | None:
        if self.previous is None:
            return None
        return sum(self.previous[m] for m in INTERACTIONS[self.platform])

    def growth(self, key: str) -> float | None:
        """This period over the previous year's (2020 / 2019); None when that year is not loaded."""
        now = self.interactions if key == "interactions" else self.totals[key]
        before = self.previous_interactions if key == "interactions" else (self.previous or {}).get(key)
        if not before:
            return None
        return now / before


def _totals(con: duckdb.DuckDBPyConnection, months: list[str], by: tuple[str, str] = ("platform", "month"),
            methodology: Methodology | None = None) -> dict[tuple[str, str], dict]:
    """Posts, originals and the sums of every metric over `months`, per `by` (two columns),
    with the snapshot choice of the scores."""
    backend, tables = duckdb_tables(con, months)
    facts = post_facts(tables.posts, tables.snapshots, tables.months, resolve(con, methodology), wide=False)
    aggregates = {"posts": facts.count(), "originals": facts.original.cast("int64").sum()}
    for metric in TOTAL_COLUMNS[2:]:
        aggregates[metric] = facts[metric].sum()
    rows = backend.to_pyarrow(facts.group_by(list(by)).aggregate(**aggregates)).to_pylist()
    con.execute("DROP TABLE IF EXISTS score_months")
    return {(r[by[0]], r[by[1]]): r for r in rows}


def account_totals(con: duckdb.DuckDBPyConnection, start: str, end: str, methodology: Methodology | None = None
                   ) -> dict[tuple[str, str], dict[str, int]]:
    """(platform, account_id) -> posts, originals and the sums of every metric in the period."""
    rows = _totals(con, months_between(start, end), by=("platform", "account_id"), methodology=methodology)
    return {key: {c: int(r[c] or 0) for c in TOTAL_COLUMNS} for key, r in rows.items()}


def overview(con: duckdb.DuckDBPyConnection, start: str, end: str, methodology: Methodology | None = None
             ) -> list[PlatformTotals]:
    months = months_between(start, end)
    previous_months = Period.parse(start, end).last_year().months
    by_month = _totals(con, months + previous_months, methodology=methodology)
    registered = dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall())
    accounts = participant_counts(con, start, end)
    result = []
    for platform in PLATFORMS:
        if not registered.get(platform) and not any((platform, m) in by_month for m in months):
            continue  # a platform the office does not evaluate: no registered account, no post

        def sums(span):
            return {c: int(sum((by_month.get((platform, m)) or {}).get(c) or 0 for m in span)) for c in TOTAL_COLUMNS}

        previous = sums(previous_months)
        loaded = any((platform, m) in by_month for m in previous_months)
        monthly = []
        for m in months:
            row = by_month.get((platform, m)) or {}
            monthly.append({
                "month": m,
                "posts": int(row.get("posts") or 0),
                "interactions": int(sum(row.get(c) or 0 for c in INTERACTIONS[platform])),
                "reads": int(row.get("reads") or 0),
            })
        result.append(PlatformTotals(platform, int(accounts.get(platform, 0)), sums(months),
                                     previous if loaded else None, monthly))
    return result


def participant_counts(con: duckdb.DuckDBPyConnection, start: str, end: str) -> dict[str, int]:
    """Per platform, the accounts that took part in the period: registered, not deactivated before
    it starts, with a post in it (as `ranking.participants`; an account without one is not counted)."""
    period = Period.parse(start, end)
    return dict(con.execute(
        """
        SELECT a.platform, count(*) FROM accounts a
        WHERE (a.deactivated_on IS NULL OR a.deactivated_on >= ?::DATE)
          AND EXISTS (SELECT 1 FROM posts p WHERE p.platform = a.platform AND p.account_id = a.account_id
                      AND p.published_at >= ? AND p.published_at < ?)
        GROUP BY 1
        """, [f"{period.first}-01", period.start_utc(), period.end_utc()]).fetchall())


def million_follower_accounts(con: duckdb.DuckDBPyConnection, threshold: int = 1_000_000) -> list[dict]:
    cursor = con.execute(
        "SELECT platform, account_id, name, followers FROM accounts WHERE followers >= ? "
        "ORDER BY platform, followers DESC, name", [threshold])
    return [dict(zip([d[0] for d in cursor.description], r)) for r in cursor.fetchall()]


def scored_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT month FROM monthly_scores ORDER BY 1").fetchall()]


def default_period(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """The latest full February–November window scored; else the latest year's scored months."""
    months = [Month.parse(m) for m in scored_months(con)]
    if not months:
        return None
    present = set(months)
    for year in sorted({m.year for m in months}, reverse=True):
        window = Period(Month(year, 2), Month(year, 11))
        if all(m in present for m in window):
            return window.first, window.last
    mine = [m for m in months if m.year == months[-1].year]
    return str(mine[0]), str(mine[-1])


def period_choices(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(from, to, label) of the periods worth offering: each scored year's Feb–Nov window (or the
    part of the year scored) and each scored month, newest first."""
    months = [Month.parse(m) for m in scored_months(con)]
    present = set(months)
    choices = []
    for year in sorted({m.year for m in months}, reverse=True):
        window = Period(Month(year, 2), Month(year, 11))
        if all(m in present for m in window):
            choices.append((window.first, window.last, f"{year}年2-11月"))
        mine = [m for m in months if m.year == year]
        if mine and (mine[0], mine[-1]) != (window.start, window.end):
            choices.append((str(mine[0]), str(mine[-1]), Period(mine[0], mine[-1]).label))
    for m in reversed(months):
        choices.append((str(m), str(m), m.label))
    return choices


def period_column(start: str, end: str) -> str:
    """The ranking column's label, as in the white paper: "2-11月", "5月"."""
    return Period.parse(start, end).column


def period_label(start: str, end: str) -> str:
    """The period in words: "2020年2-11月", "2020年5月", "2019年2月至2020年11月"."""
    return Period.parse(start, end).label


def previous_period(start: str, end: str) -> tuple[str, str]:
    """A month's previous period is the month before; a longer period's, the same months a year earlier."""
    before = Period.parse(start, end).previous()
    return before.first, before.last


def comparison_missing(start: str, end: str) -> str:
    """What the rank-change column says instead of naming a comparison period with no scores:
    a month is compared with the month before (上期), a longer period with the same months a year
    earlier (上年同期)."""
    return "上期无数据" if Period.parse(start, end).single else "上年同期无数据"
