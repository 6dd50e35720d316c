"""Triage and rectification (整改闭环): what the console and the CLI read and do with findings.

The console (``monitor.console``) never writes SQL: it calls these functions with an open
:class:`~monitor.store.database.Store` (contract: the console ↔ store notes, docs/findings.md).

- **Reading**: :func:`list_findings` (one page of a filtered, sorted list: one query and one count),
  :func:`finding_detail`, :func:`overview`, :func:`unit_names`, :func:`kinds_present`. Every read takes
  ``units``, a department user's scope: a finding outside it is never returned nor counted. Reads run in
  one deferred (read) transaction: in WAL mode they see one snapshot and never take the write lock, so a
  daemon writing a run's findings is never held up by the console, nor the console by it.
- **Acting**: :func:`mark_false_positive` / :func:`undo_false_positive`, :func:`assign_unit`,
  :func:`set_deadline`, :func:`request_recheck`; each records an event with its ``actor`` and reason.
  Unknown findings (or outside ``units``) raise :class:`KeyError`; an action the finding's state does not
  allow raises :class:`ValueError` with a Chinese message meant for the user.
- **Re-checks** (复核): a request queues a ``rechecks`` row; the daemon (or ``monitor recheck ID --run``)
  claims it (:func:`claim_recheck`), runs the finding's duty on its site through the normal runner, and
  records what that run showed (:func:`finish_recheck`). The finding itself closes only through the normal
  lifecycle (a complete, credible run that no longer sees it); the re-check only reports it.
- **Users**: the console's accounts; the store keeps password hashes, never passwords.

Effective unit: a finding's ``assigned_unit`` when set, else the ``unit`` its check attributed. The SQL is
standard (``?`` placeholders, ``coalesce``, ``CASE``, ``EXISTS``, ``LIKE … ESCAPE``), so the PostgreSQL
port runs the same statements.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from monitor.core.clock import iso
from monitor.core.findings import FindingStatus, Severity
from monitor.store.database import Store, _pid_alive

#: What ``FindingQuery.status`` may ask for: the stored statuses, and ``recheck`` (open, 已整改申请复核).
QUERY_STATUSES: tuple[str, ...] = ("open", "resolved", "ignored", "recheck")
#: What a list may be sorted by.
SORTS: tuple[str, ...] = ("severity", "first_seen", "last_seen", "deadline", "site", "unit", "kind")
MAX_PER_PAGE = 200
#: Console roles: 管理员, 办公室 (the office that runs the monitoring), 责任单位 (one unit), 只读.
ROLES: tuple[str, ...] = ("admin", "office", "department", "readonly")
#: A re-check's states and outcomes (docs/findings.md, "Re-checks").
RECHECK_STATES: tuple[str, ...] = ("pending", "running", "done")
RECHECK_OUTCOMES: tuple[str, ...] = ("closed", "still_present", "not_credible", "cancelled")
#: How often a re-check whose run was not credible (degraded, failed, incomplete) is tried before its
#: outcome is ``not_credible`` (the daemon passes ``console.recheck_attempts``).
DEFAULT_RECHECK_ATTEMPTS = 3

#: Chinese names of the events a finding's history shows.
EVENT_LABELS: dict[str, str] = {
    "opened": "发现问题",
    "reopened": "问题再次出现",
    "resolved": "复查未再发现，已关闭",
    "ignored": "标记为误报",
    "unignored": "撤销误报标记",
    "assigned": "分派责任单位",
    "deadline_set": "设定整改时限",
    "rectified": "已整改，申请复核",
    "recheck_closed": "复核通过，问题已关闭",
    "recheck_failed": "复核未通过，问题仍存在",
    "recheck_inconclusive": "复核运行不可信，未能判断",
    "recheck_cancelled": "复核已取消",
}
#: Events that change a finding's status (the weekly trend counts these).
LIFECYCLE_EVENTS: tuple[str, ...] = ("opened", "reopened", "resolved", "ignored", "unignored")

_SEVERITY_RANK = "CASE f.severity WHEN 'veto' THEN 3 WHEN 'deduction' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END"
_UNIT = "coalesce(f.assigned_unit, f.unit)"  # the expression of index findings_unit_status
_PENDING = (
    "EXISTS (SELECT 1 FROM rechecks r WHERE r.fingerprint = f.fingerprint "
    "AND r.state IN ('pending', 'running'))"
)
_QUEUED = "SELECT r.fingerprint FROM rechecks r WHERE r.state IN ('pending', 'running')"
_ROW_COLUMNS = (
    f"f.fingerprint, f.duty, f.kind, f.severity, f.site, {_UNIT}, f.url, f.message, f.first_seen, "
    f"f.last_seen, f.status, f.deadline, f.times_seen, CASE WHEN {_PENDING} THEN 1 ELSE 0 END"
)
_SORT_SQL: dict[str, tuple[str, ...]] = {
    "severity": (_SEVERITY_RANK,),
    "first_seen": ("f.first_seen",),
    "last_seen": ("f.last_seen",),
    "deadline": ("f.deadline",),
    "site": ("f.site",),
    "unit": (_UNIT,),
    "kind": ("f.duty", "f.kind"),
}


# -- reading ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FindingQuery:
    """What a findings list shows: filters, the department scope, the sort and the page.

    ``status``: ``open`` | ``resolved`` | ``ignored`` (误报) | ``recheck`` (open, a re-check requested and
    not done) | None for all. ``overdue``: only open findings past their 整改时限. ``text``: a substring of
    the URL, the message or a source page (case-insensitive for Latin letters). ``units``: a department
    user's scope (None: every unit; an empty set: nothing). ``sort`` with ``descending`` (the default:
    most serious, newest, latest deadline first); ties go by id (a severity sort: newest seen first), so
    pages are stable. A deadline or unit sort puts findings without one last either way.
    """

    site: str | None = None
    unit: str | None = None
    duty: str | None = None
    kind: str | None = None
    severity: str | None = None
    status: str | None = None
    overdue: bool = False
    text: str | None = None
    units: frozenset[str] | None = None
    sort: str = "severity"
    descending: bool = True
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in QUERY_STATUSES:
            raise ValueError(f"未知的整改状态“{self.status}”，可选：{'、'.join(QUERY_STATUSES)}")
        if self.sort not in SORTS:
            raise ValueError(f"不能按“{self.sort}”排序，可选：{'、'.join(SORTS)}")
        if self.severity is not None and self.severity not in {s.value for s in Severity}:
            raise ValueError(f"未知的严重程度“{self.severity}”")
        if self.page < 1:
            raise ValueError(f"页码应从1开始，不能是{self.page}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"每页条数应在1到{MAX_PER_PAGE}之间，不能是{self.per_page}")


@dataclass(frozen=True)
class FindingRow:
    """One finding as a list shows it. ``unit``: the effective unit (assigned, else attributed);
    ``status``: the stored one (``recheck_pending`` tells an open finding awaiting its re-check)."""

    fingerprint: str
    duty: str
    kind: str
    severity: str
    site: str
    unit: str | None
    url: str | None
    message: str
    first_seen: datetime
    last_seen: datetime
    status: str
    deadline: date | None
    overdue: bool
    recheck_pending: bool
    times_seen: int


@dataclass(frozen=True)
class FindingPage:
    """One page of a findings list and the number of findings matching the query in all."""

    rows: list[FindingRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the query has (at least 1)."""
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class FindingEvent:
    """One entry of a finding's history. ``actor``: who acted (None: a run of the monitor); ``note``: the
    reason given; ``detail``: what the action set (the unit, the new deadline, the re-check's number)."""

    id: int
    at: datetime
    event: str
    note: str | None
    actor: str | None
    run_id: int | None
    detail: str | None = None

    @property
    def label(self) -> str:
        """The event's Chinese name."""
        return EVENT_LABELS.get(self.event, self.event)


@dataclass(frozen=True)
class Recheck:
    """A re-check request (复核申请) and, once done, what its run showed.

    ``state``: ``pending`` → ``running`` (claimed by a process, ``claimed_by`` = host:pid) → ``done``;
    ``outcome`` once done: ``closed`` (the run no longer saw the finding: it is resolved), ``still_present``,
    ``not_credible`` (the run could not tell, ``attempts`` times) or ``cancelled`` (marked 误报 meanwhile).
    ``note``: the outcome in Chinese.
    """

    id: int
    fingerprint: str
    duty: str
    site: str
    reason: str
    requested_at: datetime
    requested_by: str
    state: str
    attempts: int = 0
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    finished_at: datetime | None = None
    run_id: int | None = None
    outcome: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class FindingDetail:
    """One finding with everything its page shows: the list row, the attributed (``own_unit``) and
    ``assigned_unit``, its source pages, evidence (with ``screenshots``: file names in the store's
    evidence folder), the 误报 reason, its history and its re-checks (newest first)."""

    row: FindingRow
    own_unit: str | None
    assigned_unit: str | None
    source_urls: list[str]
    evidence: dict[str, Any]
    screenshots: list[str]
    ignored_reason: str | None
    resolved_at: datetime | None
    events: list[FindingEvent]
    rechecks: list[Recheck]


@dataclass(frozen=True)
class WeekTrend:
    """One ISO week of the trend: findings opened (new or reopened) and resolved in it, and how many
    were open at its end (for the running week: now)."""

    iso_week: str
    start: date
    opened: int
    resolved: int
    open_at_end: int


@dataclass(frozen=True)
class TargetState:
    """The up/down state of one availability target (首页, 在线办事 …) and since when."""

    site: str
    target: str
    name: str | None
    state: str
    since: datetime | None


@dataclass(frozen=True)
class Overview:
    """The console's front page: open findings by unit, kind and severity, the open veto findings, the
    weekly trend (this week and 12 back), the availability targets, overdue and re-check counts."""

    open_total: int
    open_by_unit: list[tuple[str | None, int]]
    open_by_kind: list[tuple[str, str, int]]
    open_by_severity: list[tuple[str, int]]
    veto: list[FindingRow]
    weeks: list[WeekTrend]
    targets: list[TargetState]
    overdue: int
    recheck_pending: int


@contextmanager
def _snapshot(store: Store) -> Iterator[None]:
    """A read transaction (it never takes the write lock) so a page's queries see one state."""
    with store.backend.snapshot():
        yield


def _one(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row of a query that finds exactly one (a fingerprint already resolved)."""
    return rows[0]


def _scope(units: frozenset[str] | None, args: list[Any]) -> str:
    """The SQL condition of a department scope ('' for none); appends its arguments."""
    if units is None:
        return ""
    if not units:
        return "1 = 0"
    names = sorted(units)
    args.extend(names)
    return f"{_UNIT} IN ({', '.join('?' for _ in names)})"


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(q: FindingQuery, today: date) -> tuple[str, list[Any]]:
    parts: list[str] = []
    args: list[Any] = []
    scope = _scope(q.units, args)
    if scope:
        parts.append(scope)
    for column, value in (
        ("f.site", q.site),
        ("f.duty", q.duty),
        ("f.kind", q.kind),
        ("f.severity", q.severity),
    ):
        if value is not None:
            parts.append(f"{column} = ?")
            args.append(value)
    if q.unit is not None:
        parts.append(f"{_UNIT} = ?")
        args.append(q.unit)
    if q.status == "recheck":
        # Driven from the few queued re-checks (index rechecks_state), not a lookup per open finding.
        # (The status test is an expression no index serves, so the plan starts from the re-checks.)
        parts.append(f"f.fingerprint IN ({_QUEUED}) AND CASE WHEN f.status = 'open' THEN 1 ELSE 0 END = 1")
    elif q.status is not None:
        parts.append("f.status = ?")
        args.append(q.status)
    if q.overdue:
        parts.append("f.status = 'open' AND f.deadline IS NOT NULL AND f.deadline < ?")
        args.append(today.isoformat())
    if q.text and q.text.strip():
        pattern = _like(q.text.strip())
        parts.append(
            "(lower(f.url) LIKE ? ESCAPE '\\' OR lower(f.message) LIKE ? ESCAPE '\\' "
            "OR lower(f.source_urls) LIKE ? ESCAPE '\\')"
        )
        args.extend([pattern] * 3)
    return (" WHERE " + " AND ".join(f"({p})" for p in parts)) if parts else "", args


def _order(q: FindingQuery) -> str:
    direction = "DESC" if q.descending else "ASC"
    keys = [f"{column} {direction}" for column in _SORT_SQL[q.sort]]
    if q.sort in ("deadline", "unit"):
        # Without one last either way (SQLite and PostgreSQL differ on where NULLs sort).
        keys.insert(0, f"CASE WHEN {_SORT_SQL[q.sort][0]} IS NULL THEN 1 ELSE 0 END")
    if q.sort == "severity":  # most serious first, then the newest seen
        return ", ".join([*keys, "f.last_seen DESC", "f.fingerprint"])
    return ", ".join([*keys, f"f.fingerprint {direction}"])


def _row(values: Sequence[Any], today: date) -> FindingRow:
    fp, duty, kind, severity, site, unit, url, message, first, last, status, deadline, seen, pending = values
    due = date.fromisoformat(deadline) if deadline else None
    return FindingRow(
        fingerprint=fp,
        duty=duty,
        kind=kind,
        severity=severity,
        site=site,
        unit=unit or None,
        url=url,
        message=message or "",
        first_seen=datetime.fromisoformat(first),
        last_seen=datetime.fromisoformat(last),
        status=status,
        deadline=due,
        overdue=status == FindingStatus.OPEN.value and due is not None and due < today,
        recheck_pending=bool(pending),
        times_seen=int(seen or 0),
    )


def list_findings(store: Store, q: FindingQuery, now: datetime) -> FindingPage:
    """One page of the findings matching ``q`` and how many match in all.

    Late row lookup: the sort handles only the keys and ids of the matching findings (each sort has an
    index holding both), and the page's rows — URLs, messages, the re-check flag — are read for its ids
    alone. A text search has no index to use: it reads every finding once, counting them in the same pass
    (``count(*) OVER ()``) instead of a second scan.
    """
    today = now.date()
    where, args = _where(q, today)
    order = _order(q)
    limits = [q.per_page, (q.page - 1) * q.per_page]
    with _snapshot(store):
        if q.text and q.text.strip():
            found = store.backend.execute(
                f"SELECT f.fingerprint, count(*) OVER () FROM findings f{where} "
                f"ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, *limits],
            ).fetchall()
            ids = [fp for fp, _ in found]
            marks = ", ".join("?" for _ in ids) or "NULL"
            rows = store.backend.execute(
                f"SELECT {_ROW_COLUMNS} FROM findings f WHERE f.fingerprint IN ({marks}) ORDER BY {order}",
                ids,
            ).fetchall()
            total = int(found[0][1]) if found else None
        else:
            rows = store.backend.execute(
                f"SELECT {_ROW_COLUMNS} FROM findings f WHERE f.fingerprint IN (SELECT f.fingerprint "
                f"FROM findings f{where} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
                [*args, *limits],
            ).fetchall()
            total = None
        if total is None:  # (a page past the end of a text search counts on its own)
            total = int(store.backend.execute(f"SELECT count(*) FROM findings f{where}", args).fetchone()[0])
    return FindingPage([_row(r, today) for r in rows], total, q.page, q.per_page)


def _resolve_fingerprint(store: Store, fp: str, units: frozenset[str] | None) -> str:
    """The full fingerprint ``fp`` names (itself, or a unique prefix of 8+ characters) within ``units``;
    KeyError otherwise (unknown, ambiguous, or outside the scope — never told apart, nothing leaks)."""
    fp = fp.strip().lower()
    args: list[Any] = []
    scope = _scope(units, args)
    extra = f" AND {scope}" if scope else ""
    row = store.backend.execute(
        f"SELECT f.fingerprint FROM findings f WHERE f.fingerprint = ?{extra}", [fp, *args]
    ).fetchone()
    if row is not None:
        return str(row[0])
    if len(fp) < 8:
        raise KeyError(fp)
    rows = store.backend.execute(
        f"SELECT f.fingerprint FROM findings f WHERE f.fingerprint LIKE ? ESCAPE '\\'{extra} "
        "ORDER BY f.fingerprint LIMIT 2",
        [_like(fp)[1:], *args],
    ).fetchall()
    if len(rows) != 1:
        raise KeyError(fp)
    return str(rows[0][0])


def _recheck(values: dict[str, Any]) -> Recheck:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(values[key]) if values.get(key) else None

    return Recheck(
        id=int(values["id"]),
        fingerprint=values["fingerprint"],
        duty=values["duty"],
        site=values["site"],
        reason=values["reason"],
        requested_at=datetime.fromisoformat(values["requested_at"]),
        requested_by=values["requested_by"],
        state=values["state"],
        attempts=int(values["attempts"] or 0),
        claimed_at=when("claimed_at"),
        claimed_by=values.get("claimed_by"),
        finished_at=when("finished_at"),
        run_id=values.get("run_id"),
        outcome=values.get("outcome"),
        note=values.get("note"),
    )


def _rechecks(store: Store, where: str, args: Sequence[Any]) -> list[Recheck]:
    rows = store.backend.query(f"SELECT * FROM rechecks WHERE {where}", list(args))
    return [_recheck(dict(r)) for r in rows]


def finding_detail(
    store: Store, fp: str, now: datetime, *, units: frozenset[str] | None = None
) -> FindingDetail | None:
    """One finding with its history and re-checks, or None when unknown (or outside ``units``)."""
    today = now.date()
    with _snapshot(store):
        try:
            full = _resolve_fingerprint(store, fp, units)
        except KeyError:
            return None
        values = store.backend.execute(
            f"SELECT {_ROW_COLUMNS} FROM findings f WHERE f.fingerprint = ?", [full]
        ).fetchone()
        extra = dict(
            _one(
                store.backend.query(
                    "SELECT unit, assigned_unit, source_urls, evidence, ignored_reason, resolved_at "
                    "FROM findings WHERE fingerprint = ?",
                    [full],
                )
            )
        )
        events = [
            FindingEvent(
                id=int(e["id"]),
                at=datetime.fromisoformat(e["at"]),
                event=e["event"],
                note=e["note"],
                actor=e["actor"],
                run_id=e["run_id"],
                detail=e["detail"],
            )
            for e in store.backend.query(
                "SELECT id, at, event, note, actor, run_id, detail FROM events "
                "WHERE fingerprint = ? ORDER BY id",
                [full],
            )
        ]
        rechecks = _rechecks(store, "fingerprint = ? ORDER BY id DESC", [full])
    evidence = json.loads(extra["evidence"] or "{}")
    shots = evidence.get("screenshots") if isinstance(evidence, dict) else None
    names = [s.get("file") if isinstance(s, dict) else s for s in shots or []]
    return FindingDetail(
        row=_row(values, today),
        own_unit=extra["unit"] or None,
        assigned_unit=extra["assigned_unit"] or None,
        source_urls=list(json.loads(extra["source_urls"] or "[]")),
        evidence=evidence if isinstance(evidence, dict) else {},
        screenshots=[n for n in names if isinstance(n, str)],
        ignored_reason=extra["ignored_reason"],
        resolved_at=datetime.fromisoformat(extra["resolved_at"]) if extra["resolved_at"] else None,
        events=events,
        rechecks=rechecks,
    )


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 of ``moment``'s ISO week, in its zone."""
    monday = moment.date() - timedelta(days=moment.weekday())
    return datetime.combine(monday, time(), moment.tzinfo)


def overview(
    store: Store, now: datetime, units: frozenset[str] | None = None, *, weeks: int = 12
) -> Overview:
    """The front page's figures over the open findings in ``units`` (None: all), and the trend of this
    week and ``weeks`` back.

    The trend is counted from the lifecycle events (opened, reopened, resolved, 误报 and its undoing):
    each week's net change walked back from the open count now, so it needs one grouped query whatever
    the number of findings. Stamps are compared as text in ``now``'s zone (the run clock's, the zone every
    stamp is written in).
    """
    today = now.date()
    args: list[Any] = []
    scope = _scope(units, args)
    open_where = "f.status = 'open'" + (f" AND {scope}" if scope else "")
    starts = [week_start(now) - timedelta(weeks=i) for i in reversed(range(weeks + 1))]
    with _snapshot(store):
        by_unit = store.backend.execute(
            f"SELECT {_UNIT}, count(*) FROM findings f WHERE {open_where} GROUP BY {_UNIT} "
            f"ORDER BY count(*) DESC, {_UNIT}",
            args,
        ).fetchall()
        by_kind_severity = store.backend.execute(
            f"SELECT f.duty, f.kind, f.severity, count(*) FROM findings f WHERE {open_where} "
            "GROUP BY f.duty, f.kind, f.severity",
            args,
        ).fetchall()
        (overdue,) = store.backend.execute(
            f"SELECT count(*) FROM findings f WHERE {open_where} AND f.deadline < ?",
            [*args, today.isoformat()],
        ).fetchone()
        (pending,) = store.backend.execute(
            f"SELECT count(*) FROM findings f WHERE {open_where} AND f.fingerprint IN ({_QUEUED})", args
        ).fetchone()
        veto = store.backend.execute(
            f"SELECT {_ROW_COLUMNS} FROM findings f WHERE {open_where} AND f.severity = 'veto' "
            "ORDER BY f.last_seen DESC, f.fingerprint DESC LIMIT 100",  # index findings_status_severity
            args,
        ).fetchall()
        bucket = " ".join(f"WHEN e.at < ? THEN {i}" for i in range(1, len(starts)))
        marks = ", ".join("?" for _ in LIFECYCLE_EVENTS)
        joined = f" JOIN findings f ON f.fingerprint = e.fingerprint AND {scope}" if scope else ""
        trend = store.backend.execute(
            f"SELECT e.event, CASE {bucket} ELSE {len(starts)} END AS week, count(*) FROM events e{joined} "
            f"WHERE e.at >= ? AND e.event IN ({marks}) GROUP BY e.event, week",
            [*(iso(s) for s in starts[1:]), *args, iso(starts[0]), *LIFECYCLE_EVENTS],
        ).fetchall()
        site_scope = ""
        site_args: list[Any] = []
        if scope:
            site_scope = f" WHERE t.site IN (SELECT f.site FROM findings f WHERE {scope})"
            site_args = list(args)
        targets = store.backend.execute(
            "SELECT t.site, t.target, (SELECT p.name FROM probes p "
            "WHERE p.site = t.site AND p.target = t.target ORDER BY p.at DESC LIMIT 1), t.state, t.since "
            "FROM target_state t"
            f"{site_scope} ORDER BY CASE WHEN t.state = 'down' THEN 0 ELSE 1 END, t.site, t.target",
            site_args,
        ).fetchall()
    open_total = sum(int(n) for _, n in by_unit)
    by_kind: dict[tuple[str, str], int] = {}
    by_severity: dict[str, int] = {}
    for duty, kind, severity, n in by_kind_severity:
        by_kind[(duty, kind)] = by_kind.get((duty, kind), 0) + int(n)
        by_severity[severity] = by_severity.get(severity, 0) + int(n)
    opened = [0] * len(starts)
    resolved = [0] * len(starts)
    net = [0] * len(starts)
    for event, week, n in trend:
        i = int(week) - 1
        if event in ("opened", "reopened"):
            opened[i] += n
        if event == "resolved":
            resolved[i] += n
        net[i] += n if event in ("opened", "reopened", "unignored") else -n
    open_at_end = [0] * len(starts)
    running = open_total
    for i in reversed(range(len(starts))):
        open_at_end[i] = max(running, 0)
        running -= net[i]
    trends = []
    for i, start in enumerate(starts):
        year, number, _ = start.date().isocalendar()
        trends.append(
            WeekTrend(f"{year}-W{number:02d}", start.date(), opened[i], resolved[i], open_at_end[i])
        )
    return Overview(
        open_total=open_total,
        open_by_unit=[(u or None, int(n)) for u, n in by_unit],
        open_by_kind=[
            (d, k, n) for (d, k), n in sorted(by_kind.items(), key=lambda item: (-item[1], item[0]))
        ],
        open_by_severity=[(s.value, by_severity.get(s.value, 0)) for s in Severity],
        veto=[_row(r, today) for r in veto],
        weeks=trends,
        targets=[
            TargetState(site, target, name, state, datetime.fromisoformat(since) if since else None)
            for site, target, name, state, since in targets
        ],
        overdue=int(overdue or 0),
        recheck_pending=int(pending or 0),
    )


def unit_names(store: Store, units: frozenset[str] | None = None) -> list[str]:
    """The effective units findings name (for the list's filter), sorted."""
    args: list[Any] = []
    scope = _scope(units, args)
    rows = store.backend.execute(
        f"SELECT DISTINCT {_UNIT} FROM findings f WHERE {_UNIT} IS NOT NULL AND {_UNIT} <> ''"
        + (f" AND {scope}" if scope else "")
        + f" ORDER BY {_UNIT}",
        args,
    ).fetchall()
    return [r[0] for r in rows]


def kinds_present(store: Store, units: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """The (duty, kind) pairs findings have (for the list's filter), sorted."""
    args: list[Any] = []
    scope = _scope(units, args)
    rows = store.backend.execute(
        "SELECT DISTINCT f.duty, f.kind FROM findings f"
        + (f" WHERE {scope}" if scope else "")
        + " ORDER BY f.duty, f.kind",
        args,
    ).fetchall()
    return [(d, k) for d, k in rows]


# -- acting -----------------------------------------------------------------------------------------
_STATUS_ZH = {"open": "待整改", "resolved": "已整改关闭", "ignored": "误报"}


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValueError(f"请填写{what}")
    return text


def _event(
    store: Store,
    fp: str,
    now: datetime,
    event: str,
    note: str | None,
    actor: str | None,
    *,
    run_id: int | None = None,
    detail: str | None = None,
) -> None:
    store.backend.execute(
        "INSERT INTO events (fingerprint, run_id, at, event, note, actor, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [fp, run_id, iso(now), event, note, actor, detail],
    )


def _current(store: Store, fp: str, units: frozenset[str] | None) -> dict[str, Any]:
    """The finding's row, read inside the caller's write transaction."""
    full = _resolve_fingerprint(store, fp, units)
    return dict(_one(store.backend.query("SELECT * FROM findings WHERE fingerprint = ?", [full])))


def _cancel_pending(store: Store, fp: str, now: datetime, why: str) -> None:
    store.backend.execute(
        "UPDATE rechecks SET state = 'done', outcome = 'cancelled', finished_at = ?, note = ? "
        "WHERE fingerprint = ? AND state = 'pending'",
        [iso(now), why, fp],
    )


def mark_false_positive(
    store: Store, fp: str, reason: str, actor: str, now: datetime, *, units: frozenset[str] | None = None
) -> FindingRow:
    """Mark an open finding as a false positive (误报): it stays silent when seen again. A pending
    re-check is cancelled. Event ``ignored`` with the reason."""
    reason, actor = _text(reason, "标记误报的原因"), _text(actor, "操作人")
    with store.changing_findings():
        row = _current(store, fp, units)
        if row["status"] != FindingStatus.OPEN.value:
            raise ValueError(
                f"该问题当前为“{_STATUS_ZH.get(row['status'], row['status'])}”，"
                "只有待整改的问题可以标记为误报"
            )
        store.backend.execute(
            "UPDATE findings SET status = ?, ignored_reason = ? WHERE fingerprint = ?",
            [FindingStatus.IGNORED.value, reason, row["fingerprint"]],
        )
        _cancel_pending(store, row["fingerprint"], now, "已标记为误报，复核申请取消")
        _event(store, row["fingerprint"], now, "ignored", reason, actor)
    return _fresh(store, row["fingerprint"], now)


def undo_false_positive(
    store: Store, fp: str, reason: str, actor: str, now: datetime, *, units: frozenset[str] | None = None
) -> FindingRow:
    """Undo :func:`mark_false_positive`: the finding is open again (the next credible run resolves it if
    the problem is gone). Event ``unignored`` with the reason."""
    reason, actor = _text(reason, "撤销误报的原因"), _text(actor, "操作人")
    with store.changing_findings():
        row = _current(store, fp, units)
        if row["status"] != FindingStatus.IGNORED.value:
            raise ValueError(f"该问题当前为“{_STATUS_ZH.get(row['status'], row['status'])}”，没有标记为误报")
        store.backend.execute(
            "UPDATE findings SET status = ?, ignored_reason = NULL WHERE fingerprint = ?",
            [FindingStatus.OPEN.value, row["fingerprint"]],
        )
        _event(store, row["fingerprint"], now, "unignored", reason, actor)
    return _fresh(store, row["fingerprint"], now)


def _require_open(row: dict[str, Any], action: str) -> None:
    if row["status"] != FindingStatus.OPEN.value:
        raise ValueError(f"该问题当前为“{_STATUS_ZH.get(row['status'], row['status'])}”，不能{action}")


def assign_unit(
    store: Store,
    fp: str,
    unit: str,
    reason: str,
    actor: str,
    now: datetime,
    *,
    units: frozenset[str] | None = None,
) -> FindingRow:
    """Make ``unit`` responsible for an open finding (分派). Assigning it back to the unit its check
    attributed clears the assignment. Event ``assigned`` with the unit as detail."""
    unit, reason, actor = _text(unit, "责任单位"), _text(reason, "分派的原因"), _text(actor, "操作人")
    with store.changing_findings():
        row = _current(store, fp, units)
        _require_open(row, "分派")
        if unit == (row["assigned_unit"] or row["unit"]):
            raise ValueError(f"该问题已由“{unit}”负责")
        assigned = None if unit == row["unit"] else unit
        store.backend.execute(
            "UPDATE findings SET assigned_unit = ? WHERE fingerprint = ?", [assigned, row["fingerprint"]]
        )
        _event(store, row["fingerprint"], now, "assigned", reason, actor, detail=unit)
    return _fresh(store, row["fingerprint"], now)


def set_deadline(
    store: Store,
    fp: str,
    deadline: date,
    reason: str,
    actor: str,
    now: datetime,
    *,
    units: frozenset[str] | None = None,
) -> FindingRow:
    """Set or extend an open finding's 整改时限 (never before today in the run clock's zone). Event
    ``deadline_set`` with ``old→new`` (or the new date) as detail."""
    reason, actor = _text(reason, "设定整改时限的原因"), _text(actor, "操作人")
    if deadline < now.date():
        raise ValueError(f"整改时限 {deadline.isoformat()} 早于今天（{now.date().isoformat()}）")
    with store.changing_findings():
        row = _current(store, fp, units)
        _require_open(row, "设定整改时限")
        old = row["deadline"]
        if old == deadline.isoformat():
            raise ValueError(f"整改时限已是 {old}")
        store.backend.execute(
            "UPDATE findings SET deadline = ? WHERE fingerprint = ?",
            [deadline.isoformat(), row["fingerprint"]],
        )
        detail = f"{old}→{deadline.isoformat()}" if old else deadline.isoformat()
        _event(store, row["fingerprint"], now, "deadline_set", reason, actor, detail=detail)
    return _fresh(store, row["fingerprint"], now)


def _fresh(store: Store, fp: str, now: datetime) -> FindingRow:
    values = store.backend.execute(
        f"SELECT {_ROW_COLUMNS} FROM findings f WHERE f.fingerprint = ?", [fp]
    ).fetchone()
    return _row(values, now.date())


# -- re-checks --------------------------------------------------------------------------------------
class RecheckPending(ValueError):
    """A re-check of this finding is already queued or running (``recheck`` is that request)."""

    def __init__(self, recheck: Recheck) -> None:
        self.recheck = recheck
        state = "正在执行" if recheck.state == "running" else "排队等待执行"
        super().__init__(
            f"该问题已有复核申请 #{recheck.id}（{recheck.requested_by} 于 "
            f"{recheck.requested_at:%Y-%m-%d %H:%M} 提交，{state}）"
        )


def request_recheck(
    store: Store, fp: str, reason: str, actor: str, now: datetime, *, units: frozenset[str] | None = None
) -> Recheck:
    """A unit says an open finding is fixed (已整改，申请复核): queue a re-check of its duty on its site.
    Event ``rectified`` with the reason; :class:`RecheckPending` when one is already queued."""
    reason, actor = _text(reason, "整改情况说明"), _text(actor, "操作人")
    with store.changing_findings():
        row = _current(store, fp, units)
        _require_open(row, "申请复核")
        waiting = _rechecks(
            store, "fingerprint = ? AND state IN ('pending', 'running')", [row["fingerprint"]]
        )
        if waiting:
            raise RecheckPending(waiting[0])
        (recheck_id,) = store.backend.execute(
            "INSERT INTO rechecks (fingerprint, duty, site, reason, requested_at, requested_by, state, "
            "attempts) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0) RETURNING id",
            [row["fingerprint"], row["duty"], row["site"], reason, iso(now), actor],
        ).fetchone()
        _event(store, row["fingerprint"], now, "rectified", reason, actor, detail=f"复核申请 #{recheck_id}")
    found = get_recheck(store, int(recheck_id))
    assert found is not None
    return found


def get_recheck(store: Store, recheck_id: int) -> Recheck | None:
    """One re-check request, or None."""
    found = _rechecks(store, "id = ?", [recheck_id])
    return found[0] if found else None


def pending_rechecks(store: Store) -> list[Recheck]:
    """Re-checks waiting for a run, oldest first."""
    return _rechecks(store, "state = 'pending' ORDER BY id", [])


def list_rechecks(
    store: Store,
    *,
    states: Sequence[str] | None = None,
    units: frozenset[str] | None = None,
    limit: int = 100,
) -> list[Recheck]:
    """Re-check requests, newest first: those in ``states`` (None: all), of findings in ``units``."""
    args: list[Any] = []
    scope = _scope(units, args)
    parts = [f"r.fingerprint IN (SELECT f.fingerprint FROM findings f WHERE {scope})"] if scope else []
    if states is not None:
        unknown = set(states) - set(RECHECK_STATES)
        if unknown:
            raise ValueError(f"未知的复核状态：{'、'.join(sorted(unknown))}")
        parts.append(f"r.state IN ({', '.join('?' for _ in states) or 'NULL'})")
        args.extend(states)
    where = f" WHERE {' AND '.join(parts)}" if parts else ""
    rows = store.backend.query(
        f"SELECT r.* FROM rechecks r{where} ORDER BY r.id DESC LIMIT ?", [*args, limit]
    )
    return [_recheck(dict(r)) for r in rows]


def _claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_recheck(store: Store, recheck_id: int, now: datetime) -> Recheck | None:
    """Take a pending re-check for this process (``running``, one more attempt); None when another process
    took it first or it is no longer pending."""
    with store.changing_findings():
        cur = store.backend.execute(
            "UPDATE rechecks SET state = 'running', claimed_at = ?, claimed_by = ?, attempts = attempts + 1 "
            "WHERE id = ? AND state = 'pending'",
            [iso(now), _claimant(), recheck_id],
        )
        if cur.rowcount != 1:
            return None
    return get_recheck(store, recheck_id)


def release_recheck(store: Store, recheck_id: int) -> None:
    """Give a claimed re-check back without counting the attempt (its run was cancelled by a stop)."""
    with store.changing_findings():
        store.backend.execute(
            "UPDATE rechecks SET state = 'pending', claimed_at = NULL, claimed_by = NULL, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
            "WHERE id = ? AND state = 'running'",
            [recheck_id],
        )


def requeue_stale_rechecks(store: Store, *, at_startup: bool = False) -> list[int]:
    """Re-checks left ``running`` by a process of this host that has ended go back to ``pending`` (at
    start-up, our own pid's too: a restarted service can get its old pid back). Returns their ids."""
    host = socket.gethostname()
    stale = []
    for recheck in _rechecks(store, "state = 'running'", []):
        claimed_host, _, pid = (recheck.claimed_by or "").rpartition(":")
        if claimed_host != host or not pid.isdigit():
            continue
        own = int(pid) == os.getpid()
        if (own and at_startup) or (not own and not _pid_alive(int(pid))):
            stale.append(recheck.id)
    for recheck_id in stale:
        release_recheck(store, recheck_id)
    return stale


def _not_credible_why(run: dict[str, Any] | None, error: str | None) -> str:
    if run is None:
        return f"复核运行未能开始：{error}" if error else "复核运行未能开始"
    status = run["status"]
    if status == "degraded":
        return f"运行 #{run['id']} 被判定为降级（{run['error'] or '站点状态异常'}），结果不可信"
    if status == "failed":
        return f"运行 #{run['id']} 失败（{run['error'] or '原因未知'}）"
    if status == "interrupted":
        return f"运行 #{run['id']} 被中断"
    return f"运行 #{run['id']} 未完整检查到该问题所在页面，无法确认是否已整改"


def finish_recheck(
    store: Store,
    recheck_id: int,
    run_id: int | None,
    now: datetime,
    *,
    error: str | None = None,
    max_attempts: int = DEFAULT_RECHECK_ATTEMPTS,
    retry: bool = True,
) -> Recheck:
    """Record what the re-check's run (``run_id``; None when it could not start, with ``error``) showed.

    - the finding is resolved (this run, through the normal lifecycle, or another one before) → ``closed``,
      event ``recheck_closed``;
    - it is 误报 now → ``cancelled``;
    - the run saw it → ``still_present``, event ``recheck_failed``;
    - otherwise the run could not tell (degraded, failed, interrupted, or it did not reach the finding's
      page): back to ``pending`` for the next poll while fewer than ``max_attempts`` attempts were made
      (and ``retry``), else ``not_credible``, event ``recheck_inconclusive``.
    """
    stamp = iso(now)
    with store.changing_findings():
        recheck = get_recheck(store, recheck_id)
        if recheck is None:
            raise KeyError(recheck_id)
        if recheck.state != "running":
            raise ValueError(f"复核申请 #{recheck_id} 当前为 {recheck.state}，不是执行中")
        finding = dict(
            _one(store.backend.query("SELECT * FROM findings WHERE fingerprint = ?", [recheck.fingerprint]))
        )
        runs = store.backend.query("SELECT * FROM runs WHERE id = ?", [run_id]) if run_id is not None else []
        run = dict(runs[0]) if runs else None
        fp = recheck.fingerprint
        state, outcome, event = "done", None, None
        if finding["status"] == FindingStatus.RESOLVED.value:
            outcome, event = "closed", "recheck_closed"
            if run is not None and _resolved_by(store, fp, run_id):
                note = f"复核运行 #{run_id} 未再发现该问题，问题已关闭"
            else:
                note = f"该问题已于 {finding['resolved_at'] or '此前'} 确认整改关闭"
        elif finding["status"] == FindingStatus.IGNORED.value:
            outcome, event, note = "cancelled", "recheck_cancelled", "该问题已标记为误报，复核取消"
        elif run is not None and finding["last_run_id"] == run_id:
            outcome, event = "still_present", "recheck_failed"
            note = f"复核运行 #{run_id} 仍发现该问题，请继续整改"
        else:
            why = _not_credible_why(run, error)
            if retry and recheck.attempts < max_attempts:
                state = "pending"
                note = f"第 {recheck.attempts} 次复核：{why}；将在下次轮询时重试（最多 {max_attempts} 次）"
            else:
                outcome, event = "not_credible", "recheck_inconclusive"
                note = (
                    f"{why}；已尝试 {recheck.attempts} 次，无法判断是否已整改，请稍后重新申请复核或人工核实"
                )
        store.backend.execute(
            "UPDATE rechecks SET state = ?, outcome = ?, note = ?, run_id = ?, finished_at = ?, "
            "claimed_by = CASE WHEN ? = 'pending' THEN NULL ELSE claimed_by END WHERE id = ?",
            [state, outcome, note, run_id, stamp if state == "done" else None, state, recheck_id],
        )
        if event is not None:
            _event(store, fp, now, event, note, None, run_id=run_id, detail=f"复核申请 #{recheck_id}")
    done = get_recheck(store, recheck_id)
    assert done is not None
    return done


def _resolved_by(store: Store, fp: str, run_id: int | None) -> bool:
    row = store.backend.execute(
        "SELECT 1 FROM events WHERE fingerprint = ? AND run_id = ? AND event = 'resolved'", [fp, run_id]
    ).fetchone()
    return row is not None


def finding_open(store: Store, fp: str) -> bool:
    """Whether the finding is open (a queued re-check of a closed or 误报 finding needs no run)."""
    row = store.backend.execute("SELECT status FROM findings WHERE fingerprint = ?", [fp]).fetchone()
    return row is not None and row[0] == FindingStatus.OPEN.value


# -- users ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    """A console account: ``role`` one of :data:`ROLES`; ``unit`` the department's unit (department
    role only); the password hash as the console made it (never the password)."""

    username: str
    role: str
    password_hash: str
    created_at: datetime
    unit: str | None = None
    disabled: bool = False
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None


def _check_user(username: str, role: str, unit: str | None) -> None:
    if (
        not username
        or username != username.strip()
        or any(ch.isspace() for ch in username)
        or len(username) > 64
    ):
        raise ValueError("用户名不能为空、不能含空白字符，最长64个字符")
    if role not in ROLES:
        raise ValueError(f"未知的角色“{role}”，可选：{'、'.join(ROLES)}")
    if role == "department" and not (unit or "").strip():
        raise ValueError("责任单位账号必须指定所属单位")
    if role != "department" and unit:
        raise ValueError("只有责任单位账号可以指定所属单位")


def _user(values: dict[str, Any]) -> User:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(values[key]) if values.get(key) else None

    return User(
        username=values["username"],
        role=values["role"],
        password_hash=values["password_hash"],
        created_at=datetime.fromisoformat(values["created_at"]),
        unit=values["unit"],
        disabled=bool(values["disabled"]),
        last_login_at=when("last_login_at"),
        password_changed_at=when("password_changed_at"),
    )


def add_user(store: Store, user: User) -> User:
    """Create an account; ValueError when the name is taken or the role and unit do not fit."""
    _check_user(user.username, user.role, user.unit)
    if not user.password_hash:
        raise ValueError("密码不能为空")
    with store.changing_findings():
        if get_user(store, user.username) is not None:
            raise ValueError(f"用户名“{user.username}”已存在")
        store.backend.execute(
            "INSERT INTO users (username, role, unit, password_hash, created_at, disabled, last_login_at, "
            "password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                user.username,
                user.role,
                user.unit,
                user.password_hash,
                iso(user.created_at),
                int(user.disabled),
                iso(user.last_login_at) if user.last_login_at else None,
                iso(user.password_changed_at or user.created_at),
            ],
        )
    found = get_user(store, user.username)
    assert found is not None
    return found


def get_user(store: Store, username: str) -> User | None:
    """One account, or None."""
    rows = list(store.backend.query("SELECT * FROM users WHERE username = ?", [username]))
    return _user(dict(rows[0])) if rows else None


def list_users(store: Store) -> list[User]:
    """Every account, by name."""
    return [_user(dict(r)) for r in store.backend.query("SELECT * FROM users ORDER BY username")]


def _update_user(store: Store, username: str, sql: str, args: Sequence[Any]) -> User:
    with store.changing_findings():
        cur = store.backend.execute(f"UPDATE users SET {sql} WHERE username = ?", [*args, username])
        if cur.rowcount != 1:
            raise KeyError(username)
    found = get_user(store, username)
    assert found is not None
    return found


def set_password_hash(store: Store, username: str, password_hash: str, now: datetime) -> User:
    """Replace an account's password hash; KeyError for an unknown account."""
    if not password_hash:
        raise ValueError("密码不能为空")
    return _update_user(
        store, username, "password_hash = ?, password_changed_at = ?", [password_hash, iso(now)]
    )


def set_disabled(store: Store, username: str, disabled: bool) -> User:
    """Disable (or enable again) an account; KeyError for an unknown account."""
    return _update_user(store, username, "disabled = ?", [int(disabled)])


def set_role(store: Store, username: str, role: str, unit: str | None) -> User:
    """Change an account's role and unit; KeyError for an unknown account."""
    _check_user(username, role, unit)
    return _update_user(store, username, "role = ?, unit = ?", [role, unit])


def record_login(store: Store, username: str, now: datetime) -> User:
    """Note a successful login; KeyError for an unknown account."""
    return _update_user(store, username, "last_login_at = ?", [iso(now)])
