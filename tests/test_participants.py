"""Who takes part in a period (issue 25, faults 5 and 10): an account without a post in the period
is listed after the ranked ones with an empty rank and 本期无数据 and is not counted; a deactivated
account (停用日期) leaves the periods that start after that date; a rank-change column whose
comparison period has no scores says so in its header and stays empty."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

import duckdb
import openpyxl
import pytest

from util import PASSWORD, cli, make_store, open_made

# A and B post in February and March, C only in March (新 in March), N never (registered later).
ACCOUNTS = """平台,账号ID,名称,类别
微博,A,甲区发布,区级
微博,B,乙区发布,区级
微博,C,丙区发布,区级
微博,N,新区发布,区级
微信,W,微信一,综合
"""
POSTS = """平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞,阅读,在看,分享,位置
微博,A,a1,2020-02-05 10:00,是,通报,10,5,3,,,,
微博,A,a2,2020-03-05 10:00,是,视频,20,1,0,,,,
微博,B,b1,2020-02-06 10:00,是,一图读懂,30,10,1,,,,
微博,B,b2,2020-03-06 10:00,是,转发,3,0,1,,,,
微博,C,c1,2020-03-07 10:00,是,新区,90,40,1,,,,
微信,W,w1,2020-02-07 20:00,是,头条,,,4,150000,9,2,1
"""


@pytest.fixture
def db(tmp_path):
    return make_store(tmp_path / "p.duckdb", accounts=ACCOUNTS, posts=POSTS, score=("2020-02", "2020-03"),
                      users=True, password=PASSWORD)


@pytest.fixture
def client(db):
    from fastapi.testclient import TestClient

    from govmedia.web import create_app

    app = create_app(db, secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.store.close()


def _rank(db, start, end, *args):
    result = cli("rank", "--platform", "weibo", "--category", "district", "--from", start, "--to", end, *args, db=db)
    assert result.exit_code == 0, result.stderr
    return result


def _table_rows(html: str) -> list[list[str]]:
    """The leaderboard's body rows, each as its cells' text."""
    body = html.split('id="ranking"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


# --------------------------------------------------------------------------- fault 5: no post, no rank


def test_account_without_posts_is_listed_after_unranked_in_cli_and_library(db):
    from govmedia.ranking import rank

    with open_made(db) as con:
        rows = rank(con, "weibo", "district", "2020-02", "2020-02")
    assert [(r["account_id"], r["rank"]) for r in rows] == [("B", 1), ("A", 2), ("C", None), ("N", None)]
    assert rows[-1]["note"] == "本期无数据" and rows[-1]["score"] is None and rows[0]["note"] is None

    listed = list(csv.DictReader(io.StringIO(_rank(db, "2020-02", "2020-03", "--format", "csv").stdout)))
    assert [(r["account_id"], r["rank"], r["score"] == "", r["note"]) for r in listed][-1] == ("N", "", True, "本期无数据")
    assert [r["rank"] for r in listed[:3]] == ["1", "2", "3"]
    as_json = json.loads(_rank(db, "2020-02", "2020-03", "--format", "json").stdout)
    assert as_json[-1]["account_id"] == "N" and as_json[-1]["rank"] is None and as_json[-1]["note"] == "本期无数据"
    table = _rank(db, "2020-02", "2020-03").stdout
    assert "本期无数据" in table and table.index("丙区发布") < table.index("新区发布")
    # --top cuts the ranked rows: the unranked are not in any top N
    top = json.loads(_rank(db, "2020-02", "2020-03", "--top", "2", "--format", "json").stdout)
    assert all(r["rank"] is not None for r in top)
    # intervals: ranked among the participants only
    with open_made(db) as con:
        rows = rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
    assert max(r["rank_high"] for r in rows if r["rank"] is not None) <= 3
    assert rows[-1]["rank_low"] is None


def test_overview_and_report_count_participants_only(db, tmp_path):
    from govmedia.ranking.overview import overview
    from govmedia.reports import build_report
    from govmedia.reports.xlsx import write_xlsx

    with open_made(db) as con:
        weibo = next(t for t in overview(con, "2020-02", "2020-03") if t.platform == "weibo")
        assert weibo.accounts == 3  # A, B, C: not N (registered, no post)
        february = next(t for t in overview(con, "2020-02", "2020-02") if t.platform == "weibo")
        assert february.accounts == 2
        model = build_report(con, "2020-02", "2020-03")
    district = next(k for k in model.rankings if k.platform == "weibo" and k.category == "district")
    assert len(district.full) == 3
    assert any("本类共3个账号" in p for p in district.commentary)
    assert district.table_rows()[-1] == ["", "新区发布", "本期无数据"]
    assert all(row[0] for row in district.table_rows()[:-1])
    assert any(re.search(r"微博\S*3个，", p) for p in model.overview.paragraphs), model.overview.paragraphs
    path = write_xlsx(model, tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(path)["微博-区级"]
    header = [c.value for c in sheet[1]]
    last = dict(zip(header, [c.value for c in sheet[sheet.max_row]]))
    assert last["名称"] == "新区发布" and last["排名"] is None and last["备注"] == "本期无数据"
    assert sheet.max_row == 5  # header, three ranked, one without data


def test_site_and_api_list_the_account_without_posts_after_the_ranked(client):
    page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03")
    assert page.status_code == 200
    rows = _table_rows(page.text)
    assert [r[0] for r in rows] == ["1", "2", "3", ""]
    assert rows[-1][1] == "新区发布" and rows[-1][2] == "本期无数据"
    assert "0.00" not in "".join(rows[-1])
    with_intervals = _table_rows(client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03"
                                            "&intervals=true").text)
    assert len({len(r) for r in with_intervals}) == 1  # every row has every cell: the table sorts
    download = client.get("/rankings.csv?platform=weibo&category=district&from=2020-02&to=2020-03")
    assert "本期无数据" in download.text.splitlines()[-1]
    workbook = client.get("/rankings.xlsx?platform=weibo&category=district&from=2020-02&to=2020-03")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert [c.value for c in sheet[sheet.max_row]][-1] == "本期无数据" and sheet.cell(sheet.max_row, 1).value is None
    api = client.get("/api/v1/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").json()
    assert [r["rank"] for r in api] == [1, 2, 3, None]
    assert api[-1]["note"] == "本期无数据" and api[-1]["score"] is None
    overview = client.get("/?from=2020-02&to=2020-03").text
    weibo = overview.split("微博", 1)[1]
    assert re.search(r"<dt>账号</dt><dd>3</dd>", weibo)


def test_account_page_does_not_count_the_account_without_posts(client):
    page = client.get("/accounts/weibo/A?from=2020-02&to=2020-03")
    assert page.status_code == 200
    assert "/ 3</p>" in page.text  # 区级类第 N 名 / 3: A, B, C


# --------------------------------------------------------------------------- fault 5: 停用日期


def test_deactivated_account_leaves_later_periods_only(db):
    result = cli("accounts", "deactivate", "weibo:B", "--date", "2020-02-20", db=db)
    assert result.exit_code == 0, result.stderr
    assert "停用日期 2020-02-20" in result.stdout
    march = [r["account_id"] for r in json.loads(_rank(db, "2020-03", "2020-03", "--format", "json").stdout)]
    assert "B" not in march and march[:2] == ["C", "A"]
    february = json.loads(_rank(db, "2020-02", "2020-02", "--format", "json").stdout)
    assert [r["account_id"] for r in february if r["rank"] is not None] == ["B", "A"]
    both = json.loads(_rank(db, "2020-02", "2020-03", "--format", "json").stdout)
    assert "B" in [r["account_id"] for r in both if r["rank"] is not None]  # the period starts before the date
    from govmedia.ranking.overview import overview

    with open_made(db) as con:
        assert next(t for t in overview(con, "2020-03", "2020-03") if t.platform == "weibo").accounts == 2
        assert next(t for t in overview(con, "2020-02", "2020-02") if t.platform == "weibo").accounts == 2
    listed = cli("accounts", "list", "--format", "csv", db=db).stdout
    assert "2020-02-20" in listed
    # reactivated: the date is cleared, March ranks it again
    assert cli("accounts", "activate", "weibo:B", db=db).exit_code == 0
    march = json.loads(_rank(db, "2020-03", "2020-03", "--format", "json").stdout)
    assert "B" in [r["account_id"] for r in march]


def test_deactivation_without_a_date_is_today_in_beijing(db):
    from govmedia.core.time import local_date, utcnow

    assert cli("accounts", "deactivate", "新区发布", db=db).exit_code == 0
    with open_made(db) as con:
        stored = con.execute("SELECT active, deactivated_on FROM accounts WHERE account_id = 'N'").fetchall()
    assert stored == [(False, local_date(utcnow()))]
    with open_made(db) as con:  # the audit entry names the date it recorded
        detail = con.execute("SELECT detail FROM audit_log ORDER BY entry_id DESC LIMIT 1").fetchall()[0][0]
    assert str(local_date(utcnow())) in detail, detail
    bad = cli("accounts", "deactivate", "weibo:A", "--date", "2020-13-40", db=db)
    assert bad.exit_code == 2 and "停用日期" in bad.stderr and "Traceback" not in bad.stderr


def test_site_form_deactivates_with_the_date_given(client, db):
    from test_web_api import sign_in

    csrf = sign_in(client, "editor1")
    confirm = client.post("/data/accounts/change", data={"csrf_token": csrf, "platform": "weibo", "account_id": "B",
                                                         "active": "0"})
    assert confirm.status_code == 200 and 'name="deactivated_on"' in confirm.text and "停用日期" in confirm.text
    done = client.post("/data/accounts/change", data={"csrf_token": csrf, "platform": "weibo", "account_id": "B",
                                                      "active": "0", "deactivated_on": "2020-02-20", "confirm": "1"},
                       follow_redirects=True)
    assert "已停用" in done.text and "2020-02-20" in done.text
    march = client.get("/api/v1/rankings?platform=weibo&category=district&from=2020-03&to=2020-03").json()
    assert "B" not in [r["account_id"] for r in march]
    accounts = {a["account_id"]: a for a in client.get("/api/v1/accounts?platform=weibo").json()}
    assert accounts["B"]["deactivated_on"] == "2020-02-20" and accounts["A"]["deactivated_on"] is None
    february = client.get("/api/v1/rankings?platform=weibo&category=district&from=2020-02&to=2020-02").json()
    assert "B" in [r["account_id"] for r in february if r["rank"] is not None]


def test_registry_file_takes_the_deactivation_date(tmp_path):
    from govmedia.ingest.accounts import import_accounts
    from govmedia.store import open_store

    path = tmp_path / "名录.csv"
    path.write_text("平台,账号ID,名称,类别,状态,停用日期\n微博,A,甲,区级,,2020-06-30\n微博,B,乙,区级,停用,\n"
                    "微博,C,丙,区级,启用,2020-06-30\n微博,D,丁,区级,停用,2020-13-01\n", encoding="utf-8")
    con = open_store(tmp_path / "s.duckdb")
    try:
        _, result, rejects = import_accounts(con, path, None)
        stored = con.execute("SELECT account_id, active, deactivated_on FROM accounts ORDER BY 1").fetchall()
    finally:
        con.close()
    assert stored == [("A", False, date(2020, 6, 30)), ("B", False, None)]
    assert [(r.line, r.column) for r in rejects] == [(4, "停用日期"), (5, "停用日期")]
    assert "状态为启用" in rejects[0].reason


def test_old_store_gets_the_column_and_inactive_accounts_keep_working(tmp_path):
    from govmedia.ranking import rank
    from govmedia.store import migrate, open_store
    from govmedia.store.migrations import CURRENT_VERSION

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=CURRENT_VERSION - 1)
    con.execute("INSERT INTO accounts (platform, account_id, name, category, active, updated_at) VALUES "
                "('weibo', 'A', '甲', 'district', TRUE, ?), ('weibo', 'Z', '旧停用', 'district', FALSE, ?)",
                [datetime(2020, 1, 1), datetime(2020, 1, 1)])
    con.close()
    con = open_store(path)
    try:
        assert con.execute("SELECT account_id, active, deactivated_on FROM accounts ORDER BY 1").fetchall() == \
            [("A", True, None), ("Z", False, None)]
        from govmedia.store.accounts import list_accounts

        assert [a["deactivated_on"] for a in list_accounts(con)] == [None, None]
    finally:
        con.close()
    # listed and deactivated again, a date-less inactive account keeps working
    assert cli("accounts", "list", db=path).exit_code == 0
    result = cli("accounts", "deactivate", "weibo:Z", "--date", "2019-12-31", db=path)
    assert result.exit_code == 0, result.stderr
    with open_made(path) as con:
        assert con.execute("SELECT deactivated_on FROM accounts WHERE account_id = 'Z'").fetchall() == \
            [(date(2019, 12, 31),)]
        assert rank is not None


# --------------------------------------------------------------------------- fault 10: no comparison


def test_rank_change_header_says_when_the_comparison_has_no_data(client):
    # 2020-02's previous period, 2020-01, has no scores: the header says so, the cells stay empty
    page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-02").text
    assert "上期无数据" in page and "名次变化对比 2020年1月" not in page
    assert all(r[-1] == "" for r in _table_rows(page))
    # a multi-month period is compared with the same months a year earlier
    page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").text
    assert "上年同期无数据" in page and "名次变化对比 2019年2-3月" not in page
    assert all(r[-1] == "" for r in _table_rows(page))
    # a normal comparison: numbers, 新 and — as before
    page = client.get("/rankings?platform=weibo&category=district&from=2020-03&to=2020-03").text
    assert "名次变化对比 2020年2月" in page and "上期无数据" not in page
    changes = {r[1]: r[-1] for r in _table_rows(page)}
    # February: B 1, A 2; March: C 1 (new), A 2 (no change: —), B 3 (down 2); N has no post: empty
    assert changes == {"丙区发布": "新", "甲区发布": "—", "乙区发布": "↓2", "新区发布": ""}
    page = client.get("/rankings?platform=wechat&category=comprehensive&from=2020-03&to=2020-03").text
    assert [r[-1] for r in _table_rows(page)] == [""]  # W posted nothing in March: unranked, empty


def test_report_says_the_comparison_period_has_no_data(db):
    from govmedia.reports import build_report

    with open_made(db) as con:
        model = build_report(con, "2020-02", "2020-03")
        month = build_report(con, "2020-02", "2020-02")
    district = next(k for k in model.rankings if k.platform == "weibo" and k.category == "district")
    assert any("上年同期无数据，不比较名次变化" in p for p in district.commentary)
    assert not any("2019年2-3月" in p for p in district.commentary)
    february = next(k for k in month.rankings if k.platform == "weibo" and k.category == "district")
    assert any("上期无数据，不比较名次变化" in p for p in february.commentary)
