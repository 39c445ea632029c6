"""Sign-in, roles, CSRF tokens and the login rate limit.

Sessions are signed cookies (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax). A write
needs the right role: without a session it answers 401, with too small a role 403. Forms and
cookie-authenticated API writes carry the session's CSRF token; API clients may instead send
HTTP Basic credentials, which need no CSRF token because no cookie is involved.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections import defaultdict, deque

from fastapi import HTTPException, Request

from govmedia.store.users import ROLES, authenticate

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


def current_user(request: Request) -> tuple[str, str] | None:
    """(username, role) from the session or HTTP Basic credentials."""
    user = request.session.get("user") if "session" in request.scope else None
    if user:
        return user["name"], user["role"]
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        limiter: LoginLimiter = request.app.state.limiter
        if limiter.blocked(client_address(request)):
            raise HTTPException(429, "登录失败次数过多，请稍后再试")
        with request.app.state.store.read() as con:
            role = authenticate(con, name, password)
        if role is None:
            limiter.failed(client_address(request))
            return None
        request.state.basic_auth = True
        return name, role
    return None


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


def require_role(request: Request, role: str, csrf: str | None = None, *, check: bool = True) -> str:
    """The username when the request may act as `role`; else 401 (nobody) or 403 (too small a role)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "请先登录")
    name, have = user
    if RANK.get(have, -1) < RANK[role]:
        raise HTTPException(403, f"需要{role}权限")
    if check:
        check_csrf(request, csrf if csrf is not None else request.headers.get("x-csrf-token"))
    return name


def may_read(request: Request) -> bool:
    return not request.app.state.require_login or current_user(request) is not None
