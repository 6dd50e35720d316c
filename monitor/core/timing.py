"""Durations and cron expressions as people write them in a schedule (``15m``, ``0 2 * * *``).

Pure parsing below the config, which validates schedule entries with it at load; the daemon's schedule
(``monitor.app.schedule``) turns the same entries into APScheduler triggers.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_duration(value: str | float) -> float:
    """``"15m"``, ``"1h30m"``, ``"2s"``, ``"7d"`` or a number of seconds → seconds (> 0).

    Hand-written: pydantic's timedelta accepts ISO 8601 (``PT15M``) but not the short forms people write
    in a schedule, and the grammar is four units.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif text and re.fullmatch(f"(?:{_DURATION.pattern})+", text, re.IGNORECASE):
            seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION.findall(text))
        else:
            raise ValueError(f"not a duration: {value!r} (write e.g. 15m, 2h, 1d, 30s)")
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return seconds


def _crontab_dow(field: str) -> str:
    """Crontab weekday numbers (0 and 7 = Sunday) as names, which APScheduler 3 reads unambiguously.

    APScheduler 3 counts 0 as Monday (its issue #286); users write crontab, where 0 is Sunday.
    """
    if field == "*" or re.search(r"[a-z]", field, re.IGNORECASE):
        return field
    days: set[int] = set()
    for item in field.split(","):
        rng, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            lo_text, hi_text = rng.split("-", 1)
            lo, hi = int(lo_text), int(hi_text)
        else:
            lo = hi = int(rng)
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi and step > 0):
            raise ValueError(f"bad day-of-week field {field!r} (0-7, 0 and 7 are Sunday)")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DOW_NAMES[d] for d in sorted(days))


def cron_trigger(expr: str, tz: ZoneInfo) -> CronTrigger:
    """A crontab expression (5 fields) or one with seconds first (6 fields) → a trigger in ``tz``."""
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(
            f"cron expression {expr!r} needs 5 fields (minute hour day month weekday) or 6 with seconds first"
        )
    second, minute, hour, day, month, dow = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_dow(dow),
        timezone=tz,
    )
