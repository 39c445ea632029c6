"""The web app's hold on the store: units of work through `store.access.Access`, and the cache.

The site does not own the store: the command line and the watcher write to the same file. Each
request opens it only for its unit of work (reads share one read-only connection); the caches
are keyed by the store's write counter, which every process bumps after a data write, so the site
sees writes made elsewhere and answers from its cache while one runs. Concurrent misses of one
key compute it once.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

from govmedia.store.access import Access

# How long a page waits for a write made elsewhere before it says the store is busy.
READ_WAIT_SECONDS = float(os.environ.get("GOVMEDIA_WEB_READ_WAIT", "30"))


class Store:
    def __init__(self, path: Path, *, create: bool = True):
        self.path = Path(path)
        self.access = Access(self.path)  # writes wait as long as the command line's
        if not self.path.exists():
            if not create:
                from govmedia.core.errors import UserError

                raise UserError(f"数据库文件不存在: {self.path}")
            with self.access.write(data=False):
                pass  # a new, empty installation
        else:
            self.access.prepare()
        self._cache: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}
        self.upload_dir = self.path.parent / "uploads"

    @property
    def version(self) -> int:
        return self.access.version()

    def changed_since(self, version: int, now: int | None = None):
        """The months data writes after `version` changed, or EVERYTHING (`store.access`)."""
        return self.access.changed_since(version, now)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.access.read(wait=READ_WAIT_SECONDS) as con:
            yield con

    @contextmanager
    def write(self, data: bool = True, *, declared: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write unit, alone on the store. A write of `data` (what pages show) moves the
        store's version and so retires the caches (with `declared`, only pages of the months it
        changed); bookkeeping (`data=False`: a sign-in's audit row, a job's state) does not."""
        with self.access.write(data, declared=declared) as con:
            yield con

    def cached(self, key: tuple, compute: Callable[[], Any], size: int = 256) -> Any:
        version = self.version
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(key)
                return hit[1]
            flight = self._computing.setdefault(key, threading.Lock())
        with flight:  # single flight: one computes, the others wait for its value
            with self._cache_lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] >= version:
                    return hit[1]
            try:
                value = compute()
                with self._cache_lock:
                    self._cache[key] = (version, value)
                    self._cache.move_to_end(key)
                    while len(self._cache) > size:
                        self._cache.popitem(last=False)
            finally:
                with self._cache_lock:
                    self._computing.pop(key, None)
        return value

    def close(self) -> None:
        """Nothing is held between units of work."""


def secret_key(db_path: Path) -> str:
    """GOVMEDIA_SECRET_KEY, else a key kept next to the database so sessions survive restarts."""
    if os.environ.get("GOVMEDIA_SECRET_KEY"):
        return os.environ["GOVMEDIA_SECRET_KEY"]
    path = Path(str(db_path) + ".secret")
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
