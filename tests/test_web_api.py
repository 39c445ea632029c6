"""The web platform through HTTP: every API route, refused writes, sessions, CSRF, rate limit, audit."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient

from govmedia.ranking import FLAG_COLUMNS, rank
from govmedia.store import open_store
from govmedia.web import create_app

from util import dump, run_cli
from web_fixtures import NEW_POSTS, PASSWORD, build_store


def basic(user: str, password: str = PASSWORD) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def sign_in(client: TestClient, user: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/data" if user != "viewer1" else "/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def snapshot(client) -> dict:
    with client.app.state.store.read() as con:
        return dump(con)


def test_health_and_public_pages(client):
    assert client.get("/healthz").text == "ok"
    for path in ("/", "/rankings", "/rankings?platform=wechat&category=comprehensive", "/accounts/weibo/A", "/compare",
                 "/compare?account=weibo:A&account=weibo:B", "/city", "/methodology", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="zh-CN"' in response.text
    assert "甲区发布" in client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").text
    assert client.get("/accounts/weibo/NOPE").status_code == 404
    assert client.get("/rankings?platform=twitter").status_code == 400


def test_rankings_api_equals_library_and_cli(client, db):
    api = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                                 "to": "2020-03"}, headers=basic("viewer1")).json()
    with client.app.state.store.read() as con:
        assert api == rank(con, "weibo", "district", "2020-02", "2020-03")
    # Anonymous callers get the same rows without the suspicion marks (docs/security.md).
    anonymous = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                                       "to": "2020-03"}).json()
    assert anonymous == [{k: v for k, v in r.items() if k not in FLAG_COLUMNS} for r in api]
    # intervals=true adds the bootstrap's fields, the library's figures exactly
    with_intervals = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district",
                                                            "from": "2020-02", "to": "2020-03", "intervals": "true"},
                                headers=basic("viewer1")).json()
    with client.app.state.store.read() as con:
        assert with_intervals == rank(con, "weibo", "district", "2020-02", "2020-03", intervals=True)
    assert all(r["score_low"] <= r["score"] <= r["score_high"] for r in with_intervals)
    top = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                                 "to": "2020-03", "top": 1}).json()
    assert len(top) == 1 and top[0]["rank"] == 1
    assert client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-2",
                                                  "to": "2020-03"}).status_code == 422


def test_read_api_routes(client):
    accounts = client.get("/api/v1/accounts", params={"platform": "weibo"}).json()
    assert {a["account_id"] for a in accounts} == {"A", "B", "L"}
    scores = client.get("/api/v1/scores", params={"from": "2020-02", "to": "2020-03", "account_id": "A"}).json()
    assert [s["month"] for s in scores] == ["2020-02", "2020-03"]
    assert set(scores[0]) == {"platform", "account_id", "name", "category", "month", "reach", "engagement",
                              "innovation", "influence", "total", "methodology", "methodology_sha256"}
    explained = client.get("/api/v1/explain", params={"account": "weibo:A", "month": "2020-02"}).json()
    assert [d["dimension"] for d in explained["dimensions"]] == ["reach", "engagement", "innovation", "influence"]
    assert abs(explained["total"] - next(s["total"] for s in scores if s["month"] == "2020-02")) < 1e-9
    wci = client.get("/api/v1/indices/wci", params={"from": "2020-02", "to": "2020-03"}).json()
    assert wci[0]["account_id"] == "W" and wci[0]["value"] > 0
    assert client.get("/api/v1/indices/xyz", params={"from": "2020-02", "to": "2020-03"}).status_code == 422
    assert client.get("/api/v1/cases").json() == []
    assert client.get("/api/v1/campaigns").json() == []
    assert client.get("/api/v1/imports").status_code == 401  # working records: signed-in users only
    assert len(client.get("/api/v1/imports", headers=basic("viewer1")).json()) == 1
    assert client.get("/api/v1/explain", params={"account": "weibo:A", "month": "2019-01"}).status_code == 400


@pytest.mark.parametrize("method, path, kwargs", [
    ("post", "/api/v1/imports", {"files": {"file": ("posts.csv", NEW_POSTS.encode(), "text/csv")}}),
    ("post", "/api/v1/cases", {"json": {"case_id": "K", "title": "t", "month": "2020-02", "score": 10,
                                        "platform": "weibo", "account_ids": "A"}}),
    ("post", "/api/v1/campaigns", {"json": {"campaign_id": "C", "name": "n", "start": "2020-02-01", "end": "2020-02-10"}}),
    ("post", "/api/v1/accounts", {"json": {"platform": "weibo", "account_id": "Z", "name": "z", "category": "district"}}),
    ("post", "/api/v1/scores", {"json": {"from": "2020-02", "to": "2020-02"}}),
])
def test_writes_without_the_right_role_change_nothing(client, method, path, kwargs):
    before = snapshot(client)
    assert getattr(client, method)(path, **kwargs).status_code == 401
    assert getattr(client, method)(path, headers=basic("viewer1"), **kwargs).status_code == 403
    assert getattr(client, method)(path, headers=basic("editor1", "wrong password"), **kwargs).status_code == 401
    assert snapshot(client) == before


@pytest.mark.parametrize("path, data", [
    ("/data/accounts", {"platform": "weibo", "account_id": "Z", "name": "z", "category": "district"}),
    ("/data/cases", {"case_id": "K", "title": "t", "month": "2020-02", "score": "10", "platform": "weibo",
                     "account_ids": "A"}),
    ("/data/campaigns", {"campaign_id": "C", "name": "n", "start": "2020-02-01", "end": "2020-02-10"}),
    ("/data/score", {"from": "2020-02", "to": "2020-02"}),
])
def test_form_writes_need_role_and_csrf(client, path, data):
    before = snapshot(client)
    assert client.post(path, data={**data, "csrf_token": "x"}, follow_redirects=False).status_code == 401
    sign_in(client, "viewer1")
    assert client.post(path, data={**data, "csrf_token": "x"}, follow_redirects=False).status_code == 403
    assert snapshot(client) == before
    client.post("/logout", data={"csrf_token": ""})
    client.cookies.clear()
    token = sign_in(client, "editor1")
    assert client.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert snapshot(client) == before
    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert "未保存" not in client.get("/data").text


def test_editor_import_through_api_with_rejects_download(client):
    response = client.post("/api/v1/imports?wait=true", headers=basic("editor1"),
                           files={"file": ("posts.csv", NEW_POSTS.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (0, 3)  # C is not registered yet
    rejects = client.get(report["files"][0]["rejects_url"], headers=basic("editor1"))
    assert rejects.status_code == 200 and "不在账号名录中" in rejects.text
    assert client.get(report["files"][0]["rejects_url"]).status_code == 401
    client.post("/api/v1/accounts", headers=basic("editor1"),
                json={"platform": "weibo", "account_id": "C", "name": "丙区新发布", "category": "district"})
    report = client.post("/api/v1/imports?wait=true", headers=basic("editor1"),
                         files={"file": ("posts.csv", NEW_POSTS.encode(), "text/csv")}).json()
    assert (report["accepted"], report["rejected"]) == (2, 1)
    rescored = client.post("/api/v1/scores?wait=true", headers=basic("editor1"),
                           json={"from": "2020-02", "to": "2020-03"}).json()
    assert rescored["rows"] == 5 * 2
    ranking = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                                     "to": "2020-03"}).json()
    assert ranking[0]["account_id"] == "C"
    # The cached public page follows the change.
    assert client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").text.index("丙区新发布") < \
        client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").text.index("甲区发布")


def test_cases_and_campaigns_write_api(client):
    refused = client.post("/api/v1/cases", headers=basic("editor1"),
                          json={"case_id": "K2", "title": "跨平台", "month": "2020-02", "score": 20,
                                "account_ids": "weibo:A;wechat:W"})
    assert refused.status_code == 400 and "一个主要平台" in refused.json()["detail"]
    saved = client.post("/api/v1/cases", headers=basic("editor1"),
                        json={"case_id": "K1", "title": "战疫", "month": "2020-02", "score": 30, "platform": "weibo",
                              "account_ids": "A;B", "category": "信息发布类"})
    assert saved.status_code == 200 and saved.json()["account_ids"] == "A;B"
    campaign = client.post("/api/v1/campaigns", headers=basic("editor1"),
                           json={"campaign_id": "P1", "name": "战疫联动", "start": "2020-02-01", "end": "2020-02-29",
                                 "hashtags": "南京战疫"})
    assert campaign.status_code == 200 and campaign.json()["hashtags"] == "南京战疫"
    bad = client.post("/api/v1/campaigns", headers=basic("editor1"),
                      json={"campaign_id": "P2", "name": "x", "start": "2020-03-01", "end": "2020-02-01"})
    assert bad.status_code == 400


def test_login_rate_limit(client):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for _ in range(5):
        assert client.post("/login", data={"username": "editor1", "password": "nope", "csrf_token": token}).status_code == 401
    blocked = client.post("/login", data={"username": "editor1", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429 and "稍后" in blocked.text or "秒后" in blocked.text
    assert client.post("/api/v1/scores", headers=basic("editor1"), json={"from": "2020-02", "to": "2020-02"}).status_code == 429


def test_session_cookie_is_signed_httponly_samesite(client):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": "editor1", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    client.cookies.set("govmedia_session", client.cookies.get("govmedia_session")[:-4] + "AAAA")
    assert "editor1" not in client.get("/").text  # a tampered cookie is no session


def test_audit_log_for_admins_only(client):
    client.post("/api/v1/accounts", headers=basic("editor1"),
                json={"platform": "weibo", "account_id": "Z", "name": "z", "category": "district"})
    refused = client.get("/audit", headers=basic("editor1"))
    assert refused.status_code == 403 and "需要「管理员」或更高权限，当前账号是「编辑」" in refused.text
    page = client.get("/audit", headers=basic("admin1"))
    assert page.status_code == 200 and "登记或修改账号" in page.text and "editor1" in page.text
    assert "时间（北京时间）" in page.text and "UTC" not in page.text
    # The detail in words, codes by their Chinese names, not raw JSON.
    assert "平台：微博；账号ID：Z；名称：z；类别：区级" in page.text and "启用：是" not in page.text
    assert '"platform"' not in page.text and "{&#34;" not in page.text


def test_private_site_needs_sign_in(db):
    app = create_app(db, secret="s", require_login=True)
    with TestClient(app) as client:
        assert client.get("/", follow_redirects=False).status_code == 303
        assert client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                                      "to": "2020-03"}).status_code == 401
        assert client.get("/api/v1/accounts", headers=basic("viewer1")).status_code == 200
        assert client.get("/healthz").status_code == 200
    app.state.store.close()


def test_users_add_reads_password_from_stdin(tmp_path):
    db = tmp_path / "u.duckdb"
    result = run_cli("users", "add", "alice", "--role", "editor", db=db, input="s3cret-pass\n")
    assert result.returncode == 0, result.stderr
    assert run_cli("users", "add", "bob", "--role", "boss", db=db, input="s3cret-pass\n").returncode == 2
    assert run_cli("users", "add", "carol", db=db, input="short\n").returncode == 2
    con = open_store(db)
    from govmedia.store.users import authenticate

    assert authenticate(con, "alice", "s3cret-pass") == "editor"
    assert authenticate(con, "alice", "wrong") is None
    stored = con.execute("SELECT password_hash FROM users").fetchall()[0][0]
    assert stored.startswith("$argon2")


def test_unknown_addresses_get_a_chinese_page_or_detail_not_the_framework_s_english(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in page.text and "返回总览" in page.text and "Not Found" not in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["detail"].startswith("没有这个接口")
    wrong = client.delete("/rankings")
    assert wrong.status_code == 405 and "不支持这种请求方式" in wrong.text and "Method Not Allowed" not in wrong.text


def test_a_server_error_is_a_page_in_chinese_without_a_traceback(tmp_path):
    from fastapi import APIRouter

    app = create_app(build_store(tmp_path), secret="test-secret")
    broken = APIRouter()

    @broken.get("/broken")
    def fail():
        raise RuntimeError("boom at /srv/secret/path")

    app.include_router(broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        page = c.get("/broken")
    assert page.status_code == 500 and "服务器出错了" in page.text
    assert "boom" not in page.text and "Traceback" not in page.text and "/srv/secret" not in page.text


def test_an_account_without_scores_in_the_previous_period_is_new_not_up(client):
    # 民生一号 first posted in March 2020: compared with February it is 新, not "↑n".
    page = client.get("/rankings", params={"platform": "weibo", "category": "livelihood", "from": "2020-03",
                                          "to": "2020-03"})
    row = page.text[page.text.index("民生一号"):]
    row = row[:row.index("</tr>")]
    assert ">新<" in row and "↑" not in row
    # February has no scored month before it: nothing to compare, no 新 either.
    february = client.get("/rankings", params={"platform": "weibo", "category": "district", "from": "2020-02",
                                              "to": "2020-02"})
    assert ">新<" not in february.text


def test_the_api_documentation_page_has_no_inline_script_and_no_outside_address(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all('src="/static/' in s for s in scripts)
    assert "http://" not in page.text and "https://" not in page.text


def test_wrong_parameters_are_said_in_chinese_naming_the_parameter(client):
    api = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2020-2",
                                                 "to": "2020-03"})
    assert api.status_code == 422 and api.json()["detail"] == "「起始月份」应写成 YYYY-MM（如 2020-02），而不是 '2020-2'"
    missing = client.get("/api/v1/rankings", params={"from": "2020-02"}).json()
    assert [e["msg"] for e in missing["errors"]] == ["缺少「结束月份」", "缺少「平台」", "缺少「类别」"]
    assert [e["loc"] for e in missing["errors"]][0] == ["query", "to"]
    page = client.get("/jobs/abc", headers=basic("editor1"))
    assert page.status_code == 400 and "「任务编号」应为整数" in page.text
    assert "Input should be" not in page.text


def test_the_methodology_page_speaks_in_words_not_code_names(client):
    page = client.get("/methodology").text
    body = page[:page.index("<details>")]  # the file itself, shown below, keeps its own keys
    assert "形式含 视频、长图、漫画" in body and "抖音不计 视频" in body
    for code in ("long_image", "mini_program", "video", "sum_"):
        assert code not in body, code
    assert "发布后 168 小时（7 天）内" in body and 'class="fingerprint"' in body


def test_library_errors_name_the_step_where_the_site_takes_it(client):
    page = client.get("/rankings", params={"platform": "weibo", "category": "district", "from": "2019-01",
                                           "to": "2019-01"})
    assert page.status_code == 400
    assert "2019-01 尚未计算分数：先在「数据」页重新计算这些月份的分数" in page.text
    api = client.get("/api/v1/rankings", params={"platform": "weibo", "category": "district", "from": "2019-01",
                                                 "to": "2019-01"})
    assert api.status_code == 400 and "govmedia" not in api.json()["detail"] and "{step" not in api.json()["detail"]
    explained = client.get("/api/v1/explain", params={"account": "weibo:A", "month": "2019-01"})
    assert explained.status_code == 400 and "先在「数据」页重新计算" in explained.json()["detail"]


def test_a_wrong_city_table_is_named_by_its_file_and_chinese_columns(client):
    page = client.get("/city")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    sent = client.post("/city", data={"csrf_token": token},
                       files={"file": ("我的城市表.csv", "地区,得分\n南京,1\n".encode(), "text/csv")})
    assert sent.status_code == 400
    assert "我的城市表.csv: 城市竞争力表缺少列 城市（city）、传播力（reach）" in sent.text
    assert "/tmp" not in sent.text and "tmp" not in re.sub(r"<[^>]+>", "", sent.text)


def test_registry_upload_through_the_api_as_the_cli_takes_it(client):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["平台", "账号ID", "名称", "类别", "主办单位"])
    sheet.append(["微博", "N1", "丁区发布", "区级", "丁区委网信办"])
    sheet.append(["微博", "A", "甲区发布", "民生", None])  # a change of category, organisation kept
    sheet.append(["推特", "Q", "外站", "区级", None])
    import io
    data = io.BytesIO()
    workbook.save(data)
    before = snapshot(client)
    refused = client.post("/api/v1/accounts/import", headers=basic("viewer1"),
                          files={"file": ("名录.xlsx", data.getvalue(), "application/octet-stream")})
    assert refused.status_code == 403 and snapshot(client) == before
    sent = client.post("/api/v1/accounts/import", headers=basic("editor1"),
                       files={"file": ("名录.xlsx", data.getvalue(), "application/octet-stream")})
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["inserted"], body["updated"], body["rejected"]) == (1, 1, 1)
    assert body["reasons"][0]["line"] == 4 and "未知平台" in body["reasons"][0]["reason"]
    rejects = client.get(body["rejects_url"], headers=basic("editor1"))
    assert rejects.status_code == 200 and "外站" in rejects.content.decode("utf-8-sig")
    accounts = {a["account_id"]: a for a in client.get("/api/v1/accounts").json()}
    assert accounts["N1"]["organization"] == "丁区委网信办" and accounts["A"]["category"] == "livelihood"
    wrong = client.post("/api/v1/accounts/import", headers=basic("editor1"),
                        files={"file": ("名录.pdf", b"%PDF-1.4", "application/pdf")})
    assert wrong.status_code == 400 and "不是 CSV 或 XLSX 文件" in wrong.json()["detail"]
