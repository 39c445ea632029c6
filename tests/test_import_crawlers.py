"""The crawler formats, on files laid out as the real tools write them."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from govmedia.ingest import import_path

from util import REGISTRY, cli, dump, make_store, run_cli


def rows(con, sql):
    return con.execute(sql).fetchall()


# ---------------------------------------------------------------- weibo-crawler


def test_weibo_crawler_folder(registered, fixtures):
    summary = import_path(registered, fixtures / "weibo-crawler", format="auto")
    by_name = {f.path.name: f for f in summary.files}
    assert by_name["users.csv"].skipped  # account metadata, not posts
    report = by_name["1234567890.csv"]
    assert (report.format, report.accepted, report.rejected) == ("weibo-crawler", 6, 0)
    # The JSON file of the same run holds the same weibos.
    assert (by_name["1234567890.json"].accepted, by_name["1234567890.json"].unchanged) == (0, 6)
    posts = {r[0]: r[1:] for r in rows(registered, "SELECT post_id, account_id, published_at, is_original, forms, url FROM posts")}
    # Ids lose the trailing tab; 完整日期 (Asia/Shanghai) is stored in UTC.
    assert posts["5035812345678901"][:3] == ("1234567890", datetime(2024, 5, 20, 1, 30, 12), True)
    assert posts["5035812345678901"][4] == "https://weibo.com/1234567890/Of1DQnPlb"
    assert posts["5035498765432109"][3] == ["video"]
    assert posts["5034765432187654"][3] == ["article"]
    # The repost is stored as the reposting post only: its own text and counts, not the source's.
    repost = rows(registered, "SELECT p.is_original, p.text, s.reposts, s.comments, s.likes, s.observed_at FROM posts p "
                               "JOIN snapshots s USING (platform, post_id) WHERE post_id = '5035123456789012'")
    assert repost == [(False, "转发提醒，出行注意安全。", 3, 8, 65, None)]
    assert rows(registered, "SELECT count(*) FROM posts")[0][0] == 6
    tags = {r[0] for r in rows(registered, "SELECT hashtag FROM post_hashtags WHERE post_id = '5034432109876543'")}
    assert tags == {"南京天气", "气象预警"}


def _old_release_file(path):
    """A 2022-04..2024-01 release: 完整日期 written without a header cell, so rows are one cell long."""
    header = ["id", "bid", "正文", "头条文章url", "原始图片url", "视频url", "位置", "日期", "工具", "点赞数", "评论数", "转发数",
              "话题", "@用户", "是否原创", "源用户id", "源用户昵称"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["4900000000000001\t", "Lx1", "#南京战疫# 通报", "", "", "", "", "2023-01-05T10:00:00", "", "5", "6", "7",
                         "南京战疫", "", "2023-01-05 10:00:00", "True"])
        writer.writerow(["4900000000000002\t", "Lx2", "转发微博", "", "", "", "", "2023-01-06", "", "1", "2", "3", "", "",
                         "2023-01-06 11:30:00", "False", "777", "源账号"])


def test_weibo_crawler_old_release_rows_are_realigned(registered, tmp_path):
    folder = tmp_path / "weibo" / "南京测试发布"
    folder.mkdir(parents=True)
    _old_release_file(folder / "1234567890.csv")
    summary = import_path(registered, tmp_path / "weibo")
    assert (summary.accepted, summary.rejected) == (2, 0)
    got = rows(registered, "SELECT post_id, published_at, is_original FROM posts ORDER BY 1")
    assert got == [("4900000000000001", datetime(2023, 1, 5, 2, 0), True),
                   ("4900000000000002", datetime(2023, 1, 6, 3, 30), False)]


def test_weibo_crawler_file_renamed_needs_account(registered, fixtures, tmp_path):
    target = tmp_path / "elsewhere" / "export.csv"
    target.parent.mkdir()
    shutil.copy(fixtures / "weibo-crawler" / "南京测试发布" / "1234567890.csv", target)
    summary = import_path(registered, target)
    assert summary.exit_code == 2 and "{field:account}" in summary.files[0].error_template
    assert "请用 「账号」 指明（weibo:用户id）" in summary.files[0].error  # each interface names the field its way
    printed = run_cli("import", str(target), db=make_store(tmp_path / "cli.duckdb", accounts=REGISTRY))
    assert "请用 --account 指明（weibo:用户id）" in printed.stderr and str(target.parent) in printed.stderr
    summary = import_path(registered, target, account="weibo:1234567890")
    assert (summary.accepted, summary.rejected) == (6, 0)


def test_weibo_crawler_file_of_unregistered_user(registered, fixtures, tmp_path):
    folder = tmp_path / "weibo" / "别的账号"
    folder.mkdir(parents=True)
    shutil.copy(fixtures / "weibo-crawler" / "南京测试发布" / "1234567890.csv", folder / "5555555555.csv")
    summary = import_path(registered, folder / "5555555555.csv")
    assert (summary.accepted, summary.rejected) == (0, 6)
    assert "不在账号名录中" in summary.files[0].rejects[0].reason


# ---------------------------------------------------------------- MediaCrawler


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_mediacrawler_weibo_contents(registered, fixtures, fmt):
    path = next((fixtures / "mediacrawler" / "data" / "weibo" / fmt).glob("*contents*"))
    summary = import_path(registered, path)
    assert (summary.files[0].format, summary.accepted, summary.rejected) == ("mediacrawler", 5, 0)
    got = rows(registered, "SELECT p.published_at, s.observed_at, s.reposts, s.comments, s.likes FROM posts p "
                           "JOIN snapshots s USING (platform, post_id) WHERE post_id = '5297301234567890'")
    # create_date_time (09:30 +08:00) is right; create_time is 8 h ahead in these releases.
    # shared_count is the reposts count; last_modify_ts (ms) is the observation time.
    assert got == [(datetime(2026, 5, 19, 1, 30), datetime(2026, 5, 20, 2, 15, 0, 17000), 45, 87, 1523)]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_mediacrawler_douyin_contents(registered, fixtures, fmt):
    path = next((fixtures / "mediacrawler" / "data" / "douyin" / fmt).glob("*contents*"))
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected) == (5, 0)
    image = rows(registered, "SELECT forms, is_original FROM posts WHERE post_id = '7370987654321098765'")
    assert image == [(["image"], True)]
    video = rows(registered, "SELECT p.forms, s.likes, s.comments, s.shares, s.collects FROM posts p JOIN snapshots s "
                             "USING (platform, post_id) WHERE post_id = '7371234567890123456'")
    assert video == [(["video"], 8821, 367, 1290, 412)]
    tags = {r[0] for r in rows(registered, "SELECT hashtag FROM post_hashtags WHERE post_id = '7371234567890123456'")}
    assert tags == {"南京", "城市更新"}


def test_mediacrawler_same_posts_in_three_formats_are_one_snapshot_each(registered, fixtures):
    import_path(registered, fixtures / "mediacrawler" / "data")
    assert rows(registered, "SELECT platform, count(*) FROM snapshots GROUP BY 1 ORDER BY 1") == [("douyin", 5), ("weibo", 5)]


def test_mediacrawler_comments_files_are_comments_not_posts(registered, fixtures):
    summary = import_path(registered, fixtures / "mediacrawler" / "data" / "weibo" / "csv")
    assert not any(f.skipped for f in summary.files)
    comments = next(f for f in summary.files if "_comments_" in f.path.name)
    assert (comments.accepted, comments.rejected) == (6, 0)
    assert rows(registered, "SELECT count(*) FROM posts") == [(5,)]


def test_mediacrawler_creator_hash_is_resolved_through_the_registry(registered, generated, db_path):
    """The current release writes creator_hash instead of user_id, in contents and comments."""
    folder = generated / "mediacrawler" / "current_d6f7c5b" / "data" / "weibo"
    summary = import_path(registered, folder)  # no account named: a whole folder
    by_name = {f.path.parent.name + "/" + f.path.name: f for f in summary.files}
    contents = by_name["csv/creator_contents_2026-08-20.csv"]
    assert (contents.accepted, contents.rejected) == (3, 1)
    # 2234567890 (宁城发布) is not registered: its row is refused, naming the hash.
    assert "creator_hash f7d43b21eb1bc464" in contents.rejects[0].reason and "名录" in contents.rejects[0].reason
    assert rows(registered, "SELECT DISTINCT account_id FROM posts") == [("1234567890",)]
    comments = by_name["csv/creator_comments_2026-08-20.csv"]
    assert comments.accepted == 3 and comments.rejected == 0
    authors = {r[0] for r in rows(registered, "SELECT author_id FROM comments")}
    assert all(a == "1234567890" or a.startswith("hash:") for a in authors)
    # A hash that is not the one of the account named for the file is refused, row by row.
    registered.close()
    path = folder / "csv" / "creator_contents_2026-08-20.csv"
    result = cli("import", str(path), "--account", "weibo:2222222222", "--json", db=db_path)
    report = json.loads(result.stdout)["files"][0]
    assert report["accepted"] == 0 and report["rejected"] == 4
    with open(Path(report["rejects_file"]), encoding="utf-8-sig") as rejects:
        first = next(csv.DictReader(rejects))
    assert "不是指定账号 weibo:2222222222 的" in first["原因"], first
    assert "Traceback" not in result.stderr


def test_mediacrawler_row_of_another_platform(registered, tmp_path, fixtures):
    source = next((fixtures / "mediacrawler" / "data" / "weibo" / "jsonl").glob("*contents*"))
    douyin = next((fixtures / "mediacrawler" / "data" / "douyin" / "jsonl").glob("*contents*"))
    mixed = tmp_path / "search_contents_mixed.jsonl"
    mixed.write_text(source.read_text(encoding="utf-8") + douyin.read_text(encoding="utf-8").splitlines()[0] + "\n",
                     encoding="utf-8")
    summary = import_path(registered, mixed)
    assert (summary.accepted, summary.rejected) == (5, 1)
    assert "抖音" in summary.files[0].rejects[0].reason


# ---------------------------------------------------------------- wechat-article-exporter


def test_wechat_exporter_excel_and_json_agree(registered, fixtures):
    excel = import_path(registered, fixtures / "wechat-exporter" / "微信公众号文章.xlsx")
    assert (excel.files[0].format, excel.accepted, excel.rejected) == ("wechat-exporter", 6, 0)
    first = dump(registered)
    json_summary = import_path(registered, fixtures / "wechat-exporter" / "微信公众号文章.json")
    assert (json_summary.accepted, json_summary.unchanged) == (0, 6)
    assert dump(registered)["posts"] == first["posts"]
    got = rows(registered, "SELECT p.post_id, p.position, p.is_original, p.forms, s.reads, s.likes, s.wows, s.shares, "
                           "s.comments FROM posts p JOIN snapshots s USING (platform, post_id) ORDER BY 1")
    assert got[0] == ("MzA5NDAwMDAwMA==:2247490123_1", 1, True, ["article"], 123456, 321, 876, 2108, 45)
    assert got[1][:3] == ("MzA5NDAwMDAwMA==:2247490123_2", 2, False)
    assert got[3][3] == ["video"]
    assert got[4][4:] == (None, None, None, None, None)  # counts never fetched stay unknown


def test_wechat_exporter_post_ids_unique_across_accounts(registered, fixtures, tmp_path):
    import_path(registered, fixtures / "wechat-exporter" / "微信公众号文章.json")
    data = json.loads((fixtures / "wechat-exporter" / "微信公众号文章.json").read_text(encoding="utf-8"))
    for item in data:
        item["fakeid"] = "MzI4MDAwMDAwMQ=="
        item["_accountName"] = "南京测试公众号二"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    summary = import_path(registered, other)
    assert (summary.accepted, summary.rejected) == (6, 0)
    assert rows(registered, "SELECT account_id, count(*) FROM posts GROUP BY 1 ORDER BY 1") == [
        ("MzA5NDAwMDAwMA==", 6), ("MzI4MDAwMDAwMQ==", 6)]


def _excel_with_account_name(source, target, name):
    workbook = openpyxl.load_workbook(source)
    sheet = workbook.active
    for row in sheet.iter_rows(min_row=2):
        row[0].value = name
    workbook.save(target)
    return target


def test_wechat_exporter_account_by_name(registered, fixtures, tmp_path):
    source = fixtures / "wechat-exporter" / "微信公众号文章.xlsx"
    unknown = _excel_with_account_name(source, tmp_path / "unknown.xlsx", "不存在的公众号")
    summary = import_path(registered, unknown)
    assert (summary.accepted, summary.rejected) == (0, 6)
    assert "不在账号名录中" in summary.files[0].rejects[0].reason
    # With --account the name does not matter.
    summary = import_path(registered, unknown, account="wechat:MzI4MDAwMDAwMQ==")
    assert (summary.accepted, summary.rejected) == (6, 0)


def test_wechat_exporter_ambiguous_name_is_rejected(registered, fixtures, tmp_path):
    registered.execute("INSERT INTO accounts (platform, account_id, name, category) "
                       "VALUES ('wechat', 'MzMzMzMzMzMzMw==', '南京测试发布', 'district')")
    summary = import_path(registered, fixtures / "wechat-exporter" / "微信公众号文章.xlsx")
    assert (summary.accepted, summary.rejected) == (0, 6)
    assert "多个已登记账号" in summary.files[0].rejects[0].reason


def test_wechat_exporter_account_list_is_skipped(registered, fixtures):
    summary = import_path(registered, fixtures / "wechat-exporter")
    skipped = [f.path.name for f in summary.files if f.skipped]
    assert skipped == ["公众号.json"]
    assert summary.rejected == 0 and summary.exit_code == 0


# ---------------------------------------------------------------- all four, twice


def test_every_fixture_imports_and_a_second_import_changes_nothing(registered, fixtures):
    # Also the newer release's creator_hash file (the registry's uids identify it) and the same
    # articles with other links (merged, not flipped back and forth).
    first = import_path(registered, fixtures)
    assert first.rejected == 0 and first.exit_code == 0
    before = dump(registered)
    second = import_path(registered, fixtures)
    assert second.accepted == 0
    assert dump(registered) == before


# ---------------------------------------------------------------- files the tools' own writers wrote
# tests/fixtures/generated: see its README (commits, commands, what each release writes).

GENERATED_REGISTRY = """平台,账号ID,名称,类别
微博,1234567890,南京测试发布,区级
微博,2234567890,宁城发布,区级
抖音,98765432100,南京测试发布,综合
小红书,5f0000000000000000000001,南京测试小红书,综合
哔哩哔哩,100000001,南京测试B站,综合
快手,3xtestuser001,南京测试快手,综合
微信,MzA5NDAwMDAwMA==,南京测试发布,综合
头条号,6800000001,南京测试头条,综合
"""


def _generated_store(tmp_path, name):
    from govmedia.store import open_store

    from util import fill_store

    con = open_store(tmp_path / f"{name}.duckdb")
    fill_store(con, accounts=GENERATED_REGISTRY, folder=tmp_path)
    return con


def test_weibo_crawler_releases_whose_rows_drift_from_the_header_mean_the_same(generated, tmp_path):
    """2023-12 (完整日期 written without its header cell) and 2025-11 (Live Photo视频url without
    its header cell: every value from 位置 on one column to the right) give what the current release gives."""
    stored = {}
    for release in ("current_93cd292", "2023-12_2687522", "2025-11_4815bee", "current_93cd292_only_original"):
        con = _generated_store(tmp_path, release)
        summary = import_path(con, generated / "weibo-crawler" / release / "weibo")
        assert summary.rejected == 0 and summary.exit_code == 0, release
        stored[release] = rows(con, "SELECT p.post_id, p.published_at, p.is_original, p.text, p.forms, s.reposts, "
                                    "s.comments, s.likes FROM posts p JOIN snapshots s USING (platform, post_id) ORDER BY 1")
        con.close()
    assert stored["2023-12_2687522"] == stored["current_93cd292"]
    assert stored["2025-11_4815bee"] == stored["current_93cd292"]
    # only_crawl_original: no 是否原创 column, every row an original (and the repost is not written).
    originals = [r for r in stored["current_93cd292"] if r[2] is True]
    assert stored["current_93cd292_only_original"] == originals
    assert len(originals) == len(stored["current_93cd292"]) - 1


@pytest.mark.parametrize("release", ["current_d6f7c5b", "last_user_id_8b4d8fc"])
def test_mediacrawler_every_platform_by_its_own_columns(generated, tmp_path, release):
    con = _generated_store(tmp_path, release)
    summary = import_path(con, generated / "mediacrawler" / release / "data")
    errors = {f.path.parent.parent.name: f.error for f in summary.files if f.error}
    assert list(errors) == ["tieba"] and "百度贴吧" in errors["tieba"] and "不评估" in errors["tieba"]
    assert summary.rejected == 0
    counts = dict(rows(con, "SELECT platform, count(*) FROM posts GROUP BY 1"))
    assert counts == {"weibo": 4, "douyin": 3, "xiaohongshu": 3, "bilibili": 3, "kuaishou": 3}
    # Bilibili's own metrics, Xiaohongshu's topics, Kuaishou's plays: what the tools mean.
    bili = rows(con, "SELECT max(plays), max(coins), max(danmaku), max(collects) FROM snapshots WHERE platform = 'bilibili'")
    assert all(v and v > 0 for v in bili[0])
    assert rows(con, "SELECT count(*) FROM post_hashtags WHERE platform = 'xiaohongshu'")[0][0] > 0
    assert rows(con, "SELECT max(plays) FROM snapshots WHERE platform = 'kuaishou'")[0][0] > 0
    # Comments of every platform are attributed to their posts.
    assert {r[0] for r in rows(con, "SELECT DISTINCT platform FROM comments")} == set(counts)
    before = dump(con)
    assert import_path(con, generated / "mediacrawler" / release / "data").accepted == 0
    assert dump(con) == before
    con.close()


def test_a_mediacrawler_file_forced_onto_another_platform_is_refused(generated, tmp_path):
    con = _generated_store(tmp_path, "forced")
    path = generated / "mediacrawler" / "current_d6f7c5b" / "data" / "xhs" / "csv" / "creator_contents_2026-08-20.csv"
    report = import_path(con, path, account="weibo:1234567890").files[0]
    assert report.accepted == 0 and "小红书" in report.error and "微博" in report.error
    con.close()


def test_wechat_exporter_placeholders_and_text_titles_are_not_stored_as_text(generated, tmp_path):
    con = _generated_store(tmp_path, "wechat")
    for name in ("微信公众号文章.xlsx", "微信公众号文章.json"):
        summary = import_path(con, generated / "wechat-exporter" / name)
        assert summary.rejected == 0, name
    texts = [r[0] for r in rows(con, "SELECT text FROM posts WHERE platform = 'wechat'")]
    assert texts and not any(t and "(unknown)" in t for t in texts)
    # A 文本分享's content starts with the exporter's own title (its first 20 UTF-16 units) and a
    # blank line: stored without it.
    assert not any(t and "\n\n" in t and t.split("\n\n", 1)[1].startswith(t.split("\n\n", 1)[0][:10])
                   for t in texts)
    con.close()


# The messages of generated/wechat-exporter/text_shares (scripts/wechat/gen.mts, WAE_SPECS=text_shares),
# as their senders wrote them: what must be stored, exactly.
TEXT_SHARES = {
    "2650000201_1": "【防疫提醒】出门请戴好口罩，回家勤洗手😷\n少去人员密集场所，如有发热及时就医。",
    "2650000202_1": "【降温提醒】\n明起三天浦口有雷阵雨，气温下降明显，请注意添衣。",
    "2650000203_1": "详见下方通知\n\n【提醒】明天上午9时至12时江北新区部分区域停水，请提前储水。",
    "2650000204_1": "今天停水，请储水。",
    "2650000205_1": "本周末部分路段临时交通管制，请绕行。\n详见交警发布。",
}


def _texts(con) -> dict[str, str]:
    return {post_id.split(":", 1)[1]: text for post_id, text in
            rows(con, "SELECT post_id, text FROM posts WHERE platform = 'wechat'")}


def test_wechat_exporter_text_shares_are_stored_exactly_as_sent(generated, tmp_path):
    """The exporter's own title of a 文本分享 (the text, newlines as spaces, cut at 20 UTF-16 units)
    is taken off whatever 标题 says and wherever the cut falls: through an emoji (a lone surrogate
    in the JSON, U+FFFD in the xlsx), into the second line, or past the end of a short text."""
    folder = generated / "wechat-exporter" / "text_shares"
    raw = (folder / "微信公众号文章.json").read_text(encoding="utf-8")
    assert "回家勤洗手\\ud83d\\n\\n" in raw  # as JSON.stringify writes half an emoji
    for name in ("微信公众号文章.json", "微信公众号文章.xlsx"):
        con = _generated_store(tmp_path, name.rsplit(".", 1)[1])
        summary = import_path(con, folder / name)
        assert (summary.accepted, summary.rejected, summary.exit_code) == (5, 0, 0), name
        assert _texts(con) == TEXT_SHARES, name
        con.close()


def test_a_folder_with_half_an_emoji_in_a_json_imports_everything_beside_it(generated, tmp_path):
    """The exporter's JSON and xlsx side by side are checked as one group: neither is lost. A cell
    that holds half an emoji for no reason the format explains is one rejected row naming its
    column, and is written to the rejects file as U+FFFD."""
    folder = generated / "wechat-exporter" / "text_shares"
    broken = json.loads((folder / "微信公众号文章.json").read_text(encoding="utf-8"))
    for article in broken:
        article["aid"] = article["aid"].replace("_1", "_2")  # other posts than the xlsx's
        article["link"] = article["link"].replace("&idx=1&", "&idx=2&")
    broken[0]["digest"] = "摘要"
    broken[0]["title"] = "标题被截断\ud83d"  # a lone surrogate where no made-up title explains it
    # Written as the exporter writes JSON: compact, lone surrogates escaped (Python escapes them too).
    (folder / "另一次导出.json").write_text(json.dumps(broken, separators=(",", ":"), ensure_ascii=False)
                                        .replace("\ud83d", "\\ud83d"), encoding="utf-8")
    con = _generated_store(tmp_path, "folder")
    summary = import_path(con, folder)
    by_name = {f.path.name: f for f in summary.files}
    # The JSON first (by name), then the same messages in the xlsx: the same, so unchanged.
    assert (by_name["微信公众号文章.json"].accepted, by_name["微信公众号文章.json"].rejected) == (5, 0)
    assert (by_name["微信公众号文章.xlsx"].unchanged, by_name["微信公众号文章.xlsx"].rejected) == (5, 0)
    other = by_name["另一次导出.json"]
    assert (other.accepted, other.rejected) == (4, 1)
    (reject,) = other.rejects
    assert (reject.line, reject.column) == (1, "title") and "半个表情符号" in reject.reason
    with (folder / "另一次导出.json.rejects.csv").open(encoding="utf-8-sig") as handle:
        written = list(csv.DictReader(handle))
    assert written[0]["列"] == "title" and written[0]["title"] == "标题被截断\ufffd"
    assert rows(con, "SELECT count(*) FROM posts WHERE platform = 'wechat'") == [(9,)]
    texts = _texts(con)
    assert {k: texts[k] for k in TEXT_SHARES} == TEXT_SHARES
    con.close()


def test_cli_on_a_json_with_half_an_emoji_says_the_line_and_column(generated, tmp_path):
    """Through the command line (a real process): no traceback, the row's line and column."""
    db = make_store(tmp_path / "cli.duckdb", accounts=GENERATED_REGISTRY)
    path = tmp_path / "posts.json"
    row = {"platform": "weibo", "account_id": "1234567890", "post_id": "e1", "published_at": "2020-03-01 10:00",
           "text": "好消息\ud83c"}
    good = dict(row, post_id="e2", text="好消息🎉")
    path.write_text(json.dumps([row, good]), encoding="utf-8")  # ensure_ascii: "\ud83c" as the exporter writes it
    result = run_cli("import", str(path), "--no-rescore", db=db)
    assert result.returncode == 1, result.stderr  # rejected rows, as any
    assert "Traceback" not in result.stderr, result.stderr
    assert "接受 accepted 1  拒收 rejected 1" in result.stdout
    assert "第 1 条 列「text」" in result.stdout or "第 1 行 列「text」" in result.stdout, result.stdout


def test_a_comments_file_with_half_an_emoji_refuses_that_comment_only(generated, tmp_path):
    """MediaCrawler's comments as JSON Lines (its jsonl writer escapes as json.dumps does): the comment
    whose text holds half an emoji is one rejected row naming 'content'."""
    con = _generated_store(tmp_path, "comments")
    weibo = generated / "mediacrawler" / "current_d6f7c5b" / "data" / "weibo"
    assert import_path(con, weibo / "jsonl" / "creator_contents_2026-08-20.jsonl").rejected == 0
    with (weibo / "csv" / "creator_comments_2026-08-20.csv").open(encoding="utf-8-sig") as handle:
        comments = list(csv.DictReader(handle))[:2]
    comments[0]["content"] = "终于等到了，加油！\ud83c"
    path = tmp_path / "creator_comments_2026-08-20.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in comments), encoding="utf-8")
    report = import_path(con, path).files[0]
    assert (report.accepted, report.rejected) == (1, 1), report.error
    assert (report.rejects[0].line, report.rejects[0].column) == (1, "content")
    con.close()
