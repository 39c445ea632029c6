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


def test_merge_keys_move_into_posts_unchanged(db_path):
    """Schema 14 keeps the merge keys of schema 10's post_merge as parts in posts: the keys the writer
    builds from those parts and the stored values are the very keys post_merge held."""
    from govmedia.store import migrate
    from govmedia.store.writer import MERGED, _stored_key_sql

    con = duckdb.connect(str(db_path))
    migrate(con, target=13)
    con.execute("INSERT INTO posts (platform, post_id, account_id, published_at, is_original, forms, title, text, "
                "url, position, batch_id) VALUES "
                "('weibo', '1', 'a', TIMESTAMP '2020-01-01 02:00:00', TRUE, ['text'], NULL, '正文', 'u', NULL, 1), "
                "('weibo', '2', 'a', TIMESTAMP '2020-01-03 02:00:00', NULL, [], '标题', '正文二', NULL, 3, 1), "
                "('douyin', '3', 'b', TIMESTAMP '2020-02-01 02:00:00', FALSE, ['video'], NULL, NULL, NULL, NULL, 1)")
    observed = {"1": "'20200105123456789012'", "2": "'00000000000000000000'", "3": "'20201231235959000001'"}
    native = {"1": {"published_at", "text", "url"}, "2": set(MERGED), "3": {"is_original"}}
    keys = []
    for post_id in ("1", "2", "3"):
        parts = []
        for a in MERGED:
            missing = f"p.{a} IS NULL" + (" OR len(p.forms) = 0" if a == "forms" else "")
            rank = "'2'" if a in native[post_id] else "'1'"
            parts.append(f"CASE WHEN {missing} THEN NULL ELSE {rank} || '|' || {observed[post_id]} || '|' || "
                         f"md5(p.{a}::VARCHAR) END")
        con.execute(f"INSERT INTO post_merge SELECT platform, post_id, account_id, {', '.join(parts)} "
                    f"FROM posts p WHERE post_id = '{post_id}'")
    before = con.execute(f"SELECT post_id, {', '.join(f'k_{a}' for a in MERGED)} FROM post_merge "
                         "ORDER BY post_id").fetchall()
    keys = [k for row in before for k in row[1:]]
    assert sum(k is None for k in keys) == 9 and sum(k is not None and k.startswith("2") for k in keys) == 8
    con.close()
    con = open_store(db_path)
    after = con.execute(f"SELECT post_id, {', '.join(_stored_key_sql(a) for a in MERGED)} FROM posts p "
                        "ORDER BY post_id").fetchall()
    assert after == before
    assert "post_merge" not in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_unused_indexes_dropped_and_topics_kept(db_path):
    """Schema 15 drops the indexes no read uses (snapshots by post, the topics key) and keeps every topic."""
    from govmedia.store import migrate

    con = duckdb.connect(str(db_path))
    migrate(con, target=14)
    con.execute("INSERT INTO post_hashtags VALUES ('weibo', '1', '话题'), ('weibo', '1', '其二'), ('douyin', '3', '话题')")
    indexes = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    assert "snapshots_post" in indexes
    con.close()
    con = open_store(db_path)
    assert "snapshots_post" not in {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
    assert not con.execute("SELECT * FROM duckdb_constraints() WHERE table_name = 'post_hashtags' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchall()
    assert sorted(con.execute("SELECT * FROM post_hashtags").fetchall()) == \
        [("douyin", "3", "话题"), ("weibo", "1", "其二"), ("weibo", "1", "话题")]
