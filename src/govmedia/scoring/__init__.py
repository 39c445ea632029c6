"""Scoring: compute GMI-1 monthly scores on DuckDB (the store) or on Spark (Parquet exports).

Entry point: `score(...)`, what `govmedia score` calls. The expressions live in
`expressions.py`; this module only binds them to an engine and stores the result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from govmedia.errors import UserError
from govmedia.methodology import Methodology, load_methodology
from govmedia.scoring.expressions import Tables, monthly_scores
from govmedia.store import transaction

SCORE_COLUMNS = (
    "platform", "account_id", "month", "posts", "originals",
    "reach_raw", "engagement_raw", "innovation_raw", "influence_raw",
    "reach", "engagement", "innovation", "influence", "total",
)
INPUT_TABLES = ("accounts", "posts", "snapshots", "cases", "case_accounts", "campaigns", "campaign_hashtags",
                "campaign_participations")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(value: str, option: str = "月份") -> tuple[int, int]:
    match = _MONTH_RE.match(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UserError(f"{option} 应写成 YYYY-MM（如 2020-02），而不是 {value!r}")
    return int(match.group(1)), int(match.group(2))


def months_between(start: str, end: str) -> list[str]:
    """['2020-02', …, '2020-11'] for ('2020-02', '2020-11'), both inclusive."""
    y, m = parse_month(start, "--from")
    end_y, end_m = parse_month(end, "--to")
    if (y, m) > (end_y, end_m):
        raise UserError(f"--from {start} 晚于 --to {end}")
    months = []
    while (y, m) <= (end_y, end_m):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


@dataclass
class ScoreResult:
    engine: str
    months: list[str]
    rows: int
    methodology: Methodology
    output: Path | None = None


def duckdb_tables(con: duckdb.DuckDBPyConnection, months: list[str]):
    import ibis

    con.execute("CREATE OR REPLACE TEMP TABLE score_months (month VARCHAR)")
    con.executemany("INSERT INTO score_months VALUES (?)", [[m] for m in months])
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
) -> ScoreResult:
    """Compute and store the monthly scores of every registered account for [start, end]."""
    months = months_between(start, end)
    m = methodology if isinstance(methodology, Methodology) else load_methodology(methodology)
    if engine == "duckdb":
        if con is None:
            raise UserError("DuckDB 引擎需要数据库")
        return _score_duckdb(con, months, m)
    if engine == "spark":
        if parquet_dir is None:
            raise UserError("Spark 引擎需要 --parquet DIR（govmedia db export 写出的目录）")
        return _score_spark(Path(parquet_dir), months, m, Path(out) if out else None, spark)
    raise UserError(f"未知引擎 {engine!r}（可用: duckdb、spark）")


def _score_duckdb(con: duckdb.DuckDBPyConnection, months: list[str], m: Methodology) -> ScoreResult:
    backend, tables = duckdb_tables(con, months)
    sql = backend.compile(monthly_scores(tables, m))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    columns = ", ".join(SCORE_COLUMNS)
    # Bound the memory of the big aggregate (DuckDB spills beyond it); 2 GB keeps ten million
    # posts well under 3 GB resident. GOVMEDIA_MEMORY_LIMIT overrides it.
    previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{_memory_limit()}'")
    try:
        _insert_scores(con, sql, columns, m, now)
    finally:
        con.execute(f"SET memory_limit = '{previous_limit}'")
    rows = con.execute("SELECT count(*) FROM monthly_scores WHERE month IN (SELECT month FROM score_months)"
                       ).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS score_months")
    return ScoreResult("duckdb", months, rows, m)


def _memory_limit() -> str:
    value = os.environ.get("GOVMEDIA_MEMORY_LIMIT", "2GB").strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, re.IGNORECASE):
        raise UserError(f"GOVMEDIA_MEMORY_LIMIT 应写成如 2GB、512MB，而不是 {value!r}")
    return value


def _insert_scores(con, sql: str, columns: str, m: Methodology, now: datetime) -> None:
    with transaction(con):
        con.execute("DELETE FROM monthly_scores WHERE month IN (SELECT month FROM score_months)")
        con.execute(
            f"INSERT INTO monthly_scores ({columns}, methodology, methodology_sha256, computed_at) "
            f"SELECT {columns}, ?, ?, ? FROM ({sql})",
            [m.name, m.sha256, now],
        )


def _score_spark(parquet_dir: Path, months: list[str], m: Methodology, out: Path | None, spark) -> ScoreResult:
    import ibis

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
