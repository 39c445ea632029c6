"""A whole-page cache for anonymous readers (pure ASGI, in front of everything else).

Published rankings are read far more than they change. A GET without a session cookie for a
public page is answered from memory while the store's version is unchanged; any write through
the app bumps the version. Responses that set a cookie are never cached.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict

CACHEABLE_PREFIXES = ("/rankings", "/accounts/", "/compare", "/methodology")
SESSION_COOKIE = b"govmedia_session="


class PageCache:
    def __init__(self, app, store, size: int = 2048):
        self.app = app
        self.store = store
        self.size = size
        self._pages: OrderedDict[tuple, tuple[int, list, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[tuple, list] = {}  # key -> [lock, requests using it]

    def _cacheable(self, scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        if getattr(scope.get("app"), "state", None) is not None and scope["app"].state.require_login:
            return False
        path = scope["path"]
        if not (path == "/" or path.startswith(CACHEABLE_PREFIXES)) or path.endswith((".csv", ".xlsx")):
            return False
        for name, value in scope.get("headers", ()):
            if name in (b"cookie", b"authorization") and (name == b"authorization" or SESSION_COOKIE in value):
                return False
        return True

    async def __call__(self, scope, receive, send):
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""), self.store.version)
        if await self._answer(key, send):
            return
        # Single flight: after a write, many readers miss the same page at once; one renders it
        # and the others are answered with its bytes.
        with self._lock:
            flight = self._flights.setdefault(key, [asyncio.Lock(), 0])
            flight[1] += 1
        try:
            async with flight[0]:
                if not await self._answer(key, send):
                    await self._render(key, scope, receive, send)
        finally:
            with self._lock:
                flight[1] -= 1
                if not flight[1]:
                    self._flights.pop(key, None)

    async def _answer(self, key, send) -> bool:
        with self._lock:
            hit = self._pages.get(key)
        if hit is None:
            return False
        status, headers, body = hit
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _render(self, key, scope, receive, send) -> None:
        captured: dict = {"body": []}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        headers = captured.get("headers", [])
        if captured.get("status") == 200 and not any(name == b"set-cookie" for name, _ in headers):
            with self._lock:
                self._pages[key] = (200, headers, b"".join(captured["body"]))
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
