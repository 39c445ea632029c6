"""The same data through DuckDB and Spark (local mode) gives the same scores (|Δ| < 1e-9)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pytest

from govmedia.core.vocabulary import METRICS

from govmedia.core.rows import Post
from govmedia.scoring import score
from govmedia.store import export_tables
from govmedia.ingest.evaluation import Campaign, Case, Participation
from util import fill_store

pytest.importorskip("pyspark")
pytestmark = pytest.mark.slow  # a local Spark session


def _random_store(con):
    rng = random.Random(7)
    accounts = [(p, f"{p[:2]}{i}", f"{p}账号{i}", c) for p in ("weibo", "wechat", "douyin") for i, c in
                zip(range(12), ["district", "livelihood", "comprehensive"] * 4)]
    posts = []
    for i in range(3000):
        platform, account_id, _, _ = rng.choice(accounts[:-2])  # two accounts never post
        published = datetime(2020, 1, 31, 12) + timedelta(minutes=rng.randrange(0, 60 * 24 * 95))
        forms = rng.choice([("text",), ("video",), ("long_image", "image"), ("live",), ("article",), ("image",)])
        tags = rng.choice(["", "#南京战疫# ", "#全国文明城市# ", "#其他#"])
        metrics = [rng.randrange(0, 5000) if rng.random() > 0.1 else None for _ in METRICS]
        observed = rng.choice([None, published + timedelta(hours=rng.randrange(1, 400))])
        posts.append(Post(i + 2, platform, account_id, f"p{i}", published, observed,
                          rng.choice([True, True, False, None]), forms, None, f"{tags}正文{i}", None,
                          rng.choice([None, 1, 2]), tuple(metrics), ()))
        if rng.random() < 0.3:  # a second, later snapshot of the same post
            posts.append(Post(i + 2, platform, account_id, f"p{i}", published,
                              published + timedelta(hours=rng.randrange(1, 800)), posts[-1].is_original, forms,
                              None, posts[-1].text, None, posts[-1].position,
                              tuple((m or 0) + 7 for m in metrics), ()))
    # Snapshot pairs microseconds apart (late, in the window, across its end): both engines
    # must pick the same one (a key in float or whole seconds would tie them).
    sub = random.Random(11)
    for i in range(120):
        platform, account_id, _, _ = sub.choice(accounts[:-2])
        published = datetime(2020, 2, 1) + timedelta(seconds=sub.randrange(0, 86400 * 80), microseconds=sub.randrange(10**6))
        base = published + sub.choice([timedelta(hours=300), timedelta(hours=168) - timedelta(microseconds=1),
                                       timedelta(hours=100), timedelta(hours=168)])
        step = timedelta(microseconds=sub.choice([1, 7, 250]))
        for j, observed in enumerate(sub.sample([base, base + step], 2)):
            metrics = tuple(sub.randrange(0, 5000) for _ in METRICS)
            posts.append(Post(3000 + i + 2, platform, account_id, f"q{i}", published, observed, True, ("text",),
                              None, f"正文q{i}", None, 1, metrics, ()))
    by_key = {(p.platform, p.post_id, p.observed_at): p for p in posts}
    fill_store(
        con, accounts=accounts, posts=list(by_key.values()),
        cases=[Case(1, "K1", "案例", "2020-03", "信息发布类", "单位", 40.0, "weibo", ("we0", "we3"), None),
               Case(2, "K2", "案例二", "2020-02", "民生服务类", "单位", 12.5, "wechat", ("we1",), None)],
        campaigns=[Campaign(1, "C1", "战疫", datetime(2020, 2, 1).date(), datetime(2020, 3, 15).date(), ("南京战疫",)),
                   Campaign(2, "C2", "文明", datetime(2020, 3, 1).date(), datetime(2020, 4, 30).date(), ("全国文明城市",))],
        participations=[Participation(1, "C2", "douyin", "do4", "2020-04")],
    )


def test_duckdb_and_spark_give_identical_scores(con, tmp_path):
    _random_store(con)
    score(con, "2020-01", "2020-05")
    export_tables(con, tmp_path / "parquet")
    result = score(None, "2020-01", "2020-05", engine="spark", parquet_dir=tmp_path / "parquet",
                   out=tmp_path / "spark_scores")
    spark = duckdb.connect()
    spark_rows = spark.execute(
        f"SELECT * FROM read_parquet('{result.output}/*.parquet') ORDER BY platform, account_id, month").fetchall()
    duck = con.execute("SELECT * FROM monthly_scores ORDER BY platform, account_id, month").fetchall()
    assert len(spark_rows) == len(duck) == 36 * 5
    columns = [d[0] for d in con.execute("SELECT * FROM monthly_scores LIMIT 0").description]
    spark_columns = [d[0] for d in spark.execute(f"SELECT * FROM read_parquet('{result.output}/*.parquet') LIMIT 0").description]
    assert spark_columns == columns
    nonzero = 0
    for a, b in zip(duck, spark_rows):
        assert a[:5] == b[:5]
        for x, y in zip(a[5:14], b[5:14]):
            assert abs(x - y) < 1e-9
        nonzero += a[-4] > 0
        assert a[14:16] == b[14:16]  # methodology and its sha256
    assert nonzero > 50  # the comparison is not between zeros
    # The data exercised each rule: influence from cases and campaigns, several months.
    assert con.execute("SELECT count(*) FROM monthly_scores WHERE influence_raw > 0").fetchall()[0][0] > 5


def test_the_inflation_discount_is_the_same_on_spark(con, tmp_path):
    """GMI-1-D's flags (medians, MAD, snapshot pairs) and replacements run as the same expression."""
    from test_anomalies import ACCOUNTS, ordinary_posts, planted_posts

    fill_store(con, accounts=ACCOUNTS, posts=ordinary_posts(random.Random(7)) + planted_posts())
    score(con, "2020-10", "2020-11", methodology="gmi-1-discount")
    plain = score(con, "2020-10", "2020-11", methodology="gmi-1")  # for the difference below
    assert plain.rows == 6
    plain_rows = con.execute("SELECT account_id, month, reach_raw FROM monthly_scores ORDER BY 1, 2").fetchall()
    score(con, "2020-10", "2020-11", methodology="gmi-1-discount")
    export_tables(con, tmp_path / "parquet")
    result = score(None, "2020-10", "2020-11", engine="spark", parquet_dir=tmp_path / "parquet",
                   methodology="gmi-1-discount", out=tmp_path / "spark_scores")
    spark_rows = duckdb.connect().execute(
        f"SELECT account_id, month, reach_raw, total FROM read_parquet('{result.output}/*.parquet') ORDER BY 1, 2"
    ).fetchall()
    duck = con.execute("SELECT account_id, month, reach_raw, total FROM monthly_scores ORDER BY 1, 2").fetchall()
    assert [r[:2] for r in spark_rows] == [r[:2] for r in duck]
    for a, b in zip(duck, spark_rows):
        assert abs(a[2] - b[2]) < 1e-9 and abs(a[3] - b[3]) < 1e-9
    # The discount changed the flagged accounts' November, so the comparison is not of GMI-1's scores.
    changed = [(a[0], a[1]) for a, p in zip(duck, plain_rows) if abs(a[2] - p[2]) > 1e-6]
    assert ("MzA5NDAwMDAwMA==", "2020-11") in changed and ("1234567890", "2020-11") in changed
