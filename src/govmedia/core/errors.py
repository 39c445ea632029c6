"""Errors meant for the user: one line, no traceback.

A library error that is about one input carries the field and the value (`FieldError`); each
interface names the field its own way (the CLI its option, the web its form label, the API its
parameter), so that no user reads the name of a flag they never typed.
"""

from __future__ import annotations

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
