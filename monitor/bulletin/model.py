"""What the bulletin says for one ISO week, computed from the store. No rendering happens here.

Everything is read back from what duties recorded — findings with their event history, and run reports
(:class:`~monitor.core.report.RunReport`: figures, veto indicator statuses, census rows) — so a bulletin
for a past week reads the same whenever it is rendered, and no check is ever re-run or re-computed.

Time: the period is ``[Monday 00:00, next Monday 00:00)`` in the configured zone; ``as_of`` is the end of
the period, or the run clock's "now" when the week is still running (the bulletin then says so).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.core.clock import Clock
from monitor.core.findings import Severity
from monitor.core.indicators import Indicator, IndicatorStatus, Verdict
from monitor.core.isoweek import IsoWeek
from monitor.core.report import AccountCensusRow, RunReport
from monitor.core.workdays import WorkdayCalendar
from monitor.store.database import Store
from monitor.store.evidence import is_evidence_name

from .scope import TenantScope
from .vocabulary import (
    AREA_WORDS,
    DUTIES,
    FIGURES,
    OTHER_UNITS,
    STATUS_FIXED,
    STATUS_OPEN,
    STATUS_OVERDUE,
    UNIT_GROUPS,
    duty_label,
    duty_order,
    problem_type,
    type_order,
    unit_groups,
)

#: Indicators every website row of the veto table shows (未检测 when no duty measured it this week).
SITE_INDICATORS = (
    Indicator.SITE_UNAVAILABLE,
    Indicator.HOMEPAGE_STALE,
    Indicator.COLUMNS_STALE,
    Indicator.COLUMNS_OVERDUE,
    Indicator.COLUMNS_BLANK,
    Indicator.SERIOUS_ERRORS,
)
#: Indicators every new-media account row shows.
ACCOUNT_INDICATORS = (Indicator.NEWMEDIA_STALE,)
NO_UNIT = "未归属单位"


def cn_date(day: date) -> str:
    """``2026年11月3日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(moment: datetime) -> str:
    """``2026年11月3日09:30``."""
    return f"{cn_date(moment.date())}{moment:%H:%M}"


@dataclass(frozen=True)
class Screenshot:
    """An evidence screenshot of a problem (取证截图), as recorded by the store (file beside the database)."""

    label: str
    file: str  # <sha256>.png — our name, never anything from a crawled page
    width: int
    height: int
    size: int  # bytes


def screenshots_of(evidence: Any) -> list[Screenshot]:
    """The stored screenshots of a finding's evidence; records without a file, or with a name that is not
    ours, are left out (a finding whose screenshot could not be written still shows its text)."""
    out: list[Screenshot] = []
    records = evidence.get("screenshots") if isinstance(evidence, dict) else None
    for r in records if isinstance(records, list) else []:
        if not isinstance(r, dict) or not is_evidence_name(r.get("file")):
            continue
        try:
            shot = Screenshot(
                str(r.get("label") or "截图"), r["file"], int(r["width"]), int(r["height"]), int(r["bytes"])
            )
        except (KeyError, TypeError, ValueError):
            continue
        out.append(shot)
    return out


@dataclass
class Problem:
    """One row of the problem list (a finding as of the bulletin's ``as_of``)."""

    fingerprint: str
    duty: str
    kind: str
    type_label: str
    severity: Severity
    site_name: str
    unit: str
    unit_group: str
    message: str
    url: str
    sources: list[str]
    first_seen: datetime
    days_open: int
    deadline: date
    status: str  # 待整改 / 逾期 / 已整改
    is_new: bool
    fixed_at: datetime | None = None
    seq: int = 0
    screenshots: list[Screenshot] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Still to be fixed (待整改 or 逾期)."""
        return self.status != STATUS_FIXED

    @property
    def duty_label(self) -> str:
        """Chinese name of the duty that found it."""
        return duty_label(self.duty)


@dataclass
class DutyCoverage:
    """Whether a duty ran in the period: the bulletin never reads "no problems" into "not checked"."""

    duty: str
    label: str
    runs: int
    ok_runs: int
    last_run: datetime | None
    open_problems: int
    #: One zh-CN line per degraded run (the sanity gate judged it a maintenance, firewall or partial
    #: night): when, which site, why — its results were not used.
    degraded: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``none`` (未开展), ``failed`` (runs, none successful) or ``ok``."""
        if self.runs == 0:
            return "none"
        return "ok" if self.ok_runs else "failed"

    @property
    def state_zh(self) -> str:
        """Chinese description of the coverage."""
        if self.state == "none":
            return "本周未开展（无数据）"
        if self.state == "failed":
            if self.degraded and len(self.degraded) == self.runs:
                return f"本周开展{self.runs}次，均遇网站维护、拦截或大面积无法访问，结果未采用（无有效数据）"
            return f"本周开展{self.runs}次，均未成功完成（无有效数据）"
        assert self.last_run is not None
        return f"本周开展{self.runs}次，最近一次{cn_datetime(self.last_run)}"


@dataclass
class TypeSummary:
    """Counts of one problem type (问题类型)."""

    label: str
    duty: str
    open: int = 0
    new: int = 0
    still_open: int = 0
    fixed: int = 0
    overdue: int = 0


@dataclass
class UnitBlock:
    """The problems of one unit within one problem type (section 二)."""

    unit: str
    group: str
    problems: list[Problem]
    total: int


@dataclass
class TypeSection:
    """Section 二 for one problem type: open problems grouped by unit, capped at ``listed`` rows."""

    summary: TypeSummary
    duty_ran: bool
    units: list[UnitBlock]
    not_listed: int


@dataclass
class VetoCell:
    """One indicator for one subject in the veto table."""

    indicator: str  # Chinese name
    code: str
    verdict: Verdict
    figure: str
    threshold: str


@dataclass
class VetoSubject:
    """A website or an account with its indicator statuses."""

    name: str
    kind: str  # 网站 / 政务新媒体
    cells: list[VetoCell]

    @property
    def overall(self) -> Verdict:
        """不合格 if any fails, else 预警 if any warns, 合格 if all measured and pass, else 未检测."""
        verdicts = {c.verdict for c in self.cells}
        for v in (Verdict.FAIL, Verdict.WARN):
            if v in verdicts:
                return v
        return Verdict.PASS if verdicts == {Verdict.PASS} else Verdict.UNKNOWN


@dataclass
class UnitRank:
    """A unit's open problems, for the ranking."""

    unit: str
    group: str
    open: int
    overdue: int
    new: int


@dataclass
class TrendPoint:
    """Open problems per type at the end of one week (or at ``as_of`` for the current one)."""

    week: IsoWeek
    counts: dict[str, int]
    total: int
    partial: bool


@dataclass(frozen=True)
class CensusColumn:
    """One line of the column census as the bulletin shows it (Chinese display fields resolved)."""

    site: str
    site_name: str
    name: str | None
    unit: str | None
    type_zh: str
    last_update: str | None
    items_week: int | None
    items_month: int | None
    url: str | None


@dataclass(frozen=True)
class CensusAccount:
    """One line of the new-media census as the bulletin shows it."""

    name: str | None
    platform_zh: str
    unit: str | None
    last_post: str | None
    posts_week: int | None
    posts_month: int | None
    url: str | None
    last_post_zh: str = "无"  # the date, 未能读取（原因） when the source could not be read, or 无


@dataclass
class Census:
    """网站普查信息统计表: every column and account as the columns/newmedia duties last measured them."""

    columns: list[CensusColumn] | None  # None: 无数据
    accounts: list[CensusAccount] | None


@dataclass
class Bulletin:
    """Everything the templates and the workbook show."""

    week: IsoWeek
    title: str
    issue_number: str  # 文号/期号: ``bulletin.issue_number`` with {year} and {seq} (the ISO week)
    issuer: str
    addressees: str
    basis: str
    start: datetime
    end: datetime
    as_of: datetime
    incomplete: bool
    issued: date
    deadline: date
    deadline_days: int
    rectification: list[str]
    contact: str | None
    sites: int
    units: int
    figures: list[tuple[str, int, str]]
    coverage: list[DutyCoverage]
    types: list[TypeSummary]
    sections: list[TypeSection]
    veto: list[VetoSubject]
    ranking: list[UnitRank]
    problems: list[Problem]  # the 附件: open ones, then fixed this week
    trend: list[TrendPoint]
    trend_types: list[str]
    census: Census
    totals: dict[str, int] = field(default_factory=dict)
    #: The area the text names (为进一步加强全县…): 全县, or 全市/全区 for a city's or district's bulletin.
    area: str = "全县"
    #: The units it covers, as 总体情况 names them (涉及县直部门和乡镇N个单位).
    units_scope: str = "县直部门和乡镇"
    #: The tenant (city or county) of a province-wide installation; None for a single county.
    tenant: str | None = None

    @property
    def period_zh(self) -> str:
        """``2026年11月23日至2026年11月29日``."""
        return f"{cn_date(self.start.date())}至{cn_date(self.week.sunday)}"

    @property
    def open_problems(self) -> list[Problem]:
        """Problems still to be fixed."""
        return [p for p in self.problems if p.is_open]

    @property
    def quiet_duties(self) -> list[DutyCoverage]:
        """Duties that ran successfully and have no open problem."""
        return [c for c in self.coverage if c.state == "ok" and c.open_problems == 0]

    @property
    def unchecked_duties(self) -> list[DutyCoverage]:
        """Duties with no successful run in the period (未开展 / 无数据)."""
        return [c for c in self.coverage if c.state != "ok"]


#: Events that change a finding's status, and the status they leave; the others (assigned, deadline_set,
#: rectified, recheck_* — issue 23's triage) are history only.
_STATUS_AFTER = {
    "opened": "open",
    "reopened": "open",
    "unignored": "open",
    "resolved": "resolved",
    "ignored": "ignored",
}


def _state_at(events: list[tuple[datetime, str]], moment: datetime) -> str | None:
    """``open``/``resolved``/``ignored`` from the last status event before ``moment``; None when not yet
    found."""
    state = None
    for at, event in events:
        if at >= moment:
            break
        state = _STATUS_AFTER.get(event, state)
    return state


def build_bulletin(
    store: Store, config: Config, week: IsoWeek, clock: Clock, scope: TenantScope | None = None
) -> Bulletin:
    """Compute the bulletin for ``week`` from the store, as of the run clock's now.

    With ``scope`` (a tenant, issue 24) only the tenant's findings and runs are read, and ``config`` is
    the configuration narrowed to it (:meth:`monitor.config.Config.for_tenant`).
    """
    now = clock.now()
    tz = config.tz
    start, end = week.start(tz), week.end(tz)
    if now < start:
        raise ValueError(f"{week} has not started yet")
    as_of = min(end, now)
    # What counts as "before the end": the week's end, or — for the running week — everything recorded
    # up to and including this instant (a run finished "now" belongs to the bulletin rendered now).
    cut = end if now >= end else now + timedelta(microseconds=1)
    last_day = (cut - timedelta(microseconds=1)).date()  # Sunday for a finished week: days open, 逾期
    opts = config.bulletin
    calendar = WorkdayCalendar(opts.workdays.holidays, opts.workdays.makeup_workdays)
    trend_weeks = [week.shift(-i) for i in reversed(range(opts.trend_weeks))]
    findings, raw_events = store.history_since(trend_weeks[0].start(tz))
    runs = store.runs_between(start, cut)
    if scope is not None:
        findings, runs = scope.findings(findings), scope.runs(runs)
    groups = unit_groups(scope.level if scope is not None else None)

    site_names = {s.id: s.name for s in config.sites}
    unit_kinds = {u.name: u.kind for u in config.units}
    trend_points = [(w, min(w.end(tz), cut)) for w in trend_weeks]
    trend_counts: list[Counter[str]] = [Counter() for _ in trend_points]
    problems: list[Problem] = []

    # The monthly unit inspection re-reports the weekly column audit's problems unit by unit: list each
    # problem once, under the column audit, when both duties saw it.
    audited = {(r["site"], r["kind"], r["identity"]) for r in findings if r["duty"] == "columns"}
    findings = [
        r for r in findings if not (r["duty"] == "units" and (r["site"], r["kind"], r["identity"]) in audited)
    ]
    for row in findings:
        first_seen = datetime.fromisoformat(row["first_seen"]).astimezone(tz)
        events = [(datetime.fromisoformat(at), ev) for at, ev in raw_events.get(row["fingerprint"], [])]
        if not events:  # a row without history: trust its current state
            events = [(first_seen, "opened")]
            if row["status"] == "resolved" and row["resolved_at"]:
                events.append((datetime.fromisoformat(row["resolved_at"]), "resolved"))
        label = problem_type(row["duty"], row["kind"])
        for i, (_, moment) in enumerate(trend_points):
            if _state_at(events, moment) == "open":
                trend_counts[i][label] += 1
        if first_seen >= cut:
            continue
        # A 整改时限 set in the console (issue 23) overrides the bulletin's working-day rule.
        set_deadline = row.get("deadline")
        deadline = (
            date.fromisoformat(set_deadline)
            if set_deadline
            else calendar.add_workdays(first_seen.date(), opts.deadline_working_days)
        )
        fixed_at = None
        if _state_at(events, cut) == "open":
            status = STATUS_OVERDUE if last_day > deadline else STATUS_OPEN
            days = (last_day - first_seen.date()).days
        else:
            resolutions = [at for at, ev in events if ev == "resolved" and start <= at < cut]
            if not resolutions:
                continue
            fixed_at = resolutions[-1].astimezone(tz)
            status = STATUS_FIXED
            days = (fixed_at.date() - first_seen.date()).days
        unit = row.get("assigned_unit") or row["unit"] or NO_UNIT  # the unit it was assigned to, if any
        evidence = row["evidence"] or {}
        problems.append(
            Problem(
                fingerprint=row["fingerprint"],
                duty=row["duty"],
                kind=row["kind"],
                type_label=label,
                severity=Severity(row["severity"]),
                site_name=site_names.get(row["site"]) or _subject_name(row, evidence),
                unit=unit,
                unit_group=groups.get(unit_kinds.get(unit, ""), OTHER_UNITS),
                message=row["message"] or "",
                url=row["url"] or "",
                sources=list(row["source_urls"] or []),
                first_seen=first_seen,
                days_open=days,
                deadline=deadline,
                status=status,
                is_new=first_seen >= start,
                fixed_at=fixed_at,
                screenshots=screenshots_of(evidence),
            )
        )

    group_order = {g: i for i, g in enumerate(dict.fromkeys(groups.values()))}
    status_order = {STATUS_OVERDUE: 0, STATUS_OPEN: 1, STATUS_FIXED: 2}
    problems.sort(
        key=lambda p: (
            status_order[p.status] == 2,
            type_order(p.type_label),
            group_order.get(p.unit_group, 99),
            p.unit,
            status_order[p.status],
            p.severity.rank,
            p.first_seen,
            p.url,
        )
    )
    for i, p in enumerate(problems, start=1):
        p.seq = i

    coverage = _coverage(runs, problems, {s.id: s.name for s in config.sites})
    types = _type_summaries(problems)
    ran = {c.duty for c in coverage if c.state == "ok"}
    sections = _sections(problems, types, ran, opts.listed_per_type, group_order)
    trend_types = sorted({t for c in trend_counts for t in c}, key=type_order)
    open_now = [p for p in problems if p.is_open]
    issued = now.date()
    deadline = calendar.add_workdays(issued, opts.deadline_working_days)
    values = {"deadline": cn_date(deadline), "days": opts.deadline_working_days, "issuer": opts.issuer}
    return Bulletin(
        week=week,
        title=opts.title.format(issuer=opts.issuer, year=week.year, week=week.week),
        issue_number=opts.issue_number.format(year=week.year, seq=week.week),
        issuer=opts.issuer,
        addressees="、".join(opts.addressees),
        basis=opts.basis,
        start=start,
        end=end,
        as_of=as_of,
        incomplete=now < end,
        issued=issued,
        deadline=deadline,
        deadline_days=opts.deadline_working_days,
        rectification=[text.format(**values) for text in opts.rectification],
        contact=opts.contact,
        sites=len(config.sites),
        units=len(config.units),
        figures=_figures(runs),
        coverage=coverage,
        types=types,
        sections=sections,
        veto=_veto(runs, config),
        ranking=_ranking(open_now, config, group_order, groups),
        problems=problems,
        trend=[
            TrendPoint(w, dict(c), sum(c.values()), moment < w.end(tz))
            for (w, moment), c in zip(trend_points, trend_counts, strict=True)
        ],
        trend_types=trend_types,
        census=_census(runs, config),
        totals={
            "open": len(open_now),
            "new": sum(1 for p in open_now if p.is_new),
            "still_open": sum(1 for p in open_now if not p.is_new),
            "fixed": sum(1 for p in problems if not p.is_open),
            "overdue": sum(1 for p in open_now if p.status == STATUS_OVERDUE),
        },
        area=AREA_WORDS.get(scope.level, "全县") if scope is not None else "全县",
        units_scope="和".join(dict.fromkeys(g for g in groups.values() if g != OTHER_UNITS)),
        tenant=scope.id if scope is not None else None,
    )


def _run_duties(run: dict[str, Any]) -> set[str]:
    return set(run["checks"] or [run["duty"]])


def _coverage(
    runs: list[dict[str, Any]], problems: list[Problem], site_names: dict[str, str] | None = None
) -> list[DutyCoverage]:
    duties = set(DUTIES) | {d for r in runs for d in _run_duties(r)} | {p.duty for p in problems}
    open_by_duty = Counter(p.duty for p in problems if p.is_open)
    names = site_names or {}
    out = []
    for duty in sorted(duties, key=duty_order):
        # A skipped run (nothing configured for the duty) is no check: the duty reads 未开展.
        mine = [r for r in runs if duty in _run_duties(r) and r["status"] != "skipped"]
        ok = [r for r in mine if r["status"] == "ok"]
        last = datetime.fromisoformat(mine[-1]["started_at"]) if mine else None
        degraded = [
            f"{cn_datetime(datetime.fromisoformat(r['started_at']))} {names.get(r['site'], r['site'])}："
            f"{r['report'].degraded_reason or r.get('error') or '运行结果异常'}，"
            "本次结果未采用，未将任何问题判为已整改"
            for r in mine
            if r["status"] == "degraded"
        ]
        out.append(
            DutyCoverage(duty, duty_label(duty), len(mine), len(ok), last, open_by_duty[duty], degraded)
        )
    return out


def _figures(runs: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """Measured figures: "latest" keys from each site's latest successful run, "sum" keys added up."""
    out = []
    for key, fig in FIGURES.items():
        latest: dict[str, int] = {}
        total = 0
        seen = False
        for run in runs:
            value = run["report"].number(key)
            if run["status"] != "ok" or value is None:
                continue
            seen = True
            latest[run["site"]] = int(value)
            total += int(value)
        if seen:
            out.append((fig.label, sum(latest.values()) if fig.how == "latest" else total, fig.unit))
    return out


def _type_summaries(problems: list[Problem]) -> list[TypeSummary]:
    by_type: dict[str, TypeSummary] = {}
    for p in problems:
        s = by_type.setdefault(p.type_label, TypeSummary(p.type_label, p.duty))
        if p.is_open:
            s.open += 1
            s.new += p.is_new
            s.still_open += not p.is_new
            s.overdue += p.status == STATUS_OVERDUE
        else:
            s.fixed += 1
    return sorted(by_type.values(), key=lambda s: type_order(s.label))


def _sections(
    problems: list[Problem],
    types: list[TypeSummary],
    ran: set[str],
    listed: int,
    group_order: dict[str, int],
) -> list[TypeSection]:
    sections = []
    for summary in types:
        if not summary.open:
            continue
        mine = [p for p in problems if p.is_open and p.type_label == summary.label]
        by_unit: dict[tuple[str, str], list[Problem]] = defaultdict(list)
        for p in mine:
            by_unit[(p.unit_group, p.unit)].append(p)
        budget = listed
        blocks = []
        for (group, unit), items in sorted(
            by_unit.items(), key=lambda kv: (group_order.get(kv[0][0], 99), kv[0][1])
        ):
            shown = items[: max(budget, 0)]
            budget -= len(shown)
            blocks.append(UnitBlock(unit, group, shown, len(items)))
        sections.append(TypeSection(summary, summary.duty in ran, blocks, max(len(mine) - listed, 0)))
    return sections


_VERDICT_WEIGHT = {Verdict.FAIL: 3, Verdict.WARN: 2, Verdict.PASS: 1, Verdict.UNKNOWN: 0}


def _latest_indicators(runs: list[dict[str, Any]]) -> dict[tuple[str, str], IndicatorStatus]:
    """The latest status per (indicator, subject), combining the checks that measure the same indicator.

    W1 (严重表述错误/暗链) is measured by the text checks and by the dark-link check, each with its own
    rule (``rule_id``): the latest record of each rule is kept, and the cell shows the worst verdict
    with every figure, so a later run of one check never hides the other's failure. (Records the store
    could not read were logged and left out when the run was loaded.)
    """
    latest: dict[tuple[str, str, str], IndicatorStatus] = {}
    for run in runs:  # oldest first: later runs overwrite
        if run["status"] != "ok":
            continue
        report: RunReport = run["report"]
        for status in report.indicators:
            latest[(status.indicator.value, status.subject, status.rule_id)] = status
    combined: dict[tuple[str, str], IndicatorStatus] = {}
    for (code, subject, _), status in latest.items():
        before = combined.get((code, subject))
        if before is None:
            combined[(code, subject)] = status
            continue
        worst = max(before.verdict, status.verdict, key=lambda v: _VERDICT_WEIGHT[v])
        combined[(code, subject)] = IndicatorStatus(
            indicator=status.indicator,
            subject=subject,
            subject_name=status.subject_name,
            verdict=worst,
            figure=f"{before.figure}；{status.figure}",
            threshold=f"{before.threshold}；{status.threshold}",
            value=None,
            rule_id=f"{before.rule_id}+{status.rule_id}",
        )
    return combined


def _veto(runs: list[dict[str, Any]], config: Config) -> list[VetoSubject]:
    latest = _latest_indicators(runs)

    def cells(subject: str, wanted: Iterable[Indicator]) -> list[VetoCell]:
        codes = list(dict.fromkeys([*(i.value for i in wanted), *(c for c, s in latest if s == subject)]))
        out = []
        for code in codes:
            status = latest.get((code, subject))
            name = Indicator(code).name_zh
            if status is None:
                out.append(VetoCell(name, code, Verdict.UNKNOWN, "本周未检测", "—"))
            else:
                out.append(VetoCell(name, code, status.verdict, status.figure, status.threshold))
        return out

    subjects = [VetoSubject(s.name, "网站", cells(s.id, SITE_INDICATORS)) for s in config.sites]
    site_ids = {s.id for s in config.sites}
    accounts: dict[str, str] = {}
    for (_, subject), status in latest.items():
        if subject not in site_ids:
            accounts.setdefault(subject, status.subject_name)
    for subject, name in sorted(accounts.items(), key=lambda kv: kv[1]):
        subjects.append(VetoSubject(name, "政务新媒体", cells(subject, ACCOUNT_INDICATORS)))
    if not accounts:
        subjects.append(
            VetoSubject(
                "政务新媒体（未开展监测）",
                "政务新媒体",
                [
                    VetoCell(i.name_zh, i.value, Verdict.UNKNOWN, "本周未检测", "—")
                    for i in ACCOUNT_INDICATORS
                ],
            )
        )
    return subjects


def _ranking(
    open_now: list[Problem], config: Config, group_order: dict[str, int], groups: dict[str, str] = UNIT_GROUPS
) -> list[UnitRank]:
    ranks: dict[str, UnitRank] = {}
    for unit in config.units:
        ranks[unit.name] = UnitRank(unit.name, groups.get(unit.kind, OTHER_UNITS), 0, 0, 0)
    for p in open_now:
        r = ranks.setdefault(p.unit, UnitRank(p.unit, p.unit_group, 0, 0, 0))
        r.open += 1
        r.overdue += p.status == STATUS_OVERDUE
        r.new += p.is_new
    return sorted(ranks.values(), key=lambda r: (-r.open, -r.overdue, group_order.get(r.group, 99), r.unit))


def _census(runs: list[dict[str, Any]], config: Config) -> Census:
    """The latest successful run per (duty, site) that recorded a census; its rows, merged, with their
    Chinese display fields: the site's name, the column type (动态类…), the platform (微信公众号…)."""
    latest: dict[tuple[str, str], tuple[str, RunReport]] = {}
    for run in runs:
        report: RunReport = run["report"]
        if run["status"] == "ok" and (report.columns is not None or report.accounts is not None):
            latest[(run["duty"], run["site"])] = (run["site"], report)
    site_names = {s.id: s.name for s in config.sites}
    columns: list[CensusColumn] | None = None
    accounts: list[CensusAccount] | None = None
    for site, report in latest.values():
        if report.columns is not None:
            columns = (columns or []) + [
                CensusColumn(
                    site=c.site or site,
                    site_name=site_names.get(site, site),
                    name=c.name,
                    unit=c.unit,
                    type_zh=_column_type_zh(c.type),
                    last_update=c.last_update,
                    items_week=c.items_week,
                    items_month=c.items_month,
                    url=c.url,
                )
                for c in report.columns
            ]
        if report.accounts is not None:
            accounts = (accounts or []) + [
                CensusAccount(
                    name=a.name,
                    platform_zh=_platform_zh(a.platform),
                    unit=a.unit,
                    last_post=a.last_post,
                    # Nothing was read: no count of posts (— rather than 0, which would claim silence).
                    posts_week=None if a.verdict == "unknown" else a.posts_week,
                    posts_month=None if a.verdict == "unknown" else a.posts_month,
                    url=a.last_post_url,
                    last_post_zh=_last_post_zh(a),
                )
                for a in report.accounts
            ]
    if columns is not None:
        columns = _one_row_per_column(columns)
    return Census(columns, accounts)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _one_row_per_column(rows: list[CensusColumn]) -> list[CensusColumn]:
    """One census row per column: the weekly column audit and the monthly unit inspection both record the
    columns of a unit, so the same column (site and URL, else site, unit and name) came twice. The row
    listed first (the column audit's, in run order) is kept, with the other's values filling its gaps."""
    kept: dict[tuple[str, ...], CensusColumn] = {}
    for row in rows:
        key = (row.site, row.url) if row.url else (row.site, str(row.unit), str(row.name))
        before = kept.get(key)
        if before is None:
            kept[key] = row
        else:
            gaps = {f.name: getattr(row, f.name) for f in fields(before) if getattr(before, f.name) is None}
            kept[key] = replace(before, **gaps)
    return list(kept.values())


def _last_post_zh(row: AccountCensusRow) -> str:
    """最近发布 as the census shows it: the date, 未能读取（原因） when the account's source could not be
    read (never 无, which would claim the account has no posts), else 无."""
    if row.last_post:
        return str(row.last_post)
    if row.verdict == "unknown":
        reason = str(row.reason or "").strip()
        return f"未能读取（{reason}）" if reason else "未能读取"
    return "无"


def _column_type_zh(raw_type: str | None) -> str:
    """The column type as the bulletin names it (动态类…). A type already written in Chinese (a census row
    recorded by hand) shows as written; an unknown identifier shows as 其他类, never as itself."""
    from checks.columns.rules import TYPE_LABELS

    raw = str(raw_type or "")
    return TYPE_LABELS.get(raw) or (raw if _CJK.search(raw) else TYPE_LABELS["other"])


def _platform_zh(raw_platform: str | None) -> str:
    """The account's platform as the bulletin names it (微信公众号…); unknown: 其他平台."""
    from checks.newmedia.rules import PLATFORM_LABELS

    raw = str(raw_platform or "")
    return PLATFORM_LABELS.get(raw) or (raw if _CJK.search(raw) else PLATFORM_LABELS["other"])


def _subject_name(row: dict[str, Any], evidence: dict[str, Any]) -> str:
    """What a finding outside the configured sites is about: its account or subject as the check named
    it, else — for a check that runs once per config, whose pseudo-site is named after the duty — what
    the duty monitors (政务新媒体), never the internal id."""
    named = evidence.get("account_name") or evidence.get("subject_name")
    if named:
        return str(named)
    info = DUTIES.get(row["duty"])
    if row["site"] == row["duty"] and info is not None:
        return info.subject
    return str(row["site"])
