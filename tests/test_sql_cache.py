"""The compiled scoring SQL is cached; the cache changes nothing but the time."""

from __future__ import annotations

import dataclasses

from govmedia.methodology import load_methodology
from govmedia.scoring import cache_dir, compiled_sql, score


def _scores(con):
    return con.execute("SELECT * EXCLUDE (computed_at) FROM monthly_scores ORDER BY ALL").fetchall()


def test_second_score_uses_the_cached_sql_and_gives_the_same_scores(registered, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_CACHE_DIR", str(tmp_path / "cache"))
    registered.execute("INSERT INTO posts (platform, post_id, account_id, published_at) VALUES "
                       "('weibo', 'x', '1234567890', TIMESTAMP '2020-03-01 02:00:00')")
    registered.execute("INSERT INTO snapshots (platform, post_id, observed_at, reposts, comments, age_us) "
                       "VALUES ('weibo', 'x', NULL, 30, 4, NULL)")
    score(registered, "2020-03", "2020-03")
    first = _scores(registered)
    cached = list(cache_dir().glob("gmi-*.sql"))
    assert len(cached) == 1 and "monthly" not in cached[0].name
    # A marker in the cached SQL proves that the second run reads it rather than compiling.
    cached[0].write_text("/* from the cache */ " + cached[0].read_text(), encoding="utf-8")
    registered.execute("CREATE OR REPLACE TEMP TABLE score_months AS SELECT '2020-03' AS month")
    assert compiled_sql(registered, load_methodology(None), every_post=True).startswith("/* from the cache */")
    score(registered, "2020-03", "2020-03")
    assert _scores(registered) == first
    assert registered.execute("SELECT posts FROM monthly_scores WHERE account_id = '1234567890'").fetchall() == [(1,)]


def test_another_methodology_or_schema_compiles_anew(registered, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_CACHE_DIR", str(tmp_path / "cache"))
    m = load_methodology(None)
    registered.execute("CREATE OR REPLACE TEMP TABLE score_months AS SELECT '2020-03' AS month")
    compiled_sql(registered, m)
    compiled_sql(registered, dataclasses.replace(m, window_hours=24))
    assert len(list(cache_dir().glob("gmi-*.sql"))) == 2
    registered.execute("ALTER TABLE posts ADD COLUMN extra INTEGER")
    compiled_sql(registered, m)
    assert len(list(cache_dir().glob("gmi-*.sql"))) == 3


def test_unwritable_cache_only_costs_time(registered, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GOVMEDIA_CACHE_DIR", str(blocker / "cache"))
    registered.execute("CREATE OR REPLACE TEMP TABLE score_months AS SELECT '2020-03' AS month")
    assert "ARG_MIN" in compiled_sql(registered, load_methodology(None))
