"""Routing: which channels an alert goes to, and whether quiet hours hold it back.

A transition goes to a channel when at least one rule naming that channel matches it: every condition the
rule lists holds (events, severities, kinds, sites, units; an empty list matches all). During quiet hours
only veto-level alerts (``pass_severities``, and any ``pass_events``) go out; the others are held in the
outbox until the quiet hours end — never dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from checks.kinds import finding_kinds
from monitor.config import AlertRule, Alerts, Config, QuietHours

from .transitions import Transition


def kind_names(rule: AlertRule) -> frozenset[str]:
    """The finding kinds a rule names, its Chinese 问题类型 labels turned into kind names."""
    return _kind_names(rule.kinds)


@cache
def _kind_names(entries: tuple[str, ...]) -> frozenset[str]:
    by_label: dict[str, set[str]] = {}
    names: set[str] = set()
    for kinds in finding_kinds().values():
        for kind in kinds.values():
            names.add(kind.name)
            by_label.setdefault(kind.label, set()).add(kind.name)
    out: set[str] = set()
    for entry in entries:
        out |= {entry} if entry in names else by_label.get(entry, set())
    return frozenset(out)


def unknown_kinds(alerts: Alerts) -> list[tuple[str, str]]:
    """``(key path, message)`` for every rule kind that is neither a declared kind nor a 问题类型.

    The config cannot check these at load (the kinds are declared by the check families, a layer above
    it), so ``monitor check-config``, ``monitor alerts test`` and the daemon's start call this.
    """
    names = {k.name for kinds in finding_kinds().values() for k in kinds.values()}
    labels = {k.label for kinds in finding_kinds().values() for k in kinds.values()}
    problems = []
    for i, rule in enumerate(alerts.rules):
        for j, entry in enumerate(rule.kinds):
            if entry not in names and entry not in labels:
                problems.append(
                    (f"alerts.rules[{i}].kinds[{j}]", f"unknown finding kind or 问题类型 {entry!r}")
                )
    return problems


def matches(rule: AlertRule, t: Transition) -> bool:
    """Whether every condition of ``rule`` holds for ``t``."""
    if t.event not in rule.events:
        return False
    if rule.severities and t.severity.value not in rule.severities:
        return False
    if rule.kinds and (t.kind is None or t.kind not in kind_names(rule)):
        return False
    if rule.sites and t.site not in rule.sites:
        return False
    return not (rule.units and t.unit not in rule.units)


def channels_for(config: Config, t: Transition) -> list[str]:
    """The channels ``t`` goes to, in the order the config names them."""
    wanted = {name for rule in config.alerts.rules if matches(rule, t) for name in rule.channels}
    return [name for name in config.alerts.channels if name in wanted]


def passes_quiet(quiet: QuietHours, t: Transition) -> bool:
    """Whether ``t`` goes out even during quiet hours (veto level, or an event listed to pass)."""
    return t.severity.value in quiet.pass_severities or t.event in quiet.pass_events


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end, or None when ``now`` is not in quiet hours."""
    if quiet is None or not quiet.contains(now.timetz().replace(tzinfo=None)):
        return None
    end = now.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= now:
        end += timedelta(days=1)
    return end


def hold_until(config: Config, t: Transition, now: datetime) -> datetime | None:
    """When a held alert may go out (end of the quiet hours), or None to send it now."""
    quiet = config.alerts.quiet_hours
    if quiet is None or passes_quiet(quiet, t):
        return None
    return quiet_until(quiet, now)
