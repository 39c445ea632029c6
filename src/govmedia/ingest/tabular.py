"""Reading tables from CSV, XLSX, JSON arrays and JSON Lines as their tools really write them.

Every row comes with the location a user can find it at: the line of a CSV or JSONL file, the
row of a spreadsheet (with its sheet), or the item number of a JSON array.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from govmedia.core.errors import UserError, read_failed
from govmedia.core.text import decode

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson")


class Table:
    """A table file as read: its header, and its rows either as dicts (`rows`, JSON as parsed) or
    column by column (`column(name)`, a CSV as read); each view is made from the other on first use."""

    def __init__(self, path: Path, kind: str, header: list[str], rows: list[tuple[int, dict[str, Any]]] | None = None,
                 sheet: str | None = None, encoding: str | None = None, *, lines: list[int] | None = None,
                 columns: dict[str, list] | None = None, extra: dict[int, list] | None = None,
                 arrow: dict[str, Any] | None = None):
        self.path = path
        self.kind = kind  # csv | xlsx | json | jsonl
        self.header = header
        self.sheet = sheet
        self.encoding = encoding
        self.notes: list[str] = []
        self._rows = rows
        self._lines = lines
        self._columns = columns or {}
        self._arrow = arrow or {}  # name -> pyarrow string array, for a CSV read by Arrow
        self.extra = extra or {}  # line -> the cells beyond the header (CSV rows longer than it)
        self.sha256: str | None = None  # of the bytes read (read_table), which the import batch names
        # Whether a cell may hold half a surrogate pair: only JSON can, by an escape ("\ud83c").
        self.surrogates = False

    @property
    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        if self._rows is None:
            names = [h for h in self.header if h]
            cells = [self.column(n) for n in names]
            self._rows = [(line, dict(zip(names, values))) for line, *values in zip(self._lines, *cells)]
            for index, (line, row) in enumerate(self._rows):
                if line in self.extra:
                    row["__extra__"] = self.extra[line]
        return self._rows

    @property
    def lines(self) -> list[int]:
        if self._lines is None:
            self._lines = [line for line, _ in self._rows]
        return self._lines

    def __len__(self) -> int:
        return len(self.lines)

    def cells(self, name: str):
        """The column as a pyarrow array when the file was read by Arrow, else as `column(name)`."""
        if name in self._arrow:
            return self._arrow[name]
        return self.column(name)

    def column(self, name: str) -> list:
        """The cells of a column, one per row (None where a row has no such cell)."""
        if name not in self._columns and name in self._arrow:
            self._columns[name] = self._arrow[name].to_pylist()
        if name not in self._columns:
            self._columns[name] = [row.get(name) for _, row in self._rows] if self._rows is not None \
                else [None] * len(self._lines)
        return self._columns[name]

    @property
    def unit(self) -> str:
        """How a row's location is counted, for messages."""
        return "条" if self.kind == "json" else "行"

    def where(self, line: int) -> str:
        if self.kind == "json":
            return f"{self.path.name} 第 {line} 条"
        if self.sheet:
            return f"{self.path.name} 工作表「{self.sheet}」第 {line} 行"
        return f"{self.path.name} 第 {line} 行"


def header_key(name: str) -> str:
    """How column names are compared: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "", str(name)).lower()


def _column_name(field: str, names: list[str], labels: dict[str, str] | None) -> str:
    chinese = (labels or {}).get(field) or next((n for n in names if re.search(r"[\u4e00-\u9fff]", n)), None)
    return f"{chinese}（{field}）" if chinese else field


def map_columns(table: Table, aliases: dict[str, list[str]], required: tuple[str, ...] = (), what: str = "表",
                labels: dict[str, str] | None = None) -> dict[str, str]:
    """Field -> the header naming it (first wins). A required field without a column is a file error."""
    lookup = {header_key(n): f for f, names in aliases.items() for n in names}
    mapping: dict[str, str] = {}
    for name in table.header:
        field = lookup.get(header_key(name))
        if field and field not in mapping:
            mapping[field] = name
    missing = [f for f in required if f not in mapping]
    if missing:
        # A column by the name users write (the Chinese one), with the code name the file may use instead.
        named = "、".join(_column_name(f, aliases[f], labels) for f in missing)
        present = ", ".join(h for h in table.header if h)
        raise UserError(f"{table.path}: {what}缺少列 {named}（现有列: {present}）")
    return mapping


def read_table(path: str | Path, known_headers: Iterable[str] = (), *, keep_broken: bool = False) -> Table:
    """Read any supported table file. Raises UserError (exit 2) when it cannot be read at all.

    Half an emoji (a lone surrogate, which only a JSON escape can make) is read as U+FFFD, unless
    `keep_broken`: the post import keeps it, to recognise the wechat-article-exporter's cut titles
    and to refuse the rows that still hold one (`frame.refuse_broken_text`)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: 文件不存在")
    if path.is_dir():
        raise UserError(f"{path}: 是目录，不是文件")
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: 无法读取（{read_failed(exc)}）") from exc
    if not data or data.isspace():  # not data.strip(): a copy of the whole file
        raise UserError(f"{path}: 文件为空")
    binary = _binary_kind(data)
    if binary and not (suffix in (".xlsx", ".xlsm") and binary == "ZIP"):
        raise UserError(f"{path}: 这是 {binary} 文件，不是数据表；请上传爬虫或 Excel 导出的 CSV、XLSX、JSON 文件"
                        f"{'（整个导出目录可打包成 ZIP 上传）' if binary != 'ZIP' else ''}")
    table = _read(path, suffix, data, known_headers)
    if table.surrogates and not keep_broken:
        table._rows = [(line, _sound_values(row)) for line, row in table.rows]
        table.surrogates = False
    table.sha256 = hashlib.sha256(data).hexdigest()
    return table


def _read(path: Path, suffix: str, data: bytes, known_headers: Iterable[str]) -> Table:
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, data, set(known_headers))
    if suffix == ".xls":
        raise UserError(f"{path}: 不支持旧版 .xls 格式，请在 Excel/WPS 中另存为 .xlsx")
    if suffix in (".csv", ".tsv", ".txt") and _utf8(data):
        # UTF-8 (as the crawlers write): Arrow reads the file's own bytes, and the whole text is decoded
        # only if the csv module must read it (decoding cost a quarter of reading a large file).
        return _read_csv(path, None, "utf-8-sig" if data.startswith(_BOM) else "utf-8", data=data)
    text, encoding = decode(data, path)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _read_json(path, text, encoding, lines=suffix != ".json")
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv(path, text, encoding, data=data)
    raise UserError(f"{path}: 不支持的文件类型 {suffix or '(无扩展名)'}（支持 CSV、XLSX、JSON、JSONL）")


# What a file sent by mistake usually is, by its first bytes: said by name rather than as a text
# encoding that cannot be recognised.
_MAGIC = ((b"%PDF", "PDF"), (b"PK\x03\x04", "ZIP"), (b"\xd0\xcf\x11\xe0", "旧版 Office（.doc/.xls）"),
          (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"), (b"Rar!", "RAR 压缩包"),
          (b"7z\xbc\xaf", "7z 压缩包"), (b"\x1f\x8b", "gzip 压缩包"), (b"PAR1", "Parquet"))


def _binary_kind(data: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "二进制"  # text in UTF-8 or GBK has no NUL byte; UTF-16 is told by its BOM
    return None


_BOM = b"\xef\xbb\xbf"


def _utf8(data: bytes) -> bool:
    """Whether `data` is UTF-8, as `bytes.decode` would say, by Arrow's check (a quarter of the time)."""
    import pyarrow as pa

    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _read_csv(path: Path, text: str | None, encoding: str, *, arrow: bool = True, data: bytes | None = None) -> Table:
    """`text`: the file decoded, or None for UTF-8 `data` (then decoded only if the csv module reads it)."""
    head = text if text is not None else _head(data, encoding)
    sample = head[:8192]
    first_line = sample.split("\n", 1)[0]
    delimiter = max(",\t;|", key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    fast = _arrow_csv(path, head, delimiter, encoding, data) if arrow else None
    if fast is not None:
        return fast
    if text is None:
        text = data.decode(encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            # The line a record starts on (a quoted cell may span lines); blank lines are not rows.
            if "".join(record).strip():
                records.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(f"{path} 第 {reader.line_num} 行: CSV 格式错误 ({exc})") from exc
    if not records:
        raise UserError(f"{path}: 文件中没有表头")
    header = _clean_header(records[0])
    body = records[1:]
    width = len(header)
    columns: dict[str, list] = {}
    extra: dict[int, list] = {}
    if body:
        cells = list(itertools.zip_longest(*body))  # short rows padded with None, as if the cells were empty
        for index, name in enumerate(header):
            if name:  # a repeated name: the last column wins, as in a row read as a dict
                columns[name] = list(cells[index]) if index < len(cells) else [None] * len(body)
        if len(cells) > width:
            for number, record in zip(lines[1:], body):
                if len(record) > width and any(c.strip() for c in record[width:]):
                    extra[number] = record[width:]
    return Table(path, "csv", header, None, encoding=encoding, lines=lines[1:], columns=columns, extra=extra)


def _head(data: bytes, encoding: str) -> str:
    """The start of a UTF-8 file as text (without its BOM): enough for the header and the first rows."""
    start = len(_BOM) if encoding == "utf-8-sig" else 0
    chunk = data[start:start + (1 << 18)]
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end
        return chunk[:exc.start].decode("utf-8")


def _arrow_csv(path: Path, text: str, delimiter: str, encoding: str, data: bytes | None = None) -> Table | None:
    """A regular CSV (header on line 1, every row as wide as the header, no blank lines) read by
    Arrow's multithreaded reader; None for any other, which the csv module reads. Each row's line is
    exact: the lines a row spans are one plus the line breaks inside its quoted cells, and the file
    is taken only when these add up to its own count of lines."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    end = text.find("\n")
    if end < 0:  # one line only
        return None
    first = next(csv.reader([text[:end].rstrip("\r")], delimiter=delimiter), [])
    if '"' in text[:end] or not "".join(first).strip():
        return None  # a quoted header may span lines; a blank first line: the csv module decides
    header = _clean_header(first)
    # Rows not as wide as the header (weibo-crawler writes its originals shorter than its reposts):
    # seen on the first rows, before Arrow parses the whole file only to fail. The sample's last row
    # may be cut off, so it is not looked at.
    sample = csv.reader(io.StringIO(text[end + 1:end + 1 + (1 << 16)], newline=""), delimiter=delimiter)
    if any(len(record) != len(first) for record in list(itertools.islice(sample, 21))[:-1]):
        return None
    # The file's own bytes when they are UTF-8 (no copy of the text encoded again). Line ends are
    # one byte each in UTF-8: counted on the bytes.
    raw = data if data is not None and encoding in ("utf-8", "utf-8-sig") else text.encode("utf-8")
    start = raw.index(b"\n") + 1  # after the header (and a BOM)
    if start == len(raw) or raw[start:start + (1 << 16)].isspace() and raw[start:].isspace():
        return None
    # Counted by numpy over the bytes: bytes.count took four times as long.
    octets = np.frombuffer(raw, np.uint8)
    if raw.find(b"\r") >= 0:
        returns = np.flatnonzero(octets == 13)
        if returns[-1] + 1 == len(raw) or not (octets[returns + 1] == 10).all():  # old Mac line ends
            return None
    physical = int(np.count_nonzero(octets[start:] == 10)) + (0 if raw.endswith(b"\n") else 1)
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(memoryview(raw)[start:]),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None  # ragged rows and the like
    columns = [table.column(n).combine_chunks() for n in names]
    rows = table.num_rows
    # A row of blank cells is a blank line: looked for in the other columns only where the first is blank.
    blank = pc.equal(pc.utf8_trim_whitespace(columns[0]), "")
    for column in columns[1:]:
        if not pc.any(blank).as_py():
            break
        blank = pc.and_(blank, pc.equal(pc.utf8_trim_whitespace(column), ""))
    breaks = np.zeros(rows, dtype=np.int64)
    if b'"' in raw:  # without quotes no cell holds a line break
        for column in columns:
            breaks += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    if pc.any(blank).as_py() or rows + int(breaks.sum()) != physical:
        return None  # blank lines, or rows the count cannot place
    lines = (2 + np.arange(rows) + np.concatenate(([0], np.cumsum(breaks)[:-1]))).tolist()
    arrow = {}
    for name, column in zip(header, columns):
        if name:  # a repeated name: the last column wins, as in a row read as a dict
            arrow[name] = column
    return Table(path, "csv", header, None, encoding=encoding, lines=lines, arrow=arrow)


def _clean_header(cells: Iterable[Any]) -> list[str]:
    out = []
    for cell in cells:
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        out.append(name)
    return out


def _workbook(path: Path, data: bytes) -> dict[str, list]:
    """Every sheet's rows from A1 (empty cells as None), read by calamine (Rust, several times faster
    than openpyxl)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return {name: [[None if c == "" else c for c in row]
                       for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)]
                for name in workbook.sheet_names}
    except Exception as exc:  # calamine raises several kinds for a damaged file
        raise UserError(f"{path}: 不是可读的 XLSX 文件 ({type(exc).__name__})") from exc


def _read_xlsx(path: Path, data: bytes, known: set[str]) -> Table:
    sheets = _workbook(path, data)
    known_lower = {k.lower() for k in known}
    best: tuple[int, str, int, list[str]] | None = None
    for title, values in sheets.items():
        # The header is the first of the top rows that names known columns; a sheet
        # with notes or a title above the table, or a notes sheet first, still works.
        for index, row in enumerate(values[:20]):
            names = _clean_header(row)
            score = sum(1 for n in names if n and n.lower() in known_lower)
            if not known_lower and any(names):
                score = 1
            if score and (best is None or score > best[0]):
                best = (score, title, index, names)
                break
    if best is None:
        if not any(any(c is not None for c in r) for rows in sheets.values() for r in rows):
            raise UserError(f"{path}: 工作簿中没有数据")
        raise UserError(f"{path}: 在任何工作表的前 20 行中都找不到可识别的表头")
    _, title, header_index, header = best
    rows: list[tuple[int, dict[str, Any]]] = []
    for offset, record in enumerate(sheets[title][header_index + 1:], start=header_index + 2):
        if not any(c is not None and str(c).strip() for c in record):
            continue
        row = {name: (record[i] if i < len(record) else None) for i, name in enumerate(header) if name}
        rows.append((offset, row))
    return Table(path, "xlsx", header, rows, sheet=title)


def _read_json(path: Path, text: str, encoding: str, *, lines: bool) -> Table:
    rows: list[tuple[int, dict[str, Any]]] = []
    stripped = text.lstrip()
    if not lines and stripped.startswith("{") and "\n{" in stripped:
        lines = _parses_as_lines(stripped)  # a .json file holding JSON Lines
    if not lines or stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} 第 {exc.lineno} 行第 {exc.colno} 列: JSON 格式错误 ({exc.msg})") from exc
        except RecursionError as exc:  # `[[[[…` nested past Python's recursion limit
            raise UserError(f"{path}: {_TOO_DEEP}，无法读取；请检查是否选错了文件，或重新导出后再导入") from exc
        if isinstance(data, dict):
            # Some exporters wrap the list: {"data": [...]} or {"articles": [...]}.
            lists = [value for value in data.values() if isinstance(value, list)]
            if len(lists) == 1:
                data = lists[0]
            else:
                data = [data]
        if not isinstance(data, list):
            raise UserError(f"{path}: JSON 顶层应为对象数组")
        for index, item in enumerate(data, start=1):
            rows.append((index, item if isinstance(item, dict) else {"__value__": item}))
        kind = "json"
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                # A broken line is that row's problem, not the whole file's.
                rows.append((number, {"__error__": f"第 {exc.colno} 列: JSON 格式错误 ({exc.msg})", "__text__": line}))
                continue
            except RecursionError:
                rows.append((number, {"__error__": _TOO_DEEP, "__text__": line[:200]}))
                continue
            rows.append((number, item if isinstance(item, dict) else {"__value__": item}))
        kind = "jsonl"
    # A surrogate escape ("\ud83c") may leave half an emoji in a text, which no file or database can
    # hold: the cells are refused row by row after mapping (frame.refuse_broken_text), and a key
    # holding one, which names a column in messages, is written with U+FFFD.
    surrogates = "\\ud" in text or "\\uD" in text
    if surrogates:
        rows = [(line, _sound_keys(row)) for line, row in rows]
    # Every key in the order first met, then our own "__" keys left out: a generator per row over
    # each row's keys cost more than parsing the rows.
    keys: dict[str, Any] = {}
    for _, row in rows[:1000]:
        keys.update(row)
    table = Table(path, kind, [k for k in keys if not k.startswith("__")], rows, encoding=encoding)
    table.surrogates = surrogates
    return table


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _sound_values(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every lone surrogate in its texts, at any depth, as U+FFFD (a copy where one is)."""
    def sound(value: Any) -> Any:
        if isinstance(value, str):
            return _LONE_SURROGATE.sub("\ufffd", value)
        if isinstance(value, list):
            return [sound(item) for item in value]
        if isinstance(value, dict):
            return {key: sound(item) for key, item in value.items()}
        return value
    try:
        return {key: sound(value) for key, value in row.items()}
    except RecursionError:  # nested nearly as deep as the parser goes: such a cell is not data
        return {key: value if not isinstance(value, (list, dict)) else None for key, value in row.items()}


def _sound_keys(row: dict[str, Any]) -> dict[str, Any]:
    if not any(_LONE_SURROGATE.search(key) for key in row):
        return row
    return {_LONE_SURROGATE.sub("\ufffd", key): value for key, value in row.items()}


# No exporter nests its data this deep: a file that does is not a table (or is built to crash a reader).
_TOO_DEEP = "JSON 嵌套层数过深（爬虫和导出工具的数据不会这样嵌套）"


def _parses_as_lines(text: str) -> bool:
    try:
        json.loads(text)
        return False
    except json.JSONDecodeError:
        return True
    except RecursionError:
        return False  # read as one document, which says it is too deep
