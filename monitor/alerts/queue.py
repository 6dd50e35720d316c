"""Queueing alerts: look at the store, route, group and compose, and put each message in the outbox."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.bulletin.outbox import Outbox
from monitor.bulletin.vocabulary import problem_type
from monitor.config import Config
from monitor.core.clock import Clock
from monitor.store.database import Store

from . import send
from .compose import Composer, budget_for, message_format
from .rules import channels_for, hold_until
from .transitions import Transition, collect, offline_transition, read_cursor, save_cursor, start_cursor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueReport:
    """What one look at the store queued."""

    transitions: int
    queued: int
    held: int


def queue_alerts(
    config: Config,
    store: Store,
    outbox: Outbox,
    clock: Clock,
    *,
    at_start: bool = False,
    env: Mapping[str, str] | None = None,
) -> QueueReport:
    """Look at what changed since the last look, queue its alerts, then move the cursor.

    ``at_start`` (the daemon starting) also looks at the daemon's heartbeat for ``monitor_offline``.
    The cursor moves only after the alerts are safe in the outbox; a crash in between queues them again
    under the same keys, which the outbox does not queue twice.
    """
    # One look at a time on every machine sharing the store (PostgreSQL): two looks from one cursor
    # would queue the same alerts in two outboxes.
    with store.exclusive("alerts-cursor"):
        now = clock.now()
        cursor = read_cursor(store)
        if cursor is None:
            save_cursor(store, start_cursor(store), now)
            found: list[Transition] = []
            new = None
        else:
            found, new = collect(store, config, now, cursor)
        if at_start:
            offline = offline_transition(store, config, now)
            if offline is not None:
                found.append(offline)
        report = queue_transitions(config, outbox, found, clock, env=env)
        if new is not None:
            save_cursor(store, new, now)
        return report


def queue_transitions(
    config: Config,
    outbox: Outbox,
    found: list[Transition],
    clock: Clock,
    *,
    env: Mapping[str, str] | None = None,
) -> QueueReport:
    """Route, group and compose ``found``, and queue one message per channel and group."""
    now = clock.now()
    composer = Composer(config)
    formats = {name: _format_of(name, config, env) for name in config.alerts.channels}
    # Findings: one message per channel, run, problem type and whether quiet hours hold it.
    groups: dict[tuple[str, int | None, str, bool], list[Transition]] = defaultdict(list)
    singles: list[tuple[str, Transition]] = []
    for t in found:
        for channel in channels_for(config, t):
            if t.event == "finding":
                label = problem_type(t.duty or "", t.kind or "")
                held = hold_until(config, t, now) is not None
                groups[(channel, t.run_id, label, held)].append(t)
            else:
                singles.append((channel, t))
    queued = held_count = 0
    for (channel, run_id, label, _held), items in groups.items():
        fmt, budget = formats[channel]
        message = composer.findings(items, fmt, budget)
        until = min((u for t in items if (u := hold_until(config, t, now)) is not None), default=None)
        identity = f"findings:run{run_id}:{label}:" + ",".join(sorted(t.key for t in items))
        severity = min((t.severity for t in items), key=lambda s: s.rank).value
        _entry, new = send.enqueue(
            outbox,
            channel=channel,
            identity=identity,
            message=message,
            event="finding",
            severity=severity,
            now=now,
            hold_until=until,
        )
        queued += new
        held_count += new and until is not None
    for channel, t in singles:
        fmt, budget = formats[channel]
        until = hold_until(config, t, now)
        _entry, new = send.enqueue(
            outbox,
            channel=channel,
            identity=t.key,
            message=composer.event(t, fmt, budget),
            event=t.event,
            severity=t.severity.value,
            now=now,
            hold_until=until,
        )
        queued += new
        held_count += new and until is not None
    if found:
        log.info("alerts: %d transition(s), %d message(s) queued (%d held)", len(found), queued, held_count)
    return QueueReport(len(found), queued, held_count)


def _format_of(name: str, config: Config, env: Mapping[str, str] | None) -> tuple[str, int]:
    """The message format and size budget of a channel (its URL's scheme, when it can be read now)."""
    channel = config.alerts.channels[name]
    try:
        scheme = send.url_scheme(send.channel_url(channel, env))
    except send.ChannelError:
        scheme = None
    return message_format(scheme, channel.format), budget_for(scheme)
