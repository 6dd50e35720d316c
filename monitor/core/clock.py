"""The run's clock: every "now" in the product comes from here, in the configured time zone.

Tests and reproducible reports pin time with :class:`FixedClock` (or ``MONITOR_NOW`` on the command line),
so boundary cases (13 vs 15 days, 6 months) are exact.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Something that tells the current aware time."""

    tz: ZoneInfo

    def now(self) -> datetime:
        """Current time, aware, in ``tz``."""
        ...


class SystemClock:
    """The real wall clock in a given time zone."""

    def __init__(self, tz: ZoneInfo = SHANGHAI) -> None:
        self.tz = tz

    def now(self) -> datetime:
        """Current time in ``tz``."""
        return datetime.now(self.tz)


class FixedClock:
    """A clock pinned to one instant (naive datetimes are taken in ``tz``); ``advance`` moves it."""

    def __init__(self, at: datetime, tz: ZoneInfo = SHANGHAI) -> None:
        self.tz = tz
        self._at = at if at.tzinfo else at.replace(tzinfo=tz)

    def now(self) -> datetime:
        """The pinned instant in ``tz``."""
        return self._at.astimezone(self.tz)

    def advance(self, **delta: float) -> None:
        """Move the pinned instant forward, e.g. ``advance(days=1)``."""
        from datetime import timedelta

        self._at = self._at + timedelta(**delta)


def clock_from_env(tz: ZoneInfo, env: dict[str, str] | None = None) -> Clock:
    """``MONITOR_NOW`` (ISO 8601) pins the clock for reproducible runs; otherwise the system clock."""
    value = (env if env is not None else os.environ).get("MONITOR_NOW")
    if value:
        return FixedClock(datetime.fromisoformat(value), tz)
    return SystemClock(tz)


def iso(dt: datetime) -> str:
    """Stored form of a timestamp: ISO 8601 with offset, second precision."""
    return dt.isoformat(timespec="seconds")
