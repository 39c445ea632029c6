"""Who may read what (issue 25, point 3; docs/security.md): an anonymous visitor gets rankings,
account scores, methodology and public documents; inspection results, findings, alerts, ⚠ marks
and anomaly lists need a signed-in user, in pages, API and downloads.

The routes are walked: every GET the app serves is either on the public list below (and then
carries no mark for an anonymous visitor) or refuses an anonymous visitor, so a new route cannot
be forgotten."""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import openpyxl
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from govmedia.ranking import FLAG_COLUMNS, FLAG_HEADERS, RANK_COLUMNS
from govmedia.web import create_app
from govmedia.web.deps import require, signed_in

from test_anomalies import ACCOUNTS, ordinary_posts, planted_posts
from test_web_api import basic, sign_in
from test_web_routes import calls, flat
from util import PASSWORD, make_store

FLAGGED = "MzA5NDAwMDAwMA=="  # the WeChat account with two planted inflated posts in 2020-11
NOVEMBER = {"from": "2020-11", "to": "2020-11"}
RANKING = {"platform": "wechat", "category": "comprehensive", **NOVEMBER}
CHECK_AT = "2020-12-31"  # after the data ends: every account sleeps, 不合格

# What an anonymous visitor may read, with the query each is asked with here.
PUBLIC = {
    "/": NOVEMBER,
    "/rankings": RANKING,
    "/rankings.{kind}": RANKING,
    "/compare": {"account": f"wechat:{FLAGGED}", **NOVEMBER},
    "/city": {},
    "/methodology": NOVEMBER,
    "/accounts/{platform}/{account_id}": {**NOVEMBER, "month": "2020-11"},
    "/login": {},
    "/healthz": {},
    "/api/v1/docs": {},
    "/api/v1/rankings": RANKING,
    "/api/v1/accounts": {},
    "/api/v1/scores": NOVEMBER,
    "/api/v1/explain": {"account": f"wechat:{FLAGGED}", "month": "2020-11"},
    "/api/v1/indices/{index}": NOVEMBER,
    "/api/v1/cases": {},
    "/api/v1/campaigns": {},
}
# The query of the routes that need a signed-in user (others are asked without one).
GUARDED = {
    "/oversight": {"at": CHECK_AT},
    "/oversight.{kind}": {"at": CHECK_AT},
    "/anomalies": NOVEMBER,
    "/anomalies.{kind}": NOVEMBER,
    "/api/v1/anomalies": NOVEMBER,
    "/reports/report.{fmt}": NOVEMBER,
    "/reports/preview": NOVEMBER,
}
# A value for each path parameter ("job" is the viewer's report job, made by the fixture).
SAMPLES = {"kind": ["csv", "xlsx"], "fmt": ["html"], "at": [CHECK_AT], "platform": ["wechat"], "account_id": [FLAGGED],
           "index": ["wci"], "job_id": ["job"], "upload_id": ["0" * 20], "path": ["x.rejects.csv"]}


def get_routes(app) -> dict[str, APIRoute]:
    return {r.path: r for r in flat(app.routes) if "GET" in r.methods}


def _app_routes() -> dict[str, APIRoute]:
    """The GET routes of the app, walked when the tests are collected (one test per route)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Path(folder) / "routes.duckdb", secret="routes")
        try:
            return get_routes(app)
        finally:
            app.state.store.close()


ROUTES = _app_routes()


def addresses(path: str) -> list[str]:
    """The route's path with each parameter filled in, every sample of it."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    missing = [n for n in names if n not in SAMPLES]
    assert not missing, f"{path}: add a sample value for {missing} to SAMPLES"
    found = [path]
    for name in names:
        found = [re.sub(r"{%s(?::\w+)?}" % name, value, p) for p in found for value in SAMPLES[name]]
    return found


def needed_role(route: APIRoute) -> str | None:
    """The role the route's guard asks for; None for a route without one."""
    guards = calls(route.dependant)
    roles = [g.role for g in guards if isinstance(g, require)]
    if roles:
        order = ["viewer", "editor", "admin"]
        return max(roles, key=order.index)
    return "viewer" if signed_in in guards else None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A store with planted inflation, a stored check (every account 不合格) and a viewer's report job."""
    folder = tmp_path_factory.mktemp("access")
    db = make_store(folder / "g.duckdb", accounts=ACCOUNTS, posts=ordinary_posts(random.Random(7)) + planted_posts(),
                    score=("2020-10", "2020-11"), users=True, password=PASSWORD)
    app = create_app(db, secret="test-secret")
    with TestClient(app) as setup:
        made = setup.post("/api/v1/checks", params={"at": CHECK_AT, "wait": "true", "confirm": "true"},
                          headers=basic("editor1"))
        assert made.status_code == 200, made.text
        job = setup.post("/reports/build", data={**NOVEMBER, "format": "html"}, headers=basic("viewer1"),
                         follow_redirects=False)
        assert job.status_code == 303, job.text
        location = job.headers["location"]
        for _ in range(600):
            if setup.get(location + "/progress", headers=basic("viewer1")).json()["finished"]:
                break
            time.sleep(0.1)
        SAMPLES["job_id"] = [location.rsplit("/", 1)[1]]
    yield app
    app.state.store.close()


@pytest.fixture(scope="module")
def anonymous(site):
    with TestClient(site) as client:
        yield client


@pytest.fixture(scope="module")
def viewer(site):
    with TestClient(site) as client:
        sign_in(client, "viewer1")
        yield client


def test_the_walked_routes_are_the_app_s(site):
    assert set(get_routes(site)) == set(ROUTES)
    assert set(PUBLIC) <= set(ROUTES), set(PUBLIC) - set(ROUTES)


@pytest.mark.parametrize("path", sorted(p for p in ROUTES if p not in PUBLIC))
def test_a_route_that_is_not_public_refuses_an_anonymous_visitor(path, site, anonymous, viewer):
    route = ROUTES[path]
    role = needed_role(route)
    assert role is not None, f"GET {path} declares no sign-in guard: add one (web/deps.py), or add it to PUBLIC " \
                             "if an anonymous visitor may read it (docs/security.md)"
    for address in addresses(path):
        query = GUARDED.get(path, {})
        refused = anonymous.get(address, params=query, follow_redirects=False)
        if address.startswith("/api/"):
            assert refused.status_code == 401, (address, refused.status_code, refused.text[:200])
            detail = refused.json()["detail"]
            assert "登录" in detail and re.search(r"[\u4e00-\u9fff]", detail) and "\n" not in detail
        else:
            assert refused.status_code == 303, (address, refused.status_code, refused.text[:200])
            target = address + ("?" + urlencode(query) if query else "")
            assert refused.headers["location"] == "/login?" + urlencode({"next": target})
        assert not re.search("不合格|⚠|阅读 100001|flagged", refused.text)
        answered = viewer.get(address, params=query)
        expected = 200 if role == "viewer" else 403
        assert answered.status_code == expected, (address, answered.status_code, answered.text[:300])


def test_inspection_results_findings_alerts_and_anomalies_are_not_public(anonymous):
    """The routes of the fault, by name: not on the public list, and refused with the reason."""
    for path in ("/oversight", "/oversight.{kind}", "/oversight/accounts/{platform}/{account_id}", "/api/v1/checks",
                 "/api/v1/checks/{at}", "/api/v1/checks/{at}/pass-rates", "/api/v1/checks/{at}/findings",
                 "/anomalies", "/anomalies.{kind}", "/api/v1/anomalies"):
        assert path in ROUTES and path not in PUBLIC, path
    said = anonymous.get(f"/api/v1/checks/{CHECK_AT}").json()["detail"]
    assert "只对已登录用户开放" in said and "HTTP Basic" in said


def text_of(response) -> str:
    """What a reader gets to see in a response: the text, or every cell of a workbook."""
    if response.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        return "\n".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for c in row if c is not None)
    return response.text


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_a_public_route_shows_an_anonymous_visitor_no_mark_and_no_inspection_result(path, anonymous):
    for address in addresses(path):
        response = anonymous.get(address, params=PUBLIC[path])
        assert response.status_code == 200, (address, response.text[:300])
        text = text_of(response)
        if path != "/methodology":  # which explains the ⚠ mark, as a method
            assert "⚠" not in text, address
        for said in ('class="flag"', "flagged", *FLAG_HEADERS.values(), "不合格", "睡眠账号", "阅读 100001",
                     "本月疑似刷量", 'href="/oversight', 'href="/anomalies'):
            assert said not in text, (address, said)


def _ranking_columns(response) -> list[str]:
    if response.headers["content-type"].startswith("text/csv"):
        return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [c.value for c in sheet[1]]


def test_leaderboard_downloads_carry_the_flag_columns_for_a_viewer_only(anonymous, viewer):
    for kind in ("csv", "xlsx"):
        theirs = _ranking_columns(anonymous.get(f"/rankings.{kind}", params=RANKING))
        mine = _ranking_columns(viewer.get(f"/rankings.{kind}", params=RANKING))
        assert len(mine) == len(theirs) + 2, (kind, theirs, mine)
        assert [c for c in mine if c not in {*FLAG_COLUMNS, *FLAG_HEADERS.values()}] == theirs
        assert not set(theirs) & {*FLAG_COLUMNS, *FLAG_HEADERS.values()}
        flags = [c for c in mine if c in {*FLAG_COLUMNS, *FLAG_HEADERS.values()}]
        assert flags in (list(FLAG_COLUMNS), list(FLAG_HEADERS.values()))
    rows = list(csv.DictReader(io.StringIO(viewer.get("/rankings.csv", params=RANKING).content.decode("utf-8-sig"))))
    assert rows[0]["flagged_posts"] == "2"


def test_the_api_leaves_out_the_marks_for_an_anonymous_caller(anonymous, viewer):
    theirs = anonymous.get("/api/v1/rankings", params=RANKING).json()
    mine = viewer.get("/api/v1/rankings", params=RANKING).json()
    basic_mine = anonymous.get("/api/v1/rankings", params=RANKING, headers=basic("viewer1")).json()
    assert set(theirs[0]) - {"note"} == set(RANK_COLUMNS) and theirs[0]["score"] == mine[0]["score"]
    assert mine[0]["flagged_posts"] == 2 and 0.5 < mine[0]["flagged_share"] < 1 and basic_mine == mine
    explain = {"account": f"wechat:{FLAGGED}", "month": "2020-11"}
    theirs = anonymous.get("/api/v1/explain", params=explain).json()
    mine = viewer.get("/api/v1/explain", params=explain).json()
    assert "flagged" not in theirs and "flagged_ids" not in theirs and theirs["total"] == mine["total"]
    assert len(mine["flagged"]) == 2 and set(mine["flagged_ids"]) == {"planted-ratio", "planted-jump"}


def test_leaderboard_and_account_page_show_the_marks_to_a_viewer_only(anonymous, viewer):
    theirs = anonymous.get("/rankings", params=RANKING).text
    mine = viewer.get("/rankings", params=RANKING).text
    assert "测试公众号" in theirs and "⚠" not in theirs and "本期间全部疑似刷量内容" not in theirs
    assert 'class="flag"' in mine and "含疑似刷量内容 2 篇" in mine and "本期间全部疑似刷量内容" in mine
    account = f"/accounts/wechat/{FLAGGED}"
    theirs = anonymous.get(account, params={**NOVEMBER, "month": "2020-11"}).text
    mine = viewer.get(account, params={**NOVEMBER, "month": "2020-11"}).text
    assert "测试公众号" in theirs and "月度总分" in theirs and "⚠" not in theirs and "疑似刷量" not in theirs
    assert "期间含疑似刷量内容 2 篇" in mine and "本月疑似刷量 2 篇" in mine and "2020年11月 ⚠" in mine
    assert mine.count('title="疑似刷量，依据见上方分数解释"') == 2


def test_the_inspection_links_are_hidden_from_an_anonymous_visitor(anonymous, viewer):
    for path in ("/", "/methodology", f"/accounts/wechat/{FLAGGED}", "/city", "/login"):
        for _ in range(2):  # rendered, then from the page cache
            theirs, mine = anonymous.get(path).text, viewer.get(path).text
            nav = re.search(r"<nav>.*?</nav>", theirs, re.S).group(0)
            assert "合规检查" not in nav and "疑似刷量" not in nav, path
            assert 'href="/oversight"' not in theirs and 'href="/anomalies"' not in theirs, path
            nav = re.search(r"<nav>.*?</nav>", mine, re.S).group(0)
            assert 'href="/oversight"' in nav and 'href="/anomalies"' in nav and "合规检查" in nav and "疑似刷量" in nav
    assert "只对已登录用户显示" in anonymous.get("/methodology").text


@pytest.mark.parametrize("viewer_first", [True, False], ids=["signed-in-first", "anonymous-first"])
def test_the_page_cache_keeps_the_anonymous_copy_free_of_marks(site, tmp_path, viewer_first):
    """Anonymous and signed-in readers get separate cached copies: whoever comes first, the
    anonymous one never carries a mark and the signed-in one always does."""
    db = tmp_path / "cache.duckdb"
    shutil.copy(site.state.store.path, db)
    app = create_app(db, secret="test-secret")
    stats = app.state.page_cache
    pages = [("/rankings?" + urlencode(RANKING), "含疑似刷量内容 2 篇"),
             (f"/accounts/wechat/{FLAGGED}?" + urlencode({**NOVEMBER, "month": "2020-11"}), "本月疑似刷量 2 篇")]
    try:
        with TestClient(app) as anonymous, TestClient(app) as viewer, TestClient(app) as cookie, \
                TestClient(app) as leaver:
            sign_in(viewer, "viewer1")
            cookie.get("/login")  # a session cookie without a user
            token = sign_in(leaver, "editor1")  # (a logout ends every session of its user)
            leaver.post("/logout", data={"csrf_token": token})  # signed out again
            for round_ in range(2):
                for address, mark in pages:
                    order = [viewer, anonymous, cookie, leaver] if viewer_first else [anonymous, cookie, leaver, viewer]
                    renders = stats.get("renders", 0)
                    for client in order:
                        text = client.get(address).text
                        if client is viewer:
                            assert mark in text and "⚠" in text, (round_, address)
                        else:
                            assert "⚠" not in text and "疑似刷量" not in text, (round_, address)
                    if round_:  # the second time both copies come from memory
                        assert stats.get("renders", 0) == renders, address
    finally:
        app.state.store.close()
