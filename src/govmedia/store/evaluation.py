"""Cases, campaigns and participations in the store: replace by id, one transaction per file."""

from __future__ import annotations

from typing import Callable, Sequence

import duckdb

from govmedia.core.time import Month
from govmedia.store import transaction


def registry_by_platform(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    registered: dict[str, set[str]] = {}
    for platform, account_id in con.execute("SELECT platform, account_id FROM accounts").fetchall():
        registered.setdefault(platform, set()).add(account_id)
    return registered


def campaign_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT campaign_id FROM campaigns").fetchall()}


def post_finder(con: duckdb.DuckDBPyConnection) -> Callable[[str, str], str | None]:
    """(platform, entry) -> the id of the imported post that `entry` names by its id or its link."""
    def find(platform: str, entry: str) -> str | None:
        # The id, the whole link, or the link's last part (weibo.com/<uid>/<bid>: the code people copy).
        found = con.execute("SELECT post_id FROM posts WHERE platform = ? AND (post_id = ? OR url = ? "
                            "OR (length(?) >= 6 AND suffix(url, '/' || ?))) ORDER BY post_id = ? DESC, url = ? DESC LIMIT 1",
                            [platform, entry, entry, entry, entry, entry, entry]).fetchall()
        return found[0][0] if found else None
    return find


def save_cases(con: duckdb.DuckDBPyConnection, cases: Sequence) -> int:
    with transaction(con):
        for case in cases:
            con.execute("DELETE FROM case_posts WHERE case_id = ?", [case.case_id])
            con.execute("DELETE FROM case_hashtags WHERE case_id = ?", [case.case_id])
            con.execute("DELETE FROM case_accounts WHERE case_id = ?", [case.case_id])
            con.execute("DELETE FROM cases WHERE case_id = ?", [case.case_id])
            con.execute(
                "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [case.case_id, case.title, case.month, case.category, case.unit, case.score, case.platform, case.text],
            )
            con.executemany(
                "INSERT INTO case_accounts VALUES (?, ?, ?)",
                [[case.case_id, case.platform, account_id] for account_id in case.accounts],
            )
            if case.posts:
                con.executemany("INSERT INTO case_posts VALUES (?, ?, ?)",
                                [[case.case_id, case.platform, post_id] for post_id in case.posts])
            if case.hashtags:
                con.executemany("INSERT INTO case_hashtags VALUES (?, ?)", [[case.case_id, tag] for tag in case.hashtags])
    return len(cases)


def save_campaigns(con: duckdb.DuckDBPyConnection, campaigns: Sequence) -> int:
    with transaction(con):
        for campaign in campaigns:
            con.execute("DELETE FROM campaign_hashtags WHERE campaign_id = ?", [campaign.campaign_id])
            con.execute("DELETE FROM campaigns WHERE campaign_id = ?", [campaign.campaign_id])
            con.execute(
                "INSERT INTO campaigns VALUES (?, ?, ?, ?)",
                [campaign.campaign_id, campaign.name, campaign.start, campaign.end],
            )
            if campaign.hashtags:  # a campaign may rely on explicit participations only
                con.executemany(
                    "INSERT INTO campaign_hashtags VALUES (?, ?)", [[campaign.campaign_id, tag] for tag in campaign.hashtags]
                )
    return len(campaigns)


def save_participations(con: duckdb.DuckDBPyConnection, participations: Sequence) -> int:
    with transaction(con):
        for p in participations:
            con.execute(
                "INSERT INTO campaign_participations VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [p.campaign_id, p.platform, p.account_id, p.month],
            )
    return len(participations)


def list_cases(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute(
        """
        SELECT c.case_id, c.title, c.month, c.category, c.unit, c.score, c.platform, c.text,
               string_agg(a.account_id, ';' ORDER BY a.account_id) AS account_ids,
               string_agg(coalesce(r.name, a.account_id), '、' ORDER BY a.account_id) AS account_names,
               (SELECT string_agg(post_id, ';' ORDER BY post_id) FROM case_posts p WHERE p.case_id = c.case_id)
                   AS post_ids,
               (SELECT string_agg(hashtag, ';' ORDER BY hashtag) FROM case_hashtags h WHERE h.case_id = c.case_id)
                   AS hashtags
        FROM cases c LEFT JOIN case_accounts a USING (case_id)
        LEFT JOIN accounts r ON r.platform = c.platform AND r.account_id = a.account_id
        GROUP BY ALL ORDER BY c.month, c.case_id
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def case_figures(con: duckdb.DuckDBPyConnection, case: dict) -> dict:
    """What the store holds for one case (a `list_cases` row): its linked posts (count, accounts, reads/plays and
    interactions at their latest snapshot) and, per linked hashtag, the posts carrying it in the
    case's month (count, accounts, reads/plays, interactions). Metrics never observed stay None."""
    def totals(where: str, params: list) -> dict:
        row = con.execute(
            f"""
            WITH chosen AS (
                SELECT p.platform, p.post_id, p.account_id FROM posts p WHERE {where}
            ), latest AS (
                SELECT s.platform, s.post_id, arg_max(s.reads, coalesce(s.observed_at, TIMESTAMP '1970-01-01')) AS reads,
                       arg_max(s.plays, coalesce(s.observed_at, TIMESTAMP '1970-01-01')) AS plays,
                       arg_max(coalesce(s.reposts, 0) + coalesce(s.comments, 0) + coalesce(s.likes, 0)
                               + coalesce(s.shares, 0) + coalesce(s.wows, 0) + coalesce(s.collects, 0),
                               coalesce(s.observed_at, TIMESTAMP '1970-01-01')) AS interactions
                FROM snapshots s JOIN chosen USING (platform, post_id) GROUP BY ALL
            )
            SELECT count(*), count(DISTINCT (c.platform, c.account_id)), sum(l.reads), sum(l.plays), sum(l.interactions),
                   string_agg(DISTINCT coalesce(a.name, c.account_id), '、')
            FROM chosen c LEFT JOIN latest l USING (platform, post_id)
            LEFT JOIN accounts a ON a.platform = c.platform AND a.account_id = c.account_id
            """, params).fetchall()[0]
        return {"posts": row[0], "accounts": row[1], "reads": row[2], "plays": row[3], "interactions": row[4],
                "names": row[5].split("、") if row[5] else []}

    figures = {"posts": None, "hashtags": []}
    if case["post_ids"]:
        figures["posts"] = totals("(p.platform, p.post_id) IN (SELECT (platform, post_id) FROM case_posts "
                                  "WHERE case_id = ?)", [case["case_id"]])
    case_month = Month.parse(case["month"])
    for tag in case["hashtags"].split(";") if case["hashtags"] else []:
        found = totals("(p.platform, p.post_id) IN (SELECT (platform, post_id) FROM post_hashtags WHERE hashtag = ?) "
                       "AND p.published_at >= ? AND p.published_at < ?",
                       [tag, case_month.start_utc(), case_month.shift(1).start_utc()])
        figures["hashtags"].append({"hashtag": tag, **found})
    return figures


def list_campaigns(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute(
        """
        SELECT c.campaign_id, c.name, c.start_date AS start, c.end_date AS "end",
               string_agg(h.hashtag, ';' ORDER BY h.hashtag) AS hashtags
        FROM campaigns c LEFT JOIN campaign_hashtags h USING (campaign_id)
        GROUP BY ALL ORDER BY c.start_date, c.campaign_id
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]
