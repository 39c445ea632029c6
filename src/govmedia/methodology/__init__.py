"""Methodologies as data: GMI-1 (ours) and the peer indices (WCI, BCI, People's Daily).

`load_methodology(path)` reads a GMI-style TOML file, checks every key, and keeps the sha256 of
the file's bytes so that every stored score can say exactly which methodology produced it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from govmedia.errors import UserError
from govmedia.ingest.canonical import METRICS, PLATFORMS
from govmedia.ingest.forms import FORMS

DIMENSIONS = ("reach", "engagement", "innovation", "influence")
DIMENSION_NAMES = {"reach": "传播力", "engagement": "互动力", "innovation": "创新力", "influence": "影响力"}
COMPUTED_DIMENSIONS = ("reach", "engagement", "innovation")  # influence comes from cases and campaigns

_FEATURE_RE = re.compile(r"^(n|n_o|n_i|(sum|sum_o|sum_i|avg|avg_o)_(%s))$" % "|".join(METRICS))
FEATURE_NAMES = {
    "n": "发布数", "n_o": "原创数", "n_i": "原创创新产品数",
    **{f"sum_{m}": f"总{name}数" for m, name in zip(METRICS, ("转发", "评论", "点赞", "阅读", "在看", "分享", "播放", "收藏"))},
    **{f"sum_o_{m}": f"原创总{name}数" for m, name in zip(METRICS, ("转发", "评论", "点赞", "阅读", "在看", "分享", "播放", "收藏"))},
    **{f"sum_i_{m}": f"原创创新产品总{name}数" for m, name in zip(METRICS, ("转发", "评论", "点赞", "阅读", "在看", "分享", "播放", "收藏"))},
    **{f"avg_{m}": f"单篇平均{name}数" for m, name in zip(METRICS, ("转发", "评论", "点赞", "阅读", "在看", "分享", "播放", "收藏"))},
    **{f"avg_o_{m}": f"原创单篇平均{name}数" for m, name in zip(METRICS, ("转发", "评论", "点赞", "阅读", "在看", "分享", "播放", "收藏"))},
}


@dataclass(frozen=True)
class Term:
    """weight × ln(1 + Σ coefficient × feature)."""

    weight: float
    of: tuple[tuple[str, float], ...]

    def formula(self) -> str:
        inner = " + ".join(f"{'' if c == 1 else f'{c:g}·'}{f}" for f, c in self.of)
        return f"{self.weight:g} × ln(1 + {inner})"


@dataclass(frozen=True)
class Methodology:
    name: str
    title: str
    sha256: str
    text: str
    source: str
    utc_offset_hours: int
    window_hours: float
    unknown_counts_as_original: bool
    innovative_forms: tuple[str, ...]
    excluded_forms: dict[str, tuple[str, ...]]
    case_points_factor: float
    campaign_points: float
    scale: float
    total_weights: dict[str, float]
    dimensions: dict[str, dict[str, tuple[Term, ...]]] = field(repr=False)

    def innovative_forms_for(self, platform: str) -> tuple[str, ...]:
        excluded = set(self.excluded_forms.get(platform, ()))
        return tuple(f for f in self.innovative_forms if f not in excluded)

    def features(self) -> set[str]:
        return {f for dims in self.dimensions.values() for terms in dims.values() for t in terms for f, _ in t.of}


def default_methodology_path() -> str:
    return "gmi-1.toml"


def load_methodology(path: str | Path | None = None) -> Methodology:
    if path is None:
        data = resources.files("govmedia.methodology").joinpath("gmi-1.toml").read_bytes()
        source = "gmi-1.toml（内置）"
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取方法文件 {path}: {exc.strerror}") from exc
        source = str(path)
    return parse_methodology(data, source)


def parse_methodology(data: bytes, source: str) -> Methodology:
    try:
        text = data.decode("utf-8")
        doc = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{source}: 方法文件不是有效的 TOML: {exc}") from exc

    def get(path: str, kind=float):
        node: Any = doc
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                raise UserError(f"{source}: 缺少设置 {path}")
            node = node[key]
        if kind is float:
            if isinstance(node, bool) or not isinstance(node, (int, float)):
                raise UserError(f"{source}: {path} 应为数字")
            return float(node)
        if not isinstance(node, kind):
            raise UserError(f"{source}: {path} 的类型不对")
        return node

    forms = tuple(get("innovation.forms", list))
    unknown = [f for f in forms if f not in FORMS]
    excluded = {p: tuple(v) for p, v in (doc.get("innovation", {}).get("excluded_forms") or {}).items()}
    unknown += [f for v in excluded.values() for f in v if f not in FORMS]
    if unknown:
        raise UserError(f"{source}: 未知形式 {', '.join(unknown)}（可用: {', '.join(FORMS)}）")

    dimensions: dict[str, dict[str, tuple[Term, ...]]] = {}
    for platform in PLATFORMS:
        dimensions[platform] = {}
        for dimension in COMPUTED_DIMENSIONS:
            raw_terms = get(f"dimensions.{platform}.{dimension}", list)
            terms = []
            for index, raw in enumerate(raw_terms, start=1):
                where = f"dimensions.{platform}.{dimension} 第 {index} 项"
                if not isinstance(raw, dict) or "weight" not in raw or not isinstance(raw.get("of"), dict) or not raw["of"]:
                    raise UserError(f"{source}: {where} 应写成 {{ weight = 数字, of = {{ 特征 = 系数 }} }}")
                for feature, coefficient in raw["of"].items():
                    if not _FEATURE_RE.match(feature):
                        raise UserError(f"{source}: {where}: 未知特征 {feature!r}")
                    if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float)) or coefficient < 0:
                        raise UserError(f"{source}: {where}: 特征 {feature} 的系数应为非负数")
                if isinstance(raw["weight"], bool) or not isinstance(raw["weight"], (int, float)):
                    raise UserError(f"{source}: {where}: weight 应为数字")
                terms.append(Term(float(raw["weight"]), tuple((f, float(c)) for f, c in raw["of"].items())))
            dimensions[platform][dimension] = tuple(terms)

    return Methodology(
        name=str(doc.get("name") or Path(source).stem),
        title=str(doc.get("title") or doc.get("name") or ""),
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        source=source,
        utc_offset_hours=int(get("period.utc_offset_hours")),
        window_hours=get("snapshot.window_hours"),
        unknown_counts_as_original=bool(get("originality.unknown_counts_as_original", bool)),
        innovative_forms=forms,
        excluded_forms=excluded,
        case_points_factor=get("influence.case_points_factor"),
        campaign_points=get("influence.campaign_points"),
        scale=get("normalization.scale"),
        total_weights={d: get(f"total.{d}") for d in DIMENSIONS},
        dimensions=dimensions,
    )


def load_peer(name: str) -> dict:
    """The constants of a peer index: 'wci', 'bci' or 'peoples-daily'."""
    data = resources.files("govmedia.methodology").joinpath(f"{name}.toml").read_bytes()
    doc = tomllib.loads(data.decode("utf-8"))
    doc["sha256"] = hashlib.sha256(data).hexdigest()
    return doc
