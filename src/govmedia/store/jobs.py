"""Jobs: long work started from the site (an import, a rescore, a check), its state, progress and result.

States: `queued` → `running` → `done` | `failed`; a job whose process stopped while it was `queued`
or `running` becomes `interrupted` when a site process starts (`mark_interrupted`). Each job records
the process that runs it (`runner`, host:pid), so that with several site processes, or a watcher
beside the site, a starting process leaves the jobs of the living ones alone. `params`, `progress` and
`result` are kept as JSON text and handed back as dicts. Times are naive UTC, as everywhere in the store.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import duckdb

from govmedia.core.time import utcnow
from govmedia.store import next_id

KINDS = ("import", "score", "check", "report")
STATES = ("queued", "running", "done", "failed", "interrupted")
FINISHED = ("done", "failed", "interrupted")
COLUMNS = ("job_id", "kind", "state", "who", "created_at", "started_at", "finished_at", "params", "progress", "result",
           "error")
_JSON = ("params", "progress", "result")


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def create_job(con: duckdb.DuckDBPyConnection, kind: str, who: str | None, params: dict) -> int:
    """A new `queued` job; its id."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job_id = next_id(con, "jobs", "job_id")
    con.execute("INSERT INTO jobs (job_id, kind, state, who, created_at, params, runner) "
                "VALUES (?, ?, 'queued', ?, ?, ?, ?)", [job_id, kind, who, utcnow(), _text(params), this_process()])
    return job_id


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(runner: str | None) -> bool:
    """Whether the process that ran a job has ended (a job of another host: unknown, so not)."""
    if not runner:
        return True  # recorded before runners were
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def start_job(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    con.execute("UPDATE jobs SET state = 'running', started_at = ? WHERE job_id = ?", [utcnow(), job_id])


def update_progress(con: duckdb.DuckDBPyConnection, job_id: int, progress: dict) -> None:
    con.execute("UPDATE jobs SET progress = ? WHERE job_id = ?", [_text(progress), job_id])


def finish_job(con: duckdb.DuckDBPyConnection, job_id: int, result: dict, progress: dict | None = None) -> None:
    con.execute("UPDATE jobs SET state = 'done', finished_at = ?, result = ?, progress = coalesce(?, progress) "
                "WHERE job_id = ?", [utcnow(), _text(result), _text(progress), job_id])


def fail_job(con: duckdb.DuckDBPyConnection, job_id: int, error: str, progress: dict | None = None,
             result: dict | None = None) -> None:
    """The job ended with an error: `error` is the one line the user reads; `result`, what it did
    commit before failing (an interrupted import's files), if anything."""
    con.execute("UPDATE jobs SET state = 'failed', finished_at = ?, error = ?, progress = coalesce(?, progress), "
                "result = ? WHERE job_id = ?", [utcnow(), error, _text(progress), _text(result), job_id])


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> tuple[int, list[str]]:
    """Mark the jobs left queued or running by a process that has ended; returns how many, and the
    upload ids of the import jobs among them (their saved files will never be imported)."""
    active = con.execute("SELECT job_id, runner, kind, json_extract_string(params, '$.upload_id') FROM jobs "
                         "WHERE state IN ('queued', 'running')").fetchall()
    gone = [(job_id, kind, upload_id) for job_id, runner, kind, upload_id in active if _gone(runner)]
    if gone:
        con.execute("UPDATE jobs SET state = 'interrupted', finished_at = ?, "
                    "error = coalesce(error, '服务器在任务完成前停止，任务已中断；请重新提交') "
                    "WHERE job_id IN (SELECT unnest(?::INTEGER[]))", [utcnow(), [job_id for job_id, _, _ in gone]])
    return len(gone), [upload_id for _, kind, upload_id in gone if kind == "import" and upload_id]


def _row(values: tuple) -> dict:
    job = dict(zip(COLUMNS, values))
    for key in _JSON:
        job[key] = json.loads(job[key]) if job[key] else None
    return job


def get_job(con: duckdb.DuckDBPyConnection, job_id: int) -> dict | None:
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE job_id = ?", [job_id]).fetchall()
    return _row(rows[0]) if rows else None


def recent_jobs(con: duckdb.DuckDBPyConnection, limit: int = 20, *, result: bool = False) -> list[dict]:
    """The newest jobs first; without `result` (it can be large) unless asked."""
    columns = [c if c != "result" or result else "NULL AS result" for c in COLUMNS]
    rows = con.execute(f"SELECT {', '.join(columns)} FROM jobs ORDER BY job_id DESC LIMIT ?", [limit]).fetchall()
    return [_row(r) for r in rows]


def recorded_rejects(con: duckdb.DuckDBPyConnection, upload_id: str) -> set[str]:
    """The rejects files (their `rejects_url`) the import jobs of one upload recorded: the only
    files the site hands out from the uploads folder."""
    rows = con.execute("SELECT result FROM jobs WHERE kind = 'import' AND state IN ('done', 'failed') "
                       "AND json_extract_string(params, '$.upload_id') = ?", [upload_id]).fetchall()
    urls = set()
    for (text,) in rows:
        for f in (json.loads(text) if text else {}).get("files", []):
            if f.get("rejects_url"):
                urls.add(f["rejects_url"])
    # A registry upload is imported at once, not as a job: its audit entry names its rejects file.
    for (name,) in con.execute("SELECT json_extract_string(detail, '$.rejects_file') FROM audit_log "
                               "WHERE action = 'accounts.import' AND json_extract_string(detail, '$.upload_id') = ?",
                               [upload_id]).fetchall():
        if name:
            urls.add(f"/api/v1/imports/{upload_id}/rejects/{name}")
    return urls
