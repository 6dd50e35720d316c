"""When each duty runs: the default schedule, triggers, and catch-up after downtime.

Pure functions of the config, the store's run history and a time; the daemon (``monitor.app.daemon``) wires
them into APScheduler. Schedules are kept in APScheduler's in-memory job store only: what ran last is
the store's ``runs`` table, never pickled jobs, so a restart after downtime decides from the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.core.timing import cron_trigger

if TYPE_CHECKING:
    from monitor.config import DutySchedule, Schedule

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

#: Where aligned intervals count from (queue mode): any fixed instant, the same on every machine.
INTERVAL_EPOCH = datetime(2000, 1, 3, tzinfo=ZoneInfo("UTC"))


def make_trigger(entry: DutySchedule, tz: ZoneInfo, *, aligned: bool = False) -> BaseTrigger:
    """The APScheduler trigger for one schedule entry.

    ``aligned``: an interval fires at fixed multiples of itself from :data:`INTERVAL_EPOCH` rather than
    from the daemon's start, so schedulers on several machines agree on the fire times (the task queue
    defers each fire time once, ``monitor.app.queue``).
    """
    if entry.cron is not None:
        return cron_trigger(entry.cron, tz)
    assert entry.every is not None  # guaranteed by the config model
    if aligned:
        return IntervalTrigger(seconds=entry.every, timezone=tz, start_date=INTERVAL_EPOCH)
    return IntervalTrigger(seconds=entry.every, timezone=tz)


def describe(entry: DutySchedule) -> str:
    """``cron 0 2 * * *`` or ``every 900s`` (logs, status, state file)."""
    return f"cron {entry.cron}" if entry.cron is not None else f"every {entry.every:g}s"


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
