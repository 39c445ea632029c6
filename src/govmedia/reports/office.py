"""LibreOffice headless, used once per Word report: it lays the document out and tells on which page
each heading of the table of contents falls, so that the DOCX can carry the page numbers without
the reader updating fields (F9) in Word.

LibreOffice (Debian: libreoffice-writer-nogui, python3-uno; `scripts/install-system-deps.sh`) is
optional. Where it is missing, fails or takes longer than the time allowed, `toc_pages` returns
None with one warning in the log and the report keeps Word's update-on-open field.

GOVMEDIA_SOFFICE names the soffice program (default: `soffice` on PATH); set it empty or to `off`
to skip LibreOffice. GOVMEDIA_SOFFICE_TIMEOUT is the time allowed in seconds (default 120).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT = 120.0
SCRIPT = Path(__file__).with_name("uno_toc.py")
# The Python that has LibreOffice's `uno` module: Debian's python3-uno installs it for the system Python.
UNO_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")


@dataclass
class Layout:
    entries: list[tuple[str, int]]  # Word's table of contents as LibreOffice computes it: (text, page)
    pages: int


def switched_off() -> bool:
    return os.environ.get("GOVMEDIA_SOFFICE", "soffice").strip().lower() in ("", "0", "off", "no", "none")


def soffice() -> str | None:
    """The soffice program, or None when LibreOffice is absent or switched off."""
    if switched_off():
        return None
    name = os.environ.get("GOVMEDIA_SOFFICE")
    if name is None:
        return shutil.which("soffice") or shutil.which("libreoffice")
    return shutil.which(name.strip())


def uno_python() -> str | None:
    for path in UNO_PYTHONS:
        if os.access(path, os.X_OK):
            return path
    return None


def _timeout() -> float:
    try:
        return float(os.environ.get("GOVMEDIA_SOFFICE_TIMEOUT", TIMEOUT))
    except ValueError:
        return TIMEOUT


def _end_group(process: subprocess.Popen) -> None:
    """Kill the helper and what it started (LibreOffice's oosplash and soffice.bin): one process group."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def toc_pages(path: Path, timeout: float | None = None) -> Layout | None:
    """Lay the DOCX at `path` out with LibreOffice and return its table of contents with pages, or
    None (logged) when LibreOffice is not there or does not succeed in time."""
    if switched_off():
        log.info("LibreOffice 已关闭（GOVMEDIA_SOFFICE），Word 目录的页码将在 Word 打开文件时更新")
        return None
    program, python = soffice(), uno_python()
    if program is None or python is None:
        missing = "LibreOffice（soffice）" if program is None else "系统 Python 3 与 python3-uno"
        log.warning("未找到 %s，Word 目录的页码将在 Word 打开文件时更新", missing)
        return None
    timeout = _timeout() if timeout is None else timeout
    profile = Path(tempfile.mkdtemp(prefix="govmedia-lo-"))  # its own profile: concurrent runs, root
    try:
        process = subprocess.Popen(
            [python, str(SCRIPT), str(Path(path).resolve()), profile.as_uri(), program],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end_group(process)
            process.communicate()
            log.warning("LibreOffice 排版超过 %g 秒，已中止；Word 目录的页码将在 Word 打开文件时更新", timeout)
            return None
        finally:
            _end_group(process)
        if process.returncode != 0:
            reason = (err.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
            if "No module named 'uno'" in reason:
                reason = "缺少 python3-uno"
            log.warning("LibreOffice 排版失败（%s）；Word 目录的页码将在 Word 打开文件时更新", reason)
            return None
        data = json.loads(out.decode("utf-8"))
        return Layout([(text, int(page)) for text, page in data["entries"]], int(data["pages"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("LibreOffice 排版失败（%s）；Word 目录的页码将在 Word 打开文件时更新", exc)
        return None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
