"""Chinese working days, for 整改时限 ("10个工作日内").

Weekends are off, except 调休 make-up workdays (a Saturday or Sunday worked to bridge a holiday); public
holidays are off even on weekdays. Both lists come from config (``bulletin.workdays``) because the State
Council publishes each year's schedule only in December: a package with a built-in table (e.g.
``chinesecalendar``) is wrong until it is re-released, while the office can copy the notice into config
the day it appears. So this small calculator is hand-written on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


class WorkdayCalendar:
    """Which days are working days, and adding working days to a date."""

    def __init__(self, holidays: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.makeup_workdays = frozenset(makeup_workdays)
        self._memo: dict[tuple[date, int], date] = {}

    def is_workday(self, day: date) -> bool:
        """A make-up workday works; a holiday does not; otherwise Monday to Friday."""
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_workdays(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted).

        Issued on Friday with 1 working day → the next Monday (or later when Monday is a holiday).
        Memoised: a bulletin asks for the same few start days thousands of times.
        """
        key = (start, count)
        if key not in self._memo:
            self._memo[key] = self._add(start, count)
        return self._memo[key]

    def _add(self, start: date, count: int) -> date:
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day
