"""People who sign in (viewer / editor / admin) and the audit log of changes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from govmedia.core.errors import UserError
from govmedia.store import next_id, transaction

ROLES = ("viewer", "editor", "admin")
ROLE_NAMES = {"viewer": "查看者", "editor": "编辑", "admin": "管理员"}
_hasher = PasswordHasher()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def add_user(con: duckdb.DuckDBPyConnection, username: str, password: str, role: str, *, actor: str | None = None) -> None:
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"未知角色 {role!r}（可用: {', '.join(ROLES)}）")
    if len(password) < 8:
        raise UserError("密码至少 8 个字符")
    with transaction(con):
        exists = con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchall()[0][0]
        if exists:
            con.execute("UPDATE users SET password_hash = ?, role = ?, active = TRUE WHERE username = ?",
                        [_hasher.hash(password), role, username])
        else:
            con.execute("INSERT INTO users VALUES (?, ?, ?, TRUE, ?)", [username, _hasher.hash(password), role, _now()])
        audit(con, actor, "users.update" if exists else "users.add", {"username": username, "role": role})


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str) -> str | None:
    """The user's role when the password is right, else None."""
    rows = con.execute("SELECT password_hash, role FROM users WHERE username = ? AND active", [username]).fetchall()
    if not rows:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(rows[0][0], password)
    except (VerificationError, InvalidHashError):
        return None
    return rows[0][1]


def list_users(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute("SELECT username, role, active, created_at FROM users ORDER BY username")
    return [dict(zip([d[0] for d in cursor.description], r)) for r in cursor.fetchall()]


def audit(con: duckdb.DuckDBPyConnection, username: str | None, action: str, detail: dict | None = None) -> None:
    """One audit entry; inside the caller's transaction when there is one (it commits with the write)."""
    with transaction(con):
        entry = next_id(con, "audit_log", "entry_id")
        con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
                    [entry, _now(), username, action, json.dumps(detail or {}, ensure_ascii=False, default=str)])


# What each audited action is called where people read the log.
ACTION_NAMES = {
    "login": "登录", "users.add": "新增用户", "users.update": "修改用户", "accounts.upsert": "登记或修改账号",
    "accounts.import": "导入账号名录", "imports.path": "导入文件", "imports.upload": "上传导入",
    "cases.save": "保存创新案例", "cases.import": "导入创新案例", "campaigns.save": "保存联动宣传",
    "campaigns.import": "导入联动宣传", "participations.import": "导入联动参与", "scores.compute": "计算分数",
    "checks.run": "运行合规检查", "checks.delete": "删除检查结果", "reports.settings": "修改报告设置",
}


# The keys of an entry's detail as the log page names them.
DETAIL_NAMES = {
    "client": "来源地址", "username": "用户名", "role": "角色", "platform": "平台", "account_id": "账号ID",
    "name": "名称", "category": "类别", "organization": "主办单位", "region": "地区", "followers": "粉丝数",
    "active": "启用", "file": "文件", "path": "文件", "accepted": "接受", "rejected": "拒收", "unchanged": "未变化",
    "inserted": "新增", "updated": "更新", "saved": "保存", "from": "起始月份", "to": "结束月份", "rows": "分数行数",
    "methodology": "方法", "methodology_sha256": "方法 sha256", "at": "检查点", "rules": "检查规则",
    "rules_sha256": "规则 sha256", "inspected": "检查账号数", "passed": "合格数", "case_id": "案例编号",
    "title": "标题", "month": "月份", "unit": "单位", "score": "得分", "account_ids": "加分账号", "text": "说明",
    "campaign_id": "活动编号", "start": "开始日期", "end": "结束日期", "hashtags": "话题", "chapters": "自撰章节",
}


def detail_text(detail: object) -> str:
    """An entry's detail (JSON) in words: 名称：值 pairs, codes by their Chinese names, hashes shortened."""
    from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES

    try:
        values = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return str(detail)
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    parts = []
    for key, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif key == "platform":
            value = PLATFORM_NAMES.get(value, value)
        elif key == "category":
            value = CATEGORY_NAMES.get(value, value)
        elif key == "role":
            value = ROLE_NAMES.get(value, value)
        elif key.endswith("sha256") and isinstance(value, str):
            value = value[:12] + "…"
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f"{DETAIL_NAMES.get(key, key)}：{value}")
    return "；".join(parts)


def audit_entries(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[dict]:
    """The newest entries; each with `action_name`, the action as the log page shows it, and
    `detail_text`, its detail in words."""
    cursor = con.execute("SELECT entry_id, logged_at, username, action, detail FROM audit_log ORDER BY entry_id DESC LIMIT ?",
                         [limit])
    rows = [dict(zip([d[0] for d in cursor.description], r)) for r in cursor.fetchall()]
    for row in rows:
        row["action_name"] = ACTION_NAMES.get(row["action"], row["action"])
        row["detail_text"] = detail_text(row["detail"])
    return rows
