"""Charts as PNG bytes (matplotlib, Agg), lettered in Noto Sans CJK SC.

No pyplot and no global style: each chart is a Figure drawn inside an rc_context, so nothing
leaks into other code or tests. Registering the font file with matplotlib's font manager is
idempotent.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

from govmedia.core.errors import UserError
from govmedia.core.time import Month
from govmedia.core.vocabulary import PROFILES
from govmedia.reports.fonts import CJK_FAMILY, MISSING

COLORS = {code: p.color for code, p in PROFILES.items()}
BAR = "#2f6fb0"
TOP = "#c0392b"
DPI = 150
_registered: set[str] = set()


def _style(font_file: Path) -> dict:
    from matplotlib import font_manager

    key = str(font_file)
    if key not in _registered:
        font_manager.fontManager.addfont(key)
        _registered.add(key)
    return {"font.family": [CJK_FAMILY, "DejaVu Sans"], "axes.unicode_minus": False, "font.size": 9,
            "axes.spines.top": False, "axes.spines.right": False, "savefig.dpi": DPI}


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08, facecolor="white")
    return buffer.getvalue()


@contextlib.contextmanager
def _glyph_guard():
    """A Chinese character without a glyph would print as an empty box: that is a broken font
    setup and stops the report. (A rare symbol in an account name, e.g. an emoji, only loses
    its own glyph.)"""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        match = re.match(r"Glyph (\d+) ", str(warning.message))
        if match and _is_cjk(int(match.group(1))):
            raise UserError(f"图表字体缺字（{warning.message}）：{MISSING}")


def _is_cjk(codepoint: int) -> bool:
    return 0x2E80 <= codepoint <= 0x9FFF or 0xF900 <= codepoint <= 0xFAFF or 0xFF00 <= codepoint <= 0xFFEF


def _month_label(month: str, cross_year: bool) -> str:
    m = Month.parse(month)
    return f"{m.year % 100:02d}/{m.month}" if cross_year else m.short


def trend_chart(font_file: Path, panels: list[dict]) -> bytes:
    """One panel per platform: monthly posts (bars, left axis) and interactions (line, right axis).

    panels: [{"platform", "title", "months", "posts", "interactions", "interaction_label"}]
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    def compact(value, _pos=None):
        if abs(value) >= 1e8:
            return f"{value / 1e8:g}亿"
        if abs(value) >= 1e4:
            return f"{value / 1e4:g}万"
        return f"{value:g}"

    with _glyph_guard(), matplotlib.rc_context(_style(font_file)):
        fig = Figure(figsize=(6.3, 2.3 * len(panels)))
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, panel in zip(axes, panels):
            months = panel["months"]
            cross = bool(months) and Month.parse(months[0]).year != Month.parse(months[-1]).year
            labels = [_month_label(m, cross) for m in months]
            x = range(len(months))
            color = COLORS.get(panel["platform"], BAR)
            ax.bar(x, panel["posts"], color=color, alpha=0.35)
            ax.set_xticks(list(x), labels)
            ax.set_ylabel("发布数（条）")
            ax.yaxis.set_major_formatter(FuncFormatter(compact))
            right = ax.twinx()
            right.plot(list(x), panel["interactions"], color=color, marker="o", markersize=3, linewidth=1.6)
            right.set_ylabel(f"{panel['interaction_label']}（次）")
            right.yaxis.set_major_formatter(FuncFormatter(compact))
            right.spines["right"].set_visible(True)
            right.set_ylim(0, max(panel["interactions"] or [0]) * 1.12 or 1)
            ax.set_title(panel["title"], fontsize=10, loc="left")
            ax.set_ylim(0, max(panel["posts"] or [0]) * 1.12 or 1)
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(facecolor="#888888", alpha=0.45), Line2D([0], [0], color="#444444", marker="o",
                                                                            markersize=3)],
                   labels=["柱：发布数（条，左轴）", "折线：互动量（次，右轴，口径见各图标题）"],
                   loc="upper center", ncol=2, frameon=False, fontsize=8, bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / fig.get_figheight()))
        return _png(fig)


def ranking_chart(font_file: Path, title: str, names: list[str], scores: list[float], axis_label: str) -> bytes:
    """Horizontal bars, best at the top, the score printed at each bar's end."""
    import matplotlib
    from matplotlib.figure import Figure

    with _glyph_guard(), matplotlib.rc_context(_style(font_file)):
        height = 0.9 + 0.27 * max(len(names), 1)
        fig = Figure(figsize=(6.3, height))
        ax = fig.subplots()
        y = list(range(len(names)))[::-1]
        colors = [TOP if i < 3 else BAR for i in range(len(names))]
        ax.barh(y, scores, color=colors, height=0.66)
        ax.set_yticks(y, names)
        top = max(scores or [0]) or 1
        for yy, value in zip(y, scores):
            ax.text(value + top * 0.01, yy, f"{value:.2f}", va="center", fontsize=7.5)
        ax.set_xlim(0, top * 1.13)
        ax.set_xlabel(axis_label)
        ax.set_title(title, fontsize=10, loc="left")
        ax.tick_params(axis="y", length=0)
        fig.tight_layout()
        return _png(fig)
