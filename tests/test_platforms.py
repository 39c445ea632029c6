"""The platforms the 2020 white paper did not cover (issue 12, point 3): Xiaohongshu, Bilibili and
Kuaishou from MediaCrawler's own files, Toutiao through the generic format, end to end: registry,
import, GMI-1 terms, rankings, account pages, methodology page and the report."""

from __future__ import annotations

import shutil

from fastapi.testclient import TestClient

from govmedia.core.vocabulary import PLATFORMS, PROFILES
from govmedia.ingest import import_path
from govmedia.methodology import builtin
from govmedia.ranking import rank
from govmedia.reports import build_report
from govmedia.scoring import score
from govmedia.store import open_store
from govmedia.web import create_app

from test_import_crawlers import GENERATED_REGISTRY
from util import fill_store

NEW = {"xiaohongshu": "5f0000000000000000000001", "bilibili": "100000001", "kuaishou": "3xtestuser001",
       "toutiao": "6800000001"}
TOUTIAO = """平台,账号ID,内容ID,发布时间,是否原创,形式,标题,正文,阅读,点赞,评论,分享,收藏
头条号,6800000001,t1,2020-03-02 09:00,是,文章,复工指南,复工复产指南全文,52000,310,45,120,66
头条号,6800000001,t2,2020-02-20 18:00,是,视频,防疫短片,防疫短片说明,88000,920,130,300,80
"""


def test_every_new_platform_has_a_profile_and_gmi_terms():
    m = builtin()
    for code in NEW:
        assert code in PLATFORMS and PROFILES[code].name
        assert all(m.dimensions[code][d] for d in ("reach", "engagement", "innovation")), code
    # The terms of the three platforms of 2020 did not change with the new ones.
    assert m.platform_sha256("weibo") == builtin().platform_sha256("weibo")


def test_new_platforms_in_rankings_account_pages_and_the_report(generated, tmp_path):
    db = tmp_path / "p.duckdb"
    con = open_store(db)
    fill_store(con, accounts=GENERATED_REGISTRY, folder=tmp_path)
    import_path(con, generated / "mediacrawler" / "current_d6f7c5b" / "data")
    (tmp_path / "toutiao.csv").write_text(TOUTIAO, encoding="utf-8")
    assert import_path(con, tmp_path / "toutiao.csv").accepted == 2
    score(con, "2020-02", "2020-03")
    for platform, account in NEW.items():
        ranked = rank(con, platform, "comprehensive", "2020-02", "2020-03")
        assert [r["account_id"] for r in ranked] == [account], platform
        assert ranked[0]["score"] > 0
    model = build_report(con, "2020-02", "2020-03")
    assert set(NEW) <= {r.platform for r in model.rankings}
    con.close()
    with TestClient(create_app(db, secret="test-secret")) as client:
        for platform, account in NEW.items():
            page = client.get(f"/accounts/{platform}/{account}?from=2020-02&to=2020-03")
            assert page.status_code == 200 and PROFILES[platform].name in page.text, platform
            board = client.get(f"/rankings?platform={platform}&category=comprehensive&from=2020-02&to=2020-03")
            assert board.status_code == 200 and account in board.text
        methodology = client.get("/methodology").text
        assert all(PROFILES[p].name in methodology for p in NEW)


def test_xiaohongshu_topic_markup_is_read_as_the_app_shows_it(generated, tmp_path):
    con = open_store(tmp_path / "x.duckdb")
    fill_store(con, accounts=GENERATED_REGISTRY, folder=tmp_path)
    import_path(con, generated / "mediacrawler" / "current_d6f7c5b" / "data" / "xhs" / "json")
    text, tags = con.execute(
        "SELECT p.text, list(h.hashtag ORDER BY h.hashtag) FROM posts p JOIN post_hashtags h USING (platform, post_id) "
        "WHERE p.post_id = '5e71f0a3000000000100a001' GROUP BY p.text").fetchone()
    assert "[话题]" not in text and text.endswith("#南京# #复工复产#")
    assert tags == ["南京", "复工复产"]  # not also "南京[话题]"


def test_a_methodology_file_from_before_a_platform_still_loads_and_says_what_it_lacks(tmp_path):
    from importlib import resources

    from util import make_store, run_cli

    text = resources.files("govmedia.methodology").joinpath("gmi-1.toml").read_text(encoding="utf-8")
    old = text.split("\n# The platforms the white paper of 2020 did not cover")[0]  # as released before
    assert "[dimensions.xiaohongshu]" not in old and "[dimensions.douyin]" in old
    (tmp_path / "old.toml").write_text(old, encoding="utf-8")
    db = make_store(tmp_path / "m.duckdb", accounts=GENERATED_REGISTRY)
    result = run_cli("score", "--from", "2020-02", "--to", "2020-03", "--methodology", str(tmp_path / "old.toml"), db=db)
    assert result.returncode == 0, result.stderr
    assert "未定义小红书、哔哩哔哩、快手、头条号的计算项" in result.stderr
    with TestClient(create_app(db, secret="test-secret")) as client:
        assert "本方法文件未定义该平台的计算项" in client.get("/methodology").text
