"""Data management for editors (imports, accounts, cases, campaigns, rescoring) and the audit log
for admins. Each form calls the same library door as its API route; the door validates, writes
and records the audit entry. An upload's import and a rescore run as jobs (`web/jobs.py`): the
form leads to the job's page `/jobs/{id}`, which shows the progress, then the result."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import CASE_CATEGORIES, CATEGORIES, CATEGORY_NAMES, PLATFORM_NAMES, PLATFORMS
from govmedia.ingest.accounts import save_account
from govmedia.ingest.evaluation import CAMPAIGN_LABELS, CASE_LABELS, save_campaign, save_case, saved_text
from govmedia.core.time import Period, local_date, utcnow
from govmedia.ingest import parse_account_option
from govmedia.ingest.upload import import_registry_upload
from govmedia.ranking.overview import default_period, scored_months
from govmedia.reports.settings import (
    EXAMPLE, NUMBER_STYLES, PLACES, SECTIONS, save_settings, split_for_form, stored_settings,
)
from govmedia.store.accounts import account_labels, list_accounts, search_accounts
from govmedia.store.evaluation import list_campaigns, list_cases
from govmedia.store.jobs import FINISHED, recent_jobs
from govmedia.store.reads import recent_batches
from govmedia.store.users import audit_entries, end_sessions, list_users, set_active
from govmedia.web.api import registry_report
from govmedia.web.auth import RANK
from govmedia.web.deps import Reads, Writes, admin, admin_reads, editor, editor_reads, job_runner, message, signed_in
from govmedia.web.jobs import (
    FORMAT_NAMES, IMPORT_FORMAT_LABELS, KIND_NAMES, STATE_NAMES, JobRunner, busy_kinds, job_view, progress_text, start_import, start_score,
)
from govmedia.web.render import render

router = APIRouter(include_in_schema=False)


PAGE_SIZE = 50
TABS = (("import", "/data", "上传与计算"), ("accounts", "/data/accounts", "账号名录"), ("cases", "/data/cases", "创新案例"),
        ("campaigns", "/data/campaigns", "联动宣传"), ("batches", "/data/batches", "导入批次"),
        ("report", "/data/report", "报告设置"))
TAB_URLS = {key: url for key, url, _ in TABS}


def _tab(request: Request, tab: str, status: int = 200, form: dict | None = None, **context) -> HTMLResponse:
    """A tab of the data page; its form holds `form` if given, else what was typed in a refused save."""
    notice = request.session.pop("notice", None)
    if isinstance(notice, str):  # a session from before notices had a kind
        notice = {"kind": "ok", "text": notice}
    typed = request.session.pop("form", None) or {}
    if form is None:
        form = typed.get("values", {}) if typed.get("tab") == tab else {}
    return render(request, "data.html", status=status, tab=tab, TABS=TABS, notice=notice, form=form, **context)


def _editing(request: Request, rows: list[dict], key: str, edit: str, what: str) -> tuple[dict | None, dict | None]:
    """(the stored row `?edit=` asks for, or that of the form typed again after a refused save; the
    form's values when it is prefilled from the store). An id that is not stored is said and ignored."""
    stored = {r[key]: r for r in rows}
    if edit:
        if edit in stored:
            return stored[edit], dict(stored[edit])
        request.session["notice"] = {"kind": "error", "text": f"{what} {edit} 不存在（可能已被他人修改），请从下表中选择"}
        return None, None
    typed = request.session.get("form") or {}
    return stored.get((typed.get("values") or {}).get(key)), None


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, store: Reads = Depends(editor_reads)):
    with store.read() as con:
        months = scored_months(con)
        jobs = recent_jobs(con, 20)
    return _tab(request, "import", months=months, jobs=jobs, busy=busy_kinds(jobs), KIND_NAMES=KIND_NAMES,
                STATE_NAMES=STATE_NAMES, FORMAT_LABELS=IMPORT_FORMAT_LABELS)


def _registry(store: Reads, q: str, platform: str, category: str, status: str, page: int) -> dict:
    """The accounts tab's filters and the page of accounts they select."""
    platform = platform if platform in PLATFORMS else ""
    category = category if category in CATEGORIES else ""
    status = status if status in ("active", "inactive") else ""
    with store.read() as con:
        total, _ = search_accounts(con, text=q, platform=platform or None, category=category or None,
                                   active=None if not status else status == "active", limit=0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        _, rows = search_accounts(con, text=q, platform=platform or None, category=category or None,
                                  active=None if not status else status == "active",
                                  offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        registered, _ = search_accounts(con, limit=0)
    query = {k: v for k, v in (("q", q.strip()), ("platform", platform), ("category", category), ("status", status)) if v}
    return {"accounts": rows, "total": total, "registered": registered, "page": page, "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1 if total else 0, "last": min(page * PAGE_SIZE, total),
            "filters": {"q": q.strip(), "platform": platform, "category": category, "status": status},
            "page_link": lambda n: "/data/accounts?" + urlencode({**query, "page": n})}


@router.get("/data/accounts", response_class=HTMLResponse)
def accounts_tab(request: Request, store: Reads = Depends(editor_reads), q: str = Query("", max_length=100),
                 platform: str = "", category: str = "", status: str = "", page: int = Query(1, ge=1, le=100_000)):
    return _tab(request, "accounts", **_registry(store, q, platform, category, status, page))


@router.get("/data/cases", response_class=HTMLResponse)
def cases_tab(request: Request, store: Reads = Depends(editor_reads), edit: str = Query("", max_length=200)):
    """The cases and their form; `?edit=<案例编号>` (the 编辑 link of a row) fills the form with that case."""
    with store.read() as con:
        cases = list_cases(con)
        labels = account_labels(con)
    editing, form = _editing(request, cases, "case_id", edit, "案例")
    if form is not None:
        form["score"] = f"{form['score']:g}"
    return _tab(request, "cases", form=form, editing=editing, cases=cases, labels=labels,
                case_categories=CASE_CATEGORIES)


@router.get("/data/campaigns", response_class=HTMLResponse)
def campaigns_tab(request: Request, store: Reads = Depends(editor_reads), edit: str = Query("", max_length=200)):
    """The campaigns and their form; `?edit=<活动编号>` fills the form with that campaign."""
    with store.read() as con:
        campaigns = list_campaigns(con)
    editing, form = _editing(request, campaigns, "campaign_id", edit, "联动宣传")
    if form is not None:
        form.update(start=form["start"].isoformat(), end=form["end"].isoformat())
    return _tab(request, "campaigns", form=form, editing=editing, campaigns=campaigns)


@router.get("/data/batches", response_class=HTMLResponse)
def batches_tab(request: Request, store: Reads = Depends(editor_reads)):
    with store.read() as con:
        batches = recent_batches(con, 50)
    return _tab(request, "batches", batches=batches)


def _back(request: Request, notice: str, tab: str = "import", *, ok: bool = True) -> RedirectResponse:
    """Back to a tab of the data page, with what happened said on top (green done, red not done)."""
    request.session["notice"] = {"kind": "ok" if ok else "error", "text": notice}
    return RedirectResponse(TAB_URLS[tab], status_code=303)


def _submit(request: Request, store: Writes, door, values: dict, failed: str, said, tab: str) -> RedirectResponse:
    """Write a form through its library door (which validates and audits); back to its tab saying
    what was saved, or why not."""
    try:
        with store.write() as con:
            result = door(con, values, store.user)
    except UserError as exc:
        request.session["form"] = {"tab": tab, "values": values}  # shown again, to be corrected, not retyped
        return _back(request, f"{failed}: {message(exc)}", tab, ok=False)
    return _back(request, said(result), tab)


@router.post("/data/import")
def data_import(request: Request, store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner),
                file: UploadFile = File(...), format: str = Form("auto"), account: str = Form("")):
    try:
        if account.strip():
            parse_account_option(account.strip())
        job = start_import(runner, store, file, format, account.strip() or None)  # the bytes are saved now
    except UserError as exc:
        return _back(request, f"导入失败: {message(exc)}", ok=False)
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


@router.post("/data/accounts")
def data_account(request: Request, store: Writes = Depends(editor), platform: str = Form(...),
                 account_id: str = Form(...), name: str = Form(...), category: str = Form(...),
                 organization: str = Form(""), region: str = Form(""), active: str = Form("1")):
    fields = {"platform": platform, "account_id": account_id, "name": name, "category": category,
              "organization": organization, "region": region, "active": active == "1"}

    def said(saved) -> str:
        row, result = saved
        what = "新增" if result.inserted else ("已修改" if result.updated else "未变化")
        return f"账号 {row.name}（{PLATFORM_NAMES[row.platform]} {row.account_id}）{what}"
    return _submit(request, store, save_account, fields, "未保存", said, "accounts")


@router.post("/data/accounts/change", response_class=HTMLResponse)
def data_account_change(request: Request, store: Writes = Depends(editor), platform: str = Form(...),
                        account_id: str = Form(...), category: str = Form(""), active: str = Form(""),
                        deactivated_on: str = Form(""), confirm: str = Form("")):
    """A category change or (de)activation from the registry table: said back for confirmation
    first (a deactivation with its 停用日期, today in Beijing unless changed), written when confirmed."""
    with store.read() as con:
        found = [a for a in list_accounts(con, platform=platform if platform in PLATFORMS else None)
                 if a["account_id"] == account_id]
    if not found:
        return _back(request, f"未保存: 账号 {account_id} 不在账号名录中（可能已被他人修改），请刷新后重试", "accounts", ok=False)
    account = found[0]
    new_category = category if category in CATEGORIES else account["category"]
    new_active = account["active"] if active not in ("0", "1") else active == "1"
    if new_category == account["category"] and new_active == account["active"]:
        return _back(request, f"账号 {account['name']} 没有变化", "accounts")
    if confirm != "1":
        return render(request, "data_confirm.html", account=account, category=new_category, active=new_active,
                      today=local_date(utcnow()).isoformat())
    fields = {"platform": account["platform"], "account_id": account_id, "name": account["name"],
              "category": new_category, "active": new_active}
    if not new_active and new_active != account["active"]:
        fields["deactivated_on"] = deactivated_on  # empty: today (Beijing)

    def said(saved) -> str:
        row, _ = saved
        what = []
        if new_category != account["category"]:
            what.append(f"类别改为{CATEGORY_NAMES[new_category]}")
        if new_active != account["active"]:
            what.append("已启用" if new_active else f"已停用（停用日期 {row.deactivated_on or '今天'}）")
        return f"账号 {row.name}（{PLATFORM_NAMES[row.platform]} {row.account_id}）{'，'.join(what)}"
    return _submit(request, store, save_account, fields, "未保存", said, "accounts")


@router.post("/data/accounts/import", response_class=HTMLResponse)
def data_accounts_import(request: Request, store: Writes = Depends(editor), file: UploadFile = File(...)):
    """A registry file (CSV or XLSX), as `govmedia accounts import` takes it: the result and the
    rejected rows shown on the accounts tab, the rejects file to download."""
    try:
        with store.write() as con:
            upload = import_registry_upload(con, store.uploads, file.filename, file.file, store.user)
    except UserError as exc:
        request.session["notice"] = {"kind": "error", "text": f"账号名录未导入: {message(exc)}"}
        return RedirectResponse("/data/accounts", status_code=303)
    return _tab(request, "accounts", outcome=registry_report(upload), **_registry(store, "", "", "", "", 1))


@router.post("/data/cases")
def data_case(request: Request, store: Writes = Depends(editor), case_id: str = Form(...), title: str = Form(...),
              month: str = Form(...), category: str = Form(""), unit: str = Form(""),
              score_value: str = Form(..., alias="score"), platform: str = Form(""), account_ids: str = Form(...),
              text: str = Form(""), post_ids: str = Form(""), hashtags: str = Form(""),
              clear: list[str] = Form([])):
    """Add or change a case: an empty optional box keeps the stored value, its 「清空」 box removes it."""
    cells = {"case_id": case_id, "title": title, "month": month, "category": category, "unit": unit, "score": score_value,
             "platform": platform, "account_ids": account_ids, "text": text, "post_ids": post_ids, "hashtags": hashtags,
             "clear": clear}
    return _submit(request, store, save_case, cells, "案例未保存",
                   lambda saved: saved_text("案例", saved[0].title, saved[1], CASE_LABELS), "cases")


@router.post("/data/campaigns")
def data_campaign(request: Request, store: Writes = Depends(editor), campaign_id: str = Form(...),
                  name: str = Form(...), start: str = Form(...), end: str = Form(...), hashtags: str = Form(""),
                  clear: list[str] = Form([])):
    """Add or change a campaign, as a case."""
    cells = {"campaign_id": campaign_id, "name": name, "start": start, "end": end, "hashtags": hashtags,
             "clear": clear}
    return _submit(request, store, save_campaign, cells, "联动宣传未保存",
                   lambda saved: saved_text("联动宣传", saved[0].name, saved[1], CAMPAIGN_LABELS), "campaigns")


@router.post("/data/score")
def data_score(request: Request, store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner),
               start: str = Form(..., alias="from"), end: str = Form(..., alias="to")):
    try:
        Period.parse(start, end)
    except UserError as exc:
        return _back(request, f"未计算: {message(exc)}", ok=False)
    job = start_score(runner, store, start, end)
    return RedirectResponse(f"/jobs/{job.job_id}", status_code=303)


def _visible_job(store: Reads, runner: JobRunner, job_id: int) -> dict:
    """Editors see every job; other signed-in users their own report jobs."""
    job = job_view(store, runner, job_id)
    if job is None:
        raise HTTPException(404, "没有这个任务")
    if RANK[store.viewer[1]] < RANK["editor"] and (job["kind"] != "report" or job["who"] != store.viewer[0]):
        raise HTTPException(403, "只能查看自己生成的报告任务")
    return job


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, store: Reads = Depends(signed_in),
             runner: JobRunner = Depends(job_runner)):
    job = _visible_job(store, runner, job_id)
    return render(request, "job.html", job=job, KIND_NAMES=KIND_NAMES, STATE_NAMES=STATE_NAMES,
                  finished=job["state"] in FINISHED, progress=progress_text(job), FORMAT_NAMES=FORMAT_NAMES)


@router.get("/jobs/{job_id}/progress")
def job_progress(job_id: int, store: Reads = Depends(signed_in), runner: JobRunner = Depends(job_runner)):
    """What the job page polls: the state and the progress in words, no result."""
    job = _visible_job(store, runner, job_id)
    return {"state": job["state"], "state_name": STATE_NAMES[job["state"]], "progress": job["progress"] or {},
            "text": progress_text(job), "finished": job["state"] in FINISHED, "error": job["error"]}


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, store: Reads = Depends(admin_reads)):
    entries = store.get(None, audit_entries)
    return render(request, "audit.html", entries=entries)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, store: Reads = Depends(admin_reads)):
    return render(request, "users.html", users=store.get(None, list_users), notice=request.session.pop("notice", None))


def _users_back(request: Request, notice: str) -> RedirectResponse:
    request.session["notice"] = notice
    return RedirectResponse("/users", status_code=303)


@router.post("/users/end-sessions")
def users_end_sessions(request: Request, store: Writes = Depends(admin), username: str = Form(...)):
    """结束该用户的所有会话 (audited): every cookie of the user stops working at once."""
    try:
        with store.write(data=False) as con:
            end_sessions(con, username, actor=store.user)
    except UserError as exc:
        return _users_back(request, f"未结束会话: {message(exc)}")
    if username == store.user:
        request.session.clear()  # the admin's own cookie ended too
        return RedirectResponse("/login", status_code=303)
    return _users_back(request, f"已结束用户 {username} 的所有会话")


@router.post("/users/active")
def users_active(request: Request, store: Writes = Depends(admin), username: str = Form(...), active: str = Form(...)):
    if username == store.user and active != "1":
        return _users_back(request, "不能停用自己正在使用的账号；请用另一个管理员账号操作")
    try:
        with store.write(data=False) as con:
            set_active(con, username, active == "1", actor=store.user)
    except UserError as exc:
        return _users_back(request, f"未修改: {message(exc)}")
    return _users_back(request, f"用户 {username} 已{'启用' if active == '1' else '停用；其已登录的会话已失效'}")


# --------------------------------------------------------------------------- report settings


@dataclass
class ReportForm:
    """The report settings tab as sent: the form's own fields, each chapter (file, place, Markdown)
    and the other settings as TOML."""
    fields: dict
    chapters: list[tuple[str, str, str]]
    other: str

    def settings(self):
        """The settings these make (validated: a mistake names its field, chapter or key)."""
        from govmedia.reports.settings import from_texts, join_from_form

        texts, order = {}, []
        for name, place, text in self.chapters:
            if not name and not text.strip():
                continue
            if not name:
                raise UserError("章节: 有一章没有填写文件名；请填写文件名（如 绪论.md），或清空该章的内容")
            if name in texts:
                raise UserError(f"章节: 有两章的文件名都是 {name}；请改用不同的文件名")
            texts[name] = text
            order.append((name, place or "before-data"))
        return from_texts(join_from_form(self.fields, order, self.other), texts)


def report_form(city: str = Form(""), title: str = Form(""), subtitle: str = Form(""), published: str = Form(""),
                guiding_units: str = Form(""), producing_units: str = Form(""), settings: str = Form(""),
                chapter_file: list[str] = Form([]), chapter_place: list[str] = Form([]),
                chapter_text: list[str] = Form([])) -> ReportForm:
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    fields = {"city": city.strip(), "title": title.strip(), "subtitle": subtitle.strip(), "published": published.strip(),
              "guiding_units": lines(guiding_units), "producing_units": lines(producing_units)}
    places = chapter_place + [""] * (len(chapter_file) - len(chapter_place))
    return ReportForm(fields, [(f.strip(), p, t) for f, p, t in zip(chapter_file, places, chapter_text)], settings)


def _report_tab(request: Request, store: Reads, form: ReportForm, status: int = 200,
                error: str | None = None) -> HTMLResponse:
    period = store.get(("default_period",), default_period)
    if error:
        request.session["notice"] = {"kind": "error", "text": error}
    return _tab(request, "report", status=status, settings_form=form, EXAMPLE=EXAMPLE, PLACES=PLACES,
                SECTIONS=SECTIONS, NUMBER_STYLES=NUMBER_STYLES, period=period)


@router.get("/data/report", response_class=HTMLResponse)
def data_report_settings(request: Request, store: Reads = Depends(editor_reads)):
    current = store.get(("report_settings",), stored_settings)
    fields, other = split_for_form(current)
    chapters = [(c.file, c.place, current.sources.get(c.file, "")) for c in current.chapters]
    return _report_tab(request, store, ReportForm(fields, chapters, other))


@router.post("/data/report", response_class=HTMLResponse)
def data_report_settings_save(request: Request, store: Writes = Depends(editor), form: ReportForm = Depends(report_form)):
    try:
        parsed = form.settings()
        with store.write() as con:
            save_settings(con, parsed, store.user)
    except UserError as exc:
        return _report_tab(request, store, form, status=400, error=f"报告设置未保存: {message(exc)}")
    request.session["notice"] = {"kind": "ok", "text": "报告设置已保存；此后生成的报告都按新设置排版"}
    return RedirectResponse(TAB_URLS["report"], status_code=303)
