"""Errors meant for the user: one line, no traceback.

A library error that is about one input carries the field and the value (`FieldError`); each
interface names the field its own way (the CLI its option, the web its form label, the API its
parameter), so that no user reads the name of a flag they never typed.
"""

from __future__ import annotations

import re
import errno
from typing import Mapping

# A library message may name a field ("请用 {field:account} 指明") or a step the user should take
# ("先{step:score}") without naming an interface: each interface fills them in its own words (the
# CLI an option and a command, the web a form label and where to click). These are the words of
# a reader who has neither.
STEP_LABELS = {
    "score": "计算这些月份的分数",
    "register": "在账号名录中登记该账号",
    "check": "运行该检查点的合规检查",
}
_TOKEN = re.compile(r"\{(field|step):([a-z_.]+)\}")


def fill(text: str, fields: Mapping[str, str] | None = None, steps: Mapping[str, str] | None = None) -> str:
    """`text` with its {field:…} and {step:…} named as `fields` and `steps` say (else in plain words)."""
    def named(match: re.Match) -> str:
        kind, name = match.groups()
        if kind == "field":
            return (fields or {}).get(name) or f"「{FIELD_LABELS.get(name, name)}」"
        return (steps or {}).get(name) or STEP_LABELS.get(name, name)
    return _TOKEN.sub(named, text)


class UserError(Exception):
    """Something the user can fix (bad file, bad option). Exit code 2 unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 2):
        self.template = message
        super().__init__(fill(message))
        self.exit_code = exit_code

    def render(self, names: Mapping[str, str] | None = None, steps: Mapping[str, str] | None = None) -> str:
        """The message with fields and steps named as this interface names them."""
        return fill(self.template, names, steps)


# The Chinese name of each field, what a user reads when an interface has no name of its own.
FIELD_LABELS = {
    "period": "期间",
    "period.start": "起始月份",
    "period.end": "结束月份",
    "month": "月份",
    "platform": "平台",
    "category": "类别",
    "account": "账号",
    "account_id": "账号ID",
    "name": "名称",
    "methodology": "方法文件",
    "check_at": "检查点",
    "quarter": "季度",
    "format": "格式",
    "settings": "报告设置",
    "clear": "清空",
    "deactivated_on": "停用日期",
}


class FieldError(UserError):
    """A value that cannot be taken: which field, what value, why (without naming the field)."""

    def __init__(self, field: str, value: object, reason: str, exit_code: int = 2):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(self.render(), exit_code)

    def render(self, names: Mapping[str, str] | None = None, steps: Mapping[str, str] | None = None) -> str:
        """The message with the field named as `names` says (else its Chinese label)."""
        names = names or {}
        label = names.get(self.field) or FIELD_LABELS.get(self.field, self.field)
        return f"{label}: {fill(self.reason, names, steps)}"


class WriteFailed(UserError):
    """A write the machine refused (a full disk, no permission): not the user's input."""

    def __init__(self, message: str, http_status: int = 500):
        super().__init__(message, exit_code=1)
        self.http_status = http_status  # 507 for a full disk


def store_write_failed(exc: Exception) -> "WriteFailed":
    """A database error (DuckDB's own, e.g. an I/O error on a full disk) as one Chinese sentence;
    the unit's transaction was rolled back and the next unit opens the store afresh."""
    text = str(exc).lower()
    if "no space" in text or "disk is full" in text or "disk full" in text:
        return WriteFailed("数据库写入失败：磁盘已满，本次操作未保存，数据保持操作前的状态。请清理磁盘空间（或联系管理员）后重试", 507)
    return WriteFailed("数据库操作失败，本次操作未保存，数据保持操作前的状态。请稍后重试；如一再出现，请联系管理员")


def write_failed(exc: OSError, what: str) -> "WriteFailed":
    """One Chinese sentence for a failed write (a full disk, no permission): no path, no traceback,
    the same for the site, the API and the command line."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return WriteFailed(f"{what}：磁盘已满。请清理磁盘空间（或联系管理员）后重试", 507)
    if exc.errno == errno.ENAMETOOLONG:
        return WriteFailed(f"{what}：文件名太长。请改短文件名后重试", 400)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return WriteFailed(f"{what}：没有写入权限。请检查数据目录的权限（或联系管理员）后重试")
    return WriteFailed(f"{what}：读写文件出错（错误码 {exc.errno}）。请稍后重试；如一再出现，请联系管理员")


def read_failed(exc: OSError) -> str:
    """Why a file could not be read, in Chinese (the system's strerror is English)."""
    if exc.errno == errno.ENOENT:
        return "文件不存在，请检查路径与文件名"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "没有读取权限"
    if exc.errno == errno.EISDIR:
        return "这是一个文件夹，不是文件"
    if exc.errno == errno.ENAMETOOLONG:
        return "文件名太长"
    return f"读取出错（错误码 {exc.errno}）"
