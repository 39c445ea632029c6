from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govmedia.ingest import values as v


@pytest.mark.parametrize(
    "raw, expected",
    [
        (0, 0), (12, 12), (12.0, 12), ("12", 12), (" 1,234 ", 1234), ("1，234", 1234),
        ("10万+", 100001), ("1.2万", 12000), ("3亿", 300000000), ("2.5w", 25000), ("1000+", 1001),
        ("", None), ("None", None), ("null", None), (None, None), ("-", None), (float("nan"), None),
    ],
)
def test_parse_count(raw, expected):
    assert v.parse_count(raw) == expected


@pytest.mark.parametrize("raw", ["-3", -1, "abc", "1.5", 2.5, True, "12次", "1e3"])
def test_parse_count_refuses(raw):
    with pytest.raises(ValueError):
        v.parse_count(raw)


def test_negative_count_message_is_plain():
    with pytest.raises(ValueError, match="负数"):
        v.parse_count("-3")


@given(st.integers(min_value=0, max_value=10**12))
def test_count_with_thousands_separators_roundtrips(n):
    assert v.parse_count(f"{n:,}") == n
    assert v.parse_count(str(n)) == n


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("True", True), ("False", False), ("true", True), ("是", True), ("否", False), ("原创", True),
        ("", None), ("None", None), (None, None), (1, True), (0, False), (True, True),
    ],
)
def test_parse_bool(raw, expected):
    assert v.parse_bool(raw) is expected


def test_parse_bool_refuses_unknown():
    with pytest.raises(ValueError):
        v.parse_bool("maybe")


@pytest.mark.parametrize(
    "raw, expected_utc",
    [
        # No offset means Asia/Shanghai (UTC+8).
        ("2020-05-01 08:00:00", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01 08:00", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01T08:00:00", datetime(2020, 5, 1, 0, 0)),
        ("2020/5/1 8:00", datetime(2020, 5, 1, 0, 0)),
        ("2020年5月1日 08:00", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01", datetime(2020, 4, 30, 16, 0)),
        ("2020-05-01T00:00:00Z", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01T08:00:00+08:00", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01 09:30:00+0930", datetime(2020, 5, 1, 0, 0)),
        ("2020-05-01T00:00:00.123456Z", datetime(2020, 5, 1, 0, 0, 0, 123456)),
        (1588291200, datetime(2020, 5, 1, 0, 0)),  # unix seconds
        ("1588291200", datetime(2020, 5, 1, 0, 0)),
        (1588291200000, datetime(2020, 5, 1, 0, 0)),  # milliseconds
        ("1588291200500", datetime(2020, 5, 1, 0, 0, 0, 500000)),
        (datetime(2020, 5, 1, 8, 0), datetime(2020, 5, 1, 0, 0)),  # a spreadsheet cell: local time
        (date(2020, 5, 1), datetime(2020, 4, 30, 16, 0)),
    ],
)
def test_parse_time(raw, expected_utc):
    assert v.parse_time(raw) == expected_utc


@pytest.mark.parametrize("raw", ["2020-13-01", "yesterday", "2020-02-30 10:00", "", None, "12345", -5])
def test_parse_time_refuses(raw):
    with pytest.raises(ValueError):
        v.parse_time(raw)


def test_clean_id_from_spreadsheet_float():
    assert v.clean_id(1234567890.0) == "1234567890"
    assert v.clean_id("5035812345678901\t") == "5035812345678901"
    assert v.clean_id("  ") is None
