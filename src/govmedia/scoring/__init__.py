"""Scoring: compute GMI-1 monthly scores on DuckDB (the store) or on Spark (Parquet exports).

Entry point: `score(...)`, what `govmedia score` calls. The expressions live in
`expressions.py`; this module only binds them to an engine and stores the result.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from govmedia.core.errors import UserError
from govmedia.core.time import Month, Period, max_period_months, months_between
from govmedia.core.vocabulary import PLATFORMS
from govmedia.methodology import Methodology, put_in_force, resolve
from govmedia.store import settings, transaction
from govmedia.store.access import EVERYTHING, changed as declare_changed
from govmedia.store.freshness import clear_stale
from govmedia.store.users import audit

# Ibis (and the expressions built with it) is imported only where needed: `govmedia score`
# usually finds its compiled SQL in the cache and then does without Ibis (~0.5 s of imports).

SCORE_COLUMNS = (
    "platform", "account_id", "month", "posts", "originals",
    "reach_raw", "engagement_raw", "innovation_raw", "influence_raw",
    "reach", "engagement", "innovation", "influence", "total",
)
INPUT_TABLES = ("accounts", "posts", "snapshots", "cases", "case_accounts", "campaigns", "campaign_hashtags",
                "campaign_participations")

@dataclass
class ScoreResult:
    engine: str
    months: list[str]
    rows: int
    methodology: Methodology
    output: Path | None = None
    undefined: tuple[str, ...] = ()  # platforms with registered accounts the methodology has no terms for


def undefined_platforms(con: duckdb.DuckDBPyConnection, m: Methodology) -> tuple[str, ...]:
    """Platforms whose accounts are registered but which the methodology file does not define
    (a file written before the platform was added): their accounts score 0 under it."""
    registered = {r[0] for r in con.execute("SELECT DISTINCT platform FROM accounts").fetchall()}
    return tuple(p for p in PLATFORMS if p in registered and not any(m.dimensions[p].values()))


def _months_table(con: duckdb.DuckDBPyConnection, months: list[str]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE score_months (month VARCHAR)")
    if months:
        con.executemany("INSERT INTO score_months VALUES (?)", [[m] for m in months])


def duckdb_tables(con: duckdb.DuckDBPyConnection, months: list[str]):
    import ibis

    from govmedia.scoring.expressions import Tables

    _months_table(con, months)
    backend = ibis.duckdb.from_connection(con)
    tables = Tables(**{name: backend.table(name) for name in INPUT_TABLES}, months=backend.table("score_months"))
    return backend, tables


def spark_session():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise UserError("未安装 PySpark：pip install 'govmedia[spark]'（需要 Java 17）") from exc
    return (
        SparkSession.builder.master(os.environ.get("GOVMEDIA_SPARK_MASTER", "local[*]"))
        .appName("govmedia")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("GOVMEDIA_SPARK_PARTITIONS", "4"))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def spark_tables(parquet_dir: Path, months: list[str], session=None):
    import ibis

    from govmedia.scoring.expressions import Tables

    session = session or spark_session()
    backend = ibis.pyspark.connect(session)
    missing = [t for t in INPUT_TABLES if not (parquet_dir / f"{t}.parquet").exists()]
    if missing:
        raise UserError(f"{parquet_dir}: 缺少 {', '.join(m + '.parquet' for m in missing)}（先运行 govmedia db export）")
    tables = {name: backend.read_parquet(str(parquet_dir / f"{name}.parquet"), table_name=f"gm_{name}")
              for name in INPUT_TABLES}
    month_frame = session.createDataFrame([(m,) for m in months], "month string")
    month_frame.createOrReplaceTempView("gm_score_months")
    return backend, Tables(**tables, months=backend.table("gm_score_months"))


def score(
    con: duckdb.DuckDBPyConnection | None,
    start: str,
    end: str,
    *,
    methodology: str | Path | Methodology | None = None,
    engine: str = "duckdb",
    parquet_dir: str | Path | None = None,
    out: str | Path | None = None,
    spark=None,
    actor: str | None = None,
) -> ScoreResult:
    """Compute and store the monthly scores of every registered account for [start, end].

    Under the methodology given, else the one in force in the store; on DuckDB the methodology
    used is recorded as in force in the same transaction as the scores.
    """
    months = months_between(start, end)
    if engine == "duckdb":
        if con is None:
            raise UserError("DuckDB 引擎需要数据库")
        m = resolve(con, methodology)
    elif isinstance(methodology, Methodology):
        m = methodology
    else:
        from govmedia.methodology import load_methodology

        m = load_methodology(methodology)
    if engine == "duckdb":
        if con is None:
            raise UserError("DuckDB 引擎需要数据库")
        return _score_duckdb(con, months, m, actor)
    if engine == "spark":
        if parquet_dir is None:
            raise UserError("Spark 引擎需要 --parquet DIR（govmedia db export 写出的目录）")
        return _score_spark(Path(parquet_dir), months, m, Path(out) if out else None, spark)
    raise UserError(f"未知引擎 {engine!r}（可用: duckdb、spark）")


def month_runs(months) -> list[tuple[str, str]]:
    """Contiguous runs of months as (first, last), each within the period limit: what to rescore
    after an import touched `months`."""
    ordered = sorted({Month.parse(m) for m in months})
    runs: list[list[Month]] = []
    for month in ordered:
        if runs and runs[-1][-1].shift(1) == month and len(runs[-1]) < max_period_months():
            runs[-1].append(month)
        else:
            runs.append([month])
    return [(str(run[0]), str(run[-1])) for run in runs]


def rescore_months(con: duckdb.DuckDBPyConnection, months, *, methodology: str | Path | Methodology | None = None,
                   actor: str | None = None) -> list[ScoreResult]:
    """Rescore the months an import touched (one run of contiguous months at a time), under the
    methodology given, else the one in force, so that no page shows scores older than the data."""
    return [score(con, first, last, methodology=methodology, actor=actor) for first, last in month_runs(months)]


def _score_duckdb(con: duckdb.DuckDBPyConnection, months: list[str], m: Methodology, actor: str | None
                  ) -> ScoreResult:
    _months_table(con, months)
    sql = compiled_sql(con, m, every_post=_months_hold_most_posts(con, months, m))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    columns = ", ".join(SCORE_COLUMNS)
    # Bound the memory of the big aggregate (DuckDB spills beyond it); 2 GB keeps ten million
    # posts well under 3 GB resident. GOVMEDIA_MEMORY_LIMIT overrides it.
    previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{_memory_limit()}'")
    try:
        _insert_scores(con, sql, columns, m, now, actor, months)
    finally:
        con.execute(f"SET memory_limit = '{previous_limit}'")
    rows = con.execute("SELECT count(*) FROM monthly_scores WHERE month IN (SELECT month FROM score_months)"
                       ).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS score_months")
    return ScoreResult("duckdb", months, rows, m, undefined=undefined_platforms(con, m))


_SQL_SOURCES = ("scoring/expressions.py", "scoring/__init__.py", "scoring/anomalies.py", "methodology/__init__.py",
                "methodology/anomalies.py", "core/vocabulary.py", "core/time.py")


def cache_dir() -> Path:
    if os.environ.get("GOVMEDIA_CACHE_DIR"):
        return Path(os.environ["GOVMEDIA_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "govmedia"


def _sql_cache_key(con: duckdb.DuckDBPyConnection, m: Methodology, extra: str = "") -> str:
    """Everything a compiled SQL depends on: the methodology (all its fields, thresholds included),
    the code that builds the expression, the Ibis/sqlglot/DuckDB versions, the input tables'
    columns and `extra` (what else the expression was built from)."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(repr(m).encode())
    digest.update(extra.encode())
    package = Path(__file__).resolve().parent.parent
    for name in _SQL_SOURCES:
        digest.update((package / name).read_bytes())
    for dist in ("ibis-framework", "sqlglot"):
        digest.update(f"{dist}={version(dist)}".encode())
    digest.update(duckdb.__version__.encode())
    tables = ", ".join(f"'{t}'" for t in (*INPUT_TABLES, "score_months"))
    columns = con.execute(
        f"SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name IN ({tables}) "
        "ORDER BY table_name, ordinal_position").fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()


def cached_sql(con: duckdb.DuckDBPyConnection, kind: str, m: Methodology, build, extra: str = "") -> str:
    """The DuckDB SQL of the expression `build(tables)` makes over the store and `score_months`.

    Compiling needs Ibis and takes ~0.3–1 s, more with the imports; the SQL does not depend on the
    months (they are a table), so it is cached per key (see `_sql_cache_key`) and `kind`. An
    unreadable or unwritable cache only means compiling again.
    """
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'score_months'").fetchall():
        _months_table(con, [])  # compiling reads the table's schema only (and so does the key)
    path = cache_dir() / f"{kind}-{_sql_cache_key(con, m, extra)}.sql"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    import ibis

    from govmedia.scoring.expressions import Tables

    backend = ibis.duckdb.from_connection(con)
    tables = Tables(**{name: backend.table(name) for name in INPUT_TABLES}, months=backend.table("score_months"))
    sql = backend.compile(build(tables))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(sql, encoding="utf-8")
        partial.replace(path)  # atomic: a concurrent reader sees the whole file or none
    except OSError:
        pass
    return sql


def _months_hold_most_posts(con: duckdb.DuckDBPyConnection, months: list[str], m: Methodology) -> bool:
    """Whether the contiguous `months` span at least half of the stored posts' publication period
    (local time). Then filtering the snapshots to the scored posts first does not pay: at 10 M
    posts it made a whole year 1.6× slower, and it made one month of the year 1.6× faster. Only
    the plan depends on this, not the result."""
    period = Period.parse(months[0], months[-1])
    start, end = period.start_utc(), period.end_utc()
    low, high = con.execute("SELECT min(published_at), max(published_at) FROM posts").fetchall()[0]
    if low is None:
        return True
    high = high + timedelta(microseconds=1)
    overlap = min(high, end) - max(low, start)
    return overlap * 2 >= high - low


def compiled_sql(con: duckdb.DuckDBPyConnection, m: Methodology, *, every_post: bool = False) -> str:
    """The DuckDB SQL of `monthly_scores` over the store and `score_months` (`every_post`: see
    expressions.post_facts), cached (see cached_sql)."""
    from govmedia.scoring.expressions import monthly_scores

    return cached_sql(con, f"gmi-{'all' if every_post else 'some'}", m,
                      lambda t: monthly_scores(t, m, every_post=every_post))


def _memory_limit() -> str:
    value = os.environ.get("GOVMEDIA_MEMORY_LIMIT", "2GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise UserError(f"GOVMEDIA_MEMORY_LIMIT 应写成如 2GB、512MB，而不是 {value!r}")
    return value


def _insert_scores(con, sql: str, columns: str, m: Methodology, now: datetime, actor: str | None,
                   months: list[str]) -> None:
    """Replace the stored rows of the scored months with the new ones.

    Rows are replaced in place (INSERT OR REPLACE on the primary key), and only rows that the new
    result lacks (accounts no longer registered) are deleted. Deleting every stored row of the
    months and inserting them again made the commit run a checkpoint that took 2.4 s for
    240,000 rows; the upsert takes ~0.2 s.
    """
    with transaction(con):
        # What pages must forget: these months, or everything when the methodology in force changes
        # or a month gets its first scores (the period choices change).
        scored_before = {r[0] for r in con.execute(
            "SELECT DISTINCT month FROM monthly_scores WHERE month IN (SELECT month FROM score_months)").fetchall()}
        same_methodology = settings.get(con, settings.METHODOLOGY_KEY) == m.sha256
        con.execute(f"CREATE OR REPLACE TEMP TABLE new_scores AS SELECT {columns} FROM ({sql})")
        con.execute(
            """
            DELETE FROM monthly_scores WHERE month IN (SELECT month FROM score_months) AND NOT EXISTS (
                SELECT 1 FROM new_scores n WHERE n.platform = monthly_scores.platform
                    AND n.account_id = monthly_scores.account_id AND n.month = monthly_scores.month)
            """
        )
        con.execute(
            f"INSERT OR REPLACE INTO monthly_scores ({columns}, methodology, methodology_sha256, computed_at) "
            f"SELECT {columns}, ?, ?, ? FROM new_scores",
            [m.name, m.sha256, now],
        )
        rows = con.execute("SELECT count(*) FROM new_scores").fetchall()[0][0]
        con.execute("DROP TABLE new_scores")
        put_in_force(con, m)
        clear_stale(con, months)
        declare_changed(con, months if same_methodology and scored_before >= set(months) else EVERYTHING)
        audit(con, actor, "scores.compute", {"from": months[0], "to": months[-1], "rows": rows,
                                             "methodology": m.name, "methodology_sha256": m.sha256})


def _score_spark(parquet_dir: Path, months: list[str], m: Methodology, out: Path | None, spark) -> ScoreResult:
    import ibis

    from govmedia.scoring.expressions import monthly_scores

    backend, tables = spark_tables(parquet_dir, months, spark)
    expr = monthly_scores(tables, m).mutate(
        methodology=ibis.literal(m.name), methodology_sha256=ibis.literal(m.sha256),
        computed_at=ibis.literal(datetime.now(timezone.utc).replace(tzinfo=None), type="timestamp"),
    )
    target = out or parquet_dir / "spark_scores"
    session = backend._session
    # Spark writes the directory itself (no round trip through the driver).
    session.sql(backend.compile(expr)).write.mode("overwrite").parquet(str(target))
    rows = session.read.parquet(str(target)).count()
    return ScoreResult("spark", months, rows, m, output=target)
