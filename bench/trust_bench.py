"""Trust benchmark (issue 16): intervals and inflation flags on a scored store.

    python bench/trust_bench.py --db demo-output/govmedia.duckdb [--from 2020-02 --to 2020-11]
    python bench/trust_bench.py --synthetic [--seed 11]

Measures, in one process (as the site and the CLI run them):
1. every leaderboard of the period (each platform with accounts × the three categories) with
   intervals: cold (no compiled SQL cached on disk, nothing cached in the process), then again in
   the same process (the bootstrap of a platform serves its three categories and repeat views);
2. the inflation flags of the whole store: time, flagged posts per kind and the share of posts
   flagged (the false-positive rate, when the store holds no planted inflation);
3. whether every interval contains its published score and rank.
The store is opened read-only: nothing is written.

With --synthetic, a seeded store of noisier posts than the demo's is built in a temporary folder
(80 WeChat and Weibo accounts of 5–300 posts each: log-normal reads/reposts with σ 1.0–1.2, each
post's interaction rate log-normal with σ 0.6–0.7 around its account's, half of WeChat posts
observed twice) with inflation planted at several strengths; it reports the share of ordinary
posts flagged (false positives) and, per kind and strength, the share of planted posts found.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def synthetic(seed: int) -> None:
    """The false-positive rate and the detection rate on planted inflation (see the module doc)."""
    import random
    from datetime import datetime, timedelta

    from govmedia.core.rows import Post
    from govmedia.core.vocabulary import METRICS
    from govmedia.ranking.anomalies import find_anomalies
    from govmedia.store import open_store
    from govmedia.store.accounts import upsert_accounts
    from govmedia.store.writer import BatchInfo, write_posts
    from govmedia.core.rows import AccountRow

    rng = random.Random(seed)
    posts: list[Post] = []
    planted: dict[tuple[str, str], tuple[str, float]] = {}  # (platform, post_id) -> (kind, strength)

    def add(platform, account, post_id, published, hours, **metrics):
        posts.append(Post(len(posts) + 1, platform, account, post_id, published, published + timedelta(hours=hours),
                          True, ("text",), None, "内容", None, None, tuple(metrics.get(m) for m in METRICS), ()))

    strengths = (3, 5, 10, 30)
    accounts = []

    def registered(platform, prefix, base, rate, most):
        """40 accounts of the platform: (account, log-scale base, interaction rate, posts)."""
        for a in range(40):
            account = f"{prefix}{a}"
            accounts.append(AccountRow(len(accounts) + 2, platform, account, account, "livelihood", None, None, None,
                                       None, None))
            yield account, rng.uniform(*base), rng.uniform(*rate), rng.randint(5, most)

    for account, base, rate, count in registered("wechat", "w", (6, 10), (0.005, 0.05), 150):
        for i in range(count):
            published = datetime(2020, 3, 1) + timedelta(hours=rng.uniform(0, 24 * 270))
            reads = int(rng.lognormvariate(base, 1.0))
            r = rate * rng.lognormvariate(0, 0.6)
            likes, wows, shares = (int(reads * r * f + rng.random()) for f in (0.6, 0.3, 0.1))
            if rng.random() < 0.5:
                add("wechat", account, f"{account}-{i}", published, 24, reads=int(reads * rng.uniform(0.5, 0.9)),
                    likes=likes // 2, wows=wows // 2, comments=0, shares=shares // 2)
            add("wechat", account, f"{account}-{i}", published, 72, reads=reads, likes=likes, wows=wows, comments=0,
                shares=shares)
        typical = int(rng.lognormvariate(base, 0.2))
        for k, strength in enumerate(strengths):  # bought reads: interactions of a typical post
            published = datetime(2020, 11, 1) + timedelta(days=k)
            post_id = f"{account}-ratio-{strength}"
            add("wechat", account, post_id, published, 72, reads=typical * strength, likes=int(typical * rate * 0.6),
                wows=int(typical * rate * 0.3), comments=0, shares=int(typical * rate * 0.1))
            planted["wechat", post_id] = ("ratio", strength)
            post_id = f"{account}-jump-{strength}"  # a jump between two observations
            add("wechat", account, post_id, published, 24, reads=int(typical * 0.7), likes=int(typical * rate * 0.4),
                wows=0, comments=0, shares=0)
            add("wechat", account, post_id, published, 72, reads=int(typical * 0.7) * strength * 2,
                likes=int(typical * rate * 0.6), wows=0, comments=0, shares=0)
            planted["wechat", post_id] = ("jump", strength)
    for account, base, rate, count in registered("weibo", "b", (1, 6), (0.5, 5), 300):
        for i in range(count):
            published = datetime(2020, 3, 1) + timedelta(hours=rng.uniform(0, 24 * 270))
            reposts = int(rng.lognormvariate(base, 1.2))
            r = rate * rng.lognormvariate(0, 0.7)
            add("weibo", account, f"{account}-{i}", published, 24, reposts=reposts,
                comments=int(reposts * r * 0.4 + rng.random() * 2), likes=int(reposts * r * 0.6 + rng.random() * 3))
        typical = max(int(rng.lognormvariate(base, 0.2)), 20)
        for k, strength in enumerate(strengths):  # bot reposts: almost no comments or likes
            post_id = f"{account}-burst-{strength}"
            add("weibo", account, post_id, datetime(2020, 11, 1) + timedelta(days=k), 24,
                reposts=max(typical * strength, 500), comments=rng.randint(0, 2), likes=rng.randint(0, 3))
            planted["weibo", post_id] = ("repost_burst", strength)
    folder = Path(tempfile.mkdtemp(prefix="trust-synthetic-"))
    con = open_store(folder / "g.duckdb")
    upsert_accounts(con, accounts)
    write_posts(con, posts, BatchInfo("synthetic", "synthetic", str(seed), "generic"), rejected=0)
    began = time.perf_counter()
    flags = find_anomalies(con, "2020-01", "2020-12")
    seconds = time.perf_counter() - began
    con.close()
    flagged = {(f["platform"], f["post_id"]): f["kind"] for f in flags}
    ordinary = {(p.platform, p.post_id) for p in posts} - set(planted)
    false = [key for key in flagged if key not in planted]
    print(f"synthetic (seed {seed}): {len(ordinary)} ordinary posts, {len(false)} flagged "
          f"({len(false) / len(ordinary):.3%}); flags in {seconds:.2f} s")
    for kind in ("ratio", "repost_burst", "jump"):
        found = []
        for strength in strengths:
            mine = [key for key, (k, s) in planted.items() if k == kind and s == strength]
            hit = sum(flagged.get(key) == kind for key in mine)
            found.append(f"×{strength}: {hit}/{len(mine)}")
        print(f"  planted {kind}: " + ", ".join(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--synthetic", action="store_true", help="measure on a generated store with planted inflation")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--from", dest="start", default="2020-02")
    parser.add_argument("--to", dest="end", default="2020-11")
    args = parser.parse_args()
    os.environ["GOVMEDIA_CACHE_DIR"] = tempfile.mkdtemp(prefix="trust-bench-")  # cold: nothing compiled
    if args.synthetic:
        synthetic(args.seed)
        return
    if not args.db:
        parser.error("--db or --synthetic")

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
    # How the intervals sit around the published figures (from memory: no recomputation).
    from govmedia.methodology import resolve
    from govmedia.ranking.intervals import intervals

    widened = positions = total = 0
    for platform in platforms:
        for category in CATEGORIES:
            board = rank(con, platform, category, args.start, args.end, intervals=True)
            found = intervals(con, platform, args.start, args.end, resolve(con),
                              {r["account_id"]: r["score"] for r in board}, {r["account_id"]: r["rank"] for r in board})
            for r in board:
                total += 1
                widened += found[r["account_id"]]["rank_widened"]
                width = r["score_high"] - r["score_low"]
                positions += width > 0 and (r["score"] - r["score_low"]) / width > 0.9
    print(f"rank intervals widened to the published rank: {widened} of {total}; "
          f"published score in the top tenth of its interval: {positions} of {total}")
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
