"""Store-wide settings, and the methodology texts that scored the stored months."""

from __future__ import annotations

import duckdb

from govmedia.core.time import utcnow

METHODOLOGY_KEY = "methodology_sha256"


def get(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def put(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set a value; inside the caller's transaction when there is one."""
    con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?)", [key, value, utcnow()])


def record_methodology(con: duckdb.DuckDBPyConnection, sha256: str, name: str, source: str, text: str) -> None:
    """Keep a methodology's text and put it in force (inside the caller's transaction)."""
    con.execute("INSERT INTO methodologies VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [sha256, name, source, text, utcnow()])
    put(con, METHODOLOGY_KEY, sha256)


def methodology_text(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[str, str] | None:
    rows = con.execute("SELECT text, source FROM methodologies WHERE sha256 = ?", [sha256]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def methodology_in_force(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(text, source) of the methodology in force, None when none was ever recorded."""
    sha256 = get(con, METHODOLOGY_KEY)
    return methodology_text(con, sha256) if sha256 else None


def methodology_summary(con: duckdb.DuckDBPyConnection) -> dict | None:
    """Name, source, sha256 and time of the methodology in force (for `db info`)."""
    sha256 = get(con, METHODOLOGY_KEY)
    if not sha256:
        return None
    rows = con.execute("SELECT name, source, recorded_at FROM methodologies WHERE sha256 = ?", [sha256]).fetchall()
    if not rows:
        return None
    return {"sha256": sha256, "name": rows[0][0], "source": rows[0][1], "recorded_at": rows[0][2]}
