"""Results that are slow to compute and read often (intervals, inflation marks), kept in this
process until the data they depend on changes.

The key includes a fingerprint of the store read in a few milliseconds: the newest import batch,
the platform's post, snapshot and registry contents, and the newest stored score of the months;
any import, registry change or rescore changes it, so nothing outlives a write.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

import duckdb

_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_SIZE = 64
_LOCK = threading.Lock()  # the site reads from a thread pool


def fingerprint(con: duckdb.DuckDBPyConnection, platform: str, months: list[str]) -> tuple:
    return tuple(con.execute(
        """
        SELECT (SELECT max(batch_id) FROM import_batches), (SELECT count(*) FROM posts WHERE platform = $1),
               (SELECT count(*) FROM snapshots WHERE platform = $1),
               (SELECT md5(string_agg(account_id || ':' || category || ':' || coalesce(deactivated_on::VARCHAR, ''), ','
                            ORDER BY account_id)) FROM accounts
                WHERE platform = $1),
               (SELECT max(computed_at) FROM monthly_scores WHERE platform = $1 AND month IN (SELECT unnest($2::VARCHAR[])))
        """, [platform, months]).fetchall()[0])


def remembered(con: duckdb.DuckDBPyConnection, key: tuple, platform: str, months: list[str],
               compute: Callable[[], Any]) -> Any:
    """compute(), or what it returned for the same key on the same data."""
    full = (*key, fingerprint(con, platform, months))
    with _LOCK:
        if full in _CACHE:
            _CACHE.move_to_end(full)
            return _CACHE[full]
    value = compute()  # outside the lock: two threads may compute the same value, neither waits
    with _LOCK:
        _CACHE[full] = value
        while len(_CACHE) > _SIZE:
            _CACHE.popitem(last=False)
    return value


def forget() -> None:
    with _LOCK:
        _CACHE.clear()
