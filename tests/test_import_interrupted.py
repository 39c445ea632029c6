"""An upload's import must not wait on itself, and one that stops part way says what it kept.

Issue 25, faults 1 and 2: the job's progress was saved through a second write unit inside the
import's own, so an import that outlived the flush interval waited on itself until the lock
timeout (10 minutes, the whole site locked out), then said "本次操作未执行" although its first file
was committed, unaudited and unscored. Real processes hold the store where a busy store is the
point (tests/test_one_store.py's holder)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from govmedia.core.errors import UserError
from govmedia.store.access import Access, StoreBusy
from test_one_store import _holder
from test_web_api import basic
from test_web_jobs import finished
from util import cli
from web_fixtures import build_store

HEADER = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"


def _posts(n: int, month: str) -> str:
    """Account A's posts `a-<month>-<k>` in a month (k = 0..n-1)."""
    return HEADER + "".join(f"微博,A,a-{month}-{k},{month}-1{k % 9} 10:00,是,第{k}条,{k},1,1\n" for k in range(n))


def _folder(root: Path) -> Path:
    """Three files, each changing one month of account A."""
    folder = root / "crawl"
    folder.mkdir()
    for name, month in (("1-feb.csv", "2020-02"), ("2-mar.csv", "2020-03"), ("3-apr.csv", "2020-04")):
        (folder / name).write_text(_posts(3, month), encoding="utf-8")
    return folder


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"crawl/{file.name}")
    return buffer.getvalue()


def _count(db: Path, sql: str, *args):
    with Access(db).read() as con:
        return con.execute(sql, list(args)).fetchall()


def test_a_unit_opened_inside_its_own_threads_write_unit_fails_at_once(tmp_path):
    db = build_store(tmp_path)
    access = Access(db, wait=30)
    began = time.monotonic()
    with access.write(data=False):
        assert access.writing_here()
        with pytest.raises(RuntimeError):
            with access.write(data=False):
                pass
        with pytest.raises(RuntimeError):
            with access.read():
                pass
    assert time.monotonic() - began < 5  # not the 30 s bound
    assert not access.writing_here()
    with access.write(data=False):  # and the store is usable after
        pass


def test_an_upload_whose_progress_is_saved_inside_its_write_unit_finishes(client, monkeypatch):
    """Every progress call saves the row (flush interval 0): the save made inside the import's
    own write unit waited for it until the lock's bound; now it waits for the unit's end."""
    from govmedia.ingest import pipeline
    from govmedia.web import jobs

    monkeypatch.setattr(jobs, "FLUSH_SECONDS", 0.0)
    monkeypatch.setenv("GOVMEDIA_IMPORT_UNIT_SECONDS", "0")  # the importer: a unit per file, the row moves between them
    client.app.state.store.access.wait = 3.0  # the default 600 s bound, shortened: a self-wait fails fast
    saved = []
    real_save = jobs.JobRunner.save_progress

    def save(self, job):
        saved.append(dict(job.progress))
        real_save(self, job)

    monkeypatch.setattr(jobs.JobRunner, "save_progress", save)
    folder = _folder(client.app.state.store.path.parent)
    response = client.post("/api/v1/imports", headers=basic("editor1"),
                           files={"file": ("crawl.zip", _zip(folder), "application/zip")})
    assert response.status_code == 202, response.text
    job = finished(client, response.json()["job_id"], headers=basic("editor1"))
    assert job["state"] == "done", job
    assert job["result"]["accepted"] == 9
    assert job["progress"]["files_done"] == job["progress"]["files_total"] == 3
    # The row moved as the import went (between its units), not only at its start and end.
    assert {1, 2} <= {p["files_done"] for p in saved}


def test_an_import_stopped_by_a_busy_store_says_what_it_kept_audits_and_rescores_it(tmp_path, monkeypatch):
    """Library and command line: the first file is committed, then another process holds the store
    longer than the wait allows. The error says one file was written, the audit log records it
    and its month is rescored."""
    from govmedia.ingest import ImportInterrupted, import_path
    from govmedia.ingest import pipeline

    db = build_store(tmp_path)
    folder = _folder(tmp_path)
    monkeypatch.setattr(pipeline, "_UNIT_SECONDS", 0.0)  # a unit per file, so another process can come between
    holders = []

    def between(done, total, name):
        if done == 1 and not holders:  # the first file is committed: another process takes the store
            holders.append(_holder(db, "write", 4.0))

    access = Access(db, wait=0.5)
    with pytest.raises(ImportInterrupted) as caught:
        import_path(access.write, folder, files_progress=between, actor="测试")
    holders[0].wait(10)
    error = caught.value
    assert isinstance(error.cause, StoreBusy)
    text = str(error)
    assert "第 2 / 3 个文件 2-mar.csv" in text and "已处理 1 个文件，其中 1 个已写入数据库" in text and "接受 3 行" in text
    assert "其余 2 个文件未导入" in text and "未执行" not in text and str(tmp_path) not in text
    assert error.summary.months == ["2020-02"]
    assert _count(db, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-02-%'")[0][0] == 3
    assert _count(db, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-03-%'")[0][0] == 0
    # The store was still held when the import stopped: the audit entry waits for the next unit
    # (the interfaces write it with the rescore), and is written once.
    assert not error.audited
    assert _count(db, "SELECT count(*) FROM audit_log WHERE action = 'imports.path'")[0][0] == 0
    for _ in range(2):
        with Access(db).write(data=False) as con:
            error.record(con)
    audit = _count(db, "SELECT detail FROM audit_log WHERE action = 'imports.path'")
    assert len(audit) == 1 and '"interrupted"' in audit[0][0] and "1-feb.csv" in audit[0][0]

    # The command line: the same stop, said in one line, and its committed month rescored once
    # the other process lets go.
    db2 = build_store(tmp_path / "cli")
    folder2 = _folder(tmp_path / "cli")
    holders.clear()
    real_groups = pipeline._import_groups

    def holding(*args, files_progress=None, **kwargs):
        def between(done, total, name):
            files_progress(done, total, name)
            if done == 1 and not holders:
                holders.append(_holder(db2, "write", 3.0))
        return real_groups(*args, files_progress=between, **kwargs)

    monkeypatch.setattr(pipeline, "_import_groups", holding)
    monkeypatch.setenv("GOVMEDIA_LOCK_WAIT", "0.3")
    result = cli("import", str(folder2), db=db2)
    holders[0].wait(10)
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]  # after the lines saying it waits
    assert "导入中断" in line and "1 个已写入数据库" in line and "2020-02" in line
    # Still held when it tried to rescore and audit: it says so, with the command that rescores.
    assert "分数未能更新" in line and "govmedia score --from 2020-02 --to 2020-02" in line
    assert "未能记入操作日志" in line
    monkeypatch.setenv("GOVMEDIA_LOCK_WAIT", "30")
    monkeypatch.setattr(pipeline, "_import_groups", real_groups)
    result = cli("import", str(folder2), db=db2)  # again, the store free: the rest imports
    assert result.exit_code == 0, result.stderr
    assert _count(db2, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-0%'")[0][0] == 9


def test_an_upload_stopped_part_way_fails_with_what_it_committed(client):
    """The site: the second file's rejects file cannot be written (a folder of that name sits in
    the zip), after its rows were committed. The job fails saying what it kept, lists the
    committed files in its result, audits the import and rescores their months."""
    store = client.app.state.store
    db = store.path
    folder = _folder(db.parent)
    with (folder / "2-mar.csv").open("a", encoding="utf-8") as f:
        f.write("微博,A,a-bad,不是时间,是,坏时间,1,1,1\n")  # one rejected row: a rejects file to write
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"crawl/{file.name}")
        archive.writestr("crawl/2-mar.csv.rejects.csv/", "")  # a folder where the rejects file goes
    response = client.post("/api/v1/imports", headers=basic("editor1"),
                           files={"file": ("crawl.zip", buffer.getvalue(), "application/zip")})
    job = finished(client, response.json()["job_id"], headers=basic("editor1"))
    assert job["state"] == "failed", job
    error = job["error"]
    assert "导入中断：第 2 / 3 个文件 crawl/2-mar.csv 的内容已写入数据库，保存其拒收行文件时读写文件出错" in error, error
    assert "已处理 2 个文件，其中 2 个已写入数据库（接受 6 行）；其余 1 个文件未导入" in error
    assert "未执行" not in error and "unpacked" not in error and "uploads" not in error
    assert "2020-02 至 2020-03 的分数已重新计算" in error and "未能记入" not in error
    result = job["result"]
    assert [f["path"].split("/")[-1] for f in result["files"]] == ["1-feb.csv", "2-mar.csv"]
    assert result["accepted"] == 6
    assert [(r["from"], r["to"]) for r in result["rescored"]] == [("2020-02", "2020-03")]
    assert _count(db, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-0%'")[0][0] == 6
    assert _count(db, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-04-%'")[0][0] == 0
    audit = _count(db, "SELECT detail FROM audit_log WHERE action = 'imports.upload'")
    assert len(audit) == 1 and '"interrupted"' in audit[0][0] and "2-mar.csv" in audit[0][0]
    fresh = _count(db, "SELECT count(*) FROM monthly_scores WHERE account_id = 'A' AND month = '2020-03' AND "
                       "computed_at >= (SELECT max(imported_at) FROM import_batches)")
    assert fresh[0][0] == 1  # March's score was computed after its new posts were stored
    page = client.get(f"/jobs/{job['job_id']}", headers=basic("editor1"))
    assert "中断前已处理的文件" in page.text and "1-feb.csv" in page.text and "导入中断" in page.text
    # Again with ?wait=true: the two files are stored as they are, so nothing is committed before
    # the same fault, which is then the answer, in Chinese and without the server's folders.
    waited = client.post("/api/v1/imports?wait=true", headers=basic("editor1"),
                         files={"file": ("crawl.zip", buffer.getvalue(), "application/zip")})
    detail = waited.json()["detail"]
    assert waited.status_code == 500 and "读写文件出错" in detail and "/" not in detail, detail
    assert _count(db, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-04-%'")[0][0] == 0


def test_the_importer_process_serves_the_next_uploads_and_is_started_afresh_when_killed(client):
    """The upload's importer is kept between uploads (its start costs seconds) and a killed one
    fails only its own job: the next upload starts a new one."""
    import os
    import signal

    runner = client.app.state.jobs
    folder = _folder(client.app.state.store.path.parent)

    def upload(name: str, text: str) -> dict:
        response = client.post("/api/v1/imports", headers=basic("editor1"),
                               files={"file": (name, text.encode(), "text/csv")})
        return finished(client, response.json()["job_id"], headers=basic("editor1"))

    assert upload("a.csv", (folder / "1-feb.csv").read_text())["state"] == "done"
    first = runner.importer._child.pid
    assert upload("b.csv", (folder / "2-mar.csv").read_text())["state"] == "done"
    assert runner.importer._child.pid == first  # the same process
    os.kill(first, signal.SIGKILL)
    killed = upload("c.csv", (folder / "3-apr.csv").read_text())
    if killed["state"] == "failed":  # the job met the dead process: said in Chinese, and the next one works
        assert "内部错误" in killed["error"]
        assert upload("c.csv", (folder / "3-apr.csv").read_text())["state"] == "done"
    assert runner.importer._child.pid != first
    assert _count(client.app.state.store.path, "SELECT count(*) FROM posts WHERE post_id LIKE 'a-2020-04-%'")[0][0] == 3
