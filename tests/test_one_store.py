"""One store, many processes: the site, the command line and other writers on the same DuckDB file
(store/access.py). Real processes throughout: the locks between processes are the point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from govmedia.store.access import Access, StoreBusy
from util import run_cli, served
from web_fixtures import NEW_POSTS, PASSWORD, build_store

HOLD = textwrap.dedent("""
    import sys, time
    from govmedia.store.access import Access
    with Access(sys.argv[1]).{unit}() as con:
        con.execute("SELECT count(*) FROM accounts").fetchall()
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _holder(db: Path, unit: str, seconds: float) -> subprocess.Popen:
    """Another process holding a read or write unit on the store for `seconds`."""
    process = subprocess.Popen([sys.executable, "-c", HOLD.format(unit=unit), str(db), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_command_waits_for_a_write_elsewhere_and_says_so(tmp_path):
    db = build_store(tmp_path)
    holder = _holder(db, "write", 2.0)
    began = time.monotonic()
    result = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
                     "--format", "csv", db=db)
    waited = time.monotonic() - began
    holder.wait(10)
    assert result.returncode == 0, result.stderr
    assert "甲区发布" in result.stdout
    assert "数据库正被写入，等待…" in result.stderr and waited >= 1.0


def test_reads_share_the_store_and_a_write_waits_for_them(tmp_path):
    db = build_store(tmp_path)
    reader = _holder(db, "read", 1.5)
    access = Access(db)
    with access.read() as con:  # a reader beside another process's reader: no wait
        assert con.execute("SELECT count(*) FROM accounts").fetchall()[0][0] == 4
    began = time.monotonic()
    with access.write() as con:
        con.execute("UPDATE accounts SET followers = 1 WHERE account_id = 'B'")
    assert time.monotonic() - began >= 0.5  # waited for the other reader
    reader.wait(10)
    assert access.version() == 1


def test_a_bounded_wait_fails_cleanly(tmp_path):
    db = build_store(tmp_path)
    holder = _holder(db, "write", 3.0)
    try:
        with pytest.raises(StoreBusy, match="数据库"):
            with Access(db, wait=0.3).read():
                pass
    finally:
        holder.wait(10)
    with Access(db, wait=5).read() as con:  # usable afterwards
        assert con.execute("SELECT count(*) FROM accounts").fetchall()[0][0] == 4


def test_a_writer_is_not_starved_by_a_stream_of_readers(tmp_path):
    db = build_store(tmp_path)
    access = Access(db)
    stop = threading.Event()
    reads = []

    def keep_reading():
        while not stop.is_set():
            with access.read() as con:
                reads.append(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
                time.sleep(0.01)

    threads = [threading.Thread(target=keep_reading) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        began = time.monotonic()
        result = run_cli("score", "--from", "2020-02", "--to", "2020-03", db=db)
        took = time.monotonic() - began
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert result.returncode == 0, result.stderr
    assert took < 30 and len(reads) > 10


def test_a_killed_writer_leaves_the_store_as_before_and_usable(tmp_path):
    db = build_store(tmp_path)
    with Access(db).read() as con:
        before = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    script = textwrap.dedent("""
        import sys, time
        from govmedia.store import transaction
        from govmedia.store.access import Access
        with Access(sys.argv[1]).write() as con:
            with transaction(con):
                con.execute("DELETE FROM snapshots")
                con.execute("DELETE FROM posts")
                print("deleting", flush=True)
                time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "deleting"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    began = time.monotonic()
    with Access(db, wait=10).read() as con:  # the kernel released the dead writer's locks
        assert con.execute("SELECT count(*) FROM posts").fetchall()[0][0] == before
    assert time.monotonic() - began < 5


def test_a_store_that_does_not_exist_is_read_by_nobody_and_created_by_writers(tmp_path):
    missing = tmp_path / "typo.duckdb"
    for args in (("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03"),
                 ("explain", "weibo:A", "--month", "2020-02"), ("db", "info"), ("accounts", "list"),
                 ("report", "--from", "2020-02", "--to", "2020-03", "--out", str(tmp_path / "r")),
                 ("serve", "--port", "1")):
        result = run_cli(*args, db=missing)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"错误: 数据库文件不存在: {missing}（请检查 --db 或环境变量 GOVMEDIA_DB"
            + ("；新建空库请加 --create）" if args[0] == "serve" else "）")], args
        assert sorted(p.name for p in tmp_path.iterdir()) == [], args  # nothing created, not even a lock file
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("平台,账号ID,名称,类别\n微博,A,甲区发布,区级\n", encoding="utf-8")
    made = run_cli("accounts", "import", str(accounts), db=missing)
    assert made.returncode == 0 and f"已新建数据库 {missing}" in made.stderr
    nested = tmp_path / "new" / "folder" / "store.duckdb"  # as `make demo` on a fresh machine
    assert run_cli("accounts", "import", str(accounts), db=nested).returncode == 0 and nested.exists()
    again = run_cli("accounts", "import", str(accounts), db=missing)
    assert "已新建" not in again.stderr


@pytest.fixture
def site(tmp_path):
    db = build_store(tmp_path)
    with served(db) as base:
        yield base, db, tmp_path


def test_the_shell_works_beside_the_site_and_the_site_sees_its_writes(site):
    base, db, folder = site
    params = {"platform": "weibo", "category": "district", "from": "2020-02", "to": "2020-03"}
    before = httpx.get(base + "/api/v1/rankings", params=params).json()
    assert [r["account_id"] for r in before] == ["A", "B"]
    statuses: list[int] = []
    slowest = [0.0]
    stop = threading.Event()

    def hammer():
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 120  # bounded, whatever happens
            while not stop.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                statuses.append(client.get("/api/v1/rankings", params=params).status_code)
                slowest[0] = max(slowest[0], time.monotonic() - began)

    readers = [threading.Thread(target=hammer) for _ in range(3)]
    for r in readers:
        r.start()
    try:
        (folder / "c.csv").write_text("平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n", encoding="utf-8")
        (folder / "new.csv").write_text(NEW_POSTS, encoding="utf-8")
        steps = [
            ("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
             "--format", "csv"),
            ("accounts", "import", str(folder / "c.csv")),
            ("import", str(folder / "new.csv")),
            ("score", "--from", "2020-02", "--to", "2020-03"),
            ("check", "--at", "2020-04-01", "--yes"),
            ("report", "--from", "2020-02", "--to", "2020-03", "--format", "html", "--out", str(folder / "report")),
        ]
        results = {step[0]: run_cli(*step, db=db) for step in steps}
    finally:
        stop.set()
        for r in readers:
            r.join(30)
    for name, result in results.items():
        expected = 1 if name == "import" else 0  # the import rejects its unregistered row, as it should
        assert result.returncode == expected, (name, result.stderr)
        assert "Traceback" not in result.stderr and "lock" not in result.stderr.lower(), (name, result.stderr)
    assert "甲区发布" in results["rank"].stdout
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    # The site learnt of the shell's writes without a restart: C now leads the district ranking.
    after = httpx.get(base + "/api/v1/rankings", params=params).json()
    assert after[0]["account_id"] == "C" and {r["account_id"] for r in after} == {"A", "B", "C"}
    shell = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
                    "--format", "json", db=db)
    import json

    assert [(r["account_id"], round(r["score"], 6)) for r in json.loads(shell.stdout)] == \
        [(r["account_id"], round(r["score"], 6)) for r in after]
    assert httpx.get(base + "/oversight", params={"at": "2020-04-01"}, auth=("viewer1", PASSWORD)).status_code == 200


def test_an_import_rescores_the_months_it_changed(tmp_path):
    db = build_store(tmp_path)
    (tmp_path / "c.csv").write_text("平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n", encoding="utf-8")
    (tmp_path / "new.csv").write_text(NEW_POSTS, encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    result = run_cli("import", str(tmp_path / "new.csv"), "--json", db=db)
    assert result.returncode == 1, result.stderr  # its unregistered row is rejected
    import json

    report = json.loads(result.stdout)
    assert report["months"] == ["2020-02", "2020-03"]
    assert report["rescored"] == [{"from": "2020-02", "to": "2020-03", "rows": 10}]  # 5 accounts × 2 months
    ranked = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
                     "--format", "json", db=db)
    assert [r["account_id"] for r in json.loads(ranked.stdout)][0] == "C"  # no `govmedia score` needed
    # Importing the same file again changes nothing, so nothing is rescored.
    again = json.loads(run_cli("import", str(tmp_path / "new.csv"), "--json", db=db).stdout)
    assert again["months"] == [] and again["rescored"] == []


def test_only_writes_that_change_data_retire_the_caches(tmp_path):
    db = build_store(tmp_path)
    access = Access(db)
    start = access.version()
    posts = tmp_path / "posts.csv"  # what build_store imported: re-importing it changes nothing
    assert run_cli("import", str(posts), db=db).returncode == 0
    assert access.version() == start
    with access.write(data=False) as con:  # bookkeeping, e.g. a sign-in's audit row
        con.execute("SELECT 1").fetchall()
    assert access.version() == start
    (tmp_path / "c.csv").write_text("平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n", encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    assert access.version() > start


def test_a_write_unit_that_imports_inside_a_bigger_write_still_counts_as_a_change(tmp_path):
    from govmedia.ingest import import_path

    db = build_store(tmp_path)
    (tmp_path / "c.csv").write_text("平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n", encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    (tmp_path / "new.csv").write_text(NEW_POSTS, encoding="utf-8")
    access = Access(db)
    start = access.version()
    with access.write() as con:  # as `govmedia demo` does: one unit, an import inside it
        assert import_path(con, tmp_path / "new.csv").accepted == 2
    assert access.version() == start + 1



def test_a_busy_store_answers_429_with_retry_after_in_chinese(tmp_path, monkeypatch):
    """A page or API read that waited its bound for another process's write: not the client's
    mistake (400) nor a fault of the server (5xx), but "too many at once, try again"."""
    from contextlib import contextmanager

    from fastapi.testclient import TestClient

    from govmedia.web import create_app

    db = build_store(tmp_path)
    app = create_app(db, secret="test-secret")
    with TestClient(app) as client:
        store = app.state.store

        @contextmanager
        def busy(*args, **kwargs):
            raise StoreBusy("数据库正在写入，读取等待超时；请稍后再试")
            yield

        monkeypatch.setattr(store, "read", busy)
        page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-02")
        api = client.get("/api/v1/rankings?platform=weibo&category=district&from=2020-02&to=2020-02")
        monkeypatch.undo()
        assert page.status_code == 429 and page.headers["Retry-After"] == "5"
        assert "数据库正在写入" in page.text and "请稍后再试" in page.text and "<nav>" in page.text
        assert api.status_code == 429 and "数据库正在写入" in api.json()["detail"]
        assert client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-02").status_code == 200
