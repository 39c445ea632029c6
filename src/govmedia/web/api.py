"""REST API under /api/v1. Field names are the CLI's CSV columns; query parameters are named like
the CLI's options (`from`, `to`, `platform`, `category`, `top`). Reads go through the read guard,
writes through `require("editor")`; each write is one library door (validated, written, audited).
Suspicion marks and anomaly lists are for signed-in users (docs/security.md): `/anomalies` declares
`viewer_reads`, the rankings and explain answers leave their flag fields out for anonymous callers."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Literal, Optional

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from govmedia.core.errors import fill
from govmedia.core.time import Month, Period
from govmedia.core.vocabulary import CATEGORIES, PLATFORMS
from govmedia.ingest import FORMAT_NAMES, parse_account_option, require_account
from govmedia.ingest.accounts import save_account
from govmedia.ingest.evaluation import save_campaign, save_case
from govmedia.ingest.upload import RegistryUpload, Upload, import_registry_upload
from govmedia.ranking import export_scores, rank
from govmedia.ranking.anomalies import anomaly_summary, find_anomalies
from govmedia.scoring.explain import explain
from govmedia.scoring.indices import compute_index
from govmedia.store.accounts import list_accounts
from govmedia.store.evaluation import list_campaigns, list_cases
from govmedia.store.jobs import recorded_rejects
from govmedia.store.reads import recent_batches
from govmedia.web.deps import (
    PAGE_NAMES, WEB_STEPS, Marks, Reads, Writes, api_month, api_period, editor, editor_reads, job_runner, marks, reads,
    viewer_reads,
)
from govmedia.web.jobs import REASONS_PER_FILE, JobRunner, job_list, job_view, outcome, start_import, start_score

router = APIRouter(prefix="/api/v1")
UPLOAD_ID = re.compile(r"\d{20}")  # `ingest.upload.receive_upload` names each upload's folder so

# The API's enumerations are the vocabulary's (a tuple subscript spells out its members).
PlatformName = Literal[PLATFORMS]
CategoryName = Literal[CATEGORIES]


class RankingRow(BaseModel):
    rank: Optional[int] = Field(description="名次；本期间没有发布内容的账号为 null（不参与排名，列在最后）")
    platform: str
    category: str
    account_id: str
    name: str
    score: Optional[float]
    reach: Optional[float]
    engagement: Optional[float]
    innovation: Optional[float]
    influence: Optional[float]
    flagged_posts: Optional[int] = Field(None, description="期间内疑似刷量的内容数（仅对已登录用户提供）")
    flagged_share: Optional[float] = Field(None, description="这些内容占期间阅读/播放/转发/点赞的比例（0–1；仅对已登录用户提供）")
    score_low: Optional[float] = Field(None, description="得分 90% 区间下限（intervals=true）")
    score_high: Optional[float] = Field(None, description="得分 90% 区间上限")
    rank_low: Optional[int] = Field(None, description="名次区间的最好名次")
    rank_high: Optional[int] = Field(None, description="名次区间的最差名次")
    same_as: Optional[int] = Field(None, description="与第几名无显著差别（名次区间重叠）")
    note: Optional[str] = Field(None, description="「本期无数据」：本期间没有发布内容，不参与排名、不计入账号数")


class AccountOut(BaseModel):
    platform: str
    account_id: str
    name: str
    category: str
    organization: Optional[str] = None
    region: Optional[str] = None
    followers: Optional[int] = None
    active: bool
    opened_at: Optional[date] = None
    deactivated_on: Optional[date] = Field(None, description="停用日期：此日之后开始的期间不再排名、计数")
    posts: int


class ScoreRow(BaseModel):
    platform: str
    account_id: str
    name: str
    category: str
    month: str
    reach: float
    engagement: float
    innovation: float
    influence: float
    total: float
    methodology: str
    methodology_sha256: str


class IndexRow(BaseModel):
    platform: str
    account_id: str
    name: str
    value: float = Field(description="the index (wci or bci)")


class CaseFields(BaseModel):
    case_id: str
    title: str
    month: str
    category: Optional[str] = None
    unit: Optional[str] = None
    score: float
    platform: Optional[str] = None
    account_ids: str
    text: Optional[str] = None
    post_ids: Optional[str] = Field(None, description="相关内容：已导入内容的内容ID或链接，多个以 ; 分隔")
    hashtags: Optional[str] = Field(None, description="相关话题，多个以 ; 分隔（不带 #）")


class CaseIn(CaseFields):
    clear: list[str] = Field(default_factory=list, description=(
        "修改已有案例时，省略或留空的可选项（category、unit、text、post_ids、hashtags）保留原值；"
        "要删除原值，把该项的名称列在这里，如 [\"text\"]"))


class CaseOut(CaseFields):
    platform: str


class CampaignIn(BaseModel):
    campaign_id: str
    name: str
    start: str
    end: str
    hashtags: Optional[str] = Field(None, description="话题，多个以 ; 分隔（不带 #）；修改时省略或留空则保留原有话题")
    clear: list[str] = Field(default_factory=list, description="要删除原有话题时写 [\"hashtags\"]")


class CampaignOut(BaseModel):
    campaign_id: str
    name: str
    start: date
    end: date
    hashtags: Optional[str] = None


class AccountIn(BaseModel):
    platform: str
    account_id: str
    name: str
    category: str
    organization: Optional[str] = None
    region: Optional[str] = None
    followers: Optional[int] = Field(default=None, ge=0)
    active: Optional[bool] = None
    deactivated_on: Optional[date] = Field(None, description="停用日期（给出即停用；停用而不给则为今天，北京时间）")


class ImportReason(BaseModel):
    line: int
    column: Optional[str]
    reason: str


class ImportFile(BaseModel):
    path: str
    format: Optional[str]
    accepted: int
    rejected: int
    unchanged: int
    batch_id: Optional[int]
    error: Optional[str]
    skipped: Optional[str]
    rejects_url: Optional[str]
    reasons: list[ImportReason] = Field(default_factory=list, description="拒收的前几条原因（每个文件至多 5 条）")


class Rescored(BaseModel):
    from_: str = Field(alias="from")
    to: str
    rows: int

    model_config = {"populate_by_name": True}


class ImportReport(BaseModel):
    upload_id: str
    accepted: int
    rejected: int
    unchanged: int
    files: list[ImportFile]
    months: list[str] = Field(default_factory=list, description="有变化的月份（其分数已自动重新计算）")
    rescored: list[Rescored] = Field(default_factory=list)


class RescoreIn(BaseModel):
    from_: str = Field(alias="from")
    to: str


class RescoreOut(BaseModel):
    months: list[str]
    rows: int
    methodology: str
    methodology_sha256: str


class JobStarted(BaseModel):
    job_id: int
    state: str


class JobOut(BaseModel):
    job_id: int
    kind: str = Field(description="import / score / check / report")
    state: str = Field(description="queued / running / done / failed / interrupted")
    who: Optional[str] = None
    created_at: datetime
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    params: Optional[dict] = None
    progress: Optional[dict] = Field(default=None, description="files_done, files_total, file, rows_done, rows_total, rows")
    result: Optional[dict] = None
    error: Optional[str] = None


WAIT = Query(False, description="true：等任务完成后返回结果（同步，供脚本使用）；默认立即返回任务编号（202）")
STARTED = {202: {"model": JobStarted, "description": "任务已提交；用 GET /api/v1/jobs/{job_id} 查看进度与结果"}}


def started(job) -> JSONResponse:
    return JSONResponse({"job_id": job.job_id, "state": job.state}, status_code=202,
                        headers={"Location": f"/api/v1/jobs/{job.job_id}"})


# Unset fields are left out: the interval fields only come with intervals=true.
@router.get("/rankings", response_model=list[RankingRow], response_model_exclude_unset=True,
            summary="分类榜单（与 govmedia rank 相同）")
def get_rankings(platform: PlatformName, category: CategoryName, store: Reads = Depends(reads),
                 period: Period = Depends(api_period), top: Optional[int] = Query(None, ge=1),
                 intervals: bool = Query(False, description="加 90% 自助法得分与名次区间（首次约数秒）"),
                 shown: Marks = Depends(marks)):
    start, end = period.first, period.last
    return shown.rows(store.get(("rank", platform, category, start, end, top, intervals), rank, platform, category,
                                start, end, top, intervals=intervals, methodology=store.methodology))


@router.get("/accounts", response_model=list[AccountOut], summary="账号名录")
def get_accounts(store: Reads = Depends(reads), platform: Optional[PlatformName] = None,
                 category: Optional[CategoryName] = None):
    return store.get(None, list_accounts, platform=platform, category=category)


def _account(store: Reads, platform: str, account_id: str) -> dict:
    return next(a for a in store.get(None, list_accounts, platform=platform) if a["account_id"] == account_id)


@router.post("/accounts", response_model=AccountOut, summary="新增或修改账号（编辑）")
def post_account(body: AccountIn, store: Writes = Depends(editor)):
    with store.write() as con:
        row, _ = save_account(con, body.model_dump(), store.user)
    return _account(store, row.platform, row.account_id)


class RegistryImportOut(BaseModel):
    file: str
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejects_url: Optional[str]
    reasons: list[ImportReason]


@router.post("/accounts/import", response_model=RegistryImportOut, summary="上传账号名录 CSV/XLSX（编辑）")
def post_accounts_import(store: Writes = Depends(editor), file: UploadFile = File(...)):
    """As `govmedia accounts import`: rows upserted by 平台+账号ID, blank cells keep stored values,
    rejected rows with line, column and reason (the first 20 here, all in the rejects file)."""
    with store.write() as con:
        upload = import_registry_upload(con, store.uploads, file.filename, file.file, store.user)
    return registry_report(upload)


def registry_report(upload: RegistryUpload) -> RegistryImportOut:
    """What the API answers and the accounts tab shows after a registry upload."""
    rejects_url = None
    if upload.rejects_path:
        rejects_url = f"/api/v1/imports/{upload.received.upload_id}/rejects/{upload.rejects_path.name}"
    result = upload.result
    return RegistryImportOut(file=upload.received.file_name, inserted=result.inserted, updated=result.updated,
                             unchanged=result.unchanged, rejected=len(upload.rejects), rejects_url=rejects_url,
                             reasons=[ImportReason(line=r.line, column=r.column, reason=r.reason)
                                      for r in upload.rejects[:20]])


@router.get("/scores", response_model=list[ScoreRow], summary="月度分数（与 govmedia scores export 相同）")
def get_scores(store: Reads = Depends(reads), period: Period = Depends(api_period),
               platform: Optional[PlatformName] = None, account_id: Optional[str] = None):
    rows = store.get(("scores", period.first, period.last), export_scores, period.first, period.last)
    return [r for r in rows if (platform is None or r["platform"] == platform)
            and (account_id is None or r["account_id"] == account_id)]


@router.post("/scores", response_model=RescoreOut, responses=STARTED, summary="重新计算一个期间的分数（编辑，后台任务）")
def post_scores(body: RescoreIn, store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner),
                wait: bool = WAIT):
    Period.parse(body.from_, body.to)  # a bad period is refused (400) before a job is made
    job = start_score(runner, store, body.from_, body.to)
    return outcome(runner, job) if wait else started(job)


@router.get("/explain", summary="分数解释：原始数值、变换、最大值、权重")
def get_explain(store: Reads = Depends(reads), account: str = Query(description="平台:账号ID"),
                month: Month = Depends(api_month), shown: Marks = Depends(marks)):
    """`flagged` and `flagged_ids` (the month's posts suspected of inflation) for signed-in callers only."""
    platform, account_id = require_account(account)
    explanation = store.get(("explain", platform, account_id, str(month)), explain, platform, account_id, str(month),
                            store.methodology)
    said = asdict(explanation)
    if not shown.shown:
        del said["flagged"], said["flagged_ids"]
    return said


@router.get("/anomalies", summary="疑似刷量内容（登录用户；与 govmedia anomalies 相同；summary=true 按账号和月份汇总）")
def get_anomalies(store: Reads = Depends(viewer_reads), period: Period = Depends(api_period),
                  platform: Optional[PlatformName] = None, category: Optional[CategoryName] = None,
                  summary: bool = Query(False, description="按账号和月份汇总：异常内容数及其占比")):
    function = anomaly_summary if summary else find_anomalies
    return store.get(("anomalies", period.first, period.last, platform, category, summary), function, period.first,
                     period.last, platform=platform, category=category, methodology=store.methodology)


@router.get("/indices/{index}", response_model=list[IndexRow], summary="同行指数 WCI / BCI")
def get_index(index: Literal["wci", "bci"], store: Reads = Depends(reads), period: Period = Depends(api_period)):
    rows = store.get(("index", index, period.first, period.last), compute_index, index, period.first, period.last,
                     store.methodology)
    return [IndexRow(platform=r["platform"], account_id=r["account_id"], name=r["name"], value=r[index]) for r in rows]


@router.get("/cases", response_model=list[CaseOut], summary="创新案例")
def get_cases(store: Reads = Depends(reads)):
    return store.get(None, list_cases)


@router.post("/cases", response_model=CaseOut, summary="新增或修改创新案例（编辑）",
             description="按 case_id 新增或修改。修改时省略或留空的可选项保留原值，列在 clear 中的可选项被清空；"
                         "审计日志记下改动项的原值与新值。返回保存后的案例。")
def post_case(body: CaseIn, store: Writes = Depends(editor)):
    """Add or change a case by its case_id; an optional field left out or empty keeps its stored
    value unless `clear` names it. Answers the case as stored."""
    with store.write() as con:
        case, _ = save_case(con, body.model_dump(), store.user)
    return next(c for c in store.get(None, list_cases) if c["case_id"] == case.case_id)


@router.get("/campaigns", response_model=list[CampaignOut], summary="联动宣传")
def get_campaigns(store: Reads = Depends(reads)):
    return store.get(None, list_campaigns)


@router.post("/campaigns", response_model=CampaignOut, summary="新增或修改联动宣传（编辑）",
             description="按 campaign_id 新增或修改。修改时省略或留空的话题保留原有话题，clear 为 [\"hashtags\"] 时清空；"
                         "审计日志记下改动项的原值与新值。返回保存后的联动宣传。")
def post_campaign(body: CampaignIn, store: Writes = Depends(editor)):
    """Add or change a campaign by its campaign_id; hashtags left out keep the stored ones unless
    `clear` names them. Answers the campaign as stored."""
    with store.write() as con:
        campaign, _ = save_campaign(con, body.model_dump(), store.user)
    return next(c for c in store.get(None, list_campaigns) if c["campaign_id"] == campaign.campaign_id)


@router.get("/imports", summary="导入批次（已登录用户）")
def get_imports(store: Reads = Depends(viewer_reads)) -> list[dict]:
    # The files an office imported are its working records, not a published result (docs/security.md).
    return store.get(None, recent_batches, 500)


def import_report(upload: Upload) -> ImportReport:
    """What the API answers and the job page shows after an upload."""
    files = []
    for f in upload.summary.files:
        rejects_url = None
        if f.rejects_path:
            relative = f.rejects_path.relative_to(upload.folder)
            rejects_url = f"/api/v1/imports/{upload.upload_id}/rejects/{relative.as_posix()}"
        files.append(ImportFile(path=str(f.path.relative_to(upload.folder)), format=f.format, accepted=f.accepted,
                                rejected=f.rejected, unchanged=f.unchanged, batch_id=f.batch_id,
                                error=fill(f.error_template, PAGE_NAMES, WEB_STEPS) if f.error_template else f.error,
                                skipped=f.skipped, rejects_url=rejects_url,
                                reasons=[ImportReason(line=r.line, column=r.column, reason=r.reason)
                                         for r in f.rejects[:REASONS_PER_FILE]]))
    summary = upload.summary
    return ImportReport(upload_id=upload.upload_id, accepted=summary.accepted, rejected=summary.rejected,
                        unchanged=summary.unchanged, files=files, months=summary.months)


@router.post("/imports", response_model=ImportReport, responses=STARTED, summary="上传并导入文件（编辑，后台任务）")
def post_import(store: Writes = Depends(editor), runner: JobRunner = Depends(job_runner), file: UploadFile = File(...),
                format: Literal[FORMAT_NAMES] = Form("auto"),
                account: Optional[str] = Form(None), wait: bool = WAIT):
    if account:
        parse_account_option(account)  # a malformed account is refused (400) before a job is made
    job = start_import(runner, store, file, format, account or None)
    return outcome(runner, job) if wait else started(job)


@router.get("/jobs", response_model=list[JobOut], summary="最近的后台任务（编辑）")
def get_jobs(store: Reads = Depends(editor_reads), limit: int = Query(20, ge=1, le=200)):
    return job_list(store, limit)


@router.get("/jobs/{job_id}", response_model=JobOut, summary="后台任务的状态、进度与结果（编辑）")
def get_job(job_id: int, store: Reads = Depends(editor_reads), runner: JobRunner = Depends(job_runner)):
    job = job_view(store, runner, job_id)
    if job is None:
        raise HTTPException(404, "没有这个任务")
    return job


@router.get("/imports/{upload_id}/rejects/{path:path}", summary="下载拒收行文件（编辑）")
def get_rejects(upload_id: str, path: str, store: Reads = Depends(editor_reads)):
    # Only a file an import job recorded for this upload, inside its folder: no `..`, no encoded
    # tricks, no rejects file the command line left beside the store.
    missing = HTTPException(404, "没有这个拒收行文件；请从导入结果中的链接下载")
    if not UPLOAD_ID.fullmatch(upload_id) or "\\" in path or any(p in ("", ".", "..") for p in path.split("/")):
        raise missing
    if f"/api/v1/imports/{upload_id}/rejects/{path}" not in store.get(None, recorded_rejects, upload_id):
        raise missing
    folder = (store.uploads / upload_id).resolve()
    target = (folder / path).resolve()
    if not target.is_relative_to(folder) or not target.name.endswith(".rejects.csv") or not target.is_file():
        raise missing
    return FileResponse(target, media_type="text/csv; charset=utf-8", filename=target.name)
