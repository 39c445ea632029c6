"""The generic table importer and the bad-input catalogue."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from govmedia.core.errors import UserError
from govmedia.ingest import import_path

from util import dump

HEADER_ZH = ["平台", "账号ID", "内容ID", "发布时间", "采集时间", "是否原创", "形式", "标题", "正文", "链接", "位置",
             "转发数", "评论数", "点赞数", "阅读数", "在看数", "分享数", "播放量", "收藏数"]
GOOD = [
    ["微博", "1234567890", "w1", "2020-05-01 08:00:00", "2020-05-03 08:00:00", "是", "", "", "#南京战疫# 今日通报", "", "",
     "10", "3", "100", "", "", "", "", ""],
    ["微博", "1234567890", "w2", "2020-05-02 09:00", "", "否", "视频", "", "转发微博", "", "", "1.2万", "None", "", "", "",
     "", "", ""],
    ["微信", "MzA5NDAwMDAwMA==", "a1", "2020-05-02T12:00:00+08:00", "", "原创", "", "标题一", "一图读懂 政策", "", "1",
     "", "5", "20", "10万+", "33", "7", "", ""],
]


def write_csv(path: Path, rows, header=HEADER_ZH, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rejects_of(path: Path) -> list[dict]:
    target = path.with_name(path.name + ".rejects.csv")
    with target.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_good_rows_are_stored_with_canonical_values(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", GOOD)
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected, summary.unchanged, summary.exit_code) == (3, 0, 0, 0)
    posts = {r[0]: r[1:] for r in registered.execute(
        "SELECT post_id, published_at, is_original, forms, position FROM posts").fetchall()}
    assert posts["w1"] == (datetime(2020, 5, 1, 0, 0), True, ["text"], None)
    assert posts["w2"] == (datetime(2020, 5, 2, 1, 0), False, ["video"], None)
    assert posts["a1"] == (datetime(2020, 5, 2, 4, 0), True, ["long_image"], 1)
    snaps = {r[0]: r[1:] for r in registered.execute(
        "SELECT post_id, observed_at, reposts, comments, likes, reads, wows, shares FROM snapshots").fetchall()}
    assert snaps["w1"] == (datetime(2020, 5, 3, 0, 0), 10, 3, 100, None, None, None)
    assert snaps["w2"] == (None, 12000, None, None, None, None, None)
    assert snaps["a1"] == (None, None, 5, 20, 100001, 33, 7)
    assert registered.execute("SELECT hashtag FROM post_hashtags").fetchall() == [("南京战疫",)]
    batch = registered.execute("SELECT file_name, format, accepted, rejected, length(sha256) FROM import_batches").fetchall()
    assert batch == [("posts.csv", "generic", 3, 0, 64)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_detected(registered, tmp_path, encoding):
    path = write_csv(tmp_path / "posts.csv", GOOD, encoding=encoding)
    summary = import_path(registered, path)
    assert summary.accepted == 3
    assert registered.execute("SELECT text FROM posts WHERE post_id = 'w1'").fetchall() == [("#南京战疫# 今日通报",)]


def test_english_headers_and_json_and_jsonl(registered, tmp_path):
    rows = [
        {"platform": "weibo", "account_id": "1234567890", "post_id": "e1", "published_at": "2020-06-01T00:00:00Z",
         "is_original": True, "text": "hello", "reposts": 4, "comments": 2},
        {"platform": "douyin", "account_id": "98765432100", "post_id": "e2", "published_at": 1590969600,
         "observed_at": 1591056000000, "likes": "3.5万", "shares": 10, "plays": 99999},
    ]
    (tmp_path / "a.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    summary = import_path(registered, tmp_path / "a.json")
    assert (summary.accepted, summary.rejected) == (2, 0)
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    summary = import_path(registered, tmp_path / "b.jsonl")
    assert (summary.accepted, summary.rejected, summary.unchanged) == (0, 0, 2)
    assert registered.execute("SELECT likes, plays FROM snapshots WHERE post_id='e2'").fetchall() == [(35000, 99999)]


def test_xlsx_with_data_not_on_first_sheet(registered, tmp_path):
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "说明"
    notes.append(["本表为 2020 年 5 月的发布数据，由人工整理。"])
    data = workbook.create_sheet("数据")
    data.append(["南京市政务新媒体发布统计"])  # a title row above the header
    data.append(HEADER_ZH)
    for row in GOOD:
        data.append(row)
    data.append(["微博", 1234567890, 20200503, datetime(2020, 5, 3, 10, 0), None, "是", None, None, "数字单元格",
                 None, None, 5, 6, 7, None, None, None, None, None])
    workbook.save(tmp_path / "posts.xlsx")
    summary = import_path(registered, tmp_path / "posts.xlsx")
    assert (summary.accepted, summary.rejected) == (4, 0)
    row = registered.execute("SELECT account_id, published_at FROM posts WHERE post_id = '20200503'").fetchall()
    assert row == [("1234567890", datetime(2020, 5, 3, 2, 0))]


REJECTS = [
    # (row, reason fragment, column)
    (["微博", "1234567890", "", "2020-05-01 08:00", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "缺少内容ID", "内容ID"),
    (["微博", "1234567890", "r2", "", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "缺少发布时间", "发布时间"),
    (["微博", "1234567890", "r3", "五月一日", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "无法解析的时间", "发布时间"),
    (["微博", "1234567890", "r4", "2020-05-01 08:00", "", "", "", "", "x", "", "", "-5", "", "", "", "", "", "", ""], "负数", "转发数"),
    (["微博", "1234567890", "r5", "2020-05-01 08:00", "", "", "", "", "x", "", "", "很多", "", "", "", "", "", "", ""], "不是数字", "转发数"),
    (["推特", "1234567890", "r6", "2020-05-01 08:00", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "未知平台", "平台"),
    (["微博", "999", "r7", "2020-05-01 08:00", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "不在账号名录中", "账号ID"),
    (["微博", "1234567890", "r8", "2020-05-05 08:00", "2020-05-04 08:00", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "晚于采集时间", "发布时间"),
    (["微博", "1234567890", "r9", "2020-05-01 08:00", "", "也许", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "是/否", "是否原创"),
    (["微博", "1234567890", "r10", "2020-05-01 08:00", "", "", "全息", "", "x", "", "", "1", "", "", "", "", "", "", ""], "未知形式", "形式"),
    (["微博", "1234567890", "r11", "2020-05-01 08:00", "", "", "", "", "x", "", "0", "1", "", "", "", "", "", "", ""], "从 1 开始", "位置"),
    (["微博", "", "r12", "2020-05-01 08:00", "", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "缺少账号ID", "账号ID"),
    (["微博", "1234567890", "r13", "2020-05-01 08:00", "later", "", "", "", "x", "", "", "1", "", "", "", "", "", "", ""], "无法解析的时间", "采集时间"),
]


def test_each_bad_row_is_rejected_with_line_column_and_reason(registered, tmp_path):
    rows = GOOD + [r for r, _, _ in REJECTS]
    path = write_csv(tmp_path / "posts.csv", rows)
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected, summary.exit_code) == (3, len(REJECTS), 1)
    rejects = rejects_of(path)
    assert len(rejects) == len(REJECTS)
    for index, (reject, (row, reason, column)) in enumerate(zip(rejects, REJECTS)):
        assert reject["行号"] == str(len(GOOD) + 2 + index)  # header is line 1
        assert reason in reject["原因"], (reject, reason)
        assert reject["列"] == column
        assert reject["内容ID"] == row[2]  # the row as read follows
    # Valid rows are not lost because of bad ones.
    assert registered.execute("SELECT count(*) FROM posts").fetchall() == [(3,)]


def test_rejects_dir_and_stale_rejects_file(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", GOOD + [REJECTS[0][0]])
    import_path(registered, path, rejects_dir=tmp_path / "rejects")
    assert (tmp_path / "rejects" / "posts.csv.rejects.csv").exists()
    assert not (tmp_path / "posts.csv.rejects.csv").exists()
    write_csv(tmp_path / "posts.csv", [REJECTS[0][0]])
    import_path(registered, path)
    assert (tmp_path / "posts.csv.rejects.csv").exists()
    write_csv(tmp_path / "posts.csv", GOOD)
    import_path(registered, path)
    assert not (tmp_path / "posts.csv.rejects.csv").exists()  # no stale file contradicting the last run


def test_multiline_quoted_text_keeps_line_numbers_right(registered, tmp_path):
    rows = [GOOD[0][:8] + ["第一行\n第二行\n第三行"] + GOOD[0][9:], REJECTS[0][0]]
    path = write_csv(tmp_path / "posts.csv", rows)
    import_path(registered, path)
    assert rejects_of(path)[0]["行号"] == "5"  # header 1, the three-line row 2-4


def test_reimport_changes_nothing(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", GOOD + [REJECTS[0][0]])
    import_path(registered, path)
    before = dump(registered)
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected, summary.unchanged) == (0, 1, 3)
    assert dump(registered) == before


def test_updated_counts_replace_the_undated_snapshot(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", GOOD)
    import_path(registered, path)
    changed = [list(r) for r in GOOD]
    changed[1][11] = "2万"
    write_csv(tmp_path / "posts.csv", changed)
    summary = import_path(registered, path)
    assert (summary.accepted, summary.unchanged) == (1, 2)
    rows = registered.execute("SELECT observed_at, reposts FROM snapshots WHERE post_id = 'w2'").fetchall()
    assert rows == [(None, 20000)]
    assert registered.execute("SELECT count(*) FROM import_batches").fetchall() == [(2,)]


def test_dated_snapshots_accumulate(registered, tmp_path):
    first = write_csv(tmp_path / "day1.csv", [GOOD[0]])
    later = list(GOOD[0])
    later[4] = "2020-05-20 08:00:00"
    later[11] = "50"
    second = write_csv(tmp_path / "day2.csv", [later])
    import_path(registered, first)
    import_path(registered, second)
    rows = registered.execute("SELECT observed_at, reposts FROM snapshots WHERE post_id='w1' ORDER BY 1").fetchall()
    assert rows == [(datetime(2020, 5, 3), 10), (datetime(2020, 5, 20), 50)]


def test_duplicate_rows(registered, tmp_path):
    conflicting = list(GOOD[0])
    conflicting[11] = "11"
    undated_newer = list(GOOD[1])
    undated_newer[11] = "2万"
    path = write_csv(tmp_path / "posts.csv", GOOD + [GOOD[0], conflicting, undated_newer])
    summary = import_path(registered, path)
    # Exact duplicate: unchanged. Same post and observation time with other numbers: rejected.
    # An undated row seen again further down is the newer crawl and replaces the earlier one.
    assert (summary.accepted, summary.rejected, summary.unchanged) == (4, 1, 1)
    assert "数值不同" in rejects_of(path)[0]["原因"]
    assert registered.execute("SELECT reposts FROM snapshots WHERE post_id='w2'").fetchall() == [(20000,)]


def test_post_id_of_another_account_is_rejected(registered, tmp_path):
    import_path(registered, write_csv(tmp_path / "a.csv", [GOOD[0]]))
    stolen = list(GOOD[0])
    stolen[1] = "2222222222"
    path = write_csv(tmp_path / "b.csv", [stolen])
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected) == (0, 1)
    assert "已登记为账号 1234567890" in rejects_of(path)[0]["原因"]


def test_account_option_and_row_of_another_platform(registered, tmp_path):
    header = ["内容ID", "发布时间", "转发数", "平台"]
    rows = [["f1", "2020-05-01 10:00", "1", ""], ["f2", "2020-05-01 11:00", "2", "微信"]]
    path = write_csv(tmp_path / "posts.csv", rows, header=header)
    summary = import_path(registered, path, account="weibo:1234567890")
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert "与指定账号的平台微博不符" in rejects_of(path)[0]["原因"]


def test_account_option_must_be_registered(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", GOOD)
    with pytest.raises(UserError, match="不在账号名录中"):
        import_path(registered, path, account="weibo:42")
    with pytest.raises(UserError, match="平台:账号ID"):
        import_path(registered, path, account="1234567890")


@pytest.mark.parametrize("content, message", [(b"", "文件为空"), (b"\n\n  \n", "文件为空"), (b"\xff\xfe\x00", None)])
def test_unreadable_file_reports_exit_code_2(registered, tmp_path, content, message):
    path = tmp_path / "posts.csv"
    path.write_bytes(content)
    summary = import_path(registered, path)
    assert summary.exit_code == 2
    assert summary.files[0].error
    if message:
        assert message in summary.files[0].error


def test_header_only_file_imports_nothing(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", [])
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected, summary.exit_code) == (0, 0, 0)
    assert registered.execute("SELECT count(*) FROM import_batches").fetchall() == [(1,)]


def test_missing_required_columns_is_a_file_error(registered, tmp_path):
    path = write_csv(tmp_path / "posts.csv", [["x"]], header=["正文"])
    summary = import_path(registered, path, format="generic")
    assert summary.exit_code == 2
    assert "内容ID" in summary.files[0].error


def test_broken_jsonl_line_is_one_reject(registered, tmp_path):
    good = {"platform": "weibo", "account_id": "1234567890", "post_id": "j1", "published_at": "2020-05-01 10:00"}
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps(good) + "\n{broken\n", encoding="utf-8")
    summary = import_path(registered, path)
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert "JSON 格式错误" in rejects_of(path)[0]["原因"]
    assert rejects_of(path)[0]["行号"] == "2"


def test_failed_write_leaves_store_as_before(registered, tmp_path):
    import govmedia.ingest.pipeline as pipeline
    from govmedia.ingest.forms import load_classifier

    import_path(registered, write_csv(tmp_path / "a.csv", [GOOD[0]]))
    before = dump(registered)

    def explode():
        raise RuntimeError("disk full")

    ctx = pipeline.load_context(registered, None)
    with pytest.raises(RuntimeError):
        pipeline.import_file(registered, write_csv(tmp_path / "b.csv", GOOD), ctx=ctx,
                             classifier=load_classifier(), before_commit=explode)
    assert dump(registered) == before


def test_hashtags_weibo_and_douyin_styles():
    from govmedia.core.vocabulary import extract_hashtags

    assert extract_hashtags("#南京战疫##文明旅游# 正文 #XX #") == ("南京战疫", "文明旅游")
    # Douyin topics have no closing "#".
    assert extract_hashtags("#南京 XX路今天恢复通行啦！ #城市更新", platform="douyin") == ("南京", "城市更新")


@pytest.mark.parametrize("unit_seconds, unit_count", [(60.0, 1), (0.0, 12)])
def test_a_folder_takes_the_store_for_runs_of_files_each_file_its_own_transaction(tmp_path, unit_seconds,
                                                                                   unit_count, monkeypatch):
    """Through the store's write units (the site, `govmedia import`), a folder's files share a unit
    for up to `_UNIT_SECONDS` of writing (opening and closing the store per file cost more than
    the writes), then the unit is let go; every file still has its own batch and transaction."""
    import govmedia.ingest.pipeline as pipeline
    from govmedia.store.access import Access

    from conftest import REGISTRY
    from util import fill_store

    access = Access(tmp_path / "s.duckdb")
    with access.write() as con:
        fill_store(con, accounts=REGISTRY, folder=tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(12):
        row = list(GOOD[0])
        row[2] = f"f{n}"
        write_csv(folder / f"{n:02}.csv", [row])
    (folder / "bad.csv").write_bytes(b"")  # refused whole: it needs no unit
    units = []

    def connect(**kwargs):
        units.append(kwargs)
        return access.write(**kwargs)

    monkeypatch.setattr(pipeline, "_UNIT_SECONDS", unit_seconds)
    summary = import_path(connect, folder)
    assert (summary.accepted, summary.rejected) == (12, 0)
    assert [f.error for f in summary.files if f.error] == ["文件为空"]
    assert len([u for u in units if u.get("declared")]) == unit_count
    with access.read() as con:
        assert con.execute("SELECT count(*), count(DISTINCT batch_id) FROM posts").fetchall() == [(12, 12)]


DEEP = "[" * 100_000 + "]" * 100_000  # past Python's recursion limit: json.loads raises RecursionError


def test_a_json_file_nested_100000_deep_is_one_error_and_the_folder_s_other_files_import(registered, tmp_path):
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "a_deep.json").write_text(DEEP, encoding="utf-8")
    (folder / "b_wrapped.json").write_text('{"data": ' + DEEP + "}", encoding="utf-8")
    good = {"platform": "weibo", "account_id": "1234567890", "post_id": "j1", "published_at": "2020-05-01 10:00"}
    deep_line = '{"platform": "weibo", "text": ' + DEEP + "}"
    (folder / "c_lines.jsonl").write_text(json.dumps(good) + "\n" + deep_line + "\n", encoding="utf-8")
    write_csv(folder / "d_posts.csv", GOOD)
    summary = import_path(registered, folder)
    by_name = {f.path.name: f for f in summary.files}
    for name in ("a_deep.json", "b_wrapped.json"):
        assert "嵌套层数过深" in by_name[name].error and "\n" not in by_name[name].error
    assert (by_name["c_lines.jsonl"].accepted, by_name["c_lines.jsonl"].rejected) == (1, 1)  # one line, one reject
    assert "嵌套层数过深" in rejects_of(folder / "c_lines.jsonl")[0]["原因"]
    assert (by_name["d_posts.csv"].accepted, by_name["d_posts.csv"].rejected) == (3, 0)
    assert summary.exit_code == 2


def test_the_cli_says_a_too_deep_json_in_one_line_and_imports_the_rest(tmp_path):
    from util import REGISTRY, make_store, run_cli

    db = make_store(tmp_path / "s.duckdb", accounts=REGISTRY)
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "deep.json").write_text(DEEP, encoding="utf-8")
    write_csv(folder / "posts.csv", GOOD)
    result = run_cli("import", str(folder), "--no-rescore", db=db)
    assert result.returncode == 2, result.stderr  # as for an unreadable file
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "deep.json" in lines[0] and "嵌套层数过深" in lines[0], result.stderr
    assert "posts.csv" in result.stdout and "接受 accepted 3" in result.stdout, result.stdout
