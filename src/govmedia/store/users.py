"""People who sign in (viewer / editor / admin) and the audit log of changes.

A signed-in cookie names its user's `session_version`; the site honours it only while it matches
(`session_state`). Everything that should end a user's sessions bumps it: logout, a role or
password change, deactivation and an admin's "end all sessions" (`end_sessions`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from govmedia.core.errors import UserError
from govmedia.store import next_id, transaction
from govmedia.store.access import sessions_changed

ROLES = ("viewer", "editor", "admin")
ROLE_NAMES = {"viewer": "查看者", "editor": "编辑", "admin": "管理员"}
_hasher = PasswordHasher()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("govmedia.store").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str = "") -> None:
    """The password policy: long enough, not blank, not a well-known password nor the user name.
    UserError saying what to do otherwise."""
    if not password.strip():
        raise UserError("「密码」不能全是空格；请设置至少 10 个字符、不易被猜到的密码")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"「密码」至少需要 {MIN_PASSWORD_LENGTH} 个字符（现为 {len(password)} 个）；请换一个更长的密码，"
                        "例如由几个词组成的短句")
    folded = password.strip().lower()
    if folded in _common_passwords() or len(set(folded)) < 3:
        raise UserError("「密码」太常见，容易被猜中；请换一个不在常见密码表中的密码，例如由几个词组成的短句")
    if username and folded == username.strip().lower():
        raise UserError("「密码」不能与用户名相同；请换一个密码")


def add_user(con: duckdb.DuckDBPyConnection, username: str, password: str, role: str, *, actor: str | None = None) -> None:
    """Add a user, or set an existing one's password and role (and activate it): its sessions end."""
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空")
    if role not in ROLES:
        raise UserError(f"未知角色 {role!r}（可用: {', '.join(ROLES)}）")
    check_password(password, username)
    with transaction(con):
        exists = con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchall()[0][0]
        if exists:
            con.execute("UPDATE users SET password_hash = ?, role = ?, active = TRUE, "
                        "session_version = coalesce(session_version, 0) + 1 WHERE username = ?",
                        [_hasher.hash(password), role, username])
            sessions_changed(con)
        else:
            con.execute("INSERT INTO users (username, password_hash, role, active, created_at, session_version) "
                        "VALUES (?, ?, ?, TRUE, ?, 0)", [username, _hasher.hash(password), role, _now()])
        audit(con, actor, "users.update" if exists else "users.add", {"username": username, "role": role})


def _existing(con: duckdb.DuckDBPyConnection, username: str) -> tuple:
    rows = con.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchall()
    if not rows:
        raise UserError(f"没有用户 {username!r}；请检查用户名（已有用户见用户列表）")
    return rows[0]


def _bump(con: duckdb.DuckDBPyConnection, username: str, assignments: str = "", values: tuple = ()) -> None:
    con.execute(f"UPDATE users SET {assignments}session_version = coalesce(session_version, 0) + 1 "
                "WHERE username = ?", [*values, username])
    sessions_changed(con)


def set_role(con: duckdb.DuckDBPyConnection, username: str, role: str, *, actor: str | None = None) -> None:
    """Change a user's role; the user signs in again."""
    if role not in ROLES:
        raise UserError(f"未知角色 {role!r}（可用: {', '.join(ROLES)}）")
    with transaction(con):
        before, _ = _existing(con, username)
        _bump(con, username, "role = ?, ", (role,))
        audit(con, actor, "users.role", {"username": username, "from": before, "role": role})


def set_password(con: duckdb.DuckDBPyConnection, username: str, password: str, *, actor: str | None = None) -> None:
    """A new password (checked by the policy); the user's sessions end."""
    check_password(password, username)
    with transaction(con):
        _existing(con, username)
        _bump(con, username, "password_hash = ?, ", (_hasher.hash(password),))
        audit(con, actor, "users.password", {"username": username})


def set_active(con: duckdb.DuckDBPyConnection, username: str, active: bool, *, actor: str | None = None) -> None:
    """Deactivate (its sessions end, it cannot sign in) or reactivate a user."""
    with transaction(con):
        _existing(con, username)
        _bump(con, username, "active = ?, ", (active,))
        audit(con, actor, "users.activate" if active else "users.deactivate", {"username": username})


def end_sessions(con: duckdb.DuckDBPyConnection, username: str, *, actor: str | None = None,
                 action: str = "users.end_sessions") -> None:
    """End every session of the user (every browser it signed in with); `action` "logout" when the
    user signs out."""
    with transaction(con):
        _existing(con, username)
        _bump(con, username)
        audit(con, actor, action, {"username": username})


def session_state(con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, int] | None:
    """(role, session_version) of an active user, None for a user who may not be signed in."""
    rows = con.execute("SELECT role, coalesce(session_version, 0) FROM users WHERE username = ? AND active",
                       [username]).fetchall()
    return (rows[0][0], int(rows[0][1])) if rows else None


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str) -> str | None:
    """The user's role when the password is right, else None."""
    found = check_login(con, username, password)
    return found[0] if found else None


def check_login(con: duckdb.DuckDBPyConnection, username: str, password: str) -> tuple[str, int] | None:
    """(role, session_version) when the password is right, else None."""
    rows = con.execute("SELECT password_hash, role, coalesce(session_version, 0) FROM users WHERE username = ? AND active",
                       [username]).fetchall()
    if not rows:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(rows[0][0], password)
    except (VerificationError, InvalidHashError):
        return None
    return rows[0][1], int(rows[0][2])


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
    "logout": "退出登录",
    "users.role": "修改用户角色", "users.password": "重设用户密码", "users.deactivate": "停用用户",
    "users.activate": "启用用户", "users.end_sessions": "结束该用户的所有会话",
}


# The keys of an entry's detail as the log page names them.
DETAIL_NAMES = {
    "client": "来源地址", "username": "用户名", "role": "角色", "platform": "平台", "account_id": "账号ID",
    "name": "名称", "category": "类别", "organization": "主办单位", "region": "地区", "followers": "粉丝数",
    "active": "启用", "file": "文件", "path": "文件", "accepted": "接受", "rejected": "拒收", "unchanged": "未变化",
    "inserted": "新增", "updated": "更新", "saved": "保存", "from": "起始月份", "to": "结束月份", "rows": "分数行数",
    "methodology": "方法", "methodology_sha256": "方法 sha256", "at": "检查点", "rules": "检查规则",
    "rules_sha256": "规则 sha256", "inspected": "检查账号数", "passed": "合格数", "case_id": "案例编号",
    "title": "标题", "month": "月份", "unit": "单位", "score": "得分", "account_ids": "加分账号", "text": "简介",
    "campaign_id": "活动编号", "start": "开始日期", "end": "结束日期", "hashtags": "话题", "chapters": "自撰章节",
    "upload_id": "上传编号", "rejects_file": "拒收行文件",
    "post_ids": "相关内容", "city": "城市", "confirm": "确认", "created": "新增", "changes": "变动",
}


def _value_text(key: str, value: object, short: bool = False) -> str:
    """One value of a detail in words: codes by their Chinese names, hashes shortened (`short`: long
    texts too)."""
    from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES

    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "platform":
        return PLATFORM_NAMES.get(value, value)
    if key == "category":
        return CATEGORY_NAMES.get(value, value)
    if key == "role":
        return ROLE_NAMES.get(value, value)
    if key.endswith("sha256") and isinstance(value, str):
        return value[:12] + "…"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text[:60] + "…" if short and len(text) > 60 else text


def _changes_text(old: dict, new: dict) -> str:
    """A save's changed fields: 名称：「旧值」→「新值」 each; the full values stay in the entry's JSON."""
    if not new:
        return "没有变化"
    return "；".join(f"{DETAIL_NAMES.get(k, k)}：{_value_text(k, old.get(k), True)} → {_value_text(k, new[k], True)}"
                    for k in new)


def detail_text(detail: object) -> str:
    """An entry's detail (JSON) in words: 名称：值 pairs, codes by their Chinese names, hashes shortened;
    a save's old and new values as 名称：旧 → 新."""
    try:
        values = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return str(detail)
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    parts = []
    for key, value in values.items():
        if key in ("old", "new") and isinstance(values.get("old"), dict) and isinstance(values.get("new"), dict):
            if key == "new":
                parts.append(_changes_text(values["old"], value))
            continue
        if key == "changes" and isinstance(value, dict):  # an import's: per id, its old and new values
            parts.extend(f"{k}：{_changes_text(c.get('old') or {}, c.get('new') or {})}" for k, c in value.items()
                         if isinstance(c, dict))
            continue
        if value is None or value == "":
            continue
        parts.append(f"{DETAIL_NAMES.get(key, key)}：{_value_text(key, value)}")
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
