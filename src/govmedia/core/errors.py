"""Errors meant for the user: one line, no traceback.

A library error that is about one input carries the field and the value (`FieldError`); each
interface names the field its own way (the CLI its option, the web its form label, the API its
parameter), so that no user reads the name of a flag they never typed.
"""

from __future__ import annotations

import errno
from typing import Mapping


class UserError(Exception):
    """Something the user can fix (bad file, bad option). Exit code 2 unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


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
}


class FieldError(UserError):
    """A value that cannot be taken: which field, what value, why (without naming the field)."""

    def __init__(self, field: str, value: object, reason: str, exit_code: int = 2):
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(self.render(), exit_code)

    def render(self, names: Mapping[str, str] | None = None) -> str:
        """The message with the field named as `names` says (else its Chinese label)."""
        names = names or {}
        label = names.get(self.field) or FIELD_LABELS.get(self.field, self.field)
        return f"{label}: {self.reason}"


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
