"""Validating a whole file at once: the mapped columns of a file in, the store's stage table and the
rejects out, with Arrow compute kernels over whole columns instead of a Python call per row.

The rules are those of `canonical.validate` (which stays the reference for single rows and for
comments), in the same order, with the same reasons. Common values are parsed by the kernels
(digits, `YYYY-MM-DD HH:MM[:SS]` in Beijing time, unix seconds and milliseconds, the yes/no words);
every other distinct value of a column goes once through the Python parser of `values.py`, which
decides it or says why not. Keywords of forms are looked for by the kernels, one search per form;
only rows where keywords of two forms overlap go through the Python classifier (its scan consumes
what it matches). #Topics# are cut out by the kernels too, except in rows where the pattern pairs
the "#" otherwise and on platforms of open topics (`_topics`). (DuckDB SQL was tried first: its
per-query setup of these expressions costs about 0.1 s, too much for a folder of small files.)
"""

from __future__ import annotations

import itertools
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govmedia.core.time import UTC_OFFSET, local_text
from govmedia.core.vocabulary import FORMS, METRICS, PLATFORM_NAMES, PROFILES, extract_hashtags, parse_platform
from govmedia.ingest import values as v
from govmedia.core.rows import MERGED, Comment, Reject
from govmedia.ingest.canonical import COMMENT_FIELD_NAMES, FIELD_NAMES, Record
from govmedia.ingest.forms import FormClassifier

FIELDS = ("platform", "account_id", "post_id", "published_at", "observed_at", "is_original", "forms", "title",
          "text", "url", "position", *METRICS)
# What Python's str.strip() takes as white space (as a literal: computing it costs 80 ms at import;
# tests/test_frame.py checks it against str.isspace).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


@dataclass
class Frame:
    """A file's rows mapped onto canonical fields, column by column.

    `values[f]` holds the raw cells of field f (any of str, int, float, bool, datetime, None);
    `columns[f]` the source column each cell came from, per row, or None where the format does
    not carry the field (messages name it, and only a carried value is "native" in a merge)."""

    lines: list[int]
    values: dict[str, list | pa.Array]
    columns: dict[str, list]
    forms: list[tuple[str, ...]]  # forms the format states, per row
    hashtags: list[tuple[str, ...]]  # topics from a crawler's own column, per row
    default_forms: list[tuple[str, ...]]  # used only when nothing else says anything
    errors: list[str | None]
    raw: Callable[[int], Mapping[str, Any]] = field(default=lambda line: {})
    hints: pa.Array | None = None  # per row, the platform its file is of (concat_frames); else validate_frame's
    error_columns: list[str | None] | None = None  # per row, the column an error is about (None: the row's)

    def __len__(self) -> int:
        return len(self.lines)

    def slice(self, start: int, stop: int) -> "Frame":
        """Rows start..stop-1 (Arrow columns as zero-copy slices)."""
        def cut(cells):
            return cells.slice(start, stop - start) if isinstance(cells, pa.Array) else cells[start:stop]
        return Frame(self.lines[start:stop], {f: cut(c) for f, c in self.values.items()},
                     {f: cut(c) for f, c in self.columns.items()}, self.forms[start:stop], self.hashtags[start:stop],
                     self.default_forms[start:stop], self.errors[start:stop], self.raw,
                     None if self.hints is None else cut(self.hints),
                     None if self.error_columns is None else self.error_columns[start:stop])


def concat_frames(frames: list[Frame], hints: list[str | None]) -> Frame:
    """Several files' frames as one, numbered 0, 1, ... across them (their own lines stay in each
    frame), each row with its file's platform (`hints`): a folder of small files is validated at
    once, paying the kernels' fixed cost per call once instead of once per file."""
    def joined(get) -> pa.Array:
        return pa.concat_arrays([_strings(get(f)) for f in frames])

    def chained(get) -> list:
        return list(itertools.chain.from_iterable(get(f) for f in frames))

    n = sum(len(f) for f in frames)
    error_columns = chained(lambda f: f.error_columns or [None] * len(f)) \
        if any(f.error_columns is not None for f in frames) else None
    return Frame(list(range(n)), {name: joined(lambda f: f.values[name]) for name in FIELDS},
                 {name: joined(lambda f: f.columns[name]) for name in FIELDS}, chained(lambda f: f.forms),
                 chained(lambda f: f.hashtags), chained(lambda f: f.default_forms), chained(lambda f: f.errors),
                 hints=pa.concat_arrays([pa.repeat(pa.scalar(h, _STRING), len(f)) for f, h in zip(frames, hints)]),
                 error_columns=error_columns)


def frame_of(records: Iterable[Record], raw_of: Callable[[int], Mapping[str, Any]]) -> Frame:
    """A Frame from a format's Record stream (formats that map row by row)."""
    records = list(records)
    # One comprehension per field over the records: a loop over the fields inside a loop over the
    # records cost twice as much (the demo: 1.9 s).
    got = [r.values for r in records]
    cols = [r.columns for r in records]
    values = {f: [g.get(f) for g in got] for f in FIELDS}
    columns = {f: [c.get(f) for c in cols] for f in FIELDS}
    return Frame([r.line for r in records], values, columns, [r.forms for r in records],
                 [r.hashtags for r in records], [r.default_forms for r in records], [r.error for r in records],
                 raw_of)


# Half of a UTF-16 surrogate pair: JSON can escape one alone ("\ud83c", e.g. where a tool cut a
# text in the middle of an emoji), but no encoding can write it: Arrow, DuckDB and every file refuse it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
BROKEN_TEXT = ("含有无法保存的字符（半个表情符号，JSON 中单独的 \\ud83c 之类），其余内容无法确定是否完整；"
               "请修正这一格或重新导出后再导入")


def broken(value: Any) -> bool:
    """Whether a cell (a text, or a JSON list or object as `_text` writes it) holds half a surrogate pair."""
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    return isinstance(value, (list, tuple, dict)) and LONE_SURROGATE.search(_text(value)) is not None


def refuse_broken_text(frame: Frame) -> Frame:
    """A row with a cell holding half a surrogate pair (`broken`) is refused, naming that cell's
    column, and the cell is emptied so that the kernels read the other rows: one bad cell is one
    rejected row. Only a JSON file with a surrogate escape can hold one (`tabular.Table.surrogates`)."""
    errors, error_columns = None, None
    for name in FIELDS:
        cells = frame.values[name]
        if isinstance(cells, pa.Array):  # read by Arrow from bytes: valid text
            continue
        hits = [i for i, cell in enumerate(cells) if cell is not None and not isinstance(cell, (int, float)) and
                broken(cell)]
        if not hits:
            continue
        if errors is None:
            errors = list(frame.errors)
            error_columns = list(frame.error_columns or [None] * len(frame))
        cells = frame.values[name] = list(cells)  # a copy: the table's own column stays as read
        for i in hits:
            cells[i] = None
            if errors[i] is None:
                errors[i] = BROKEN_TEXT
                where = frame.columns[name][i]
                error_columns[i] = (where.as_py() if isinstance(where, pa.Scalar) else where) or FIELD_NAMES[name]
    if errors is not None:
        frame.errors, frame.error_columns = errors, error_columns
    return frame


def refuse_broken_records(records: list[Record]) -> list[Record]:
    """`refuse_broken_text` for rows mapped one by one (comments): the record's error names the cell."""
    for record in records:
        for name, cell in record.values.items():
            if cell is not None and broken(cell):
                record.values[name] = None
                if record.error is None:
                    record.error = BROKEN_TEXT
                    record.error_column = record.columns.get(name, COMMENT_FIELD_NAMES.get(name, name))
    return records


def raw_of(table) -> Callable[[int], Mapping[str, Any]]:
    """The row as read at a line (for the rejects file), indexed on first use."""
    index: dict[int, Mapping[str, Any]] = {}

    def lookup(line: int) -> Mapping[str, Any]:
        if not index:
            index.update(table.rows)
        return index.get(line, {})
    return lookup


@dataclass
class Validated:
    stage: pa.Table  # the store's stage rows (the columns of store.writer._STAGE_SCHEMA), one per valid row
    rejects: list[tuple[int, str | None, str]]  # (line, column, reason)


def _text(value: Any) -> str | None:
    """A cell as the text the parsers read (spreadsheets' integral floats as integers)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ",".join(str(x) for x in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _strings(cells) -> pa.Array:
    if isinstance(cells, pa.Array) and pa.types.is_string(cells.type):
        return cells  # a column Arrow read
    if cells and isinstance(cells[0], (str, type(None))) and cells.count(cells[0]) == len(cells):
        # One value on every row (a format's column name, a field it does not carry): repeated, not converted
        # cell by cell.
        return pa.nulls(len(cells), _STRING) if cells[0] is None else pa.repeat(pa.scalar(cells[0], _STRING), len(cells))
    try:
        return pa.array(cells, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    try:  # whole numbers (JSON's counts and unix times) are written by the kernel as _text would
        numbers = pa.array(cells)
        if pa.types.is_integer(numbers.type):
            return pc.cast(numbers, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid, OverflowError):
        pass
    return pa.array([_text(c) for c in cells], type=pa.string())


_STRING = pa.string()
_MISSING = pa.array(sorted(v.MISSING_STRINGS), _STRING)
_NONE_WORDS = pa.array(["none", "null", "nan"], _STRING)
_TRUE = pa.array(sorted(v._TRUE), _STRING)
_FALSE = pa.array(sorted(v._FALSE), _STRING)
_WORD_LENGTH = max(len(w) for w in (*v.MISSING_STRINGS, "none", "null", "nan"))
_BEIJING_OFFSET = pa.scalar(UTC_OFFSET, pa.duration("us"))
_LOCAL_TIME = r"^([1-9][0-9]{3})-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _strip(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim(arr, WHITESPACE)


def _short(text: pa.Array) -> pa.Array:
    """Each cell cut to one character more than the longest missing word: the words are looked up in
    lower case, and lower-casing whole texts cost more than the rest of their checks. Arrow's
    utf8_lower maps character to character, so a cut longer cell never lowers into a word."""
    return pc.utf8_slice_codeunits(text, start=0, stop=_WORD_LENGTH + 1)


def _trimmed(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The cells stripped, and their starts in lower case (`_short`): what `_missing` and `_clean_text`
    look at, made once for a column both read (a text column: stripping copies every text)."""
    text = _strip(arr)
    return text, pc.utf8_lower(_short(text))


def _missing(arr: pa.Array, trimmed: tuple[pa.Array, pa.Array] | None = None) -> pa.Array:
    """values.is_missing over a column: never null."""
    if arr.null_count == len(arr):  # a field the format does not carry
        return pa.repeat(pa.scalar(True), len(arr))
    word = pc.fill_null(pc.is_in((trimmed or _trimmed(arr))[1], value_set=_MISSING), False)
    return pc.fill_null(pc.or_(pc.is_null(arr), word), True)


def _clean_text(arr: pa.Array, trimmed: tuple[pa.Array, pa.Array] | None = None) -> pa.Array:
    """values.clean_text over a column."""
    if arr.null_count == len(arr):
        return arr
    text, start = trimmed or _trimmed(arr)
    word = pc.fill_null(pc.is_in(start, value_set=_NONE_WORDS), False)
    empty = pc.fill_null(pc.or_(pc.equal(text, ""), word), True)
    return pc.if_else(empty, pa.scalar(None, _STRING), text)


def _some(arr: pa.Array, text: str) -> bool:
    """Whether some cell holds `text` (a plain search: a fifth of a rewriting pass)."""
    return bool(pc.any(pc.match_substring(arr, text)).as_py())


def _clean_id(arr: pa.Array) -> pa.Array:
    text = _clean_text(arr)
    if not _some(text, "."):  # no "123.0" from a spreadsheet
        return text
    integral = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]+\.0+$"), False)
    return pc.if_else(integral, pc.replace_substring_regex(text, r"\.0+$", ""), text)


def _fast_count(arr: pa.Array) -> pa.Array:
    digits = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9]{1,18}$"), False)
    return pc.cast(pc.if_else(digits, arr, pa.scalar(None, _STRING)), pa.int64())


def _fast_int(arr: pa.Array) -> pa.Array:
    digits = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9]{1,9}$"), False)
    return pc.cast(pc.if_else(digits, arr, pa.scalar(None, _STRING)), pa.int32())


def _fast_bool(arr: pa.Array) -> pa.Array:
    word = pc.utf8_lower(_strip(arr))
    return pc.if_else(pc.is_in(word, value_set=_TRUE), True,
                      pc.if_else(pc.is_in(word, value_set=_FALSE), False, pa.scalar(None, pa.bool_())))


def _fast_time(arr: pa.Array) -> pa.Array:
    """Beijing 'YYYY-MM-DD HH:MM[:SS]' (T or space) and unix seconds or milliseconds; null for anything else,
    including a date that does not exist (strptime would roll 02-30 over into March)."""
    # Each rewriting pass is made only when some cell needs it (`_some`).
    # "+08:00" (or +0800) is Beijing time as it is.
    arr_local = pc.replace_substring_regex(arr, r"(:[0-9]{2})\+08:?00$", r"\1") if _some(arr, "+") else arr
    local = pc.if_else(pc.fill_null(pc.match_substring_regex(arr_local, _LOCAL_TIME), False),
                       pc.replace_substring(arr_local, "T", " ") if _some(arr_local, "T") else arr_local,
                       pa.scalar(None, _STRING))
    # Without seconds, ":00" is added: one parse, then a check that the parsed month and day are the
    # text's (strptime refuses a month or day out of 1-12 or 1-31, but rolls 04-31 over into May; the
    # pattern bounds the hours, minutes and seconds). Cheaper than writing every time back as text.
    short = pc.equal(pc.utf8_length(local), 16)
    if pc.any(short).as_py():
        local = pc.if_else(short, pc.binary_join_element_wise(local, ":00", ""), local)
    moment = pc.strptime(local, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    same = pc.and_(pc.equal(pc.month(moment), pc.cast(pc.utf8_slice_codeunits(local, start=5, stop=7), pa.int64())),
                   pc.equal(pc.day(moment), pc.cast(pc.utf8_slice_codeunits(local, start=8, stop=10), pa.int64())))
    parsed = pc.if_else(pc.fill_null(same, False), moment, pa.scalar(None, pa.timestamp("us")))
    result = pc.subtract(parsed, _BEIJING_OFFSET)
    if parsed.null_count == arr.null_count:  # every cell given is such a time
        return result
    for pattern, scale in ((r"^[1-9][0-9]{9}$", 1_000_000), (r"^[1-9][0-9]{12}$", 1_000)):
        hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        micros = pc.multiply(pc.cast(pc.if_else(hit, arr, pa.scalar(None, _STRING)), pa.int64()), scale)
        result = pc.if_else(hit, pc.cast(micros, pa.timestamp("us")), result)
    return result


# field -> (Arrow type, fast parse giving null where it cannot decide, Python parser)
_PARSED: dict[str, tuple[pa.DataType, Callable | None, Callable[[str], Any]]] = {
    "platform": (_STRING, None, parse_platform),
    "published_at": (pa.timestamp("us"), _fast_time, v.parse_time),
    "observed_at": (pa.timestamp("us"), _fast_time, v.parse_time),
    "is_original": (pa.bool_(), _fast_bool, v.parse_bool),
    "position": (pa.int32(), _fast_int, v.parse_int),
    **{m: (pa.int64(), _fast_count, v.parse_count) for m in METRICS},
}


def _parse(arr: pa.Array, kind: str, missing: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(values, errors) of a column (`missing`: its `_missing`): kernels first, then each distinct
    undecided cell once through the Python parser."""
    arrow_type, fast, parse = _PARSED[kind]
    if arr.null_count == len(arr):  # a field the format does not carry
        return pa.nulls(len(arr), arrow_type), pa.nulls(len(arr), _STRING)
    value = fast(arr) if fast else pa.nulls(len(arr), arrow_type)
    undecided = pc.and_(pc.invert(missing), pc.is_null(value))
    errors = pa.nulls(len(arr), _STRING)
    cells = pc.unique(pc.filter(arr, undecided)).to_pylist()
    if cells:
        results = [_attempt(parse, c) for c in cells]
        index = pc.index_in(arr, value_set=pa.array(cells, _STRING))
        value = pc.coalesce(value, pc.take(pa.array([r[1] for r in results], arrow_type), index))
        errors = pc.take(pa.array([r[2] for r in results], _STRING), index)
    return pc.if_else(missing, pa.scalar(None, arrow_type), value), errors


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _bits(forms: Iterable[str]) -> int:
    return sum(1 << _FORM_BIT[f] for f in forms)


_FORM_BIT = {f: i for i, f in enumerate(FORMS)}


def _codes(forms: list[tuple[str, ...]]) -> np.ndarray:
    """Each row's forms as a bit set."""
    if not forms or forms.count(forms[0]) == len(forms):  # one value on every row (a format's): no loop
        return np.full(len(forms), _bits(forms[0]) if forms else 0, dtype=np.int64)
    cache: dict[tuple, int] = {}
    return np.array([cache.get(t) if t in cache else cache.setdefault(t, _bits(t)) for t in forms], dtype=np.int64)


def _lists_of_bits(codes: np.ndarray) -> pa.Array:
    """Each row's bit set of forms as the sorted list of form names."""
    unique, inverse = np.unique(codes, return_inverse=True)
    lists = [sorted(f for f, i in _FORM_BIT.items() if code >> i & 1) for code in unique.tolist()]
    return pc.take(pa.array(lists, pa.list_(_STRING)), pa.array(inverse.astype(np.int64)))


# A file this large is validated in parts, one thread each: the kernels release the GIL, so the
# parts run on the CPUs together (the rules look at one row at a time, so the parts' results,
# joined, are the whole file's).
_PART_ROWS = 50_000


def validate_frame(frame: Frame, *, registered: Iterable[tuple[str, str]], forced: tuple[str, str] | None,
                   platform_hint: str | None, classifier: FormClassifier) -> Validated:
    """Every row of `frame` as a stage row or a reject; see the module docstring."""
    registered = frozenset(registered)
    parts = min(os.cpu_count() or 1, len(frame) // _PART_ROWS)
    if parts < 2:
        return _validate_part(frame, registered=registered, forced=forced, platform_hint=platform_hint,
                              classifier=classifier)
    bounds = [len(frame) * k // parts for k in range(parts + 1)]
    with ThreadPoolExecutor(parts) as pool:
        done = list(pool.map(lambda k: _validate_part(frame.slice(bounds[k], bounds[k + 1]), registered=registered,
                                                       forced=forced, platform_hint=platform_hint,
                                                       classifier=classifier), range(parts)))
    return Validated(pa.concat_tables([d.stage for d in done]).combine_chunks(),
                     [r for d in done for r in d.rejects])


def _validate_part(frame: Frame, *, registered: frozenset[tuple[str, str]], forced: tuple[str, str] | None,
                   platform_hint: str | None, classifier: FormClassifier) -> Validated:
    n = len(frame)
    lines = pa.array(frame.lines, pa.int64())
    raw = {f: _strings(frame.values[f]) for f in FIELDS}
    cols = {f: _strings(frame.columns[f]) for f in FIELDS}
    trimmed = {f: _trimmed(raw[f]) for f in ("title", "text", "url") if raw[f].null_count < n}
    missing = {f: _missing(raw[f], trimmed.get(f)) for f in (*_PARSED, "title", "text", "url")}  # each column's once
    parsed = {f: _parse(raw[f], f, missing[f]) for f in _PARSED}
    value = {f: parsed[f][0] for f in parsed}
    error = {f: parsed[f][1] for f in parsed}
    forms_cells = pc.unique(pc.drop_null(raw["forms"])).to_pylist()
    explicit = np.zeros(n, dtype=np.int64)
    forms_error = pa.nulls(n, _STRING)
    if forms_cells:
        outcomes = [_parse_forms(classifier, c) for c in forms_cells]
        index = pc.index_in(raw["forms"], value_set=pa.array(forms_cells, _STRING))
        explicit = pc.fill_null(pc.take(pa.array([_bits(o) if isinstance(o, tuple) else 0 for o in outcomes],
                                                 pa.int64()), index), 0).to_numpy()
        forms_error = pc.take(pa.array([o if isinstance(o, str) else None for o in outcomes], _STRING), index)

    none = pa.scalar(None, _STRING)
    hint = frame.hints if frame.hints is not None and not forced else \
        pa.scalar(forced[0] if forced else platform_hint, _STRING)
    platform = pc.if_else(missing["platform"], hint, value["platform"])
    account_stated = _clean_id(raw["account_id"])
    account = pa.array([forced[1]] * n, _STRING) if forced else account_stated
    post_id = _clean_id(raw["post_id"])
    codes = list(PROFILES)
    names = pc.take(pa.array([PLATFORM_NAMES[c] for c in codes], _STRING),
                    pc.index_in(platform, value_set=pa.array(codes, _STRING)))
    reg_keys = pa.array([f"{p}\x1f{a}" for p, a in registered], _STRING)
    known = pc.fill_null(pc.is_in(pc.binary_join_element_wise(platform, account, "\x1f"), value_set=reg_keys), False)

    def col(f: str) -> pa.Array:
        return pc.coalesce(cols[f], pa.scalar(FIELD_NAMES[f], _STRING))

    def has(arr: pa.Array) -> pa.Array:
        return pc.fill_null(pc.is_valid(arr), False)

    late = pc.fill_null(pc.greater(value["published_at"], value["observed_at"]), False)
    errors = _strings(frame.errors)
    # A format's error is about the row, or about the cell its column names (`refuse_broken_text`).
    error_column = none if frame.error_columns is None else _strings(frame.error_columns)
    rules: list[tuple[pa.Array, str | pa.Array | None, Any]] = [(has(errors), error_column, errors),
                                              (has(error["platform"]), "platform", error["platform"]),
                                              (pc.is_null(platform), "platform", "缺少平台")]
    if forced:
        rules += [
            (pc.fill_null(pc.not_equal(platform, forced[0]), False), "platform",
             lambda: _join("该行属于", names, f"，与指定账号的平台{PLATFORM_NAMES[forced[0]]}不符")),
            (pc.fill_null(pc.not_equal(account_stated, forced[1]), False), "account_id",
             lambda: _join("账号ID ", account_stated, f" 与指定的账号 {forced[1]} 不符")),
        ]
    rules += [
        (pc.is_null(account), "account_id", "缺少账号ID"),
        (pc.invert(known), "account_id",
         lambda: _join(names, "账号 ", account, " 不在账号名录中（先在账号名录中登记）")),
        (pc.is_null(post_id), "post_id", "缺少内容ID"),
        (missing["published_at"], "published_at", "缺少发布时间"),
        (has(error["published_at"]), "published_at", error["published_at"]),
        (has(error["observed_at"]), "observed_at", error["observed_at"]),
        (late, "published_at", "\x00late"),
        (has(error["is_original"]), "is_original", error["is_original"]),
        *[(has(error[m]), m, error[m]) for m in METRICS],
        (has(error["position"]), "position", error["position"]),
        (pc.fill_null(pc.less(value["position"], 1), False), "position",
         lambda: _join("位置应为从 1 开始的序号，而不是 ", pc.cast(value["position"], _STRING))),
        (has(forms_error), "forms", forms_error),
    ]
    reason, column = pa.nulls(n, _STRING), pa.nulls(n, _STRING)
    for mask, where, why in reversed(rules):  # the first failing rule of a row wins
        if not pc.any(mask).as_py():
            continue
        reason = pc.if_else(mask, why() if callable(why) else why, reason)
        column = pc.if_else(mask, col(where) if isinstance(where, str) else none if where is None else where, column)
    bad = pc.is_valid(reason)
    rejects = []
    if pc.any(bad).as_py():
        picked = pc.indices_nonzero(bad)
        for line, where, why, published, observed in zip(
                pc.take(lines, picked).to_pylist(), pc.take(column, picked).to_pylist(),
                pc.take(reason, picked).to_pylist(), pc.take(value["published_at"], picked).to_pylist(),
                pc.take(value["observed_at"], picked).to_pylist()):
            if why == "\x00late":  # published after it was crawled: the times as the user reads them
                why = f"发布时间 {local_text(published)} 晚于采集时间 {local_text(observed)}"
            rejects.append((line, where, why))
    keep = pc.invert(bad)
    kept = pc.indices_nonzero(keep).to_numpy()

    def take(arr) -> pa.Array:
        return pc.take(arr, kept)

    title, text, url = (take(_clean_text(raw[f], trimmed.get(f))) for f in ("title", "text", "url"))
    platform_kept = take(platform)
    # Forms: stated, else what the title and text say, else the format's or the platform's default.
    said = explicit[kept] | _codes(frame.forms)[kept]
    stated_tags = [frame.hashtags[i] for i in kept.tolist()] if any(frame.hashtags) else None
    found, hashtags = _read_texts(classifier, title, text, platform_kept, stated_tags)
    own_default = _codes(frame.default_forms)[kept]
    platform_default = pc.fill_null(pc.take(pa.array([_bits(PROFILES[c].default_forms) for c in codes], pa.int64()),
                                            pc.index_in(platform_kept, value_set=pa.array(codes, _STRING))), 0)
    default = np.where(own_default != 0, own_default, platform_default.to_numpy())
    merged = said | found
    forms = _lists_of_bits(np.where(merged != 0, merged, default))

    # What the source itself says, for the merge with other sources (store/writer.py): a bit set.
    bits = np.zeros(len(kept), dtype=np.int16)
    for i, f in enumerate(MERGED):
        if f == "forms":
            carried = said != 0
        else:
            carried = pc.and_(pc.is_valid(cols[f]), pc.invert(missing[f])).to_numpy(zero_copy_only=False)[kept]
        bits |= carried.astype(np.int16) << i
    native = pa.array(bits, pa.int16())
    stage = pa.table({
        "line": take(lines), "platform": platform_kept, "post_id": take(post_id), "account_id": take(account),
        "published_at": take(value["published_at"]), "observed_at": take(value["observed_at"]),
        "is_original": take(value["is_original"]), "forms": forms, "title": title, "text": text, "url": url,
        "position": take(value["position"]), **{m: take(value[m]) for m in METRICS},
        "hashtags": hashtags, "native": native,
    })
    return Validated(stage, rejects)


def validate_comments(records: list[Record], platform: str) -> list[Comment | Reject]:
    """Each comment row as `canonical.validate_comment` makes it (the reference), with the ids, texts and
    times cleaned and parsed by the kernels over whole columns; only the choice of the first failing
    rule is made row by row."""
    if not records:
        return []
    values = [r.values for r in records]

    def column(name: str) -> pa.Array:
        return _strings([row.get(name) for row in values])

    comment_id, post_id, author_id, sec_uid, parent = (
        _clean_id(column(f)).to_pylist()
        for f in ("comment_id", "post_id", "author_id", "author_sec_uid", "parent_comment_id"))
    text = _clean_text(column("text")).to_pylist()
    when_raw, seen_raw = column("commented_at"), column("observed_at")
    when_missing, seen_missing = _missing(when_raw), _missing(seen_raw)
    when, when_error = _parse(when_raw, "published_at", when_missing)  # the same parser as a post's times
    seen, seen_error = _parse(seen_raw, "observed_at", seen_missing)
    late = pc.fill_null(pc.greater(when, seen), False).to_pylist()
    when, when_error, seen, seen_error = (a.to_pylist() for a in (when, when_error, seen, seen_error))
    when_missing = when_missing.to_pylist()
    out: list[Comment | Reject] = []
    for i, record in enumerate(records):
        fieldname, reason = None, record.error
        if reason is None:
            fieldname, reason = next(((f, why) for f, why, failed in (
                ("comment_id", "缺少评论ID", comment_id[i] is None),
                ("post_id", "缺少内容ID", post_id[i] is None),
                ("author_id", "缺少评论者ID", author_id[i] is None),
                ("commented_at", "缺少评论时间", when_missing[i]),
                ("commented_at", when_error[i], when_error[i] is not None),
                ("observed_at", seen_error[i], seen_error[i] is not None),
                ("commented_at", "\x00late", late[i])) if failed), (None, None))
        if reason is not None:
            if reason == "\x00late":
                reason = f"评论时间 {local_text(when[i])} 晚于采集时间 {local_text(seen[i])}"
            where = record.columns.get(fieldname, COMMENT_FIELD_NAMES.get(fieldname, fieldname)) if fieldname else \
                record.error_column
            out.append(Reject(record.line, where, reason, record.raw))
            continue
        up = parent[i]
        out.append(Comment(
            line=record.line, platform=platform, comment_id=comment_id[i], post_id=post_id[i], author_id=author_id[i],
            author_sec_uid=sec_uid[i], parent_comment_id=None if up in ("0", comment_id[i]) else up,
            commented_at=when[i], observed_at=seen[i], text=text[i]))
    return out


def _re2(word: str) -> str:
    return re.sub(r"([\\.^$|?*+()\[\]{}#])", r"\\\1", word)


def _overlaps(a: str, b: str) -> list[str]:
    """The shortest strings in which keywords a and b occur sharing characters (one inside the other,
    or the end of one the start of the other)."""
    if b in a:
        return [a]
    if a in b:
        return [b]
    return ([a + b[k:] for k in range(1, min(len(a), len(b))) if a.endswith(b[:k])]
            + [b + a[k:] for k in range(1, min(len(a), len(b))) if b.endswith(a[:k])])


def _form_patterns(classifier: FormClassifier) -> tuple[dict[str, str], str | None]:
    return _patterns_of(tuple(sorted(classifier.form_of.items())))


@lru_cache(maxsize=8)
def _patterns_of(form_of: tuple[tuple[str, str], ...]) -> tuple[dict[str, str], str | None]:
    """Per form, an RE2 pattern finding any of its keywords (Latin ones as whole words); and a pattern
    of the places where keywords of two forms overlap. Where no such place is, the classifier's scan
    (which consumes what it matches) finds exactly the forms that searching each form apart finds:
    any keyword it skips overlaps a match of the same form."""
    forms = dict(form_of)
    overlaps = sorted({m for a, b in itertools.combinations(forms, 2) if forms[a] != forms[b] for m in _overlaps(a, b)})
    patterns: dict[str, list[str]] = {}
    for word, form in forms.items():
        piece = _re2(word)
        if re.fullmatch(r"[0-9a-z°]+", word):
            piece = f"(?:^|[^0-9a-z]){piece}(?:[^0-9a-z]|$)"
        patterns.setdefault(form, []).append(piece)
    return ({form: "|".join(pieces) for form, pieces in patterns.items()},
            "|".join(_re2(m) for m in overlaps) or None)


def _read_texts(classifier: FormClassifier, title: pa.Array, text: pa.Array, platform: pa.Array,
                stated_tags: list[tuple[str, ...]] | None) -> tuple[np.ndarray, pa.Array]:
    """(forms the keywords say, as bits; topics) of each row.

    Forms: a kernel search per form over the title and the text; the rows where keywords of two
    forms overlap go through the classifier (see `_patterns_of`). Topics: `_topics`."""
    n = len(title)
    found = np.zeros(n, dtype=np.int64)
    if classifier.pattern is not None:
        patterns, overlaps = _form_patterns(classifier)

        # Keywords are kept in lower case: searching the lower-cased texts spares RE2's slower
        # case-insensitive matching.
        # Title and text are searched as one string: no keyword holds a line break, and a Latin one's
        # word boundary is the same at the break as at either end.
        both = pc.utf8_lower(pc.binary_join_element_wise(pc.fill_null(title, ""), pc.fill_null(text, ""), "\n"))

        def search(pattern: str) -> pa.Array:
            return pc.fill_null(pc.match_substring_regex(both, pattern), False)
        # Usually few rows hold a keyword at all: the per-form searches look at those rows only.
        some = pc.indices_nonzero(search("|".join(patterns.values()))).to_numpy()
        both = pc.take(both, some)
        hits = np.zeros(len(some), dtype=np.int64)
        for form, pattern in patterns.items():
            hits |= search(pattern).to_numpy(zero_copy_only=False).astype(np.int64) << _FORM_BIT[form]
        found[some] = hits
        if overlaps:  # e.g. 动漫画, 直播客: the classifier decides
            rows = some[pc.indices_nonzero(search(overlaps)).to_numpy()]
            for i, t, x in zip(rows.tolist(), pc.take(title, rows).to_pylist(), pc.take(text, rows).to_pylist()):
                found[i] = _bits(classifier.classify(t, x))
    return found, _topics(title, text, platform, stated_tags)


_PAIRED = pa.array([c for c, p in PROFILES.items() if p.hashtag_style != "open"], _STRING)


def _topics(title: pa.Array, text: pa.Array, platform: pa.Array,
            stated_tags: list[tuple[str, ...]] | None) -> pa.Array:
    """Each row's topics (`extract_hashtags` of its title and text, and those its source states), sorted.

    "#话题#" topics are cut out by the kernels: split at "#", the odd pieces followed by another "#"
    are what the pattern finds, when each of them is one it takes (1 to 100 characters, no line
    break). A row where one is not (the pattern then pairs the "#" differently), and a platform of
    open topics ("#话题 "), go through `extract_hashtags` (200,000 rows: about 0.1 s less)."""
    n = len(title)
    rows = pc.indices_nonzero(pc.or_(pc.fill_null(pc.match_substring(title, "#"), False),
                                     pc.fill_null(pc.match_substring(text, "#"), False)))
    title, text, platform = pc.take(title, rows), pc.take(text, rows), pc.take(platform, rows)
    slow = ~pc.fill_null(pc.is_in(platform, value_set=_PAIRED), False).to_numpy(zero_copy_only=False)
    found: list[tuple[np.ndarray, pa.Array]] = []  # (row, topic)
    for column in (title, text):
        pieces = pc.split_pattern(pc.fill_null(column, ""), "#")
        flat = pieces.flatten()
        owner = pc.list_parent_indices(pieces).to_numpy()
        offsets = pieces.offsets.to_numpy()
        position = np.arange(len(flat)) - (offsets[owner] - offsets[0])
        closed = (position % 2 == 1) & (position < np.diff(offsets)[owner] - 1)
        length = pc.utf8_length(flat).to_numpy()
        broken = pc.match_substring_regex(flat, r"[\r\n]").to_numpy(zero_copy_only=False)
        bad = closed & ((length < 1) | (length > 100) | broken)
        slow[owner[bad]] = True
        picked = np.flatnonzero(closed & ~bad)
        tags = pc.take(flat, picked)
        kept = pc.equal(tags, pc.utf8_trim(tags, WHITESPACE))  # "#XX #" is not a topic
        found.append((owner[picked][kept.to_numpy(zero_copy_only=False)], pc.filter(tags, kept)))
    found = [(row[~slow[row]], pc.filter(tags, pa.array(~slow[row]))) for row, tags in found]
    by_python = np.flatnonzero(slow)
    extra = [(i, tag) for i, p, t, x in zip(by_python.tolist(), pc.take(platform, by_python).to_pylist(),
                                             pc.take(title, by_python).to_pylist(), pc.take(text, by_python).to_pylist())
             for tag in extract_hashtags(t, x, platform=p)]
    found.append((np.array([i for i, _ in extra], dtype=np.int64), pa.array([tag for _, tag in extra], _STRING)))
    pairs = pa.table({"row": pa.array(rows.to_numpy()[np.concatenate([r for r, _ in found])]),
                      "tag": pa.concat_arrays([t for _, t in found])})
    pairs = pairs.group_by(["row", "tag"], use_threads=False).aggregate([]).sort_by([("row", "ascending"),
                                                                                   ("tag", "ascending")])
    if stated_tags:
        lists = [set(t) for t in stated_tags]
        for row, tag in zip(pairs["row"].to_pylist(), pairs["tag"].to_pylist()):
            lists[row].add(tag)
        return pa.array([sorted(t) for t in lists], pa.list_(_STRING))
    # Most rows have no topic: the list column is built from offsets, not from a list per row.
    offsets = np.concatenate(([0], np.cumsum(np.bincount(pairs["row"].to_numpy(), minlength=n)))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pairs["tag"].combine_chunks())


def _attempt(parse: Callable[[str], Any], cell: str) -> tuple[str, Any, str | None]:
    try:
        value = parse(cell)
    except ValueError as exc:
        return cell, None, str(exc)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2 ** 63:
        return cell, None, f"数值过大: {cell!r}"
    return cell, value, None


def _parse_forms(classifier: FormClassifier, cell: str) -> tuple[str, ...] | str:
    try:
        return classifier.parse(cell)
    except ValueError as exc:
        return str(exc)
