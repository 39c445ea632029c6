from datetime import datetime

import duckdb
import pytest

from govmedia.core.errors import UserError
from govmedia.store import CURRENT_VERSION, export_tables, import_tables, open_store, schema_version
from govmedia.store.migrations import MIGRATIONS

from util import dump


def _write_version_1(path):
    """A database as release 0.0 (schema 1) wrote it, with data in it."""
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, ?)", [datetime(2020, 1, 1)])
    con.execute("INSERT INTO organizations VALUES (1, '测试区委宣传部')")
    con.execute("INSERT INTO accounts VALUES ('weibo', '1234567890', '南京测试发布', 'district', 1, '测试区', 3125478)")
    con.execute("INSERT INTO import_batches VALUES (1, 'a.csv', 'abc', 'generic', ?, 1, 0)", [datetime(2020, 1, 2)])
    con.execute(
        "INSERT INTO posts VALUES ('weibo', '1', '1234567890', ?, TRUE, ['text'], NULL, '#话题# 正文', NULL, NULL, 1)",
        [datetime(2020, 1, 1, 2)],
    )
    con.execute("INSERT INTO snapshots VALUES ('weibo', '1', NULL, 5, 6, 7, NULL, NULL, NULL, NULL, NULL, 1)")
    con.close()


def test_new_store_is_at_current_version(db_path):
    con = open_store(db_path)
    assert schema_version(con) == CURRENT_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"organizations", "accounts", "posts", "snapshots", "post_hashtags", "import_batches"} <= tables


def test_database_of_earlier_release_upgrades_and_keeps_data(db_path):
    _write_version_1(db_path)
    con = open_store(db_path)
    assert schema_version(con) == CURRENT_VERSION
    account = con.execute("SELECT name, followers, active, opened_at FROM accounts").fetchall()
    assert account == [("南京测试发布", 3125478, True, None)]
    assert con.execute("SELECT reposts, comments, likes FROM snapshots").fetchall() == [(5, 6, 7)]
    assert con.execute("SELECT unchanged FROM import_batches").fetchall() == [(0,)]
    # The upgraded store takes writes of the new schema.
    con.execute("INSERT INTO post_hashtags VALUES ('weibo', '1', '话题')")
    con.close()
    # Opening again applies nothing twice.
    con = open_store(db_path)
    assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()] == \
        list(range(1, CURRENT_VERSION + 1))


def test_store_from_a_newer_release_is_refused(db_path):
    con = open_store(db_path)
    con.execute("INSERT INTO schema_version VALUES (?, ?)", [CURRENT_VERSION + 1, datetime(2030, 1, 1)])
    con.close()
    with pytest.raises(UserError, match="高于"):
        open_store(db_path)


def test_failed_migration_leaves_database_as_before(db_path, monkeypatch):
    _write_version_1(db_path)
    import govmedia.store as store

    broken = list(MIGRATIONS)
    broken[1] = MIGRATIONS[1] + ";\nALTER TABLE no_such_table ADD COLUMN x INTEGER"
    monkeypatch.setattr(store, "MIGRATIONS", broken)
    with pytest.raises(duckdb.Error):
        open_store(db_path)
    con = duckdb.connect(str(db_path))
    assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(1,)]
    columns = [r[0] for r in con.execute("DESCRIBE accounts").fetchall()]
    assert "active" not in columns


def test_parquet_export_import_roundtrip(registered, tmp_path):
    registered.execute(
        "INSERT INTO posts (platform, post_id, account_id, published_at, forms) VALUES ('weibo', 'x', '1234567890', ?, ['video'])",
        [datetime(2020, 3, 1, 1, 2, 3)],
    )
    registered.execute("INSERT INTO snapshots (platform, post_id, observed_at, reposts) VALUES ('weibo', 'x', NULL, 3)")
    registered.execute("INSERT INTO post_hashtags VALUES ('weibo', 'x', '南京战疫')")
    before = dump(registered)
    counts = export_tables(registered, tmp_path / "parquet")
    assert counts["accounts"] == 5 and counts["posts"] == 1
    other = open_store(tmp_path / "other.duckdb")
    import_tables(other, tmp_path / "parquet")
    assert dump(other) == before
    # Importing again replaces, it does not duplicate.
    import_tables(other, tmp_path / "parquet")
    assert dump(other) == before


def test_parquet_import_of_incomplete_directory_changes_nothing(registered, tmp_path):
    export_tables(registered, tmp_path / "parquet")
    (tmp_path / "parquet" / "posts.parquet").unlink()
    before = dump(registered)
    with pytest.raises(UserError, match="posts.parquet"):
        import_tables(registered, tmp_path / "parquet")
    assert dump(registered) == before


def test_parquet_import_of_damaged_file_changes_nothing(registered, tmp_path):
    export_tables(registered, tmp_path / "parquet")
    (tmp_path / "parquet" / "snapshots.parquet").write_bytes(b"not parquet")
    before = dump(registered)
    with pytest.raises(UserError):
        import_tables(registered, tmp_path / "parquet")
    assert dump(registered) == before
