"""The thresholds of the inflation (刷量) flags as data: `anomalies.toml` beside the methodology.

`load_thresholds(path)` reads and checks a thresholds file (the built-in one when no path is
given); the rules are applied by `scoring.anomalies`. See the bundled file for what each key means.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from govmedia.core.errors import UserError, read_failed
from govmedia.core.vocabulary import METRIC_NAMES, METRICS, PLATFORM_NAMES, PROFILES

BUILTIN_THRESHOLDS = "anomalies.toml（内置）"
KINDS = ("ratio", "repost_burst", "jump")
KIND_NAMES = {"ratio": "互动比例异常", "repost_burst": "转发突增无评论", "jump": "两次观测间猛增"}
RATIO_KINDS = ("ratio", "repost_burst")


@dataclass(frozen=True)
class Rule:
    kind: str
    platforms: tuple[str, ...]
    volume: str
    response: tuple[str, ...] = ()
    min_volume: float = 0.0  # ratio kinds
    volume_factor: float = 1.0
    rate_factor: float = 1.0
    min_increment: float = 0.0  # jump
    jump_factor: float = 1.0
    z: float = 4.0

    @property
    def name(self) -> str:
        """Where the rule is, for messages and evidence: 互动比例异常（微信、头条号 阅读）."""
        return f"{KIND_NAMES[self.kind]}（{'、'.join(PLATFORM_NAMES[p] for p in self.platforms)} {METRIC_NAMES[self.volume]}）"


@dataclass(frozen=True)
class Thresholds:
    source: str
    sha256: str
    text: str
    prior_posts: float
    min_spread: float
    rules: tuple[Rule, ...]

    def rule_for(self, kind: str, platform: str, metric: str) -> Rule:
        """The rule that raised a flag of `kind` on `metric` of a `platform` post."""
        return next(r for r in self.rules if r.kind == kind and r.volume == metric and platform in r.platforms)

    def for_platform(self, platform: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if platform in r.platforms)

    def volume_metric(self, platform: str) -> str | None:
        """The metric whose inflation the platform's ratio rule watches (what a flag's share is of)."""
        for rule in self.for_platform(platform):
            if rule.kind in RATIO_KINDS:
                return rule.volume
        rules = self.for_platform(platform)
        return rules[0].volume if rules else None


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    if path is None:
        return builtin_thresholds()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取刷量阈值文件 {Path(path).name}：{read_failed(exc)}") from exc
    return parse_thresholds(data, Path(path).name)


@lru_cache(maxsize=1)
def builtin_thresholds() -> Thresholds:
    data = resources.files("govmedia.methodology").joinpath("anomalies.toml").read_bytes()
    return parse_thresholds(data, BUILTIN_THRESHOLDS)


def _number(node: dict, key: str, where: str, *, default: float | None = None, positive: bool = False,
            at_least: float | None = None) -> float:
    if key not in node:
        if default is None:
            raise UserError(f"{where}: 缺少 {key}；请照内置的 anomalies.toml 补上")
        return default
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where}: {key} 应为数字，而不是 {value!r}")
    if positive and value <= 0:
        raise UserError(f"{where}: {key} 应大于 0")
    if at_least is not None and value < at_least:
        raise UserError(f"{where}: {key} 应不小于 {at_least:g}")
    return float(value)


def read_toml(data: bytes, source: str, what: str) -> tuple[str, dict]:
    """(text, document) of a TOML file, or one line naming the file and what it should be."""
    try:
        text = data.decode("utf-8")
        return text, tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise UserError(f"{source}: {what}应以 UTF-8 编码保存") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib says what is wrong in English; the place is what a user needs
        place = re.search(r"at line (\d+), column (\d+)", str(exc))
        where = f"第 {place.group(1)} 行第 {place.group(2)} 列附近" if place else ""
        raise UserError(f"{source}: {what}不是有效的 TOML：{where}格式有误，请对照内置文件检查括号、引号与等号") from exc


def parse_thresholds(data: bytes, source: str) -> Thresholds:
    text, doc = read_toml(data, source, "刷量阈值文件")
    prior = doc.get("prior") or {}
    if not isinstance(prior, dict):
        raise UserError(f"{source}: [prior] 应是一个表")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise UserError(f"{source}: 至少要有一条 [[rules]]")
    rules = []
    seen: set[tuple[str, str, str]] = set()
    for index, raw in enumerate(raw_rules, start=1):
        where = f"{source}: 第 {index} 条 [[rules]]"
        if not isinstance(raw, dict):
            raise UserError(f"{where} 应是一个表")
        kind = raw.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise UserError(f"{where}: kind 应为 {'、'.join(KINDS)} 之一，而不是 {kind!r}")
        platforms = raw.get("platforms")
        if not isinstance(platforms, list) or not platforms or any(
                not isinstance(p, str) or p not in PROFILES for p in platforms):
            raise UserError(f"{where}: platforms 应列出平台代码（{'、'.join(PROFILES)}）")
        volume = raw.get("volume")
        if not isinstance(volume, str) or volume not in METRICS:
            raise UserError(f"{where}: volume 应为指标代码之一（{'、'.join(METRICS)}），而不是 {volume!r}")
        missing = [p for p in platforms if volume not in PROFILES[p].metrics]
        if missing:  # a rule that could never fire
            raise UserError(f"{where}: {'、'.join(PLATFORM_NAMES[p] for p in missing)}的导出没有{METRIC_NAMES[volume]}"
                            f"（{volume}），请把该平台移到另一条规则或换一个 volume")
        response = raw.get("response", [])
        if kind in RATIO_KINDS:
            if not isinstance(response, list) or not response or any(
                    not isinstance(r, str) or r not in METRICS or r == volume for r in response):
                raise UserError(f"{where}: response 应列出除 volume 外的指标代码（{'、'.join(METRICS)}）")
        for platform in platforms:
            # One ratio rule per platform (a post gets one verdict on its proportions); jump rules per metric.
            key = (platform, "ratio" if kind in RATIO_KINDS else f"jump:{volume}", "")
            if key in seen:
                raise UserError(f"{where}: {PLATFORM_NAMES[platform]} 已有同类规则")
            seen.add(key)
        if kind in RATIO_KINDS:
            rules.append(Rule(kind, tuple(platforms), volume, tuple(response),
                              min_volume=_number(raw, "min_volume", where, at_least=0),
                              volume_factor=_number(raw, "volume_factor", where, at_least=1),
                              rate_factor=_number(raw, "rate_factor", where, at_least=1),
                              z=_number(raw, "z", where, positive=True)))
        else:
            rules.append(Rule(kind, tuple(platforms), volume,
                              min_increment=_number(raw, "min_increment", where, at_least=0),
                              jump_factor=_number(raw, "jump_factor", where, at_least=1),
                              z=_number(raw, "z", where, positive=True)))
    return Thresholds(
        source=source, sha256=hashlib.sha256(data).hexdigest(), text=text,
        prior_posts=_number(prior, "posts", f"{source}: [prior]", default=20.0, at_least=0),
        min_spread=_number(prior, "min_spread", f"{source}: [prior]", default=0.35, positive=True),
        rules=tuple(rules),
    )
