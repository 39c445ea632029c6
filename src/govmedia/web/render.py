"""Templates and what every page shares: rendering with the user, the error page, the sign-in
redirect, the period picker and the CSV/XLSX table download."""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from govmedia.core.text import share
from govmedia.core.time import Period, local_text
from govmedia.core.vocabulary import CATEGORIES, CATEGORY_NAMES, FORM_LABELS, PLATFORM_NAMES, PLATFORMS
from govmedia.export import to_csv, to_xlsx
from govmedia.methodology import DIMENSION_NAMES
from govmedia.ranking.overview import period_choices
from govmedia.store.users import ROLE_NAMES
from govmedia.web.auth import RANK, csrf_token
from govmedia.web.cache import CSRF_MARK, PERSONAL, USER_MARK
from govmedia.web.deps import Reads, optional_user, sees_inspection
from govmedia.web.jobs import IMPORT_FORMAT_LABELS

templates = Jinja2Templates(directory=str(resources.files("govmedia.web").joinpath("templates")))
templates.env.globals.update(PLATFORM_NAMES=PLATFORM_NAMES, CATEGORY_NAMES=CATEGORY_NAMES, PLATFORMS=PLATFORMS,
                             CATEGORIES=CATEGORIES, DIMENSION_NAMES=DIMENSION_NAMES, ROLE_NAMES=ROLE_NAMES)
templates.env.filters["num"] = lambda v, d=0: "" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else f"{v:,}")
templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
templates.env.filters["form_names"] = lambda forms: "、".join(FORM_LABELS.get(f, f) for f in (forms or []))
# An import format as the upload form names it (通用表格, MediaCrawler, …).
templates.env.filters["format_name"] = lambda f: IMPORT_FORMAT_LABELS.get(f, f) if f else ""
templates.env.filters["share"] = share  # 38%, <1%
templates.env.filters["local"] = lambda moment: local_text(moment, seconds=False)  # stored UTC -> Beijing
templates.env.filters["local_seconds"] = lambda moment: local_text(moment)


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    user = optional_user(request)
    context.update(request=request, user=user, can_edit=bool(user and RANK[user[1]] >= RANK["editor"]),
                   is_admin=bool(user and user[1] == "admin"), stale=getattr(request.state, "stale", None),
                   sees_inspection=sees_inspection(user))  # the 合规检查 and 疑似刷量 links (docs/security.md)
    if user:
        context["csrf"] = csrf_token(request)
        if request.scope.get(PERSONAL):  # a page the cache keeps for every user of this role
            context.update(user=(USER_MARK, user[1]), csrf=CSRF_MARK)
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    request.state.stale = None  # a notice about the period of a page that was not shown
    page = render(request, "error.html", status=status, status_code=status, message=message)
    page.headers.update(headers or {})
    return page


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def periods(store: Reads, period: Period | None) -> list[tuple[str, str, str]]:
    """The period picker's choices; the period on screen always among them, even one typed into
    the address bar."""
    choices = store.get(("period_choices",), period_choices)
    if period and not any((s, e) == (period.first, period.last) for s, e, _ in choices):
        return [(period.first, period.last, period.label), *choices]
    return choices


def table_download(rows: list[dict], columns, kind: str, stem: str, sheet: str,
                   headers: dict[str, str] | None = None) -> Response:
    """Rows as a CSV (with a BOM, so that Excel opens it as UTF-8) or XLSX attachment `stem.kind`."""
    name = f"{stem}.{kind}"
    if kind == "csv":
        body = ("\ufeff" + to_csv(rows, columns)).encode("utf-8")
        media_type = "text/csv; charset=utf-8"
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "table.xlsx"
            to_xlsx(rows, columns, path, sheet=sheet, headers=headers)
            body = path.read_bytes()
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
