"""Jobs: an upload's import, a rescore and a check run in the background with progress and a result
page that survives a reload; failures are one line in Chinese; a restart marks unfinished jobs
interrupted; `?wait=true` keeps the synchronous answer; nothing big lands in the session cookie."""

from __future__ import annotations

import io
import re
import time
import zipfile

from fastapi.testclient import TestClient

from govmedia.store.jobs import create_job, start_job
from govmedia.web import create_app

from test_web_api import basic, sign_in
from util import dump
from web_fixtures import POSTS

HEADER = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
NEW_A = HEADER + "微博,A,a3,2020-03-09 10:00,是,新内容,1,2,3\n微博,A,a4,不是时间,是,坏时间,1,1,1\n"
UNREGISTERED = HEADER + "微博,NOPE,x1,2020-03-08 10:00,是,未登记账号,1,1,1\n微博,NOPE,x2,2020-03-09 10:00,是,未登记,1,1,1\n"


def crawler_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("crawl/new_a.csv", NEW_A)
        archive.writestr("crawl/old_posts.csv", POSTS)  # what the store already holds: unchanged
        archive.writestr("crawl/more/unregistered.csv", UNREGISTERED)
    return buffer.getvalue()


def query(client, sql: str):
    with client.app.state.store.read() as con:
        return con.execute(sql).fetchall()


def stored(client) -> dict:
    """Every table but the jobs' own."""
    with client.app.state.store.read() as con:
        return {table: rows for table, rows in dump(con).items() if table != "jobs"}


def finished(client, job_id: int, **kwargs) -> dict:
    for _ in range(400):
        job = client.get(f"/api/v1/jobs/{job_id}", **kwargs).json()
        if job["state"] in ("done", "failed", "interrupted"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_zip_upload_runs_as_a_job_with_progress_and_a_result_page(client):
    token = sign_in(client, "editor1")
    response = client.post("/data/import", data={"csrf_token": token, "format": "auto", "account": ""},
                           files={"file": ("crawl.zip", crawler_zip(), "application/zip")}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    job_id = int(re.fullmatch(r"/jobs/(\d+)", location).group(1))
    job = finished(client, job_id)
    assert job["state"] == "done", job
    assert job["kind"] == "import" and job["who"] == "editor1" and job["error"] is None
    assert job["params"]["file"] == "crawl.zip"
    assert job["progress"]["files_done"] == job["progress"]["files_total"] == 3
    assert job["started_at"] and job["finished_at"] and job["created_at"] <= job["started_at"] <= job["finished_at"]
    result = job["result"]
    files = {f["path"].split("/")[-1]: f for f in result["files"]}
    assert set(files) == {"new_a.csv", "old_posts.csv", "unregistered.csv"}
    assert (files["new_a.csv"]["accepted"], files["new_a.csv"]["rejected"]) == (1, 1)
    assert (files["old_posts.csv"]["accepted"], files["old_posts.csv"]["unchanged"]) == (0, 7)
    assert (files["unregistered.csv"]["accepted"], files["unregistered.csv"]["rejected"]) == (0, 2)
    assert files["new_a.csv"]["reasons"][0]["line"] == 3
    assert "不在账号名录中" in files["unregistered.csv"]["reasons"][0]["reason"]
    assert (result["accepted"], result["rejected"], result["unchanged"]) == (1, 3, 7)
    # The rejects file behind the link.
    rejects = client.get(files["unregistered.csv"]["rejects_url"])
    assert rejects.status_code == 200 and "不在账号名录中" in rejects.text
    # The store has the row.
    assert query(client, "SELECT count(*) FROM posts WHERE post_id = 'a3'")[0][0] == 1

    # The job page, as after a reload: read from the store.
    page = client.get(location)
    assert page.status_code == 200 and "已完成" in page.text
    table = page.text[page.text.index('id="import-files"'):]
    for name in ("new_a.csv", "old_posts.csv", "more/unregistered.csv", "不在账号名录中", "下载拒收行"):
        assert name in table, name
    assert 'data-progress-url' in page.text
    # The data page lists the job with its link; nothing of the report sits in the session cookie.
    data = client.get("/data").text
    assert f'href="/jobs/{job_id}"' in data and "上传导入" in data and "crawl.zip" in data
    cookie = client.cookies.get("govmedia_session")
    assert len(cookie) < 1500 and "new_a" not in cookie


def test_a_corrupt_zip_fails_in_words_and_changes_nothing(client):
    before = stored(client)
    response = client.post("/api/v1/imports", headers=basic("editor1"),
                           files={"file": ("broken.zip", b"PK\x03\x04 not really a zip", "application/zip")})
    assert response.status_code == 202, response.text
    assert response.json()["state"] in ("queued", "running")
    job = finished(client, response.json()["job_id"], headers=basic("editor1"))
    assert job["state"] == "failed" and job["result"] is None
    error = job["error"]
    assert "\n" not in error and re.search(r"[\u4e00-\u9fff]", error) and "broken.zip" in error
    assert stored(client) == before
    page = client.get(f"/jobs/{job['job_id']}", headers=basic("editor1"))
    assert "失败" in page.text and "不是有效的 zip 文件" in page.text
    # Synchronously, the same error is the answer (400), as before jobs.
    waited = client.post("/api/v1/imports?wait=true", headers=basic("editor1"),
                         files={"file": ("broken.zip", b"garbage", "application/zip")})
    assert waited.status_code == 400 and "不是有效的 zip 文件" in waited.json()["detail"]


def test_wait_true_keeps_the_synchronous_answers(client):
    response = client.post("/api/v1/imports?wait=true", headers=basic("editor1"),
                           files={"file": ("a.csv", NEW_A.encode(), "text/csv")})
    assert response.status_code == 200
    report = response.json()
    assert {"upload_id", "accepted", "rejected", "unchanged", "files"} <= set(report)
    assert (report["accepted"], report["rejected"]) == (1, 1) and report["files"][0]["reasons"][0]["line"] == 3
    rescored = client.post("/api/v1/scores?wait=true", headers=basic("editor1"), json={"from": "2020-02", "to": "2020-03"})
    assert rescored.status_code == 200 and rescored.json()["months"] == ["2020-02", "2020-03"]
    checked = client.post("/api/v1/checks", params={"at": "2020-04-01", "wait": "true", "confirm": "true"}, headers=basic("editor1"))
    assert checked.status_code == 200 and checked.json()["check_at"] == "2020-04-01"
    assert checked.json()["inspected"] == 4
    # Without wait: 202 and a job to follow; the list shows every job, newest first.
    started = client.post("/api/v1/scores", headers=basic("editor1"), json={"from": "2020-02", "to": "2020-02"})
    assert started.status_code == 202 and started.headers["location"] == f"/api/v1/jobs/{started.json()['job_id']}"
    assert finished(client, started.json()["job_id"], headers=basic("editor1"))["result"]["rows"] > 0
    listed = client.get("/api/v1/jobs", headers=basic("editor1")).json()
    assert [j["kind"] for j in listed] == ["score", "check", "score", "import"]
    assert all(j["state"] == "done" for j in listed)
    # A bad period is refused before a job is made; jobs are for editors only.
    assert client.post("/api/v1/scores", headers=basic("editor1"), json={"from": "2020-05", "to": "2020-02"}).status_code == 400
    assert len(client.get("/api/v1/jobs", headers=basic("editor1")).json()) == 4
    assert client.get("/api/v1/jobs", headers=basic("viewer1")).status_code == 403
    assert client.get("/api/v1/jobs/1").status_code == 401
    assert client.get("/api/v1/jobs/999", headers=basic("editor1")).status_code == 404


def test_rescore_from_the_page_leads_to_its_job_page(client):
    token = sign_in(client, "editor1")
    response = client.post("/data/score", data={"csrf_token": token, "from": "2020-02", "to": "2020-03"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert finished(client, job_id)["state"] == "done"
    page = client.get(response.headers["location"]).text
    assert "已重新计算 2020-02 至 2020-03：2 个月" in page
    progress = client.get(f"/jobs/{job_id}/progress").json()
    assert progress["finished"] and progress["state"] == "done"
    bad = client.post("/data/score", data={"csrf_token": token, "from": "2020-05", "to": "2020-02"})
    assert "未计算" in bad.text


def test_a_running_job_disables_its_button(client):
    token = sign_in(client, "editor1")
    assert "已有导入任务在进行" not in client.get("/data").text
    with client.app.state.store.write(data=False) as con:
        job_id = create_job(con, "import", "editor1", {"file": "big.zip"})
        start_job(con, job_id)
    page = client.get("/data").text
    button = re.search(r'<button type="submit" data-busy="正在上传…"[^>]*>', page).group(0)
    assert "disabled" in button and "已有导入任务在进行" in page
    score_button = re.search(r'<button type="submit" data-busy="正在提交…"[^>]*>', page).group(0)
    assert "disabled" not in score_button
    assert "进行中" in client.get(f"/jobs/{job_id}").text
    assert token


def test_jobs_left_running_are_interrupted_after_a_restart(db):
    import socket
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    app = create_app(db, secret="test-secret")
    try:
        with TestClient(app):
            with app.state.store.write(data=False) as con:
                running = create_job(con, "import", "editor1", {"file": "crawl.zip", "upload_id": "2" * 20})
                start_job(con, running)
                queued = create_job(con, "score", "editor1", {"from": "2020-02", "to": "2020-03"})
                elsewhere = create_job(con, "import", "监视目录", {"file": "a.csv", "upload_id": "3" * 20})  # another site process's
                start_job(con, elsewhere)
                host = socket.gethostname()
                con.execute("UPDATE jobs SET runner = ? WHERE job_id IN (?, ?)", [f"{host}:{ended.stdout.strip()}", running, queued])
                con.execute("UPDATE jobs SET runner = ? WHERE job_id = ?", [f"{host}:{living.pid}", elsewhere])
        app.state.store.close()  # the process stops with the jobs unfinished
        for upload_id, name in (("2" * 20, "crawl.zip"), ("3" * 20, "a.csv")):
            (db.parent / "uploads" / upload_id).mkdir(parents=True)
            (db.parent / "uploads" / upload_id / name).write_bytes(b"saved, never imported")

        again = create_app(db, secret="test-secret")
        with TestClient(again) as client:
            for job_id in (running, queued):
                job = client.get(f"/api/v1/jobs/{job_id}", headers=basic("editor1")).json()
                assert job["state"] == "interrupted" and job["finished_at"] is not None
                assert re.search(r"[\u4e00-\u9fff]", job["error"]) and "\n" not in job["error"]
            # A job of a process still running (another worker, a watcher) is left alone.
            assert client.get(f"/api/v1/jobs/{elsewhere}", headers=basic("editor1")).json()["state"] == "running"
            # The interrupted import's saved file is removed (it will never be imported), not the other's.
            assert not (db.parent / "uploads" / ("2" * 20)).exists()
            assert (db.parent / "uploads" / ("3" * 20) / "a.csv").exists()
            assert "已中断" in client.get(f"/jobs/{running}", headers=basic("editor1")).text
            # The runner still works after the restart.
            response = client.post("/api/v1/scores?wait=true", headers=basic("editor1"),
                                   json={"from": "2020-02", "to": "2020-02"})
            assert response.status_code == 200
        again.state.store.close()
    finally:
        living.kill()


def test_a_report_is_built_as_a_job_any_signed_in_user_may_start(client):
    token = sign_in(client, "viewer1")
    refused = client.post("/reports/build", data={"from": "2020-02", "to": "2020-03", "format": "pdf"},
                          follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03").text
    assert 'action="/reports/build"' in page
    started = client.post("/reports/build", data={"from": "2020-02", "to": "2020-03", "format": "pdf",
                                                  "csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    for _ in range(600):
        state = client.get(f"/jobs/{job_id}/progress").json()
        if state["finished"]:
            break
        assert state["text"]
        time.sleep(0.1)
    assert state["state"] == "done", state
    job_page = client.get(f"/jobs/{job_id}").text  # survives a reload: read from the job's row
    assert "已生成" in job_page and f"/reports/jobs/{job_id}/pdf" in job_page and "数据管理" not in job_page
    pdf = client.get(f"/reports/jobs/{job_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "report-2020-02-2020-03.pdf" in pdf.headers["content-disposition"]
    assert client.get(f"/reports/jobs/{job_id}/docx").status_code == 404  # not asked for
    # A viewer sees their own report jobs, not the editors' other work.
    with client.app.state.store.write(data=False) as con:
        other = create_job(con, "score", "editor1", {"from": "2020-02", "to": "2020-03"})
    assert client.get(f"/jobs/{other}").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    assert client.get(f"/reports/jobs/{job_id}/pdf", follow_redirects=False).status_code in (303, 401)
