"""刷量识别 Inflated metrics (ranking: what a leaderboard can trust): the posts whose figures look bought, with evidence in words.

Library entry points (what `govmedia anomalies`, the site and the reports call):

- `find_anomalies(con, start, end, platform=, category=, thresholds=, methodology=)` — one row per
  flagged post and kind in the period (ANOMALY_COLUMNS), most severe first.
- `anomaly_summary(con, start, end, …)` — per account and month: flagged posts and the share of
  the month's reads/plays/reposts/likes they carry (SUMMARY_COLUMNS).
- `thresholds_for(con, path=None, methodology=None)` — the thresholds a run uses: the file given,
  else those of the methodology (in force).

The rules and their statistics are Ibis expressions (scoring.anomalies); thresholds are data
(methodology/anomalies.toml).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from govmedia.core.text import share
from govmedia.core.time import months_between, to_local
from govmedia.core.vocabulary import METRIC_NAMES
from govmedia.methodology import Methodology, resolve
from govmedia.methodology.anomalies import KIND_NAMES, Thresholds, load_thresholds
from govmedia.scoring.anomalies import evidence
from govmedia.ranking import _category, _platform

ANOMALY_COLUMNS = ("platform", "account_id", "name", "post_id", "published_at", "month", "kind", "severity", "evidence")
ANOMALY_HEADERS = {"platform": "平台", "account_id": "账号ID", "name": "名称", "post_id": "内容ID",
                   "published_at": "发布时间", "month": "月份", "kind": "类型", "severity": "严重度", "evidence": "依据"}
SUMMARY_COLUMNS = ("platform", "account_id", "name", "month", "posts", "flagged_posts", "metric", "flagged_share")
SUMMARY_HEADERS = {"platform": "平台", "account_id": "账号ID", "name": "名称", "month": "月份", "posts": "发布数",
                   "flagged_posts": "异常内容数", "metric": "指标", "flagged_share": "异常内容占比"}


def thresholds_for(con: duckdb.DuckDBPyConnection, path: str | Path | None = None,
                   methodology: str | Path | Methodology | None = None) -> tuple[Methodology, Thresholds]:
    m = resolve(con, methodology)
    return m, (load_thresholds(path) if path is not None else m.thresholds)


def _flags_sql(con: duckdb.DuckDBPyConnection, m: Methodology, th: Thresholds) -> str | None:
    from govmedia.scoring import cached_sql
    from govmedia.scoring.anomalies import post_flags

    if not th.rules:
        return None
    return cached_sql(con, "flags", m, lambda t: post_flags(t.posts, t.snapshots, m, th), extra=th.text)


def parse_filters(platform: str | None, category: str | None) -> tuple[str | None, str | None]:
    """Platform and category codes from any spelling; empty is every one (FieldError naming a bad one)."""
    return (_platform(platform) if platform else None), (_category(category) if category else None)


def find_anomalies(con: duckdb.DuckDBPyConnection, start: str, end: str, *, platform: str | None = None,
                   category: str | None = None, thresholds: str | Path | None = None,
                   methodology: str | Path | Methodology | None = None) -> list[dict]:
    months = months_between(start, end)
    platform, category = parse_filters(platform, category)
    m, th = thresholds_for(con, thresholds, methodology)
    sql = _flags_sql(con, m, th)
    if sql is None:
        return []
    cursor = con.execute(
        f"""
        SELECT f.*, a.name FROM ({sql}) f JOIN accounts a USING (platform, account_id)
        WHERE f.month IN (SELECT unnest(?::VARCHAR[])) AND (? IS NULL OR f.platform = ?)
          AND (? IS NULL OR a.category = ?)
        ORDER BY f.severity DESC, f.platform, f.account_id, f.post_id, f.kind
        """,
        [months, platform, platform, category, category],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    out = []
    for row in rows:
        rule = th.rule_for(row["kind"], row["platform"], row["metric"])
        out.append({
            "platform": row["platform"], "account_id": row["account_id"], "name": row["name"],
            "post_id": row["post_id"], "published_at": to_local(row["published_at"]), "month": row["month"],
            "kind": row["kind"], "kind_name": KIND_NAMES[row["kind"]], "severity": round(row["severity"], 4),
            "metric": row["metric"], "value": row["value"], "replacement": row["replacement"],
            "evidence": evidence(row, rule.response),
        })
    return out


def anomaly_summary(con: duckdb.DuckDBPyConnection, start: str, end: str, *, platform: str | None = None,
                    category: str | None = None, thresholds: str | Path | None = None,
                    methodology: str | Path | Methodology | None = None) -> list[dict]:
    """Per account and month with a flagged post: posts, flagged posts and their share of the
    month's volume metric (reads, plays, reposts or likes: the one the platform's rule watches)."""
    from govmedia.scoring import _months_table, cached_sql
    from govmedia.scoring.anomalies import marks

    months = months_between(start, end)
    platform, category = parse_filters(platform, category)
    m, th = thresholds_for(con, thresholds, methodology)
    if not th.rules:
        return []
    _months_table(con, months)
    sql = cached_sql(con, "marks", m, lambda t: marks(t, m, th=th), extra=th.text)
    cursor = con.execute(
        f"""
        SELECT f.platform, f.account_id, a.name, f.month, f.posts, f.flagged_posts, f.metric,
               CASE WHEN f.volume > 0 THEN f.flagged_volume / f.volume ELSE 0 END AS flagged_share
        FROM ({sql}) f JOIN accounts a USING (platform, account_id)
        WHERE f.flagged_posts > 0 AND (? IS NULL OR f.platform = ?) AND (? IS NULL OR a.category = ?)
        ORDER BY f.platform, f.month, flagged_share DESC, f.account_id
        """,
        [platform, platform, category, category],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def period_marks(con: duckdb.DuckDBPyConnection, platform: str, start: str, end: str, m: Methodology
                 ) -> dict[str, dict]:
    """Per account of the platform with a flagged post in the period: flagged_posts, flagged_share
    (of the period's volume metric) and months (month -> (flagged posts, share of that month's)),
    under the methodology's thresholds. What leaderboards, account pages and reports mark with ⚠;
    computed on reading (the flags depend on each account's whole history, which would double the
    time of every rescore) and kept in memory until the data changes (see store.memo.remembered)."""
    from govmedia.store.memo import remembered
    from govmedia.scoring import _months_table, cached_sql
    from govmedia.scoring.anomalies import marks

    months = months_between(start, end)
    if not m.thresholds.for_platform(platform):
        return {}

    def compute():
        _months_table(con, months)
        sql = cached_sql(con, f"marks-{platform}", m, lambda t: marks(t, m, platform))
        out: dict[str, dict] = {}
        # Only accounts with a flagged post; the period's share is over all of their posts in the period.
        rows = con.execute(
            f"SELECT account_id, month, flagged_posts, flagged_volume, volume FROM ({sql}) ORDER BY 1, 2").fetchall()
        flagged = {r[0] for r in rows if r[2]}
        for account_id, month, posts, volume, total in (r for r in rows if r[0] in flagged):
            mark = out.setdefault(account_id, {"flagged_posts": 0, "flagged_volume": 0.0, "volume": 0.0, "months": {}})
            mark["flagged_posts"] += posts
            mark["flagged_volume"] += volume
            mark["volume"] += total
            if posts:
                mark["months"][month] = (posts, volume / total if total else 0.0)
        for mark in out.values():
            mark["flagged_share"] = mark["flagged_volume"] / mark["volume"] if mark["volume"] else 0.0
        return out

    return remembered(con, ("marks", platform, tuple(months), m.sha256, m.thresholds.sha256), platform, months,
                      compute)


def in_words(row: dict) -> str:
    """A summary row as a line: 2 篇异常，占本月阅读的 38%."""
    return f"{row['flagged_posts']} 篇异常，占本月{METRIC_NAMES.get(row['metric'], '互动')}的 {share(row['flagged_share'])}"


__all__ = ["ANOMALY_COLUMNS", "ANOMALY_HEADERS", "SUMMARY_COLUMNS", "SUMMARY_HEADERS", "anomaly_summary",
           "evidence", "find_anomalies", "in_words", "thresholds_for"]
