"""The web app's hold on the store: one DuckDB database, a cursor per request, writes one at a time.

The server process owns the database file while it runs (DuckDB allows one writing process), so
every change goes through here and bumps `version`, which keys the caches.
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

from govmedia.store import open_store


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._root = open_store(self.path)
        self._write_lock = threading.Lock()
        self.version = 0
        self._cache: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.upload_dir = self.path.parent / "uploads"

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._root.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def write(self, data: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Writes are serialised. A write of `data` (what pages show) invalidates the caches
        afterwards, whatever happens; bookkeeping (`data=False`: a sign-in's audit row, a job's
        state) does not."""
        with self._write_lock:
            cursor = self._root.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
                if data:
                    self.version += 1

    def cached(self, key: tuple, compute: Callable[[], Any], size: int = 256) -> Any:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self.version:
                self._cache.move_to_end(key)
                return hit[1]
        version = self.version
        value = compute()
        with self._cache_lock:
            self._cache[key] = (version, value)
            self._cache.move_to_end(key)
            while len(self._cache) > size:
                self._cache.popitem(last=False)
        return value

    def close(self) -> None:
        self._root.close()


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
