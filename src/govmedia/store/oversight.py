"""Stored inspection checks: one run per check point, replaced as a whole when re-run."""

from __future__ import annotations

from datetime import date
from typing import Sequence

import duckdb
import pyarrow as pa

from govmedia.core.time import day_start_utc
from govmedia.store import transaction


def _arrow(rows: Sequence[dict], columns: Sequence[str], types: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], type=types.get(c)) for c in columns},)


_RESULT_TYPES = {
    "check_at": pa.date32(), "platform": pa.string(), "account_id": pa.string(), "name": pa.string(),
    "region": pa.string(), "category": pa.string(), "opened_at": pa.date32(), "last_post_at": pa.timestamp("us"),
    "days_without_update": pa.int32(), "status": pa.string(), "alert": pa.bool_(), "alert_date": pa.date32(),
    "posts_window": pa.int32(), "original_share": pa.float64(), "user_comments": pa.int32(),
    "answered": pa.int32(), "response_share": pa.float64(), "median_response_hours": pa.float64(),
    "serious_errors": pa.int32(), "sensitive_words": pa.int32(), "verdict": pa.string(), "reasons": pa.string(),
}
_FINDING_TYPES = {
    "check_at": pa.date32(), "platform": pa.string(), "account_id": pa.string(), "post_id": pa.string(),
    "published_at": pa.timestamp("us"), "kind": pa.string(), "field": pa.string(), "start_offset": pa.int32(),
    "matched": pa.string(), "correction": pa.string(), "category": pa.string(), "note": pa.string(),
    "excerpt": pa.string(),
}


# The stored columns, in order (the oversight package fills them).
RESULT_COLUMNS = list(_RESULT_TYPES)
FINDING_COLUMNS = list(_FINDING_TYPES)


def delete_check(con: duckdb.DuckDBPyConnection, at: date) -> bool:
    """Remove the stored check at `at` (its run, results and findings); False when there was none."""
    with transaction(con):
        found = con.execute("SELECT count(*) FROM check_runs WHERE check_at = ?", [at]).fetchall()[0][0]
        for table in ("check_findings", "check_results", "check_runs"):
            con.execute(f"DELETE FROM {table} WHERE check_at = ?", [at])
    return bool(found)


def newest_data(con: duckdb.DuckDBPyConnection):
    """The newest moment (UTC) the posts cover: the latest publication or crawl; None for no posts."""
    return con.execute("SELECT greatest((SELECT max(published_at) FROM posts), "
                       "(SELECT max(observed_at) FROM snapshots))").fetchall()[0][0]


def save_check(con: duckdb.DuckDBPyConnection, result, *, before_commit=None) -> None:
    """Replace the stored check at `result.check_at` in one transaction."""
    at = result.check_at
    results = _arrow(result.rows, RESULT_COLUMNS, _RESULT_TYPES)
    findings = _arrow(result.findings, FINDING_COLUMNS, _FINDING_TYPES)
    with transaction(con):
        for table in ("check_findings", "check_results", "check_runs"):
            con.execute(f"DELETE FROM {table} WHERE check_at = ?", [at])
        con.execute(
            "INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [at, day_start_utc(at), result.rules.name, result.rules.sha256, result.dictionaries_sha256,
             result.run_at, result.inspected, result.passed, result.inactive, result.not_open],
        )
        con.register("check_results_arrow", results)
        con.register("check_findings_arrow", findings)
        try:
            cols = ", ".join(RESULT_COLUMNS)
            con.execute(f"INSERT INTO check_results ({cols}) SELECT {cols} FROM check_results_arrow")
            cols = ", ".join(FINDING_COLUMNS)
            con.execute(f"INSERT INTO check_findings ({cols}) SELECT {cols} FROM check_findings_arrow")
        finally:
            con.unregister("check_results_arrow")
            con.unregister("check_findings_arrow")
        if before_commit is not None:
            before_commit()


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def check_points(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return _dicts(con.execute("SELECT * FROM check_runs ORDER BY check_at DESC"))


def check_run(con: duckdb.DuckDBPyConnection, at: date) -> dict | None:
    rows = _dicts(con.execute("SELECT * FROM check_runs WHERE check_at = ?", [at]))
    return rows[0] if rows else None


def check_results(con: duckdb.DuckDBPyConnection, at: date) -> list[dict]:
    return _dicts(con.execute("SELECT * FROM check_results WHERE check_at = ?", [at]))


def check_findings(con: duckdb.DuckDBPyConnection, at: date, platform: str | None = None,
                   account_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM check_findings WHERE check_at = ?"
    params: list = [at]
    if platform:
        sql += " AND platform = ? AND account_id = ?"
        params += [platform, account_id]
    return _dicts(con.execute(sql + " ORDER BY platform, account_id, published_at, post_id, field, start_offset",
                              params))


def account_history(con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> list[dict]:
    return _dicts(con.execute(
        "SELECT * FROM check_results WHERE platform = ? AND account_id = ? ORDER BY check_at DESC",
        [platform, account_id],
    ))
