"""Text as users' tools save it (the encodings Excel, WPS and the crawlers write), and text as we
write it into files people open: no control characters, no live formulas (`printable`, `inert`,
`scrub`, used by every CSV, XLSX, DOCX, PDF and HTML writer)."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

from govmedia.core.errors import UserError


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK/GB2312)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "utf-8-sig"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: 文件开头标明了编码，但内容不符（第 {exc.start} 字节）") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: 无法识别文件编码（支持 UTF-8、UTF-8 BOM、GB18030/GBK）") from exc


# C0 controls except tab, newline and carriage return, and DEL: XML 1.0 (XLSX, DOCX) cannot hold
# them (openpyxl raises IllegalCharacterError, python-docx ValueError) and no reader wants them.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What a spreadsheet takes for the start of a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """`text` without control characters (tab and line breaks kept)."""
    return CONTROL.sub("", text)


def inert(value):
    """A cell value safe for CSV and XLSX: text without control characters and, when it begins like a
    formula, prefixed with a single quote so that Excel, WPS and LibreOffice show it as text.
    Numbers (negative ones too), dates and None pass unchanged."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def scrub(value):
    """A copy of `value` (a report's content model: dataclasses, dicts, lists, tuples) with every
    string `printable`; anything else is shared, not copied."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(scrub(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        clone = copy.copy(value)
        for f in dataclasses.fields(value):
            object.__setattr__(clone, f.name, scrub(getattr(value, f.name)))
        return clone
    return value


# A space between Chinese and a number or a Latin word: Chinese print sets none, and a justified
# line would stretch it into a gap ("SVG     动画").
_LOOSE = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])[ \t]+(?=[0-9A-Za-z@“+\-])|"
                    r"(?<=[0-9A-Za-z%”)])[ \t]+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def tight(text: str) -> str:
    """Prose as Chinese print sets it: no space between Chinese and a number or Latin word."""
    return _LOOSE.sub("", text)


def share(x: float) -> str:
    """A share as a percentage people can read: 38%, and <1% rather than a misleading 0%."""
    return "<1%" if 0 < x < 0.005 else f"{x:.0%}"
