"""Score and rank intervals (issue 16): they contain the published score and rank, reproduce with
the fixed seed, follow writes, and mark neighbours that do not differ significantly."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from govmedia.core.rows import Post
from govmedia.core.vocabulary import METRICS
from govmedia.ranking import rank
from govmedia.store.memo import forget

from util import make_store, open_made

# Eight Weibo accounts of one category: four far apart, two pairs nearly equal.
LEVELS = {"A": 400, "B": 120, "C": 60, "D": 59, "E": 30, "F": 29.5, "G": 8, "H": 2}


def _posts(seed: int = 3) -> list[Post]:
    rng = random.Random(seed)
    posts, line = [], 1
    for account, level in LEVELS.items():
        for month in (2, 3):
            for i in range(25):
                published = datetime(2020, month, 2, 2) + timedelta(hours=20 * i)
                reposts = int(rng.expovariate(1 / level))
                metrics = {"reposts": reposts, "comments": int(reposts * rng.uniform(0.3, 0.8)), "likes": reposts * 2}
                posts.append(Post(line, "weibo", account, f"{account}{month}-{i}", published,
                                  published + timedelta(hours=30), True, ("text",), None, "内容", None, None,
                                  tuple(metrics.get(m) for m in METRICS), ()))
                line += 1
    return posts


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("intervals")
    return make_store(folder / "g.duckdb", accounts=[("weibo", a, f"账号{a}", "district") for a in LEVELS],
                      posts=_posts(), score=("2020-02", "2020-03"))


def test_intervals_contain_the_published_score_and_rank_and_reproduce(store):
    with open_made(store, read_only=True) as con:
        forget()
        first = rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
        forget()
        again = rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
        plain = rank(con, "weibo", "district", "2020-02", "2020-03")
    assert first == again  # the fixed seed: the same intervals on every run
    assert [(r["account_id"], r["score"], r["rank"]) for r in first] == \
        [(r["account_id"], r["score"], r["rank"]) for r in plain]
    for row in first:
        assert row["score_low"] <= row["score"] <= row["score_high"]
        assert row["rank_low"] <= row["rank"] <= row["rank_high"]
    widths = {r["account_id"]: r["score_high"] - r["score_low"] for r in first}
    assert all(w > 0 for a, w in widths.items() if a != "A"), widths  # resampling moves every score


def test_neighbours_that_do_not_differ_are_marked(store):
    with open_made(store, read_only=True) as con:
        rows = {r["account_id"]: r for r in rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)}
    assert rows["A"]["same_as"] is None and rows["A"]["rank"] == 1
    # C and D (60 vs 59 reposts a post on average) cannot be told apart; A and B can.
    lower = max(rows["C"], rows["D"], key=lambda r: r["rank"])
    higher = min(rows["C"], rows["D"], key=lambda r: r["rank"])
    assert lower["same_as"] == higher["rank"]
    assert rows["B"]["same_as"] is None


def test_intervals_follow_a_rescore(store, tmp_path):
    import shutil

    from govmedia.scoring import score
    from govmedia.store import open_store

    copy = tmp_path / "copy.duckdb"
    shutil.copy(store, copy)
    con = open_store(copy)
    try:
        before = rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
        score(con, "2020-02", "2020-03", methodology="gmi-1-discount")
        con.execute("UPDATE monthly_scores SET total = total / 2, influence = influence")  # a visible change
        after = rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
    finally:
        con.close()
    for row in after:
        assert row["score_low"] <= row["score"] <= row["score_high"]
    assert [r["score"] for r in after] != [r["score"] for r in before]


def test_whatif_weights_and_top3_stability(store):
    from govmedia.core.errors import FieldError
    from govmedia.methodology import builtin
    from govmedia.ranking.whatif import moved, parse_weights, top3_stability, whatif

    with pytest.raises(FieldError, match="之和应为 1"):
        parse_weights("0.5,0.3,0.15,0.15")
    with pytest.raises(FieldError, match="4 个非负数"):
        parse_weights("0.5,0.5")
    m = builtin()
    for d in m.total_weights:
        for delta in (0.05, -0.05):
            w = moved(m.total_weights, d, delta)
            assert abs(sum(w.values()) - 1) < 1e-12 and abs(w[d] - m.total_weights[d] - delta) < 1e-12
    with open_made(store, read_only=True) as con:
        same = whatif(con, "2020-02", "2020-03", weights=dict(m.total_weights))
        assert same and all(r["change"] == 0 and abs(r["score_then"] - r["score"]) < 1e-9 for r in same)
        # All weight on innovation (nobody's posts are innovative): everyone scores 0 and ties.
        flat = whatif(con, "2020-02", "2020-03", weights=parse_weights("0,0,1,0"))
        assert {r["rank_then"] for r in flat} == {1}
        stability = top3_stability(con, "2020-02", "2020-03", m)
    (board,) = stability
    assert board["moves"] == 8 and board["top"][0] == "账号A" and board["stable"] + len(board["changed"]) == 8
