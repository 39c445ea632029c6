"""Small reads of the store's own bookkeeping: import batches, table sizes, health, methodologies."""

from __future__ import annotations

import duckdb

from govmedia.store.migrations import TABLES

BATCH_COLUMNS = ("batch_id", "file_name", "format", "platform", "imported_at", "accepted", "rejected", "unchanged")


def recent_batches(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict]:
    cursor = con.execute(f"SELECT {', '.join(BATCH_COLUMNS)} FROM import_batches ORDER BY batch_id DESC LIMIT ?",
                         [limit])
    return [dict(zip(BATCH_COLUMNS, r)) for r in cursor.fetchall()]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in TABLES}


def healthy(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT count(*) FROM accounts").fetchall()
        return True
    except duckdb.Error:
        return False


def stored_methodologies(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, sha256) of the methodologies the stored scores were computed with."""
    return con.execute("SELECT DISTINCT methodology, methodology_sha256 FROM monthly_scores ORDER BY 1, 2").fetchall()


def imported_before(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    """Whether a file with these bytes was imported (a watcher skips it after a restart)."""
    return bool(con.execute("SELECT count(*) FROM import_batches WHERE sha256 = ?", [sha256]).fetchall()[0][0])
