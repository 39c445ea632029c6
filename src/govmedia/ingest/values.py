"""Parsers for values as exports really carry them.

Each parser takes the raw cell (str, int, float, bool, datetime or None) and returns the
typed value, None when the cell is missing, or raises ValueError with a message in plain words.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from govmedia.core.time import BEIJING, to_utc


MISSING_STRINGS = frozenset({"", "none", "null", "nan", "nat", "n/a", "na", "-", "--", "—", "无", "暂无"})

_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "K": 1_000}
_COUNT_RE = re.compile(r"^(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>万|亿|千|[wWkK])?\s*(?P<plus>\+)?$")


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    if isinstance(value, str) and value.strip().lower() in MISSING_STRINGS:
        return True
    return False


def parse_count(value: object) -> int | None:
    """Counts: 123, '1,234', '1.2万', '3亿', '10万+' (stored as 100001)."""
    if value is None:
        return None
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)  # the common case, kept fast
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"不是数字: {str(value)!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"计数为负数: {value}")
        return value
    if isinstance(value, float):
        if value < 0:
            raise ValueError(f"计数为负数: {value:g}")
        if value != int(value):
            raise ValueError(f"计数不是整数: {f'{value:g}'!r}")
        return int(value)
    text = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
    if text.startswith("-"):
        raise ValueError(f"计数为负数: {value}")
    match = _COUNT_RE.match(text)
    if not match:
        raise ValueError(f"不是数字: {str(value)!r}")
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - regex guarantees digits
        raise ValueError(f"不是数字: {str(value)!r}") from exc
    if match["unit"]:
        number *= _UNITS[match["unit"]]
    if number != number.to_integral_value():
        raise ValueError(f"计数不是整数: {str(value)!r}")
    result = int(number)
    if match["plus"]:
        # "10万+" means "more than 100000": store the smallest value it can be.
        result += 1
    return result


_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "原创", "对", "√", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "非原创", "转发", "转载", "不是", "×", "0.0"})


def parse_bool(value: object) -> bool | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"无法识别的是/否值: {str(value)!r}")


_DATETIME_RE = re.compile(
    r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:[T\s]+(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})(?:\.(?P<f>\d{1,9}))?)?秒?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$"
)


def parse_time(value: object) -> datetime:
    """Returns a naive datetime in UTC. Raises ValueError for missing or unparseable values.

    Accepts ISO-8601 with or without offset (no offset = Asia/Shanghai), 'YYYY-MM-DD HH:MM[:SS]',
    a date alone (midnight Asia/Shanghai), unix seconds or milliseconds, and spreadsheet datetimes.
    """
    if is_missing(value):
        raise ValueError("时间为空")
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, date):
        return _to_utc(datetime.combine(value, time()))
    if isinstance(value, bool):
        raise ValueError(f"无法解析的时间: {str(value)!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value), value)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text), value)
    match = _DATETIME_RE.match(text)
    if not match:
        raise ValueError(f"无法解析的时间: {text!r}")
    try:
        fraction = (match["f"] or "0")[:6].ljust(6, "0")
        moment = datetime(
            int(match["y"]), int(match["m"]), int(match["d"]),
            int(match["H"] or 0), int(match["M"] or 0), int(match["S"] or 0), int(fraction),
        )
    except ValueError as exc:
        raise ValueError(f"无法解析的时间: {text!r}") from exc
    tz = match["tz"]
    if tz in (None, ""):
        moment = moment.replace(tzinfo=BEIJING)
    elif tz in ("Z", "UTC", "GMT"):
        moment = moment.replace(tzinfo=timezone.utc)
    else:
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset > timedelta(hours=14):
            raise ValueError(f"无法解析的时区: {text!r}")
        moment = moment.replace(tzinfo=timezone(sign * offset))
    return _to_utc(moment)


def _from_epoch(number: float, original: object) -> datetime:
    if number <= 0:
        raise ValueError(f"无法解析的时间: {str(original)!r}")
    if number >= 1e11:  # milliseconds (1e11 s would be the year 5138)
        number /= 1000.0
    if not (1e8 <= number < 1e10):
        raise ValueError(f"无法解析的时间: {str(original)!r}")
    return datetime.fromtimestamp(number, timezone.utc).replace(tzinfo=None)


def _to_utc(moment: datetime) -> datetime:
    return to_utc(moment)  # naive = Beijing time


def parse_int(value: object) -> int | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"不是整数: {str(value)!r}")
    if isinstance(value, float):
        if value != int(value):
            raise ValueError(f"不是整数: {f'{value:g}'!r}")
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise ValueError(f"不是整数: {text!r}")
    return int(float(text))


def clean_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, float) and value == int(value):
        # Spreadsheets turn numeric ids into floats.
        value = int(value)
    text = str(value).strip()
    if text == "" or text.lower() in ("none", "null", "nan"):
        return None
    return text


def clean_id(value: object) -> str | None:
    """Identifiers as text: 1.23e9 from a spreadsheet becomes '1230000000'."""
    text = clean_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text
