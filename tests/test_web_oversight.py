"""The 合规检查 page and API: stored checks, filters, pass rates, history, editors run checks (CSRF, audit)."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient

from govmedia.web import create_app

from test_web_api import basic, sign_in
from web_fixtures import build_store


@pytest.fixture
def client(tmp_path):
    db = build_store(tmp_path)
    app = create_app(db, secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.store.close()


def count(client, sql):
    with client.app.state.store.read() as con:
        return con.execute(sql).fetchall()[0][0]


def finished_job_page(client, location: str) -> str:
    for _ in range(200):
        if client.get(location + "/progress").json()["finished"]:
            break
        time.sleep(0.05)
    page = client.get(location)
    assert page.status_code == 200 and "已完成" in page.text, page.text
    return page.text


def test_empty_page_then_editor_runs_checks_from_the_page(client):
    page = client.get("/oversight", headers=basic("viewer1"))
    assert page.status_code == 200 and "还没有检查结果" in page.text and "合规检查" in page.text
    # Nobody / a viewer may not run a check; nothing changes.
    assert client.post("/oversight/run", data={"at": "2020-03-10", "csrf_token": "x"}).status_code == 401
    assert client.post("/api/v1/checks", params={"at": "2020-03-10"}, headers=basic("viewer1")).status_code == 403
    assert count(client, "SELECT count(*) FROM check_runs") == 0
    token = sign_in(client, "editor1")
    assert client.post("/oversight/run", data={"at": "2020-03-10", "csrf_token": "wrong"}).status_code == 403
    assert count(client, "SELECT count(*) FROM check_runs") == 0
    # A check runs as a job: the form leads to the job's page, which shows the result once done.
    response = client.post("/oversight/run", data={"at": "2020-03-10", "csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    assert "at=2020-03-10" in finished_job_page(client, response.headers["location"])
    response = client.post("/oversight/run", data={"at": "2020-04-01", "csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert "已检查 2020-04-01：4 个账号，合格 0 个" in finished_job_page(client, response.headers["location"])
    assert count(client, "SELECT count(*) FROM audit_log WHERE action = 'checks.run'") == 2
    bad = client.post("/oversight/run", data={"at": "2020-02-30", "csrf_token": token}, follow_redirects=True)
    assert "未检查" in bad.text and "检查点: 应为日期" in bad.text


@pytest.fixture
def checked(client):
    client.post("/api/v1/checks", params={"at": "2020-03-10", "wait": "true", "confirm": "true"}, headers=basic("editor1"))
    client.post("/api/v1/checks", params={"at": "2020-04-01", "wait": "true", "confirm": "true"}, headers=basic("editor1"))
    sign_in(client, "viewer1")  # results are for signed-in users (docs/security.md, tests/test_web_access.py)
    return client


def test_page_shows_pass_rates_alerts_first_and_filters(checked):
    client = checked
    page = client.get("/oversight", params={"at": "2020-03-10"})
    assert page.status_code == 200
    assert 'id="pass-rate">100.0%' in page.text
    # The account whose last post is oldest (A, 2020-03-05: 5 days) is no alert with N = 3 … none are.
    assert "预警" in page.text
    latest = client.get("/oversight")  # the newest check point by default
    assert "检查点 2020-04-01" in latest.text and 'id="pass-rate">0.0%' in latest.text and "睡眠账号" in latest.text
    only = client.get("/oversight", params={"at": "2020-04-01", "platform": "wechat"})
    assert "微信一" in only.text and "甲区发布" not in only.text
    assert client.get("/oversight", params={"status": "asleep"}).status_code == 400
    csv_text = client.get("/oversight.csv", params={"at": "2020-04-01", "category": "district"}).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["account_id"] for r in rows} == {"A", "B"} and all(r["status"] == "sleeping" for r in rows)
    assert client.get("/oversight.xlsx", params={"at": "2020-04-01"}).status_code == 200


def test_alert_on_the_page(client):
    # A's last post 2020-03-05 10:00: at 2020-03-18 it has 13 days without update -> alert, sleeping from 03-20.
    client.post("/api/v1/checks", params={"at": "2020-03-18", "wait": "true", "confirm": "true"}, headers=basic("editor1"))
    page = client.get("/oversight", params={"at": "2020-03-18"}, headers=basic("viewer1"))
    first = page.text.index('<tbody>', page.text.index('id="check-results"'))
    assert "预警：如不更新，将于 2020-03-20 起判为睡眠账号" in page.text[first:first + 2000]
    assert "甲区发布" in page.text[first:first + 2000]


def test_account_history_and_api(checked):
    client = checked
    page = client.get("/oversight/accounts/weibo/A")
    assert page.status_code == 200 and "2020-03-10" in page.text and "2020-04-01" in page.text
    assert "睡眠" in page.text and "合格" in page.text
    assert client.get("/oversight/accounts/weibo/NOPE").status_code == 404
    checks = client.get("/api/v1/checks").json()
    assert [(c["check_at"], c["pass_rate"], c["quarter"]) for c in checks] == [
        ("2020-03-10", 1.0, None), ("2020-04-01", 0.0, "2020Q1")]
    rows = client.get("/api/v1/checks/2020-04-01", params={"platform": "weibo"}).json()
    assert {r["account_id"] for r in rows} == {"A", "B", "L"} and all(r["verdict"] == "不合格" for r in rows)
    rates = client.get("/api/v1/checks/2020-04-01/pass-rates").json()
    total = next(r for r in rates if r["region"] == "全部" and r["category"] == "全部")
    assert (total["inspected"], total["passed"], total["sleeping"]) == (4, 0, 4)
    assert client.get("/api/v1/checks/2020-05-01").status_code == 400
    assert client.get("/api/v1/checks/2020-04-01/findings").json() == []


def test_a_check_after_the_data_ends_is_proposed_at_the_data_end_and_asks_first(client):
    """The trap: a check dated after the last crawl judges every account silent (a false 0 % pass rate)."""
    token = sign_in(client, "editor1")
    page = client.get("/oversight")
    assert 'name="at" value="2020-03-08"' in page.text  # the day after the newest post (03-07 20:00), not today
    asked = client.post("/oversight/run", data={"at": "2020-04-01", "csrf_token": token}, follow_redirects=False)
    assert asked.status_code == 200 and "晚于数据覆盖的最后一天 2020-03-07" in asked.text
    assert "改为在 2020-03-08 检查" in asked.text and "仍在 2020-04-01 检查" in asked.text
    assert count(client, "SELECT count(*) FROM jobs WHERE kind = 'check'") == 0
    client.cookies.clear()
    refused = client.post("/api/v1/checks", params={"at": "2020-04-01"}, headers=basic("editor1"))
    assert refused.status_code == 409 and "confirm=true" in refused.json()["detail"]
    token = sign_in(client, "editor1")
    fine = client.post("/oversight/run", data={"at": "2020-03-08", "csrf_token": token}, follow_redirects=False)
    assert fine.status_code == 303 and "已检查 2020-03-08" in finished_job_page(client, fine.headers["location"])


def test_an_admin_deletes_a_check_run_and_it_is_audited(checked):
    client = checked
    assert client.delete("/api/v1/checks/2020-04-01", headers=basic("editor1")).status_code == 403
    token = sign_in(client, "editor1")
    assert client.post("/oversight/delete", data={"at": "2020-04-01", "sure": "yes", "csrf_token": token}).status_code == 403
    token = sign_in(client, "admin1")
    page = client.get("/oversight")
    assert "删除 2020-04-01 的检查结果" in page.text
    kept = client.post("/oversight/delete", data={"at": "2020-04-01", "csrf_token": token}, follow_redirects=True)
    assert "未删除" in kept.text and count(client, "SELECT count(*) FROM check_runs") == 2
    gone = client.post("/oversight/delete", data={"at": "2020-04-01", "sure": "yes", "csrf_token": token},
                       follow_redirects=True)
    assert "已删除 2020-04-01 的检查结果" in gone.text
    assert count(client, "SELECT count(*) FROM check_runs WHERE check_at = '2020-04-01'") == 0
    assert count(client, "SELECT count(*) FROM check_results WHERE check_at = '2020-04-01'") == 0
    assert count(client, "SELECT count(*) FROM audit_log WHERE action = 'checks.delete'") == 1
    client.cookies.clear()
    assert client.delete("/api/v1/checks/2020-03-10", headers=basic("admin1")).status_code == 204
    assert client.delete("/api/v1/checks/2020-03-10", headers=basic("admin1")).status_code == 400
