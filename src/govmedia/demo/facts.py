"""The calibration check: the white paper's facts against what the STORE holds.

Everything here reads the database, never the generator's memory. Months are those of
Asia/Shanghai: stored timestamps are naive UTC, so a post's local time is published_at + 8 h.

The snapshot rule (one set of counts per post): the latest dated snapshot observed no later
than 168 h after publication; if none, the post's undated snapshot (observed_at IS NULL); if
none, its earliest dated snapshot. A missing metric counts 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from govmedia.core.time import day_start_utc

from govmedia.demo.accounts import seed_facts

SNAPSHOT_HOURS = 168
INSPECTION_DAYS = 14

_METRICS = ("reposts", "comments", "likes", "reads", "wows", "shares", "plays", "collects")

# One row per post published in [start, end) local time, with the counts the snapshot rule picks.
_POSTS_SQL = f"""
WITH p AS (
    SELECT platform, post_id, account_id, published_at, is_original
    FROM posts
    WHERE published_at >= ? AND published_at < ?
),
ranked AS (
    SELECT s.platform, s.post_id, {", ".join(f"s.{m}" for m in _METRICS)},
           row_number() OVER (
               PARTITION BY s.platform, s.post_id
               ORDER BY
                   CASE WHEN s.observed_at IS NULL THEN 1
                        WHEN s.observed_at <= p.published_at + INTERVAL {SNAPSHOT_HOURS} HOUR THEN 0
                        ELSE 2 END,
                   CASE WHEN s.observed_at <= p.published_at + INTERVAL {SNAPSHOT_HOURS} HOUR
                        THEN s.observed_at END DESC NULLS LAST,
                   s.observed_at ASC NULLS LAST
           ) AS pick
    FROM snapshots s JOIN p USING (platform, post_id)
)
SELECT p.platform, p.account_id, p.post_id, p.is_original,
       {", ".join(f"coalesce(r.{m}, 0) AS {m}" for m in _METRICS)}
FROM p LEFT JOIN ranked r ON r.platform = p.platform AND r.post_id = p.post_id AND r.pick = 1
"""


def account_totals(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[tuple[str, str], dict[str, int]]:
    """(platform, account_id) -> posts, originals and metric totals for posts published in [start, end)."""
    sql = f"""
        SELECT platform, account_id, count(*) AS posts,
               count(*) FILTER (WHERE is_original IS NOT FALSE) AS originals,
               {", ".join(f"sum({m})::BIGINT AS {m}" for m in _METRICS)}
        FROM ({_POSTS_SQL}) GROUP BY platform, account_id
    """
    cursor = con.execute(sql, [day_start_utc(start), day_start_utc(end)])
    names = [d[0] for d in cursor.description]
    out = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row))
        out[(record.pop("platform"), record.pop("account_id"))] = record
    return out


def platform_totals(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for (platform, _), record in account_totals(con, start, end).items():
        into = totals.setdefault(platform, {k: 0 for k in record})
        for key, value in record.items():
            into[key] += value or 0
    return totals


def inspection_pass_rate(con: duckdb.DuckDBPyConnection, checkpoint: date) -> float:
    """Share of active accounts with at least one post in the 14 days before a check point."""
    end = day_start_utc(checkpoint)
    start = end - timedelta(days=INSPECTION_DAYS)
    total, passed = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM posts p WHERE p.platform = a.platform AND p.account_id = a.account_id
              AND p.published_at >= ? AND p.published_at < ?))
        FROM accounts a WHERE a.active
        """,
        [start, end],
    ).fetchall()[0]
    return passed / total if total else 0.0


@dataclass(frozen=True)
class FactCheck:
    fact: str
    platform: str
    label: str  # in Chinese, for the summary
    target: float
    actual: float
    unit: str
    detail: str = ""
    exact: bool = False  # must match exactly (a list of accounts), not within a tolerance

    @property
    def deviation(self) -> float:
        """Relative deviation of actual from target (0.01 = +1 %)."""
        return (self.actual - self.target) / self.target if self.target else float(self.actual != self.target)

    def within(self, tolerance: float = 0.05) -> bool:
        if self.exact:
            return self.actual == self.target and not self.detail.startswith("不符")
        return abs(self.deviation) <= tolerance


_LABELS = {
    ("accounts_evaluated", "weibo"): "参评微博账号数",
    ("accounts_evaluated", "wechat"): "参评微信公众号数",
    ("accounts_listed", "douyin"): "抖音账号数",
    ("posts_total", "weibo"): "微博发博量",
    ("posts_original", "weibo"): "微博原创量",
    ("reposts_plus_comments", "weibo"): "微博转评量",
    ("yoy_growth_interactions", "weibo"): "微博转评量同比（倍）",
    ("followers_over_1m", "weibo"): "百万粉丝微博账号",
    ("posts_total", "wechat"): "微信发文量",
    ("reads_total", "wechat"): "微信阅读量",
    ("likes_plus_wows", "wechat"): "微信点赞+在看量",
    ("yoy_growth_reads", "wechat"): "微信阅读量同比（倍）",
    ("yoy_growth_likes_wows", "wechat"): "微信点赞在看同比（倍）",
    ("inspection_pass_rate_q1_q3", "all"): "季度检查合格率（2020年一至三季度）",
}


def _year_before(day: date) -> date:
    return day.replace(year=day.year - 1)


def facts_check(con: duckdb.DuckDBPyConnection) -> list["FactCheck"]:
    """Each fact of seed_facts.csv, computed from the store for the statistics window it states."""
    facts = seed_facts()
    values = {(f["fact"], f["platform"]): f for f in facts}
    start = date.fromisoformat(values[("period_start", "all")]["value"])
    end = date.fromisoformat(values[("period_end_exclusive", "all")]["value"])
    now = platform_totals(con, start, end)
    before = platform_totals(con, _year_before(start), _year_before(end))
    accounts = dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall())

    def get(totals, platform, key):
        return (totals.get(platform) or {}).get(key, 0) or 0

    def ratio(a, b):
        return a / b if b else 0.0

    computed = {
        ("accounts_evaluated", "weibo"): accounts.get("weibo", 0),
        ("accounts_evaluated", "wechat"): accounts.get("wechat", 0),
        ("accounts_listed", "douyin"): accounts.get("douyin", 0),
        ("posts_total", "weibo"): get(now, "weibo", "posts"),
        ("posts_original", "weibo"): get(now, "weibo", "originals"),
        ("reposts_plus_comments", "weibo"): get(now, "weibo", "reposts") + get(now, "weibo", "comments"),
        ("yoy_growth_interactions", "weibo"): ratio(get(now, "weibo", "reposts") + get(now, "weibo", "comments"),
                                                    get(before, "weibo", "reposts") + get(before, "weibo", "comments")),
        ("posts_total", "wechat"): get(now, "wechat", "posts"),
        ("reads_total", "wechat"): get(now, "wechat", "reads"),
        ("likes_plus_wows", "wechat"): get(now, "wechat", "likes") + get(now, "wechat", "wows"),
        ("yoy_growth_reads", "wechat"): ratio(get(now, "wechat", "reads"), get(before, "wechat", "reads")),
        ("yoy_growth_likes_wows", "wechat"): ratio(get(now, "wechat", "likes") + get(now, "wechat", "wows"),
                                                   get(before, "wechat", "likes") + get(before, "wechat", "wows")),
    }
    checks: list[FactCheck] = []
    for f in facts:
        key = (f["fact"], f["platform"])
        label = _LABELS.get(key)
        if label is None:
            continue
        if key == ("followers_over_1m", "weibo"):
            wanted = sorted(f["value"].split(";"))
            found = sorted(r[0] for r in con.execute(
                "SELECT name FROM accounts WHERE platform = 'weibo' AND followers >= 1000000").fetchall())
            detail = "、".join(found) if found == wanted else f"不符：{'、'.join(found)}"
            checks.append(FactCheck(f["fact"], f["platform"], label, len(wanted), len(found), "个", detail, exact=True))
            continue
        if key == ("inspection_pass_rate_q1_q3", "all"):
            quarters = [date(start.year, 4, 1), date(start.year, 7, 1), date(start.year, 10, 1)]
            rates = [inspection_pass_rate(con, q) for q in quarters]
            checks.append(FactCheck(f["fact"], f["platform"], label, float(f["value"]), min(rates), "比例",
                                    "、".join(f"{q:%m-%d} {r:.0%}" for q, r in zip(quarters, rates))))
            continue
        target = float(f["value"])
        checks.append(FactCheck(f["fact"], f["platform"], label, target, float(computed[key]), f["unit"]))
    return checks
