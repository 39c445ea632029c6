"""Inflation flags (issue 16): planted inflation of each kind is found with its evidence, ordinary
posts are not, and the discount methodology scores what the flags replace."""

from __future__ import annotations

import contextlib
import random
import shutil
from datetime import datetime, timedelta

import pytest

from govmedia.core.rows import Post
from govmedia.core.vocabulary import METRICS
from govmedia.ranking.anomalies import ANOMALY_COLUMNS, anomaly_summary, find_anomalies

from util import PASSWORD, fill_store, open_made, make_store

ACCOUNTS = [("wechat", "MzA5NDAwMDAwMA==", "测试公众号", "comprehensive"),
            ("weibo", "1234567890", "测试微博", "district"),
            ("wechat", "MzI4MDAwMDAwMQ==", "另一公众号", "livelihood")]


def _metrics(**values) -> tuple:
    return tuple(values.get(name) for name in METRICS)


def _post(line, platform, account, post_id, published, hours, **metrics) -> Post:
    observed = None if hours is None else published + timedelta(hours=hours)
    return Post(line, platform, account, post_id, published, observed, True, ("article",) if platform == "wechat"
                else ("text",), None, f"内容 {post_id}", None, None, _metrics(**metrics), ())


def ordinary_posts(rng: random.Random, *, per_account: int = 120) -> list[Post]:
    """Ordinary posts: log-normal reads/reposts, interactions at a steady rate; some observed twice."""
    posts, line = [], 1
    start = datetime(2020, 10, 1, 2)
    for account in ("MzA5NDAwMDAwMA==", "MzI4MDAwMDAwMQ=="):
        for i in range(per_account):
            published = start + timedelta(hours=11 * i)
            reads = int(rng.lognormvariate(8, 0.6))
            likes, wows = int(reads * rng.uniform(0.01, 0.03)), int(reads * rng.uniform(0.003, 0.01))
            first = int(reads * rng.uniform(0.7, 0.85))
            if i % 2 == 0:  # observed twice: a day, then two days after publication
                posts.append(_post(line, "wechat", account, f"{account}-{i}", published, 24, reads=first,
                                   likes=int(likes * 0.8), wows=wows, comments=1, shares=2))
                line += 1
            posts.append(_post(line, "wechat", account, f"{account}-{i}", published, 48, reads=reads, likes=likes,
                               wows=wows, comments=2, shares=3))
            line += 1
    for i in range(per_account):
        published = start + timedelta(hours=11 * i)
        reposts = int(rng.lognormvariate(4, 0.7))
        posts.append(_post(line, "weibo", "1234567890", f"wb{i}", published, 24, reposts=reposts,
                           comments=int(reposts * rng.uniform(0.4, 0.9)), likes=int(reposts * rng.uniform(1, 2))))
        line += 1
    return posts


PLANTED = [  # (platform, post_id, kind)
    ("wechat", "planted-ratio", "ratio"),
    ("weibo", "planted-burst", "repost_burst"),
    ("wechat", "planted-jump", "jump"),
]


def planted_posts() -> list[Post]:
    when = datetime(2020, 11, 10, 2)
    return [
        _post(900, "wechat", "MzA5NDAwMDAwMA==", "planted-ratio", when, 48, reads=100001, likes=2, wows=0,
              comments=0, shares=1),
        _post(901, "weibo", "1234567890", "planted-burst", when, 24, reposts=8000, comments=1, likes=3),
        _post(902, "wechat", "MzA5NDAwMDAwMA==", "planted-jump", when, 24, reads=2500, likes=50, wows=20,
              comments=2, shares=2),
        _post(903, "wechat", "MzA5NDAwMDAwMA==", "planted-jump", when, 48, reads=150000, likes=3000, wows=1000,
              comments=2, shares=2),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("anomalies") / "g.duckdb"
    make_store(path, accounts=ACCOUNTS, posts=ordinary_posts(random.Random(7)) + planted_posts(),
               score=("2020-10", "2020-11"), users=True, password=PASSWORD)
    return path


def test_every_planted_kind_is_found_with_its_evidence(store):
    with open_made(store, read_only=True) as con:
        rows = find_anomalies(con, "2020-10", "2020-11")
    found = {(r["platform"], r["post_id"], r["kind"]) for r in rows}
    assert set(PLANTED) <= found
    ordinary = [r for r in rows if not r["post_id"].startswith("planted")]
    assert not ordinary, ordinary[:3]
    by_post = {(r["post_id"], r["kind"]): r for r in rows}
    ratio = by_post["planted-ratio", "ratio"]
    assert ratio["evidence"].startswith("阅读 100001，点赞 2，在看 0，评论 0，分享 1；本账号通常每 100 次阅读有 ")
    assert ratio["evidence"].endswith("次点赞、在看、评论、分享，本篇 0.004 次")
    assert 0.9 < ratio["severity"] <= 1
    burst = by_post["planted-burst", "repost_burst"]
    assert burst["evidence"].startswith("转发 8000，评论 1，点赞 3；")
    jump = by_post["planted-jump", "jump"]
    assert jump["evidence"].startswith("阅读 2500 → 150000（发布后 24 小时至发布后 48 小时，增至前次的 60 倍）；本账号两次观测之间通常增至前次的 1.")
    assert all(0 <= r["severity"] <= 1 for r in rows)


def test_filters_and_summary(store):
    with open_made(store, read_only=True) as con:
        assert {r["platform"] for r in find_anomalies(con, "2020-10", "2020-11", platform="微博")} == {"weibo"}
        assert find_anomalies(con, "2020-10", "2020-10") == []
        assert find_anomalies(con, "2020-10", "2020-11", category="民生") == []
        summary = anomaly_summary(con, "2020-11", "2020-11")
    rows = {(r["platform"], r["account_id"]): r for r in summary}
    wechat = rows["wechat", "MzA5NDAwMDAwMA=="]
    assert wechat["flagged_posts"] == 2 and wechat["metric"] == "reads"
    assert 0.5 < wechat["flagged_share"] < 1  # 250,001 of the month's reads
    assert rows["weibo", "1234567890"]["flagged_posts"] == 1
    assert ("wechat", "MzI4MDAwMDAwMQ==") not in rows


def test_the_discount_variant_scores_what_the_flags_replace(tmp_path):
    from govmedia.methodology import builtin, load_methodology
    from govmedia.scoring.explain import explain

    posts = ordinary_posts(random.Random(7)) + planted_posts()
    plain = make_store(tmp_path / "plain" / "g.duckdb", accounts=ACCOUNTS, posts=posts, score=("2020-11", "2020-11"))
    discounted = make_store(tmp_path / "d" / "g.duckdb", accounts=ACCOUNTS, posts=posts, score=("2020-11", "2020-11"),
                            methodology="gmi-1-discount")
    query = "SELECT platform, account_id, reach_raw, total FROM monthly_scores ORDER BY 1, 2"
    with open_made(plain, read_only=True) as con:
        before = {r[:2]: r[2:] for r in con.execute(query).fetchall()}
        said = explain(con, "wechat", "MzA5NDAwMDAwMA==", "2020-11")
    with open_made(discounted, read_only=True) as con:
        after = {r[:2]: r[2:] for r in con.execute(query).fetchall()}
        explained = explain(con, "wechat", "MzA5NDAwMDAwMA==", "2020-11")
        stored_total = after["wechat", "MzA5NDAwMDAwMA=="][1]
    # The flagged accounts lose reach; the account without flags keeps its raw value.
    assert after["wechat", "MzA5NDAwMDAwMA=="][0] < before["wechat", "MzA5NDAwMDAwMA=="][0]
    assert after["weibo", "1234567890"][0] < before["weibo", "1234567890"][0]
    assert after["wechat", "MzI4MDAwMDAwMQ=="][0] == pytest.approx(before["wechat", "MzI4MDAwMDAwMQ=="][0])
    assert load_methodology("gmi-1-discount").sha256 != builtin().sha256
    # explain says what was replaced, and its total is the stored one.
    assert any("按刷量折算，阅读 100001 计为" in line for line in explained.flagged)
    assert explained.total == pytest.approx(stored_total)
    assert all("现行方法不折算" in line for line in said.flagged) and len(said.flagged) == 2


def test_flags_reach_the_leaderboard_the_account_page_and_the_report(store):
    from govmedia.ranking import rank
    from govmedia.ranking.accounts import account_view
    from govmedia.reports.model import _commentary

    with open_made(store, read_only=True) as con:
        board = rank(con, "wechat", "comprehensive", "2020-11", "2020-11")
        view = account_view(con, "wechat", "MzA5NDAwMDAwMA==", "2020-11", "2020-11")
    row = board[0]
    assert row["flagged_posts"] == 2 and 0.5 < row["flagged_share"] < 1
    # Over October and November the same two posts carry a smaller share: all of the period's reads count.
    with open_made(store, read_only=True) as con:
        longer = rank(con, "wechat", "comprehensive", "2020-10", "2020-11")[0]
    assert longer["flagged_posts"] == 2 and longer["flagged_share"] < row["flagged_share"]
    assert view.place["flagged_posts"] == 2 and len(view.explanation.flagged) == 2
    assert set(view.flag_months) == {"2020-11"} and view.flag_months["2020-11"][0] == 2
    # The leader's lead rests on flagged figures: the commentary says so instead of praising it.
    said = _commentary("wechat", "comprehensive", board, None, "10月", {}, "11月", False, metric="阅读")
    assert "疑似刷量" in said[0] and "优势明显" not in said[0]
    clean = [dict(r, flagged_posts=0) for r in board]
    assert "疑似刷量" not in _commentary("wechat", "comprehensive", clean, None, "10月", {}, "11月", False)[0]


@contextlib.contextmanager
def site(store, tmp_path):
    """A TestClient of the site on a copy of `store`, signed in as a viewer: marks and anomaly
    lists are for signed-in users (docs/security.md; anonymous visitors: tests/test_web_access.py)."""
    from fastapi.testclient import TestClient

    from govmedia.web import create_app
    from test_web_api import sign_in

    copy = tmp_path / "site.duckdb"
    shutil.copy(store, copy)
    app = create_app(copy, secret="test-secret")
    try:
        with TestClient(app) as client:
            sign_in(client, "viewer1")
            yield client, copy
    finally:
        app.state.store.close()


def test_pages_mark_flagged_accounts_and_show_intervals(store, tmp_path):
    with site(store, tmp_path) as (client, _):
        page = client.get("/rankings", params={"platform": "wechat", "category": "comprehensive",
                                               "from": "2020-11", "to": "2020-11"})
        assert page.status_code == 200
        assert "⚠" in page.text and "含疑似刷量内容 2 篇" in page.text and "按原数计分，未折算" in page.text
        assert "90% 区间" not in page.text
        toggled = client.get("/rankings", params={"platform": "wechat", "category": "comprehensive",
                                                  "from": "2020-11", "to": "2020-11", "intervals": "true"})
        assert "90% 区间" in toggled.text and "自助法" in toggled.text
        account = client.get("/accounts/wechat/MzA5NDAwMDAwMA==", params={"from": "2020-11", "to": "2020-11"})
        assert "本月疑似刷量 2 篇" in account.text and "阅读 100001，点赞 2" in account.text
        assert "2020年11月 ⚠" in account.text and "占期间阅读的" in account.text and account.text.count("title=\"疑似刷量，依据见上方分数解释\"") == 2
        listed = client.get("/anomalies", params={"from": "2020-10", "to": "2020-11"})
        assert listed.status_code == 200 and listed.text.count("<tr>") == 4  # header + three flags
        assert "阅读 100001，点赞 2" in listed.text and "转发突增无评论" in listed.text
        only = client.get("/anomalies", params={"from": "2020-10", "to": "2020-11", "platform": "weibo"})
        assert only.text.count("<tr>") == 2
        wrong = client.get("/anomalies", params={"platform": "myspace"})
        assert wrong.status_code == 400 and "未知平台" in wrong.text
        csv_text = client.get("/anomalies.csv", params={"from": "2020-10", "to": "2020-11"}).content.decode("utf-8-sig")
        assert csv_text.splitlines()[0] == ",".join(ANOMALY_COLUMNS)  # as the command's CSV
        method = client.get("/methodology")
        assert "权重的敏感性" in method.text and "疑似刷量" in method.text


def test_the_report_marks_flagged_accounts_in_its_tables_and_commentary(store):
    from govmedia.reports.model import build_bulletin

    with open_made(store, read_only=True) as con:
        model = build_bulletin(con, "2020-11")
    (wechat,) = [k for k in model.rankings if k.platform == "wechat" and k.category == "comprehensive"]
    assert wechat.table_rows()[0][1] == "测试公众号 ⚠"
    said = " ".join(wechat.commentary)
    assert "表中标⚠的账号期间有内容疑似刷量" in said and "占阅读" in said and "优势明显" not in said


def test_the_commands(store, tmp_path):
    import csv
    import io
    import json

    import openpyxl

    from util import cli

    listed = cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--format", "csv", db=store)
    assert listed.exit_code == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert {r["kind"] for r in rows} == {"ratio", "repost_burst", "jump"}
    table = cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--platform", "微信", db=store)
    assert "互动比例异常" in table.stdout and "两次观测间猛增" in table.stdout and "转发突增" not in table.stdout
    summary = json.loads(cli("anomalies", "--from", "2020-11", "--to", "2020-11", "--summary", "--format", "json",
                             db=store).stdout)
    assert {r["account_id"] for r in summary} == {"MzA5NDAwMDAwMA==", "1234567890"}
    out = tmp_path / "flags.xlsx"
    assert cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--format", "xlsx", "--out", str(out),
               db=store).exit_code == 0
    assert openpyxl.load_workbook(out).active.max_row == 4  # header + three flags
    # A stricter thresholds file of the user's own: nothing is flagged.
    strict = tmp_path / "strict.toml"
    strict.write_text(builtin_text().replace("min_volume = 1000", "min_volume = 1000000")
                      .replace("min_volume = 500", "min_volume = 1000000")
                      .replace("min_increment = 5000", "min_increment = 10000000"), encoding="utf-8")
    assert cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--thresholds", str(strict), "--format", "json",
               db=store).stdout.strip() == "[]"
    broken = tmp_path / "broken.toml"
    broken.write_text("[[rules]]\nkind = \"sudden\"\n", encoding="utf-8")
    said = cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--thresholds", str(broken), db=store)
    assert said.exit_code != 0 and "kind 应为 ratio、repost_burst、jump 之一" in said.stderr
    assert "第 1 条 [[rules]]" in said.stderr  # the table's name is printed, not taken for markup
    typed = tmp_path / "typed.toml"
    typed.write_text("[[rules]]\nkind = \"ratio\"\nplatforms = [[\"wechat\"]]\n", encoding="utf-8")
    said = cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--thresholds", str(typed), db=store)
    assert said.exit_code == 2 and "platforms 应列出平台代码" in said.stderr and "Traceback" not in said.stderr
    never = tmp_path / "never.toml"
    never.write_text(builtin_text().replace('platforms = ["wechat", "toutiao"]\nvolume = "reads"',
                                            'platforms = ["wechat", "toutiao"]\nvolume = "plays"', 1), encoding="utf-8")
    said = cli("anomalies", "--from", "2020-10", "--to", "2020-11", "--thresholds", str(never), db=store)
    assert "微信、头条号的导出没有播放" in said.stderr
    assert "Traceback" not in said.stderr and str(tmp_path) not in said.stderr

    ranked = cli("rank", "--platform", "wechat", "--category", "comprehensive", "--from", "2020-11", "--to", "2020-11",
                 "--intervals", "--format", "json", db=store)
    (row,) = json.loads(ranked.stdout)
    assert row["score_low"] <= row["score"] <= row["score_high"] and row["flagged_posts"] == 2
    header = cli("rank", "--platform", "wechat", "--category", "comprehensive", "--from", "2020-11", "--to", "2020-11",
                 "--intervals", "--format", "csv", db=store).stdout.splitlines()[0]
    assert header.endswith("score_low,score_high,rank_low,rank_high,same_as,note")
    empty = cli("rank", "--platform", "bilibili", "--category", "district", "--from", "2020-11", "--to", "2020-11",
                db=store)
    assert "账号名录中没有哔哩哔哩区级账号" in empty.stderr
    nothing = cli("anomalies", "--from", "2020-10", "--to", "2020-10", db=store)
    assert "本期间没有内容被判为疑似刷量" in nothing.stderr
    whatif = cli("whatif", "--from", "2020-10", "--to", "2020-11", "--weights", "0.4,0.3,0.15,0.15", db=store)
    assert whatif.exit_code == 0 and "前三名" in whatif.stdout
    wrong = cli("whatif", "--from", "2020-10", "--to", "2020-11", "--weights", "0.4,0.4,0.4,0.4", db=store)
    assert wrong.exit_code != 0 and "--weights" in wrong.stderr and "之和应为 1" in wrong.stderr
    for bad in ("", "nan,0.3,0.3,0.4"):
        said = cli("whatif", "--from", "2020-10", "--to", "2020-11", "--weights", bad, db=store)
        assert said.exit_code == 2 and "--weights" in said.stderr and "Traceback" not in said.stderr


def builtin_text() -> str:
    from govmedia.methodology.anomalies import builtin_thresholds

    return builtin_thresholds().text


def test_the_api_lists_what_the_command_lists(store, tmp_path):
    with site(store, tmp_path) as (client, copy):
        listed = client.get("/api/v1/anomalies", params={"from": "2020-10", "to": "2020-11"})
        assert listed.status_code == 200
        with open_made(copy, read_only=True) as con:
            expected = find_anomalies(con, "2020-10", "2020-11")
        assert [(r["post_id"], r["kind"], r["evidence"]) for r in listed.json()] == \
            [(r["post_id"], r["kind"], r["evidence"]) for r in expected]
        summary = client.get("/api/v1/anomalies", params={"from": "2020-11", "to": "2020-11", "summary": "true",
                                                          "platform": "weibo"}).json()
        assert [r["account_id"] for r in summary] == ["1234567890"]


def test_unreadable_files_are_said_in_chinese(tmp_path):
    from govmedia.core.errors import UserError
    from govmedia.methodology import load_methodology
    from govmedia.methodology.anomalies import load_thresholds

    with pytest.raises(UserError, match="无法读取刷量阈值文件 missing.toml：文件不存在"):
        load_thresholds(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="这是一个文件夹"):
        load_methodology(tmp_path)


def test_a_lone_jump_is_found_and_the_discount_never_goes_below_zero_or_above_the_count(tmp_path):
    """The planted jump is the platform's only pair of observations (its growth must not become the
    "usual" one); a burst with no response at all is discounted to 0 reposts, not below."""
    from govmedia.scoring.explain import explain

    rng = random.Random(3)
    when = datetime(2020, 11, 3, 2)
    posts = [p for p in ordinary_posts(rng) if p.observed_at - p.published_at != timedelta(hours=24)
             or p.platform == "weibo"]  # WeChat: one observation per post
    posts += [p for p in planted_posts() if p.post_id == "planted-jump"]
    posts.append(_post(950, "weibo", "1234567890", "bare-burst", when, 24, reposts=9000, comments=0, likes=0))
    path = make_store(tmp_path / "g.duckdb", accounts=ACCOUNTS, posts=posts, score=("2020-11", "2020-11"),
                      methodology="gmi-1-discount")
    with open_made(path, read_only=True) as con:
        found = {(r["post_id"], r["kind"]) for r in find_anomalies(con, "2020-11", "2020-11")}
        assert {("planted-jump", "jump"), ("bare-burst", "repost_burst")} <= found
        burst = explain(con, "weibo", "1234567890", "2020-11")
        jump = explain(con, "wechat", "MzA5NDAwMDAwMA==", "2020-11")
    assert any("转发 9000 计为 0" in line for line in burst.flagged), burst.flagged
    assert any("扣除超出通常增长的" in line for line in jump.flagged), jump.flagged
