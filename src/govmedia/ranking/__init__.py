"""Rankings (榜单) from stored monthly scores: period sums, competition ranks, every account listed.

Entry points: `rank(...)` (what `govmedia rank` and the web leaderboards call) and
`period_scores(...)`.
"""

from __future__ import annotations

import duckdb

from govmedia.core.errors import FieldError, UserError
from govmedia.core.time import months_between
from govmedia.core.vocabulary import parse_category, parse_platform

RANK_COLUMNS = ("rank", "platform", "category", "account_id", "name", "score",
                "reach", "engagement", "innovation", "influence")
# Chinese headers of RANK_COLUMNS; "score" is named after the period (overview.period_column/label).
RANK_HEADERS = {"rank": "排名", "platform": "平台", "category": "类别", "account_id": "账号ID", "name": "名称",
                "reach": "传播力", "engagement": "互动力", "innovation": "创新力", "influence": "影响力"}
INTERVAL_COLUMNS = ("score_low", "score_high", "rank_low", "rank_high", "same_as")
INTERVAL_HEADERS = {"score_low": "得分下限", "score_high": "得分上限", "rank_low": "最好名次", "rank_high": "最差名次",
                    "same_as": "与第几名无显著差别"}
# ⚠: the account's flagged posts in the period and their share of its reads/plays/reposts/likes.
FLAG_COLUMNS = ("flagged_posts", "flagged_share")
FLAG_HEADERS = {"flagged_posts": "疑似刷量内容", "flagged_share": "疑似刷量占比"}
# The last column of a leaderboard: said of an account listed after the ranked ones, without rank
# or figures, because it has no post in the period (not a participant: not ranked, not counted).
NOTE_HEADERS = {"note": "备注"}
NO_DATA = "本期无数据"
SCORE_EXPORT_COLUMNS = ("platform", "account_id", "name", "category", "month", "reach", "engagement", "innovation",
                        "influence", "total", "methodology", "methodology_sha256")


def _platform(value: str) -> str:
    try:
        return parse_platform(value)
    except ValueError as exc:
        raise FieldError("platform", value, str(exc)) from exc


def _category(value: str) -> str:
    try:
        return parse_category(value)
    except ValueError as exc:
        raise FieldError("category", value, str(exc)) from exc


def require_scored(con: duckdb.DuckDBPyConnection, months: list[str]) -> None:
    """Refuse to rank a period whose months were never scored (it would silently read as 0)."""
    if not con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]:
        return
    scored = {r[0] for r in con.execute(
        "SELECT DISTINCT month FROM monthly_scores WHERE month IN (SELECT unnest(?::VARCHAR[]))", [months]
    ).fetchall()}
    missing = [m for m in months if m not in scored]
    if missing:
        span = missing[0] if len(missing) == 1 else f"{missing[0]} … {missing[-1]}（共 {len(missing)} 个月）"
        raise UserError(f"{span} 尚未计算分数：先{{step:score}}（{months[0]} 至 {months[-1]}）")


def period_scores(con: duckdb.DuckDBPyConnection, platform: str, start: str, end: str,
                  category: str | None = None) -> list[dict]:
    """Per account of the platform (and category) still registered when the period starts (no
    停用日期 before its first day): the period's sums (0 without data) and its posts."""
    months = months_between(start, end)
    require_scored(con, months)
    platform = _platform(platform)
    category = _category(category) if category else None
    cursor = con.execute(
        """
        SELECT a.platform, a.category, a.account_id, a.name,
               coalesce(s.score, 0) AS score, coalesce(s.reach, 0) AS reach,
               coalesce(s.engagement, 0) AS engagement, coalesce(s.innovation, 0) AS innovation,
               coalesce(s.influence, 0) AS influence, coalesce(s.posts, 0) AS posts
        FROM accounts a
        LEFT JOIN (
            SELECT platform, account_id, sum(total) AS score, sum(reach) AS reach, sum(engagement) AS engagement,
                   sum(innovation) AS innovation, sum(influence) AS influence, sum(posts) AS posts
            FROM monthly_scores WHERE month IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY platform, account_id
        ) s USING (platform, account_id)
        WHERE a.platform = ? AND (? IS NULL OR a.category = ?)
          AND (a.deactivated_on IS NULL OR a.deactivated_on >= ?::DATE)
        """,
        [months, platform, category, category, f"{months[0]}-01"],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def participants(rows: list[dict]) -> list[dict]:
    """The rows of accounts that posted in the period: the ones ranked, counted and averaged."""
    return [r for r in rows if r["posts"] > 0]


def competition_ranks(rows: list[dict], key: str = "score", names: tuple[str, ...] = ("name", "account_id")) -> list[dict]:
    """Standard competition ranks (1, 2, 2, 4) on values rounded to 2 decimals; ties by name."""
    ordered = sorted(rows, key=lambda r: (-round(r[key], 2), *(r[n] for n in names)))
    previous = None
    for position, row in enumerate(ordered, start=1):
        rounded = round(row[key], 2)
        if rounded != previous:
            current_rank = position
            previous = rounded
        row["rank"] = current_rank
    return ordered


def rank(con: duckdb.DuckDBPyConnection, platform: str, category: str, start: str, end: str,
         top: int | None = None, *, intervals: bool = False, methodology=None) -> list[dict]:
    """A category's leaderboard: RANK_COLUMNS, FLAG_COLUMNS and `note`, with `intervals` also
    INTERVAL_COLUMNS and `same_as` (the rank this one does not differ from significantly, or None),
    under the methodology given, else the one in force (what the stored scores were computed by).

    Only accounts that posted in the period are ranked; the others follow them (by name) with rank
    and figures None and note NO_DATA, and are left out by `top`."""
    from govmedia.methodology import resolve
    from govmedia.ranking.anomalies import period_marks

    everyone = period_scores(con, platform, start, end, category)
    rows = competition_ranks(participants(everyone))
    m = resolve(con, methodology)
    marks = period_marks(con, _platform(platform), start, end, m) if rows else {}
    for row in rows:
        mark = marks.get(row["account_id"])
        row["flagged_posts"], row["flagged_share"] = (mark["flagged_posts"], mark["flagged_share"]) if mark else (0, 0.0)
        row["note"] = None
    if intervals:
        from govmedia.ranking.intervals import indistinct, intervals as bootstrap

        found = bootstrap(con, _platform(platform), start, end, m,
                          {r["account_id"]: r["score"] for r in rows}, {r["account_id"]: r["rank"] for r in rows})
        for row in rows:
            row.update(found[row["account_id"]])
        indistinct(rows)
    if top is not None:
        rows = [r for r in rows if r["rank"] <= top]
    else:
        silent = sorted((r for r in everyone if not r["posts"]), key=lambda r: (r["name"], r["account_id"]))
        rows += [{**{c: r[c] for c in ("platform", "category", "account_id", "name")}, "note": NO_DATA}
                 for r in silent]
    columns = (*RANK_COLUMNS, *FLAG_COLUMNS, *(INTERVAL_COLUMNS if intervals else ()), "note")
    return [{c: r.get(c) for c in columns} for r in rows]


def ranked(rows: list[dict]) -> list[dict]:
    """A leaderboard's ranked rows (without the accounts listed after them with 本期无数据)."""
    return [r for r in rows if r["rank"] is not None]


def export_scores(con: duckdb.DuckDBPyConnection, start: str, end: str) -> list[dict]:
    months = months_between(start, end)
    require_scored(con, months)
    cursor = con.execute(
        """
        SELECT s.platform, s.account_id, a.name, a.category, s.month, s.reach, s.engagement, s.innovation,
               s.influence, s.total, s.methodology, s.methodology_sha256
        FROM monthly_scores s JOIN accounts a USING (platform, account_id)
        WHERE s.month IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY s.platform, s.month, a.category, s.account_id
        """,
        [months],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]
