"""Table-driven tests for checks.common.dates: every supported format and the decoys that must not parse."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from checks.common.dates import SHANGHAI, find_dates, find_datetimes, parse_date, parse_datetime

TODAY = date(2026, 11, 26)
NEW_YEAR = date(2026, 1, 5)

FORMATS = [
    # (text, today, expected)
    ("2026-11-03", TODAY, date(2026, 11, 3)),
    ("2026/11/03", TODAY, date(2026, 11, 3)),
    ("2026.11.03", TODAY, date(2026, 11, 3)),
    ("2026-1-3", TODAY, date(2026, 1, 3)),
    ("2026/1/3", TODAY, date(2026, 1, 3)),
    ("2026年11月3日", TODAY, date(2026, 11, 3)),
    ("2026年11月03日 10:20", TODAY, date(2026, 11, 3)),
    ("2026 年 11 月 3 日", TODAY, date(2026, 11, 3)),
    ("2026年11月3号", TODAY, date(2026, 11, 3)),
    ("[11-03]", TODAY, date(2026, 11, 3)),
    ("11-03", TODAY, date(2026, 11, 3)),
    ("【11-03】", TODAY, date(2026, 11, 3)),
    ("11月3日", TODAY, date(2026, 11, 3)),
    ("11月03日 09:15", TODAY, date(2026, 11, 3)),
    ("12-30", NEW_YEAR, date(2025, 12, 30)),
    ("01-05", NEW_YEAR, date(2026, 1, 5)),
    ("01-06", NEW_YEAR, date(2025, 1, 6)),
    ("12月30日", NEW_YEAR, date(2025, 12, 30)),
    ("02-29", date(2026, 3, 1), date(2024, 2, 29)),
    ("10-01", TODAY, date(2026, 10, 1)),
    ("发布时间：2026-11-03 10:20", TODAY, date(2026, 11, 3)),
    ("发布日期:2026-11-03", TODAY, date(2026, 11, 3)),
    ("发布时间：2026-11-03 10:20:33 来源：县政府办", TODAY, date(2026, 11, 3)),
    ("2026-11-03T10:20:00+08:00", TODAY, date(2026, 11, 3)),
    ("2026-11-02T20:00:00Z", TODAY, date(2026, 11, 3)),  # 04:00 next day in Shanghai
    ("2026-11-03 10:20", TODAY, date(2026, 11, 3)),
    ("3天前", TODAY, date(2026, 11, 23)),
    ("昨天", TODAY, date(2026, 11, 25)),
    ("昨天 10:20", TODAY, date(2026, 11, 25)),
    ("前天", TODAY, date(2026, 11, 24)),
    ("今天", TODAY, date(2026, 11, 26)),
    ("刚刚", TODAY, date(2026, 11, 26)),
    ("5小时前", TODAY, date(2026, 11, 26)),
    ("2小时前", TODAY, date(2026, 11, 26)),
    ("30分钟前", TODAY, date(2026, 11, 26)),
    ("2周前", TODAY, date(2026, 11, 12)),
    ("3个月前", TODAY, date(2026, 8, 26)),
    ("２０２６－１１－０３", TODAY, date(2026, 11, 3)),
    ("２０２６年１１月３日", TODAY, date(2026, 11, 3)),
    ("［１１－０３］", TODAY, date(2026, 11, 3)),
    ("二〇二六年十一月三日", TODAY, date(2026, 11, 3)),
    ("二〇二六年一月二十日", TODAY, date(2026, 1, 20)),
    ("二〇二五年十二月三十一日", TODAY, date(2025, 12, 31)),
    ("1990-01-01", TODAY, date(1990, 1, 1)),
    ("2027-01-15", TODAY, date(2027, 1, 15)),  # today.year + 1 is allowed
    ("·县教育局召开会议 2026-11-24", TODAY, date(2026, 11, 24)),
]


@pytest.mark.parametrize(("text", "today", "expected"), FORMATS)
def test_formats(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


DECOYS = [
    "0371-1234567",
    "0371-12345678",
    "电话：0372-5551234",
    "138-0013-8000",
    "〔2026〕12号",
    "示政〔2026〕3号",
    "豫政办〔2025〕41号",
    "2026-02-30",
    "2026-13-01",
    "2026年2月30日",
    "1985-11-03",
    "1989年6月1日",
    "2028-01-01",
    "v2.3.1",
    "V3.10.12",
    "版本 2025.1.3.4",
    "10:20",
    "10:20:30",
    "10:20-11:30",
    "1-3月",
    "第1-15期",
    "8-12万元",
    "3-1获胜",
    "1-3",
    "12.5万元",
    "3.15",
    "2026",
    "2026年",
    "2026年11月",
    "202611",
    "20261103",
    "410523199011030012",
    "13-05",
    "今日头条",
    "提前天然气",
    "提前3天前往",
    "日前，县政府召开会议",
    "1/3",
    "11/03",
]


@pytest.mark.parametrize("text", DECOYS)
def test_decoys_are_not_dates(text: str) -> None:
    assert find_dates(text, TODAY) == []


def test_invalid_full_date_does_not_degrade_to_month_day() -> None:
    # "2026-02-30" is invalid; its tail "02-30" must not be read as a month-day either.
    assert find_dates("截止2026-02-30前", TODAY) == []
    assert find_dates("1985-11-03", TODAY) == []


def test_two_digit_leading_form_is_never_a_year() -> None:
    # "10-01" is 1 October of the inferred year, never 2010.
    assert parse_date("10-01", TODAY) == date(2026, 10, 1)
    assert parse_date("10-01", date(2026, 9, 30)) == date(2025, 10, 1)


def test_order_and_spans() -> None:
    text = "发布时间：2026-11-03 浏览：12次 更新于11-20，电话0371-1234567"
    found = find_dates(text, TODAY)
    assert [d for d, _, _ in found] == [date(2026, 11, 3), date(2026, 11, 20)]
    for d, start, end in found:
        assert parse_date(text[start:end], TODAY) == d


def test_spans_index_original_fullwidth_text() -> None:
    text = "日期：２０２６－１１－０３"
    ((d, start, end),) = find_dates(text, TODAY)
    assert d == date(2026, 11, 3)
    assert text[start:end] == "２０２６－１１－０３"


def test_relative_can_be_disabled() -> None:
    assert find_dates("昨天，县长到乡镇调研", TODAY, relative=False) == []
    assert parse_date("3天前", TODAY, relative=False) is None


def test_amounts_and_ranges_next_to_dates() -> None:
    text = "2026年1-10月完成投资8-12万元，2026-11-03发布"
    assert [d for d, _, _ in find_dates(text, TODAY)] == [date(2026, 11, 3)]


def test_datetime_variant_is_aware_shanghai() -> None:
    now = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
    value = parse_datetime("发布时间：2026-11-03 10:20", now)
    assert value == datetime(2026, 11, 3, 10, 20, tzinfo=SHANGHAI)
    assert value is not None and value.utcoffset() == timedelta(hours=8)
    iso = parse_datetime("2026-11-02T20:00:00Z", now)
    assert iso == datetime(2026, 11, 3, 4, 0, tzinfo=SHANGHAI)


def test_datetime_variant_relative_is_exact() -> None:
    early = datetime(2026, 11, 26, 2, 0, tzinfo=SHANGHAI)
    (m,) = find_datetimes("5小时前", early)
    assert m.value == datetime(2026, 11, 25, 21, 0, tzinfo=SHANGHAI)
    assert m.relative and m.has_time
    # The date-only API dates sub-day expressions "today".
    assert parse_date("5小时前", date(2026, 11, 26)) == date(2026, 11, 26)


def test_datetime_without_time_is_midnight() -> None:
    now = datetime(2026, 11, 26, 12, 0)
    (m,) = find_datetimes("2026年11月3日", now)
    assert m.value == datetime(2026, 11, 3, 0, 0, tzinfo=SHANGHAI)
    assert not m.has_time
    assert m.kind == "ymd_cn"


def test_invalid_time_keeps_date() -> None:
    assert parse_date("2026-11-03 25:61", TODAY) == date(2026, 11, 3)
