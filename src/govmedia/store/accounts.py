"""Account registry in the store: upsert by (platform, account_id), organizations by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import duckdb

from govmedia.core.time import local_date, utcnow
from govmedia.core.vocabulary import PLATFORM_NAMES
from govmedia.store import next_id, transaction

ACCOUNT_COLUMNS = ("platform", "account_id", "name", "category", "organization", "region", "followers",
                   "active", "opened_at", "deactivated_on")


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _deactivation(row, before_active: bool | None, before_date, today):
    """(active, 停用日期) after a row: a date given means 停用 on it; deactivating without one
    records today (Beijing); an account staying inactive keeps its date; reactivating clears it."""
    if row.deactivated_on is not None and row.active is not False and row.active is not None:
        raise ValueError("an active account with a deactivation date")  # read_accounts rejects it first
    active = False if row.deactivated_on is not None else row.active
    if active is None:
        active = True if before_active is None else before_active
    if active:
        return True, None
    if row.deactivated_on is not None:
        return False, row.deactivated_on
    if before_active is False:
        return False, before_date  # stays inactive: its date (or none, deactivated before dates were kept)
    return False, today if before_active is not None else None  # a new inactive row: no date known


def upsert_accounts(con: duckdb.DuckDBPyConnection, rows: Sequence) -> UpsertResult:
    """Insert or update registry rows in one transaction. Empty optional cells keep stored values."""
    result = UpsertResult()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    today = local_date(utcnow())
    with transaction(con):
        organizations = dict(con.execute("SELECT name, organization_id FROM organizations").fetchall())
        existing = {
            (r[0], r[1]): r[2:]
            for r in con.execute(
                "SELECT platform, account_id, name, category, organization_id, region, followers, active, opened_at, "
                "deactivated_on FROM accounts"
            ).fetchall()
        }
        for row in rows:
            organization_id = None
            if row.organization:
                organization_id = organizations.get(row.organization)
                if organization_id is None:
                    organization_id = next_id(con, "organizations", "organization_id")
                    con.execute("INSERT INTO organizations VALUES (?, ?)", [organization_id, row.organization])
                    organizations[row.organization] = organization_id
            key = (row.platform, row.account_id)
            before = existing.get(key)
            if before is None:
                active, deactivated_on = _deactivation(row, None, None, today)
                con.execute(
                    "INSERT INTO accounts (platform, account_id, name, category, organization_id, region, followers, "
                    "active, opened_at, deactivated_on, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [row.platform, row.account_id, row.name, row.category, organization_id, row.region,
                     row.followers, active, row.opened_at, deactivated_on, now],
                )
                existing[key] = (row.name, row.category, organization_id, row.region, row.followers,
                                 active, row.opened_at, deactivated_on)
                result.inserted += 1
                continue
            active, deactivated_on = _deactivation(row, before[5], before[7], today)
            after = (
                row.name, row.category,
                organization_id if organization_id is not None else before[2],
                row.region if row.region is not None else before[3],
                row.followers if row.followers is not None else before[4],
                active,
                row.opened_at if row.opened_at is not None else before[6],
                deactivated_on,
            )
            if after == tuple(before):
                result.unchanged += 1
                continue
            con.execute(
                "UPDATE accounts SET name = ?, category = ?, organization_id = ?, region = ?, followers = ?, "
                "active = ?, opened_at = ?, deactivated_on = ?, updated_at = ? WHERE platform = ? AND account_id = ?",
                [*after, now, *key],
            )
            existing[key] = after
            result.updated += 1
    return result


def list_accounts(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: str | None = None,
    category: str | None = None,
    include_inactive: bool = True,
) -> list[dict]:
    sql = """
        SELECT a.platform, a.account_id, a.name, a.category, o.name AS organization, a.region, a.followers,
               a.active, a.opened_at, a.deactivated_on,
               (SELECT count(*) FROM posts p WHERE p.platform = a.platform AND p.account_id = a.account_id) AS posts
        FROM accounts a LEFT JOIN organizations o USING (organization_id)
        WHERE (? IS NULL OR a.platform = ?) AND (? IS NULL OR a.category = ?) AND (? OR a.active)
        ORDER BY a.platform, a.category, a.name, a.account_id
    """
    cursor = con.execute(sql, [platform, platform, category, category, include_inactive])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def search_accounts(con: duckdb.DuckDBPyConnection, *, text: str | None = None, platform: str | None = None,
                    category: str | None = None, active: bool | None = None, offset: int = 0,
                    limit: int = 50) -> tuple[int, list[dict]]:
    """(how many match, one page of them): `text` is found in the name, the account ID or the
    organization's name; the order is that of `list_accounts`."""
    where = """(? IS NULL OR a.platform = ?) AND (? IS NULL OR a.category = ?) AND (? IS NULL OR a.active = ?)
               AND (? IS NULL OR strpos(a.name, ?) > 0 OR strpos(a.account_id, ?) > 0
                    OR strpos(coalesce(o.name, ''), ?) > 0)"""
    text = text.strip() if text and text.strip() else None
    params = [platform, platform, category, category, active, active, text, text, text, text]
    total = con.execute(f"SELECT count(*) FROM accounts a LEFT JOIN organizations o USING (organization_id) "
                        f"WHERE {where}", params).fetchall()[0][0]
    cursor = con.execute(
        f"""
        SELECT a.platform, a.account_id, a.name, a.category, o.name AS organization, a.region, a.followers,
               a.active, a.opened_at, a.deactivated_on,
               (SELECT count(*) FROM posts p WHERE p.platform = a.platform AND p.account_id = a.account_id) AS posts
        FROM accounts a LEFT JOIN organizations o USING (organization_id)
        WHERE {where}
        ORDER BY a.platform, a.category, a.name, a.account_id
        LIMIT ? OFFSET ?
        """, [*params, limit, offset])
    names = [d[0] for d in cursor.description]
    return total, [dict(zip(names, row)) for row in cursor.fetchall()]


def account_labels(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every account as a picker offers it: key `platform:account_id` and a label 名称（平台）,
    with the ID added (after ·) where two accounts of a platform share a name."""
    rows = con.execute("SELECT platform, account_id, name, count(*) OVER (PARTITION BY platform, name) "
                       "FROM accounts ORDER BY platform, name, account_id").fetchall()
    return [{"key": f"{p}:{i}", "platform": p, "account_id": i, "name": n,
             "label": f"{n}（{PLATFORM_NAMES.get(p, p)}{'' if same == 1 else '·' + i}）"} for p, i, n, same in rows]


def account_lookup(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """What a person may write to name an account, to the accounts it names: its picker label and
    its bare name (which several accounts may share)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for a in account_labels(con):
        key = (a["platform"], a["account_id"])
        found.setdefault(a["label"], []).append(key)
        found.setdefault(a["name"], []).append(key)
    return found


def resolve_account(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str]:
    """The account a person named: `platform:account_id`, or a name or picker label of the registry."""
    from govmedia.core.errors import FieldError
    from govmedia.core.vocabulary import parse_platform

    text = (text or "").strip()
    platform, sep, account_id = text.partition(":")
    if sep and account_id.strip():
        try:
            return parse_platform(platform), account_id.strip()
        except ValueError:
            pass  # a name that contains a colon
    found = account_lookup(con).get(text, [])
    if len(found) == 1:
        return found[0]
    if found:
        labels = {(a["platform"], a["account_id"]): a["label"] for a in account_labels(con)}
        listed = "、".join(f"「{labels[k]}」（{k[0]}:{k[1]}）" for k in found)
        raise FieldError("account", text, f"名称「{text}」对应多个账号：{listed}；请写其中之一")
    raise FieldError("account", text, f"账号名录中没有「{text}」；请写名录中的名称，或 平台:账号ID（如 weibo:1234567890）")
