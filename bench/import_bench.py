"""Import benchmark (issue 12): govmedia's import against a floor, DuckDB's own readers over the same files.

    python bench/import_bench.py --exports demo-output/exports --accounts demo-output/accounts.xlsx [--rows 200000]

Two cases, each on copies in a temporary folder, each into a new store file holding the registry:

1. **Large CSV**: one generic CSV of `--rows` posts (Chinese headers, seeded, of the registry's
   Weibo accounts) as an office's own table export would be.
   - floor: one `read_csv` of the file into a table of a DuckDB file, with the casts
     (TIMESTAMP, BOOLEAN, BIGINT), committed;
   - ours: `import_path` in this process (the library call every interface makes) and
     `govmedia import FILE --no-rescore` as a user runs it (process start included).
2. **The demo's exports** (458 files: csv, json, jsonl, xlsx of four tools):
   - floor: every file read once by DuckDB into a table (csv: `read_csv` all text, ragged rows
     padded; json/jsonl: `read_json`) and every xlsx by python-calamine; in one process.
     DuckDB's JSON reader takes weibo-crawler's nested JSON as one row per file: the floor
     undercounts its rows, which only makes the floor faster;
   - ours: `import_path` of the folder, per file one transaction, in this process.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

PY = sys.executable


def new_store(work: Path, name: str, accounts: Path):
    from govmedia.ingest.accounts import read_accounts
    from govmedia.store import open_store
    from govmedia.store.accounts import upsert_accounts

    db = work / f"{name}.duckdb"
    con = open_store(db)
    _, rows, _ = read_accounts(accounts)
    upsert_accounts(con, rows)
    return db, con, rows


def write_large_csv(path: Path, accounts, rows: int, seed: int = 12) -> None:
    rng = random.Random(seed)
    weibo = [a.account_id for a in accounts if a.platform == "weibo"]
    start = datetime(2020, 1, 1)
    words = "政务 发布 通知 服务 民生 交通 天气 疫情 防控 社区 教育 文旅 视频 直播 图解".split()
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["平台", "账号ID", "内容ID", "发布时间", "是否原创", "标题", "正文", "链接", "转发数", "评论数",
                      "点赞数", "阅读数"])
        for n in range(rows):
            account = rng.choice(weibo)
            when = start + timedelta(seconds=rng.randrange(330 * 86400))
            text = "".join(rng.choice(words) for _ in range(rng.randrange(8, 40)))
            if rng.random() < 0.3:
                text = f"#{rng.choice(words)}{rng.choice(words)}#" + text
            post_id = str(4_500_000_000_000_000 + n)
            out.writerow(["微博", account, post_id, when.strftime("%Y-%m-%d %H:%M:%S"), rng.choice(["是", "否"]),
                          "", text, f"https://m.weibo.cn/detail/{post_id}", rng.randrange(500), rng.randrange(300),
                          rng.randrange(3000), rng.randrange(100_000)])


def floor_large(path: Path, db: Path) -> tuple[float, int]:
    import duckdb

    con = duckdb.connect(str(db))
    began = time.perf_counter()
    con.execute("BEGIN")
    con.execute(f"""
        CREATE TABLE floor AS SELECT 平台, 账号ID, 内容ID, CAST(发布时间 AS TIMESTAMP) AS 发布时间,
            CAST(是否原创 = '是' AS BOOLEAN) AS 是否原创, 标题, 正文, 链接,
            CAST(转发数 AS BIGINT) AS 转发数, CAST(评论数 AS BIGINT) AS 评论数, CAST(点赞数 AS BIGINT) AS 点赞数,
            CAST(阅读数 AS BIGINT) AS 阅读数
        FROM read_csv('{path}', header = true, all_varchar = true)
    """)
    con.execute("COMMIT")
    seconds = time.perf_counter() - began
    rows = con.execute("SELECT count(*) FROM floor").fetchall()[0][0]
    con.close()
    return seconds, rows


def floor_folder(exports: Path) -> tuple[float, dict[str, float], int]:
    import duckdb
    from python_calamine import CalamineWorkbook

    con = duckdb.connect()
    per_kind: dict[str, float] = defaultdict(float)
    rows = 0
    began = time.perf_counter()
    for n, path in enumerate(sorted(p for p in exports.rglob("*") if p.is_file())):
        kind = path.suffix.lower().lstrip(".")
        started = time.perf_counter()
        if kind == "xlsx":
            book = CalamineWorkbook.from_path(str(path))
            rows += sum(len(book.get_sheet_by_name(s).to_python()) - 1 for s in book.sheet_names)
        elif kind == "csv":
            rows += _read_csv_floor(con, path, f"t{n % 4}")
        elif kind in ("json", "jsonl"):
            form = "newline_delimited" if kind == "jsonl" else "auto"
            source = f"read_json('{path}', format = '{form}', union_by_name = true, sample_size = -1)"
            con.execute(f"CREATE OR REPLACE TABLE t{n % 4} AS SELECT * FROM {source}")
            rows += con.execute(f"SELECT count(*) FROM t{n % 4}").fetchall()[0][0]
        else:
            continue
        per_kind[kind] += time.perf_counter() - started
    return time.perf_counter() - began, dict(per_kind), rows


def _read_csv_floor(con, path: Path, table: str) -> int:
    """DuckDB's read of a CSV as it is; a ragged file (weibo-crawler's) padded, which DuckDB does only
    without its parallel scanner; a GBK file transcoded to UTF-8 first (DuckDB reads UTF-8 only here)."""
    import duckdb

    plain = "all_varchar = true, header = true"
    ragged = plain + ", null_padding = true, strict_mode = false, parallel = false"
    source = path
    if not _utf8(path):
        source = path.with_name(path.name + ".utf8.csv")
        source.write_text(path.read_bytes().decode("gb18030"), encoding="utf-8")
    try:
        for options in (plain, ragged):
            try:
                con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{source}', {options})")
                return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            except duckdb.Error:
                if options == ragged:
                    raise
    finally:
        if source != path:
            source.unlink()
    return 0


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def ours_in_process(con, path: Path, rejects: Path):
    from govmedia.ingest import import_path

    began = time.perf_counter()
    summary = import_path(con, path, rejects_dir=rejects)
    return time.perf_counter() - began, summary


def ours_cli(db: Path, path: Path, rejects: Path) -> float:
    began = time.perf_counter()
    result = subprocess.run([PY, "-m", "govmedia.cli", "--db", str(db), "import", str(path), "--no-rescore",
                             "--rejects-dir", str(rejects)], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exports", required=True, type=Path)
    parser.add_argument("--accounts", required=True, type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govmedia-import-bench-"))
    try:
        # 1. One large CSV.
        big = work / "large.csv"
        db, con, accounts = new_store(work, "large", args.accounts)
        write_large_csv(big, accounts, args.rows)
        print(f"large CSV: {args.rows:,} rows, {big.stat().st_size / 1e6:.1f} MB")
        seconds_floor, rows = floor_large(big, work / "floor.duckdb")
        print(f"  floor (DuckDB read_csv with casts into a table): {seconds_floor:.2f} s, {rows:,} rows")
        seconds, summary = ours_in_process(con, big, work / "rejects-large")
        con.close()
        print(f"  import_path: {seconds:.2f} s ({seconds / seconds_floor:.1f}x floor); accepted {summary.accepted:,}, "
              f"rejected {summary.rejected:,}")
        db2, con2, _ = new_store(work, "large-cli", args.accounts)
        con2.close()
        seconds = ours_cli(db2, big, work / "rejects-large-cli")
        print(f"  govmedia import --no-rescore: {seconds:.2f} s ({seconds / seconds_floor:.1f}x floor)")

        # 2. The demo's exports.
        exports = work / "exports"
        shutil.copytree(args.exports, exports)
        files = [p for p in exports.rglob("*") if p.is_file()]
        kinds = defaultdict(int)
        for p in files:
            kinds[p.suffix.lower().lstrip(".")] += 1
        print(f"demo exports: {len(files)} files ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
        seconds_floor, per_kind, rows = floor_folder(exports)
        print(f"  floor (one DuckDB/calamine read per file): {seconds_floor:.1f} s, {rows:,} rows; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(per_kind.items())))
        _, con3, _ = new_store(work, "demo", args.accounts)
        seconds, summary = ours_in_process(con3, exports, work / "rejects-demo")
        con3.close()
        print(f"  import_path: {seconds:.1f} s ({seconds / seconds_floor:.1f}x floor); accepted {summary.accepted:,}, "
              f"rejected {summary.rejected:,}, unchanged {summary.unchanged:,}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
