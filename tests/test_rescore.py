"""Scoring months again replaces their stored rows and nothing else."""

from __future__ import annotations

from govmedia.scoring import score


def _rows(con):
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in con.execute(
        "SELECT platform, account_id, month, posts, reach_raw FROM monthly_scores").fetchall()}


def test_rescoring_replaces_the_months_rows_and_drops_unregistered_accounts(registered):
    registered.execute("INSERT INTO posts (platform, post_id, account_id, published_at) VALUES "
                       "('weibo', 'x', '1234567890', TIMESTAMP '2020-03-01 02:00:00')")
    registered.execute("INSERT INTO snapshots (platform, post_id, observed_at, reposts, age_us) "
                       "VALUES ('weibo', 'x', NULL, 30, NULL)")
    score(registered, "2020-03", "2020-04")
    first = _rows(registered)
    assert len(first) == 10 and first[("weibo", "1234567890", "2020-03")][0] == 1

    registered.execute("UPDATE snapshots SET reposts = 3000")
    registered.execute("DELETE FROM accounts WHERE account_id = '2222222222'")
    score(registered, "2020-03", "2020-03")
    second = _rows(registered)
    # The unregistered account's re-scored month is gone; its other month is left alone.
    assert ("weibo", "2222222222", "2020-03") not in second
    assert second[("weibo", "2222222222", "2020-04")] == first[("weibo", "2222222222", "2020-04")]
    assert len(second) == 9
    assert second[("weibo", "1234567890", "2020-03")][1] > first[("weibo", "1234567890", "2020-03")][1]
    assert registered.execute("SELECT count(DISTINCT computed_at) FROM monthly_scores WHERE month = '2020-03'"
                              ).fetchall() == [(1,)]


def test_scoring_some_months_gives_what_scoring_all_gives(registered):
    """Scoring one month of several aggregates only that month's snapshots (a semi-join first);
    scoring every month skips that filter. Both give the same rows."""
    from datetime import datetime, timedelta

    from govmedia.methodology import load_methodology
    from govmedia.scoring import _months_hold_most_posts

    for i, (published, age_h, reposts) in enumerate([
        (datetime(2020, 3, 5), 10, 7), (datetime(2020, 3, 6), 200, 9), (datetime(2020, 6, 2), 30, 11),
    ]):
        registered.execute("INSERT INTO posts (platform, post_id, account_id, published_at) VALUES "
                           "('weibo', ?, '1234567890', ?)", [f"p{i}", published])
        registered.execute("INSERT INTO snapshots (platform, post_id, observed_at, reposts, comments, age_us) VALUES "
                           "('weibo', ?, ?, ?, 1, ?), ('weibo', ?, NULL, 1000, 1, NULL)",
                           [f"p{i}", published + timedelta(hours=age_h), reposts, age_h * 3600 * 10**6, f"p{i}"])
    m = load_methodology(None)
    assert _months_hold_most_posts(registered, ["2020-03", "2020-04", "2020-05", "2020-06"], m)
    assert not _months_hold_most_posts(registered, ["2020-03"], m)
    score(registered, "2020-03", "2020-06")
    both = {k: v for k, v in _rows(registered).items() if k[2] == "2020-03"}
    registered.execute("DELETE FROM monthly_scores")
    score(registered, "2020-03", "2020-03")
    assert _rows(registered) == both
    assert both[("weibo", "1234567890", "2020-03")][0] == 2
