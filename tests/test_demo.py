"""The demo data set: deterministic files in the real tools' formats, a clean import, and the
white paper's totals recomputed from the store."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from govmedia.demo import account_totals, facts_check, generate, run_demo
from govmedia.demo.accounts import MILLION_FOLLOWERS, seed_rankings
from govmedia.demo.posts import CHECKPOINTS
from govmedia.store import open_store

pytestmark = pytest.mark.slow  # generates, imports and scores the whole demo year

SEED = 2020
WINDOW = (date(2020, 2, 1), date(2020, 12, 1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole demo, once per test session: generate, register, import, check."""
    directory = tmp_path_factory.mktemp("demo")
    con = open_store(directory / "govmedia.duckdb")
    steps: list[str] = []
    result = run_demo(con, directory, seed=SEED, on_step=steps.append)
    yield result, con, steps
    con.close()


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".duckdb" and not p.name.endswith(".wal")
    }


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files(demo, tmp_path):
    result, _, _ = demo
    again = generate(tmp_path / "again", seed=SEED)
    first, second = _hashes(result.directory), _hashes(again.directory)
    assert len(first) > 400
    assert first == second


def test_another_seed_gives_other_files(demo, tmp_path):
    result, _, _ = demo
    other = generate(tmp_path / "other", seed=SEED + 1)
    first, second = _hashes(result.directory), _hashes(other.directory)
    assert first["accounts.xlsx"] != second["accounts.xlsx"]
    # Ids (and so most file names) depend on the seed; no export file has the same content.
    # (The campaigns are the white paper's, the same whatever the seed.)
    same = set(first.values()) & set(second.values())
    assert not (same - {first[".govmedia-demo"], first["evaluation/campaigns.csv"]})


# ---------------------------------------------------------------- the import


def test_demo_imports_every_row(demo):
    result, con, steps = demo
    assert result.rejected == 0 and result.accounts_rejected == 0 and not result.file_errors
    assert result.accepted > 600_000
    assert not list(result.directory.rglob("*.rejects.csv"))
    assert dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall()) == {
        "weibo": 76, "wechat": 96, "douyin": 15}
    # Every importer was exercised.
    formats = {r[0] for r in con.execute("SELECT DISTINCT format FROM import_batches").fetchall()}
    assert formats == {"weibo-crawler", "mediacrawler", "wechat-exporter", "generic"}
    assert all(n > 0 for n in result.generated.rows.values())
    assert steps and all(isinstance(s, str) for s in steps)


def test_facts_within_five_percent(demo):
    _, con, _ = demo
    checks = facts_check(con)
    assert {c.fact for c in checks} >= {
        "posts_total", "posts_original", "reposts_plus_comments", "yoy_growth_interactions", "reads_total",
        "likes_plus_wows", "yoy_growth_reads", "yoy_growth_likes_wows", "followers_over_1m",
        "accounts_evaluated", "accounts_listed", "inspection_pass_rate_q1_q3"}
    failed = [(c.fact, c.platform, c.target, c.actual) for c in checks if not c.within(0.05)]
    assert not failed
    by_key = {(c.fact, c.platform): c for c in checks}
    assert by_key[("posts_total", "weibo")].actual >= 234_000  # "超23.4万篇" is a lower bound


def test_summary_reports_the_store(demo):
    result, _, _ = demo
    text = result.summary()
    assert "拒收 0 行" in text and "微博 76 个" in text and "微信 96 个" in text and "抖音 15 个" in text
    assert "微博转评量" in text and "12,688,000" in text
    assert str(result.database) in text


def test_exactly_the_four_million_follower_weibo_accounts(demo):
    _, con, _ = demo
    names = {r[0] for r in con.execute(
        "SELECT name FROM accounts WHERE platform = 'weibo' AND followers >= 1000000").fetchall()}
    assert names == set(MILLION_FOLLOWERS) == {"平安南京", "钟山清风", "南京交警", "南京生态环境"}
    assert con.execute("SELECT count(*) FROM accounts WHERE opened_at >= DATE '2019-01-01'").fetchall()[0][0] == 0


def test_every_account_posted_before_every_quarterly_check(demo):
    _, con, _ = demo
    for y, m, d in CHECKPOINTS:
        end = datetime(y, m, d)
        start = end - timedelta(days=14)
        silent = con.execute(
            """
            SELECT a.platform, a.name FROM accounts a WHERE NOT EXISTS (
                SELECT 1 FROM posts p WHERE p.platform = a.platform AND p.account_id = a.account_id
                  AND p.published_at + INTERVAL 8 HOUR >= ? AND p.published_at + INTERVAL 8 HOUR < ?)
            """,
            [start, end],
        ).fetchall()
        assert silent == [], f"{end:%Y-%m-%d}: {silent}"


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var


def test_published_order_shows_in_the_interactions(demo):
    _, con, _ = demo
    totals = account_totals(con, *WINDOW)
    ids = {(p, n): a for p, a, n in con.execute("SELECT platform, account_id, name FROM accounts").fetchall()}
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in seed_rankings():
        groups.setdefault((row["platform"], row["category"]), []).append(row)
    assert len(groups) == 6
    for (platform, category), rows in groups.items():
        scores = [float(r["score_feb_nov_2020"]) for r in rows]
        metric = [totals[(platform, ids[(platform, r["name"])])] for r in rows]
        values = [t["reposts"] + t["comments"] if platform == "weibo" else t["reads"] for t in metric]
        assert _spearman(scores, values) >= 0.9, (platform, category)


def test_synthetic_accounts_rank_below_the_named_ones(demo):
    result, _, _ = demo
    for platform in ("weibo", "wechat"):
        for category in ("livelihood", "comprehensive"):
            group = [a for a in result.generated.accounts if a.platform == platform and a.category == category]
            named = [a for a in group if not a.synthetic]
            synthetic = [a for a in group if a.synthetic]
            assert synthetic and all(a.name.startswith("示例") for a in synthetic)
            assert max(a.implied_score for a in synthetic) < min(a.score for a in named)


# ---------------------------------------------------------------- the files, as the tools write them


def test_files_have_the_tools_layouts(demo):
    result, _, _ = demo
    exports = result.generated.exports
    weibo = next((exports / "weibo-crawler" / "weibo" / "南京交警").glob("*.csv"))
    data = weibo.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,bid,") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows[0]) == 39 and {len(r) for r in rows[1:]} == {19, 37}
    assert all(r[0].endswith("\t") for r in rows[1:])
    assert (exports / "weibo-crawler" / "weibo" / "users.csv").exists()

    mc = sorted((exports / "mediacrawler" / "data" / "weibo" / "jsonl").glob("creator_contents_2020-*.jsonl"))[0]
    row = json.loads(mc.read_text(encoding="utf-8").splitlines()[0])
    local = datetime.fromisoformat(row["create_date_time"])
    assert row["create_time"] == int(local.timestamp()) + 8 * 3600  # the release's +8 h bug
    assert isinstance(row["liked_count"], str) and len(str(row["last_modify_ts"])) == 13
    assert list((exports / "mediacrawler" / "data" / "weibo" / "csv").glob("creator_contents_2019-*.csv"))
    assert list((exports / "mediacrawler" / "data" / "douyin" / "csv").glob("creator_contents_*.csv"))
    douyin = sorted((exports / "mediacrawler" / "data" / "douyin" / "json").glob("creator_contents_*.json"))[0]
    items = json.loads(douyin.read_text(encoding="utf-8"))
    assert {i["aweme_type"] for i in items} <= {"0", "68"} and all(len(i["user_id"]) == 11 for i in items)

    articles = next((exports / "wechat-article-exporter").glob("*/微信公众号文章.json"))
    text = articles.read_text(encoding="utf-8")
    assert "\n" not in text  # one line
    first = json.loads(text)[0]
    assert {"aid", "appmsgid", "itemidx", "item_show_type", "update_time", "create_time", "copyright_stat",
            "copyright_type", "fakeid", "_accountName", "readNum", "oldLikeNum", "shareNum", "likeNum",
            "commentNum", "content"} <= set(first)
    xlsx = sorted((exports / "wechat-article-exporter").glob("*/微信公众号文章.xlsx"))
    assert len(xlsx) == 10
    book = openpyxl.load_workbook(xlsx[0], read_only=True)
    header = next(book["Sheet1"].iter_rows(values_only=True))
    book.close()
    assert list(header) == ["公众号", "ID", "链接", "标题", "封面", "摘要", "创建时间", "发布时间", "阅读", "点赞", "分享",
                            "喜欢", "留言", "作者", "是否原创", "文章类型", "所属合集", "文章内容"]

    generic = sorted((exports / "generic").glob("*.csv"))
    assert len(generic) == 2
    with pytest.raises(UnicodeDecodeError):
        generic[0].read_bytes().decode("utf-8")
    assert generic[0].read_bytes().decode("gb18030").startswith("平台,账号ID,内容ID,发布时间")


def test_ids_look_like_the_platforms(demo):
    _, con, _ = demo
    import base64

    for platform, account_id in con.execute("SELECT platform, account_id FROM accounts").fetchall():
        if platform == "weibo":
            assert account_id.isdigit() and len(account_id) == 10
        elif platform == "douyin":
            assert account_id.isdigit() and len(account_id) == 11
        else:
            decoded = base64.b64decode(account_id).decode()
            assert decoded.isdigit() and len(decoded) == 10


def test_demo_is_scored_and_its_rankings_follow_the_white_paper(demo):
    result = demo[0]
    assert result.evaluation_rejected == 0 and result.cases == 19 and result.campaigns == 13
    assert result.scored == ("2019-02", "2020-11")
    for (platform, category), (rho, top) in result.agreement.items():
        assert rho >= 0.9, (platform, category, rho)
        assert len(top) == 3
    # The published leaders of the Weibo categories lead here too.
    assert result.agreement[("weibo", "district")][1][0] == "鼓楼微讯"
    assert result.agreement[("weibo", "livelihood")][1][0] == "南京交警"
    assert result.agreement[("weibo", "comprehensive")][1][0] == "钟山清风"


# ---------------------------------------------------------------- the report of the demo (issue 5)


def test_demo_report_tables_and_totals_equal_the_store(demo, tmp_path):
    """The full annual report on the demo store: every printed ranking equals `rank`, the overview
    equals the calibrated totals, the PDF has every ranked name in a CJK font."""
    import re
    import subprocess

    import docx

    from govmedia.demo import platform_totals
    from govmedia.core.vocabulary import CATEGORIES
    from govmedia.ranking import rank
    from govmedia.reports import build_report, write_report

    _, con, _ = demo
    model = build_report(con, "2020-02", "2020-11", compare_previous_year=True)
    paths = write_report(model, tmp_path)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(paths["docx"])).tables]
    tables = [t for t in tables if t[0] == ["排名", "名称", "2-11月"]]
    pdf = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "\ufffd" not in pdf
    expected = []
    for platform in ("weibo", "wechat", "douyin"):
        for category in CATEGORIES:
            rows = rank(con, platform, category, "2020-02", "2020-11", None if category == "district" else 15)
            # A flagged account's name carries ⚠ (its figures include posts that look inflated).
            expected.append([["排名", "名称", "2-11月"]] + [[str(r["rank"]), r["name"] + (" ⚠" if r["flagged_posts"] else ""),
                                                          f"{r['score']:.2f}"] for r in rows])
            for r in rows:
                assert r["name"] in pdf
    assert tables == expected
    assert any("⚠" in row[1] for table in tables for row in table)  # the planted inflation shows
    assert len(tables[0]) == 13 and len(tables[1]) == 16  # 12 district accounts; Top 15 of 32
    fonts = subprocess.run(["pdffonts", str(paths["pdf"])], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Noto-?Sans-?CJK-?SC", fonts)
    totals = platform_totals(con, date(2020, 2, 1), date(2020, 12, 1))
    figures = {(p.platform, f.label): f for p in model.overview.platforms for f in p.figures}
    assert figures[("weibo", "发布数")].value == totals["weibo"]["posts"]
    assert figures[("weibo", "转评量（转发+评论）")].value == totals["weibo"]["reposts"] + totals["weibo"]["comments"]
    assert figures[("wechat", "阅读数")].value == totals["wechat"]["reads"]
    assert figures[("wechat", "点赞+在看数")].previous is not None
    # The stored quarterly checks reach the overview (issue 6): 100% at every check point of 2020.
    [block] = model.overview.blocks
    assert block.title == "合规检查" and "合格率均为 100%" in block.paragraphs[0]
    assert [r[0] for r in block.rows] == ["2020-04-01", "2020-07-01", "2020-10-01", "2020-12-01"]
    assert "无“僵尸”“睡眠”账号" in pdf.replace("\n", "")
def test_demo_quarterly_checks_reproduce_the_white_paper(demo):
    """白皮书 03.1: 2020 年一、二、三季度合格率均为 100%，无僵尸、睡眠账号。"""
    from govmedia.oversight import pass_rates

    result, con, _ = demo
    assert [(c["check_at"].isoformat(), c["quarter"]) for c in result.checks] == [
        ("2020-04-01", "2020Q1"), ("2020-07-01", "2020Q2"), ("2020-10-01", "2020Q3"), ("2020-12-01", None)]
    for c in result.checks:
        assert c["inspected"] == 187 and c["passed"] == 187 and c["pass_rate"] == 1.0
        assert (c["sleeping"], c["zombie"], c["never"], c["serious_errors"]) == (0, 0, 0, 0)
    assert con.execute("SELECT count(*) FROM check_results WHERE verdict <> '合格' OR status <> 'ok'"
                       ).fetchall()[0][0] == 0
    assert all(r["pass_rate"] == 1.0 for r in pass_rates(con, quarter="2020Q3"))
    assert "合规检查" in result.summary() and "合格率 100%" in result.summary()
    # The demo's MediaCrawler comments files give real response figures for a few accounts.
    responding = con.execute(
        "SELECT platform, count(*), min(response_share), max(response_share) FROM check_results "
        "WHERE check_at = DATE '2020-12-01' AND user_comments >= 10 GROUP BY 1 ORDER BY 1").fetchall()
    assert [(p, n) for p, n, _, _ in responding] == [("douyin", 3), ("weibo", 4)]
    assert all(0 < lo < 0.2 < hi < 1 for _, _, lo, hi in responding)


def test_the_planted_inflation_and_only_it_is_flagged(demo):
    """Two sample accounts carry bought figures (demo.posts.INFLATED_*): the flags find exactly them."""
    from govmedia.demo.posts import INFLATED_WECHAT, INFLATED_WEIBO

    result, con, _ = demo
    found = {(a["name"], a["kind"]) for a in result.anomalies}
    assert found == {(INFLATED_WECHAT, "ratio"), (INFLATED_WEIBO, "repost_burst")}
    assert sum(a["name"] == INFLATED_WECHAT for a in result.anomalies) == 2
    assert "疑似刷量（govmedia anomalies，2020年2-11月）：3 篇" in result.summary()
