"""Content forms: parsing a stated 形式 column and classifying title/text by keyword.

The keyword lists are data (forms.toml), not code; GOVMEDIA_FORMS points at a user's copy.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from govmedia.core.errors import UserError, read_failed
from govmedia.core.vocabulary import FORMS

_SPLIT_RE = re.compile(r"[,，;；|、/\s]+")


@dataclass(frozen=True)
class FormClassifier:
    pattern: re.Pattern[str] | None
    form_of: dict[str, str]  # lower-cased keyword -> form
    alias_of: dict[str, str]  # lower-cased name -> form

    def classify(self, *texts: str | None) -> tuple[str, ...]:
        if self.pattern is None:
            return ()
        found: set[str] = set()
        for text in texts:
            if text:
                for match in self.pattern.finditer(text):
                    found.add(self.form_of[match.group(0).lower()])
        return tuple(sorted(found))

    def parse(self, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (list, tuple)):
            parts = [str(p) for p in value]
        else:
            parts = _SPLIT_RE.split(str(value).strip())
        forms: dict[str, None] = {}
        for part in parts:
            part = part.strip()
            if not part or part.lower() in ("none", "null", "nan"):
                continue
            form = self.alias_of.get(part.lower())
            if form is None:
                raise ValueError(f"未知形式 {part!r}（可用: {'、'.join(FORMS)}）")
            forms[form] = None
        return tuple(forms)


def load_classifier(path: str | Path | None = None) -> FormClassifier:
    path = path or os.environ.get("GOVMEDIA_FORMS")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"无法读取形式关键词文件 {path}：{read_failed(exc)}") from exc
        return _build(text, str(path))
    return _default_classifier()


@lru_cache(maxsize=1)
def _default_classifier() -> FormClassifier:
    text = resources.files("govmedia.ingest").joinpath("forms.toml").read_text(encoding="utf-8")
    return _build(text, "forms.toml")


def _build(text: str, origin: str) -> FormClassifier:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{origin}: 形式关键词文件格式错误: {exc}") from exc
    form_of: dict[str, str] = {}
    alias_of: dict[str, str] = {f: f for f in FORMS}
    for form, spec in (data.get("forms") or {}).items():
        if form not in FORMS:
            raise UserError(f"{origin}: 未知形式 [forms.{form}]（可用: {', '.join(FORMS)}）")
        for name in [spec.get("label", ""), *spec.get("aliases", [])]:
            if name:
                alias_of[str(name).lower()] = form
        for word in spec.get("keywords", []):
            form_of[str(word).lower()] = form
    if not form_of:
        return FormClassifier(None, form_of, alias_of)
    # Longest first so that "微视频" wins over "视频"; latin words only as whole words.
    parts = []
    for word in sorted(form_of, key=len, reverse=True):
        escaped = re.escape(word)
        if re.fullmatch(r"[0-9a-z°]+", word):
            escaped = rf"(?<![0-9a-z]){escaped}(?![0-9a-z])"
        parts.append(escaped)
    return FormClassifier(re.compile("|".join(parts), re.IGNORECASE), form_of, alias_of)
