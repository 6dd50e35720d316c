"""When each duty runs: duty names, the default schedule, triggers, and catch-up after downtime.

Pure functions of the config, the store's run history and a time; the daemon (``monitor.app.daemon``) wires
them into APScheduler. Schedules are kept in APScheduler's in-memory job store only: what ran last is
the store's ``runs`` table, never pickled jobs, so a restart after downtime decides from the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from monitor.config import DutySchedule, Schedule

#: Duties the daemon runs itself rather than through ``monitor.runner.run_duty``.
SPECIAL_DUTIES = ("report", "backup")

#: Duties other parts of the product are adding. A schedule may name them now; the daemon schedules one
#: only once ``monitor.runner.duty_names()`` lists it (until then: an INFO line at start and at reload).
PLANNED_DUTIES = ("availability", "newmedia", "columns", "units", "identity")

#: The national-rule rhythm (see docs and config.yaml): availability every 15 minutes, the site patrol
#: (one crawl feeding links and every page check) nightly, new media daily, columns and site identity
#: weekly, unit inspections monthly, the weekly bulletin on Monday morning, and the monthly backup.
DEFAULT_SCHEDULE: dict[str, str] = {
    "availability": "every 15m",
    "patrol": "0 2 * * *",
    "newmedia": "0 3 * * *",
    "columns": "0 4 * * 1",
    "identity": "30 4 * * 1",
    "units": "0 5 1 * *",
    "report": "30 8 * * 1",
    "backup": "30 3 1 * *",
}

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


def make_trigger(entry: DutySchedule, tz: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger for one schedule entry."""
    if entry.cron is not None:
        return cron_trigger(entry.cron, tz)
    assert entry.every is not None  # guaranteed by the config model
    return IntervalTrigger(seconds=entry.every, timezone=tz)


def describe(entry: DutySchedule) -> str:
    """``cron 0 2 * * *`` or ``every 900s`` (logs, status, state file)."""
    return f"cron {entry.cron}" if entry.cron is not None else f"every {entry.every:g}s"


def known_duties(registered: Iterable[str]) -> list[str]:
    """Names a schedule may use: registered duties, the special ones, and the planned ones."""
    names = list(dict.fromkeys([*registered, *SPECIAL_DUTIES, *PLANNED_DUTIES]))
    return names


def effective_schedule(schedule: Schedule) -> dict[str, DutySchedule]:
    """Enabled entries: the defaults (unless ``defaults: false``) overlaid with the configured ones."""
    from monitor.config import DutySchedule

    merged: dict[str, DutySchedule] = {}
    if schedule.defaults:
        merged = {duty: DutySchedule.model_validate(text) for duty, text in DEFAULT_SCHEDULE.items()}
    merged.update(schedule.duties)
    return {duty: entry for duty, entry in merged.items() if entry.enabled}


@dataclass(frozen=True)
class CatchUp:
    """Whether a duty missed a scheduled run while the daemon was down, and why."""

    due: bool
    reason: str


def catch_up(entry: DutySchedule, last_ok: datetime | None, now: datetime, tz: ZoneInfo) -> CatchUp:
    """Due when there is no successful run, or a scheduled time passed since the last successful one.

    For an interval the period is the interval; for cron it is the next fire time after the last success
    (so a nightly 02:00 patrol that succeeded at 02:00:05 is not due at 09:00, but is after a night down).
    """
    if last_ok is None:
        return CatchUp(True, "no successful run recorded")
    if entry.every is not None:
        if now - last_ok >= timedelta(seconds=entry.every):
            age = f"last successful run {last_ok:%Y-%m-%d %H:%M:%S} is older than {entry.every:g}s"
            return CatchUp(True, age)
        return CatchUp(False, "recent")
    # Runs are stored with second precision: a run started at the fire time itself must not count as
    # before it.
    missed = make_trigger(entry, tz).get_next_fire_time(None, last_ok + timedelta(seconds=1))
    if missed is not None and missed <= now:
        return CatchUp(True, f"missed the run due at {missed:%Y-%m-%d %H:%M:%S}")
    return CatchUp(False, "recent")
