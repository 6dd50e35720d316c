"""Pure availability rules: the rolling failure ratio (W2) and the debounced up/down state machine.

No I/O here: the availability duty feeds these functions with counts and probe outcomes read from the
store, so the boundaries (exactly 3 % and 5 %) and the flap suppression are tested on their own.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction


class RatioLevel(StrEnum):
    """What a failure ratio means under the national rule."""

    OK = "ok"
    WARNING = "warning"  # ≥ warn_percent (vendors' pre-veto warning, 3 %)
    VETO = "veto"  # ≥ fail_percent (单项否决, 5 %)
    UNKNOWN = "unknown"  # too few counted probes to judge


@dataclass(frozen=True)
class RatioVerdict:
    """The failure ratio of one target over the window, with the counts it was computed from."""

    total: int  # counted probes (the monitor was online)
    failures: int
    offline: int  # probes taken while the monitor itself was offline: excluded
    level: RatioLevel
    window_days: int

    @property
    def percent(self) -> float | None:
        """Failure share in percent, or None without counted probes."""
        return None if self.total == 0 else 100.0 * self.failures / self.total

    @property
    def percent_text(self) -> str:
        """One decimal, rounded down so a share just under a threshold never prints as the threshold."""
        if self.total == 0:
            return "—"
        tenths = (self.failures * 1000) // self.total
        return f"{tenths // 10}.{tenths % 10}%"

    @property
    def availability_text(self) -> str:
        """Availability (100 % minus the failure share), rounded down to one decimal."""
        if self.total == 0:
            return "—"
        tenths = ((self.total - self.failures) * 1000) // self.total
        return f"{tenths // 10}.{tenths % 10}%"

    @property
    def summary_zh(self) -> str:
        """ "近7天探测672次，失败41次，失败率6.1%" (plus the excluded offline probes when there were any)."""
        text = f"近{self.window_days}天探测{self.total}次，失败{self.failures}次，失败率{self.percent_text}"
        if self.offline:
            text += f"（另有{self.offline}次探测时监测端自身断网，未计入）"
        return text


def failure_ratio(
    total: int,
    failures: int,
    *,
    warn_percent: float,
    fail_percent: float,
    min_probes: int,
    window_days: int = 7,
    offline: int = 0,
) -> RatioVerdict:
    """Judge a failure count: ``failures / total ≥ fail_percent`` is a veto, ``≥ warn_percent`` a warning.

    Compared in exact rational arithmetic (``Fraction(str(x))``): in floats ``0.07 * 100`` is
    ``7.000000000000001``, so 7 failures in 100 probes would miss a configured 7 % line.
    """
    if failures < 0 or total < 0 or failures > total:
        raise ValueError(f"bad probe counts: {failures} failures of {total}")
    if total < min_probes:
        level = RatioLevel.UNKNOWN
    else:
        share = Fraction(failures * 100, total) if total else Fraction(0)
        if share >= Fraction(str(fail_percent)):
            level = RatioLevel.VETO
        elif share >= Fraction(str(warn_percent)):
            level = RatioLevel.WARNING
        else:
            level = RatioLevel.OK
    return RatioVerdict(total, failures, offline, level, window_days)


class State(StrEnum):
    """Debounced state of a probed target."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class TargetState:
    """A target's state and the streaks that move it. ``since``: when the current state began."""

    state: State = State.UNKNOWN
    fail_streak: int = 0
    ok_streak: int = 0
    since: datetime | None = None
    first_failure_at: datetime | None = None  # start of the current failure streak


def advance(
    prev: TargetState, ok: bool | None, at: datetime, *, down_after: int, up_after: int
) -> TargetState:
    """The state after one probe. ``ok=None`` (monitor offline) changes nothing.

    A target goes down only after ``down_after`` consecutive failures and comes back up only after
    ``up_after`` consecutive successes, so one lost probe never flaps it. A fresh target is up at its
    first success: there is nothing to debounce when no alert is raised.
    """
    if ok is None:
        return prev
    if ok:
        streak = replace(prev, ok_streak=prev.ok_streak + 1, fail_streak=0, first_failure_at=None)
        if prev.state == State.UNKNOWN or (prev.state == State.DOWN and streak.ok_streak >= up_after):
            return replace(streak, state=State.UP, since=at)
        return streak
    first = prev.first_failure_at if prev.fail_streak else at
    streak = replace(prev, fail_streak=prev.fail_streak + 1, ok_streak=0, first_failure_at=first)
    if prev.state != State.DOWN and streak.fail_streak >= down_after:
        return replace(streak, state=State.DOWN, since=first)
    return streak


def median_ms(latencies: list[int]) -> int | None:
    """Median latency in milliseconds, or None without samples."""
    return int(statistics.median(latencies)) if latencies else None
