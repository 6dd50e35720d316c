"""ISO weeks at year ends and at the Sunday/Monday boundary, and Chinese working-day deadlines."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from monitor.core.clock import SHANGHAI
from monitor.core.isoweek import IsoWeek, current_week, last_complete_week
from monitor.core.workdays import WorkdayCalendar


def test_new_year_days_belong_to_the_iso_week_of_the_old_year() -> None:
    assert IsoWeek.of(date(2026, 12, 31)) == IsoWeek(2026, 53)
    assert IsoWeek.of(date(2027, 1, 1)) == IsoWeek(2026, 53)
    assert IsoWeek.of(date(2027, 1, 4)) == IsoWeek(2027, 1)
    w = IsoWeek.parse("2026-W53")
    assert (w.monday, w.sunday) == (date(2026, 12, 28), date(2027, 1, 3))
    assert w.shift(1) == IsoWeek(2027, 1) and IsoWeek(2027, 1).shift(-1) == w
    assert w.label == "2026-W53"
    assert w.start(SHANGHAI).isoformat() == "2026-12-28T00:00:00+08:00"
    assert w.end(SHANGHAI).isoformat() == "2027-01-04T00:00:00+08:00"


def test_default_week_is_the_last_complete_one_in_shanghai_time() -> None:
    monday_morning = datetime(2026, 11, 30, 0, 10, tzinfo=SHANGHAI)
    sunday_night = datetime(2026, 11, 29, 23, 50, tzinfo=SHANGHAI)
    assert last_complete_week(monday_morning) == IsoWeek(2026, 48)
    assert last_complete_week(sunday_night) == IsoWeek(2026, 47)
    assert current_week(sunday_night) == IsoWeek(2026, 48)
    # 2027-01-01 in Shanghai: the week in progress is 2026-W53, the last complete one 2026-W52.
    assert last_complete_week(datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)) == IsoWeek(2026, 52)
    assert last_complete_week(datetime(2027, 1, 4, 0, 10, tzinfo=SHANGHAI)) == IsoWeek(2026, 53)


@pytest.mark.parametrize("text", ["2026-W54", "2025-W53", "2026-48", "W48", "2026-W0", ""])
def test_bad_weeks_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        IsoWeek.parse(text)


def test_working_days_skip_weekends_holidays_and_count_makeup_days() -> None:
    plain = WorkdayCalendar()
    assert plain.add_workdays(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday → Monday
    assert plain.add_workdays(date(2026, 11, 26), 10) == date(2026, 12, 10)
    # National Day 2026 as an office would configure it: 1–7 Oct off, Sun 27 Sep and Sat 10 Oct worked.
    cal = WorkdayCalendar(
        holidays=[date(2026, 10, d) for d in range(1, 8)],
        makeup_workdays=[date(2026, 9, 27), date(2026, 10, 10)],
    )
    assert cal.is_workday(date(2026, 9, 27)) and not cal.is_workday(date(2026, 10, 5))
    # From Mon 28 Sep: 29, 30 Sep, 8, 9, 10 (make-up Sat), 12–16 Oct.
    assert cal.add_workdays(date(2026, 9, 28), 10) == date(2026, 10, 16)
    assert cal.add_workdays(date(2026, 9, 25), 1) == date(2026, 9, 27)
