"""Properties of GMI-1 that must hold for any data (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govmedia.core.vocabulary import METRICS

from govmedia.core.rows import Post
from govmedia.ranking import rank
from govmedia.store import open_store
from util import fill_store, make_store

ACCOUNTS = [("weibo", f"u{i}", f"账号{i}", "district") for i in range(4)] + \
           [("wechat", f"w{i}", f"公众号{i}", "district") for i in range(3)]

post = st.fixed_dictionaries({
    "account": st.sampled_from(ACCOUNTS),
    "day": st.integers(0, 58),  # March and April 2020
    "original": st.booleans(),
    "video": st.booleans(),
    "reposts": st.integers(0, 10**6),
    "comments": st.integers(0, 10**5),
    "reads": st.integers(0, 10**6),
    "wows": st.integers(0, 10**4),
})


def _load(con, posts):
    con.execute("DELETE FROM posts; DELETE FROM snapshots; DELETE FROM monthly_scores; DELETE FROM import_batches")
    rows = []
    for i, p in enumerate(posts):
        platform, account_id = p["account"][0], p["account"][1]
        metrics = dict.fromkeys(METRICS)
        if platform == "weibo":
            metrics.update(reposts=p["reposts"], comments=p["comments"])
        else:
            metrics.update(reads=p["reads"], wows=p["wows"])
        rows.append(Post(
            line=i + 2, platform=platform, account_id=account_id, post_id=f"p{i}",
            published_at=datetime(2020, 3, 1) + timedelta(days=p["day"]), observed_at=None,
            is_original=p["original"], forms=("video",) if p["video"] else ("text",), title=None, text=None,
            url=None, position=1, metrics=tuple(metrics[m] for m in METRICS), hashtags=(),
        ))
    fill_store(con, posts=rows, score=("2020-03", "2020-04"))
    return {(r[0], r[1], r[2]): r[3:] for r in con.execute(
        "SELECT platform, account_id, month, reach_raw, engagement_raw, innovation_raw, reach, engagement, "
        "innovation, influence, total FROM monthly_scores").fetchall()}


_con = None


def _store(tmp_path_factory):
    global _con
    if _con is None:
        _con = open_store(make_store(tmp_path_factory.mktemp("prop") / "p.duckdb", accounts=ACCOUNTS))
    return _con


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.lists(post, min_size=1, max_size=25))
def test_scores_in_range_and_best_is_exactly_100(tmp_path_factory, posts):
    scores = _load(_store(tmp_path_factory), posts)
    for values in scores.values():
        assert all(0.0 <= v <= 100.0 for v in values[3:])
    for platform in ("weibo", "wechat"):
        for month in ("2020-03", "2020-04"):
            rows = [v for (p, _, m), v in scores.items() if p == platform and m == month]
            for d in range(3):
                top = max(r[d] for r in rows)
                best = [r for r in rows if r[d] == top]
                assert all(r[3 + d] == (100.0 if top > 0 else 0.0) for r in best)


@SETTINGS
@given(st.lists(post, min_size=1, max_size=20), st.integers(0, 19), st.integers(1, 10**5))
def test_more_reposts_or_reads_never_lower_a_score(tmp_path_factory, posts, which, extra):
    con = _store(tmp_path_factory)
    before = _load(con, posts)
    index = which % len(posts)
    bumped = [dict(p) for p in posts]
    bumped[index]["reposts"] += extra
    bumped[index]["reads"] += extra
    after = _load(con, bumped)
    key_account = bumped[index]["account"][:2]
    for (platform, account_id, month), values in after.items():
        if (platform, account_id) == key_account:
            old = before[(platform, account_id, month)]
            assert all(new >= o - 1e-9 for new, o in zip(values[3:], old[3:]))


@SETTINGS
@given(st.lists(post, min_size=1, max_size=20))
def test_period_score_is_the_sum_of_monthly_totals(tmp_path_factory, posts):
    con = _store(tmp_path_factory)
    scores = _load(con, posts)
    for row in rank(con, "weibo", "district", "2020-03", "2020-04"):
        months = [scores[("weibo", row["account_id"], m)][7] for m in ("2020-03", "2020-04")]
        if row["score"] is None:  # no post in the period: listed unranked, its months score nothing
            assert row["note"] == "本期无数据" and row["rank"] is None and sum(months) == 0
            continue
        assert abs(row["score"] - sum(months)) < 1e-9
