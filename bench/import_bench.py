"""Import benchmark (issue 12): `govmedia import` of a folder of exports against a floor, DuckDB's
own reader over the same files.

    python bench/import_bench.py --exports demo-output/exports --accounts demo-output/accounts.xlsx

- **ours**: a new store in a temporary folder, the registry imported, then `govmedia import EXPORTS
  --no-rescore` (rejects to a folder of their own), timed as a whole; also per format.
- **floor**: for every CSV, JSON and JSONL file, one DuckDB read of the file (`read_csv` with all
  columns as text and the header, `read_json` with format auto) into a table, in one process. XLSX
  files are not in the floor (DuckDB's excel extension cannot be installed here) and are listed
  apart.

Works on copies only (the exports folder is copied, since imports write rejects beside their inputs
unless told otherwise).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PY = sys.executable


def floor(exports: Path) -> tuple[float, dict[str, float], int]:
    import duckdb

    con = duckdb.connect()
    per_kind: dict[str, float] = defaultdict(float)
    rows = 0
    began = time.perf_counter()
    for n, path in enumerate(sorted(p for p in exports.rglob("*") if p.is_file())):
        kind = path.suffix.lower().lstrip(".")
        if kind not in ("csv", "json", "jsonl"):
            continue
        started = time.perf_counter()
        if kind == "csv":
            source = f"read_csv('{path}', all_varchar = true, header = true, ignore_errors = true, strict_mode = false)"
        else:
            source = f"read_json('{path}', format = '{'newline_delimited' if kind == 'jsonl' else 'auto'}', " \
                     f"union_by_name = true, sample_size = -1)"
        con.execute(f"CREATE OR REPLACE TABLE t{n % 4} AS SELECT * FROM {source}")
        rows += con.execute(f"SELECT count(*) FROM t{n % 4}").fetchall()[0][0]
        per_kind[kind] += time.perf_counter() - started
    return time.perf_counter() - began, dict(per_kind), rows


def ours(exports: Path, accounts: Path, work: Path) -> tuple[float, dict]:
    db = work / "bench.duckdb"
    subprocess.run([PY, "-m", "govmedia.cli", "--db", str(db), "accounts", "import", str(accounts)],
                   check=True, capture_output=True)
    rejects = work / "rejects"
    rejects.mkdir()
    began = time.perf_counter()
    result = subprocess.run([PY, "-m", "govmedia.cli", "--db", str(db), "import", str(exports), "--no-rescore",
                             "--json", "--rejects-dir", str(rejects)], capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    return elapsed, json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exports", required=True, type=Path)
    parser.add_argument("--accounts", required=True, type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govmedia-import-bench-"))
    try:
        exports = work / "exports"
        shutil.copytree(args.exports, exports)
        files = [p for p in exports.rglob("*") if p.is_file()]
        kinds = defaultdict(int)
        for p in files:
            kinds[p.suffix.lower().lstrip(".")] += 1
        print(f"files: {len(files)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
        seconds, per_kind, rows = floor(exports)
        print(f"floor (DuckDB read of every csv/json/jsonl file): {seconds:.1f} s, {rows:,} rows; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(per_kind.items())))
        seconds, report = ours(exports, args.accounts, work)
        print(f"govmedia import --no-rescore: {seconds:.1f} s; accepted {report['accepted']:,}, "
              f"rejected {report['rejected']:,}, unchanged {report['unchanged']:,}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
