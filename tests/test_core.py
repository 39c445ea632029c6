"""The ground floor: months and periods, Beijing time, field errors, platform profiles."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from govmedia.core import PROFILES, FieldError, Month, Period, parse_platform
from govmedia.core.time import day_start_utc, local_text, to_local, to_utc


def test_period_labels_months_and_neighbours():
    p = Period.parse("2020-02", "2020-11")
    assert p.months[0] == "2020-02" and p.months[-1] == "2020-11" and len(p) == 10
    assert (p.label, p.column) == ("2020年2-11月", "2-11月")
    assert (p.previous().first, p.previous().last) == ("2019-02", "2019-11")
    one = Period.parse("2020-01")
    assert (one.label, one.column, one.previous().first) == ("2020年1月", "1月", "2019-12")
    cross = Period.parse("2019-11", "2020-02")
    assert cross.label == "2019年11月至2020年2月" and cross.months == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert Month.parse("2020年3月") == Month(2020, 3) and str(Month.parse("2020/3")) == "2020-03"
    assert p.days() == sum(Month.parse(m).days() for m in p.months) == 29 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30


@pytest.mark.parametrize("start,end,field,words", [
    ("1819-10", "8819-10", "period.start", "2000–2099"),
    ("2020-10", "8819-10", "period.end", "2000–2099"),
    ("2020-11", "2020-02", "period", "晚于"),
    ("2000-01", "2099-12", "period", "超过上限 60 个月"),
    ("2020-13", "2020-12", "period.start", "YYYY-MM"),
])
def test_a_period_refuses_what_no_user_means(start, end, field, words):
    with pytest.raises(FieldError) as caught:
        Period.parse(start, end)
    assert caught.value.field == field and words in str(caught.value)
    # Each interface names the field its own way.
    assert caught.value.render({field: "--from"}).startswith("--from: ")


def test_period_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("GOVMEDIA_MAX_PERIOD_MONTHS", "120")
    assert len(Period.parse("2010-01", "2019-12")) == 120
    monkeypatch.setenv("GOVMEDIA_MAX_PERIOD_MONTHS", "3")
    with pytest.raises(FieldError):
        Period.parse("2020-01", "2020-04")


def test_beijing_time_round_trip_and_month_edges():
    utc = datetime(2020, 1, 31, 16, 0)  # 2020-02-01 00:00 in Beijing
    assert to_local(utc) == datetime(2020, 2, 1) and to_utc(to_local(utc)) == utc
    assert Month.of(utc) == Month(2020, 2) and Month.of(datetime(2020, 1, 31, 15, 59, 59)) == Month(2020, 1)
    assert day_start_utc(date(2020, 2, 1)) == utc == Month(2020, 2).start_utc()
    assert local_text(utc) == "2020-02-01 00:00:00"
    assert Period.parse("2020-01", "2020-01").end_utc() == utc


def test_platform_profiles_carry_their_vocabulary():
    assert parse_platform("公众号") == "wechat" and parse_platform("Weibo") == "weibo"
    assert PROFILES["douyin"].default_forms == ("video",) and PROFILES["wechat"].interactions == ("likes", "wows")
    with pytest.raises(ValueError, match="未知平台"):
        parse_platform("myspace")
