"""The evaluation commands as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from util import cli, make_store

ACCOUNTS = """平台,账号ID,名称,类别
微博,A,甲区发布,区级
微博,B,乙区发布,区级
微信,W,微信一,综合
"""
POSTS = """平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞,阅读,在看,分享,位置
微博,A,a1,2020-02-05 10:00,是,#南京战疫# 通报,10,5,3,,,,
微博,A,a2,2020-03-05 10:00,是,视频,20,1,0,,,,
微博,B,b1,2020-02-06 10:00,否,转发,3,0,1,,,,
微信,W,w1,2020-02-07 20:00,是,头条,,,4,150000,9,2,1
"""


CAMPAIGNS = "campaign_id,name,start,end,hashtags\nC1,战疫,2020-02-01,2020-02-29,南京战疫\n"


@pytest.fixture
def db(tmp_path):
    return make_store(tmp_path / "x.duckdb", accounts=ACCOUNTS, posts=POSTS, campaigns=CAMPAIGNS)


def test_rank_before_score_says_what_to_do(db):
    result = cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03", db=db)
    assert result.exit_code == 2
    assert "尚未计算分数：先运行 govmedia score（2020-02 至 2020-03）" in result.stderr
    assert "Traceback" not in result.stderr and "{step" not in result.stderr


def test_score_rank_export_index_explain(db, tmp_path):
    result = cli("score", "--from", "2020-02", "--to", "2020-03", db=db)
    assert result.exit_code == 0, result.stderr
    assert "GMI-1" in result.stdout

    ranked = cli("rank", "--platform", "微博", "--category", "区级", "--from", "2020-02", "--to", "2020-03",
                     "--format", "csv", db=db)
    rows = list(csv.DictReader(io.StringIO(ranked.stdout)))
    assert [r["account_id"] for r in rows] == ["A", "B"]
    assert list(rows[0]) == ["rank", "platform", "category", "account_id", "name", "score", "reach", "engagement",
                             "innovation", "influence", "flagged_posts", "flagged_share", "note"]
    # A leads every dimension that anyone scored: February 0.3·100 + 0.3·100 + 0.2·100 (the campaign;
    # nobody innovated) = 80; March 0.3·100 + 0.3·100 + 0.2·100 (video; no influence) = 80.
    assert abs(float(rows[0]["score"]) - 160.0) < 1e-9

    as_json = json.loads(cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02",
                                 "--to", "2020-03", "--format", "json", db=db).stdout)
    assert [r["rank"] for r in as_json] == [1, 2] and as_json[0]["score"] == float(rows[0]["score"])
    # The table people read names the platform and category as 微博 and 区级 (as `accounts list` does);
    # csv and json keep the codes.
    table = cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
                db=db).stdout
    assert "微博" in table and "区级" in table and "weibo" not in table and "district" not in table
    assert rows[0]["platform"] == "weibo" and as_json[0]["category"] == "district"

    xlsx = tmp_path / "rank.xlsx"
    cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
            "--format", "xlsx", "--out", str(xlsx), db=db)
    sheet = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in sheet[2]][:5] == [1, "weibo", "district", "A", "甲区发布"]
    table = cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03", db=db)
    assert "2-3月" in table.stdout and "甲区发布" in table.stdout

    exported = cli("scores", "export", "--from", "2020-02", "--to", "2020-03", "--format", "csv", db=db)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert list(rows[0]) == ["platform", "account_id", "name", "category", "month", "reach", "engagement",
                             "innovation", "influence", "total", "methodology", "methodology_sha256"]
    assert len(rows) == 3 * 2 and {r["methodology"] for r in rows} == {"GMI-1"}
    parquet = tmp_path / "scores.parquet"
    assert cli("scores", "export", "--from", "2020-02", "--to", "2020-03", "--format", "parquet",
                   "--out", str(parquet), db=db).exit_code == 0
    assert duckdb.connect().execute(f"SELECT count(*) FROM '{parquet}'").fetchall() == [(6,)]

    wci = json.loads(cli("index", "wci", "--from", "2020-02", "--to", "2020-02", "--format", "json", db=db).stdout)
    assert wci[0]["account_id"] == "W" and wci[0]["wci"] > 0
    bci = cli("index", "bci", "--from", "2020-02", "--to", "2020-02", "--format", "csv", db=db)
    assert bci.stdout.splitlines()[0] == "platform,account_id,name,bci"

    explained = cli("explain", "weibo:A", "--month", "2020-02", db=db)
    assert explained.exit_code == 0
    assert "传播力" in explained.stdout and "最大原始值" in explained.stdout and "C1" not in explained.stdout
    assert "参与联动宣传 1 项" in explained.stdout


def test_bad_options_are_one_line_errors(db):
    for args in (
        ["score", "--from", "2020-13", "--to", "2020-14"],
        ["score", "--from", "2020-05", "--to", "2020-02"],
        ["rank", "--platform", "twitter", "--category", "district", "--from", "2020-02", "--to", "2020-02"],
        ["index", "xyz", "--from", "2020-02", "--to", "2020-02"],
        ["explain", "weibo:NOPE", "--month", "2020-02"],
        ["scores", "export", "--from", "2020-02", "--to", "2020-02", "--format", "parquet"],
        ["score", "--from", "2020-02", "--to", "2020-02", "--methodology", "/nonexistent.toml"],
    ):
        result = cli(*args, db=db)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_custom_methodology_is_recorded(db, tmp_path):
    from importlib import resources

    text = resources.files("govmedia.methodology").joinpath("gmi-1.toml").read_text(encoding="utf-8")
    custom = tmp_path / "my.toml"
    custom.write_text(text.replace('name = "GMI-1"', 'name = "GMI-1-南京"').replace("reach = 0.30", "reach = 0.40")
                      .replace("engagement = 0.30", "engagement = 0.20"), encoding="utf-8")
    assert cli("score", "--from", "2020-02", "--to", "2020-02", "--methodology", str(custom), db=db).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(cli("scores", "export", "--from", "2020-02", "--to", "2020-02", db=db).stdout)))
    import hashlib

    assert {r["methodology"] for r in rows} == {"GMI-1-南京"}
    assert {r["methodology_sha256"] for r in rows} == {hashlib.sha256(custom.read_bytes()).hexdigest()}
    a = next(r for r in rows if r["account_id"] == "A")
    assert abs(float(a["total"]) - (0.4 * float(a["reach"]) + 0.2 * float(a["engagement"]) +
                                    0.2 * float(a["innovation"]) + 0.2 * float(a["influence"]))) < 1e-9
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("sum_reposts = 1", "sum_nonsense = 1"), encoding="utf-8")
    result = cli("score", "--from", "2020-02", "--to", "2020-02", "--methodology", str(broken), db=db)
    assert result.exit_code == 2 and "sum_nonsense" in result.stderr


def test_cases_import_rejects_two_platforms(db, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("案例编号,标题,月份,类别,单位,得分,平台,账号ID\n"
                    "K1,好案例,2020-02,信息发布类,甲区,30,微博,A\n"
                    "K2,跨平台,2020-02,宣传推广类,甲区,20,,weibo:A;wechat:W\n"
                    "K3,超分,2020-02,宣传推广类,甲区,120,微博,A\n", encoding="utf-8")
    result = cli("cases", "import", str(path), db=db)
    assert result.exit_code == 1
    assert "保存 1" in result.stdout and "一个主要平台" in result.stdout and "0–100" in result.stdout
    listed = json.loads(cli("cases", "list", "--format", "json", db=db).stdout)
    assert [c["case_id"] for c in listed] == ["K1"]


def test_city_index_reproduces_the_white_paper_tables(tmp_path):
    seed = Path(__file__).parent.parent / "src" / "govmedia" / "demo" / "data" / "seed_city_competitiveness.csv"
    result = cli("city-index", str(seed), "--format", "json")
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    expected = list(csv.DictReader(seed.open(encoding="utf-8")))
    assert [(g["table"], g["rank"], g["city"]) for g in got] == [(e["table"], int(e["rank"]), e["city"]) for e in expected]
    for g, e in zip(got, expected):
        assert abs(g["competitiveness"] - float(e["competitiveness"])) <= 0.01
