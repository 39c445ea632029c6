"""Editing a case or a campaign (issue 25, fault 4): the edit form is prefilled, an empty field keeps
the stored value unless it is cleared explicitly, and the audit entry holds the old and new values.
The same rule through every door: the site's form, the API, a case/campaign file (CLI and library)."""

from __future__ import annotations

import html
import json
import re

import pytest

from govmedia.store import open_store

from util import cli
from test_web_api import basic, sign_in

TEXT = "2月起每日发布南京战疫通报，连续31天新增为0。"
CASE = {"case_id": "2020-08", "title": "战疫通报", "month": "2020-02", "category": "信息发布类", "unit": "甲区委宣传部",
        "score": "30", "platform": "weibo", "account_ids": "A", "text": TEXT, "post_ids": "a1", "hashtags": "南京战疫"}
CAMPAIGN = {"campaign_id": "P1", "name": "战疫联动", "start": "2020-02-01", "end": "2020-02-29", "hashtags": "南京战疫;复工"}


def stored(client, sql: str, *params):
    with client.app.state.store.read() as con:
        return con.execute(sql, list(params)).fetchall()


def last_audit(client, action: str) -> dict:
    found = stored(client, "SELECT detail FROM audit_log WHERE action = ? ORDER BY entry_id DESC LIMIT 1", action)
    return json.loads(found[0][0])


def post_form(client, path: str, token: str, values: dict) -> str:
    """Submit a data form as the browser does; the notice the page then shows."""
    response = client.post(path, data={**values, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    return html.unescape(re.search(r'<p class="notice [^"]*"[^>]*>(.*?)</p>', page, re.S).group(1))


def field_value(page: str, name: str) -> str | None:
    """The value an input, textarea or select of the page's form holds."""
    tag = re.search(rf'<input name="{name}"[^>]*>', page)
    if tag:
        value = re.search(r'value="([^"]*)"', tag.group(0))
        return html.unescape(value.group(1)) if value else None
    area = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if area:
        return html.unescape(area.group(1))
    select = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S)
    chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)</option>', select.group(1))
    return html.unescape(chosen.group(1) if chosen.group(1) is not None else chosen.group(2))


def test_resaving_a_case_from_the_form_with_an_empty_description_keeps_it(client):
    """The reproduction: case 2020-08 saved with a 简介, saved again from the form with new linked
    posts and an empty 简介 box: the text stays, the page says what changed and what was kept, and the
    audit entry holds the old and new linked posts."""
    token = sign_in(client, "editor1")
    created = post_form(client, "/data/cases", token, CASE)
    said = post_form(client, "/data/cases", token, {**CASE, "text": "", "post_ids": "a1;b1"})
    assert stored(client, "SELECT text FROM cases WHERE case_id = '2020-08'") == [(TEXT,)]
    assert stored(client, "SELECT post_id FROM case_posts ORDER BY 1") == [("a1",), ("b1",)]
    entry = last_audit(client, "cases.save")
    assert entry["old"] == {"post_ids": "a1"} and entry["new"] == {"post_ids": "a1;b1"}
    assert created == "案例 2020-08「战疫通报」已新增"
    assert said == "案例 2020-08「战疫通报」已修改：相关内容；留空的简介保留原值"
    # The other optional boxes left empty keep theirs too; a required one changed is audited old and new.
    said = post_form(client, "/data/cases", token, {**CASE, "text": "", "unit": "", "category": "", "post_ids": "",
                                                    "hashtags": "", "score": "35"})
    assert said.startswith("案例 2020-08「战疫通报」已修改：得分；留空的类别、单位、简介、相关内容、话题保留原值")
    assert stored(client, "SELECT category, unit, score, text FROM cases") == [("信息发布类", "甲区委宣传部", 35.0, TEXT)]
    assert stored(client, "SELECT hashtag FROM case_hashtags") == [("南京战疫",)]
    assert last_audit(client, "cases.save")["old"] == {"score": 30.0}
    assert "没有变化" in post_form(client, "/data/cases", token, {**CASE, "score": "35", "text": "", "post_ids": "b1;a1"})
    # The audit log page says it in words.
    client.cookies.clear()
    page = client.get("/audit", headers=basic("admin1")).text
    assert "相关内容：a1 → a1;b1" in html.unescape(page) and "得分：30.0 → 35.0" in page


def test_a_case_field_is_emptied_only_by_its_clear_box(client):
    token = sign_in(client, "editor1")
    post_form(client, "/data/cases", token, CASE)
    # The 「清空」 box wins over what the box still holds (the prefilled text).
    said = post_form(client, "/data/cases", token, {**CASE, "clear": ["text", "hashtags"]})
    assert said == "案例 2020-08「战疫通报」已修改：简介、话题"
    assert stored(client, "SELECT text, unit FROM cases") == [(None, "甲区委宣传部")]
    assert stored(client, "SELECT count(*) FROM case_hashtags") == [(0,)]
    entry = last_audit(client, "cases.save")
    assert entry["old"] == {"text": TEXT, "hashtags": "南京战疫"} and entry["new"] == {"text": None, "hashtags": None}
    # A required field cannot be cleared: said in Chinese, nothing written.
    said = post_form(client, "/data/cases", token, {**CASE, "clear": ["title"]})
    assert said.startswith("案例未保存") and "只能清空类别、单位、简介、相关内容、话题" in said and "标题" in said
    assert stored(client, "SELECT text FROM cases") == [(None,)]


def test_the_case_edit_form_is_prefilled_from_the_store(client):
    token = sign_in(client, "editor1")
    post_form(client, "/data/cases", token, {**CASE, "post_ids": "a1;b1"})
    listing = client.get("/data/cases").text
    assert 'href="/data/cases?edit=2020-08#case-form"' in listing and ">编辑</a>" in listing
    assert "清空简介" not in listing  # a new case has nothing to clear
    page = client.get("/data/cases?edit=2020-08").text
    form = re.search(r'<form method="post" action="/data/cases".*?</form>', page, re.S).group(0)
    assert "修改案例 2020-08「战疫通报」" in form
    expected = {**CASE, "post_ids": "a1;b1"}
    for name, value in expected.items():
        assert field_value(form, name) == value, name
    assert re.search(r'<input name="case_id"[^>]*readonly', form)
    assert all(f'name="clear" value="{f}"' in form for f in ("category", "unit", "text", "post_ids", "hashtags"))
    assert "留空的类别、单位、相关内容、话题、简介保留原来的值" in page
    # Submitting the prefilled form unchanged changes nothing.
    values = {name: field_value(form, name) for name in expected}
    assert "没有变化" in post_form(client, "/data/cases", token, values)
    # An id that is not stored is said, and the form is empty.
    page = client.get("/data/cases?edit=NOPE").text
    assert "案例 NOPE 不存在" in html.unescape(page) and field_value(page, "case_id") == ""


def test_a_campaign_keeps_its_hashtags_unless_cleared_and_its_form_is_prefilled(client):
    token = sign_in(client, "editor1")
    assert "已新增" in post_form(client, "/data/campaigns", token, CAMPAIGN)
    said = post_form(client, "/data/campaigns", token, {**CAMPAIGN, "name": "战疫联动宣传", "hashtags": ""})
    assert said == "联动宣传 P1「战疫联动宣传」已修改：名称；留空的话题保留原值"
    assert stored(client, "SELECT hashtag FROM campaign_hashtags ORDER BY 1") == [("南京战疫",), ("复工",)]
    entry = last_audit(client, "campaigns.save")
    assert entry["old"] == {"name": "战疫联动"} and entry["new"] == {"name": "战疫联动宣传"}
    page = client.get("/data/campaigns").text
    assert 'href="/data/campaigns?edit=P1#campaign-form"' in page
    page = client.get("/data/campaigns?edit=P1").text
    form = re.search(r'<form method="post" action="/data/campaigns".*?</form>', page, re.S).group(0)
    assert [field_value(form, n) for n in ("campaign_id", "name", "start", "end", "hashtags")] == \
        ["P1", "战疫联动宣传", "2020-02-01", "2020-02-29", "南京战疫;复工"]
    assert 'name="clear" value="hashtags"' in form
    said = post_form(client, "/data/campaigns", token, {**CAMPAIGN, "name": "战疫联动宣传", "clear": "hashtags"})
    assert said == "联动宣传 P1「战疫联动宣传」已修改：话题"
    assert stored(client, "SELECT count(*) FROM campaign_hashtags") == [(0,)]
    entry = last_audit(client, "campaigns.save")
    assert entry["old"] == {"hashtags": "南京战疫;复工"} and entry["new"] == {"hashtags": None}


def test_the_api_keeps_fields_left_out_and_clears_those_named(client):
    body = {**CASE, "score": 30}
    assert client.post("/api/v1/cases", headers=basic("editor1"), json=body).status_code == 200
    partial = {k: body[k] for k in ("case_id", "title", "month", "score", "account_ids")}
    saved = client.post("/api/v1/cases", headers=basic("editor1"), json={**partial, "post_ids": "b1"})
    assert saved.status_code == 200
    assert saved.json()["text"] == TEXT and saved.json()["post_ids"] == "b1" and saved.json()["unit"] == "甲区委宣传部"
    cleared = client.post("/api/v1/cases", headers=basic("editor1"), json={**partial, "clear": ["text", "unit"]})
    assert cleared.json()["text"] is None and cleared.json()["unit"] is None and cleared.json()["post_ids"] == "b1"
    assert last_audit(client, "cases.save")["old"] == {"unit": "甲区委宣传部", "text": TEXT}
    refused = client.post("/api/v1/cases", headers=basic("editor1"), json={**partial, "clear": ["score"]})
    assert refused.status_code == 400 and "只能清空" in refused.json()["detail"]
    assert "clear" not in client.get("/api/v1/cases").json()[0]
    campaign = client.post("/api/v1/campaigns", headers=basic("editor1"), json=CAMPAIGN).json()
    renamed = client.post("/api/v1/campaigns", headers=basic("editor1"),
                          json={k: v for k, v in CAMPAIGN.items() if k != "hashtags"} | {"name": "改名"}).json()
    assert renamed["hashtags"] == campaign["hashtags"] == "南京战疫;复工"


def test_a_case_moved_to_another_platform_must_replace_or_clear_its_linked_posts(client):
    token = sign_in(client, "editor1")
    post_form(client, "/data/cases", token, CASE)
    moved = {**CASE, "platform": "wechat", "account_ids": "W", "post_ids": ""}
    said = post_form(client, "/data/cases", token, moved)
    assert said.startswith("案例未保存") and "原有的相关内容是微博内容" in said
    assert stored(client, "SELECT platform FROM cases") == [("weibo",)]
    assert "已修改" in post_form(client, "/data/cases", token, {**moved, "post_ids": "w1"})
    assert stored(client, "SELECT platform, post_id FROM case_posts") == [("wechat", "w1")]


CASE_FILE = """案例编号,标题,月份,类别,单位,得分,平台,加分账号,简介,相关内容,话题
2020-08,战疫通报,2020-02,信息发布类,甲区委宣传部,30,微博,A,{text},{posts},{tags}
"""
CAMPAIGN_FILE = "活动编号,名称,开始日期,结束日期,话题\nP1,{name},2020-02-01,2020-02-29,{tags}\n"


def test_empty_cells_of_a_case_or_campaign_file_keep_the_stored_values(db, tmp_path):
    """`govmedia cases import` / `campaigns import` (the library's import doors): an empty cell is no
    value, the stored one stays; the import's audit entry holds each changed row's old and new values."""
    first, second = tmp_path / "cases1.csv", tmp_path / "cases2.csv"
    first.write_text(CASE_FILE.format(text=TEXT, posts="a1", tags="南京战疫"), encoding="utf-8")
    second.write_text(CASE_FILE.format(text="", posts="a1;b1", tags=""), encoding="utf-8")
    for path in (first, second):
        result = cli("cases", "import", str(path), db=db)
        assert result.exit_code == 0, result.stdout + result.stderr
    campaigns1, campaigns2 = tmp_path / "campaigns1.csv", tmp_path / "campaigns2.csv"
    campaigns1.write_text(CAMPAIGN_FILE.format(name="战疫联动", tags="南京战疫"), encoding="utf-8")
    campaigns2.write_text(CAMPAIGN_FILE.format(name="战疫联动宣传", tags=""), encoding="utf-8")
    for path in (campaigns1, campaigns2):
        assert cli("campaigns", "import", str(path), db=db).exit_code == 0
    con = open_store(db)
    try:
        assert con.execute("SELECT text FROM cases").fetchall() == [(TEXT,)]
        assert con.execute("SELECT post_id FROM case_posts ORDER BY 1").fetchall() == [("a1",), ("b1",)]
        assert con.execute("SELECT hashtag FROM case_hashtags").fetchall() == [("南京战疫",)]
        assert con.execute("SELECT name FROM campaigns").fetchall() == [("战疫联动宣传",)]
        assert con.execute("SELECT hashtag FROM campaign_hashtags").fetchall() == [("南京战疫",)]
        entries = {a: json.loads(d) for a, d in con.execute(
            "SELECT action, detail FROM audit_log WHERE action LIKE '%.import' ORDER BY entry_id").fetchall()}
        assert entries["cases.import"]["changes"] == {"2020-08": {"old": {"post_ids": "a1"}, "new": {"post_ids": "a1;b1"}}}
        assert entries["cases.import"]["updated"] == 1
        assert entries["campaigns.import"]["changes"] == {"P1": {"old": {"name": "战疫联动"},
                                                                 "new": {"name": "战疫联动宣传"}}}
    finally:
        con.close()


def test_store_save_never_overwrites_a_stored_value_with_a_missing_one(con, registered):
    """The store's own writer keeps the rule for a caller that builds rows itself (the demo, tests)."""
    from govmedia.ingest.evaluation import Case
    from govmedia.store.evaluation import save_cases, stored_case

    save_cases(con, [Case(2, "K", "t", "2020-02", "信息发布类", "单位", 10, "weibo", ("1234567890",), TEXT,
                          (), ("话题",))])
    saved, = save_cases(con, [Case(2, "K", "t2", "2020-02", None, None, 10, "weibo", ("1234567890",), None)])
    assert (saved.old, saved.new, saved.kept) == ({"title": "t"}, {"title": "t2"}, ("category", "unit", "text", "hashtags"))
    assert stored_case(con, "K")["text"] == TEXT
    save_cases(con, [Case(2, "K", "t2", "2020-02", None, None, 10, "weibo", ("1234567890",), None,
                          cleared=frozenset({"text"}))])
    assert stored_case(con, "K")["text"] is None and stored_case(con, "K")["hashtags"] == ("话题",)


@pytest.mark.parametrize("door", ["save_case", "save_campaign"])
def test_the_doors_answer_what_they_saved(con, registered, door):
    from govmedia.ingest import evaluation

    cells = CAMPAIGN if door == "save_campaign" else {**CASE, "account_ids": "1234567890", "post_ids": ""}
    row, saved = getattr(evaluation, door)(con, cells, "editor1")
    assert saved.created and saved.key == (cells.get("case_id") or cells["campaign_id"])
    _, again = getattr(evaluation, door)(con, cells, "editor1")
    assert not again.created and again.new == {}
