"""Methodologies as data: GMI-1 (ours) and the peer indices (WCI, BCI, People's Daily).

`load_methodology(path)` reads a GMI-style TOML file, checks every key, and keeps the sha256 of
the file's bytes so that every stored score can say exactly which methodology produced it.

The methodology in force is recorded in the store (`govmedia score --methodology FILE` sets it,
`govmedia db info` shows it); `resolve(con, given)` is what every read and rescore uses: the
methodology it was given, else the one in force, else the built-in GMI-1.

Versioning: besides the file's sha256, each platform has a hash of the parsed values that score
it (`platform_sha256`): the shared settings and that platform's terms, not comments, layout or
other platforms' terms. Adding terms for a new platform, or an option that is off by default,
leaves the hashes of the existing platforms unchanged, so their stored scores still count as
computed by the methodology in force.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from govmedia.core.errors import UserError, read_failed
from govmedia.core.time import UTC_OFFSET_HOURS
from govmedia.core.vocabulary import DIMENSION_NAMES, DIMENSIONS, FORMS, METRIC_NAMES, METRICS, PLATFORMS  # noqa: F401 (names re-exported)
from govmedia.methodology.anomalies import Thresholds, builtin_thresholds, load_thresholds, read_toml
from govmedia.store import settings

BUILTIN_SOURCE = "gmi-1.toml（内置）"
COMPUTED_DIMENSIONS = ("reach", "engagement", "innovation")  # influence comes from cases and campaigns

_FEATURE_RE = re.compile(r"^(n|n_o|n_i|(sum|sum_o|sum_i|avg|avg_o)_(%s))$" % "|".join(METRICS))
FEATURE_NAMES = {
    "n": "发布数", "n_o": "原创数", "n_i": "原创创新产品数",
    **{f"sum_{m}": f"总{METRIC_NAMES[m]}数" for m in METRICS},
    **{f"sum_o_{m}": f"原创总{METRIC_NAMES[m]}数" for m in METRICS},
    **{f"sum_i_{m}": f"原创创新产品总{METRIC_NAMES[m]}数" for m in METRICS},
    **{f"avg_{m}": f"单篇平均{METRIC_NAMES[m]}数" for m in METRICS},
    **{f"avg_o_{m}": f"原创单篇平均{METRIC_NAMES[m]}数" for m in METRICS},
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
    window_hours: float
    unknown_counts_as_original: bool
    innovative_forms: tuple[str, ...]
    excluded_forms: dict[str, tuple[str, ...]]
    case_points_factor: float
    campaign_points: float
    scale: float
    total_weights: dict[str, float]
    dimensions: dict[str, dict[str, tuple[Term, ...]]] = field(repr=False)
    # [anomalies]: replace flagged posts' inflated metrics before scoring (off in GMI-1), and the
    # thresholds that flag them (also what leaderboards mark when the discount is off).
    discount: bool = False
    thresholds: Thresholds = field(default_factory=builtin_thresholds)

    @property
    def window_us(self) -> int:
        """The snapshot window in whole microseconds (snapshots' stored age is in µs)."""
        return int(round(self.window_hours * 3600)) * 1_000_000

    def innovative_forms_for(self, platform: str) -> tuple[str, ...]:
        excluded = set(self.excluded_forms.get(platform, ()))
        return tuple(f for f in self.innovative_forms if f not in excluded)

    def applies(self, platform: str, dimension: str) -> bool:
        """Whether `dimension` can score anything on `platform`: influence wherever cases or campaigns
        earn points; the others where the platform has terms of some weight (innovation also needs a
        form that counts as innovative there). A dimension that does not apply reads 不适用, not 0.00."""
        if dimension == "influence":
            return self.case_points_factor > 0 or self.campaign_points > 0
        if dimension == "innovation" and not self.innovative_forms_for(platform):
            return False
        return any(t.weight for t in self.dimensions.get(platform, {}).get(dimension, ()))

    def features(self) -> set[str]:
        return {f for dims in self.dimensions.values() for terms in dims.values() for t in terms for f, _ in t.of}

    def platform_sha256(self, platform: str) -> str:
        """The hash of what scores `platform`: shared settings and its own terms (see the module doc)."""
        scoring = {
            "window_hours": self.window_hours,
            "unknown_counts_as_original": self.unknown_counts_as_original,
            "innovative_forms": list(self.innovative_forms_for(platform)),
            "case_points_factor": self.case_points_factor,
            "campaign_points": self.campaign_points,
            "scale": self.scale,
            "total_weights": self.total_weights,
            "dimensions": {d: [[t.weight, [list(x) for x in t.of]] for t in terms]
                           for d, terms in self.dimensions.get(platform, {}).items()},
        }
        if self.discount:  # absent when off, so that GMI-1's hashes are those of before the option
            scoring["anomaly_discount"] = self.thresholds.sha256
        return hashlib.sha256(json.dumps(scoring, sort_keys=True).encode()).hexdigest()

    def same_scores_as(self, other: "Methodology", platform: str) -> bool:
        return self.sha256 == other.sha256 or self.platform_sha256(platform) == other.platform_sha256(platform)


# Methodology files bundled with govmedia, by the name `--methodology` accepts for them.
BUNDLED = {"gmi-1": "gmi-1.toml", "gmi-1-discount": "gmi-1-discount.toml"}


def load_methodology(path: str | Path | None = None) -> Methodology:
    if path is None:
        return _builtin()
    name = str(path).removesuffix(".toml")
    if name in BUNDLED and not Path(path).exists():
        return bundled(name)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取方法文件 {path}：{read_failed(exc)}") from exc
    return parse_methodology(data, str(path))


@lru_cache(maxsize=4)
def bundled(name: str) -> Methodology:
    """A methodology file bundled with govmedia (gmi-1, gmi-1-discount)."""
    file = BUNDLED[name]
    data = resources.files("govmedia.methodology").joinpath(file).read_bytes()
    return parse_methodology(data, BUILTIN_SOURCE if name == "gmi-1" else f"{file}（内置）")


def _builtin() -> Methodology:
    return bundled("gmi-1")


def _anomalies(doc: dict, data: bytes, source: str) -> tuple[bool, Thresholds, str]:
    """[anomalies]: discount and the thresholds file (relative to the methodology file; a bundled
    methodology names the bundled thresholds). With a thresholds file of its own, the sha256 that
    identifies the methodology covers both files: changing a threshold changes discounted scores."""
    table = doc.get("anomalies") or {}
    if not isinstance(table, dict):
        raise UserError(f"{source}: [anomalies] 应是一个表")
    discount = table.get("discount", False)
    if not isinstance(discount, bool):
        raise UserError(f"{source}: anomalies.discount 应为 true 或 false")
    name = table.get("thresholds")
    if name is None:
        return discount, builtin_thresholds(), hashlib.sha256(data).hexdigest()
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{source}: anomalies.thresholds 应为阈值文件名")
    if source.endswith("（内置）") and name == "anomalies.toml":
        thresholds = builtin_thresholds()
    else:
        thresholds = load_thresholds(Path(source).parent / name)
    combined = hashlib.sha256(data + b"\0" + thresholds.text.encode("utf-8")).hexdigest()
    return discount, thresholds, combined


def parse_methodology(data: bytes, source: str) -> Methodology:
    text, doc = read_toml(data, source, "方法文件")
    if "base" in doc:
        # A variant names a bundled methodology and replaces some of its tables (gmi-1-discount).
        base = doc.pop("base")
        if base != "gmi-1":  # one level: the bundled GMI-1 (a variant of a variant would need a chain)
            raise UserError(f"{source}: base 只能是 \"gmi-1\"（内置 GMI-1），而不是 {base!r}；"
                            f"要在 GMI-1-D 的基础上修改，请写 base = \"gmi-1\" 并照抄其 [anomalies] 表")
        base_data = resources.files("govmedia.methodology").joinpath(BUNDLED[base]).read_bytes()
        doc = {**tomllib.loads(base_data.decode("utf-8")), **doc}
        data = base_data + b"\0" + data  # the identity covers what the base contributes

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

    # Months are Beijing months everywhere (core.time); a file may say so, but not otherwise.
    offset = (doc.get("period") or {}).get("utc_offset_hours", UTC_OFFSET_HOURS)
    if offset != UTC_OFFSET_HOURS:
        raise UserError(f"{source}: period.utc_offset_hours 只能是 {UTC_OFFSET_HOURS}（本系统按北京时间归月），而不是 {offset!r}")
    forms = tuple(get("innovation.forms", list))
    unknown = [f for f in forms if f not in FORMS]
    excluded = {p: tuple(v) for p, v in (doc.get("innovation", {}).get("excluded_forms") or {}).items()}
    unknown += [f for v in excluded.values() for f in v if f not in FORMS]
    if unknown:
        raise UserError(f"{source}: 未知形式 {', '.join(unknown)}（可用: {', '.join(FORMS)}）")

    dimensions: dict[str, dict[str, tuple[Term, ...]]] = {}
    for platform in PLATFORMS:
        dimensions[platform] = {}
        # A file written before a platform was added has no terms for it: its accounts score 0
        # under that file (the page and the report say the platform is not defined there).
        defined = isinstance(doc.get("dimensions"), dict) and platform in doc["dimensions"]
        for dimension in COMPUTED_DIMENSIONS:
            raw_terms = get(f"dimensions.{platform}.{dimension}", list) if defined else []
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

    discount, thresholds, sha256 = _anomalies(doc, data, source)
    return Methodology(
        name=str(doc.get("name") or Path(source).stem),
        title=str(doc.get("title") or doc.get("name") or ""),
        sha256=sha256,
        text=text,
        source=source,
        window_hours=get("snapshot.window_hours"),
        unknown_counts_as_original=bool(get("originality.unknown_counts_as_original", bool)),
        innovative_forms=forms,
        excluded_forms=excluded,
        case_points_factor=get("influence.case_points_factor"),
        campaign_points=get("influence.campaign_points"),
        scale=get("normalization.scale"),
        total_weights={d: get(f"total.{d}") for d in DIMENSIONS},
        dimensions=dimensions,
        discount=discount,
        thresholds=thresholds,
    )


def builtin() -> Methodology:
    return load_methodology(None)


def in_force(con) -> Methodology:
    """The methodology recorded as in force in the store; the built-in GMI-1 when none is."""
    recorded = settings.methodology_in_force(con)
    if recorded is None:
        return builtin()
    text, source = recorded
    return parse_methodology(text.encode("utf-8"), source)


def resolve(con, given: "str | Path | Methodology | None" = None) -> Methodology:
    """What a read or a rescore runs under: the methodology it was given, else the one in force."""
    if isinstance(given, Methodology):
        return given
    if given is not None:
        return load_methodology(given)
    return in_force(con)


def put_in_force(con, m: Methodology) -> None:
    """Record `m` (its text) as the methodology in force; inside the caller's transaction."""
    settings.record_methodology(con, m.sha256, m.name, m.source, m.text)


def stored(con, sha256: str) -> Methodology | None:
    """A methodology recorded in the store by its file's sha256."""
    recorded = settings.methodology_text(con, sha256)
    if recorded is None:
        return builtin() if sha256 == builtin().sha256 else None
    return parse_methodology(recorded[0].encode("utf-8"), recorded[1])


def load_peer(name: str) -> dict:
    """The constants of a peer index: 'wci', 'bci' or 'peoples-daily'."""
    data = resources.files("govmedia.methodology").joinpath(f"{name}.toml").read_bytes()
    doc = tomllib.loads(data.decode("utf-8"))
    doc["sha256"] = hashlib.sha256(data).hexdigest()
    return doc
