"""Jobs: long work started from the site (an upload's import, a rescore, a check, a report) runs in
the background, one job at a time in the order submitted, on one worker thread of the web process.

A route parses its input, keeps what must outlive the request (an upload's bytes are saved to disk
first) and submits the work with `submit`; the browser goes to the job page `/jobs/{id}`, the API
answers 202 with the job's id (or, with `?wait=true`, waits for the result). The work itself calls
the same library doors as before, through the `Writes` the route's role guard handed out.

The job's row (`store/jobs.py`) records its state, progress (written at most every 2 s, as
bookkeeping: `write(data=False)`) and always its result or error. Progress is also kept in memory
for the page to poll. Jobs a stopped server left queued or running are marked `interrupted` when
the runner starts.
"""

from __future__ import annotations

import logging
import queue
import re
import shutil
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
from fastapi import UploadFile

from govmedia.core.errors import UserError, store_write_failed, write_failed
from govmedia.core.time import local_text
from govmedia.store.freshness import stale_months
from govmedia.ingest.upload import discard, receive_upload, unpack_upload
from govmedia.oversight import run_check
from govmedia.scoring import rescore_months, score
from govmedia.store.jobs import (
    FINISHED, create_job, fail_job, finish_job, get_job, mark_interrupted, recent_jobs, start_job, update_progress,
)
from govmedia.web.deps import Reads, Writes, message

log = logging.getLogger(__name__)

KIND_NAMES = {"import": "上传导入", "score": "重新计算分数", "check": "合规检查", "report": "生成报告"}
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "html": "HTML", "xlsx": "Excel"}
# The import formats as the upload form offers them.
IMPORT_FORMAT_LABELS = {"auto": "自动识别", "generic": "通用表格", "weibo-crawler": "weibo-crawler",
                        "mediacrawler": "MediaCrawler", "wechat-exporter": "wechat-article-exporter"}
REPORTS_KEPT = 20  # the files of the most recent report jobs are kept on disk
STATE_NAMES = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败", "interrupted": "已中断"}
ACTIVE = ("queued", "running")
FLUSH_SECONDS = 2.0  # the row's progress is written at most this often
REASONS_PER_FILE = 5
KEEP_IN_MEMORY = 200  # finished jobs whose live record (for `wait`) is kept


@dataclass
class Job:
    """A job as the runner holds it in memory while it is queued, runs and a little after."""
    job_id: int
    kind: str
    work: Callable[["Progress"], dict]
    state: str = "queued"
    progress: dict = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None
    exception: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class Progress:
    """What the work reports as it goes: files done of total, rows of the current file, rows in all.
    Kept in memory at once; written to the job's row at most every `FLUSH_SECONDS`."""

    def __init__(self, runner: "JobRunner", job: Job):
        self._runner = runner
        self._job = job
        self.job_id = job.job_id  # e.g. where a report job keeps its files
        self.importer = runner.importer  # an upload's importer process
        self._last_flush = time.monotonic()
        self._rows_before = 0  # rows of the files already done
        self._current = (None, 0)  # (file, rows done in it)
        job.progress = {"files_done": 0, "files_total": None, "file": None, "rows_done": 0, "rows_total": None,
                        "rows": 0}

    def files(self, done: int, total: int, name: str) -> None:
        """Before each file (`done` of `total` finished) and once at the end (`done == total`)."""
        self._rows_before += self._current[1]
        self._current = (None, 0)
        self._job.progress = dict(self._job.progress, files_done=done, files_total=total,
                                  file=_short(name) if name else None, rows_done=0, rows_total=None,
                                  rows=self._rows_before)
        self._flush()

    def rows(self, name: str, done: int, total: int) -> None:
        """`govmedia.ingest` progress: `done` of `total` rows of the file `name` checked."""
        self._current = (name, done)
        self._job.progress = dict(self._job.progress, file=_short(name), rows_done=done, rows_total=total,
                                  rows=self._rows_before + done)
        self._flush()

    def _flush(self) -> None:
        now = time.monotonic()
        # Inside the work's own write unit (an import's run of files) the row waits for the run's
        # end: a unit of its own would wait for the one this thread holds.
        if now - self._last_flush >= FLUSH_SECONDS and not self._runner.writing_here():
            self._last_flush = now
            self._runner.save_progress(self._job)


def _short(name: str) -> str:
    """A file's name below the upload's folder (uploads/<id>/unpacked/a/b.csv -> a/b.csv)."""
    parts = name.replace("\\", "/").split("/")
    if "unpacked" in parts:
        parts = parts[len(parts) - parts[::-1].index("unpacked"):]
    else:
        parts = parts[-1:]
    return "/".join(parts)


class JobRunner:
    """One worker thread running submitted jobs one at a time, first in, first out."""

    def __init__(self, store):
        self._store = store  # written only for bookkeeping (data=False): the jobs' rows
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._recovered = False
        self.importer = Importer()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Mark what a previous process left unfinished as interrupted (once), start the worker."""
        with self._lock:
            if not self._recovered:
                with self._store.write(data=False) as con:
                    count, uploads = mark_interrupted(con)
                if count:
                    log.warning("%d job(s) left by a previous server marked interrupted", count)
                for upload_id in uploads:  # an interrupted import records no rejects: nothing to keep
                    if re.fullmatch(r"\d{20}", upload_id):
                        shutil.rmtree(self._store.upload_dir / upload_id, ignore_errors=True)
                self._recovered = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="govmedia-jobs", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the running job finish (up to `timeout` seconds) and stop; queued jobs stay queued
        in the store and are marked interrupted at the next start."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)
        self.importer.close()

    # ---------------------------------------------------------------- submitting and looking

    def submit(self, kind: str, who: str | None, params: dict, work: Callable[[Progress], dict]) -> Job:
        """Record the job and queue it."""
        self.start()
        with self._store.write(data=False) as con:
            job_id = create_job(con, kind, who, params)
        job = Job(job_id, kind, work)
        with self._lock:
            self._jobs[job_id] = job
            finished = [j for j in self._jobs.values() if j.finished.is_set()]
            for old in finished[:max(0, len(finished) - KEEP_IN_MEMORY)]:
                del self._jobs[old.job_id]
        self._queue.put(job)
        return job

    def live(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, job: Job, timeout: float | None = None) -> Job:
        job.finished.wait(timeout)
        return job

    def writing_here(self) -> bool:
        """Whether this thread holds the store's write unit (`Access.writing_here`)."""
        return self._store.access.writing_here()

    def save_progress(self, job: Job) -> None:
        with self._store.write(data=False) as con:
            update_progress(con, job.job_id, job.progress)

    # ---------------------------------------------------------------- the worker

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:  # noqa: BLE001 - the worker must outlive a broken job
                log.exception("job %s: could not record its end", job.job_id)
                job.finished.set()

    def _without_paths(self, text: str) -> str:
        """A message as a user reads it: a file under the uploads folder by its name in the upload."""
        folder = str(self._store.upload_dir)
        return re.sub(re.escape(folder) + r"[/\\][^/\\\s]+[/\\](?:unpacked[/\\])?", "", text)

    def _run(self, job: Job) -> None:
        with self._store.write(data=False) as con:
            start_job(con, job.job_id)
        job.state = "running"
        progress = Progress(self, job)
        try:
            result = job.work(progress)
        except Exception as exc:  # noqa: BLE001 - reported on the job page, logged in full
            if not isinstance(exc, UserError):
                log.exception("job %s (%s) failed", job.job_id, job.kind)
            job.exception, text = failure(exc)
            job.error = self._without_paths(text)
            job.result = getattr(exc, "partial", None)  # what a failed job did commit
        else:
            job.result = result
        try:
            with self._store.write(data=False) as con:
                if job.error is None:
                    finish_job(con, job.job_id, job.result, job.progress)
                else:
                    fail_job(con, job.job_id, job.error, job.progress, job.result)
        finally:
            job.state = "done" if job.error is None else "failed"
            job.finished.set()


def failure(exc: Exception) -> tuple[Exception, str]:
    """A failed job's exception (raised again by `?wait=true`) and the one line its page shows."""
    if isinstance(exc, UserError):
        return exc, _one_line(message(exc))
    if isinstance(exc, OSError):  # a full disk while unpacking, writing a rejects file or a report
        failed = write_failed(exc, "任务未完成")
    elif isinstance(exc, duckdb.Error):  # the unit rolled back; the next one opens the store afresh
        failed = store_write_failed(exc)
    else:
        return exc, "内部错误，任务未完成；请稍后重试，如果一再出现请联系管理员（详情已记录在服务器日志中）"
    return failed, _one_line(str(failed))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


# --------------------------------------------------------------------------- reading jobs


def job_view(store: Reads, runner: JobRunner, job_id: int) -> dict | None:
    """The job's row, with the live progress of a job still running in this process."""
    job = store.get(None, get_job, job_id)
    if job is None:
        return None
    live = runner.live(job_id)
    if live is not None and job["state"] not in FINISHED and live.progress:
        job["progress"] = dict(live.progress)
    if live is not None and live.state == "running" and job["state"] == "queued":
        job["state"] = "running"
    return job


def job_list(store: Reads, limit: int = 20) -> list[dict]:
    return store.get(None, recent_jobs, limit)


def busy_kinds(jobs: list[dict]) -> set[str]:
    """The kinds of work queued or running (their buttons are disabled)."""
    return {j["kind"] for j in jobs if j["state"] in ACTIVE}


# --------------------------------------------------------------------------- the three kinds of work


def start_import(runner: JobRunner, store: Writes, file: UploadFile, format: str, account: str | None) -> Job:
    """Save the upload now (the file object closes with the request); unpack, import and rescore it
    in a job, in a process of its own (`web/importer.py`): on a thread of the site's process the
    import competed with the pages for the interpreter."""
    received = receive_upload(store.uploads, file.filename, file.file)
    request = {"db": str(store.path), "upload_id": received.upload_id, "folder": str(received.folder),
               "file_name": received.file_name, "format": format, "account": account, "actor": store.user,
               "methodology": store.methodology}

    def work(progress: Progress) -> dict:
        try:
            # Unpacked here, checked against the zip limits (the interpreter is free while zlib inflates).
            end = progress.importer.run(dict(request, unpacked=str(unpack_upload(received))), progress)
        except BaseException:
            discard(received)  # the importer did not run to its end: nothing of the upload is kept
            raise
        if "result" in end:
            return end["result"]
        if not end.get("partial"):
            discard(received)
        failed = UserError(end["error"])
        failed.http_status = end.get("status") or 400
        failed.retry_after = end.get("retry_after")
        failed.partial = end.get("partial")
        raise failed

    params = {"file": received.file_name, "upload_id": received.upload_id, "format": format, "account": account}
    return runner.submit("import", store.user, params, work)


class Importer:
    """The runner's importer process (`python -m govmedia.web.importer`): started at the first
    upload and kept for the next ones (starting Python with the libraries takes 1–2 s, more than
    a small upload's import), started afresh when it ended. Jobs run one at a time, so one
    request is in it at a time."""

    def __init__(self):
        self._child = None

    def run(self, request: dict, progress: "Progress") -> dict:
        """Send `request`, relay its progress; its last event."""
        import json

        child = self._started()
        try:
            child.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
            child.stdin.flush()
            for line in child.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # not ours (a library printing to stdout)
                if "files" in event:
                    progress.files(*event["files"])
                elif "rows" in event:
                    progress.rows(*event["rows"])
                else:
                    return event
        except OSError:
            pass  # it ended while being asked: said below
        self.close()
        log.error("the importer ended during upload %s", request["upload_id"])
        raise RuntimeError("the importer ended without an answer")

    def _started(self):
        import subprocess
        import sys

        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen([sys.executable, "-m", "govmedia.web.importer"], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True, encoding="utf-8",
                                           preexec_fn=_die_with_parent)
        return self._child

    def close(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.stdin.close()  # it ends at the end of its input
            try:
                child.wait(5)
            except Exception:  # noqa: BLE001
                child.kill()
                child.wait()


def _die_with_parent() -> None:
    """In the importer, before it runs: end with the site's process (Linux), as a thread would."""
    import ctypes
    import signal

    with suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def interrupted_words(exc, record_and_rescore: Callable[[], list]) -> tuple[str, list]:
    """An interrupted import's message once `record_and_rescore()` recorded its audit entry and
    rescored the months of its committed files (or the store refused: the months stay stale);
    the rescores."""
    try:
        rescored = record_and_rescore()
    except Exception:  # noqa: BLE001 - the months stay marked stale; the sentence says what to do
        log.exception("rescoring the months of an interrupted import")
        return exc.told(False, "在「数据管理」中重新计算这些月份"), []
    return exc.told(True, ""), rescored


def start_score(runner: JobRunner, store: Writes, start: str, end: str) -> Job:
    def work(progress: Progress) -> dict:
        with store.write(declared=True) as con:  # the scorer says which months it changed
            result = score(con, start, end, methodology=store.methodology, actor=store.user)
        return {"months": list(result.months), "rows": result.rows, "methodology": result.methodology.name,
                "methodology_sha256": result.methodology.sha256}

    return runner.submit("score", store.user, {"from": start, "to": end}, work)


def start_check(runner: JobRunner, store: Writes, point, rules) -> Job:
    def work(progress: Progress) -> dict:
        with store.write() as con:
            result = run_check(con, point, rules, actor=store.user)
        return {"check_at": point.isoformat(), "inspected": result.inspected, "passed": result.passed,
                "pass_rate": result.pass_rate, "alerts": len(result.alerts)}

    return runner.submit("check", store.user, {"at": point.isoformat()}, work)


def report_folder(store: Reads, job_id: int) -> Path:
    """Where a report job writes its files: `reports/<job id>/` beside the store."""
    return store.uploads.parent / "reports" / str(int(job_id))


def start_report(runner: JobRunner, store: Reads, period, formats: list[str]) -> Job:
    """Build a report (one month: the bulletin; longer: the annual report) in the formats asked for.
    Only reads the store; any signed-in user may ask. The files stay on disk for the job page."""
    from govmedia.reports import build_for_period, write_report

    start, end = period.first, period.last

    def work(progress: Progress) -> dict:
        total = len(formats) + 1
        progress.files(0, total, "收集数据与图表")
        # shared with the download route
        content = store.get(("report-model", start, end), build_for_period, start, end, methodology=store.methodology)
        folder = report_folder(store, progress.job_id)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for done, fmt in enumerate(formats, start=1):
            progress.files(done, total, f"写出 {FORMAT_NAMES[fmt]}")
            files[fmt] = write_report(content, folder, [fmt])[fmt].name
        progress.files(total, total, "")
        _forget_old_reports(folder.parent)
        stem = "bulletin" if start == end else "report"
        stale = store.get(None, stale_months, period.months)  # said on the job page: scores older than data
        return {"from": start, "to": end, "title": content.title, "files": files,
                "stale": {month: local_text(since, seconds=False) for month, since in stale.items()},
                "names": {fmt: f"{stem}-{start}-{end}.{fmt}" if fmt != "xlsx" else f"rankings-{start}-{end}.xlsx"
                          for fmt in files}}

    return runner.submit("report", store.viewer[0] if store.viewer else None,
                         {"from": start, "to": end, "formats": formats}, work)


def _forget_old_reports(folder: Path) -> None:
    import shutil

    jobs = sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    for old in jobs[:-REPORTS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)


def progress_text(job: dict) -> str:
    """The job's progress in one line, for the page and for its polling script."""
    p = job.get("progress") or {}
    if job["state"] == "queued":
        return "等待前面的任务完成…"
    if job["kind"] == "report" and p.get("files_total"):
        step = p.get("file") or ""
        return f"第 {min(p['files_done'] + 1, p['files_total'])} / {p['files_total']} 步" + (f" · {step}…" if step else "")
    if job["kind"] == "import" and p.get("files_total"):
        line = f"已完成 {p['files_done']} / {p['files_total']} 个文件"
        if p.get("file"):
            line += f" · 正在处理 {p['file']}"
            if p.get("rows_total"):
                line += f"（{p['rows_done']:,} / {p['rows_total']:,} 行）"
        return line + f" · 已检查 {p.get('rows', 0):,} 行"
    return "正在进行，请稍候…"


def outcome(runner: JobRunner, job: Job) -> dict:
    """`?wait=true`: wait for the job and answer as the synchronous route did; its error is raised."""
    runner.wait(job)
    if job.exception is not None:
        raise job.exception
    return job.result


# --------------------------------------------------------------------------- the watch folder


class WatchThread:
    """`govmedia serve --watch DIR`: the watcher in the site's process, rescoring what it imports."""

    ACTOR = "监视目录"

    def __init__(self, store, folder: Path, methodology):
        import fcntl
        import os

        from govmedia.ingest.watch import watch

        self._stop = threading.Event()
        self._thread = None
        # One watcher among the site's worker processes: the one that holds `<db>.watch`.
        self._lock = os.open(f"{store.path}.watch", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            self._lock = None
            log.info("another process of the site watches %s", folder)
            return

        def rescore(picked) -> None:
            if picked.summary is not None and picked.summary.months:
                try:
                    with store.write(declared=True) as con:
                        rescore_months(con, picked.summary.months, methodology=methodology, actor=self.ACTOR)
                except Exception:  # noqa: BLE001 - the watcher goes on; the months show as stale
                    log.exception("watch: rescoring %s failed", ", ".join(picked.summary.months))

        self._thread = threading.Thread(
            target=watch, args=(store.write, folder), name="govmedia-watch", daemon=True,
            kwargs={"actor": self.ACTOR, "on_pick_up": rescore, "stop": self._stop})
        self._thread.start()

    def stop(self) -> None:
        import os

        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if self._lock is not None:
            os.close(self._lock)  # and with it the lock
            self._lock = None


def start_watch(store, folder: Path, methodology) -> WatchThread:
    return WatchThread(store, folder, methodology)
