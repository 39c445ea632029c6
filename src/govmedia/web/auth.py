"""Sign-in, roles, CSRF tokens and the login rate limit.

Sessions are signed cookies (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax). A write
needs the right role (the guards are in `govmedia.web.deps`): without a session it answers 401,
with too small a role 403. Forms and cookie-authenticated API writes carry the session's CSRF
token; API clients may instead send HTTP Basic credentials, which need no CSRF token because no
cookie is involved.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

from govmedia.store.users import ROLES

RANK = {role: i for i, role in enumerate(ROLES)}


class LoginLimiter:
    """At most `attempts` failed sign-ins per client address within `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0):
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, client: str) -> float:
        """Seconds to wait, 0 when a try is allowed."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures[client]
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if len(failures) >= self.attempts:
                return self.window - (now - failures[0])
            return 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures[client].append(time.monotonic())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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
