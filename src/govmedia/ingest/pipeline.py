"""Importing post files: discover, read, map, validate, write, report.

Each file is one transaction: its valid rows are committed together or not at all, and every
other row is written to `<file>.rejects.csv` with its line and a reason.
"""

from __future__ import annotations

import errno
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govmedia.core.errors import FieldError, UserError, fill
from govmedia.core.vocabulary import METRICS
from govmedia.ingest import generic, mediacrawler, wechat_exporter, weibo_crawler
from govmedia.ingest.canonical import (
    Comment, Reject, parse_platform,
)
from govmedia.ingest.context import Context, Source
from govmedia.ingest.forms import load_classifier
from govmedia.ingest.frame import (
    Frame, concat_frames, frame_of, raw_of as frame_raw_of, refuse_broken_records, refuse_broken_text,
    validate_comments, validate_frame,
)
from govmedia.ingest.rejects import write_rejects
from govmedia.ingest.tabular import TABLE_SUFFIXES, Table, read_table
from govmedia.store import in_transaction
from govmedia.store.access import nothing_changed
from govmedia.store.users import audit
from govmedia.store.writer import BatchInfo, each_post_once, write_comments, write_posts

# Detection order matters: the crawler formats are recognised by their own columns before
# the generic table, whose aliases are broad.
FORMATS = {
    "weibo-crawler": weibo_crawler,
    "mediacrawler": mediacrawler,
    "wechat-exporter": wechat_exporter,
    "generic": generic,
}
FORMAT_NAMES = ("auto", *FORMATS)

KNOWN_HEADERS = frozenset().union(*(m.KNOWN_HEADERS for m in FORMATS.values()))

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class FileReport:
    path: Path
    format: str | None = None
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    batch_id: int | None = None
    rejects_path: Path | None = None
    error: str | None = None  # the file could not be read at all (fields and steps in plain words)
    error_template: str | None = None  # the same, for an interface to name fields and steps (core.errors.fill)
    skipped: str | None = None  # not a post file (e.g. weibo-crawler's users.csv)
    rejects: list[Reject] = field(default_factory=list)
    months: set[str] = field(default_factory=set)  # months (Beijing) whose posts this file changed

    @property
    def exit_code(self) -> int:
        if self.error:
            return 2
        return 1 if self.rejected else 0


@dataclass
class ImportSummary:
    files: list[FileReport]

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def exit_code(self) -> int:
        return max((f.exit_code for f in self.files), default=0)

    @property
    def committed(self) -> bool:
        """Whether any file of it was written to the store."""
        return any(f.batch_id is not None or f.months for f in self.files)

    @property
    def months(self) -> list[str]:
        """The months whose scores the import made stale."""
        return sorted(set().union(*(f.months for f in self.files)))


def parse_account_option(value: str | None) -> tuple[str, str] | None:
    """'weibo:1234567890' -> ('weibo', '1234567890')."""
    if not value:
        return None
    platform, sep, account_id = value.partition(":")
    if not sep or not account_id.strip():
        raise FieldError("account", value, f"应写成 平台:账号ID（如 weibo:1234567890），而不是 {value!r}")
    try:
        return parse_platform(platform), account_id.strip()
    except ValueError as exc:
        raise FieldError("account", value, str(exc)) from exc


def require_account(value: str) -> tuple[str, str]:
    """Like parse_account_option, for places where an account must be named."""
    parsed = parse_account_option(value)
    if parsed is None:
        raise FieldError("account", value, "请写明账号：平台:账号ID（如 weibo:1234567890）")
    return parsed


def load_context(con: duckdb.DuckDBPyConnection, forced: tuple[str, str] | None) -> Context:
    rows = con.execute("SELECT platform, account_id, name FROM accounts").fetchall()
    names: dict[tuple[str, str], list[str]] = {}
    for platform, account_id, name in rows:
        names.setdefault((platform, name), []).append(account_id)
    registered = frozenset((p, a) for p, a, _ in rows)
    if forced and forced not in registered:
        raise FieldError("account", f"{forced[0]}:{forced[1]}",
                         f"{forced[0]}:{forced[1]} 不在账号名录中（先登记该账号）")
    return Context(forced=forced, registered=registered, names=names)


def discover(path: Path) -> list[Path]:
    if not path.exists():
        raise UserError(f"{path}: 文件或目录不存在")
    if path.is_file():
        return [path]
    found = []
    for candidate in sorted(path.rglob("*")):
        if not candidate.is_file() or candidate.name.startswith((".", "~$")):
            continue
        if candidate.name.endswith(".rejects.csv"):
            continue
        if candidate.suffix.lower() in TABLE_SUFFIXES:
            found.append(candidate)
    return found


def _plan(con: duckdb.DuckDBPyConnection, path: Path, format: str, account, forms_path):
    """What an import of `path` will do: the context (registry), the classifier and the files in order."""
    if format not in FORMAT_NAMES:
        raise UserError(f"未知格式 {format!r}（可用: {', '.join(FORMAT_NAMES)}）")
    forced = parse_account_option(account) if isinstance(account, str) or account is None else account
    ctx = load_context(con, forced)
    classifier = load_classifier(forms_path)
    files = discover(path)
    if not files:
        raise UserError(f"{path}: 目录中没有可导入的文件（CSV、XLSX、JSON、JSONL）")
    # Comments belong to the account of their post: read them after the folder's post files.
    files.sort(key=lambda f: "_comments_" in f.name)
    return ctx, classifier, files


Connect = Callable[[], ContextManager[duckdb.DuckDBPyConnection]]
FilesCallback = Callable[[int, int, str], None]


def import_path(
    store: duckdb.DuckDBPyConnection | Connect,
    path: str | Path,
    *,
    format: str = "auto",
    account: str | tuple[str, str] | None = None,
    rejects_dir: str | Path | None = None,
    forms_path: str | Path | None = None,
    progress: ProgressCallback | None = None,
    files_progress: FilesCallback | None = None,
    actor: str | None = None,
) -> ImportSummary:
    """Import a file or every table file under a folder: the one door of `govmedia import`, the
    site's uploads and the watcher.

    `store` is an open connection, or `connect()`, a context manager giving one (the store's write
    unit, `store.access.Access.write`): then the store is taken only for the files' database writes,
    for runs of at most about `_UNIT_SECONDS`, not while the files are read and checked, so that
    the site answers meanwhile. Each file commits on its own. `files_progress(files_done,
    files_total, file_name)` is called before each file and once at the end. With an `actor` the import is audited once at the end. The summary
    says which months the import changed (`ImportSummary.months`), for rescoring."""
    connect: Connect = _Borrowed(store) if isinstance(store, duckdb.DuckDBPyConnection) else store
    path = Path(path)
    with connect() as con:
        _unchanged(connect, con)  # reading the registry
        ctx, classifier, files = _plan(con, path, format, account, forms_path)
        # The files imported before (their bytes and format): a statement less per file.
        imported = set(con.execute("SELECT sha256, format FROM import_batches").fetchall())
    reports = []

    def prepare(group: list[Path]) -> list[_Prepared]:
        return _prepare(group, ctx=ctx, classifier=classifier, format=format, in_folder=path.is_dir())

    # The next group of files is read and checked in a second thread while this one's files are
    # written: the database and Arrow's kernels release the GIL, so on two CPUs the two overlap.
    groups = _groups(files)
    current: list[Path] = []  # the file being written, while it is
    try:
        _import_groups(store, connect, groups, prepare, files, reports, current, rejects_dir=rejects_dir,
                       progress=progress, files_progress=files_progress, imported=imported)
    except Exception as exc:
        # Files before the failing one are committed: say so, audit them and hand their summary on
        # so that the caller rescores their months, instead of "nothing was done".
        summary = ImportSummary(reports)
        if not summary.committed:
            raise
        # The file being written, else the next one (its group could not be read)
        failing = current[-1] if current else files[len(reports)] if len(reports) < len(files) else None
        interrupted = ImportInterrupted(summary, len(files), files.index(failing) + 1 if failing else None,
                                        _relative(failing, path) if failing else None, exc)
        if actor is not None:
            interrupted.audit_later(actor, "imports.path", path.name)
            with suppress(Exception):  # the store may be what failed: the caller records it with the rescore
                with connect() as con:
                    _unchanged(connect, con)
                    interrupted.record(con)
        raise interrupted from exc
    if files_progress:
        files_progress(len(files), len(files), "")
    summary = ImportSummary(reports)
    if actor is not None:
        with connect() as con:
            _unchanged(connect, con)  # the audit row is bookkeeping
            audit(con, actor, "imports.path", {"path": path.name, "accepted": summary.accepted,
                                               "rejected": summary.rejected, "unchanged": summary.unchanged})
    return summary


def _import_groups(store, connect: Connect, groups: list[list[Path]], prepare, files: list[Path],
                   reports: list[FileReport], current: list[Path], *, rejects_dir, progress, files_progress,
                   imported) -> None:
    """Write the groups of files in turn, appending each file's report to `reports` once it is
    committed; `current` holds the file being written while it is."""
    done = 0
    with _one_checkpoint(store if isinstance(store, duckdb.DuckDBPyConnection) else None), \
            ThreadPoolExecutor(1, thread_name_prefix="govmedia-read") as reader:
        ahead = reader.submit(prepare, groups[0])
        try:
            for number, group in enumerate(groups):
                prepared = ahead.result()
                if number + 1 < len(groups):
                    ahead = reader.submit(prepare, groups[number + 1])
                # A unit (the store taken for writing) serves the group's files for up to
                # _UNIT_SECONDS, then lets others in: opening and closing the store per file cost
                # more than writing a small file (the demo's folder by `govmedia import`: 107 s
                # against 31 s). Each file still commits on its own; none waits on the reader.
                with ExitStack() as unit:
                    con, opened = None, 0.0
                    for item in prepared:
                        current.append(item.report.path)
                        if files_progress:
                            files_progress(done, len(files), str(item.report.path))
                        if con is None and not item.done:
                            con, opened = unit.enter_context(connect(declared=True)), time.monotonic()
                        try:
                            reports.append(_write(item, con, None, rejects_dir=rejects_dir, progress=progress,
                                                  before_commit=None, imported=imported))
                        except BaseException:
                            if item.report.batch_id is not None:  # committed; its rejects file failed
                                reports.append(item.report)
                            raise
                        current.pop()
                        done += 1
                        if con is not None and time.monotonic() - opened >= _UNIT_SECONDS:
                            unit.close()
                            con = None
        except BaseException:
            ahead.cancel()
            raise


def _relative(file: Path, root: Path) -> str:
    """A file as the user knows it: below the folder they imported (never a server's path)."""
    try:
        return file.relative_to(root).as_posix() if root.is_dir() else file.name
    except ValueError:
        return file.name


def failure_words(exc: BaseException) -> str:
    """Why a write stopped, in a few Chinese words, for a sentence that says what was kept."""
    from govmedia.store.access import StoreBusy

    text = str(exc).lower()
    if isinstance(exc, StoreBusy):
        return "数据库被其他程序长时间占用，等待超时"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT) or "no space" in text \
            or "disk is full" in text or "磁盘已满" in text:
        return "磁盘已满"
    if isinstance(exc, UserError):
        return str(exc).rstrip("。；;")
    if isinstance(exc, OSError):
        return "读写文件出错"
    if isinstance(exc, duckdb.Error):
        return "数据库写入出错"
    return "发生内部错误（详情已记录在服务器日志中）"


class ImportInterrupted(UserError):
    """An import that stopped after some of its files were committed (each file commits on its
    own). `summary` holds the committed files: the caller rescores their months; the message says
    what was kept and what was not."""

    def __init__(self, summary: ImportSummary, total: int, number: int | None, at: str | None,
                 cause: BaseException):
        self.summary = summary
        self.total = total
        self.at = at  # the file it stopped at, below the folder imported
        self.cause = cause
        self.words = failure_words(cause)
        kept = sum(1 for f in summary.files if f.batch_id is not None)
        # Stopped after the file's own commit: only its rejects file (or closing the unit) was left.
        written = bool(summary.files) and at is not None and number == len(summary.files) \
            and summary.files[-1].batch_id is not None
        if written:
            after = "保存其拒收行文件时" if isinstance(cause, OSError) else "随后"
            where = f"第 {number} / {total} 个文件 {at} 的内容已写入数据库，{after}"
        else:
            where = f"处理第 {number} / {total} 个文件 {at} 时" if at else ""
        left = total - len(summary.files)
        super().__init__(
            f"导入中断：{where}{self.words}。已处理 {len(summary.files)} 个文件，其中 {kept} 个已写入数据库"
            f"（接受 {summary.accepted:,} 行）" + (f"；其余 {left} 个文件未导入" if left else "") +
            "。请排除问题后重新导入同一文件夹或压缩包（已写入的内容会计为未变化）")
        months = summary.months
        self.span = (months[0] if len(months) == 1 else f"{months[0]} 至 {months[-1]}") if months else ""
        if isinstance(cause, UserError):
            self.http_status = getattr(cause, "http_status", 400)
            self.retry_after = getattr(cause, "retry_after", None)

        self._audit: tuple | None = None  # (actor, action, detail) not yet recorded

    def audit_later(self, actor: str | None, action: str, name: str) -> None:
        """The audit entry to record (`record`): the import as far as it went, and why it stopped."""
        summary = self.summary
        self._audit = (actor, action, {
            "path": name, "accepted": summary.accepted, "rejected": summary.rejected, "unchanged": summary.unchanged,
            "interrupted": self.words, "files_done": len(summary.files), "files_total": self.total,
            "committed": [f.path.name for f in summary.files if f.batch_id is not None]})

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        """Write the pending audit entry, once: right away if the store lets us, else in the unit
        that rescores the committed months."""
        if self._audit is not None:
            audit(con, *self._audit)
            self._audit = None

    @property
    def audited(self) -> bool:
        return self._audit is None

    def told(self, rescored: bool | None, later: str) -> str:
        """The whole message once the interface tried to rescore the committed months (`rescored`:
        True, False when the store refused, None when not asked to) and to record the audit entry;
        `later` says how to rescore in the interface's own words."""
        words = str(self)
        if self.span:
            words += {True: f"。已写入内容涉及的 {self.span} 的分数已重新计算",
                      False: f"。已写入内容涉及的 {self.span} 的分数未能更新，请稍后{later}",
                      None: f"。已写入内容涉及的 {self.span} 的分数未重新计算，请{later}"}[rescored]
        if not self.audited:
            words += "；这次导入未能记入操作日志"
        return words + "。"


def import_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    ctx: Context,
    classifier,
    format: str = "auto",
    rejects_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    in_folder: bool = False,
    before_commit: Callable[[], None] | None = None,
    connect: Callable[[], ContextManager[duckdb.DuckDBPyConnection]] | None = None,
) -> FileReport:
    """One file, committed on its own. The connection is `con`, or with `connect` one taken for the
    database write only."""
    prepared, = _prepare([path], ctx=ctx, classifier=classifier, format=format, in_folder=in_folder)
    return _write(prepared, con, connect, rejects_dir=rejects_dir, progress=progress, before_commit=before_commit)


@dataclass
class _Prepared:
    """A file read and checked, not yet written: what `_write` needs. `done` when there is nothing
    to write (the file was skipped or could not be read)."""

    report: FileReport
    done: bool = False
    table: Table | None = None
    platform: str | None = None
    rows: list | pa.Table | None = None  # the stage table of posts, or the kept comments
    rejects: list[Reject] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    duplicates: int = 0
    comments: bool = False
    source: Source | None = None  # posts read, not yet checked
    single: bool | None = None  # each post once in `rows` (None: not known)


def _prepare(paths: list[Path], *, ctx: Context, classifier, format: str, in_folder: bool) -> list[_Prepared]:
    """Read, recognise, map and check files: no database. The post files' rows are checked together
    (`frame.concat_frames`): in a folder of small files, once per group instead of once per file.
    (A folder's next group is prepared while the current one is written: `import_path`.)"""
    items = [_read_one(path, ctx=ctx, format=format, in_folder=in_folder) for path in paths]
    pending = [item for item in items if item.source is not None]
    if not pending:
        return items
    raws = [frame_raw_of(item.table) for item in pending]
    frames = [item.source.frame if item.source.frame is not None else frame_of(item.source.records, raw)
              for item, raw in zip(pending, raws)]
    # Half an emoji escaped in a JSON file: that row is refused, not the whole group of files.
    frames = [refuse_broken_text(frame) if item.table.surrogates else frame for item, frame in zip(pending, frames)]
    joined = frames[0] if len(frames) == 1 else concat_frames(frames, [item.source.platform for item in pending])
    checked = validate_frame(joined, registered=ctx.registered, forced=ctx.forced,
                             platform_hint=pending[0].source.platform, classifier=classifier)
    if len(frames) == 1:
        stages, rejects = [checked.stage], [checked.rejects]
    else:
        stages, rejects = _split(checked, frames)
    for item, raw, stage, refused in zip(pending, raws, stages, rejects):
        item.report.format = item.source.format
        item.platform = item.source.platform
        stage, repeated, item.superseded, item.duplicates, item.single = _deduplicate(stage, raw)
        item.rows = stage
        item.rejects = [Reject(line, column, reason, raw(line)) for line, column, reason in refused] + repeated
        item.source = None
    return items


def _split(checked, frames: list[Frame]) -> tuple[list[pa.Table], list[list]]:
    """The stage rows and rejects of frames checked as one (numbered 0, 1, ... across them), per frame,
    with each frame's own lines."""
    starts = np.cumsum([0, *(len(f) for f in frames)])
    stage = checked.stage
    owner = np.searchsorted(starts, stage["line"].to_numpy(), side="right") - 1
    stages = []
    for k, frame in enumerate(frames):
        rows = stage.filter(pa.array(owner == k))
        lines = pc.take(pa.array(frame.lines, pa.int64()), pc.subtract(rows["line"], int(starts[k])))
        stages.append(rows.set_column(rows.schema.get_field_index("line"), "line", lines))
    rejects: list[list] = [[] for _ in frames]
    for number, column, reason in checked.rejects:
        k = int(np.searchsorted(starts, number, side="right")) - 1
        rejects[k].append((frames[k].lines[number - starts[k]], column, reason))
    return stages, rejects


def _read_one(path: Path, *, ctx: Context, format: str, in_folder: bool) -> _Prepared:
    """A file read, recognised and mapped (`source`), or done with (skipped, unreadable); comments
    are checked here too."""
    report = FileReport(path)
    try:
        table = read_table(path, KNOWN_HEADERS, keep_broken=True)
        module = _choose_format(table, format)
        if module is None:
            if in_folder:
                report.skipped = "不是可识别的内容文件"
                return _Prepared(report, done=True)
            raise UserError(
                f"{path}: 无法识别文件格式（列: {', '.join(h for h in table.header[:12] if h)}）；"
                "请用 {field:format} 指明它是哪种导出"
            )
        if getattr(module, "is_comments", lambda t: False)(table):
            platform, records = module.read_comments(table, ctx)
            report.format = module.NAME
            records = refuse_broken_records(list(records)) if table.surrogates else list(records)
            kept, rejects, duplicates = _check_comments(records, platform)
            return _Prepared(report, table=table, platform=platform, rows=kept, rejects=rejects,
                             duplicates=duplicates, comments=True)
        skip_reason = getattr(module, "skip_reason", lambda t: None)(table)
        if skip_reason:
            report.format = module.NAME
            report.skipped = skip_reason
            return _Prepared(report, done=True)
        source = module.read(table, ctx)
    except UserError as exc:
        # The report names the file already: the message without its path (a server's, on the web).
        report.error_template = exc.render().removeprefix(f"{path}: ") if isinstance(exc, FieldError) else \
            exc.template.removeprefix(f"{path}: ")
        report.error = fill(report.error_template)
        return _Prepared(report, done=True)
    return _Prepared(report, table=table, source=source)


def _write(prepared: _Prepared, con, connect, *, rejects_dir, progress, before_commit,
           imported: set[tuple[str, str]] | None = None) -> FileReport:
    """Write a prepared file in one transaction and say what became of each row."""
    report = prepared.report
    if prepared.done:
        return report
    path, table, rejects = report.path, prepared.table, prepared.rejects
    total = len(table)
    if progress:
        progress(str(path), 0, total)
    batch = BatchInfo(file_name=path.name, file_path=str(path.resolve()), sha256=table.sha256,
                      format=report.format, platform=prepared.platform)
    with _writing(con, connect) as writing:
        if prepared.comments:
            result = write_comments(writing, prepared.rows, batch, rejected=len(rejects), before_commit=before_commit)
        else:
            result = write_posts(writing, prepared.rows, batch, rejected=len(rejects), before_commit=before_commit,
                                 seen=None if imported is None else (batch.sha256, batch.format) in imported,
                                 single=prepared.single)
        if result.batch_id is None:  # the file was imported before and every row is stored as it is
            _unchanged(connect, writing)
    if imported is not None and result.batch_id is not None:
        imported.add((batch.sha256, batch.format))
    if progress:
        progress(str(path), total, total)
    if result.conflicts:
        raw_of = dict(table.rows)
        where = "post_id" if not prepared.comments else "note_id" if prepared.platform == "weibo" else "aweme_id"
        for line, reason in result.conflicts:
            rejects.append(Reject(line, where, reason, raw_of.get(line, {})))
    rejects.sort(key=lambda r: r.line)
    # A superseded row shares the fate of the row that replaced it.
    superseded_unchanged = sum(1 for line in prepared.superseded if line in result.unchanged_lines)
    report.months = set(result.months)  # the months of the changed posts, where they were and are published
    report.accepted = result.accepted + len(prepared.superseded) - superseded_unchanged
    report.unchanged = result.unchanged + prepared.duplicates + superseded_unchanged
    report.rejected = len(rejects)
    report.batch_id = result.batch_id
    report.rejects = rejects
    report.rejects_path = write_rejects(path, table, rejects, rejects_dir)
    return report


# How long an import holds the store for a run of files before letting a waiting page or process in
# (GOVMEDIA_IMPORT_UNIT_SECONDS; 0: a unit per file).
_UNIT_SECONDS = float(os.environ.get("GOVMEDIA_IMPORT_UNIT_SECONDS") or 0.5)

# Files checked together (`_prepare`): up to this many bytes or files a group.
_GROUP_BYTES = 8 << 20
_GROUP_FILES = 64


def _groups(files: list[Path]) -> list[list[Path]]:
    groups: list[list[Path]] = []
    size = 0
    for file in files:
        try:
            length = file.stat().st_size
        except OSError:
            length = 0  # read_table says what is wrong with it
        if not groups or size + length > _GROUP_BYTES or len(groups[-1]) >= _GROUP_FILES:
            groups.append([])
            size = 0
        groups[-1].append(file)
        size += length
    return groups


# The WAL size past which DuckDB checkpoints on commit, while one connection imports many files.
_IMPORT_CHECKPOINT_THRESHOLD = "1GB"


@contextmanager
def _one_checkpoint(con: duckdb.DuckDBPyConnection | None) -> Iterator[None]:
    """On a held connection, one checkpoint after the files instead of one whenever the WAL passes
    DuckDB's 16 MiB: each of those rewrites more than the new rows (the demo's 455 files: about 24
    of them, 10 s; one at the end, under 2 s). Each file still commits on its own, and a committed
    file is durable in the WAL. A connection opened per file (the store's write unit) checkpoints
    when it closes, and one inside a transaction cannot checkpoint: both are left alone."""
    if con is None or in_transaction(con):
        yield
        return
    before = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
    con.execute(f"SET checkpoint_threshold = '{_IMPORT_CHECKPOINT_THRESHOLD}'")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{before}'")
        # Another cursor's open transaction forbids it: DuckDB then checkpoints on a later commit.
        with suppress(duckdb.Error):
            con.execute("CHECKPOINT")


class _Borrowed:
    """`connect()` for a connection the caller holds: its unit is the caller's, and whether that
    unit changed data is not this import's to say."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __call__(self, **_) -> ContextManager[duckdb.DuckDBPyConnection]:
        return nullcontext(self.con)


def _unchanged(connect, con) -> None:
    """Tell a write unit opened for this step alone that the step changed no data."""
    if connect is not None and not isinstance(connect, _Borrowed):
        nothing_changed(con)


def _writing(con, connect) -> ContextManager[duckdb.DuckDBPyConnection]:
    # A file's unit is `declared`: the post writer says which months it changed, so the site keeps
    # the pages of other periods.
    return connect(declared=True) if connect is not None else nullcontext(con)


def _check_comments(records: list, platform: str) -> tuple[list[Comment], list[Reject], int]:
    """A comments file's valid comments (each id once), its rejects and its rows repeated unchanged."""
    kept: dict[str, Comment] = {}
    rejects: list[Reject] = []
    duplicates = 0
    for record, outcome in zip(records, validate_comments(records, platform)):
        if isinstance(outcome, Reject):
            rejects.append(outcome)
        else:
            earlier = kept.get(outcome.comment_id)
            if earlier is None:
                kept[outcome.comment_id] = outcome
            elif _same_comment(earlier, outcome):
                duplicates += 1
            else:
                rejects.append(Reject(outcome.line, "comment_id",
                                      f"与第 {earlier.line} 行是同一评论，但内容不同", record.raw))
    return list(kept.values()), rejects, duplicates


def _same_comment(a: Comment, b: Comment) -> bool:
    fields = ("post_id", "author_id", "author_sec_uid", "parent_comment_id", "commented_at", "text")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def _choose_format(table: Table, format: str):
    if format != "auto":
        return FORMATS[format]
    for module in FORMATS.values():
        if module.detect(table):
            return module
    return None


_SAME = ("account_id", "published_at", "is_original", "forms", "title", "text", "url", "position", *METRICS,
         "hashtags")


def _deduplicate(stage: pa.Table, raw_of):
    """Rows of one post and one observation time within the file: an equal repeat counts as unchanged,
    an undated row is replaced by a later one (the newer crawl), two dated rows that differ are a
    conflict. Only the repeated keys are looked at row by row. Last: True when each post is once
    (`write_posts`'s `single`), else None."""
    if stage.num_rows == 0:
        return stage, [], [], 0, None
    if each_post_once(stage):  # no post twice: nothing repeated (the usual crawl), and the writer need not ask
        return stage, [], [], 0, True
    keys = pa.table({"platform": stage["platform"], "post_id": stage["post_id"],
                     "observed_at": stage["observed_at"], "line": stage["line"]})
    counts = keys.group_by(["platform", "post_id", "observed_at"], use_threads=False).aggregate([("line", "count")])
    many = counts.filter(pc.greater(counts["line_count"], 1))
    if many.num_rows == 0:
        return stage, [], [], 0, None
    wanted = set(zip(many["platform"].to_pylist(), many["post_id"].to_pylist(), many["observed_at"].to_pylist()))
    involved = [i for i, key in enumerate(zip(stage["platform"].to_pylist(), stage["post_id"].to_pylist(),
                                              stage["observed_at"].to_pylist())) if key in wanted]
    rows = stage.take(involved).to_pylist()
    kept: dict[tuple, dict] = {}
    dropped: set[int] = set()
    rejects: list[Reject] = []
    superseded: list[tuple] = []
    duplicates = 0
    for row in rows:
        key = (row["platform"], row["post_id"], row["observed_at"])
        earlier = kept.get(key)
        if earlier is None:
            kept[key] = row
        elif all(earlier[f] == row[f] for f in _SAME):
            duplicates += 1
            dropped.add(row["line"])
        elif row["observed_at"] is None:
            dropped.add(earlier["line"])  # undated snapshot seen again further down: the newer crawl
            kept[key] = row
            superseded.append(key)
        else:
            dropped.add(row["line"])
            rejects.append(Reject(row["line"], "observed_at",
                                  f"与第 {earlier['line']} 行是同一内容的同一次采集，但数值不同", raw_of(row["line"])))
    if dropped:
        stage = stage.filter(pc.invert(pc.is_in(stage["line"], value_set=pa.array(sorted(dropped), pa.int64()))))
    # Report each superseded row by the line of the row that finally stands for its key.
    return stage, rejects, [kept[k]["line"] for k in superseded], duplicates, None


__all__ = [
    "FORMATS", "FORMAT_NAMES", "FileReport", "ImportInterrupted", "ImportSummary", "import_path", "import_file",
    "parse_account_option", "load_context",
]
