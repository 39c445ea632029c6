"""The house rules of the web layer, checked on the app itself: every write declares a role, no
read can write, periods are bounded before any work, no SQL in web, and the pages show what the
library reads under the methodology in force."""

from __future__ import annotations

import html
import inspect
import json
import re
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from govmedia.methodology import builtin
from govmedia.ranking.accounts import top_posts
from govmedia.scoring import score
from govmedia.scoring.explain import explain
from govmedia.store import open_store
from govmedia.web import create_app, deps
from govmedia.web.deps import Reads, SignIn, Writes, require

from test_web_api import basic
from util import custom_methodology
from web_fixtures import build_store

WEB = Path(deps.__file__).parent
# Writes nothing to the store: signing in (only its audit entry, through SignIn), signing out
# (the session only) and the city calculator (computes on the file sent).
NO_ROLE_WRITES = {("POST", "/login"), ("POST", "/logout"), ("POST", "/city")}
# Start work that only reads the store (its job's row is bookkeeping): any signed-in user.
READING_FORMS = {("POST", "/reports/build"), ("POST", "/reports/preview")}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("routes"))
    app = create_app(db, secret="test-secret")
    yield app
    app.state.store.close()


def calls(dependant) -> list:
    """Every callable a route depends on, recursively."""
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(calls(sub))
    return found


def writers(route: APIRoute) -> list[require]:
    return [c for c in calls(route.dependant) if isinstance(c, require) and c.write]


def flat(items) -> list[APIRoute]:
    """The app's routes, through included routers (newer FastAPI keeps those as one entry each)."""
    out = []
    for r in items:
        if isinstance(r, APIRoute):
            out.append(r)
        elif getattr(r, "original_router", None) is not None:
            out.extend(flat(r.original_router.routes))
    return out


def routes(app) -> list[tuple[str, APIRoute]]:
    found = [(method, r) for r in flat(app.routes) for method in r.methods]
    assert len(found) > 30
    return found


def test_every_write_declares_a_role(app):
    seen = set()
    for method, route in routes(app):
        if method in ("GET", "HEAD"):
            continue
        seen.add((method, route.path))
        if (method, route.path) in NO_ROLE_WRITES:
            assert not writers(route), route.path
            continue
        forms = [c for c in calls(route.dependant) if isinstance(c, require) and c.csrf]
        assert forms, f"{method} {route.path} declares no role dependency"
        if writers(route):
            assert all(w.role in ("editor", "admin") for w in writers(route))
        else:  # a form that only starts reading work (a report): signed in, CSRF-checked, no write access
            assert (method, route.path) in READING_FORMS, route.path
            assert "Writes" not in inspect.getsource(route.endpoint) and ".write(" not in inspect.getsource(route.endpoint)
    assert NO_ROLE_WRITES <= seen
    assert len(seen) > len(NO_ROLE_WRITES)


def test_allow_listed_posts_cannot_reach_the_write_access(app):
    for method, route in routes(app):
        if (method, route.path) not in NO_ROLE_WRITES:
            continue
        source = inspect.getsource(route.endpoint)
        assert "state.store" not in source and "_store" not in source and ".write(" not in source, route.path
        for call in calls(route.dependant):
            assert not isinstance(call, require)
            returns = inspect.signature(call).return_annotation
            assert "Writes" not in str(returns), (route.path, call)
    # What sign-in gets is a password check and the login's audit entry, no write access.
    assert not hasattr(SignIn, "write") and not hasattr(SignIn, "cached")


def test_a_get_route_cannot_write(app):
    for method, route in routes(app):
        if method != "GET":
            continue
        assert not writers(route), f"GET {route.path} holds write access"
        source = inspect.getsource(route.endpoint)
        assert ".write(" not in source and "state.store" not in source, route.path
    store = app.state.store
    assert not hasattr(Reads(store, None, None), "write")
    assert hasattr(Writes(store, None, ("editor1", "editor")), "write")


def test_no_sql_and_no_hand_written_guards_in_web():
    for path in WEB.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "con.execute" not in text and not re.search(r"\bSELECT\b|\bINSERT\b|\bUPDATE \w+ SET\b", text), path
        assert "require_role" not in text and "_guard(" not in text, path
        assert "INTERVAL 8" not in text and "hours=8" not in text, path
        if path.name not in ("deps.py", "__init__.py"):
            assert "state.store" not in text, path


def test_period_out_of_bounds_is_refused_before_any_work(app, monkeypatch):
    import govmedia.web.api as api

    def forbidden(*args, **kwargs):
        raise AssertionError("work started for a refused period")

    monkeypatch.setattr(api, "compute_index", forbidden)
    monkeypatch.setattr(api, "export_scores", forbidden)
    monkeypatch.setattr(api, "rank", forbidden)
    with TestClient(app) as client:
        for path, params in [
            ("/api/v1/indices/bci", {"from": "1819-10", "to": "8819-10"}),
            ("/api/v1/indices/wci", {"from": "2000-01", "to": "2099-12"}),  # far more than 60 months
            ("/api/v1/scores", {"from": "2020-01", "to": "2030-01"}),
            ("/api/v1/rankings", {"platform": "weibo", "category": "district", "from": "2020-05", "to": "2020-02"}),
        ]:
            began = time.monotonic()
            response = client.get(path, params=params)
            assert response.status_code == 400, (path, response.text)
            assert time.monotonic() - began < 5
            detail = response.json()["detail"]
            assert isinstance(detail, str) and "\n" not in detail and re.search(r"[\u4e00-\u9fff]", detail)
            assert detail.startswith(("from", "to")), detail  # named as the API names it
        assert "年份应在" in client.get("/api/v1/indices/bci", params={"from": "1819-10", "to": "8819-10"}).json()["detail"]
        assert "超过上限" in client.get("/api/v1/indices/wci", params={"from": "2000-01", "to": "2099-12"}).json()["detail"]
        page = client.get("/rankings", params={"from": "1819-10", "to": "2020-01"})
        assert page.status_code == 400 and "起始月份" in page.text  # pages name it by its label


def test_pages_and_api_read_under_the_methodology_in_force(tmp_path):
    db = build_store(tmp_path)
    con = open_store(db)
    custom = custom_methodology(tmp_path)
    score(con, "2020-02", "2020-03", methodology=custom)
    expected = explain(con, "weibo", "A", "2020-02")  # methodology=None: the one in force
    posts = top_posts(con, "weibo", "A", "2020-02")
    con.close()
    assert [d.weight for d in expected.dimensions][:2] == [0.40, 0.20]

    app = create_app(db, secret="test-secret")  # no methodology file given: the one in force
    try:
        with TestClient(app) as client:
            api = client.get("/api/v1/explain", params={"account": "weibo:A", "month": "2020-02"}, headers=basic("viewer1"))
            assert api.status_code == 200
            assert api.json() == json.loads(json.dumps(asdict(expected), default=str))
            # An anonymous caller gets the same but the suspicion marks (docs/security.md).
            anonymous = client.get("/api/v1/explain", params={"account": "weibo:A", "month": "2020-02"}).json()
            assert anonymous == {k: v for k, v in api.json().items() if k not in ("flagged", "flagged_ids")}
            page = client.get("/accounts/weibo/A", params={"from": "2020-02", "to": "2020-03", "month": "2020-02"})
            assert page.status_code == 200
            text = html.unescape(page.text)
            panel = text[text.index('<section id="explain">'):]
            assert f"月度总分 <b>{expected.total:.2f}</b>" in panel
            assert "0.4 × " in panel and "0.2 × " in panel
            assert expected.methodology_sha256[:16] in panel
            for d in expected.dimensions:
                assert f"{d.score:.2f}" in panel and f"{d.contribution:.2f}" in panel
            table = panel[panel.index("互动最多的内容"):]
            rows = re.findall(r"<tr>\s*<td>(\d\d-\d\d \d\d:\d\d)</td>(.*?)</tr>", table, re.S)
            assert len(rows) == len(posts) > 0
            for (shown_time, cells), post in zip(rows, posts):
                numbers = re.findall(r'<td class="num">([^<]*)</td>', cells)
                assert numbers == [f"{post[k]:,}" if post[k] is not None else "" for k in ("reposts", "comments", "likes")]
    finally:
        app.state.store.close()


def test_a_dimension_without_terms_reads_not_applicable_and_the_period_score_is_explained(tmp_path):
    db = build_store(tmp_path)
    text = builtin().text
    wechat_innovation = "innovation = [\n  { weight = 1.0, of = { sum_i_reads = 1, sum_i_wows = 10 } },\n]"
    assert wechat_innovation in text
    variant = tmp_path / "no-wechat-innovation.toml"
    variant.write_text(text.replace(wechat_innovation, "innovation = []").replace('name = "GMI-1"', 'name = "无创新"'),
                       encoding="utf-8")
    con = open_store(db)
    score(con, "2020-02", "2020-03", methodology=variant)
    con.close()
    app = create_app(db, secret="test-secret")
    try:
        with TestClient(app) as client:
            wechat = html.unescape(client.get("/rankings", params={"platform": "wechat", "category": "comprehensive",
                                                                    "from": "2020-02", "to": "2020-03"}).text)
            row = wechat[wechat.index("微信一"):]
            cells = re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', row[:row.index("</tr>")])
            assert cells[3] == "不适用" and cells[2] != "不适用"  # innovation has no terms; engagement has
            note = wechat[wechat.index('id="score-note"'):]
            assert "2 个月月度总分之和（满分 200）" in note
            assert "传播力 × 30% + 互动力 × 30% + 创新力 × 20% + 影响力 × 20%" in note
            assert "没有为微信设定创新力的计分项" in note
            # No cases or campaigns in this store: every influence is a real 0.00, and the note says why.
            assert "影响力都是 0" in note and cells.count("不适用") == 1 and cells[4] == "0.00"
            weibo = html.unescape(client.get("/rankings", params={"platform": "weibo", "category": "district",
                                                                  "from": "2020-02", "to": "2020-03"}).text)
            assert "不适用</td>" not in weibo and "0.00</td>" in weibo  # Weibo's innovation has terms
    finally:
        app.state.store.close()


def test_a_wrong_month_in_the_address_is_said_never_ignored(app):
    with TestClient(app) as client:
        page = client.get("/rankings?platform=weibo&category=district&from=2020-13")
        assert page.status_code == 400 and "起始月份" in page.text and "2020-13" in page.text
        single = client.get("/rankings?platform=weibo&category=district&from=2020-03")  # one month alone
        assert single.status_code == 200 and "2020年3月" in single.text
        unknown = client.get("/accounts/weibo/NOPE")
        assert unknown.status_code == 404 and "微博账号 NOPE" in unknown.text and "weibo:" not in unknown.text
