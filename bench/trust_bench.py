"""Trust benchmark (issue 16): intervals and inflation flags on a scored store.

    python bench/trust_bench.py --db demo-output/govmedia.duckdb [--from 2020-02 --to 2020-11]

Measures, in one process (as the site and the CLI run them):
1. every leaderboard of the period (each platform with accounts × the three categories) with
   intervals: cold (no compiled SQL cached on disk, nothing cached in the process), then again in
   the same process (the bootstrap of a platform serves its three categories and repeat views);
2. the inflation flags of the whole store: time, flagged posts per kind and the share of posts
   flagged (the false-positive rate, when the store holds no planted inflation);
3. whether every interval contains its published score and rank.
The store is opened read-only: nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--from", dest="start", default="2020-02")
    parser.add_argument("--to", dest="end", default="2020-11")
    args = parser.parse_args()
    os.environ["GOVMEDIA_CACHE_DIR"] = tempfile.mkdtemp(prefix="trust-bench-")  # cold: nothing compiled

    from govmedia.core.vocabulary import CATEGORIES
    from govmedia.ranking import rank
    from govmedia.ranking.anomalies import find_anomalies
    from govmedia.store import open_store

    con = open_store(args.db, read_only=True)
    platforms = [r[0] for r in con.execute("SELECT DISTINCT platform FROM accounts ORDER BY 1").fetchall()]
    for attempt in ("cold", "warm"):
        began = time.perf_counter()
        boards = rows = 0
        contained = True
        for platform in platforms:
            for category in CATEGORIES:
                board = rank(con, platform, category, args.start, args.end, intervals=True)
                boards += 1
                rows += len(board)
                contained &= all(r["score_low"] <= r["score"] <= r["score_high"]
                                 and r["rank_low"] <= r["rank"] <= r["rank_high"] for r in board)
        print(f"intervals {attempt}: {boards} leaderboards, {rows} rows in {time.perf_counter() - began:.2f} s; "
              f"every interval contains its score and rank: {contained}")
    began = time.perf_counter()
    flags = find_anomalies(con, args.start, args.end)
    seconds = time.perf_counter() - began
    posts = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    flagged = len({(f["platform"], f["post_id"]) for f in flags})
    kinds = {}
    for f in flags:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    print(f"flags: {seconds:.2f} s; {flagged} of {posts} posts flagged ({flagged / posts:.4%}); by kind {kinds}")


if __name__ == "__main__":
    main()
