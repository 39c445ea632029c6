"""A whole-page cache for the public pages (pure ASGI, in two layers around the session middleware).

Published rankings are read far more than they change. A GET of a public page is answered from
memory while no data write since it was rendered touched what it shows:

- Every data write records which months it changed (`store.access`, `<db>.changes`), whichever
  process made it. A page that showed a period (`page_months`, set by the period dependency)
  stays valid until a write touches one of its months; any other page, until any data write.
- Anonymous readers share one copy per page. Signed-in readers share one copy per page and role:
  it is rendered with markers in place of the personal parts (the user's name, the CSRF token of
  the sign-out form), which are filled in for each reader. So a signed-in page costs a lookup and
  two replacements, not a render. HTTP Basic requests and responses that change the session are
  never cached.
- Concurrent misses of one page render it once (single flight); while that render runs, the
  others are answered with the copy the write retired (stale while revalidating), so a write
  in progress delays only the one reader that renders the page again.
"""

from __future__ import annotations

import asyncio
import html
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

from govmedia.store.access import EVERYTHING

CACHEABLE_PREFIXES = ("/rankings", "/accounts/", "/compare", "/methodology")
PERSONAL = "govmedia.personal"  # scope key: render the personal parts as markers
MONTHS = "govmedia.months"
RENDERING = "govmedia.rendering"  # scope key: a layer of the cache is rendering this page  # scope key: the months the page shows (set while it is rendered)
SESSION_COOKIE = b"govmedia_session="
USER_MARK = "__govmedia_user_7d1f__"
CSRF_MARK = "__govmedia_csrf_7d1f__"


def page_months(request, months) -> None:
    """Record that the page being rendered shows (only) these months' data."""
    request.scope.setdefault(MONTHS, set()).update(months)


@dataclass
class _Page:
    version: int  # the store's version when it was rendered (or last found still valid)
    months: frozenset[str] | None  # what it shows; None: anything
    status: int
    headers: list
    body: bytes


def _budget() -> int:
    try:
        return int(float(os.environ.get("GOVMEDIA_PAGE_CACHE_MB", "64")) * 1024 * 1024)
    except ValueError:
        return 64 * 1024 * 1024


class Shelf:
    """The cached pages, shared by the two layers of the cache."""

    def __init__(self, budget: int | None = None, stats: dict | None = None):
        self.stats = stats if stats is not None else {}  # "hits", "renders": for tests and benchmarks
        self.budget = _budget() if budget is None else budget
        self.pages: OrderedDict[tuple, _Page] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
        self.flights: dict[tuple, list] = {}  # key -> [lock, requests using it]


class PageCache:
    """One layer of the cache. The outer layer (`session=False`, in front of everything) answers
    requests without a session cookie before anything else runs; the inner one (just inside the
    session middleware) answers signed-in readers, whose session it needs."""

    def __init__(self, app, store, shelf: Shelf, session: bool):
        self.app = app
        self.store = store
        self.shelf = shelf
        self.session = session
        self.stats = shelf.stats
        self.budget = shelf.budget
        self._pages = shelf.pages
        self._lock = shelf.lock
        self._flights = shelf.flights

    # ------------------------------------------------------------------ who may be served

    def _audience(self, scope) -> tuple | None:
        """("anonymous",) or ("signed-in", role, name, csrf) for a cacheable request, else None."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get(RENDERING):
            return None  # (a page the outer layer is rendering passes the inner one)
        path = scope["path"]
        if not (path == "/" or path.startswith(CACHEABLE_PREFIXES)) or path.endswith((".csv", ".xlsx")):
            return None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return None
            if not self.session and name == b"cookie" and SESSION_COOKIE in value:
                return None  # for the inner layer, once the session is read
        session = (scope.get("session") or {}) if self.session else {}
        user = session.get("user")
        if not user:
            app = scope.get("app")
            if getattr(getattr(app, "state", None), "require_login", False):
                return None  # the guard sends the anonymous to sign in
            return ("anonymous",)
        csrf = session.get("csrf")
        if not isinstance(user, dict) or not csrf or not user.get("name") or not user.get("role"):
            return None
        return ("signed-in", user["role"], user["name"], csrf)

    # ------------------------------------------------------------------ the cache

    def _valid(self, key: tuple, version: int) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
        if page is None:
            return None
        if page.version != version:
            changed = self.store.changed_since(page.version, version)
            if changed == EVERYTHING or (changed and (page.months is None or page.months & changed)):
                return None
            if page.version < version:
                page.version = version  # still what it shows; next time no need to look back
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
        return page

    def _keep(self, key: tuple, page: _Page) -> None:
        size = len(page.body)
        if size > self.budget // 8:
            return
        shelf = self.shelf
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                shelf.bytes -= len(old.body)
            self._pages[key] = page
            shelf.bytes += size
            while shelf.bytes > self.budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                shelf.bytes -= len(dropped.body)

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send):
        audience = self._audience(scope)
        if audience is None:
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""), audience[:2])
        version = self.store.version
        page = self._valid(key, version)
        if page is not None:
            self._count("hits")
            await self._answer(page, audience, send)
            return
        # Single flight: after a write, many readers miss the same page at once; one renders it
        # and the others are answered with its bytes. While that render runs (a render waits for
        # the write in progress, and an import writes in runs for minutes), the others get the
        # copy the write retired instead of waiting: the page as it was a moment ago.
        with self._lock:
            flight = self._flights.setdefault(key, [asyncio.Lock(), 0])
            earlier = self._pages.get(key) if flight[0].locked() else None
            if earlier is None:
                flight[1] += 1
        if earlier is not None:
            self._count("stale")
            await self._answer(earlier, audience, send)
            return
        try:
            async with flight[0]:
                version = self.store.version
                page = self._valid(key, version)
                if page is None:
                    self._count("renders")
                    page = await self._render(key, version, audience, scope, receive, send)
                else:
                    self._count("hits")
                if page is not None:
                    await self._answer(page, audience, send)
        finally:
            with self._lock:
                flight[1] -= 1
                if not flight[1]:
                    self._flights.pop(key, None)

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    async def _answer(self, page: _Page, audience: tuple, send) -> None:
        body, headers = page.body, page.headers
        if audience[0] == "signed-in":
            body = body.replace(USER_MARK.encode(), html.escape(audience[2]).encode()).replace(
                CSRF_MARK.encode(), audience[3].encode())
            headers = [(n, v) for n, v in headers if n != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": page.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _render(self, key, version, audience, scope, receive, send) -> _Page | None:
        """Render through the app. A page worth keeping is returned (and answered by the caller);
        any other response goes straight to the client and None is returned."""
        scope = dict(scope)
        scope[RENDERING] = True
        session_before = dict(scope.get("session") or {})
        if audience[0] == "signed-in":
            scope[PERSONAL] = True
        captured: dict = {"body": []}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status = captured.get("status", 500)
        headers = captured.get("headers", [])
        body = b"".join(captured["body"])
        session_same = dict(scope.get("session") or {}) == session_before
        if status == 200 and session_same and not any(name == b"set-cookie" for name, _ in headers):
            months = scope.get(MONTHS)
            page = _Page(version, frozenset(months) if months is not None else None, status, headers, body)
            self._keep(key, page)
            return page
        if audience[0] == "signed-in":  # a page not kept still carries markers: fill them in
            page = _Page(version, None, status, headers, body)
            await self._answer(page, audience, send)
            return None
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None
