"""The account registry file (账号名录): CSV or XLSX, English or Chinese columns."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from govmedia.core.errors import FieldError
from govmedia.core.rows import AccountRow, Reject
from govmedia.core.time import local_date
from govmedia.core.vocabulary import parse_category, parse_platform
from govmedia.ingest import values as v
from govmedia.ingest.tabular import Table, map_columns, read_table
from govmedia.store import transaction
from govmedia.store.accounts import UpsertResult, upsert_accounts
from govmedia.store.users import audit

_ALIASES = {
    "platform": ["platform", "平台"],
    "account_id": ["account_id", "账号id", "账号ID", "uid", "用户id", "biz", "__biz"],
    "name": ["name", "名称", "账号名称", "账号", "昵称", "公众号"],
    "category": ["category", "类别", "分类", "榜单类别", "类型"],
    "organization": ["organization", "主办单位", "单位", "主管单位", "运营单位"],
    "region": ["region", "地区", "区域", "所属地区", "行政区"],
    "followers": ["followers", "粉丝数", "粉丝", "关注者", "订阅数"],
    "active": ["active", "状态", "是否启用", "启用"],
    "opened_at": ["opened_at", "开通时间", "开通日期", "注册时间"],
    "deactivated_on": ["deactivated_on", "停用日期", "停用时间", "注销日期"],
}
KNOWN_HEADERS = frozenset(n for names in _ALIASES.values() for n in names)
REQUIRED = ("platform", "account_id", "name", "category")
_FIELD_LABEL = {"platform": "平台", "account_id": "账号ID", "name": "名称", "category": "类别"}


def _parse_active(value: object) -> bool | None:
    text = v.clean_text(value)
    if text in ("启用", "正常", "在用"):
        return True
    if text in ("停用", "注销", "关闭", "已注销"):
        return False
    return v.parse_bool(value)


def read_accounts(path: str | Path) -> tuple[Table, list[AccountRow], list[Reject]]:
    table = read_table(path, KNOWN_HEADERS)
    mapping = map_columns(table, _ALIASES, REQUIRED, "账号名录", _FIELD_LABEL)
    rows: list[AccountRow] = []
    rejects: list[Reject] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in table.rows:
        def cell(field):
            return raw.get(mapping[field]) if field in mapping else None

        def fail(field, reason):
            rejects.append(Reject(line, mapping.get(field, field), reason, raw))

        try:
            platform = parse_platform(cell("platform"))
        except ValueError as exc:
            fail("platform", str(exc))
            continue
        account_id = v.clean_id(cell("account_id"))
        if account_id is None:
            fail("account_id", "缺少账号ID")
            continue
        name = v.clean_text(cell("name"))
        if name is None:
            fail("name", "缺少名称")
            continue
        try:
            category = parse_category(cell("category"))
        except ValueError as exc:
            fail("category", str(exc))
            continue
        try:
            followers = v.parse_count(cell("followers"))
        except ValueError as exc:
            fail("followers", str(exc))
            continue
        try:
            active = _parse_active(cell("active"))
        except ValueError as exc:
            fail("active", str(exc))
            continue
        dates: dict[str, object] = {}
        for key in ("opened_at", "deactivated_on"):  # 开通日期, 停用日期: a day in Beijing
            try:
                dates[key] = None if v.is_missing(cell(key)) else local_date(v.parse_time(cell(key)))
            except ValueError as exc:
                fail(key, str(exc))
                break
        if len(dates) < 2:
            continue
        opened_at, deactivated_on = dates["opened_at"], dates["deactivated_on"]
        if deactivated_on is not None and active:
            fail("deactivated_on", "状态为启用，却填了停用日期；请删去停用日期，或把状态改为停用")
            continue
        key = (platform, account_id)
        if key in seen:
            fail("account_id", f"账号 {platform}:{account_id} 与第 {seen[key]} 行重复")
            continue
        seen[key] = line
        rows.append(AccountRow(line, platform, account_id, name, category, v.clean_text(cell("organization")),
                               v.clean_text(cell("region")), followers, active, opened_at, deactivated_on))
    return table, rows, rejects


def account_from_fields(fields: dict) -> AccountRow:
    """One account from a form or an API body; FieldError names the field that cannot be taken."""
    def text(name: str) -> str | None:
        value = fields.get(name)
        return None if value is None or str(value).strip() == "" else str(value).strip()

    try:
        platform = parse_platform(fields.get("platform"))
    except ValueError as exc:
        raise FieldError("platform", fields.get("platform"), str(exc)) from exc
    try:
        category = parse_category(fields.get("category"))
    except ValueError as exc:
        raise FieldError("category", fields.get("category"), str(exc)) from exc
    account_id = text("account_id")
    if account_id is None:
        raise FieldError("account_id", fields.get("account_id"), "不能为空")
    name = text("name")
    if name is None:
        raise FieldError("name", fields.get("name"), "不能为空")
    followers = fields.get("followers")
    if followers is not None and (isinstance(followers, bool) or not isinstance(followers, int) or followers < 0):
        raise FieldError("followers", followers, "应为非负整数")
    active = fields.get("active")
    if active is not None and not isinstance(active, bool):
        active = v.parse_bool(active)
    deactivated_on = fields.get("deactivated_on")
    if isinstance(deactivated_on, str):
        deactivated_on = parse_day(deactivated_on, "deactivated_on")
    if deactivated_on is not None and active:
        raise FieldError("deactivated_on", str(deactivated_on), "启用的账号不能有停用日期；请删去停用日期，或选择停用")
    return AccountRow(0, platform, account_id, name, category, text("organization"), text("region"), followers,
                      active, None, deactivated_on)


def parse_day(text: str, field: str = "deactivated_on") -> date | None:
    """A date a person typed (2020-06-30, 2020/6/30, 2020年6月30日); None for an empty box."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    try:
        if match is None:
            raise ValueError
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        raise FieldError(field, text, "不是有效的日期；请写成 2020-06-30 这样的年-月-日") from None


def save_account(con, fields: dict, actor: str | None) -> tuple[AccountRow, UpsertResult]:
    """Add or change one account (add, edit, deactivate): validated, written and audited in one transaction."""
    row = account_from_fields(fields)
    with transaction(con):
        result = upsert_accounts(con, [row])
        audit(con, actor, "accounts.upsert", {"platform": row.platform, "account_id": row.account_id, "name": row.name,
                                              "category": row.category, "organization": row.organization,
                                              "region": row.region, "followers": row.followers, "active": row.active,
                                              "deactivated_on": str(row.deactivated_on or "") or None})
    return row, result


def set_account_active(con, platform: str, account_id: str, active: bool, actor: str | None,
                       on: date | str | None = None) -> tuple[dict, UpsertResult]:
    """Deactivate (停用, on the date given, else today in Beijing) or reactivate a registered account,
    audited; the account leaves the rankings and counts of periods that start after its 停用日期."""
    from govmedia.store.accounts import list_accounts

    found = [a for a in list_accounts(con, platform=platform) if a["account_id"] == account_id]
    if not found:
        raise FieldError("account", f"{platform}:{account_id}", "不在账号名录中；请先登记，或检查平台与账号ID")
    account = found[0]
    if active and on not in (None, ""):
        raise FieldError("deactivated_on", str(on), "启用账号时不能给停用日期；请删去停用日期")
    if not active and on in (None, ""):
        from govmedia.core.time import local_date, utcnow

        on = local_date(utcnow())  # today in Beijing, named so that the audit entry records the date
    _, result = save_account(con, {"platform": account["platform"], "account_id": account_id,
                                   "name": account["name"], "category": account["category"], "active": active,
                                   "deactivated_on": None if active else on}, actor)
    after = [a for a in list_accounts(con, platform=platform) if a["account_id"] == account_id][0]
    return after, result  # the registry entry as stored (its 停用日期)


def import_accounts(con, path: str | Path, actor: str | None, *,
                    provenance: dict | None = None) -> tuple[Table, UpsertResult, list[Reject]]:
    """The registry file: its valid rows upserted and the import audited in one transaction.
    `provenance` (e.g. the site's upload id and rejects file) is recorded in the audit entry."""
    table, rows, rejects = read_accounts(path)
    with transaction(con):
        result = upsert_accounts(con, rows)
        audit(con, actor, "accounts.import", {"file": Path(path).name, "inserted": result.inserted,
                                              "updated": result.updated, "rejected": len(rejects),
                                              **(provenance or {})})
    return table, result, rejects
