"""Cases, campaigns and participations in the store: replace by id, one transaction per file."""

from __future__ import annotations

from typing import Sequence

import duckdb

from govmedia.store import transaction


def registry_by_platform(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    registered: dict[str, set[str]] = {}
    for platform, account_id in con.execute("SELECT platform, account_id FROM accounts").fetchall():
        registered.setdefault(platform, set()).add(account_id)
    return registered


def campaign_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT campaign_id FROM campaigns").fetchall()}


def save_cases(con: duckdb.DuckDBPyConnection, cases: Sequence) -> int:
    with transaction(con):
        for case in cases:
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
               string_agg(coalesce(r.name, a.account_id), '、' ORDER BY a.account_id) AS account_names
        FROM cases c LEFT JOIN case_accounts a USING (case_id)
        LEFT JOIN accounts r ON r.platform = c.platform AND r.account_id = a.account_id
        GROUP BY ALL ORDER BY c.month, c.case_id
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


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
