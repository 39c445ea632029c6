"""The watch folder: crawler output imported as it lands, scored, exactly once (also across restarts)."""

from __future__ import annotations

import json
import time

import httpx

from govmedia.store.access import Access
from govmedia.store.jobs import recent_jobs
from util import run_cli, served
from web_fixtures import NEW_POSTS, PASSWORD, build_store

C = "平台,账号ID,名称,类别\n微博,C,丙区发布,区级\n"
RANKING = ["rank", "--platform", "weibo", "--category", "district", "--from", "2020-02", "--to", "2020-03",
           "--format", "json"]


def _batches(db) -> int:
    with Access(db).read() as con:
        return con.execute("SELECT count(*) FROM import_batches").fetchall()[0][0]


def _watched(tmp_path):
    """The web store with account C registered, and an empty crawler folder to watch."""
    db = build_store(tmp_path)
    (tmp_path / "c.csv").write_text(C, encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    return db, crawl


def test_watch_imports_scores_and_never_twice(tmp_path):
    db = build_store(tmp_path)
    (tmp_path / "c.csv").write_text(C, encoding="utf-8")
    assert run_cli("accounts", "import", str(tmp_path / "c.csv"), db=db).returncode == 0
    crawl = tmp_path / "crawl"
    (crawl / "weibo").mkdir(parents=True)
    (crawl / "weibo" / "new.csv").write_text(NEW_POSTS, encoding="utf-8")
    before = _batches(db)
    args = ("watch", str(crawl), "--once", "--interval", "0.2", "--settle", "0.5")
    first = run_cli(*args, db=db)
    assert first.returncode == 0, first.stderr
    assert "new.csv" in first.stdout and "接受 2  拒收 1" in first.stdout
    assert "已重新计算 2020-02 至 2020-03 的分数" in first.stdout
    assert (crawl / "weibo" / "new.csv.rejects.csv").exists()  # rejects as for govmedia import
    assert json.loads(run_cli(*RANKING, db=db).stdout)[0]["account_id"] == "C"
    assert _batches(db) == before + 1
    # A restarted watcher imports nothing twice; a file the crawler rewrites is taken again.
    again = run_cli(*args, db=db)
    assert again.returncode == 0 and "new.csv" not in again.stdout and _batches(db) == before + 1
    with (crawl / "weibo" / "new.csv").open("a", encoding="utf-8") as handle:
        handle.write("微博,C,c3,2020-03-09 10:00,是,,再发一条,5,5,5\n")
    third = run_cli(*args, db=db)
    assert "接受 1  拒收 1  未变化 2" in third.stdout, third.stdout
    with Access(db).read() as con:
        jobs = recent_jobs(con)
    assert [j["params"]["file"] for j in jobs if j["params"].get("watch")] == ["new.csv", "new.csv"]


def test_the_site_watches_a_folder_and_shows_what_landed_within_seconds(tmp_path):
    db, crawl = _watched(tmp_path)
    params = {"platform": "weibo", "category": "district", "from": "2020-02", "to": "2020-03"}
    with served(db, "--watch", str(crawl)) as base:
        assert httpx.get(base + "/api/v1/rankings", params=params).json()[0]["account_id"] == "A"
        (crawl / "new.csv").write_text(NEW_POSTS, encoding="utf-8")
        dropped = time.monotonic()
        while time.monotonic() - dropped < 30:
            ranking = httpx.get(base + "/api/v1/rankings", params=params).json()
            if ranking[0]["account_id"] == "C":
                break
            time.sleep(0.5)
        took = time.monotonic() - dropped
        assert ranking[0]["account_id"] == "C", ranking
        assert took < 30
        time.sleep(3)  # and only once
        jobs = httpx.get(base + "/api/v1/jobs", auth=("editor1", PASSWORD)).json()
    watched = [j for j in jobs if (j.get("params") or {}).get("watch")]
    assert len(watched) == 1 and watched[0]["state"] == "done"
    assert _batches(db) == 2  # the fixture's posts file and the dropped one


def test_the_watcher_says_what_is_wrong_with_a_file_and_goes_on_to_the_next(tmp_path):
    """A file that cannot be read is one Chinese line naming it; the watcher does not die on it."""
    db, crawl = _watched(tmp_path)
    # Picked up first (sorted by name): a PDF saved under a table's name, then a crawler's file.
    (crawl / "a_broken.csv").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (crawl / "b_new.csv").write_text(NEW_POSTS, encoding="utf-8")
    result = run_cli("watch", str(crawl), "--once", "--interval", "0.2", "--settle", "0.5", db=db)
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr
    broken = [line for line in result.stderr.splitlines() if "a_broken.csv" in line]
    assert len(broken) == 1 and "PDF" in broken[0] and broken[0].startswith("错误"), result.stderr
    assert "b_new.csv" in result.stdout and "接受 2  拒收 1" in result.stdout, result.stdout
    assert json.loads(run_cli(*RANKING, db=db).stdout)[0]["account_id"] == "C"


def test_the_watch_loop_outlives_a_file_that_fails_in_any_way(tmp_path):
    """`watch` itself (the site's watcher thread runs it too): a file whose import raises is reported
    and the files after it are still picked up."""
    import threading

    from govmedia.ingest import watch as watching

    db, crawl = _watched(tmp_path)
    (crawl / "a_deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (crawl / "b_broken.csv").write_bytes(b"%PDF-1.4\n")
    (crawl / "c_new.csv").write_text(NEW_POSTS, encoding="utf-8")
    picked = []
    watching.watch(Access(db).write, crawl, actor="测试", on_pick_up=picked.append, stop=threading.Event(),
                   interval=0.1, settle=0.2, once=True)
    by_name = {p.path.name: p for p in picked}
    assert set(by_name) == {"a_deep.json", "b_broken.csv", "c_new.csv"}
    assert by_name["a_deep.json"].error and by_name["b_broken.csv"].error
    assert by_name["c_new.csv"].error is None and by_name["c_new.csv"].summary.accepted == 2


def test_the_watch_loop_outlives_a_rescore_the_store_refuses(tmp_path):
    """After a pick-up the interface rescores; when that fails (the store stays busy) the watcher
    goes on to the next file, and the months stay marked stale."""
    import threading

    from govmedia.ingest import watch as watching
    from govmedia.store.access import StoreBusy

    db, crawl = _watched(tmp_path)
    (crawl / "a_new.csv").write_text(NEW_POSTS, encoding="utf-8")
    (crawl / "b_new.csv").write_text(NEW_POSTS.replace("c1,", "c7,").replace("c2,", "c8,"), encoding="utf-8")
    picked = []

    def rescore(pick):
        picked.append(pick)
        raise StoreBusy("数据库正忙，写入等待超时，本次操作未执行；请稍后再试")

    watching.watch(Access(db).write, crawl, actor="测试", on_pick_up=rescore, stop=threading.Event(),
                   interval=0.1, settle=0.2, once=True)
    assert [p.path.name for p in picked] == ["a_new.csv", "b_new.csv"]
    assert all(p.error is None and p.summary.accepted == 2 for p in picked)
