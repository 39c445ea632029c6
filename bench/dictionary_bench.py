"""Benchmark of the oversight content scan (issue 6): N post texts against dictionaries of M entries.

    .venv/bin/python bench/dictionary_bench.py [--posts 1000000] [--entries 10000] [--store] [--keep DIR]

Results and method: docs/benchmarks.md, section 合规检查 Oversight (issue 6).

One run:
 1. writes two dictionary files in the product's CSV format (20 % serious errors with a
    correction, 80 % sensitive words; 2–6 Chinese characters; 5 % of the entries carry an
    exception word) — deterministic (seeded);
 2. generates N post texts from a pool of 3,500 common Chinese characters and punctuation, with
    a length mix modelled on government accounts: 60 % Weibo-like (lognormal, median 70
    characters, clipped to 5–2,000), 30 % WeChat title + digest (40–160), 10 % long texts
    (300–1,500: long Weibo, article bodies); 1 % of the texts get one dictionary word planted;
 3. times (a) loading the dictionaries and building the automaton (`load_scanner`) and (b) the
    product's scan over every text (`govmedia.oversight.dictionary.scan_texts`, title and text),
    counting the matches;
 4. with --store, also loads the N texts as posts of N/500 accounts into a fresh store and times
    `govmedia --db PATH check --at 2021-01-01 --rules RULES` end to end in a subprocess (reading
    the posts, the update/originality/response rules, the scan, saving results and findings).

This is a benchmark, not a test: it reports, it does not fail on a slow result.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from govmedia.oversight.dictionary import load_scanner, scan_texts  # noqa: E402

# Common characters (GB2312 level-1 range sampled) and punctuation.
_PUNCT = "，。、；：？！“”（）《》【】 "


def char_pool(rng: random.Random) -> str:
    chars = []
    # GB2312 level 1 (3,755 common characters) lies in rows 0xB0–0xD7.
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    rng.shuffle(chars)
    return "".join(chars[:3500])


def make_dictionaries(directory: Path, entries: int, rng: random.Random, pool: str) -> tuple[Path, Path, list[str]]:
    words: list[str] = []
    seen = set()
    while len(words) < entries:
        word = "".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    n_serious = entries // 5
    serious = directory / "serious.csv"
    sensitive = directory / "sensitive.csv"
    with serious.open("w", encoding="utf-8") as f:
        f.write("wrong,correct,note,exceptions\n")
        for i, w in enumerate(words[:n_serious]):
            exception = f"{w}{rng.choice(pool)}{rng.choice(pool)}" if i % 20 == 0 else ""
            f.write(f"{w},{w}正,bench,{exception}\n")
    with sensitive.open("w", encoding="utf-8") as f:
        f.write("word,category,note,exceptions\n")
        for i, w in enumerate(words[n_serious:]):
            exception = f"{rng.choice(pool)}{w}" if i % 20 == 0 else ""
            f.write(f"{w},bench,,{exception}\n")
    return serious, sensitive, words


def make_texts(n: int, rng: random.Random, pool: str, words: list[str]) -> list[str]:
    source = "".join(rng.choice(pool + _PUNCT * 20) for _ in range(1_000_003))
    size = len(source)
    texts = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.6:
            length = min(2000, max(5, int(rng.lognormvariate(4.25, 0.6))))
        elif kind < 0.9:
            length = rng.randint(40, 160)
        else:
            length = rng.randint(300, 1500)
        start = rng.randrange(size - length)
        text = source[start:start + length]
        if i % 100 == 0:
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(words) + text[cut:]
        texts.append(text)
    return texts


def load_store(db: Path, texts: list[str]) -> None:
    import pyarrow as pa

    from govmedia.store import open_store

    con = open_store(db)
    n = len(texts)
    accounts = max(1, n // 500)
    con.execute(
        "INSERT INTO accounts (platform, account_id, name, category, region, active) "
        "SELECT 'weibo', 'a' || i, '账号' || i, 'district', '区' || (i % 12), TRUE FROM range(?) t(i)", [accounts])
    table = pa.table({
        "post_id": [f"p{i}" for i in range(n)],
        "account_id": [f"a{i % accounts}" for i in range(n)],
        "minute": [i % (90 * 24 * 60) for i in range(n)],
        "text": texts,
    })
    con.register("bench_posts", table)
    con.execute(
        "INSERT INTO posts (platform, post_id, account_id, published_at, is_original, text) "
        "SELECT 'weibo', post_id, account_id, TIMESTAMP '2020-12-31 16:00:00' - INTERVAL 1 MINUTE * (minute + 1), "
        "TRUE, text FROM bench_posts")
    con.unregister("bench_posts")
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--store", action="store_true", help="also time `govmedia check` on a store with the posts")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work = args.keep or Path(tempfile.mkdtemp(prefix="dictbench-"))
    work.mkdir(parents=True, exist_ok=True)
    pool = char_pool(rng)
    t = time.perf_counter()
    serious, sensitive, words = make_dictionaries(work, args.entries, rng, pool)
    texts = make_texts(args.posts, rng, pool, words)
    chars = sum(map(len, texts))
    print(f"generated {args.posts:,} texts ({chars:,} characters, mean {chars / args.posts:.0f}) and "
          f"{args.entries:,} entries in {time.perf_counter() - t:.1f} s", flush=True)

    t = time.perf_counter()
    scanner = load_scanner([str(serious)], [str(sensitive)])
    build = time.perf_counter() - t
    t = time.perf_counter()
    matches = 0
    posts_with = set()
    for key, _field, _match, _excerpt in scan_texts(scanner, ((i, None, text) for i, text in enumerate(texts))):
        matches += 1
        posts_with.add(key)
    scan = time.perf_counter() - t
    print(f"load dictionaries + build automaton: {build:.2f} s", flush=True)
    print(f"scan: {scan:.1f} s  ({args.posts / scan:,.0f} posts/s, {chars / scan / 1e6:.1f} M characters/s), "
          f"{matches:,} matches in {len(posts_with):,} posts", flush=True)

    if args.store:
        db = work / "bench.duckdb"
        if db.exists():
            db.unlink()
        t = time.perf_counter()
        load_store(db, texts)
        print(f"store with {args.posts:,} posts written in {time.perf_counter() - t:.1f} s", flush=True)
        rules = work / "rules.toml"
        rules.write_text(f'[content]\nserious_errors = ["{serious.name}"]\nsensitive_words = ["{sensitive.name}"]\n',
                         encoding="utf-8")
        del texts
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        t = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "govmedia.cli", "--db", str(db), "check", "--at", "2021-01-01",
                                 "--rules", str(rules), "--summary", "--format", "csv"],
                                capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        print(f"govmedia check --at 2021-01-01 (subprocess, end to end): {wall:.1f} s, exit {result.returncode}")
        if result.returncode:
            print(result.stderr)
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        stored = con.execute("SELECT count(*) FROM check_findings").fetchall()[0][0]
        con.close()
        print(f"stored findings: {stored:,} (scan above: {matches:,})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
