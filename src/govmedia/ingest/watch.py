"""Watching a crawler's output folder: every new or changed export is imported once it has
stopped growing (`govmedia watch DIR`, `govmedia serve --watch DIR`).

A file is picked up when its size and modification time have not changed for `settle` seconds.
A file whose bytes were imported before (its sha256 is in `import_batches`) is skipped, so a
restarted watcher imports nothing twice; a file the crawler rewrites is imported again, and only
its new or changed rows are written (the writer leaves unchanged rows alone). Each pick-up is a
job row, so the site's job list shows it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from govmedia.core.errors import UserError, fill, read_failed
from govmedia.ingest.pipeline import Connect, ImportSummary, discover, import_path
from govmedia.store.access import nothing_changed
from govmedia.store.jobs import create_job, fail_job, finish_job, start_job
from govmedia.store.reads import imported_before

log = logging.getLogger(__name__)


@dataclass
class PickUp:
    path: Path
    summary: ImportSummary | None = None  # None when skipped or failed
    skipped: str | None = None  # why it was not imported
    error: str | None = None  # why it could not be imported, in plain words
    error_template: str | None = None  # the same, for an interface to name fields and steps (core.errors.fill)
    job_id: int | None = None


@dataclass
class Watcher:
    """Which files under `folder` have settled since they were last handled."""

    folder: Path
    settle: float = 3.0
    _signature: dict[Path, tuple[int, int]] = field(default_factory=dict)
    _since: dict[Path, float] = field(default_factory=dict)
    _handled: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def settled(self, now: float | None = None) -> list[Path]:
        now = time.monotonic() if now is None else now
        if not self.folder.is_dir():
            raise UserError(f"{self.folder}: 目录不存在（请检查要监视的爬虫输出目录）")
        ready = []
        for path in discover(self.folder):
            try:
                stat = path.stat()
            except OSError:
                continue  # removed while scanning
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._signature.get(path) != signature:
                self._signature[path], self._since[path] = signature, now
                continue
            if now - self._since[path] >= self.settle and self._handled.get(path) != signature:
                ready.append(path)
        # Comments belong to the account of their post: posts first, as a folder import does.
        return sorted(ready, key=lambda p: ("_comments_" in p.name, str(p)))

    def handled(self, path: Path) -> None:
        self._handled[path] = self._signature[path]


def pick_up(connect: Connect, path: Path, *, actor: str | None) -> PickUp:
    """Import one settled file unless its bytes were imported before; a job row records it."""
    try:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # removed or made unreadable since it settled
        return _failed(connect, path, actor, f"无法读取（{read_failed(exc)}）")
    with connect() as con:
        nothing_changed(con)  # a look at the import batches
        if imported_before(con, sha256):
            return PickUp(path, skipped="已导入过，内容未变")
    try:
        summary = import_path(connect, path, actor=actor)
    except UserError as exc:
        return _failed(connect, path, actor, exc.template.removeprefix(f"{path}: "))
    report = summary.files[0]
    if report.skipped:  # not a content file (e.g. weibo-crawler's users.csv): nothing to record
        return PickUp(path, summary=summary, skipped=report.skipped)
    result = {"accepted": summary.accepted, "rejected": summary.rejected, "unchanged": summary.unchanged,
              "months": summary.months,
              "files": [{"path": path.name, "format": report.format, "accepted": report.accepted,
                         "rejected": report.rejected, "unchanged": report.unchanged, "error": report.error,
                         "skipped": None, "rejects_url": None,
                         "reasons": [{"line": r.line, "column": r.column, "reason": r.reason}
                                     for r in report.rejects[:5]]}]}
    with connect() as con:  # bookkeeping: the site's job list shows each pick-up
        nothing_changed(con)
        job_id = create_job(con, "import", actor, {"file": path.name, "path": str(path), "watch": True})
        start_job(con, job_id)
        if report.error:
            fail_job(con, job_id, report.error)
        else:
            finish_job(con, job_id, result)
    return PickUp(path, summary=summary, error=report.error, error_template=report.error_template, job_id=job_id)


def _failed(connect: Connect, path: Path, actor: str | None, template: str) -> PickUp:
    """A file that could not be imported: a failed job row, and the reason without the file's path
    (the interface names the file)."""
    message = fill(template)
    with connect() as con:
        nothing_changed(con)  # bookkeeping
        job_id = create_job(con, "import", actor, {"file": path.name, "path": str(path), "watch": True})
        fail_job(con, job_id, message)
    return PickUp(path, error=message, error_template=template, job_id=job_id)


# What the watcher says of a file whose import failed in a way nobody foresaw (the log has the rest).
UNEXPECTED = "导入时出现意外错误，此文件未导入；其他文件照常导入。请检查文件内容后重新保存它，如一再出现请联系管理员"


def watch(connect: Connect, folder: str | Path, *, actor: str | None, on_pick_up: Callable[[PickUp], None],
          stop: threading.Event, interval: float = 2.0, settle: float = 3.0, once: bool = False) -> None:
    """Scan `folder` every `interval` seconds until `stop` is set and pick up what has settled.
    `on_pick_up` is told of each file handled (the interface rescores and reports). With `once`,
    scan until everything present has settled, handle it, and return."""
    watcher = Watcher(Path(folder), settle)
    while not stop.is_set():
        for path in watcher.settled():
            try:
                picked = pick_up(connect, path, actor=actor)
            except Exception:  # a watcher never dies on a file: later files are still imported
                log.exception("watch: importing %s failed", path)
                try:
                    picked = _failed(connect, path, actor, UNEXPECTED)
                except Exception:  # not even the job row could be written (the store is busy)
                    log.exception("watch: recording the failure of %s failed", path)
                    picked = PickUp(path, error=UNEXPECTED, error_template=UNEXPECTED)
            try:
                on_pick_up(picked)  # the interface's rescore and report
            except Exception:  # noqa: BLE001 - e.g. a rescore the busy store refused: the months stay stale
                log.exception("watch: after picking up %s", path)
            watcher.handled(path)
        if once and all(watcher._handled.get(p) == s for p, s in watcher._signature.items()):
            return
        stop.wait(interval)
