"""Benchmark of `govmedia report` (issue 5) on a scored store, normally the demo's.

    .venv/bin/python bench/report_bench.py [--db demo-output/govmedia.duckdb] [--repeat 3] [--json FILE]

Each run is a child process (wall time and peak RSS from os.wait4):
  (a) the full annual report, 2020-02..2020-11 with --compare-previous-year, all four formats;
      the command itself prints the split: gathering (rankings, overview, commentary, charts)
      and the time of each writer;
  (b) one child per format (`--format docx`, … ): wall time and peak memory of that format alone
      (each includes the gathering).
Results and method: docs/benchmarks.md, section 报告 Reports (issue 5). This is a benchmark, not a
test: it reports slow results; the exit status is 1 only when a run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("docx", "pdf", "html", "xlsx")


def run_child(args: list[str]) -> dict:
    """Run in a fresh grandchild so that RUSAGE_CHILDREN is this run's own peak."""
    code = (
        "import json, os, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "w = time.perf_counter() - t\n"
        "print(json.dumps({'returncode': p.returncode, 'wall': w, 'stdout': p.stdout, 'stderr': p.stderr,\n"
        "  'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "govmedia.cli", *args],
                            capture_output=True, text=True, env=env)
    return json.loads(result.stdout)


def split(result: dict) -> dict[str, float]:
    times = {}
    match = re.search(r"数据与图表 ([\d.]+) 秒", result["stderr"])
    if match:
        times["gather"] = float(match.group(1))
    for fmt, seconds in re.findall(r"已写入 \S+?(?:report|rankings)\.(\w+)（([\d.]+) 秒）", result["stdout"]):
        times[fmt] = float(seconds)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(ROOT / "demo-output" / "govmedia.duckdb"))
    parser.add_argument("--from", dest="start", default="2020-02")
    parser.add_argument("--to", dest="end", default="2020-11")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not Path(args.db).exists():
        print(f"no store at {args.db}: run `govmedia --db {args.db} demo --no-serve` first", file=sys.stderr)
        return 1
    print(f"machine: {pyplatform.platform()}, {os.cpu_count()} CPUs, Python {pyplatform.python_version()}")
    print(f"store: {args.db} ({Path(args.db).stat().st_size / 2**20:.0f} MB), period {args.start}..{args.end}")
    base = ["--db", args.db, "report", "--from", args.start, "--to", args.end, "--compare-previous-year"]
    figures: dict = {"full": [], "formats": {}}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            result = run_child([*base, "--out", f"{tmp}/full{i}"])
            if result["returncode"]:
                print(result["stderr"], file=sys.stderr)
                failed = True
                continue
            parts = split(result)
            figures["full"].append({"wall": result["wall"], "peak_mb": result["peak_mb"], **parts})
            sizes = {p.name: p.stat().st_size for p in Path(f"{tmp}/full{i}").iterdir()}
            print(f"full report, run {i + 1}: {result['wall']:.2f} s wall, peak RSS {result['peak_mb']:.0f} MB; "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
                  + "; sizes " + ", ".join(f"{n} {s / 1024:.0f} KB" for n, s in sorted(sizes.items())))
        for fmt in FORMATS:
            runs = []
            for i in range(args.repeat):
                result = run_child([*base, "--format", fmt, "--out", f"{tmp}/{fmt}{i}"])
                if result["returncode"]:
                    print(result["stderr"], file=sys.stderr)
                    failed = True
                    continue
                runs.append({"wall": result["wall"], "peak_mb": result["peak_mb"], **split(result)})
            figures["formats"][fmt] = runs
            if runs:
                print(f"--format {fmt}: median {statistics.median(r['wall'] for r in runs):.2f} s wall "
                      f"(writer {statistics.median(r.get(fmt, 0) for r in runs):.2f} s), "
                      f"peak RSS {max(r['peak_mb'] for r in runs):.0f} MB")
    if figures["full"]:
        walls = [r["wall"] for r in figures["full"]]
        print(f"full report: median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"peak RSS {max(r['peak_mb'] for r in figures['full']):.0f} MB; target < 30 s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
