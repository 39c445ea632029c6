"""Beijing time and the months and periods everything is counted in.

Stored timestamps are naive UTC. A post belongs to the month of its publication in Beijing time
(UTC+8, no daylight saving since 1991); this module is the only place that knows the offset.
A `Period` is a run of whole months ("2020年2-11月"); parsing one refuses what no user means
(years outside 2000–2099, spans longer than `max_period_months()`), so no page, API call or
command can ask for unbounded work.
"""

from __future__ import annotations

import calendar
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from govmedia.core.errors import FieldError, UserError

UTC_OFFSET_HOURS = 8
UTC_OFFSET = timedelta(hours=UTC_OFFSET_HOURS)
BEIJING = timezone(UTC_OFFSET, "Asia/Shanghai")
OFFSET_TEXT = f"+{UTC_OFFSET_HOURS:02d}:00"  # as ISO-8601 writes it

YEAR_MIN, YEAR_MAX = 2000, 2099
DEFAULT_MAX_PERIOD_MONTHS = 60


def utcnow() -> datetime:
    """Now as a naive UTC timestamp, the way the store keeps time."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A stored (naive UTC) time as naive Beijing time."""
    if moment.tzinfo is not None:
        return moment.astimezone(BEIJING).replace(tzinfo=None)
    return moment + UTC_OFFSET


def to_utc(moment: datetime) -> datetime:
    """Naive Beijing time (or an aware time) as the store's naive UTC."""
    if moment.tzinfo is None:
        return moment - UTC_OFFSET
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def local_text(moment: datetime | None, seconds: bool = True) -> str:
    """'2020-02-05 10:00:00' in Beijing time, '' for None."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_iso(moment: datetime) -> str:
    """ISO-8601 in Beijing time with its offset (what exports carry)."""
    return to_local(moment).replace(tzinfo=BEIJING).isoformat()


def day_start_utc(day: date) -> datetime:
    """00:00 Beijing time of a date, in UTC."""
    return datetime(day.year, day.month, day.day) - UTC_OFFSET


def local_date(moment: datetime) -> date:
    return to_local(moment).date()


def max_period_months() -> int:
    """The longest period anyone may ask for; GOVMEDIA_MAX_PERIOD_MONTHS changes it."""
    value = os.environ.get("GOVMEDIA_MAX_PERIOD_MONTHS", "").strip()
    if not value:
        return DEFAULT_MAX_PERIOD_MONTHS
    if not value.isdigit() or int(value) < 1:
        raise UserError(f"环境变量 GOVMEDIA_MAX_PERIOD_MONTHS 应为正整数，而不是 {value!r}")
    return int(value)


_MONTH_RE = re.compile(r"^\s*(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?\s*$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: object, field: str = "month") -> "Month":
        """'2020-02' (also 2020/2, 2020年2月, a date); years 2000–2099."""
        if isinstance(value, Month):
            return value
        if isinstance(value, (date, datetime)):
            found = cls(value.year, value.month)
        else:
            match = _MONTH_RE.match(str(value if value is not None else ""))
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise FieldError(field, value, f"应写成 YYYY-MM（如 2020-02），而不是 {str(value)!r}")
            found = cls(int(match.group(1)), int(match.group(2)))
        if not YEAR_MIN <= found.year <= YEAR_MAX:
            raise FieldError(field, value, f"年份应在 {YEAR_MIN}–{YEAR_MAX} 之间，而不是 {found.year}")
        return found

    @classmethod
    def of(cls, moment: datetime) -> "Month":
        """The Beijing month of a stored (UTC) time."""
        local = to_local(moment)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """'2020年5月'."""
        return f"{self.year}年{self.month}月"

    @property
    def short(self) -> str:
        """'5月'."""
        return f"{self.month}月"

    def shift(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def previous(self) -> "Month":
        return self.shift(-1)

    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def start_utc(self) -> datetime:
        """Its first instant (00:00 Beijing time on the 1st), in UTC."""
        return day_start_utc(date(self.year, self.month, 1))


@dataclass(frozen=True)
class Period:
    """Whole months from `start` to `end`, both included."""

    start: Month
    end: Month

    @classmethod
    def parse(cls, start: object, end: object | None = None, *, max_months: int | None = None) -> "Period":
        """A period from its first and last month ('2020-02', '2020-11'); one month when `end` is None."""
        first = Month.parse(start, "period.start" if end is not None else "month")
        last = Month.parse(end, "period.end") if end is not None else first
        if first > last:
            raise FieldError("period", f"{first}..{last}", f"起始月份 {first} 晚于结束月份 {last}")
        period = cls(first, last)
        limit = max_months or max_period_months()
        if len(period) > limit:
            raise FieldError("period", str(period),
                             f"{first} 至 {last} 共 {len(period)} 个月，超过上限 {limit} 个月；请缩短期间")
        return period

    @classmethod
    def month(cls, value: object) -> "Period":
        return cls.parse(value)

    def __len__(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"

    def __iter__(self):
        return (self.start.shift(i) for i in range(len(self)))

    @property
    def months(self) -> list[str]:
        """['2020-02', …, '2020-11']: the form the store keys months by."""
        return [str(m) for m in self]

    @property
    def first(self) -> str:
        return str(self.start)

    @property
    def last(self) -> str:
        return str(self.end)

    @property
    def single(self) -> bool:
        return self.start == self.end

    @property
    def label(self) -> str:
        """In words: '2020年2-11月', '2020年5月', '2019年2月至2020年11月'."""
        if self.single:
            return self.start.label
        if self.start.year == self.end.year:
            return f"{self.start.year}年{self.start.month}-{self.end.month}月"
        return f"{self.start.label}至{self.end.label}"

    @property
    def column(self) -> str:
        """A ranking column's header, as in the white paper: '2-11月', '5月'."""
        if self.single:
            return self.start.short
        if self.start.year == self.end.year:
            return f"{self.start.month}-{self.end.month}月"
        return f"{self.start}至{self.end}"

    def shift_years(self, years: int) -> "Period":
        return Period(self.start.shift(12 * years), self.end.shift(12 * years))

    def last_year(self) -> "Period":
        """The same months one year earlier."""
        return self.shift_years(-1)

    def previous(self) -> "Period":
        """A month's previous period is the month before; a longer period's, the same months a year earlier."""
        if self.single:
            before = self.start.previous()
            return Period(before, before)
        return self.last_year()

    def days(self) -> int:
        return sum(m.days() for m in self)

    def start_utc(self) -> datetime:
        return self.start.start_utc()

    def end_utc(self) -> datetime:
        """The first instant after the period, in UTC."""
        return self.end.shift(1).start_utc()

    def __contains__(self, month: object) -> bool:
        m = month if isinstance(month, Month) else Month.parse(month)
        return self.start <= m <= self.end


def months_between(start: object, end: object) -> list[str]:
    """['2020-02', …, '2020-11'] for ('2020-02', '2020-11'), both inclusive, within the bounds."""
    return Period.parse(start, end).months
