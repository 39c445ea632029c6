"""Writing validated rows into the store, one file per transaction.

Posts are keyed by (platform, post_id); snapshots by (platform, post_id, observed_at), where a
NULL observed_at is the post's single undated snapshot. Rows that would change nothing are
left alone, so importing the same file twice leaves the store exactly as after the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import duckdb
import pyarrow as pa

from govmedia.core.vocabulary import METRICS

from govmedia.core.rows import Post
from govmedia.core.time import Month
from govmedia.store import next_id, transaction
from govmedia.store.access import EVERYTHING, changed as declare_changed
from govmedia.store.freshness import mark_stale

_STAGE_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("account_id", pa.string()),
        ("published_at", pa.timestamp("us")),
        ("observed_at", pa.timestamp("us")),
        ("is_original", pa.bool_()),
        ("forms", pa.list_(pa.string())),
        ("title", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("position", pa.int32()),
        *[(m, pa.int64()) for m in METRICS],
        ("hashtags", pa.list_(pa.string())),
    ]
)

_POST_COLUMNS = ("account_id", "published_at", "is_original", "forms", "title", "text", "url", "position")


@dataclass
class BatchInfo:
    file_name: str
    file_path: str
    sha256: str
    format: str
    platform: str | None = None


@dataclass
class WriteResult:
    batch_id: int | None  # None when nothing changed and the file had been imported before
    accepted: int  # rows that added or changed something
    unchanged: int  # valid rows already in the store as they are
    conflicts: list[tuple[int, str]]  # (line, reason) of rows refused by what the store holds
    unchanged_lines: frozenset[int] = frozenset()
    months: frozenset[str] = frozenset()  # months (Beijing) whose posts changed, old and new publication month


def _stage_table(posts: Sequence[Post]) -> pa.Table:
    columns: dict[str, list] = {name: [] for name in _STAGE_SCHEMA.names}
    for p in posts:
        columns["line"].append(p.line)
        columns["platform"].append(p.platform)
        columns["post_id"].append(p.post_id)
        columns["account_id"].append(p.account_id)
        columns["published_at"].append(p.published_at)
        columns["observed_at"].append(p.observed_at)
        columns["is_original"].append(p.is_original)
        columns["forms"].append(list(p.forms))
        columns["title"].append(p.title)
        columns["text"].append(p.text)
        columns["url"].append(p.url)
        columns["position"].append(p.position)
        for name, value in zip(METRICS, p.metrics):
            columns[name].append(value)
        columns["hashtags"].append(sorted(p.hashtags))
    return pa.table(columns, schema=_STAGE_SCHEMA)


def write_posts(
    con: duckdb.DuckDBPyConnection,
    posts: Sequence[Post],
    batch: BatchInfo,
    *,
    rejected: int,
    before_commit=None,
) -> WriteResult:
    """Merge one file's valid rows in a single transaction; see the module docstring."""
    stage = _stage_table(posts)
    with transaction(con):
        con.register("stage_arrow", stage)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE stage AS SELECT * FROM stage_arrow")
        finally:
            con.unregister("stage_arrow")

        # A post id already stored under another account is a conflict, not an update.
        conflicts = con.execute(
            """
            SELECT s.line, s.post_id, p.account_id FROM stage s
            JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id
            WHERE p.account_id <> s.account_id ORDER BY s.line
            """
        ).fetchall()
        conflict_list = [
            (line, f"内容ID {post_id} 已登记为账号 {account} 的内容") for line, post_id, account in conflicts
        ]
        if conflicts:
            con.execute(
                "DELETE FROM stage WHERE line IN (SELECT unnest(?::BIGINT[]))", [[c[0] for c in conflicts]]
            )

        same_post = " AND ".join(f"p.{c} IS NOT DISTINCT FROM s.{c}" for c in _POST_COLUMNS)
        same_snapshot = " AND ".join(f"n.{m} IS NOT DISTINCT FROM s.{m}" for m in METRICS)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE unchanged AS
            SELECT s.line FROM stage s
            JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id
            JOIN snapshots n ON n.platform = s.platform AND n.post_id = s.post_id
                AND n.observed_at IS NOT DISTINCT FROM s.observed_at
            LEFT JOIN (
                SELECT platform, post_id, list(hashtag ORDER BY hashtag) AS tags
                FROM post_hashtags GROUP BY ALL
            ) h ON h.platform = s.platform AND h.post_id = s.post_id
            WHERE {same_post} AND {same_snapshot}
              AND coalesce(h.tags, []::VARCHAR[]) = s.hashtags
            """
        )
        con.execute("DELETE FROM stage WHERE line IN (SELECT line FROM unchanged)")
        unchanged_lines = frozenset(r[0] for r in con.execute("SELECT line FROM unchanged").fetchall())
        unchanged = len(unchanged_lines)
        changed = con.execute("SELECT count(*) FROM stage").fetchall()[0][0]

        seen_before = con.execute(
            "SELECT count(*) FROM import_batches WHERE sha256 = ? AND format = ?", [batch.sha256, batch.format]
        ).fetchall()[0][0]
        if changed == 0 and seen_before:
            _drop_temp(con)
            return WriteResult(None, 0, unchanged, conflict_list, unchanged_lines)

        batch_id = next_id(con, "import_batches", "batch_id")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute(
            """
            INSERT INTO import_batches (batch_id, file_name, file_path, sha256, format, platform,
                imported_at, accepted, rejected, unchanged)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [batch_id, batch.file_name, batch.file_path, batch.sha256, batch.format, batch.platform,
             now, changed, rejected + len(conflict_list), unchanged],
        )
        if changed:
            post_cols = ", ".join(_POST_COLUMNS)
            updates = ", ".join(f"{c} = excluded.{c}" for c in _POST_COLUMNS)
            # The last row of a post in the file carries its current attributes.
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE stage_posts AS
                SELECT * FROM stage QUALIFY row_number() OVER (PARTITION BY platform, post_id ORDER BY line DESC) = 1
                """
            )
            # Posts whose publication time changes: their stored snapshots' ages change too.
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE moved_posts AS
                SELECT s.platform, s.post_id, s.published_at, p.published_at AS published_before FROM stage_posts s
                JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id
                WHERE p.published_at <> s.published_at
                """
            )
            con.execute(
                f"""
                INSERT INTO posts (platform, post_id, {post_cols}, batch_id)
                SELECT platform, post_id, {post_cols}, {batch_id} FROM stage_posts
                ON CONFLICT (platform, post_id) DO UPDATE SET {updates}
                """
            )
            con.execute(
                """
                DELETE FROM snapshots USING stage s
                WHERE snapshots.platform = s.platform AND snapshots.post_id = s.post_id
                  AND snapshots.observed_at IS NOT DISTINCT FROM s.observed_at
                """
            )
            moved_from = [r[0] for r in con.execute("SELECT published_before FROM moved_posts").fetchall()]
            if moved_from:
                con.execute(
                    """
                    UPDATE snapshots SET age_us = epoch_us(snapshots.observed_at) - epoch_us(m.published_at)
                    FROM moved_posts m
                    WHERE snapshots.platform = m.platform AND snapshots.post_id = m.post_id
                      AND snapshots.observed_at IS NOT NULL
                    """
                )
            metric_cols = ", ".join(f"s.{m}" for m in METRICS)
            # Age against the post as stored now (the file's last row of the post).
            con.execute(
                f"""
                INSERT INTO snapshots (platform, post_id, observed_at, {", ".join(METRICS)}, batch_id, age_us)
                SELECT s.platform, s.post_id, s.observed_at, {metric_cols}, {batch_id},
                       epoch_us(s.observed_at) - epoch_us(p.published_at)
                FROM stage s JOIN stage_posts p ON p.platform = s.platform AND p.post_id = s.post_id
                """
            )
            con.execute(
                """
                DELETE FROM post_hashtags USING stage_posts s
                WHERE post_hashtags.platform = s.platform AND post_hashtags.post_id = s.post_id
                """
            )
            con.execute(
                """
                INSERT INTO post_hashtags
                SELECT DISTINCT platform, post_id, unnest(hashtags) FROM stage_posts
                """
            )
        months: frozenset[str] = frozenset()
        if changed:
            # The scores of the months a changed post was and is published in are now stale.
            kept_back = unchanged_lines | {line for line, _ in conflict_list}
            months = frozenset(str(Month.of(p.published_at)) for p in posts if p.line not in kept_back) | frozenset(
                str(Month.of(moment)) for moment in moved_from)
            mark_stale(con, months)
            declare_changed(con, months)
        if before_commit is not None:
            before_commit()
        _drop_temp(con)
    return WriteResult(batch_id, changed, unchanged, conflict_list, unchanged_lines, months)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("stage", "unchanged", "stage_posts", "moved_posts"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


# --------------------------------------------------------------------------- comments

_COMMENT_STAGE = pa.schema([
    ("line", pa.int64()), ("platform", pa.string()), ("comment_id", pa.string()), ("post_id", pa.string()),
    ("author_id", pa.string()), ("author_sec_uid", pa.string()), ("parent_comment_id", pa.string()),
    ("commented_at", pa.timestamp("us")), ("text", pa.string()), ("observed_at", pa.timestamp("us")),
])
_COMMENT_COLUMNS = ("post_id", "account_id", "author_id", "author_sec_uid", "parent_comment_id", "commented_at",
                    "text", "observed_at")


def write_comments(con: duckdb.DuckDBPyConnection, comments: Sequence, batch: BatchInfo, *, rejected: int,
                   before_commit=None) -> WriteResult:
    """Merge one comments file in a single transaction, keyed by (platform, comment_id).

    A comment on a post that is not stored is refused (its account is unknown); a row equal to the
    stored comment is unchanged (the crawl time alone does not make a change), so a re-import
    writes nothing. `comments` holds each comment id once (the importer refuses a conflicting repeat).
    """
    stage = pa.table({name: [getattr(c, name) for c in comments] for name in _COMMENT_STAGE.names},
                     schema=_COMMENT_STAGE)
    with transaction(con):
        con.register("comment_stage_arrow", stage)
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE comment_stage AS SELECT s.*, p.account_id FROM comment_stage_arrow s "
                "LEFT JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id"
            )
        finally:
            con.unregister("comment_stage_arrow")
        orphans = con.execute(
            "SELECT line, post_id FROM comment_stage WHERE account_id IS NULL ORDER BY line").fetchall()
        conflicts = [(line, f"内容ID {post_id} 不在库中（先导入该内容，评论按内容归属账号）") for line, post_id in orphans]
        con.execute("DELETE FROM comment_stage WHERE account_id IS NULL")
        same = " AND ".join(f"c.{col} IS NOT DISTINCT FROM s.{col}" for col in _COMMENT_COLUMNS if col != "observed_at")
        unchanged_lines = frozenset(r[0] for r in con.execute(
            f"SELECT s.line FROM comment_stage s JOIN comments c ON c.platform = s.platform "
            f"AND c.comment_id = s.comment_id WHERE {same}").fetchall())
        con.execute("DELETE FROM comment_stage WHERE line IN (SELECT unnest(?::BIGINT[]))", [sorted(unchanged_lines)])
        changed = con.execute("SELECT count(*) FROM comment_stage").fetchall()[0][0]
        seen_before = con.execute(
            "SELECT count(*) FROM import_batches WHERE sha256 = ? AND format = ?", [batch.sha256, batch.format]
        ).fetchall()[0][0]
        if changed == 0 and seen_before:
            con.execute("DROP TABLE IF EXISTS comment_stage")
            return WriteResult(None, 0, len(unchanged_lines), conflicts, unchanged_lines)
        batch_id = next_id(con, "import_batches", "batch_id")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        con.execute(
            "INSERT INTO import_batches (batch_id, file_name, file_path, sha256, format, platform, imported_at, "
            "accepted, rejected, unchanged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch_id, batch.file_name, batch.file_path, batch.sha256, batch.format, batch.platform, now, changed,
             rejected + len(conflicts), len(unchanged_lines)],
        )
        declare_changed(con, EVERYTHING)  # comments are not kept by month
        cols = ", ".join(_COMMENT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COMMENT_COLUMNS)
        con.execute(
            f"INSERT INTO comments (platform, comment_id, {cols}, batch_id) "
            f"SELECT platform, comment_id, {cols}, {batch_id} FROM comment_stage "
            f"ON CONFLICT (platform, comment_id) DO UPDATE SET {updates}, batch_id = excluded.batch_id"
        )
        if before_commit is not None:
            before_commit()
        con.execute("DROP TABLE IF EXISTS comment_stage")
    return WriteResult(batch_id, changed, len(unchanged_lines), conflicts, unchanged_lines)
