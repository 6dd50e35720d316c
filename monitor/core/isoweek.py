"""ISO weeks (``2026-W48``) in the configured time zone: what "this week" and "last week" mean.

Bulletins are weekly and Chinese offices count weeks the ISO way (Monday first; week 1 holds the year's
first Thursday), so 2027-01-01 belongs to 2026-W53. The stdlib's ``isocalendar``/``fromisocalendar`` do
the arithmetic; this module only adds parsing and the zone-aware boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO week: ``year`` is the ISO year (which may differ from the calendar year of its days)."""

    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as exc:
            raise ValueError(f"no ISO week {self.year}-W{self.week:02d}") from exc

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W48`` (or ``2026W48``, ``2026-w48``). Raises ValueError for anything else."""
        m = _WEEK.match(text)
        if not m:
            raise ValueError(f"not an ISO week like 2026-W48: {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week containing ``day``."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def monday(self) -> date:
        """First day of the week."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        """Last day of the week."""
        return self.monday + timedelta(days=6)

    def start(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 in ``tz`` (inclusive)."""
        return datetime.combine(self.monday, time(0), tzinfo=tz)

    def end(self, tz: ZoneInfo) -> datetime:
        """The next Monday 00:00 in ``tz`` (exclusive)."""
        return datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz)

    def shift(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (negative: earlier)."""
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    @property
    def label(self) -> str:
        """``2026-W48`` — also the reports folder name."""
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label


def current_week(now: datetime) -> IsoWeek:
    """The week containing ``now`` (an aware time in the configured zone)."""
    return IsoWeek.of(now.date())


def last_complete_week(now: datetime) -> IsoWeek:
    """The latest week that has fully ended at ``now``: on Monday 00:10 that is the week just ended."""
    return current_week(now).shift(-1)
