"""Which months' scores are older than their data.

An import marks the months whose posts it changed, in the transaction that changes them; a rescore
of a month clears its mark in the transaction that writes its scores. So a month stays marked
whatever happened in between (rescoring turned off, a kill before the rescore), and every page
and command showing that month can say its scores are stale and since when.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import duckdb


def mark_stale(con: duckdb.DuckDBPyConnection, months: Iterable[str]) -> None:
    """The posts of these months changed now; a month already marked keeps its first moment."""
    months = sorted({str(m) for m in months})
    if months:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute("INSERT INTO stale_months SELECT unnest(?::VARCHAR[]), ? ON CONFLICT (month) DO NOTHING",
                    [months, now])


def clear_stale(con: duckdb.DuckDBPyConnection, months: Iterable[str]) -> None:
    months = sorted({str(m) for m in months})
    if months:
        con.execute("DELETE FROM stale_months WHERE month IN (SELECT unnest(?::VARCHAR[]))", [months])


def stale_months(con: duckdb.DuckDBPyConnection, months: Iterable[str] | None = None) -> dict[str, datetime]:
    """{month: since (UTC)} of the months (all, or those given) whose scores are older than their data.
    Only months that have scores count: a month never scored is not stale but missing."""
    rows = con.execute(
        "SELECT s.month, s.since FROM stale_months s WHERE EXISTS "
        "(SELECT 1 FROM monthly_scores m WHERE m.month = s.month) ORDER BY s.month").fetchall()
    wanted = None if months is None else {str(m) for m in months}
    return {month: since for month, since in rows if wanted is None or month in wanted}
