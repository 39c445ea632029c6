"""The stored snapshot age (µs since publication) and the exact choice of a post's snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import log

import duckdb

from govmedia.core.vocabulary import METRICS

from govmedia.core.rows import Post
from govmedia.scoring import score
from govmedia.store import open_store
from govmedia.store.migrations import MIGRATIONS
from govmedia.store.writer import BatchInfo, write_posts

PUBLISHED = datetime(2020, 3, 5, 10, 0, 0)
WINDOW = timedelta(hours=168)
US = timedelta(microseconds=1)


def _post(post_id, observed, reposts, *, published=PUBLISHED, line=2):
    metrics = dict.fromkeys(METRICS)
    metrics.update(reposts=reposts, comments=0)
    return Post(line, "weibo", "1234567890", post_id, published, observed, True, ("text",), None, None, None, None,
                tuple(metrics[m] for m in METRICS), ())


def _write(con, rows, name):
    return write_posts(con, rows, BatchInfo(name, name, name, "generic"), rejected=0)


def _ages(con):
    return dict(((r[0], r[1]), r[2]) for r in con.execute(
        "SELECT post_id, observed_at, age_us FROM snapshots").fetchall())


def test_writer_stores_the_age_in_microseconds(registered):
    observed = PUBLISHED + timedelta(days=2, microseconds=1234)
    _write(registered, [_post("x", observed, 1), _post("x", None, 2)], "a")
    assert _ages(registered) == {("x", observed): (2 * 86400) * 10**6 + 1234, ("x", None): None}


def test_changed_publication_time_updates_the_stored_snapshots(registered):
    first, second = PUBLISHED + timedelta(hours=1), PUBLISHED + timedelta(hours=200)
    _write(registered, [_post("x", first, 1), _post("y", first, 5)], "a")
    # A later file moves x's publication one hour earlier and brings a new snapshot of it.
    earlier = PUBLISHED - timedelta(hours=1)
    _write(registered, [_post("x", second, 2, published=earlier)], "b")
    assert _ages(registered) == {("x", first): 2 * 3600 * 10**6, ("x", second): 201 * 3600 * 10**6,
                                 ("y", first): 3600 * 10**6}


def test_upgrade_backfills_the_age(db_path):
    """A store of schema 4 (before the age column) gets the ages of its snapshots on upgrade."""
    con = duckdb.connect(str(db_path))
    con.execute("SET TimeZone = 'UTC'")
    for script in MIGRATIONS[:4]:
        for statement in script.split(";"):
            if statement.strip():
                con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (4, ?)", [datetime(2026, 1, 1)])
    con.execute("INSERT INTO posts (platform, post_id, account_id, published_at) VALUES "
                "('weibo', 'p', 'a', ?), ('wechat', 'p', 'b', ?)", [PUBLISHED, PUBLISHED + timedelta(days=1)])
    observed = PUBLISHED + timedelta(hours=3, microseconds=7)
    con.execute("INSERT INTO snapshots (platform, post_id, observed_at, reposts) VALUES "
                "('weibo', 'p', ?, 1), ('weibo', 'p', NULL, 2), ('wechat', 'p', ?, 3)", [observed, observed])
    con.close()
    con = open_store(db_path)
    rows = con.execute("SELECT platform, reposts, age_us FROM snapshots ORDER BY reposts").fetchall()
    assert rows == [("weibo", 1, (3 * 3600) * 10**6 + 7), ("weibo", 2, None), ("wechat", 3, -(21 * 3600) * 10**6 + 7)]


def test_snapshots_a_microsecond_apart_are_told_apart(con):
    """Late snapshots 1 µs apart: the earlier counts; in the window 1 µs apart: the later counts;
    1 µs after the window's end is late. (A float key of epoch seconds tied such pairs.)"""
    late = PUBLISHED + WINDOW + timedelta(seconds=30)
    rows = [
        _post("late", late + US, 5), _post("late", late, 1000),  # the later one first: a tie would keep it
        _post("in", PUBLISHED + WINDOW - US, 3), _post("in", PUBLISHED + WINDOW - 2 * US, 7000),
        _post("edge", PUBLISHED + WINDOW, 20), _post("edge", PUBLISHED + WINDOW + US, 9000),
    ]
    con.execute("INSERT INTO accounts (platform, account_id, name, category) VALUES "
                "('weibo', '1234567890', '测试', 'district')")
    _write(con, rows, "s")
    score(con, "2020-03", "2020-03")
    posts, reach = con.execute("SELECT posts, reach_raw FROM monthly_scores").fetchall()[0]
    # Weibo reach: 0.2 ln(1+n) + 0.4 ln(1+reposts) + 0.4 ln(1+comments); counted: 1000 + 3 + 20.
    assert posts == 3
    assert abs(reach - (0.2 * log(4) + 0.4 * log(1 + 1023))) < 1e-12
