"""The DuckDB store: opening, migrating, and moving whole tables as Parquet.

This package is the only code that writes SQL DDL.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from govmedia.core.errors import UserError
from govmedia.store.migrations import CURRENT_VERSION, MIGRATIONS, TABLES

DEFAULT_DB = "govmedia.duckdb"

__all__ = [
    "CURRENT_VERSION",
    "TABLES",
    "default_db_path",
    "open_store",
    "schema_version",
    "export_tables",
    "import_tables",
    "transaction",
    "next_id",
    "SchemaOutdated",
]


class SchemaOutdated(UserError):
    """A store written by an earlier release, opened read-only: it needs one writing open."""


def default_db_path() -> Path:
    return Path(os.environ.get("GOVMEDIA_DB") or DEFAULT_DB)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
    return int(row or 0)


def migrate(con: duckdb.DuckDBPyConnection, target: int = CURRENT_VERSION) -> int:
    """Apply the migrations after the database's version, each in its own transaction."""
    current = schema_version(con)
    if current > CURRENT_VERSION:
        raise UserError(
            f"数据库的结构版本为 {current}，高于本程序支持的 {CURRENT_VERSION}；请升级 govmedia"
        )
    for version in range(current + 1, target + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, _utcnow()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return schema_version(con)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store and bring its schema up to date."""
    path = Path(path) if path is not None else default_db_path()
    if read_only and not path.exists():
        raise UserError(f"数据库文件不存在: {path}")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise UserError(f"无法打开数据库 {path}: {str(exc).splitlines()[0]}") from exc
    except duckdb.Error as exc:
        raise UserError(f"无法打开数据库 {path}: {str(exc).splitlines()[0]}") from exc
    # Stored timestamps are UTC; keep DuckDB from applying the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        migrate(con)
    elif schema_version(con) != CURRENT_VERSION:
        found = schema_version(con)
        con.close()
        if found > CURRENT_VERSION:
            raise UserError(f"数据库的结构版本为 {found}，高于本程序支持的 {CURRENT_VERSION}；请升级 govmedia")
        raise SchemaOutdated(f"数据库 {path} 需要升级结构，请以可写方式打开一次")
    return con


_open_transactions: dict[int, int] = {}  # id(connection) -> depth


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` is inside a `transaction` (a write there cannot retry on its own)."""
    return bool(_open_transactions.get(id(con)))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: a failure (or a killed process) leaves the store as before.

    Re-entrant: inside another `transaction` on the same connection it joins it, so that a write
    and its audit entry (or a write made of smaller writes) commit together.
    """
    key = id(con)
    depth = _open_transactions.get(key, 0)
    if depth:
        _open_transactions[key] = depth + 1
        try:
            yield con
        finally:
            _open_transactions[key] = depth
        return
    con.execute("BEGIN TRANSACTION")
    _open_transactions[key] = 1
    try:
        yield con
    except BaseException:
        _open_transactions.pop(key, None)
        con.execute("ROLLBACK")
        raise
    else:
        _open_transactions.pop(key, None)
        con.execute("COMMIT")


def export_tables(con: duckdb.DuckDBPyConnection, directory: str | Path) -> dict[str, int]:
    """Write every table as DIR/<table>.parquet; returns row counts."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in TABLES:
        target = directory / f"{table}.parquet"
        con.execute(f"COPY {table} TO '{_sql_path(target)}' (FORMAT parquet)")
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    (directory / "schema_version.txt").write_text(f"{CURRENT_VERSION}\n", encoding="utf-8")
    return counts


def import_tables(con: duckdb.DuckDBPyConnection, directory: str | Path) -> dict[str, int]:
    """Replace the store's tables with DIR/<table>.parquet, all in one transaction."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"目录不存在: {directory}")
    missing = [t for t in TABLES if not (directory / f"{t}.parquet").exists()]
    if missing:
        raise UserError(f"{directory} 缺少表文件: {', '.join(t + '.parquet' for t in missing)}")
    version_file = directory / "schema_version.txt"
    if version_file.exists():
        version = int(version_file.read_text().strip() or 0)
        if version != CURRENT_VERSION:
            raise UserError(
                f"{version_file}: 导出时的结构版本为 {version}，当前为 {CURRENT_VERSION}，无法直接导入"
            )
    counts: dict[str, int] = {}
    with transaction(con):
        for table in reversed(TABLES):
            con.execute(f"DELETE FROM {table}")
        for table in TABLES:
            path = _sql_path(directory / f"{table}.parquet")
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            try:
                file_columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
            except duckdb.Error as exc:
                raise UserError(f"{path}: 不是可读的 Parquet 文件 ({str(exc).splitlines()[0]})") from exc
            absent = [c for c in columns if c not in file_columns]
            if absent:
                raise UserError(f"{path}: 缺少列 {', '.join(absent)}")
            cols = ", ".join(columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM read_parquet('{path}')")
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return counts


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """Ids are max+1 inside the writer's transaction (DuckDB allows one writer per file)."""
    return int(con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0])
