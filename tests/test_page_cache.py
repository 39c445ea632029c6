"""Caches that notice every writer and forget only what a write changed (issue 11, point 5), and
scores that say when they are stale (point 4).

Writes record the months they changed (`<db>.changes`); the page cache keeps a page until a write
touches one of the months it shows; signed-in readers get the cached page of their role with their
own name and CSRF token; a month whose posts changed after its scores says so on every page and
in the shell until it is rescored."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from govmedia.store.access import EVERYTHING, Access
from govmedia.web import create_app

from test_web_api import sign_in
from util import run_cli
from web_fixtures import build_store

HEADER = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
# B jumps ahead of A in March only.
MARCH_B = HEADER + "微博,B,b9,2020-03-20 10:00,是,三月新内容,90000,40000,20000\n"
FEB = "/rankings?platform=weibo&category=district&from=2020-02&to=2020-02"
MARCH = "/rankings?platform=weibo&category=district&from=2020-03&to=2020-03"


def test_writes_record_the_months_they_changed(tmp_path):
    db = build_store(tmp_path)
    access = Access(db)
    start = access.version()
    (tmp_path / "march.csv").write_text(MARCH_B, encoding="utf-8")
    assert run_cli("import", str(tmp_path / "march.csv"), "--no-rescore", db=db).returncode == 0
    after_import = access.version()
    assert access.changed_since(start) == {"2020-03"}

    # Rescoring months that had scores, under the same methodology: those months only.
    assert run_cli("score", "--from", "2020-03", "--to", "2020-03", db=db).returncode == 0
    assert access.changed_since(after_import) == {"2020-03"}
    rescored = access.version()

    # A post moved from March to February (a later crawl says so) changes both months.
    moved = ("平台,账号ID,内容ID,发布时间,采集时间,是否原创,正文,转发,评论,点赞\n"
             "微博,B,b9,2020-02-20 10:00,2020-04-01 08:00,是,三月新内容,90000,40000,20000\n")
    (tmp_path / "moved.csv").write_text(moved, encoding="utf-8")
    assert run_cli("import", str(tmp_path / "moved.csv"), "--no-rescore", db=db).returncode == 0
    assert access.changed_since(rescored) == {"2020-02", "2020-03"}
    moved_at = access.version()

    # A month's first scores change the period choices of every page; a registry change, anything.
    assert run_cli("score", "--from", "2020-04", "--to", "2020-04", db=db).returncode == 0
    assert access.changed_since(moved_at) == EVERYTHING
    first_scores = access.version()
    (tmp_path / "c.csv").write_text("平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n", encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    assert access.changed_since(first_scores) == EVERYTHING
    assert access.changed_since(access.version()) == set()


def test_a_change_not_on_record_counts_as_everything(tmp_path):
    db = build_store(tmp_path)
    access = Access(db)
    version = access.version()
    Access(db)._replace(access._changes_path, "")  # e.g. written by an older release
    with access.write(declared=True) as con:
        from govmedia.store.access import changed

        changed(con, ["2020-03"])
    assert access.version() == version + 1
    assert access.changed_since(version) == {"2020-03"}
    assert access.changed_since(version - 1) == EVERYTHING


def test_a_failed_declared_unit_counts_as_everything(tmp_path):
    db = build_store(tmp_path)
    access = Access(db)
    version = access.version()
    try:
        with access.write(declared=True):
            raise RuntimeError("killed half-way")
    except RuntimeError:
        pass
    assert access.changed_since(version) == EVERYTHING


def test_an_import_into_one_month_leaves_other_periods_cached(tmp_path):
    db = build_store(tmp_path)
    app = create_app(db, secret="test-secret")
    stats = app.state.page_cache
    with TestClient(app) as client:
        feb, march = client.get(FEB).text, client.get(MARCH).text
        renders = stats["renders"]
        assert client.get(FEB).text == feb and client.get(MARCH).text == march
        assert stats["renders"] == renders  # both answered from memory

        (tmp_path / "march.csv").write_text(MARCH_B, encoding="utf-8")
        result = run_cli("import", str(tmp_path / "march.csv"), db=db)  # from the shell, rescoring March
        assert result.returncode == 0, result.stderr

        assert client.get(FEB).text == feb
        assert stats["renders"] == renders  # February is not touched by a March import
        new_march = client.get(MARCH).text
        assert stats["renders"] == renders + 1
        assert new_march != march
        assert new_march.index("乙区发布") < new_march.index("甲区发布")  # B now leads March
        # The default period (February to March) contains March: rendered again.
        overview = client.get("/").text
        assert stats["renders"] == renders + 2 and "乙区发布" in overview


def test_signed_in_readers_share_a_rendered_page_with_their_own_name_and_token(tmp_path):
    db = build_store(tmp_path)
    app = create_app(db, secret="test-secret")
    stats = app.state.page_cache
    with TestClient(app) as editor, TestClient(app) as viewer, TestClient(app) as anonymous:
        token = sign_in(editor, "editor1")
        sign_in(viewer, "viewer1")
        first = editor.get(MARCH)
        renders = stats["renders"]
        again = editor.get(MARCH)
        assert stats["renders"] == renders and again.text == first.text
        assert "editor1（编辑）" in again.text and 'href="/data"' in again.text
        assert re.search(r'action="/logout".*?value="([^"]+)"', again.text).group(1) == token
        assert "__govmedia_" not in again.text
        assert int(again.headers["content-length"]) == len(again.content)

        seen = viewer.get(MARCH).text  # another role: its own copy
        assert stats["renders"] == renders + 1
        assert "viewer1（" in seen and "editor1" not in seen and 'href="/data"' not in seen
        assert "editor1" not in anonymous.get(MARCH).text and "退出" not in anonymous.get(MARCH).text

        # The cached page's sign-out form works: its token is this session's.
        out = editor.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
        assert "editor1" not in editor.get(MARCH).text


def test_stale_scores_say_so_and_since_when_until_rescored(tmp_path):
    db = build_store(tmp_path)
    (tmp_path / "march.csv").write_text(MARCH_B, encoding="utf-8")
    imported = run_cli("import", str(tmp_path / "march.csv"), "--no-rescore", db=db)
    assert imported.returncode == 0, imported.stderr
    with TestClient(create_app(db, secret="test-secret")) as client:
        page = client.get(MARCH).text
        assert "2020-03 的数据自" in page and "分数尚未重新计算" in page
        assert "分数尚未重新计算" not in client.get(FEB).text  # February is current
        rank = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-03", "--to",
                       "2020-03", db=db)
        assert rank.returncode == 0 and "2020-03 的分数早于" in rank.stderr
        assert run_cli("score", "--from", "2020-03", "--to", "2020-03", db=db).returncode == 0
        assert "分数尚未重新计算" not in client.get(MARCH).text
        rank = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-03", "--to",
                       "2020-03", db=db)
        assert "早于" not in rank.stderr


def test_while_a_write_holds_the_store_a_retired_page_is_answered_and_renders_once_it_ends(tmp_path):
    """Issue 25: a page a write retired is rendered again by one reader, which waits for the write
    in progress; the others get the copy it retired at once instead of waiting with it (an
    upload writes for minutes). Real processes: a served site, another process writing."""
    import subprocess
    import sys
    import textwrap
    import threading
    import time

    import httpx

    from util import served
    from web_fixtures import build_store

    db = build_store(tmp_path)
    write = textwrap.dedent("""
        import sys, time
        from govmedia.store.access import Access
        with Access(sys.argv[1]).write() as con:  # a data write: retires every page
            con.execute("UPDATE accounts SET name = name").fetchall()
        with Access(sys.argv[1]).write(data=False):
            print("holding", flush=True)
            time.sleep(float(sys.argv[2]))
    """)
    page = "/rankings?platform=weibo&category=district&from=2020-02&to=2020-03"
    with served(db, "--workers", "1") as base:
        assert httpx.get(base + page, timeout=30).status_code == 200  # rendered and kept
        holder = subprocess.Popen([sys.executable, "-c", write, str(db), "4"], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "holding"
        began = time.monotonic()
        renderer: dict = {}

        def render():
            renderer["response"] = httpx.get(base + page, timeout=60)
            renderer["seconds"] = time.monotonic() - began

        first = threading.Thread(target=render)
        first.start()
        time.sleep(0.5)  # the first reader is rendering, waiting for the write
        t0 = time.monotonic()
        others = [httpx.get(base + page, timeout=60) for _ in range(3)]
        quick = time.monotonic() - t0
        first.join(60)
        holder.wait(10)
    assert all(r.status_code == 200 and "甲区发布" in r.text for r in others)
    assert quick < 2.0, quick  # not the 4 s of the write
    assert renderer["response"].status_code == 200 and renderer["seconds"] >= 3.0  # it did wait for the write
