"""Evaluation inputs besides posts: innovation cases (创新案例), linkage campaigns (联动宣传) and
explicit campaign participations. Small tables in CSV/XLSX/JSON, English or Chinese columns.

A case or campaign is saved by its id. In a change, an optional field left empty (a form's empty
box, a file's empty cell, an API field left out) keeps its stored value; it is removed only when
the save names it in `clear` (the form's 「清空」 boxes, the API's `clear` list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

from govmedia.core.errors import FieldError
from govmedia.ingest import values as v
from govmedia.ingest.canonical import PLATFORM_NAMES, Reject, parse_platform
from govmedia.ingest.tabular import Table, map_columns, read_table
from govmedia.store import transaction
from govmedia.store.accounts import account_lookup
from govmedia.store.evaluation import (
    CAMPAIGN_OPTIONAL, CASE_OPTIONAL, Saved, campaign_ids, post_finder, registry_by_platform, save_participations,
    stored_case, write_campaign, write_case,
)
from govmedia.store.users import audit

CASE_ALIASES = {
    "case_id": ["case_id", "案例编号", "案例ID", "编号"],
    "title": ["title", "标题", "案例名称", "名称"],
    "month": ["month", "月份", "所属月份"],
    "category": ["category", "类别", "案例类别", "分类"],
    "unit": ["unit", "单位", "报送单位", "推送单位"],
    "score": ["score", "得分", "分值", "分数"],
    "platform": ["platform", "平台"],
    "account_ids": ["account_ids", "account_id", "账号ID", "账号", "加分账号"],
    "text": ["text", "简介", "案例简介", "内容", "说明"],
    "post_ids": ["post_ids", "内容ID", "相关内容", "关联内容", "内容链接"],
    "hashtags": ["hashtags", "话题", "相关话题", "话题标签"],
}
CAMPAIGN_ALIASES = {
    "campaign_id": ["campaign_id", "活动编号", "联动编号", "编号"],
    "name": ["name", "名称", "活动名称", "主题"],
    "start": ["start", "start_date", "开始日期", "开始", "起始日期"],
    "end": ["end", "end_date", "结束日期", "结束", "截止日期"],
    "hashtags": ["hashtags", "话题", "话题标签"],
}
PARTICIPATION_ALIASES = {
    "campaign_id": CAMPAIGN_ALIASES["campaign_id"],
    "platform": ["platform", "平台"],
    "account_id": ["account_id", "账号ID", "账号"],
    "month": ["month", "月份"],
}
# The fields of the case and campaign forms as the user reads them.
CASE_LABELS = {"case_id": "案例编号", "title": "标题", "month": "月份", "category": "类别", "unit": "单位",
               "score": "得分", "platform": "平台", "account_ids": "加分账号", "text": "简介",
               "post_ids": "相关内容", "hashtags": "话题"}
CAMPAIGN_LABELS = {"campaign_id": "活动编号", "name": "名称", "start": "开始日期", "end": "结束日期",
                   "hashtags": "话题"}
_SPLIT = re.compile(r"[;；,，、\s]+")
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


@dataclass(frozen=True)
class Case:
    line: int
    case_id: str
    title: str
    month: str
    category: str | None
    unit: str | None
    score: float
    platform: str
    accounts: tuple[str, ...]
    text: str | None
    posts: tuple[str, ...] = ()  # post ids on `platform` whose figures the report cites
    hashtags: tuple[str, ...] = ()  # without the # marks
    cleared: frozenset[str] = frozenset()  # optional fields to empty; any other empty one keeps its stored value


@dataclass(frozen=True)
class Campaign:
    line: int
    campaign_id: str
    name: str
    start: date
    end: date
    hashtags: tuple[str, ...]
    cleared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Participation:
    line: int
    campaign_id: str
    platform: str
    account_id: str
    month: str


def parse_month(value: object) -> str:
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    text = v.clean_text(value)
    if text is None:
        raise ValueError("月份为空")
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"月份应写成 YYYY-MM，而不是 {text!r}")
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def parse_date(value: object) -> date:
    if isinstance(value, date):
        return value if not hasattr(value, "date") else value.date()
    text = v.clean_text(value)
    if text is None:
        raise ValueError("日期为空")
    match = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", text)
    if not match:
        raise ValueError(f"无法解析的日期 {text!r}（应写成 YYYY-MM-DD）")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise ValueError(f"无法解析的日期 {text!r}") from exc


def _read(path, aliases, required, what, parse_row: Callable):
    known = {n for names in aliases.values() for n in names}
    table = read_table(path, known)
    mapping = map_columns(table, aliases, required, what)
    rows, rejects = [], []
    for line, raw in table.rows:
        cells = {f: raw.get(c) for f, c in mapping.items()}
        try:
            rows.append(parse_row(line, cells))
        except RowError as exc:
            rejects.append(Reject(line, mapping.get(exc.field, exc.field), exc.reason, raw))
    return table, rows, rejects


class RowError(Exception):
    """A cell that cannot be taken: the field and the reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _field(cells: dict, field: str, parser: Callable, label: str | None = None):
    try:
        return parser(cells.get(field))
    except ValueError as exc:
        raise RowError(field, str(exc)) from exc


def _required_text(label: str):
    def parse(value):
        text = v.clean_text(value)
        if text is None:
            raise ValueError(f"缺少{label}")
        return text
    return parse


def _cleared(cells: dict, clearable: Sequence[str], labels: dict[str, str]) -> frozenset[str]:
    """The optional fields `cells["clear"]` names (a list, or names/labels separated by ;)."""
    value = cells.get("clear")
    if v.is_missing(value) or value == []:
        return frozenset()
    names = value if isinstance(value, (list, tuple, set, frozenset)) else _SPLIT.split(str(value))
    cleared = set()
    for name in (str(n).strip() for n in names):
        if not name:
            continue
        field = name if name in clearable else next((f for f in clearable if labels[f] == name), None)
        if field is None:
            allowed = "、".join(labels[f] for f in clearable)
            raise RowError("clear", f"只能清空{allowed}，不能清空「{labels.get(name, name)}」")
        cleared.add(field)
    return frozenset(cleared)


def parse_case(line: int, cells: dict, registered: dict[str, set[str]],
               named: dict[str, list[tuple[str, str]]] | None = None,
               find_post: Callable[[str, str], str | None] | None = None) -> Case:
    """One case from its cells, checked against the registry {platform: {account_id, …}}. An
    account may also be written by its name or picker label when `named` (`account_lookup`) is given;
    a post by its id or link, which `find_post(platform, entry)` resolves to an imported post's id.
    The fields `cells["clear"]` names are emptied (whatever they hold) and listed in `cleared`."""
    cleared = _cleared(cells, CASE_OPTIONAL, CASE_LABELS)
    cells = {**cells, **{f: None for f in cleared}}
    case_id = _field(cells, "case_id", _required_text("案例编号"))
    title = _field(cells, "title", _required_text("标题"))
    month = _field(cells, "month", parse_month)
    score = _field(cells, "score", _parse_score)
    platform_cell = cells.get("platform")
    platform = _field(cells, "platform", parse_platform) if not v.is_missing(platform_cell) else None
    entries = [e for e in _SPLIT.split(str(cells.get("account_ids") or "").strip()) if e]
    if not entries:
        raise RowError("account_ids", "缺少加分账号")
    accounts: list[tuple[str, str]] = []
    for entry in entries:
        entry_platform, sep, account_id = entry.partition(":")
        if sep:
            try:
                entry_platform = parse_platform(entry_platform)
            except ValueError as exc:
                raise RowError("account_ids", str(exc)) from exc
        else:
            account_id = entry
            candidates = [p for p, ids in registered.items() if account_id in ids]
            by_name = [k for k in (named or {}).get(entry, []) if platform in (None, k[0])]
            if not candidates and len(by_name) == 1:
                accounts.append(by_name[0])
                continue
            if not candidates and len(by_name) > 1:
                ids = "、".join(f"{PLATFORM_NAMES[p]} {i}" for p, i in by_name)
                raise RowError("account_ids", f"名称「{entry}」对应多个账号（{ids}），请写账号ID或从列表中选择")
            entry_platform = platform or (candidates[0] if len(candidates) == 1 else None)
            if entry_platform is None:
                raise RowError("account_ids", f"无法确定账号 {account_id} 的平台，请填写平台列或写成 平台:账号ID")
        accounts.append((entry_platform, account_id))
    platforms = sorted({p for p, _ in accounts} | ({platform} if platform else set()))
    if len(platforms) > 1:
        names = "、".join(PLATFORM_NAMES[p] for p in platforms)
        raise RowError(
            "account_ids", f"案例原则上只在一个主要平台加分，不重复加分：该案例的账号分属{names}多个平台"
        )
    platform = platforms[0]
    for _, account_id in accounts:
        if account_id not in registered.get(platform, set()):
            raise RowError("account_ids", f"{PLATFORM_NAMES[platform]}账号 {account_id} 不在账号名录中")
    posts = []
    for entry in (e for e in re.split(r"[;；,，、\s]+", str(cells.get("post_ids") or "").strip()) if e):
        post_id = find_post(platform, entry) if find_post else entry
        if post_id is None:
            raise RowError("post_ids", f"内容 {entry} 不在已导入的{PLATFORM_NAMES[platform]}内容中；请写已导入内容的内容ID或链接，"
                                       "或先导入该内容")
        posts.append(post_id)
    hashtags = [t.strip("#＃ ") for t in _SPLIT.split(str(cells.get("hashtags") or "").strip())]
    category = v.clean_text(cells.get("category"))
    return Case(line, case_id, title, month, category, v.clean_text(cells.get("unit")), score, platform,
                tuple(dict.fromkeys(a for _, a in accounts)), v.clean_text(cells.get("text")),
                tuple(dict.fromkeys(posts)), tuple(dict.fromkeys(t for t in hashtags if t)), cleared)


def read_cases(path: str | Path, registered: dict[str, set[str]],
               named: dict[str, list[tuple[str, str]]] | None = None,
               find_post: Callable[[str, str], str | None] | None = None):
    """Cases from a file, checked against the registry: {platform: {account_id, …}}."""
    table, rows, rejects = _read(path, CASE_ALIASES, ("case_id", "title", "month", "score", "account_ids"), "案例表",
                                 lambda line, cells: parse_case(line, cells, registered, named, find_post))
    return table, _unique(rows, rejects, "case_id", "案例编号", table), rejects


def _parse_score(value) -> float:
    if v.is_missing(value):
        raise ValueError("缺少得分")
    try:
        score = float(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"得分不是数字: {value!r}") from exc
    if not 0 <= score <= 100:
        raise ValueError(f"得分应在 0–100 之间，而不是 {score:g}")
    return score


def parse_campaign(line: int, cells: dict) -> Campaign:
    cleared = _cleared(cells, CAMPAIGN_OPTIONAL, CAMPAIGN_LABELS)
    cells = {**cells, **{f: None for f in cleared}}
    campaign_id = _field(cells, "campaign_id", _required_text("活动编号"))
    name = _field(cells, "name", _required_text("名称"))
    start = _field(cells, "start", parse_date)
    end = _field(cells, "end", parse_date)
    if end < start:
        raise RowError("end", f"结束日期 {end} 早于开始日期 {start}")
    tags = [t.strip().strip("#").strip() for t in re.split(r"[;；]", str(cells.get("hashtags") or ""))]
    tags = [t for t in tags if t and t.lower() != "none"]
    return Campaign(line, campaign_id, name, start, end, tuple(dict.fromkeys(tags)), cleared)


def read_campaigns(path: str | Path):
    table, rows, rejects = _read(path, CAMPAIGN_ALIASES, ("campaign_id", "name", "start", "end"), "联动宣传表",
                                 parse_campaign)
    return table, _unique(rows, rejects, "campaign_id", "活动编号", table), rejects


def read_participations(path: str | Path, registered: dict[str, set[str]], campaigns: set[str]):
    def parse(line: int, cells: dict) -> Participation:
        campaign_id = _field(cells, "campaign_id", _required_text("活动编号"))
        if campaign_id not in campaigns:
            raise RowError("campaign_id", f"联动宣传 {campaign_id} 不存在（先登记该联动宣传）")
        platform = _field(cells, "platform", parse_platform)
        account_id = _field(cells, "account_id", lambda x: v.clean_id(x) or _missing("账号ID"))
        if account_id not in registered.get(platform, set()):
            raise RowError("account_id", f"{PLATFORM_NAMES[platform]}账号 {account_id} 不在账号名录中")
        month = _field(cells, "month", parse_month)
        return Participation(line, campaign_id, platform, account_id, month)

    return _read(path, PARTICIPATION_ALIASES, ("campaign_id", "platform", "account_id", "month"), "参与记录表", parse)


def _missing(label: str):
    raise ValueError(f"缺少{label}")


def _unique(rows: list, rejects: list[Reject], key: str, label: str, table: Table) -> list:
    seen: dict[str, int] = {}
    kept = []
    raw_of = dict(table.rows)
    for row in rows:
        value = getattr(row, key)
        if value in seen:
            rejects.append(Reject(row.line, label, f"{label} {value} 与第 {seen[value]} 行重复", raw_of.get(row.line, {})))
            continue
        seen[value] = row.line
        kept.append(row)
    rejects.sort(key=lambda r: r.line)
    return kept


# --------------------------------------------------------------------------- the write doors


def _kept_posts_elsewhere(con, case: Case) -> None:
    """A case moved to another platform keeps no linked posts of the old one: they would be cited as
    posts of the new platform."""
    stored = stored_case(con, case.case_id)
    if (stored and stored["post_ids"] and stored["platform"] != case.platform and not case.posts
            and "post_ids" not in case.cleared):
        raise RowError("post_ids", f"案例改为在{PLATFORM_NAMES[case.platform]}加分，原有的相关内容是"
                                   f"{PLATFORM_NAMES[stored['platform']]}内容：请填写{PLATFORM_NAMES[case.platform]}"
                                   "的相关内容，或清空相关内容")


def _shown(values: dict) -> dict:
    """Stored values as the audit log keeps them: lists joined by ; (none: null), dates as YYYY-MM-DD."""
    return {k: (";".join(x) or None) if isinstance(x, tuple) else x.isoformat() if isinstance(x, date) else x
            for k, x in values.items()}


def change_detail(saved: Saved) -> dict:
    """What a save changed, for the audit entry: the changed fields' old and new values (a new row:
    its filled fields as new)."""
    if saved.created:
        return {"created": True, "old": {}, "new": _shown({k: x for k, x in saved.row.items() if x not in (None, ())})}
    return {"old": _shown(saved.old), "new": _shown(saved.new)}


def saved_text(what: str, name: str, saved: Saved, labels: dict[str, str]) -> str:
    """One save said in words: new, changed (which fields; the empty ones that kept their value), or not."""
    if saved.created:
        return f"{what} {saved.key}「{name}」已新增"
    kept = f"；留空的{'、'.join(labels[f] for f in saved.kept)}保留原值" if saved.kept else ""
    if not saved.new:
        return f"{what} {saved.key}「{name}」没有变化{kept}"
    return f"{what} {saved.key}「{name}」已修改：{'、'.join(labels[f] for f in saved.new)}{kept}"


def save_case(con, cells: dict, actor: str | None) -> tuple[Case, Saved]:
    """One case from a form or an API body: validated against the registry, saved and audited together
    (with the changed fields' old and new values). Empty optional fields keep their stored values
    unless `cells["clear"]` names them."""
    with transaction(con):
        try:
            case = parse_case(0, cells, registry_by_platform(con), account_lookup(con), post_finder(con))
            _kept_posts_elsewhere(con, case)
        except RowError as exc:
            raise FieldError(exc.field, cells.get(exc.field), exc.reason) from exc
        saved = write_case(con, case)
        audit(con, actor, "cases.save", {"case_id": case.case_id, "title": case.title, **change_detail(saved)})
    return case, saved


def save_campaign(con, cells: dict, actor: str | None) -> tuple[Campaign, Saved]:
    """One campaign from a form or an API body, as `save_case`."""
    try:
        campaign = parse_campaign(0, cells)
    except RowError as exc:
        raise FieldError(exc.field, cells.get(exc.field), exc.reason) from exc
    with transaction(con):
        saved = write_campaign(con, campaign)
        audit(con, actor, "campaigns.save", {"campaign_id": campaign.campaign_id, "name": campaign.name,
                                             **change_detail(saved)})
    return campaign, saved


def _import_detail(path, saved: list[Saved], rejects: list[Reject]) -> dict:
    """An import's audit entry: the counts, and per new or changed row its old and new values."""
    return {"file": Path(path).name, "saved": len(saved), "rejected": len(rejects),
            "inserted": sum(s.created for s in saved), "updated": sum(bool(s.new) for s in saved),
            "unchanged": sum(not (s.created or s.new) for s in saved),
            "changes": {s.key: change_detail(s) for s in saved if s.created or s.new}}


def import_cases(con, path: str | Path, actor: str | None):
    """(table, saved, rejects) of a case file; its valid rows saved and audited in one transaction. An
    empty cell keeps the stored value, as in a form."""
    with transaction(con):
        table, cases, rejects = read_cases(path, registry_by_platform(con), account_lookup(con), post_finder(con))
        kept = []
        raw_of, columns = dict(table.rows), map_columns(table, CASE_ALIASES)
        for case in cases:
            try:
                _kept_posts_elsewhere(con, case)
            except RowError as exc:
                rejects.append(Reject(case.line, columns.get(exc.field, CASE_LABELS[exc.field]), exc.reason,
                                      raw_of.get(case.line, {})))
                continue
            kept.append(case)
        rejects.sort(key=lambda r: r.line)
        saved = [write_case(con, case) for case in kept]
        audit(con, actor, "cases.import", _import_detail(path, saved, rejects))
    return table, len(saved), rejects


def import_campaigns(con, path: str | Path, actor: str | None):
    """(table, saved, rejects) of a campaign file, as `import_cases`."""
    table, campaigns, rejects = read_campaigns(path)
    with transaction(con):
        saved = [write_campaign(con, campaign) for campaign in campaigns]
        audit(con, actor, "campaigns.import", _import_detail(path, saved, rejects))
    return table, len(saved), rejects


def import_participations(con, path: str | Path, actor: str | None):
    with transaction(con):
        table, rows, rejects = read_participations(path, registry_by_platform(con), campaign_ids(con))
        saved = save_participations(con, rows)
        audit(con, actor, "participations.import", {"file": Path(path).name, "saved": saved,
                                                    "rejected": len(rejects)})
    return table, saved, rejects
