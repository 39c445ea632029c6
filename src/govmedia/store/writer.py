"""Writing validated rows into the store, one file per transaction.

Posts are keyed by (platform, post_id); snapshots by (platform, post_id, observed_at), where a
NULL observed_at is the post's single undated snapshot. Rows that would change nothing are
left alone, so importing the same file twice leaves the store exactly as after the first time.

Merging sources (the same post from weibo-crawler and MediaCrawler, or MediaCrawler's csv and
json): the store after importing a set of files is the same whatever their order.
- A post attribute takes the value with the greatest merge key: a value read from the source's own
  column ("native") before one the importer derived (e.g. Douyin's originality, forms guessed from
  the text), then the newer observation (an undated row is the oldest), then the larger MD5 of the
  value, a deterministic tie-break. A missing value has no key and never overwrites a known one.
  Each post keeps the parts of its values' keys that the values do not hold (`posts.merge_native`,
  a bit per attribute, and `posts.merge_<attribute>`, the observation time); the hash is taken
  again from the stored value when a later file merges. So a file of new posts writes no key.
- A snapshot (one post, one observation time) keeps, per metric, the known value; of two known
  values the larger (counts only grow; two sources' undated rows are one snapshot).
- Topics are the union of every source's.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govmedia.core.vocabulary import METRICS

from govmedia.core.rows import MERGED, Post, native_bits
from govmedia.core.time import UTC_OFFSET, Month
from govmedia.store import in_transaction, transaction
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
        ("native", pa.int16()),  # core.rows.native_bits
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
        columns["native"].append(native_bits(p.native))
    return pa.table(columns, schema=_STAGE_SCHEMA)


# MERGED (core.rows): post attributes merged across sources; account_id is not merged (another
# account is a conflict).
_NO_TIME = "0" * 20  # an undated observation sorts before every dated one
_TIME_FORMAT = "%Y%m%d%H%M%S%f"  # 20 digits: as text, in the order of time
_MERGE_COLUMNS = ("merge_native", *(f"merge_{a}" for a in MERGED))


def _literals(values) -> str:
    """SQL string literals (quotes doubled) of ids from the file."""
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _missing_sql(attribute: str, table: str) -> str:
    value = f"{table}.{attribute}"
    return f"{value} IS NULL" + (f" OR len({value}) = 0" if attribute == "forms" else "")


def _key_of(attribute: str, table: str, native: str, observed_key: str) -> str:
    """The merge key of `table`'s value of `attribute` (native before derived, newer before older,
    then a hash of the value) from SQL giving its native bit set and its observation as text; NULL
    for a missing value, which therefore never wins."""
    return (f"CASE WHEN {_missing_sql(attribute, table)} THEN NULL ELSE "
            f"(CASE WHEN {native} & {1 << MERGED.index(attribute)} <> 0 THEN '2' ELSE '1' END) || '|' || "
            f"{observed_key} || '|' || md5({table}.{attribute}::VARCHAR) END")


def _key_sql(attribute: str, table: str = "stage") -> str:
    """The merge key of a stage row's value."""
    return _key_of(attribute, table, f"{table}.native", f"{table}.observed_key")


def _stored_key_sql(attribute: str, table: str = "p") -> str:
    """The merge key of a stored value, from the parts the post keeps and the value itself."""
    return _key_of(attribute, table, f"coalesce({table}.merge_native, 0)",
                   f"coalesce(strftime({table}.merge_{attribute}, '{_TIME_FORMAT}'), '{_NO_TIME}')")


def _parts_sql(table: str) -> str:
    """The columns `merge_native, merge_<attribute>...` from the keys `k_<attribute>` of `table`'s rows."""
    native = " + ".join(f"(CASE WHEN starts_with({table}.k_{a}, '2') THEN {1 << i} ELSE 0 END)"
                        for i, a in enumerate(MERGED))
    times = ", ".join(f"CASE WHEN {table}.k_{a} IS NULL OR substr({table}.k_{a}, 3, 20) = '{_NO_TIME}' THEN NULL "
                      f"ELSE strptime(substr({table}.k_{a}, 3, 20), '{_TIME_FORMAT}') END" for a in MERGED)
    return f"CAST({native} AS SMALLINT), {times}"


def _with_parts(stage: pa.Table) -> pa.Table:
    """`stage` with the key parts a post keeps (`merge_native`, `merge_<attribute>`) of each row, by
    Arrow's kernels when each post is one row: no key is built, and a plain insert binds in half
    the time of one computing them (2 ms a file less)."""
    observed = stage["observed_at"]
    known = np.zeros(stage.num_rows, dtype=np.int16)
    parts = {}
    for i, a in enumerate(MERGED):
        column = stage[a]
        missing = pc.is_null(column)
        if a == "forms":
            missing = pc.or_(missing, pc.equal(pc.list_value_length(column), 0))
        missing = pc.fill_null(missing, True)
        known |= np.where(missing.to_numpy(zero_copy_only=False), 0, 1 << i).astype(np.int16)
        parts[f"merge_{a}"] = pc.if_else(missing, pa.scalar(None, observed.type), observed)
    native = stage["native"].to_numpy(zero_copy_only=False).astype(np.int16) & known
    stage = stage.append_column("merge_native", pa.array(native, pa.int16()))
    for name, column in parts.items():
        stage = stage.append_column(name, column)
    return stage


def _keyed(table: str) -> str:
    """`table` with the observation part of the merge keys, formatted once per row."""
    return (f"(SELECT *, coalesce(strftime(observed_at, '{_TIME_FORMAT}'), '{_NO_TIME}') AS observed_key "
            f"FROM {table}) AS {table}")


def write_posts(
    con: duckdb.DuckDBPyConnection,
    posts: Sequence[Post] | pa.Table,
    batch: BatchInfo,
    *,
    rejected: int,
    before_commit=None,
    seen: bool | None = None,
    single: bool | None = None,
) -> WriteResult:
    """Merge one file's valid rows in a single transaction; see the module docstring.

    `posts` are Post rows or their stage table (the columns of `_STAGE_SCHEMA`). A file whose posts are all new
    (the common case: a crawl's new posts) is inserted without reading what the store holds, which
    costs a scan of the large tables per file; a post found stored makes that attempt fail on the
    posts key and the file is merged instead. `seen`: whether these bytes were imported before, if
    the caller knows (a statement less per file; a wrong False costs only the failed attempt).
    `single`: whether each post is once in `posts` (`each_post_once`), if the caller knows."""
    stage = posts if isinstance(posts, pa.Table) else _stage_table(posts)
    if not in_transaction(con) and not (_seen(con, batch) if seen is None else seen):
        single = each_post_once(stage) if single is None else single
        try:
            with transaction(con):
                if single:
                    return _insert_single(con, stage, batch, rejected, before_commit)
                return _insert_new(con, stage, batch, rejected, before_commit)
        except duckdb.ConstraintException:
            pass  # some of these posts are stored: merge
        finally:
            if single:  # it makes no temp tables: six statements less per file
                with suppress(duckdb.Error):  # after a rollback (its own unregistering was refused)
                    con.unregister("stage_arrow")
            else:
                _drop_temp(con)
    with transaction(con):
        try:
            return _merge(con, stage, batch, rejected, before_commit)
        finally:
            _drop_temp(con)


def _seen(con: duckdb.DuckDBPyConnection, batch: BatchInfo) -> bool:
    return bool(con.execute("SELECT count(*) FROM import_batches WHERE sha256 = ? AND format = ?",
                            [batch.sha256, batch.format]).fetchall()[0][0])


def _staged(con: duckdb.DuckDBPyConnection, stage: pa.Table) -> None:
    """Temp tables `stage` (the rows with their merge keys) and `file_posts` (each post's best value
    of every attribute in this file, and its topics)."""
    con.register("stage_arrow", stage)
    try:
        keys = ", ".join(f"{_key_sql(a, 'stage_arrow')} AS k_{a}" for a in MERGED)
        con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS SELECT * EXCLUDE (observed_key), {keys} "
                    f"FROM {_keyed('stage_arrow')}")
    finally:
        con.unregister("stage_arrow")
    best = ", ".join(f"arg_max({a}, k_{a}) AS {a}, max(k_{a}) AS k_{a}" for a in MERGED)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE file_posts AS
        SELECT platform, post_id, any_value(account_id) AS account_id, {best},
               list(DISTINCT h) FILTER (WHERE h IS NOT NULL) AS hashtags
        FROM (SELECT *, unnest(CASE WHEN len(hashtags) = 0 THEN [NULL] ELSE hashtags END) AS h FROM stage)
        GROUP BY platform, post_id
    """)


def _new_batch(con, batch: BatchInfo, accepted: int, rejected: int, unchanged: int) -> int:
    """The file's batch row; its id is max+1 (as `store.next_id`), taken by the insert itself: one
    statement a file less."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return con.execute(
        """
        INSERT INTO import_batches (batch_id, file_name, file_path, sha256, format, platform,
            imported_at, accepted, rejected, unchanged)
        SELECT coalesce(max(batch_id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM import_batches
        RETURNING batch_id
        """,
        [batch.file_name, batch.file_path, batch.sha256, batch.format, batch.platform,
         now, accepted, rejected, unchanged],
    ).fetchall()[0][0]


def each_post_once(stage: pa.Table) -> bool:
    """Whether no post is twice in the stage rows."""
    posts = pa.table({"platform": stage["platform"], "post_id": stage["post_id"]})
    return posts.group_by(["platform", "post_id"], use_threads=False).aggregate([]).num_rows == stage.num_rows


def _insert_new(con, stage: pa.Table, batch: BatchInfo, rejected: int, before_commit) -> WriteResult:
    """Every post of the file is new, some observed more than once: plain inserts (the posts key
    refuses a stored one)."""
    total = stage.num_rows
    _staged(con, stage)
    batch_id = _new_batch(con, batch, total, rejected, 0)
    post_cols = ", ".join(_POST_COLUMNS)
    con.execute(f"INSERT INTO posts (platform, post_id, {post_cols}, batch_id, {', '.join(_MERGE_COLUMNS)}) "
                f"SELECT platform, post_id, {post_cols}, {batch_id}, {_parts_sql('file_posts')} FROM file_posts")
    metric_max = ", ".join(f"max(s.{m})" for m in METRICS)
    con.execute(f"""
        INSERT INTO snapshots (platform, post_id, observed_at, {", ".join(METRICS)}, batch_id, age_us)
        SELECT s.platform, s.post_id, s.observed_at, {metric_max}, {batch_id},
               epoch_us(s.observed_at) - epoch_us(any_value(p.published_at))
        FROM stage s JOIN file_posts p ON p.platform = s.platform AND p.post_id = s.post_id
        GROUP BY s.platform, s.post_id, s.observed_at
    """)
    con.execute("INSERT INTO post_hashtags SELECT DISTINCT platform, post_id, unnest(hashtags) FROM file_posts")
    hours = [h for (h,) in con.execute("SELECT DISTINCT date_trunc('hour', published_at) FROM file_posts").fetchall()]
    return _inserted(con, batch_id, total, frozenset(str(Month.of(h)) for h in hours if h is not None), before_commit)


def _inserted(con, batch_id: int, total: int, months: frozenset[str], before_commit) -> WriteResult:
    """The end of a file of new posts: the months of their publication are stale and changed."""
    if months:
        mark_stale(con, months)
        declare_changed(con, months)
    if before_commit is not None:
        before_commit()
    return WriteResult(batch_id, total, 0, [], frozenset(), months)


def _insert_single(con, stage: pa.Table, batch: BatchInfo, rejected: int, before_commit) -> WriteResult:
    """New posts, each observed once in the file (the usual crawl): straight from the file's rows."""
    total = stage.num_rows
    batch_id = _new_batch(con, batch, total, rejected, 0)
    con.register("stage_arrow", _with_parts(stage))
    try:
        post_cols = ", ".join((*_POST_COLUMNS, *_MERGE_COLUMNS))
        con.execute(f"INSERT INTO posts (platform, post_id, {post_cols}, batch_id) "
                    f"SELECT platform, post_id, {post_cols}, {batch_id} FROM stage_arrow")
        con.execute(f"""
            INSERT INTO snapshots (platform, post_id, observed_at, {", ".join(METRICS)}, batch_id, age_us)
            SELECT platform, post_id, observed_at, {", ".join(METRICS)}, {batch_id},
                   epoch_us(observed_at) - epoch_us(published_at)
            FROM stage_arrow
        """)
        if pc.max(pc.list_value_length(stage["hashtags"])).as_py():  # a statement less for a file without topics
            con.execute("INSERT INTO post_hashtags SELECT DISTINCT platform, post_id, unnest(hashtags) FROM stage_arrow "
                        "WHERE len(hashtags) > 0")
    finally:
        with suppress(duckdb.TransactionException):  # an aborted transaction: unregistered after its rollback
            con.unregister("stage_arrow")
    # Beijing months (Month.of) by the kernels: a Python call per distinct hour cost more than the inserts.
    local = pc.add(stage["published_at"], pa.scalar(UTC_OFFSET, pa.duration("us")))
    months = frozenset(pc.unique(pc.drop_null(pc.strftime(local, format="%Y-%m"))).to_pylist())
    return _inserted(con, batch_id, total, months, before_commit)


def _merge(con, stage: pa.Table, batch: BatchInfo, rejected: int, before_commit) -> WriteResult:
    """Some of the file's posts may be stored: merge attribute by attribute (module docstring)."""
    _staged(con, stage)
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

    # What the store holds of these posts (their values and merge keys), fetched once: joining the
    # whole tables in the merge below costs a full scan per file.
    # The file's accounts and platforms as literals: DuckDB then skips the other accounts' rows
    # (and their texts) instead of reading the whole table for every file.
    owners = con.execute("SELECT list(DISTINCT platform), list(DISTINCT account_id) FROM file_posts").fetchall()[0]
    mine = (f"platform IN ({_literals(owners[0])}) AND account_id IN ({_literals(owners[1])})"
            if owners[0] else "FALSE")
    stored_keys = ", ".join(f"{_stored_key_sql(a)} AS k_{a}" for a in MERGED)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stored AS
        SELECT p.platform, p.post_id, {", ".join(f"p.{a}" for a in MERGED)}, p.batch_id, {stored_keys}
        FROM file_posts f
        JOIN (SELECT * FROM posts WHERE {mine}) p ON p.platform = f.platform AND p.post_id = f.post_id
    """)
    wins = {a: f"(f.k_{a} IS NOT NULL AND (o.k_{a} IS NULL OR f.k_{a} > o.k_{a}))" for a in MERGED}
    chosen = ", ".join(f"CASE WHEN {wins[a]} THEN f.{a} ELSE o.{a} END AS {a}, "
                       f"CASE WHEN {wins[a]} THEN f.k_{a} ELSE o.k_{a} END AS k_{a}" for a in MERGED)
    differs = " OR ".join(f"(CASE WHEN {wins[a]} THEN f.{a} ELSE o.{a} END) IS DISTINCT FROM o.{a}" for a in MERGED)
    keys_differ = " OR ".join(f"(CASE WHEN {wins[a]} THEN f.k_{a} ELSE o.k_{a} END) IS DISTINCT FROM o.k_{a}"
                              for a in MERGED)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE merged AS
        SELECT f.platform, f.post_id, f.account_id, {chosen},
               o.post_id IS NULL OR {differs} AS changed,
               o.post_id IS NULL OR {keys_differ} AS keys_changed,
               o.published_at AS published_before, o.batch_id AS batch_before
        FROM file_posts f
        LEFT JOIN stored o ON o.platform = f.platform AND o.post_id = f.post_id
    """)

    # Snapshots: per (post, observation time) each metric's known value, the larger of two.
    metric_max = ", ".join(f"max({m}) AS {m}" for m in METRICS)
    merged_metrics = ", ".join(
        f"CASE WHEN n.{m} IS NULL THEN s.{m} WHEN s.{m} IS NULL THEN n.{m} ELSE greatest(n.{m}, s.{m}) END AS {m}"
        for m in METRICS)
    snapshot_differs = " OR ".join(
        f"(CASE WHEN n.{m} IS NULL THEN s.{m} WHEN s.{m} IS NULL THEN n.{m} ELSE greatest(n.{m}, s.{m}) END)"
        f" IS DISTINCT FROM n.{m}" for m in METRICS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE merged_snapshots AS
        SELECT s.platform, s.post_id, s.observed_at, {merged_metrics},
               n.post_id IS NULL OR {snapshot_differs} AS changed
        FROM (SELECT platform, post_id, observed_at, {metric_max} FROM stage GROUP BY ALL) s
        LEFT JOIN snapshots n ON n.platform = s.platform AND n.post_id = s.post_id
            AND n.observed_at IS NOT DISTINCT FROM s.observed_at
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_hashtags AS
        SELECT DISTINCT f.platform, f.post_id, unnest(f.hashtags) AS hashtag FROM file_posts f
    """)
    con.execute("""
        DELETE FROM new_hashtags USING post_hashtags h
        WHERE h.platform = new_hashtags.platform AND h.post_id = new_hashtags.post_id
          AND h.hashtag = new_hashtags.hashtag
    """)

    # A line is unchanged when its post, its snapshot and its topics are stored as they would be now.
    unchanged_lines = frozenset(r[0] for r in con.execute("""
        SELECT s.line FROM stage s
        JOIN merged p ON p.platform = s.platform AND p.post_id = s.post_id
        JOIN merged_snapshots n ON n.platform = s.platform AND n.post_id = s.post_id
            AND n.observed_at IS NOT DISTINCT FROM s.observed_at
        WHERE NOT p.changed AND NOT n.changed
          AND NOT EXISTS (SELECT 1 FROM new_hashtags t WHERE t.platform = s.platform AND t.post_id = s.post_id)
    """).fetchall())
    total = con.execute("SELECT count(*) FROM stage").fetchall()[0][0]
    unchanged = len(unchanged_lines)
    changed = total - unchanged

    seen_before = _seen(con, batch)
    keys_only = con.execute("SELECT count(*) FROM merged WHERE keys_changed AND NOT changed").fetchall()[0][0]
    if changed == 0 and seen_before and not keys_only:
        return WriteResult(None, 0, unchanged, conflict_list, unchanged_lines)

    batch_id = _new_batch(con, batch, changed, rejected + len(conflict_list), unchanged)
    post_cols = ", ".join(_POST_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_POST_COLUMNS, "batch_id", *_MERGE_COLUMNS))
    con.execute(f"""
        INSERT INTO posts (platform, post_id, {post_cols}, batch_id, {", ".join(_MERGE_COLUMNS)})
        SELECT platform, post_id, {post_cols}, CASE WHEN changed THEN {batch_id} ELSE batch_before END,
               {_parts_sql("merged")}
        FROM merged WHERE changed OR keys_changed
        ON CONFLICT (platform, post_id) DO UPDATE SET {updates}
    """)
    # Posts whose publication time changed: their stored snapshots' ages change too.
    moved = con.execute(
        "SELECT published_before, published_at FROM merged WHERE changed AND published_before IS NOT NULL "
        "AND published_before <> published_at").fetchall()
    if moved:
        con.execute("""
            UPDATE snapshots SET age_us = epoch_us(snapshots.observed_at) - epoch_us(m.published_at)
            FROM merged m
            WHERE snapshots.platform = m.platform AND snapshots.post_id = m.post_id AND m.changed
              AND m.published_before <> m.published_at AND snapshots.observed_at IS NOT NULL
        """)
    metric_cols = ", ".join(METRICS)
    con.execute("""
        DELETE FROM snapshots USING merged_snapshots n
        WHERE n.changed AND snapshots.platform = n.platform AND snapshots.post_id = n.post_id
          AND snapshots.observed_at IS NOT DISTINCT FROM n.observed_at
    """)
    con.execute(f"""
        INSERT INTO snapshots (platform, post_id, observed_at, {metric_cols}, batch_id, age_us)
        SELECT n.platform, n.post_id, n.observed_at, {", ".join(f"n.{m}" for m in METRICS)}, {batch_id},
               epoch_us(n.observed_at) - epoch_us(p.published_at)
        FROM merged_snapshots n JOIN merged p ON p.platform = n.platform AND p.post_id = n.post_id
        WHERE n.changed
    """)
    con.execute("INSERT INTO post_hashtags SELECT platform, post_id, hashtag FROM new_hashtags")

    # The scores of the months a changed post was and is published in are now stale.
    touched = con.execute("""
        SELECT published_at, published_before FROM merged WHERE changed
        UNION ALL
        SELECT p.published_at, NULL FROM merged p WHERE NOT p.changed AND (
            EXISTS (SELECT 1 FROM merged_snapshots n WHERE n.changed AND n.platform = p.platform
                    AND n.post_id = p.post_id)
            OR EXISTS (SELECT 1 FROM new_hashtags t WHERE t.platform = p.platform AND t.post_id = p.post_id))
    """).fetchall()
    months = frozenset(str(Month.of(moment)) for pair in touched for moment in pair if moment is not None)
    if months:
        mark_stale(con, months)
        declare_changed(con, months)
    if before_commit is not None:
        before_commit()
    return WriteResult(batch_id, changed, unchanged, conflict_list, unchanged_lines, months)


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    con.unregister("stage_arrow")
    for table in ("stage", "file_posts", "stored", "merged", "merged_snapshots", "new_hashtags"):
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
        batch_id = _new_batch(con, batch, changed, rejected + len(conflicts), len(unchanged_lines))
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
