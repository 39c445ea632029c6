"""The inspection rules file (TOML) and the dictionaries it names.

A rules file is data: thresholds for the update, originality, response and content rules, and
the dictionary files. A wrong value is one line naming the file and the key.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from govmedia.core.errors import FieldError, UserError, read_failed

BUILTIN = "builtin:"


@dataclass(frozen=True)
class Rules:
    name: str
    sha256: str  # of the rules file's bytes
    path: str
    sleeping_days: int = 14
    zombie_days: int = 90
    alert_days: int = 3
    originality_window_days: int = 90
    originality_min_posts: int = 10
    originality_min_share: float = 0.3
    unknown_counts_as_original: bool = True
    originality_veto: bool = False
    response_window_days: int = 90
    response_min_comments: int = 10
    response_min_share: float = 0.2
    response_max_median_hours: float = 72.0
    response_veto: bool = False
    content_window_days: int = 90
    serious_errors: tuple[str, ...] = ()  # resolved paths (or builtin:NAME)
    sensitive_words: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    serious_veto: bool = True
    sensitive_veto: bool = False


def builtin_path(name: str):
    return resources.files("govmedia.oversight").joinpath(name)


def read_source(spec: str) -> tuple[str, bytes]:
    """(display name, bytes) of a dictionary or rules file; builtin:NAME is bundled with the program."""
    if spec.startswith(BUILTIN):
        name = spec[len(BUILTIN):]
        resource = builtin_path(name)
        if not resource.is_file():
            raise UserError(f"内置词典不存在: {name}")
        return name, resource.read_bytes()
    path = Path(spec)
    if not path.exists():
        raise UserError(f"{path}: 文件不存在")
    try:
        return str(path), path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: 无法读取（{read_failed(exc)}）") from exc


def load_rules(path: str | Path | None = None, *, alert_days: int | None = None) -> Rules:
    """Read a rules file (default: the bundled rules.toml)."""
    if path is None:
        where, data = "rules.toml", builtin_path("rules.toml").read_bytes()
        base = None
    else:
        where, data = read_source(str(path))
        base = Path(path).resolve().parent
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{where}: 不是有效的 TOML 规则文件（{exc}）") from exc

    def get(section: str, key: str, kind, default):
        value = doc.get(section, {}).get(key, default)
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        if not ok:
            raise UserError(f"{where}: [{section}] {key} 应为{'true/false' if kind is bool else '非负数'}，而不是 {value!r}")
        return float(value) if kind is float else value

    def files(key: str) -> tuple[str, ...]:
        value = doc.get("content", {}).get(key, [f"{BUILTIN}{key}.csv"])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise UserError(f"{where}: [content] {key} 应为文件路径的列表")
        resolved = []
        for v in value:
            if v.startswith(BUILTIN) or Path(v).is_absolute() or base is None:
                resolved.append(v)
            else:
                resolved.append(str(base / v))
        return tuple(resolved)

    name = doc.get("name", "GOV-CHECK-1")
    rules = Rules(
        name=str(name), sha256=hashlib.sha256(data).hexdigest(), path=where,
        sleeping_days=get("update", "sleeping_days", int, 14),
        zombie_days=get("update", "zombie_days", int, 90),
        alert_days=get("update", "alert_days", int, 3) if alert_days is None else alert_days,
        originality_window_days=get("originality", "window_days", int, 90),
        originality_min_posts=get("originality", "min_posts", int, 10),
        originality_min_share=get("originality", "min_share", float, 0.3),
        unknown_counts_as_original=get("originality", "unknown_counts_as_original", bool, True),
        originality_veto=get("originality", "veto", bool, False),
        response_window_days=get("response", "window_days", int, 90),
        response_min_comments=get("response", "min_comments", int, 10),
        response_min_share=get("response", "min_share", float, 0.2),
        response_max_median_hours=get("response", "max_median_hours", float, 72.0),
        response_veto=get("response", "veto", bool, False),
        content_window_days=get("content", "window_days", int, 90),
        serious_errors=files("serious_errors"),
        sensitive_words=files("sensitive_words"),
        variants=files("variants"),
        serious_veto=get("content", "serious_veto", bool, True),
        sensitive_veto=get("content", "sensitive_veto", bool, False),
    )
    if rules.sleeping_days < 1 or rules.zombie_days <= rules.sleeping_days:
        raise UserError(f"{where}: [update] 应满足 1 ≤ sleeping_days < zombie_days")
    if rules.originality_min_share > 1 or rules.response_min_share > 1:
        raise UserError(f"{where}: min_share 应在 0 与 1 之间")
    if alert_days is not None and alert_days < 0:
        raise FieldError("alert_days", alert_days, "应为非负整数")
    return rules
