"""What a route may declare it needs (FastAPI dependencies): the store, the methodology, the user,
the guards. Modelled on the FastAPI full-stack template's api/deps.py.

The store is handed out in two shapes. `Reads` opens cursors and uses the cache; it has no way to
write. `Writes` (a `Reads` with `.user` and `.write()`) is only produced by a role guard,
`require("editor")` or `require("admin")`, which answers 401 to nobody, 403 to too small a role and
checks the CSRF token of cookie sessions. A route that declares no role is read-only by
construction; tests/test_web_routes.py walks the routes to keep it so.

What an anonymous visitor may read is one rule (docs/security.md): rankings, account scores,
methodology and public documents. Inspection results, findings, alerts, suspicion marks and
anomaly lists need a signed-in user: their routes declare `viewer_reads`, and public pages that
carry marks declare `marks` and show them only to a signed-in reader. tests/test_web_access.py
walks the routes to keep it so.

Sign-in is the one write nobody is signed in for: `SignIn` authenticates and records the login
in the audit log, and can do nothing else.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import duckdb
from fastapi import Depends, HTTPException, Query, Request

from govmedia.core.errors import FieldError, UserError
from govmedia.core.time import Month, Period
from govmedia.ranking import FLAG_COLUMNS
from govmedia.ranking.overview import default_period
from govmedia.store.freshness import stale_months
from govmedia.store.users import ROLE_NAMES, audit, check_login, end_sessions
from govmedia.web.auth import RANK, LoginLimiter, check_csrf, client_address
from govmedia.web.security import REVOKED
from govmedia.web.cache import page_months
from govmedia.web.state import Store

MONTH = r"^\d{4}-\d{2}$"

# How each interface names a field of a FieldError (govmedia.core.errors).
API_NAMES = {"period.start": "from", "period.end": "to", "period": "from/to", "month": "month",
             "platform": "platform", "category": "category", "account": "account", "account_id": "account_id",
             "name": "name", "file": "file", "check_at": "at"}
PAGE_NAMES = {"period.start": "起始月份", "period.end": "结束月份", "period": "期间", "file": "文件",
              "organization": "主办单位", "region": "地区", "followers": "粉丝数", "case_id": "案例编号",
              "title": "标题", "score": "得分", "account_ids": "账号", "unit": "单位", "text": "简介",
              "campaign_id": "活动编号", "start": "开始日期", "end": "结束日期", "hashtags": "话题",
              "post_ids": "相关内容"}


# Where on the site each step a library error asks for is taken (core.errors.STEP_LABELS).
WEB_STEPS = {"score": "在「数据」页重新计算这些月份的分数", "register": "在「数据 · 账号名录」中登记该账号",
             "check": "在「合规检查」页运行该检查点的检查"}


# A file on the server, as a library message may name it ("/srv/…/uploads/123/名录.csv: …").
_SERVER_PATH = re.compile(r"(?<![\w/.])(?:/[^\s/:：，,（）()]+)+/([^\s/:：，,（）()]+)")


def message(exc: UserError, api: bool = False) -> str:
    """The error as the user reads it, the field named the way this interface names it and a file
    by its name only: a reader of the site has no business with the server's folders."""
    return _SERVER_PATH.sub(r"\1", exc.render(API_NAMES if api else PAGE_NAMES, WEB_STEPS))


# --------------------------------------------------------------------------- the store


class Reads:
    """Read access to the store under the methodology the site runs: cursors and the cache."""

    __slots__ = ("_store", "methodology", "viewer")

    def __init__(self, store: Store, methodology: str | None, viewer: tuple[str, str] | None):
        self._store = store
        self.methodology = methodology  # `govmedia serve --methodology`, else None: the one in force
        self.viewer = viewer  # (name, role) or None

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._store.read() as con:
            yield con

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        return self._store.cached(key, compute)

    def get(self, key: tuple | None, function: Callable[..., Any], *args, **kwargs) -> Any:
        """`function(con, *args, **kwargs)` on a fresh cursor, cached under `key` until the next write."""
        def compute():
            with self.read() as con:
                return function(con, *args, **kwargs)
        return compute() if key is None else self.cached(key, compute)

    @property
    def uploads(self) -> Path:
        return self._store.upload_dir

    @property
    def path(self) -> Path:
        """The store's file, for a process of the site's own that opens it (an upload's importer)."""
        return self._store.path


class Writes(Reads):
    """Reads plus writes, in the name of the signed-in `user` (what the audit log records)."""

    __slots__ = ("user",)

    def __init__(self, store: Store, methodology: str | None, viewer: tuple[str, str]):
        super().__init__(store, methodology, viewer)
        self.user = viewer[0]

    @contextmanager
    def write(self, data: bool = True, *, declared: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write unit; `data=False` for bookkeeping that changes nothing a page shows; `declared`
        for a unit whose store functions say which months they changed (imports, rescores)."""
        with self._store.write(data, declared=declared) as con:
            yield con


def _store(request: Request) -> Store:
    return request.app.state.store


def methodology(request: Request) -> str | None:
    """The methodology file the server was started with; None means the one in force in the store."""
    return request.app.state.methodology_path


def check_rules(request: Request) -> str | None:
    return request.app.state.check_rules


def job_runner(request: Request):
    """The app's job runner (`web/jobs.py`): submitting needs a role guard's `Writes` besides."""
    return request.app.state.jobs


# --------------------------------------------------------------------------- the user


def _basic_user(request: Request, header: str) -> tuple[str, str] | None:
    try:
        name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    limiter: LoginLimiter = request.app.state.limiter
    client = client_address(request)
    wait = limiter.blocked(name, client)
    if wait:
        raise HTTPException(429, f"登录失败次数过多，请 {int(wait) + 1} 秒后再试", headers={"Retry-After": str(int(wait) + 1)})
    with _store(request).read() as con:
        found = check_login(con, name, password)
    if found is None:
        limiter.failed(name, client)
        return None
    limiter.succeeded(name)
    request.state.basic_auth = True
    return name, found[0]


def current_user(request: Request) -> tuple[str, str] | None:
    """(username, role) from the session or HTTP Basic credentials; worked out once per request."""
    if "govmedia_user" in request.scope:
        return request.scope["govmedia_user"]
    # A cookie's session was checked against the store by `security.SessionCheck` (a revoked one is emptied).
    user = request.session.get("user") if "session" in request.scope else None
    found = None
    if isinstance(user, dict) and user.get("name") and user.get("role"):
        found = user["name"], user["role"]
    else:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            found = _basic_user(request, header)
    request.scope["govmedia_user"] = found
    return found


def signed_out(request: Request, why: str | None = None) -> HTTPException:
    """401 for a request without a user; says so when its session was ended rather than never there."""
    if request.scope.get(REVOKED):
        return HTTPException(401, "登录已失效（已退出登录、角色或密码已变更、账号已停用或管理员结束了会话）；请重新登录")
    return HTTPException(401, why or "请先登录")


def optional_user(request: Request) -> tuple[str, str] | None:
    """The user for showing a page: None rather than an error (e.g. while rate-limited)."""
    try:
        return current_user(request)
    except HTTPException:
        return None


# --------------------------------------------------------------------------- the guards


def reads(request: Request, user: Optional[tuple] = Depends(current_user)) -> Reads:
    """The read guard: anyone on a public site, the signed-in on a private one."""
    if request.app.state.require_login and user is None:
        raise signed_out(request)
    return Reads(_store(request), methodology(request), user)


def open_reads(request: Request) -> Reads:
    """Reads without any guard: the health check."""
    return Reads(_store(request), methodology(request), None)


def signed_in(request: Request, user: Optional[tuple] = Depends(current_user)) -> Reads:
    """Any signed-in user, whatever the site's setting (report downloads)."""
    if user is None:
        raise signed_out(request)
    return Reads(_store(request), methodology(request), user)


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with a form (field `csrf_token`) or in the `x-csrf-token` header."""
    kind = request.headers.get("content-type", "")
    if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        value = (await request.form()).get("csrf_token")
        if isinstance(value, str) and value:
            return value
    return request.headers.get("x-csrf-token")


class require:
    """The role guard: `require("editor")` yields `Writes`; with `write=False` only `Reads` of a
    route that needs the role to look (the data page, the audit log, rejects files)."""

    def __init__(self, role: str, *, write: bool = True, csrf: bool | None = None, why: str | None = None):
        if role not in RANK:
            raise ValueError(f"unknown role {role!r}")
        self.role = role
        self.write = write
        self.csrf = write if csrf is None else csrf  # a form that only starts reading work still needs its token
        self.why = why  # the 401's words, when "请先登录" alone would not say why

    def __repr__(self) -> str:
        return f"require({self.role!r}, write={self.write}, csrf={self.csrf})"

    def __call__(self, request: Request, user: Optional[tuple] = Depends(current_user),
                 csrf: Optional[str] = Depends(submitted_csrf)) -> Reads:
        if user is None:
            raise signed_out(request, self.why)
        if RANK.get(user[1], -1) < RANK[self.role]:
            raise HTTPException(403, f"此操作需要「{ROLE_NAMES[self.role]}」或更高权限，当前账号是「"
                                     f"{ROLE_NAMES.get(user[1], user[1])}」；如需权限请联系管理员")
        if self.csrf:
            check_csrf(request, csrf)  # HTTP Basic carries no cookie and needs no token
        if not self.write:
            return Reads(_store(request), methodology(request), user)
        return Writes(_store(request), methodology(request), user)


editor = require("editor")
admin = require("admin")
editor_reads = require("editor", write=False)
admin_reads = require("admin", write=False)
# Any signed-in user posting a form that starts work which only reads (a report job).
reader_form = require("viewer", write=False, csrf=True)


# --------------------------------------------------------------------------- inspection and marks

INSPECTION_ROLE = "viewer"
SIGN_IN_TO_SEE = ("合规检查结果、内容问题、预警和疑似刷量标记只对已登录用户开放；请先登录"
                  "（网页点右上角「登录」，接口请用 HTTP Basic 提供用户名和密码）")
# The guard of every route that serves inspection results, findings, alerts or anomaly lists.
viewer_reads = require(INSPECTION_ROLE, write=False, why=SIGN_IN_TO_SEE)


def sees_inspection(user: tuple[str, str] | None) -> bool:
    """Whether this reader may see inspection results and suspicion marks: any signed-in user."""
    return user is not None and RANK.get(user[1], -1) >= RANK[INSPECTION_ROLE]


class Marks:
    """The ⚠ marks (inflation suspicion) of a public page, as this reader may see them: all of them
    for a signed-in user, none for an anonymous visitor. The rows, columns and explanations handed
    back are new objects: what the store's cache keeps is shared by every reader."""

    __slots__ = ("shown",)

    def __init__(self, shown: bool):
        self.shown = shown

    def rows(self, rows: list[dict]) -> list[dict]:
        if self.shown:
            return rows
        return [{k: v for k, v in r.items() if k not in FLAG_COLUMNS} for r in rows]

    def row(self, row: dict | None) -> dict | None:
        return row if self.shown or row is None else self.rows([row])[0]

    def columns(self, columns) -> tuple:
        return tuple(c for c in columns if self.shown or c not in FLAG_COLUMNS)

    def explanation(self, explanation):
        """An `Explanation` (scoring.explain) without its flagged posts."""
        if self.shown or explanation is None:
            return explanation
        return dataclasses.replace(explanation, flagged=[], flagged_ids=())


def marks(user: Optional[tuple] = Depends(current_user)) -> Marks:
    """What a public page that carries ⚠ marks may show this reader (docs/security.md)."""
    return Marks(sees_inspection(user))


class SignIn:
    """What the sign-in and sign-out forms may do: check a password, record the login, and end the
    signed-in user's own sessions on logout. Nothing else."""

    __slots__ = ("_store",)

    def __init__(self, store: Store):
        self._store = store

    def authenticate(self, username: str, password: str) -> tuple[str, int] | None:
        """(role, session version) when the password is right."""
        with self._store.read() as con:
            return check_login(con, username, password)

    def record_login(self, username: str, client: str) -> None:
        with self._store.write(data=False) as con:  # an audit row changes no page
            audit(con, username, "login", {"client": client})

    def sign_out(self, username: str) -> None:
        """Every cookie of the user stops working, also one copied elsewhere."""
        with self._store.write(data=False) as con:
            end_sessions(con, username, actor=username, action="logout")


def sign_in(request: Request) -> SignIn:
    return SignIn(_store(request))


# --------------------------------------------------------------------------- periods


def api_period(start: str = Query(alias="from", pattern=MONTH, description="起始月份 YYYY-MM"),
               end: str = Query(alias="to", pattern=MONTH, description="结束月份 YYYY-MM（含）")) -> Period:
    """A required period, refused (400) before any work when out of bounds."""
    return Period.parse(start, end)


def api_month(month: str = Query(pattern=MONTH, description="月份 YYYY-MM")) -> Month:
    return Month.parse(month)


def page_period(request: Request, store: Reads = Depends(reads), start: Optional[str] = Query(None, alias="from"),
                end: Optional[str] = Query(None, alias="to")) -> Period | None:
    """The period asked for, else the default one (None when nothing is scored yet).

    The page cache learns that the page shows this period's months, the previous period's (rank
    changes) and the same months a year earlier (year-on-year figures), and no others: a write to
    other months leaves it cached. The default period changes only with a write that can change
    anything (a month's first scores)."""
    if start or end:  # one month given alone is that month; a wrong one is said, never ignored
        period = Period.parse(start or end, end or start)
    else:
        found = store.get(("default_period",), default_period)
        period = Period.parse(*found) if found else None
    if period is not None:
        page_months(request, [*period.months, *period.previous().months, *period.last_year().months])
        stale = {m: since for m, since in store.get(("stale_months",), stale_months).items() if m in period}
        if stale:
            request.state.stale = stale  # render() shows it on the page
    return period
