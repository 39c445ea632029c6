"""REST API under /api/v1. Field names are the CLI's CSV columns; query parameters are named like
the CLI's options (`from`, `to`, `platform`, `category`, `top`)."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Optional

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from govmedia.core.errors import UserError
from govmedia.ingest import import_path, require_account
from govmedia.core.vocabulary import parse_category
from govmedia.core.rows import AccountRow
from govmedia.core.vocabulary import parse_platform
from govmedia.ingest.evaluation import RowError, parse_campaign, parse_case
from govmedia.ranking import export_scores, rank
from govmedia.scoring import score
from govmedia.scoring.explain import explain
from govmedia.scoring.indices import compute_index
from govmedia.store.accounts import list_accounts, upsert_accounts
from govmedia.store.evaluation import list_campaigns, list_cases, registry_by_platform, save_campaigns, save_cases
from govmedia.store.users import audit
from govmedia.web.auth import may_read, require_role

router = APIRouter(prefix="/api/v1")

MONTH = r"^\d{4}-\d{2}$"
PlatformName = Literal["weibo", "wechat", "douyin"]
CategoryName = Literal["district", "livelihood", "comprehensive"]


def _guard_read(request: Request) -> None:
    if not may_read(request):
        raise HTTPException(401, "请先登录")


def _store(request: Request):
    return request.app.state.store


class RankingRow(BaseModel):
    rank: int
    platform: str
    category: str
    account_id: str
    name: str
    score: float
    reach: float
    engagement: float
    innovation: float
    influence: float


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


class CaseIn(BaseModel):
    case_id: str
    title: str
    month: str
    category: Optional[str] = None
    unit: Optional[str] = None
    score: float
    platform: Optional[str] = None
    account_ids: str
    text: Optional[str] = None


class CaseOut(CaseIn):
    platform: str


class CampaignIn(BaseModel):
    campaign_id: str
    name: str
    start: str
    end: str
    hashtags: str = ""


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


class ImportReport(BaseModel):
    upload_id: str
    accepted: int
    rejected: int
    unchanged: int
    files: list[ImportFile]


class RescoreIn(BaseModel):
    from_: str = Field(alias="from")
    to: str


class RescoreOut(BaseModel):
    months: list[str]
    rows: int
    methodology: str
    methodology_sha256: str


@router.get("/rankings", response_model=list[RankingRow], summary="分类榜单（与 govmedia rank 相同）")
def get_rankings(request: Request, platform: PlatformName, category: CategoryName,
                 start: str = Query(alias="from", pattern=MONTH, description="起始月份 YYYY-MM"), end: str = Query(alias="to", pattern=MONTH, description="结束月份 YYYY-MM（含）"),
                 top: Optional[int] = Query(None, ge=1)):
    _guard_read(request)
    store = _store(request)
    key = ("rank", platform, category, start, end, top)
    with store.read() as con:
        return store.cached(key, lambda: rank(con, platform, category, start, end, top))


@router.get("/accounts", response_model=list[AccountOut], summary="账号名录")
def get_accounts(request: Request, platform: Optional[PlatformName] = None, category: Optional[CategoryName] = None):
    _guard_read(request)
    with _store(request).read() as con:
        return list_accounts(con, platform=platform, category=category)


@router.post("/accounts", response_model=AccountOut, summary="新增或修改账号（编辑）")
def post_account(request: Request, body: AccountIn):
    user = require_role(request, "editor")
    try:
        row = AccountRow(0, parse_platform(body.platform), body.account_id.strip(), body.name.strip(),
                         parse_category(body.category), body.organization, body.region, body.followers, body.active, None)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    if not row.account_id or not row.name:
        raise HTTPException(400, "账号ID和名称不能为空")
    with _store(request).write() as con:
        upsert_accounts(con, [row])
        audit(con, user, "accounts.upsert", body.model_dump())
        return next(a for a in list_accounts(con, platform=row.platform) if a["account_id"] == row.account_id)


@router.get("/scores", response_model=list[ScoreRow], summary="月度分数（与 govmedia scores export 相同）")
def get_scores(request: Request, start: str = Query(alias="from", pattern=MONTH, description="起始月份 YYYY-MM"), end: str = Query(alias="to", pattern=MONTH, description="结束月份 YYYY-MM（含）"),
               platform: Optional[PlatformName] = None, account_id: Optional[str] = None):
    _guard_read(request)
    with _store(request).read() as con:
        rows = export_scores(con, start, end)
    return [r for r in rows if (platform is None or r["platform"] == platform)
            and (account_id is None or r["account_id"] == account_id)]


@router.post("/scores", response_model=RescoreOut, summary="重新计算一个期间的分数（编辑）")
def post_scores(request: Request, body: RescoreIn):
    user = require_role(request, "editor")
    with _store(request).write() as con:
        result = score(con, body.from_, body.to, methodology=request.app.state.methodology_path)
        audit(con, user, "scores.compute", {"from": body.from_, "to": body.to, "rows": result.rows})
    return RescoreOut(months=result.months, rows=result.rows, methodology=result.methodology.name,
                      methodology_sha256=result.methodology.sha256)


@router.get("/explain", summary="分数解释：原始数值、变换、最大值、权重")
def get_explain(request: Request, account: str = Query(description="平台:账号ID"), month: str = Query(pattern=MONTH)):
    _guard_read(request)
    platform, account_id = require_account(account)
    store = _store(request)
    with store.read() as con:
        explanation = store.cached(("explain", platform, account_id, month),
                                   lambda: explain(con, platform, account_id, month, request.app.state.methodology_path))
    return asdict(explanation)


@router.get("/indices/{index}", response_model=list[IndexRow], summary="同行指数 WCI / BCI")
def get_index(request: Request, index: Literal["wci", "bci"], start: str = Query(alias="from", pattern=MONTH, description="起始月份 YYYY-MM"),
              end: str = Query(alias="to", pattern=MONTH, description="结束月份 YYYY-MM（含）")):
    _guard_read(request)
    store = _store(request)
    with store.read() as con:
        rows = store.cached(("index", index, start, end), lambda: compute_index(con, index, start, end))
    return [IndexRow(platform=r["platform"], account_id=r["account_id"], name=r["name"], value=r[index]) for r in rows]


@router.get("/cases", response_model=list[CaseOut], summary="创新案例")
def get_cases(request: Request):
    _guard_read(request)
    with _store(request).read() as con:
        return list_cases(con)


@router.post("/cases", response_model=CaseOut, summary="新增或修改创新案例（编辑）")
def post_case(request: Request, body: CaseIn):
    user = require_role(request, "editor")
    with _store(request).write() as con:
        try:
            case = parse_case(0, body.model_dump(), registry_by_platform(con))
        except RowError as exc:
            raise HTTPException(400, f"{exc.field}: {exc.reason}") from exc
        save_cases(con, [case])
        audit(con, user, "cases.save", body.model_dump())
        return next(c for c in list_cases(con) if c["case_id"] == case.case_id)


@router.get("/campaigns", response_model=list[CampaignOut], summary="联动宣传")
def get_campaigns(request: Request):
    _guard_read(request)
    with _store(request).read() as con:
        return list_campaigns(con)


@router.post("/campaigns", response_model=CampaignOut, summary="新增或修改联动宣传（编辑）")
def post_campaign(request: Request, body: CampaignIn):
    user = require_role(request, "editor")
    try:
        campaign = parse_campaign(0, body.model_dump())
    except RowError as exc:
        raise HTTPException(400, f"{exc.field}: {exc.reason}") from exc
    with _store(request).write() as con:
        save_campaigns(con, [campaign])
        audit(con, user, "campaigns.save", body.model_dump())
        return next(c for c in list_campaigns(con) if c["campaign_id"] == campaign.campaign_id)


@router.get("/imports", summary="导入批次")
def get_imports(request: Request) -> list[dict]:
    _guard_read(request)
    with _store(request).read() as con:
        cursor = con.execute(
            "SELECT batch_id, file_name, format, platform, imported_at, accepted, rejected, unchanged "
            "FROM import_batches ORDER BY batch_id DESC LIMIT 500")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]


def run_upload(request: Request, upload: UploadFile, format: str, account: Optional[str], user: str) -> ImportReport:
    """Save the upload under uploads/<id>/ (a .zip is unpacked: a crawler's whole folder), import it."""
    store = _store(request)
    name = Path(upload.filename or "upload").name
    if not name or name.startswith("."):
        raise HTTPException(400, "文件名无效")
    upload_id = datetime.now().strftime("%Y%m%d%H%M%S%f")
    folder = store.upload_dir / upload_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with target.open("wb") as handle:
        shutil.copyfileobj(upload.file, handle)
    source = target
    if target.suffix.lower() == ".zip":
        source = folder / "unpacked"
        try:
            with zipfile.ZipFile(target) as archive:
                for member in archive.infolist():
                    path = (source / member.filename).resolve()
                    if not str(path).startswith(str(source.resolve())):
                        raise HTTPException(400, f"压缩包中的路径不安全: {member.filename}")
                archive.extractall(source)
        except zipfile.BadZipFile as exc:
            raise HTTPException(400, f"{name}: 不是有效的 zip 文件") from exc
    with store.write() as con:
        summary = import_path(con, source, format=format, account=account or None)
        audit(con, user, "imports.upload", {"file": name, "accepted": summary.accepted, "rejected": summary.rejected,
                                            "unchanged": summary.unchanged})
    files = []
    for f in summary.files:
        rejects_url = None
        if f.rejects_path:
            relative = f.rejects_path.relative_to(folder)
            rejects_url = f"/api/v1/imports/{upload_id}/rejects/{relative.as_posix()}"
        files.append(ImportFile(path=str(f.path.relative_to(folder)), format=f.format, accepted=f.accepted,
                                rejected=f.rejected, unchanged=f.unchanged, batch_id=f.batch_id, error=f.error,
                                skipped=f.skipped, rejects_url=rejects_url))
    return ImportReport(upload_id=upload_id, accepted=summary.accepted, rejected=summary.rejected,
                        unchanged=summary.unchanged, files=files)


@router.post("/imports", response_model=ImportReport, summary="上传并导入文件（编辑）")
def post_import(request: Request, file: UploadFile = File(...),
                format: Literal["auto", "generic", "weibo-crawler", "mediacrawler", "wechat-exporter"] = Form("auto"),
                account: Optional[str] = Form(None), csrf_token: Optional[str] = Form(None)):
    user = require_role(request, "editor", csrf_token or request.headers.get("x-csrf-token"))
    try:
        return run_upload(request, file, format, account, user)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/imports/{upload_id}/rejects/{path:path}", summary="下载拒收行文件（编辑）")
def get_rejects(request: Request, upload_id: str, path: str):
    require_role(request, "editor", check=False)
    folder = (_store(request).upload_dir / upload_id).resolve()
    target = (folder / path).resolve()
    if not str(target).startswith(str(folder)) or not target.name.endswith(".rejects.csv") or not target.exists():
        raise HTTPException(404, "没有这个拒收行文件")
    return FileResponse(target, media_type="text/csv; charset=utf-8", filename=target.name)
