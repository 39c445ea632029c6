"""Text as users' tools save it: the encodings Excel, WPS and the crawlers write."""

from __future__ import annotations

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
