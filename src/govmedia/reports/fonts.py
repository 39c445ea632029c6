"""The Chinese font every format uses: Noto Sans CJK SC from Debian's fonts-noto-cjk.

`require_cjk_font()` returns the font file or raises one clear UserError naming the font and the
package. `GOVMEDIA_CJK_FONT=/path/to/font.ttc` points at another file of the same family (tests use
it to simulate a machine without the font).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from govmedia.core.errors import UserError

CJK_FAMILY = "Noto Sans CJK SC"
PACKAGE = "fonts-noto-cjk"
CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
MISSING = (f"缺少中文字体 {CJK_FAMILY}（Debian 软件包 {PACKAGE}）：请运行 sudo apt-get install {PACKAGE}"
           f"（或 make system-deps）后重试")


def _fc_match() -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        result = subprocess.run(["fc-match", "-f", "%{family}|%{file}", CJK_FAMILY], capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    family, _, file = result.stdout.partition("|")
    if CJK_FAMILY in family and file and Path(file).is_file():
        return Path(file)
    return None


def require_cjk_font() -> Path:
    """The Noto Sans CJK file, or a UserError (exit 2) that names the missing font and its package."""
    override = os.environ.get("GOVMEDIA_CJK_FONT")
    if override:
        if Path(override).is_file():
            return Path(override)
        raise UserError(f"{MISSING}（GOVMEDIA_CJK_FONT={override} 不存在）")
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    found = _fc_match()
    if found:
        return found
    raise UserError(MISSING)
