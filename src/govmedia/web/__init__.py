"""The web platform: leaderboards, account pages, methodology, data management, REST API.

Entry points: `create_app(db_path)` (an ASGI app) and `serve(db_path, host, port)`.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import duckdb
from anyio import to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from govmedia.core.errors import UserError, store_write_failed, write_failed
from govmedia.store.reads import healthy
from govmedia.ingest.upload import max_city_bytes, max_upload_bytes
from govmedia.web.auth import LoginLimiter, RateLimiter, city_per_minute
from govmedia.web.cache import PageCache, Shelf
from govmedia.web.security import BodyGuard, SecurityHeaders, SessionCheck, SessionRegistry, UploadGuard
from govmedia.web.state import Store, secret_key


def create_app(db_path: str | Path, *, require_login: bool | None = None, methodology: str | Path | None = None,
               secret: str | None = None, login_attempts: int = 5, check_rules: str | Path | None = None,
               watch: str | Path | None = None) -> FastAPI:
    from govmedia.web import account, api, data, public, reports, session
    from govmedia.web import oversight as oversight_web
    from govmedia.web.deps import Reads, message, open_reads
    from govmedia.web.render import error_page, login_redirect

    from govmedia.web.jobs import JobRunner, start_watch

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.jobs.start()  # and mark the jobs a previous process left unfinished interrupted
        watcher = start_watch(app.state.store, Path(watch), app.state.methodology_path) if watch else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            await to_thread.run_sync(app.state.jobs.stop)

    def refusal(request: Request, status: int, detail: str):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=status)
        return error_page(request, status, detail)

    db_path = Path(db_path)
    if watch is not None and not Path(watch).is_dir():
        raise UserError(f"{watch}: 要监视的目录不存在")
    app = FastAPI(
        lifespan=lifespan,
        title="govmedia 政务新媒体传播影响力评估系统 API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below from the site's own files: FastAPI's page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.store = Store(db_path)
    app.state.jobs = JobRunner(app.state.store)
    app.state.require_login = (os.environ.get("GOVMEDIA_REQUIRE_LOGIN", "") in ("1", "true", "yes")
                               if require_login is None else require_login)
    app.state.methodology_path = methodology or os.environ.get("GOVMEDIA_METHODOLOGY") or None
    app.state.limiter = LoginLimiter(attempts=login_attempts)
    app.state.city_limiter = RateLimiter(city_per_minute(), 60.0)
    max_upload_bytes(), max_city_bytes()  # a malformed setting is said at start, not on the first upload
    app.state.check_rules = check_rules or os.environ.get("GOVMEDIA_CHECK_RULES") or None
    # The page cache answers readers without a session in front of everything, and signed-in readers
    # just inside the session middleware (it needs their session); routing, dependencies and
    # rendering only run on a miss. Both layers share one shelf of pages.
    app.state.page_cache = {}  # the page cache's counters
    shelf = Shelf(stats=app.state.page_cache)
    app.add_middleware(PageCache, store=app.state.store, shelf=shelf, session=True)
    # Forms and uploads bounded before they are parsed; inside the session so that a refusal is the
    # site's own error page.
    app.add_middleware(UploadGuard, answer=refusal)
    # A revoked session is emptied before the inner cache or a route can honour it.
    app.add_middleware(SessionCheck, registry=SessionRegistry(app.state.store))
    app.add_middleware(SessionMiddleware, secret_key=secret or secret_key(db_path), session_cookie="govmedia_session",
                       same_site="lax", max_age=8 * 3600)
    app.add_middleware(PageCache, store=app.state.store, shelf=shelf, session=False)
    app.add_middleware(BodyGuard)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, cached or not
    static = resources.files("govmedia.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(public.router)
    app.include_router(account.router)
    app.include_router(data.router)
    app.include_router(session.router)
    app.include_router(reports.router)
    app.include_router(oversight_web.router)
    app.include_router(oversight_web.api_router)

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs():
        return HTMLResponse(API_DOCS)

    @app.get("/healthz", include_in_schema=False)
    def healthz(store: Reads = Depends(open_reads)):
        """200 "ok"; 200 "degraded: …" while it answers but a write may fail (low disk, an uploads
        folder it cannot write); 503 when the store cannot be read. For monitors: English words."""
        try:
            readable = store.get(None, healthy)
        except (UserError, OSError, duckdb.Error):
            readable = False
        if not readable:
            return PlainTextResponse("store unreadable", status_code=503)
        problems = degraded(db_path, store.uploads)
        if problems:
            return PlainTextResponse("degraded: " + "; ".join(problems))
        return PlainTextResponse("ok")

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        status = getattr(exc, "http_status", 400)  # WriteFailed: the machine, not the input
        retry = getattr(exc, "retry_after", None)  # StoreBusy: a busy store, not a wrong request
        if request.url.path.startswith("/api/"):
            response = JSONResponse({"detail": message(exc, api=True)}, status_code=status)
        else:
            response = error_page(request, status, message(exc))
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response

    # A write the disk or the store refused: one Chinese sentence; nothing is held open, so the
    # next request opens the store afresh (`store/access.py`).
    @app.exception_handler(OSError)
    async def os_error(request: Request, exc: OSError):
        return await user_error(request, write_failed(exc, "操作未完成"))

    @app.exception_handler(duckdb.Error)
    async def store_error(request: Request, exc: duckdb.Error):
        return await user_error(request, store_write_failed(exc))

    # Starlette's own errors (an unknown address, a wrong method) carry English details: said in Chinese.
    framework_details = {404: "没有这个页面：地址可能有误，请从导航进入", 405: "不支持这种请求方式",
                         400: "请求内容无法解析（表单或上传的内容不完整或格式不对）；请刷新页面后重新选择文件提交"}
    parse_errors = ("Not Found", "Method Not Allowed", "There was an error parsing the body")

    @app.exception_handler(StarletteHTTPException)  # also FastAPI's HTTPException, its subclass
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        api = request.url.path.startswith("/api/")
        if not isinstance(exc, HTTPException) or detail in parse_errors:
            detail = "没有这个接口：地址可能有误，接口列表见 /api/v1/docs" if api and exc.status_code == 404 else \
                framework_details.get(exc.status_code, detail)
        if api or exc.status_code == 429 and request.method != "GET":
            return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 401 and request.method == "GET":
            return login_redirect(request)
        return error_page(request, exc.status_code, str(detail))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        # Whatever went wrong, the reader gets a page (or a detail) in Chinese, never a traceback.
        text = "服务器出错了，请稍后再试；如果一再出现，请联系管理员（错误已记录在服务器日志中）"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": text}, status_code=500)
        return error_page(request, 500, text)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        said = "；".join(validation_messages(exc))
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": said, "errors": jsonable_errors(exc)}, status_code=422)
        return error_page(request, 400, said)

    return app


def degraded(db_path: Path, uploads: Path) -> list[str]:
    """What would make the next write fail although reads work."""
    import shutil

    problems = []
    try:
        minimum = float(os.environ.get("GOVMEDIA_MIN_FREE_MB", "200")) * 1024 * 1024
    except ValueError:
        minimum = 200 * 1024 * 1024
    try:
        free = shutil.disk_usage(db_path.parent).free
        if free < minimum:
            problems.append(f"disk space low ({free // (1024 * 1024)} MB free)")
    except OSError:
        problems.append("disk space unknown")
    folder = uploads if uploads.exists() else db_path.parent
    if not os.access(folder, os.W_OK):
        problems.append("uploads folder not writable")
    return problems


# Parameters as users name them, for messages about a wrong address or form.
PARAMETER_NAMES = {
    "from": "起始月份", "to": "结束月份", "month": "月份", "platform": "平台", "category": "类别", "job_id": "任务编号",
    "at": "检查点", "account": "账号", "format": "格式", "file": "文件", "username": "用户名", "password": "密码",
    "csrf_token": "表单令牌", "quarter": "季度", "kind": "类型", "wait": "是否等待", "confirm": "确认",
}


def validation_messages(exc: RequestValidationError) -> list[str]:
    """Pydantic's English errors as one Chinese sentence each, naming the parameter as users know it."""
    out = []
    for error in exc.errors():
        where = error.get("loc", ())
        name = str(where[-1]) if where else ""
        label = PARAMETER_NAMES.get(name, name)
        kind = str(error.get("type", ""))
        value = error.get("input")
        if kind == "missing":
            out.append(f"缺少「{label}」")
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            out.append(f"「{label}」应为整数，而不是 {value!r}")
        elif kind in ("float_parsing", "float_type"):
            out.append(f"「{label}」应为数字，而不是 {value!r}")
        elif kind in ("bool_parsing", "bool_type"):
            out.append(f"「{label}」应为 true 或 false，而不是 {value!r}")
        elif kind == "string_pattern_mismatch" and name in ("from", "to", "month"):
            out.append(f"「{label}」应写成 YYYY-MM（如 2020-02），而不是 {value!r}")
        elif kind in ("string_too_long", "too_long"):
            out.append(f"「{label}」太长")
        else:
            out.append(f"「{label}」的值不正确：{value!r}")
    return out or ["参数不正确"]


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    """Each mistake for a program (where, what kind) with its message in Chinese, as `detail` says it."""
    return [{"loc": list(e.get("loc", ())), "msg": said, "type": str(e.get("type"))}
            for e, said in zip(exc.errors(), validation_messages(exc))]


API_DOCS = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>govmedia API 文档</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec="/api/v1/openapi.json"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""

SERVE_ENV = "GOVMEDIA_SERVE_OPTIONS"


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8000, *, workers: int = 1, **options) -> None:
    """Run the site. With several `workers` (processes), each answers requests with its own caches
    and job runner; they share the store like any other processes (`store/access.py`), the session
    key (made here, before they start) and one watcher (the first to take `<db>.watch`)."""
    import json

    import uvicorn

    if workers <= 1:
        app = create_app(db_path, **options)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    Store(Path(db_path))  # create or upgrade the store once, not in every worker at the same time
    options.setdefault("secret", secret_key(Path(db_path)))
    os.environ[SERVE_ENV] = json.dumps({"db_path": str(db_path), **{k: (str(v) if isinstance(v, Path) else v)
                                                                   for k, v in options.items()}})
    uvicorn.run("govmedia.web:app_from_environment", factory=True, workers=workers, host=host, port=port,
                log_level="warning", access_log=False)


def app_from_environment() -> FastAPI:
    """The app of one worker process of `serve(workers=N)`."""
    import json

    options = json.loads(os.environ[SERVE_ENV])
    return create_app(options.pop("db_path"), **options)
