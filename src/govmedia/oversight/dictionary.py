"""Content dictionaries and the multi-pattern scanner.

Two kinds of dictionary, both UTF-8 CSV files with a header:
- serious expression errors (严重表述错误): `wrong,correct,note,exceptions`
- banned or sensitive words (禁用/敏感词): `word,category,note,exceptions`

`exceptions` lists longer words that contain the entry and are fine (separated by `|` or `;`);
a match of the entry that lies inside a match of one of its exceptions does not count.

Matching: one Aho–Corasick automaton (pyahocorasick) over every entry and exception, built
once per run. Every occurrence is found, overlapping ones included; then
1. an entry occurrence covered by an occurrence of one of its own exceptions is dropped;
2. an entry occurrence strictly inside a longer entry occurrence of the same dictionary is
   dropped (so 「台湾总统」 is reported once, not also as 「总统」); partially overlapping
   occurrences are both reported.
Matching is exact on characters except for a character-variant table (`variants.csv`:
`variant,standard`, one character each, e.g. 臺,台): a variant in a text or an entry counts as its
standard character, so 「臺灣總統」 matches the entry 「台湾总统」. The table is one-to-one per
character, so offsets are unchanged. No case folding, no word-level conversion.

Speed: pyahocorasick finds a node's child by a linear search, so a dictionary of 10,000
Chinese words (thousands of distinct first characters at the root) scans only ~1.3 M
characters/s. The scanner therefore spells every character in two symbols of a small alphabet
(the character's index in the dictionaries' alphabet, in base b ≈ √alphabet, with separate
ranges for the first and second symbol so that a match can only begin on a character
boundary); characters outside the alphabet become a pair that no key contains. The translation
is one `str.translate` per text; offsets are halved back. About 6× faster on such dictionaries.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import ahocorasick

from govmedia.core.errors import UserError
from govmedia.core.text import decode
from govmedia.oversight.rules import read_source

SERIOUS = "serious"
SENSITIVE = "sensitive"
KIND_NAMES = {SERIOUS: "严重表述错误", SENSITIVE: "敏感词"}

_COLUMNS = {SERIOUS: ("wrong", "correct", "note", "exceptions"), SENSITIVE: ("word", "category", "note", "exceptions")}
_ALIASES = {
    "wrong": ("wrong", "错误表述", "错误"), "correct": ("correct", "正确表述", "正确"),
    "word": ("word", "词语", "敏感词"), "category": ("category", "类别"),
    "note": ("note", "说明", "备注"), "exceptions": ("exceptions", "例外", "例外词"),
}


@dataclass(frozen=True)
class Entry:
    kind: str
    word: str
    correction: str | None
    category: str | None
    note: str | None
    exceptions: tuple[str, ...]
    source: str  # file:line


@dataclass(frozen=True)
class Match:
    entry: Entry
    start: int  # offset of the first character in the scanned text
    end: int  # offset after the last character
    found: str = ""  # the text as written there (may use variant characters)


def parse_dictionary(name: str, data: bytes, kind: str) -> list[Entry]:
    """Parse one dictionary file; a bad row raises one UserError naming file:line."""
    text, _ = decode(data, Path(name))  # UTF-8 (BOM or not), UTF-16, GB18030: as Excel saves CSV
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    wanted = _COLUMNS[kind]
    for record in reader:
        line_no = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = {}
            for index, cell in enumerate(record):
                for column in wanted:
                    if cell.strip().lower() in _ALIASES[column]:
                        header.setdefault(column, index)
            if wanted[0] not in header:
                raise UserError(f"{name}:{line_no}: 表头缺少列 {wanted[0]}（应为 {','.join(wanted)}）")
            continue
        if record[0].lstrip().startswith("#"):
            continue

        def cell(column: str) -> str:
            index = header.get(column)
            return record[index].strip() if index is not None and index < len(record) else ""

        word = cell(wanted[0])
        where = f"{name}:{line_no}"
        if not word:
            raise UserError(f"{where}: 第一列（{wanted[0]}）为空")
        correction = cell("correct") or None if kind == SERIOUS else None
        if kind == SERIOUS and not correction:
            raise UserError(f"{where}: 「{word}」缺少正确表述（correct）")
        if correction == word:
            raise UserError(f"{where}: 「{word}」的正确表述与错误表述相同")
        if word in seen:
            raise UserError(f"{where}: 「{word}」与第 {seen[word]} 行重复")
        seen[word] = line_no
        raw_exceptions = cell("exceptions").replace(";", "|").replace("；", "|")
        exceptions = tuple(e.strip() for e in raw_exceptions.split("|") if e.strip())
        for exception in exceptions:
            if word not in exception or exception == word:
                raise UserError(f"{where}: 例外词「{exception}」应是包含「{word}」的更长的词")
        entries.append(Entry(kind, word, correction, cell("category") or None if kind == SENSITIVE else None,
                             cell("note") or None, exceptions, where))
    if header is None:
        raise UserError(f"{name}: 词典文件为空（应有表头 {','.join(wanted)}）")
    return entries


class _PairTable(dict):
    """str.translate table: alphabet characters -> two symbols; anything else -> the outside pair.

    A variant character gets the symbols of its standard character.
    """

    def __init__(self, alphabet: list[str], variants: dict[str, str]):
        super().__init__()
        base = max(2, math.isqrt(len(alphabet)) + 1)
        first, second = 0xE000, 0xE000 + base
        for index, char in enumerate(alphabet):
            self[ord(char)] = chr(first + index // base) + chr(second + index % base)
        for variant, standard in variants.items():
            if ord(standard) in self:
                self[ord(variant)] = self[ord(standard)]
        self.outside = chr(0xF8FF) * 2

    def __missing__(self, key: int) -> str:
        self[key] = self.outside
        return self.outside


class Scanner:
    """An automaton over the entries of both dictionaries and their exceptions."""

    def __init__(self, entries: Iterable[Entry], sha256: str = "", variants: dict[str, str] | None = None):
        self.entries = list(entries)
        self.sha256 = sha256
        variants = variants or {}
        automaton = ahocorasick.Automaton()
        keys: dict[str, list] = {}
        for entry in self.entries:
            keys.setdefault(entry.word, [[], []])[0].append(entry)
            for exception in entry.exceptions:
                keys.setdefault(exception, [[], []])[1].append(entry)
        self._table = _PairTable(sorted({variants.get(c, c) for key in keys for c in key}), variants)
        for key, (as_entry, as_exception) in keys.items():
            automaton.add_word(key.translate(self._table), (len(key), tuple(as_entry), tuple(as_exception)))
        self._automaton = automaton
        self._empty = not keys
        if keys:
            automaton.make_automaton()

    def scan(self, text: str | None) -> list[Match]:
        if not text or self._empty:
            return []
        hits: list[Match] = []
        covers: list[tuple[int, int, Entry]] = []
        for end_index, (length, as_entry, as_exception) in self._automaton.iter(text.translate(self._table)):
            end = (end_index + 1) // 2
            start = end - length
            for entry in as_entry:
                hits.append(Match(entry, start, end, text[start:end]))
            for entry in as_exception:
                covers.append((start, end, entry))
        if not hits:
            return []
        if covers:
            hits = [h for h in hits
                    if not any(e is h.entry and s <= h.start and h.end <= t for s, t, e in covers)]
        if len(hits) > 1:
            hits = [h for h in hits if not any(
                o is not h and o.entry.kind == h.entry.kind and o.start <= h.start and h.end <= o.end
                and (o.end - o.start) > (h.end - h.start) for o in hits)]
        hits.sort(key=lambda m: (m.start, -(m.end - m.start), m.entry.kind))
        return hits


def parse_variants(name: str, data: bytes) -> dict[str, str]:
    """`variant,standard[,note]`: one character each; a bad row raises one UserError naming file:line."""
    text, _ = decode(data, Path(name))  # UTF-8 (BOM or not), UTF-16, GB18030: as Excel saves CSV
    reader = csv.reader(io.StringIO(text, newline=""))
    table: dict[str, str] = {}
    header = True
    for record in reader:
        where = f"{name}:{reader.line_num}"
        if not any(cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        if header:
            header = False
            if record[0].strip().lower() in ("variant", "异体", "繁体"):
                continue
        cells = [c.strip() for c in record] + ["", ""]
        variant, standard = cells[0], cells[1]
        if len(variant) != 1 or len(standard) != 1:
            raise UserError(f"{where}: 每行应为一个异体字和一个标准字（如 臺,台），而不是 {variant!r},{standard!r}")
        if variant == standard:
            raise UserError(f"{where}: 「{variant}」的异体字与标准字相同")
        if variant in table and table[variant] != standard:
            raise UserError(f"{where}: 「{variant}」已对应「{table[variant]}」")
        table[variant] = standard
    for variant, standard in table.items():
        if standard in table:
            raise UserError(f"{name}: 「{standard}」既是标准字又是异体字（{variant}→{standard}→{table[standard]}）")
    return table


def load_scanner(serious: Iterable[str], sensitive: Iterable[str], variants: Iterable[str] = ()) -> Scanner:
    digest = hashlib.sha256()
    table: dict[str, str] = {}
    for spec in variants:
        name, data = read_source(spec)
        digest.update(b"variants\0" + data + b"\0")
        for variant, standard in parse_variants(name, data).items():
            if table.get(variant, standard) != standard:
                raise UserError(f"{name}: 「{variant}」在另一异体字表中对应「{table[variant]}」")
            table[variant] = standard
    entries: list[Entry] = []
    words: dict[tuple[str, str], str] = {}
    for kind, specs in ((SERIOUS, serious), (SENSITIVE, sensitive)):
        for spec in specs:
            name, data = read_source(spec)
            digest.update(kind.encode() + b"\0" + data + b"\0")
            for entry in parse_dictionary(name, data, kind):
                key = (kind, entry.word)
                if key in words:
                    raise UserError(f"{entry.source}: 「{entry.word}」已在 {words[key]} 中出现")
                words[key] = entry.source
                entries.append(entry)
    return Scanner(entries, digest.hexdigest(), table)


def excerpt(text: str, match: Match, around: int = 12) -> str:
    left = max(0, match.start - around)
    right = min(len(text), match.end + around)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


def scan_texts(scanner: Scanner, rows: Iterable[tuple]) -> Iterator[tuple[tuple, str, Match, str]]:
    """For (key, title, text) rows yield (key, field, match, excerpt) for every counted match."""
    scan = scanner.scan
    for key, title, text in rows:
        if title:
            for m in scan(title):
                yield key, "title", m, excerpt(title, m)
        if text:
            for m in scan(text):
                yield key, "text", m, excerpt(text, m)
