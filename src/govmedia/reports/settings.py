"""Report settings: what an office sets for its white paper and monthly bulletin (city, title,
guiding and producing units, publication month, its own chapters in Markdown, which generated
chapters appear, Top-N, number style).

A settings file is TOML; chapter files are named relative to it. The settings in force are kept in
the store (key `report_settings`: the TOML text and every chapter's Markdown), set by
`govmedia report-settings import FILE` or the web's report settings page; `govmedia report`
without `--settings` and the web's reports use them. Entry points: `load_settings(path)`,
`parse_settings(text, ...)`, `stored_settings(con)`, `save_settings(con, ...)`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import duckdb

from govmedia.core.errors import FieldError, UserError, read_failed
from govmedia.core.vocabulary import PLATFORMS, parse_platform
from govmedia.store import settings as kv
from govmedia.store import transaction
from govmedia.store.users import audit

STORE_KEY = "report_settings"
# Where an office chapter goes among the generated ones.
PLACES = {"before-data": "发展概况之前", "after-overview": "发展概况之后", "after-rankings": "榜单与点评之后",
          "after-cases": "优秀传播范例之后", "end": "附件之后（全文最后）"}
# The generated chapters an office may leave out.
SECTIONS = {"overview": "发展概况", "methodology": "指标说明", "rankings": "榜单与点评", "cases": "优秀传播范例",
            "annexes": "附件"}
NUMBER_STYLES = {"chinese": "万、亿（1.3 亿次）", "plain": "千分位（130,000,000 次）"}
KEYS = {"city", "title", "subtitle", "guiding_units", "producing_units", "published", "chapters", "sections",
        "numbers", "top", "excellent", "cover_color", "bulletin_title", "awards"}
CHAPTER_KEYS = {"file", "place", "title"}
AWARD_KEYS = {"title", "entries"}
MAX_CHAPTER_BYTES = 2 * 1024 * 1024
MAX_CHAPTERS = 30


@dataclass(frozen=True)
class Chapter:
    """An office's own chapter: its title (the Markdown's first `#` heading unless the settings
    name one), where it goes, and its Markdown without that heading."""
    file: str
    place: str
    title: str
    markdown: str


@dataclass(frozen=True)
class ReportSettings:
    city: str = ""
    title: str | None = None
    bulletin_title: str | None = None
    subtitle: str | None = None
    guiding_units: tuple[str, ...] = ()
    producing_units: tuple[str, ...] = ()
    published: str | None = None  # "2020-12"
    chapters: tuple[Chapter, ...] = ()
    sections: tuple[str, ...] = tuple(SECTIONS)
    numbers: str = "chinese"
    top: int = 15  # Top-N of the non-district categories (the white paper: 15)
    excellent: Mapping[str, int] | None = None
    cover_color: str = "#b3261e"
    awards: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (奖项, its entries): the report's annexes
    text: str = ""  # the TOML as written
    sources: Mapping[str, str] = field(default_factory=dict)  # chapter file -> its Markdown, as stored

    @property
    def published_label(self) -> str | None:
        if not self.published:
            return None
        year, month = self.published.split("-")
        return f"{year}年{int(month)}月"

    def chapters_at(self, place: str) -> list[Chapter]:
        return [c for c in self.chapters if c.place == place]


DEFAULT = ReportSettings()
EXAMPLE = """# 报告设置（TOML）。每一项都可省略；省略时用括号中的默认值。
city = "宁城市"                                  # 城市名，用于标题与榜单名（空）
title = "2020年宁城市政务传播白皮书"              # 年度报告标题（“YYYY年政务新媒体传播影响力报告”）
subtitle = "政务新媒体传播影响力年度报告"          # 副标题（统计周期）
guiding_units = ["中共宁城市委网信办"]            # 指导单位，印在封面
producing_units = ["宁城市互联网信息办公室"]      # 出品/编制单位，印在封面
published = "2020-12"                            # 发布月份，封面印作 2020年12月
numbers = "chinese"                              # 正文大数：chinese（1.3 亿次）或 plain（130,000,000 次）
top = 15                                         # 民生、综合类榜单列出前几名（区级全部列出）

[[chapters]]                                     # 本单位撰写的章节（Markdown），按顺序
file = "绪论.md"                                  # 章节的文件名（与设置文件放在一起；网页上即下方章节的文件名）
place = "before-data"                            # before-data、after-overview、after-rankings、after-cases、end

[[awards]]                                       # 获奖名单，列入附件；每个奖项一段
title = "2020 战疫传播贡献奖"
entries = ["宁城发布工作室《抗疫海报系列》"]
"""


def _error(key: str, value: object, reason: str) -> FieldError:
    return FieldError("settings", value, f"{key}: {reason}")


def _text(doc: dict, key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(key, value, "应为文字（用英文双引号括起）")
    return value.strip() or None


def _units(doc: dict, key: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _error(key, value, "应为单位名称的列表，如 [\"中共宁城市委网信办\"]")
    return tuple(v.strip() for v in value if v.strip())


def _title_of(markdown: str, fallback: str) -> tuple[str, str]:
    """(title, body): the first level-1 heading is the chapter's title."""
    match = re.match(r"\s*#\s+(.+?)\s*#*\s*(?:\n|$)", markdown)
    if match:
        return match.group(1).strip(), markdown[match.end():]
    return fallback, markdown


def parse_settings(text: str, source: str, read_chapter: Callable[[str], str]) -> ReportSettings:
    """Settings from TOML text; `read_chapter(file)` gives a chapter's Markdown or raises UserError.
    Every mistake is one line naming the key or the file."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FieldError("settings", source, f"不是有效的 TOML：{exc}") from exc
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise _error(unknown[0], doc[unknown[0]], f"没有这个设置项（可用：{'、'.join(sorted(KEYS))}）")
    published = _text(doc, "published")
    if published is not None:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", published)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise _error("published", published, "应写成 YYYY-MM，如 2020-12")
        published = f"{match.group(1)}-{int(match.group(2)):02d}"
    numbers = _text(doc, "numbers") or "chinese"
    if numbers not in NUMBER_STYLES:
        raise _error("numbers", numbers, "应为 chinese（万、亿）或 plain（千分位）")
    top = doc.get("top", 15)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 500:
        raise _error("top", top, "应为 1 到 500 之间的整数")
    sections = doc.get("sections", list(SECTIONS))
    if not isinstance(sections, list) or any(s not in SECTIONS for s in sections):
        raise _error("sections", sections, f"应为以下各项的列表：{'、'.join(SECTIONS)}")
    excellent = doc.get("excellent")
    if excellent is not None:
        if not isinstance(excellent, dict):
            raise _error("excellent", excellent, "应写成 { weibo = 18, wechat = 18, douyin = 15 }")
        try:
            excellent = {parse_platform(k): int(v) for k, v in excellent.items()}
        except (ValueError, TypeError) as exc:
            raise _error("excellent", excellent, f"应写成 {{ weibo = 18, wechat = 18, douyin = 15 }}（{exc}）") from exc
        if any(v < 0 for v in excellent.values()):
            raise _error("excellent", excellent, "数目不能为负")
    colour = _text(doc, "cover_color") or DEFAULT.cover_color
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise _error("cover_color", colour, "应为 #RRGGBB 形式的颜色，如 #b3261e")
    entries = doc.get("chapters", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _error("chapters", entries, "每一章写成一个 [[chapters]] 段，含 file 与 place")
    if len(entries) > MAX_CHAPTERS:
        raise _error("chapters", len(entries), f"最多 {MAX_CHAPTERS} 章")
    chapters, sources = [], {}
    for number, entry in enumerate(entries, start=1):
        extra = sorted(set(entry) - CHAPTER_KEYS)
        if extra:
            raise _error(f"chapters 第 {number} 章的 {extra[0]}", entry[extra[0]],
                         f"没有这个设置项（可用：{'、'.join(sorted(CHAPTER_KEYS))}）")
        file = entry.get("file")
        if not isinstance(file, str) or not file.strip():
            raise _error(f"chapters 第 {number} 章", entry, "缺少 file（Markdown 文件名）")
        place = entry.get("place", "before-data")
        if place not in PLACES:
            raise _error(f"chapters 第 {number} 章的 place", place, f"应为 {'、'.join(PLACES)} 之一")
        markdown = read_chapter(file.strip())
        sources[file.strip()] = markdown
        title, body = _title_of(markdown, Path(file).stem)
        if isinstance(entry.get("title"), str) and entry["title"].strip():
            title = entry["title"].strip()
        chapters.append(Chapter(file.strip(), place, title, body))
    award_entries = doc.get("awards", [])
    if not isinstance(award_entries, list) or not all(isinstance(e, dict) for e in award_entries):
        raise _error("awards", award_entries, "每个奖项写成一个 [[awards]] 段，含 title 与 entries")
    awards = []
    for number, entry in enumerate(award_entries, start=1):
        extra = sorted(set(entry) - AWARD_KEYS)
        if extra:
            raise _error(f"awards 第 {number} 项的 {extra[0]}", entry[extra[0]],
                         f"没有这个设置项（可用：{'、'.join(sorted(AWARD_KEYS))}）")
        title, items = entry.get("title"), entry.get("entries", [])
        if not isinstance(title, str) or not title.strip():
            raise _error(f"awards 第 {number} 项", entry, "缺少 title（奖项名称）")
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise _error(f"awards 第 {number} 项的 entries", items, "应为获奖名称的列表，如 [\"某单位《某作品》\"]")
        awards.append((title.strip(), tuple(i.strip() for i in items)))
    return ReportSettings(
        city=_text(doc, "city") or "", title=_text(doc, "title"), bulletin_title=_text(doc, "bulletin_title"),
        subtitle=_text(doc, "subtitle"), guiding_units=_units(doc, "guiding_units"),
        producing_units=_units(doc, "producing_units"), published=published, chapters=tuple(chapters),
        sections=tuple(s for s in SECTIONS if s in sections), numbers=numbers, top=top, excellent=excellent,
        cover_color=colour, awards=tuple(awards), text=text, sources=sources)


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_CHAPTER_BYTES:
        raise FieldError("settings", name, f"{name} 超过 {MAX_CHAPTER_BYTES // 1024 // 1024} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise FieldError("settings", name, f"{name} 不是 UTF-8 或 GBK 编码的文本") from exc


def load_settings(path: str | Path) -> ReportSettings:
    """A settings file and the chapter files it names (relative to it)."""
    path = Path(path)
    try:
        text = _decode(path.read_bytes(), path.name)
    except OSError as exc:
        raise UserError(f"{path}: 无法读取报告设置文件（{read_failed(exc)}）") from exc
    folder = path.parent.resolve()

    def read_chapter(name: str) -> str:
        target = (folder / name).resolve()
        if not target.is_file():
            raise FieldError("settings", name, f"chapters: 找不到章节文件 {name}（相对于 {path.name} 所在目录）")
        return _decode(target.read_bytes(), name)

    return parse_settings(text, path.name, read_chapter)


def from_texts(text: str, chapters: Mapping[str, str], source: str = "报告设置") -> ReportSettings:
    """Settings from TOML text and the chapters' Markdown by file name (the web form, the store)."""
    def read_chapter(name: str) -> str:
        if name not in chapters:
            raise FieldError("settings", name, f"chapters: 缺少章节 {name} 的内容")
        return chapters[name]

    return parse_settings(text, source, read_chapter)


def stored_settings(con: duckdb.DuckDBPyConnection) -> ReportSettings:
    """The settings in force; the defaults on a store where none were saved."""
    value = kv.get(con, STORE_KEY)
    if not value:
        return DEFAULT
    saved = json.loads(value)
    return from_texts(saved["text"], saved.get("chapters", {}))


def save_settings(con: duckdb.DuckDBPyConnection, settings: ReportSettings, actor: str | None) -> None:
    """Keep `settings` (validated already: a ReportSettings) as the ones in force, audited."""
    with transaction(con):
        kv.put(con, STORE_KEY, json.dumps({"text": settings.text, "chapters": dict(settings.sources)},
                                          ensure_ascii=False))
        audit(con, actor, "reports.settings", {"city": settings.city, "title": settings.title,
                                               "chapters": [c.file for c in settings.chapters]})


def platforms_with_excellent(settings: ReportSettings) -> dict[str, int] | None:
    return {p: settings.excellent[p] for p in PLATFORMS if p in settings.excellent} if settings.excellent else None


# The keys the site's form sets in fields of their own; the rest are edited as TOML beside them.
FORM_KEYS = ("city", "title", "subtitle", "guiding_units", "producing_units", "published")


def split_for_form(settings: ReportSettings) -> tuple[dict, str]:
    """(the form's fields, the other settings as TOML) of the settings in force."""
    import tomli_w

    doc = tomllib.loads(settings.text) if settings.text else {}
    fields = {key: doc.pop(key, None) for key in FORM_KEYS}
    doc.pop("chapters", None)  # each chapter is a block of the form
    return fields, tomli_w.dumps(doc)


def join_from_form(fields: Mapping[str, object], chapters: list[tuple[str, str]], other: str) -> str:
    """The TOML of the form's fields, its chapters [(file, place)] and the other settings' TOML
    (whose own values of the form's keys and chapters the form's replace)."""
    import tomli_w

    try:
        doc = tomllib.loads(other or "")
    except tomllib.TOMLDecodeError as exc:
        raise FieldError("settings", "其他设置", f"其他设置不是有效的 TOML：{exc}") from exc
    for key in (*FORM_KEYS, "chapters"):
        doc.pop(key, None)
    basic = {k: v for k, v in fields.items() if v not in (None, "", [], ())}
    if chapters:
        basic["chapters"] = [{"file": file, "place": place} for file, place in chapters]
    return tomli_w.dumps({**basic, **doc})
