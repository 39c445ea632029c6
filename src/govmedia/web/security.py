"""The site's defences that sit around every request (pure ASGI middleware) and the small rules
the routes share:

- `SecurityHeaders`: CSP without inline scripts, no framing, nosniff, Referrer-Policy, and the
  `Secure` flag on cookies when the request came over HTTPS (or `GOVMEDIA_SECURE_COOKIES=1`).
- `BodyGuard`: a request body that is not a form or an upload (the API's JSON) is bounded in size
  and nesting, so `[[[[…` 100,000 deep answers 400 instead of a RecursionError.
- `UploadGuard`: a form or an upload is bounded in size before it is parsed (413 with a message).
- `SessionCheck`: a signed-in cookie is honoured only while its session version matches the
  user's (`store.users`); a revoked one is cleared before the page cache or a route sees it.
- `client_address`: the peer, or `X-Forwarded-For` only when the peer is a trusted proxy
  (`GOVMEDIA_TRUSTED_PROXIES`); `safe_next`: where a sign-in may lead (paths on this site only).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import threading
from functools import lru_cache
from urllib.parse import urlsplit

from anyio import to_thread

from govmedia.core.errors import UserError
from govmedia.store.users import session_state

CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       # Styles may be inline: the charts' tooltips, Swagger UI and the report's own stylesheet set them.
       "style-src 'self' 'unsafe-inline'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
REVOKED = "govmedia.revoked"  # scope key: the request carried a session that has been ended
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32


# --------------------------------------------------------------------------- who is asking


@lru_cache(maxsize=8)
def _parse_proxies(value: str) -> tuple:
    networks = []
    for item in value.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise UserError(f"环境变量 GOVMEDIA_TRUSTED_PROXIES 中的 {item!r} 不是 IP 地址或网段；"
                            "请写成逗号分隔的地址，如 127.0.0.1,10.0.0.0/8") from exc
    return tuple(networks)


def trusted_proxies() -> tuple:
    """The proxies whose X-Forwarded-For / X-Forwarded-Proto we believe; none by default."""
    return _parse_proxies(os.environ.get("GOVMEDIA_TRUSTED_PROXIES", ""))


def _trusted(host: str | None, proxies: tuple) -> bool:
    if not host or not proxies:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def scope_client(scope) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address
    in X-Forwarded-For that is not a trusted proxy (anyone can write the header; only the proxy's
    own entry can be believed)."""
    peer = scope.get("client")[0] if scope.get("client") else "unknown"
    proxies = trusted_proxies()
    if not _trusted(peer, proxies):
        return peer
    forwarded = [a.strip() for a in (_header(scope, b"x-forwarded-for") or "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address
    return forwarded[0] if forwarded else peer


def client_address(request) -> str:
    return scope_client(request.scope)


def is_https(scope) -> bool:
    if os.environ.get("GOVMEDIA_SECURE_COOKIES", "").strip().lower() in ("1", "true", "yes"):
        return True
    if scope.get("scheme") in ("https", "wss"):
        return True
    peer = scope.get("client")[0] if scope.get("client") else None
    if _trusted(peer, trusted_proxies()):
        return (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower() == "https"
    return False


_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, else "/". Refuses `//host`, `/\\host`,
    `https://…`, `javascript:` and anything with whitespace or control characters (browsers drop
    tabs and newlines, so `/\\t/host` would become `//host`)."""
    if not value or not value.startswith("/") or value.startswith("//") or _UNSAFE.search(value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


# --------------------------------------------------------------------------- middleware


async def _send_text(scope, send, status: int, detail: str, extra: list | None = None) -> None:
    """`detail` as the API's JSON or as plain text, with any `extra` headers."""
    if scope["path"].startswith("/api/"):
        body, kind = json.dumps({"detail": detail}, ensure_ascii=False).encode(), b"application/json"
    else:
        body, kind = detail.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Outermost: every answer (pages, the API, static files, cached pages, errors) gets the headers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = is_https(scope)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in HEADERS if n not in present]
                if secure:
                    headers = [(n, v + b"; secure") if n.lower() == b"set-cookie" and b"; secure" not in v.lower()
                               else (n, v) for n, v in headers]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    text = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', body)
    depth = deepest = 0
    for char in re.sub(rb"[^\[\]{}]", b"", text):
        if char in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BodyGuard:
    """Bodies other than forms and uploads (the API's JSON) are read here, at most MAX_JSON_BYTES,
    and refused with 400 when nested deeper than MAX_JSON_DEPTH; the app gets the bytes replayed."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        kind = (_header(scope, b"content-type") or "").lower()
        if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            await self.app(scope, receive, send)  # forms and uploads: bounded by UploadGuard
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                await _send_text(scope, send, 413, f"请求内容超过 {MAX_JSON_BYTES // 1024} KB 上限；"
                                                   "上传文件请用导入表单或 /api/v1/imports")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > MAX_JSON_DEPTH:
            await _send_text(scope, send, 400, f"请求内容嵌套超过 {MAX_JSON_DEPTH} 层；请按接口文档 /api/v1/docs 发送数据")
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


FORM_MARGIN = 1024 * 1024  # a multipart body's boundaries, part headers and small fields besides the file
MAX_FORM_BYTES = 1024 * 1024  # a form without a file (sign-in, the data forms)


def body_limit(scope) -> tuple[int, str] | None:
    """How many bytes a form's body may have, and what to say when it has more; None: not a form
    (BodyGuard bounds those)."""
    from govmedia.ingest.upload import max_city_bytes, max_upload_bytes, size_text

    kind = (_header(scope, b"content-type") or "").lower()
    if kind.startswith("multipart/form-data"):
        if scope["path"] == "/city":
            limit = max_city_bytes()
            return limit + FORM_MARGIN, (f"上传的表格超过 {size_text(limit)} 上限；城市指数表格每个城市一行，"
                                         "请检查是否选错了文件，或删去多余的列和行后再上传")
        limit = max_upload_bytes()
        return limit + FORM_MARGIN, (f"上传的文件超过 {size_text(limit)} 上限；请拆分后分批上传"
                                     "（如按月份或按账号拆成几个文件，或分成几个压缩包）")
    if kind.startswith("application/x-www-form-urlencoded"):
        return MAX_FORM_BYTES, f"表单内容超过 {size_text(MAX_FORM_BYTES)} 上限；请删减填写的内容后再提交"
    return None


class UploadGuard:
    """Forms and uploads are bounded before Starlette parses them (it spools a whole upload to a
    temporary file first): a Content-Length over the limit is answered 413 without reading a byte;
    a body without one (chunked) is counted as the app reads it and cut off at the limit.

    It sits inside the session middleware so that its page is the site's error page; `answer`
    makes that page (or the API's JSON) from the request, the status and the message."""

    def __init__(self, app, answer):
        self.app = app
        self.answer = answer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        bound = body_limit(scope)
        if bound is None:
            await self.app(scope, receive, send)
            return
        limit, said = bound
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            from starlette.requests import Request

            await self.answer(Request(scope, receive), 413, said)(scope, receive, send)
            return
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI passes an HTTPException raised while reading the body on to the app's
                # handlers: the same page or JSON as above.
                from fastapi import HTTPException

                raise HTTPException(413, said)
            return message

        await self.app(scope, counted, send)


class SessionRegistry:
    """Each signed-in user's (role, session version) as the store has it, re-read whenever any
    process changed someone's sessions (`<db>.sessions`), so a check costs a file read."""

    def __init__(self, store):
        self.store = store
        self._known: dict[str, tuple[str, int] | None] = {}
        self._stamp = -1
        self._lock = threading.Lock()

    def cached(self, name: str):
        stamp = self.store.access.sessions_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._known.clear()
                self._stamp = stamp
            return stamp, self._known.get(name, False)

    def load(self, name: str, stamp: int) -> tuple[str, int] | None:
        with self.store.read() as con:
            state = session_state(con, name)
        with self._lock:
            if stamp == self._stamp:  # read under the stamp seen before the read: never newer than the rows
                self._known[name] = state
        return state


def session_valid(user, state) -> bool:
    return (isinstance(user, dict) and state is not None and user.get("role") == state[0]
            and user.get("sv") == state[1])


class SessionCheck:
    """Just inside the session middleware: a cookie whose user was signed out, changed, deactivated
    or had its sessions ended is emptied (the response deletes it), so the request is anonymous."""

    def __init__(self, app, registry: SessionRegistry):
        self.app = app
        self.registry = registry

    async def __call__(self, scope, receive, send):
        session = scope.get("session") if scope["type"] == "http" else None
        user = session.get("user") if session else None
        if user:
            name = user.get("name") if isinstance(user, dict) else None
            stamp, state = self.registry.cached(name) if name else (0, None)
            if state is False:
                try:
                    state = await to_thread.run_sync(self.registry.load, name, stamp)
                except UserError:
                    # Too many requests at once for the store: the client may retry (not a server fault).
                    await _send_text(scope, send, 429, "数据库正忙，暂时无法确认登录状态；请稍后刷新页面",
                                     [(b"retry-after", b"5")])
                    return
            if not session_valid(user, state):
                session.clear()
                scope[REVOKED] = True
        await self.app(scope, receive, send)
