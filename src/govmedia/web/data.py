"""Data management for editors (imports, accounts, cases, campaigns, rescoring) and the audit log
for admins. Each form calls the same library door as its API route; the door validates, writes
and records the audit entry. An upload's import and a rescore run as jobs (`web/jobs.py`): the
form leads to the job's page `/jobs/{id}`, which shows the progress, then the result."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import CASE_CATEGORIES, PLATFORM_NAMES
from govmedia.ingest.accounts import save_account
from govmedia.ingest.evaluation import save_campaign, save_case
from govmedia.core.time import Period
from govmedia.ingest import parse_account_option
from govmedia.ranking.overview import scored_months
from govmedia.store.accounts import list_accounts
from govmedia.store.evaluation import list_campaigns, list_cases
from govmedia.store.jobs import FINISHED, recent_jobs
from govmedia.store.reads import recent_batches
from govmedia.store.users import audit_entries, end_sessions, list_users, set_active
from govmedia.web.auth import RANK
from govmedia.web.deps import Reads, Writes, admin, admin_reads, editor, editor_reads, job_runner, message, signed_in
from govmedia.web.jobs import (
    FORMAT_NAMES, KIND_NAMES, STATE_NAMES, JobRunner, busy_kinds, job_view, progress_text, start_import, start_score,
)
from govmedia.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, store: Reads = Depends(editor_reads)):
    with store.read() as con:
        batches = recent_batches(con, 50)
        accounts = list_accounts(con)
        cases = list_cases(con)
        campaigns = list_campaigns(con)
        months = scored_months(con)
        jobs = recent_jobs(con, 20)
    notice = request.session.pop("notice", None)
    return render(request, "data.html", batches=batches, accounts=accounts, cases=cases, campaigns=campaigns,
                  notice=notice, case_categories=CASE_CATEGORIES, months=months, jobs=jobs, busy=busy_kinds(jobs),
                  KIND_NAMES=KIND_NAMES, STATE_NAMES=STATE_NAMES)


def _back(request: Request, notice: str) -> RedirectResponse:
    request.session["notice"] = notice
    return RedirectResponse("/data", status_code=303)


def _submit(request: Request, store: Writes, door, values: dict, failed: str, said) -> RedirectResponse:
    """Write a form through its library door (which validates and audits); back to the data page
    saying what was saved, or why not."""
    try:
        with store.write() as con:
            result = door(con, values, store.user)
    except UserError as exc:
        return _back(request, f"{failed}: {message(exc)}")
    return _back(request, said(result))


@router.post("/data/import")
def data_import(request: Request, store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner),
                file: UploadFile = File(...), format: str = Form("auto"), account: str = Form("")):
    try:
        if account.strip():
            parse_account_option(account.strip())
        job = start_import(runner, store, file, format, account.strip() or None)  # the bytes are saved now
    except UserError as exc:
        return _back(request, f"导入失败: {message(exc)}")
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
    return _submit(request, store, save_account, fields, "未保存", said)


@router.post("/data/cases")
def data_case(request: Request, store: Writes = Depends(editor), case_id: str = Form(...), title: str = Form(...),
              month: str = Form(...), category: str = Form(""), unit: str = Form(""),
              score_value: str = Form(..., alias="score"), platform: str = Form(""), account_ids: str = Form(...),
              text: str = Form("")):
    cells = {"case_id": case_id, "title": title, "month": month, "category": category, "unit": unit, "score": score_value,
             "platform": platform, "account_ids": account_ids, "text": text}
    return _submit(request, store, save_case, cells, "案例未保存",
                   lambda case: f"案例 {case.case_id}「{case.title}」已保存（{case.score:g} 分）")


@router.post("/data/campaigns")
def data_campaign(request: Request, store: Writes = Depends(editor), campaign_id: str = Form(...),
                  name: str = Form(...), start: str = Form(...), end: str = Form(...), hashtags: str = Form("")):
    cells = {"campaign_id": campaign_id, "name": name, "start": start, "end": end, "hashtags": hashtags}
    return _submit(request, store, save_campaign, cells, "联动宣传未保存",
                   lambda campaign: f"联动宣传 {campaign.campaign_id}「{campaign.name}」已保存")


@router.post("/data/score")
def data_score(request: Request, store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner),
               start: str = Form(..., alias="from"), end: str = Form(..., alias="to")):
    try:
        Period.parse(start, end)
    except UserError as exc:
        return _back(request, f"未计算: {message(exc)}")
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
