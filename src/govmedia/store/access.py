"""One store, many processes: the site, the command line and the watcher share one DuckDB file.

DuckDB lets one process open a file for writing, and while it has it open no other process may
open it at all, not even to read; many processes may hold it read-only at once. So no process
keeps the file open longer than one unit of work (a page's query, one imported file, one rescore):

- Two lock files beside the store coordinate the processes (`flock`, released by the kernel if
  a process dies): `<db>.lock`, held shared by readers and exclusively by a writer, and
  `<db>.turn`, a turnstile a writer holds while it waits, which new readers must pass, so a
  steady stream of readers cannot starve a writer.
- Within a process, readers share one read-only connection (a cursor each) and a writer waits
  for them; a writer waiting elsewhere stops new local readers from joining.
- A writer that changed data bumps `<db>.version` and appends to `<db>.changes` which months it
  changed ("*": possibly anything). A site keys its caches by the version and keeps a page whose
  months no later change touched, so it learns of writes made by the shell or the watcher,
  answers from its cache while a write runs, and an import into one month leaves other periods'
  pages cached.
- Waits are bounded (`GOVMEDIA_LOCK_WAIT`, seconds): past it the unit fails with one Chinese
  line and changes nothing. A write's changes are one DuckDB transaction, so a kill at any
  moment leaves the store as before the unit.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from govmedia.core.errors import UserError

DEFAULT_WAIT_SECONDS = 600.0
_POLL = 0.02


EVERYTHING = "*"
CHANGES_KEPT = 1000  # lines of `<db>.changes` kept; a cache older than them counts everything as changed


class _Unit:
    """What an open write unit changed. A `declared` unit changed exactly what the code told it
    (`changed`); any other data unit possibly changed anything, unless told `nothing_changed`."""

    __slots__ = ("data", "declared", "months", "sessions")

    def __init__(self, data: bool, declared: bool):
        self.data = data
        self.declared = declared
        self.sessions = False  # the unit changed who may stay signed in (`sessions_changed`)
        self.months: set[str] | None = set() if declared else None  # None: not narrowed

    def change(self) -> set[str] | str | None:
        """The months changed, EVERYTHING, or None for no change."""
        if not self.data:
            return None
        if self.months is None:
            return EVERYTHING
        if EVERYTHING in self.months:
            return EVERYTHING
        return set(self.months) or None


_units: dict[int, _Unit] = {}  # id of an open write unit's connection -> what it changed


def nothing_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Tell the write unit holding `con` that it changed no data (e.g. a re-imported file whose rows
    are all stored already), so the caches keyed by the store's version stay valid. A connection
    that is not a write unit's (a test's, a script's) is left alone."""
    unit = _units.get(id(con))
    if unit is not None and not unit.declared:
        unit.months = set()


def changed(con: duckdb.DuckDBPyConnection, months) -> None:
    """Tell a `declared` write unit that it changed the data of these months (Beijing "YYYY-MM"),
    or of anything (`EVERYTHING`). Ignored by other units, which count as changing everything."""
    unit = _units.get(id(con))
    if unit is not None and unit.declared:
        unit.months.update([EVERYTHING] if months == EVERYTHING else (str(m) for m in months))


def sessions_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Tell the unit holding `con` that it changed a user's sessions (role, password, activity,
    session version): when it ends, `<db>.sessions` moves, so every site process re-reads the
    users before it trusts a cookie again. A connection that is not a unit's (a script's, a
    test's) moves the stamp at once."""
    unit = _units.get(id(con))
    if unit is not None:
        unit.sessions = True
        return
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if rows and rows[0][0]:
        Access(rows[0][0]).bump_sessions()


class StoreBusy(UserError):
    """The store stayed busy longer than the wait allowed. The site answers 429 with Retry-After:
    the request was fine, there were too many at once for the store; the client may try again."""

    http_status = 429
    retry_after = 5


def wait_seconds() -> float:
    value = os.environ.get("GOVMEDIA_LOCK_WAIT", "").strip()
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError as exc:
        raise UserError(f"环境变量 GOVMEDIA_LOCK_WAIT 应为秒数，而不是 {value!r}") from exc
    if seconds < 0:
        raise UserError(f"环境变量 GOVMEDIA_LOCK_WAIT 应为非负秒数，而不是 {value!r}")
    return seconds


def _flock(path: Path, mode: int, deadline: float, on_wait: Callable[[], None] | None) -> int:
    """An fd holding `mode` on `path`, waiting until `deadline`; StoreBusy past it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    told = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if not told and on_wait is not None:
                on_wait()
                told = True
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StoreBusy("数据库正被其他程序长时间占用，本次操作未执行；请稍后再试"
                                "（可用环境变量 GOVMEDIA_LOCK_WAIT 调整等待秒数）") from None
            time.sleep(_POLL)


def _release(fd: int | None) -> None:
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Access:
    """A process's way into the store at `path`: `read()` and `write()` units of work."""

    def __init__(self, path: str | Path, *, wait: float | None = None,
                 on_wait: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.wait = wait_seconds() if wait is None else wait
        self.on_wait = on_wait  # told once per unit that had to wait, in words
        self._lock_path = Path(f"{self.path}.lock")
        self._turn_path = Path(f"{self.path}.turn")
        self._version_path = Path(f"{self.path}.version")
        self._changes_path = Path(f"{self.path}.changes")
        self._sessions_path = Path(f"{self.path}.sessions")
        self._changes_memo: tuple[int, list[tuple[int, str]]] | None = None
        self._state = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writer: int | None = None  # the thread holding the write unit
        self._writers_waiting = 0
        self._opening = False  # a reader is opening the file for the process's readers
        self._read_con: duckdb.DuckDBPyConnection | None = None
        self._read_fd: int | None = None

    # ----------------------------------------------------------------------- version

    def version(self) -> int:
        """How many data writes the store has seen (any process); keys caches."""
        try:
            return int(self._version_path.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def sessions_stamp(self) -> int:
        """Moves whenever any process changes who may stay signed in (`sessions_changed`)."""
        try:
            return int(self._sessions_path.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def bump_sessions(self) -> None:
        self._replace(self._sessions_path, str(self.sessions_stamp() + 1))

    def _bump_version(self, change: set[str] | str) -> None:
        """Record the change, then move the version (a reader that sees the new version finds its
        line). Runs under the exclusive lock, so no two processes append at once."""
        new = self.version() + 1
        line = f"{new} {EVERYTHING if change == EVERYTHING else ','.join(sorted(change))}\n"
        lines = self._changes_path.read_text().splitlines(keepends=True) if self._changes_path.exists() else []
        if len(lines) >= 2 * CHANGES_KEPT:
            self._replace(self._changes_path, "".join(lines[-CHANGES_KEPT:]) + line)
        else:
            with open(self._changes_path, "a") as changes:
                changes.write(line)
        self._replace(self._version_path, str(new))

    @staticmethod
    def _replace(path: Path, text: str) -> None:
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(text)
        partial.replace(path)  # atomic: a reader sees the old or the new text

    def changed_since(self, version: int, now: int | None = None) -> set[str] | str:
        """The months data writes after `version` (up to `now`, default the current version)
        changed, or EVERYTHING when one may have changed anything or the record is gone."""
        now = self.version() if now is None else now
        if now <= version:
            return set()
        with self._state:
            known = self._changes_memo
        if known is None or known[0] < now:
            try:
                text = self._changes_path.read_text()
            except OSError:
                text = ""
            entries: list[tuple[int, str]] = []
            for row in text.splitlines():
                number, _, months = row.partition(" ")
                if number.isdigit():
                    entries.append((int(number), months.strip()))
            known = (max((n for n, _ in entries), default=0), entries)
            with self._state:
                self._changes_memo = known
        entries = known[1]
        wanted = range(version + 1, now + 1)
        found = {n for n, _ in entries if n in wanted}
        if len(found) < len(wanted):
            return EVERYTHING  # a change not on record (trimmed, or written by an older release)
        months: set[str] = set()
        for number, text in entries:
            if number in wanted:
                if text == EVERYTHING:
                    return EVERYTHING
                months.update(m for m in text.split(",") if m)
        return months

    # ----------------------------------------------------------------------- who holds it

    def writing_here(self) -> bool:
        """Whether this thread holds the process's write unit: work done inside one (an import's
        progress) must not open another unit, which would wait for itself."""
        return self._writing and self._writer == threading.get_ident()

    def _refuse_nesting(self, what: str) -> None:
        # A unit waiting on the unit its own thread holds would wait out the whole bound (600 s
        # for a write) while the store stays locked for everyone: fail at once instead.
        if self.writing_here():
            raise RuntimeError(f"a {what} unit opened inside this thread's own write unit")

    # ----------------------------------------------------------------------- reads

    def _tell(self, words: str) -> Callable[[], None] | None:
        return (lambda: self.on_wait(words)) if self.on_wait else None

    def _other_writer_waiting(self) -> bool:
        fd = os.open(self._turn_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    @contextmanager
    def read(self, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only cursor; waits (at most `wait` s, default the Access's) while a writer works or waits."""
        if not self.path.exists():
            raise UserError(f"数据库文件不存在: {self.path}（请检查路径；新建请先导入账号名录或内容）")
        self._refuse_nesting("read")
        deadline = time.monotonic() + (self.wait if wait is None else wait)
        with self._state:
            # Join the process's open read unless a writer (here or elsewhere) waits for its turn;
            # one thread opens the file, without holding the state, while the others wait for it.
            while (self._writing or self._writers_waiting or self._opening
                   or (self._readers and self._other_writer_waiting())):
                if time.monotonic() >= deadline:
                    raise StoreBusy("数据库正在写入，读取等待超时；请稍后再试")
                self._state.wait(timeout=_POLL * 5)
            opening = self._readers == 0
            if opening:
                self._opening = True
            else:
                self._readers += 1
                cursor = self._read_con.cursor()
        if opening:
            try:
                turn = _flock(self._turn_path, fcntl.LOCK_SH, deadline, self._tell("数据库正被写入，等待…"))
                try:
                    fd = _flock(self._lock_path, fcntl.LOCK_SH, deadline, self._tell("数据库正被写入，等待…"))
                finally:
                    _release(turn)
                try:
                    con = self._open_read_only()
                except BaseException:
                    _release(fd)
                    raise
            except BaseException:
                with self._state:
                    self._opening = False
                    self._state.notify_all()
                raise
            with self._state:
                self._read_con, self._read_fd = con, fd
                self._readers, self._opening = 1, False
                cursor = con.cursor()
                self._state.notify_all()
        try:
            yield cursor
        finally:
            cursor.close()
            with self._state:
                self._readers -= 1
                if self._readers == 0:
                    self._read_con.close()
                    self._read_con = None
                    _release(self._read_fd)
                    self._read_fd = None
                    self._state.notify_all()

    def _open_read_only(self) -> duckdb.DuckDBPyConnection:
        from govmedia.store import open_store

        return open_store(self.path, read_only=True)

    def prepare(self) -> bool:
        """Bring a store written by an earlier release up to date with one short write (reads
        open it read-only and cannot); True when it did."""
        from govmedia.store import SchemaOutdated

        if not self.path.exists():
            return False
        try:
            with self.read():
                return False
        except SchemaOutdated:
            with self.write(data=False):
                return True

    # ----------------------------------------------------------------------- writes

    @contextmanager
    def write(self, data: bool = True, wait: float | None = None, *, declared: bool = False
              ) -> Iterator[duckdb.DuckDBPyConnection]:
        """The store open for writing, alone; `data=False` for bookkeeping no cache depends on.
        `declared=True`: the code run in the unit says which months it changed (`changed`), through
        store functions that know (the post writer, the scorer); a page of other months stays cached."""
        from govmedia.store import open_store

        self._refuse_nesting("write")
        deadline = time.monotonic() + (self.wait if wait is None else wait)
        with self._state:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers or self._opening:
                    if time.monotonic() >= deadline:
                        raise StoreBusy("数据库正忙，写入等待超时，本次操作未执行；请稍后再试")
                    self._state.wait(timeout=_POLL * 5)
            finally:
                self._writers_waiting -= 1
            self._writing, self._writer = True, threading.get_ident()
        turn = lock = con = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a new store may live in a new folder
            turn = _flock(self._turn_path, fcntl.LOCK_EX, deadline, self._tell("数据库正被其他程序使用，等待…"))
            lock = _flock(self._lock_path, fcntl.LOCK_EX, deadline, self._tell("数据库正被其他程序使用，等待…"))
            con = open_store(self.path)
            _units[id(con)] = _Unit(data, declared)
            yield con
        except BaseException:
            if con is not None and data:
                _units[id(con)].months = {EVERYTHING}  # a failed unit: a page may have seen nothing new, never something stale
            raise
        finally:
            unit = _units.pop(id(con), None) if con is not None else None
            if con is not None:
                con.close()
            change = unit.change() if unit is not None else None
            if change:
                self._bump_version(change)
            if unit is not None and unit.sessions:
                self.bump_sessions()  # after the commit: a reader of the new stamp sees the new rows
            _release(lock)
            _release(turn)
            with self._state:
                self._writing, self._writer = False, None
                self._state.notify_all()
