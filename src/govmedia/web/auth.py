"""Sign-in, roles, CSRF tokens and the login rate limit.

Sessions are signed cookies (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax, Secure over
HTTPS) that carry the user's session version; `web/security.py` honours one only while it matches
the store's, so logout, a role or password change, deactivation and an admin ending the user's
sessions revoke every cookie of that user at once. A write
needs the right role (the guards are in `govmedia.web.deps`): without a session it answers 401,
with too small a role 403. Forms and cookie-authenticated API writes carry the session's CSRF
token; API clients may instead send HTTP Basic credentials, which need no CSRF token because no
cookie is involved.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

from govmedia.core.errors import UserError
from govmedia.store.users import ROLES
from govmedia.web.security import client_address  # noqa: F401  (the routes' import)

RANK = {role: i for i, role in enumerate(ROLES)}


class _Window:
    """Failures per key within `window` seconds."""

    def __init__(self, attempts: int, window: float):
        self.attempts = attempts
        self.window = window
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def wait(self, key: str, now: float) -> float:
        failures = self.failures.get(key)
        if not failures:
            return 0.0
        while failures and now - failures[0] > self.window:
            failures.popleft()
        if not failures:
            del self.failures[key]
            return 0.0
        return self.window - (now - failures[0]) if len(failures) >= self.attempts else 0.0

    def fail(self, key: str, now: float) -> None:
        self.failures[key].append(now)
        if len(self.failures) > 100_000:  # a flood of made-up names: forget the oldest
            for stale in list(self.failures)[:50_000]:
                del self.failures[stale]


class LoginLimiter:
    """Failed sign-ins counted per account and per client, each within `window` seconds.

    An account is locked after `attempts` failures whoever makes them (guessing one password from
    many addresses); a client after `client_attempts` failures whatever names it tries (guessing
    many accounts), a higher bound so that one locked account does not lock out the other people
    behind the same address. A success clears only its own account's count: signing in to one's
    own account does not buy more guesses at another's."""

    def __init__(self, attempts: int = 5, window: float = 300.0, client_attempts: int | None = None):
        self.attempts = attempts
        self.window = window
        self._accounts = _Window(attempts, window)
        self._clients = _Window(client_attempts or max(20, 4 * attempts), window)
        self._lock = threading.Lock()

    @staticmethod
    def _account(name: str) -> str:
        return name.strip().lower()

    def blocked(self, account: str, client: str) -> float:
        """Seconds to wait, 0 when a try is allowed."""
        now = time.monotonic()
        with self._lock:
            return max(self._accounts.wait(self._account(account), now), self._clients.wait(client, now))

    def failed(self, account: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._accounts.fail(self._account(account), now)
            self._clients.fail(client, now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._accounts.failures.pop(self._account(account), None)


class RateLimiter:
    """At most `limit` requests per key (a client) within `window` seconds: an anonymous form that
    costs the server work (the city index) is not a free CPU for anyone."""

    def __init__(self, limit: int = 10, window: float = 60.0):
        self.limit = limit
        self.window = window
        self._requests = _Window(limit, window)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Counts a request; returns 0 when it may go ahead, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            wait = self._requests.wait(key, now)
            if not wait:
                self._requests.fail(key, now)
            return wait


def city_per_minute() -> int:
    """How many city-index calculations one client may ask for a minute (GOVMEDIA_CITY_PER_MINUTE)."""
    value = os.environ.get("GOVMEDIA_CITY_PER_MINUTE", "").strip()
    if not value:
        return 10
    if not value.isdigit() or int(value) < 1:
        raise UserError(f"环境变量 GOVMEDIA_CITY_PER_MINUTE 应为正整数，而不是 {value!r}")
    return int(value)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    if getattr(request.state, "basic_auth", False):
        return
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
