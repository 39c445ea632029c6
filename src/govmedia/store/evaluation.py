"""Cases, campaigns and participations in the store: saved by id, one transaction per file; a value
missing from a save keeps the stored one unless the save clears it explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
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


# The fields a save may leave out: a missing one keeps what is stored, unless the row lists it in
# `cleared` (an explicit 「清空」). The others are required by the readers and always given.
CASE_OPTIONAL = ("category", "unit", "text", "post_ids", "hashtags")
CAMPAIGN_OPTIONAL = ("hashtags",)


@dataclass(frozen=True)
class Saved:
    """What one save did to one case or campaign: `created`, or the changed fields' stored (`old`)
    and written (`new`) values, lists as sorted tuples; both empty when nothing changed."""

    key: str
    created: bool
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    row: dict = field(default_factory=dict)  # every field as stored after the save
    kept: tuple = ()  # the optional fields left empty whose stored value was kept


def _listed(values) -> tuple:
    return tuple(sorted(set(values or ())))


def _column(con: duckdb.DuckDBPyConnection, sql: str, key: str) -> tuple:
    return _listed(r[0] for r in con.execute(sql, [key]).fetchall())


def stored_case(con: duckdb.DuckDBPyConnection, case_id: str) -> dict | None:
    """The case's fields as stored (the names of the case form; lists as sorted tuples), or None."""
    found = con.execute("SELECT title, month, category, unit, score, platform, text FROM cases WHERE case_id = ?",
                        [case_id]).fetchall()
    if not found:
        return None
    row = dict(zip(("title", "month", "category", "unit", "score", "platform", "text"), found[0]))
    row["account_ids"] = _column(con, "SELECT account_id FROM case_accounts WHERE case_id = ?", case_id)
    row["post_ids"] = _column(con, "SELECT post_id FROM case_posts WHERE case_id = ?", case_id)
    row["hashtags"] = _column(con, "SELECT hashtag FROM case_hashtags WHERE case_id = ?", case_id)
    return row


def stored_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> dict | None:
    """The campaign's fields as stored (the names of the campaign form), or None."""
    found = con.execute("SELECT name, start_date, end_date FROM campaigns WHERE campaign_id = ?",
                        [campaign_id]).fetchall()
    if not found:
        return None
    row = dict(zip(("name", "start", "end"), found[0]))
    row["hashtags"] = _column(con, "SELECT hashtag FROM campaign_hashtags WHERE campaign_id = ?", campaign_id)
    return row


def _merge(key: str, given: dict, stored: dict | None, optional: Sequence[str], cleared) -> Saved:
    """The row to store: the given values, where one is missing (None or empty) the stored one, except
    for the fields explicitly cleared: a missing value never overwrites a known one."""
    if stored is None:
        return Saved(key, True, row=given)
    row, kept = {}, []
    for name, value in given.items():
        missing = value is None or value == () or value == ""
        if missing and name in optional and name not in cleared:
            value = stored[name]
            if value not in (None, ()):
                kept.append(name)
        elif missing:
            value = () if isinstance(stored[name], tuple) else None
        row[name] = value
    changed = [name for name in row if row[name] != stored[name]]
    return Saved(key, False, {n: stored[n] for n in changed}, {n: row[n] for n in changed}, row, tuple(kept))


def write_case(con: duckdb.DuckDBPyConnection, case) -> Saved:
    """Add or change one case (an `ingest.evaluation.Case`), the rule of `_merge` applied; the tables
    are rewritten only when something changed. The caller checks that kept posts are on the case's
    platform (`case_posts` is rewritten under the new one)."""
    given = {"title": case.title, "month": case.month, "category": case.category, "unit": case.unit,
             "score": float(case.score), "platform": case.platform, "account_ids": _listed(case.accounts),
             "text": case.text, "post_ids": _listed(case.posts), "hashtags": _listed(case.hashtags)}
    saved = _merge(case.case_id, given, stored_case(con, case.case_id), CASE_OPTIONAL, getattr(case, "cleared", ()))
    if not (saved.created or saved.new):
        return saved
    row, key = saved.row, case.case_id
    with transaction(con):
        for table in ("case_posts", "case_hashtags", "case_accounts", "cases"):
            con.execute(f"DELETE FROM {table} WHERE case_id = ?", [key])
        con.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [key, row["title"], row["month"], row["category"], row["unit"], row["score"], row["platform"],
                     row["text"]])
        con.executemany("INSERT INTO case_accounts VALUES (?, ?, ?)",
                        [[key, row["platform"], account_id] for account_id in row["account_ids"]])
        if row["post_ids"]:
            con.executemany("INSERT INTO case_posts VALUES (?, ?, ?)",
                            [[key, row["platform"], post_id] for post_id in row["post_ids"]])
        if row["hashtags"]:
            con.executemany("INSERT INTO case_hashtags VALUES (?, ?)", [[key, tag] for tag in row["hashtags"]])
    return saved


def save_cases(con: duckdb.DuckDBPyConnection, cases: Sequence) -> list[Saved]:
    """Each case saved by `write_case`, in one transaction."""
    with transaction(con):
        return [write_case(con, case) for case in cases]


def write_campaign(con: duckdb.DuckDBPyConnection, campaign) -> Saved:
    """Add or change one campaign (an `ingest.evaluation.Campaign`), the rule of `_merge` applied."""
    given = {"name": campaign.name, "start": campaign.start, "end": campaign.end,
             "hashtags": _listed(campaign.hashtags)}
    saved = _merge(campaign.campaign_id, given, stored_campaign(con, campaign.campaign_id), CAMPAIGN_OPTIONAL,
                   getattr(campaign, "cleared", ()))
    if not (saved.created or saved.new):
        return saved
    row, key = saved.row, campaign.campaign_id
    with transaction(con):
        con.execute("DELETE FROM campaign_hashtags WHERE campaign_id = ?", [key])
        con.execute("DELETE FROM campaigns WHERE campaign_id = ?", [key])
        con.execute("INSERT INTO campaigns VALUES (?, ?, ?, ?)", [key, row["name"], row["start"], row["end"]])
        if row["hashtags"]:  # a campaign may rely on explicit participations only
            con.executemany("INSERT INTO campaign_hashtags VALUES (?, ?)", [[key, tag] for tag in row["hashtags"]])
    return saved


def save_campaigns(con: duckdb.DuckDBPyConnection, campaigns: Sequence) -> list[Saved]:
    """Each campaign saved by `write_campaign`, in one transaction."""
    with transaction(con):
        return [write_campaign(con, campaign) for campaign in campaigns]


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
