"""What changed since the last look: the transitions an alert is about, read from the store.

Alerts are about transitions only, never about a state that merely persists:

- a finding **opens** or **reopens** (the store's ``events``; a reopening within ``reopen_damping`` of its
  resolution is a flap and is not alerted again);
- a probed target goes **down** or comes back **up**: availability's debounced state (``down_after`` /
  ``up_after`` probes) opens and resolves its ``target_down`` finding, so those events are the state
  changes, already free of flapping;
- a duty's runs on a site have **failed** on ``failing_nights`` different nights in a row (once per
  streak), and **recover** after such a streak;
- the monitor itself was **offline** (the daemon started after a gap in its heartbeat).

Everything is read from the database with a cursor (the last event and run looked at), kept in the store
itself: a process killed after a run but before its alerts were queued finds them again next time, and
each transition has a stable key, so looking twice never queues an alert twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.core.clock import iso
from monitor.core.findings import Severity
from monitor.store.database import Store

#: The store record holding the alerts' cursor.
CURSOR_STATE = "alerts.cursor"
#: The store record holding the daemon's heartbeat (``monitor_offline``).
HEARTBEAT_STATE = "daemon.heartbeat"
#: Transitions older than this when first looked at are history, not news (e.g. alerts switched on after
#: months off, or runs made while the daemon was down for days): the weekly bulletin covers them.
STALE_AFTER = timedelta(days=2)
#: Run statuses that count as a failing night. A ``degraded`` run (the site answered with a maintenance or
#: challenge page) did not do its job either; ``interrupted`` runs (a stop or restart) neither count nor
#: break a streak.
FAILING = ("failed", "degraded")
#: The availability kind whose opening and resolution are the up/down transitions.
DOWN_KIND = "target_down"


@dataclass(frozen=True)
class Transition:
    """One thing worth an alert. ``key`` is stable: the same transition always has the same key."""

    event: str  # finding / site_down / site_up / duty_failing / duty_recovered / monitor_offline
    key: str
    severity: Severity
    at: datetime
    site: str | None = None
    unit: str | None = None
    duty: str | None = None
    kind: str | None = None  # the finding kind (finding, site_down, site_up)
    run_id: int | None = None
    finding: dict[str, Any] | None = None  # the finding's row (finding, site_down, site_up)
    reopened: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cursor:
    """How far the alerts have looked: the last finding event, and runs still running at the last look."""

    event_id: int
    run_id: int
    running: list[int] = field(default_factory=list)


def read_cursor(store: Store) -> Cursor | None:
    """The stored cursor, or None before alerts first looked."""
    raw = store.get_state(CURSOR_STATE)
    if not isinstance(raw, dict):
        return None
    return Cursor(int(raw.get("event_id", 0)), int(raw.get("run_id", 0)), list(raw.get("running", [])))


def save_cursor(store: Store, cursor: Cursor, now: datetime) -> None:
    """Store the cursor (after the alerts it covers are safe in the outbox)."""
    store.put_state(
        CURSOR_STATE, {"event_id": cursor.event_id, "run_id": cursor.run_id, "running": cursor.running}, now
    )


def start_cursor(store: Store) -> Cursor:
    """Where a first look starts: now. What happened before alerts were switched on is not news."""
    return Cursor(store.last_event_id(), store.last_run_id(), _running_ids(store))


def _running_ids(store: Store) -> list[int]:
    return store.running_run_ids()


def collect(store: Store, config: Config, now: datetime, cursor: Cursor) -> tuple[list[Transition], Cursor]:
    """Every transition after ``cursor``, and the cursor to store once they are queued.

    The store's high-water marks are read *first*: a run finishing while we look is left whole to the
    next look, never skipped (its events are above the mark); a run still running at the mark is looked
    at again once it has finished.
    """
    mark = Cursor(store.last_event_id(), store.last_run_id(), _running_ids(store))
    found = finding_transitions(store, config, now, cursor.event_id, mark.event_id)
    found += duty_transitions(store, config, now, _runs_to_check(store, cursor, mark))
    mark.event_id = max(mark.event_id, cursor.event_id)
    mark.run_id = max(mark.run_id, cursor.run_id)
    return found, mark


def finding_transitions(
    store: Store, config: Config, now: datetime, after: int, upto: int | None = None
) -> list[Transition]:
    """Findings opened or reopened (flaps damped), and targets gone down or back up: events after
    ``after`` (up to ``upto``)."""
    damping = timedelta(seconds=config.alerts.reopen_damping)
    out: list[Transition] = []
    for ev in store.events_after(after, ("opened", "reopened", "resolved")):
        if upto is not None and ev["event_id"] > upto:
            break
        row = ev["finding"]
        at = datetime.fromisoformat(ev["at"]).astimezone(config.tz)
        if now - at > STALE_AFTER or row["status"] == "ignored":
            continue
        down = row["kind"] == DOWN_KIND
        common = {
            "at": at,
            "site": row["site"],
            "unit": row["unit"],
            "duty": row["duty"],
            "kind": row["kind"],
            "run_id": ev["run_id"],
            "finding": row,
        }
        severity = Severity(row["severity"])
        if ev["event"] == "resolved":
            if down:  # the target is up again: the outage's length from its first failed probe
                started = _down_since(row, config)
                details = {"down_since": started, "minutes": _minutes(started, at)}
                out.append(Transition("site_up", f"up:{ev['event_id']}", severity, details=details, **common))
            continue
        reopened = ev["event"] == "reopened"
        if down:
            out.append(
                Transition("site_down", f"down:{ev['event_id']}", severity, reopened=reopened, **common)
            )
            continue
        if reopened:
            resolved_at = _previous_resolution(store, row["fingerprint"], ev["event_id"])
            if resolved_at is not None and at - resolved_at < damping:
                continue  # back within the damping window: a flap, alerted when it first opened
        out.append(Transition("finding", f"ev:{ev['event_id']}", severity, reopened=reopened, **common))
    return out


def _previous_resolution(store: Store, fingerprint: str, before_event: int) -> datetime | None:
    at = store.previous_event_at(fingerprint, "resolved", before_event)
    return datetime.fromisoformat(at) if at else None


def _down_since(row: dict[str, Any], config: Config) -> datetime | None:
    """When the outage began: the first failed probe of the streak (the finding's ``since``)."""
    text = (row.get("evidence") or {}).get("since")
    if not text or text == "—":
        return datetime.fromisoformat(row["first_seen"]).astimezone(config.tz)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=config.tz)
    except ValueError:
        return datetime.fromisoformat(row["first_seen"]).astimezone(config.tz)


def _minutes(start: datetime | None, end: datetime) -> int | None:
    return None if start is None else max(0, int((end - start).total_seconds() // 60))


def _runs_to_check(store: Store, cursor: Cursor, mark: Cursor) -> list[tuple[str, str]]:
    """(duty, site) pairs with a run finished since the last look (up to the high-water mark)."""
    return store.finished_pairs(cursor.run_id, mark.run_id, cursor.running)


def duty_transitions(
    store: Store, config: Config, now: datetime, pairs: list[tuple[str, str]]
) -> list[Transition]:
    """A duty failing on ``failing_nights`` nights in a row on a site (once per streak), and its recovery."""
    nights = config.alerts.failing_nights
    out: list[Transition] = []
    for duty, site in pairs:
        found = store.failing_streak(duty, site, FAILING)
        if found is None:
            continue
        latest, streak = found
        latest_ok = latest[1] not in FAILING
        if not streak:
            continue
        runs = [latest]
        days = [datetime.fromisoformat(r[2]).astimezone(config.tz).date() for r in streak]
        if len(set(days)) < nights:
            continue
        first, last = streak[0], streak[-1]
        # The run that made the streak reach N nights: the alert's moment.
        seen: set[object] = set()
        reached = last
        for row, day in zip(streak, days, strict=True):
            seen.add(day)
            if len(seen) >= nights:
                reached = row
                break
        details = {
            "nights": len(set(days)),
            "runs": len(streak),
            "first_failed_at": datetime.fromisoformat(first[2]).astimezone(config.tz),
            "last_error": last[4] or "",
        }
        if latest_ok:
            at = datetime.fromisoformat(runs[0][3] or runs[0][2]).astimezone(config.tz)
            if now - at > STALE_AFTER:
                continue
            out.append(
                Transition(
                    "duty_recovered",
                    f"recovered:{duty}:{site}:{first[0]}",
                    Severity.INFO,
                    at,
                    site=site,
                    duty=duty,
                    run_id=int(runs[0][0]),
                    details=details,
                )
            )
            continue
        at = datetime.fromisoformat(reached[3] or reached[2]).astimezone(config.tz)
        if now - at > STALE_AFTER and reached is not last:
            continue
        out.append(
            Transition(
                "duty_failing",
                f"failing:{duty}:{site}:{first[0]}",
                Severity.WARNING,
                at,
                site=site,
                duty=duty,
                run_id=int(last[0]),
                details=details,
            )
        )
    return out


def heartbeat(store: Store, now: datetime) -> None:
    """The daemon is alive now (written every minute while it runs)."""
    store.put_state(HEARTBEAT_STATE, {"at": iso(now)}, now)


def offline_transition(store: Store, config: Config, now: datetime) -> Transition | None:
    """At daemon start: the monitor was not running for longer than ``offline_after``."""
    raw = store.get_state(HEARTBEAT_STATE)
    if not isinstance(raw, dict) or not raw.get("at"):
        return None
    last = datetime.fromisoformat(raw["at"]).astimezone(config.tz)
    gap = now - last
    if gap.total_seconds() <= config.alerts.offline_after:
        return None
    return Transition(
        "monitor_offline",
        f"offline:{raw['at']}",
        Severity.WARNING,
        now,
        details={"since": last, "minutes": int(gap.total_seconds() // 60)},
    )
