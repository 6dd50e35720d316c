"""Column-update audits (栏目更新): homepage, columns, message boards and annual reports (W3, W4, W5).

``columns`` (weekly): the homepage's newest item (W3), every configured and discovered column (W4),
the configured message boards (W5) and the 政府信息公开工作年度报告. ``units`` (monthly): every unit's
(县直部门/乡镇) 政务公开 columns, reported per unit.

Findings are keyed by the column's URL, so a column's problem is one finding across runs. A page that
cannot be read makes its column *unknown* (a 监测源异常 finding, never "stale") and makes the run
incomplete: only findings whose page was positively re-checked are resolved (``CheckOutcome.cleared``).
See docs/columns.md for every rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from checks.base import CheckOutcome, SiteCheck, UnitResolver
from checks.columns.audit import (
    HOST_DOWN_REASONS,
    ColumnResult,
    ColumnTarget,
    PageFetcher,
    Tally,
    audit_columns,
    census_row,
    collapse_unreachable_hosts,
    column_findings,
    engine_limits,
    unreachable_finding,
)
from checks.columns.discovery import (
    Discovery,
    PageFacts,
    column_from_facts,
    column_key,
    column_type_for,
    discover_columns,
    page_facts,
)
from checks.columns.report_audit import REPORT_NAME, ReportAudit, audit_reports
from checks.columns.rules import (
    RESULT_FAIL,
    RESULT_PASS,
    RESULT_WARN,
    MessageVerdict,
    SiteColumnSummary,
    SiteThresholds,
    evaluate_homepage,
    evaluate_messages,
    format_date_zh,
    parse_messages,
    site_verdict,
)
from checks.common.dates import extract_page_items, infer_column_type, latest_item
from monitor.core.figures import (
    AnnualReportEntry,
    AnnualReportFigures,
    BoardFigures,
    ColumnStatusFigures,
    DiscoveryFigures,
    FigureGroup,
    HomepageFigures,
    MessageBoards,
    ReportProblem,
    UnitFigures,
    UnitsFigures,
    UnreadablePages,
)
from monitor.core.findings import Finding, Severity
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.report import CheckReport
from monitor.core.urls import join_url

if TYPE_CHECKING:
    from monitor.config import Config, SiteColumns
    from monitor.core.clock import Clock
    from monitor.web.fetch import Fetcher

__all__ = ["ColumnsCheck", "UnitsCheck", "configured_targets", "discover_snippet"]

_RESULT_VERDICT = {RESULT_PASS: Verdict.PASS, RESULT_WARN: Verdict.WARN, RESULT_FAIL: Verdict.FAIL}
_W4 = {
    "stale": Indicator.COLUMNS_STALE,
    "overdue": Indicator.COLUMNS_OVERDUE,
    "blank": Indicator.COLUMNS_BLANK,
}
_W4_RULES = {
    "stale": RuleId.COLUMNS_STALE,
    "overdue": RuleId.COLUMNS_OVERDUE,
    "blank": RuleId.COLUMNS_BLANK,
}


def configured_targets(check: SiteCheck) -> list[ColumnTarget]:
    """The site's configured columns, with type inferred from the name and unit from the paths."""
    spec = _site_spec(check)
    out = []
    for c in spec.columns if spec else ():
        out.append(
            ColumnTarget(
                name=c.name,
                url=c.url,
                type=c.type or infer_column_type(c.name),
                top_level=c.top_level,
                unit=c.unit or check.ctx.units.unit_for(c.url),
                item_selector=c.item_selector,
                date_selector=c.date_selector,
                limit_days=c.limit_days,
            )
        )
    return out


def _discovered_unit(configured: str | None, site_unit: str | None, found: str | None) -> str | None:
    """A discovered column's unit: a configured path prefix wins; else the unit page discovery passed
    through (zero-config); else the site's own unit."""
    if configured is not None and configured != site_unit:
        return configured
    return found or configured


def _site_spec(check: SiteCheck) -> SiteColumns | None:
    return check.ctx.config.columns.sites.get(check.ctx.site.id)


def _today(check: SiteCheck) -> date:
    return check.ctx.clock.now().astimezone(check.ctx.config.tz).date()


class _Tracker:
    """Which identities were positively re-checked, and what could not be read."""

    def __init__(self) -> None:
        self.checked: set[str] = set()
        self.failed: dict[str, str] = {}

    def outcome(self, findings: list[Finding], report: CheckReport) -> CheckOutcome:
        report.groups.append(UnreadablePages(dict(sorted(self.failed.items()))))
        findings = collapse_unreachable_hosts(findings)
        complete = not self.failed
        checked = frozenset(self.checked)
        return CheckOutcome(
            findings=findings,
            report=report,
            complete=complete,
            cleared=None if complete else (lambda identity: identity in checked),
        )


def _record_columns(tracker: _Tracker, results: Sequence[ColumnResult]) -> None:
    for r in results:
        if r.verdict.status == "unknown":
            tracker.failed[r.target.url] = r.error or "无法访问"
        else:
            tracker.checked.add(r.target.key)


class ColumnsCheck(SiteCheck):
    """Column updates, homepage updates, blank columns, message replies and annual reports."""

    name = "columns"
    judges_site_content = True

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Observe the homepage, columns, boards and reports; judge them; report findings and counts."""
        ctx, site, options = self.ctx, self.ctx.site, self.ctx.config.columns
        today = _today(self)
        fetch = PageFetcher(fetcher, ctx.config)
        tracker = _Tracker()
        findings: list[Finding] = []
        spec = _site_spec(self)
        targets = configured_targets(self)
        configured_keys = {t.key for t in targets}

        home_html, home_final, home_error = await fetch(site.homepage)
        if home_html is None:
            # The site itself is down (DNS, refused, timeout, TLS): every column would fail the same way.
            # The patrol and the availability duty report the site as unreachable; this run records why
            # it could not check and adds no 监测源异常 line per column.
            if not targets or (home_error or "").startswith(HOST_DOWN_REASONS):
                return CheckOutcome(failed=f"homepage unreachable: {home_error}", complete=False)
            tracker.failed[site.homepage] = home_error or "无法访问"
            findings.append(
                unreachable_finding(
                    self.name, site.id, "网站首页", site.homepage, home_error or "", site.unit
                )
            )

        discovery = Discovery()
        if options.discover and home_html is not None:
            discovery = await discover_columns(
                fetch,
                home_final,
                home_html,
                site.crawl_hosts,
                today,
                max_pages=options.discover_max_pages,
                concurrency=options.concurrency,
                skip=configured_keys,
            )
            tracker.failed.update(discovery.failed)
            for col in discovery.columns:
                targets.append(
                    ColumnTarget(
                        name=col.name,
                        url=col.url,
                        type=col.type,
                        top_level=col.top_level,
                        unit=_discovered_unit(ctx.units.unit_for(col.url), site.unit, col.unit),
                        source=col.source,
                    )
                )
        limits = engine_limits(options, targets)
        results = await audit_columns(
            targets, fetch, today, limits, concurrency=options.concurrency, facts=discovery.facts
        )
        _record_columns(tracker, results)
        findings.extend(column_findings(self.name, site.id, results))
        summary = site_verdict([r.verdict for r in results], _thresholds(options))
        indicators = self._w4(summary)
        counts: dict[str, Any] = {
            "columns_checked": summary.checked,
            "columns_unknown": len(summary.unknown_columns),
        }
        groups: list[FigureGroup] = [
            DiscoveryFigures(discovery.visited, len(discovery.columns), discovery.truncated)
        ]
        tally = Tally()
        for r in results:
            tally.add(r)
        groups.append(ColumnStatusFigures(tally.figures()))
        findings.extend(self._indicator_findings(summary))

        if home_html is not None:
            tracker.checked.add(column_key(site.homepage))
            w3, home_findings, home_counts = self._homepage(home_html, home_final, results, today)
            indicators.insert(0, w3)
            findings.extend(home_findings)
            groups.append(home_counts)

        if spec and spec.message_boards:
            w5, board_findings, board_counts = await self._boards(spec, fetch, tracker, today)
            indicators.append(w5)
            findings.extend(board_findings)
            groups.append(MessageBoards(tuple(board_counts)))

        report_url = spec.annual_reports if spec and spec.annual_reports else None
        if report_url is None:
            report_url = _find_report_page(home_html, home_final, results)
        if report_url is not None:
            audit = await audit_reports(report_url, fetch, today, max_reports=options.max_report_pages)
            findings.extend(self._report_findings(audit, tracker))
            groups.append(
                AnnualReportFigures(
                    index=report_url,
                    due_year=audit.due_year,
                    reports=tuple(
                        AnnualReportEntry(
                            url=r.url,
                            title=r.title,
                            year=r.year,
                            published=r.published.isoformat() if r.published else None,
                            readable=r.readable,
                            problems=tuple(
                                ReportProblem(p.code, p.relation, p.message_zh) for p in r.problems
                            ),
                        )
                        for r in audit.reports
                    ),
                )
            )
        report = CheckReport(
            figures=counts, groups=groups, indicators=indicators, columns=[census_row(r) for r in results]
        )
        return tracker.outcome(findings, report)

    # ---------------------------------------------------------------------------------------- W3

    def _homepage(
        self, html: str, final: str, results: Sequence[ColumnResult], today: date
    ) -> tuple[IndicatorStatus, list[Finding], HomepageFigures]:
        site, options = self.ctx.site, self.ctx.config.columns
        newest = latest_item(extract_page_items(html, final, today), today)
        latest, title, url, basis = None, None, None, "homepage"
        if newest is not None:
            latest, title, url = newest.date, newest.title, newest.url
        else:
            # A navigation-only homepage: W3 looks at the second-level pages (the top-level columns).
            tops = [r.verdict for r in results if r.target.top_level and r.verdict.latest is not None]
            if tops:
                best = max(tops, key=lambda v: v.latest or date.min)
                latest, title, url, basis = best.latest, best.latest_title, best.latest_url, "top_columns"
        verdict = evaluate_homepage(latest, today, options.homepage.limit_days, options.homepage.warn_days)
        counts = HomepageFigures(
            latest=latest.isoformat() if latest else None,
            latest_title=title,
            latest_url=url,
            days_since=verdict.days_since,
            status=verdict.status,
            basis=basis,
        )
        status = IndicatorStatus(
            Indicator.HOMEPAGE_STALE,
            site.id,
            site.name,
            {"fresh": Verdict.PASS, "warning": Verdict.WARN, "stale": Verdict.FAIL}.get(
                verdict.status, Verdict.UNKNOWN
            ),
            (
                f"首页最新信息发布于{format_date_zh(latest)}，距今{verdict.days_since}天"
                if latest
                else "首页未识别到带发布日期的信息"
            ),
            f"超过{verdict.limit_days}天未更新不合格，{verdict.warn_days}天预警",
            float(verdict.days_since) if verdict.days_since is not None else None,
            rule_id=RuleId.COLUMNS_HOMEPAGE,
        )
        kind, severity = {
            "stale": ("homepage_stale", Severity.VETO),
            "warning": ("homepage_warning", Severity.WARNING),
            "unknown": ("homepage_undated", Severity.INFO),
        }.get(verdict.status, (None, None))
        findings = []
        if kind is not None and severity is not None:
            note = f"；最新一条：《{title[:60]}》{url}" if title and url else ""
            if basis == "top_columns":
                note += "（首页为导航页，按一级栏目最新信息判断）"
            findings.append(
                Finding(
                    duty=self.name,
                    kind=kind,
                    severity=severity,
                    site=site.id,
                    identity=column_key(site.homepage),
                    url=site.homepage,
                    unit=site.unit,
                    message=verdict.message_zh + note,
                    evidence=counts.as_dict(),
                )
            )
        return status, findings, counts

    # ---------------------------------------------------------------------------------------- W4

    def _w4(self, summary: SiteColumnSummary) -> list[IndicatorStatus]:
        site = self.ctx.site
        out = []
        unknown = len(summary.unknown_columns)
        for ind in summary.indicators:
            figure = f"{ind.message_zh}（共检测{summary.checked}个栏目"
            figure += f"，另有{unknown}个栏目无法检测）" if unknown else "）"
            out.append(
                IndicatorStatus(
                    _W4[ind.key],
                    site.id,
                    site.name,
                    _RESULT_VERDICT[ind.result],
                    figure,
                    f"≥{ind.veto_threshold}个不合格，≥{ind.warn_threshold}个预警",
                    float(ind.figure),
                    rule_id=_W4_RULES[ind.key],
                )
            )
        return out

    def _indicator_findings(self, summary: SiteColumnSummary) -> list[Finding]:
        site = self.ctx.site
        out = []
        for ind in summary.indicators:
            if ind.result == RESULT_PASS:
                continue
            code = _W4[ind.key]
            out.append(
                Finding(
                    duty=self.name,
                    kind="columns_indicator",
                    severity=Severity.VETO if ind.result == RESULT_FAIL else Severity.WARNING,
                    site=site.id,
                    identity=code.value,
                    url=site.homepage,
                    unit=site.unit,
                    message=f"{site.name}{ind.message_zh}",
                    evidence={"indicator": code.value, "figure": ind.figure, "columns": list(ind.columns)},
                )
            )
        return out

    # ---------------------------------------------------------------------------------------- W5

    async def _boards(
        self, spec: SiteColumns, fetch: PageFetcher, tracker: _Tracker, today: date
    ) -> tuple[IndicatorStatus, list[Finding], list[BoardFigures]]:
        site, rules = self.ctx.site, self.ctx.config.columns.messages
        findings: list[Finding] = []
        rows: list[BoardFigures] = []
        verdicts: list[MessageVerdict] = []
        unknown = 0
        for board in spec.message_boards:
            unit = board.unit or self.ctx.units.unit_for(board.url)
            label = f"{unit}·{board.name}" if unit else board.name
            html, final, error = await fetch(board.url)
            if html is None:
                unknown += 1
                tracker.failed[board.url] = error or "无法访问"
                findings.append(
                    unreachable_finding(self.name, site.id, f"{label}留言栏目", board.url, error or "", unit)
                )
                rows.append(BoardFigures(board.name, board.url, unit, "unknown"))
                continue
            records = parse_messages(html, final, today)
            verdict = evaluate_messages(
                records,
                today,
                slow_days=rules.slow_days,
                unanswered_months=rules.unanswered_months,
                window_months=rules.window_months,
                reply_stale_months=rules.reply_stale_months,
                count_late_replies=rules.count_late_replies,
            )
            verdicts.append(verdict)
            board_key = column_key(board.url)
            tracker.checked.add(board_key)
            for mf, kind, severity in [
                *((f, "message_unanswered", Severity.VETO) for f in verdict.veto_findings),
                *((f, "message_slow", Severity.WARNING) for f in verdict.warning_findings),
            ]:
                rec = mf.record
                identity = rec.url or f"{board_key}#{rec.asked.isoformat()}#{rec.title}"
                tracker.checked.add(identity)
                findings.append(
                    Finding(
                        duty=self.name,
                        kind=kind,
                        severity=severity,
                        site=site.id,
                        identity=identity,
                        url=rec.url or board.url,
                        unit=unit,
                        sources=(board.url,),
                        message=f"{label}：{mf.message_zh}",
                        evidence={
                            "board": board.name,
                            "board_url": board.url,
                            "title": rec.title,
                            "asked": rec.asked.isoformat(),
                            "replied": rec.replied.isoformat() if rec.replied else None,
                            "state": rec.state,
                            "days": mf.days,
                            "rule": mf.kind,
                        },
                    )
                )
            # Every message on a board that was read is re-checked, shown or not.
            for rec in records:
                tracker.checked.add(rec.url or f"{board_key}#{rec.asked.isoformat()}#{rec.title}")
            s = verdict.stats
            rows.append(
                BoardFigures(
                    board=board.name,
                    url=board.url,
                    unit=unit,
                    status=verdict.result,
                    total=s.total,
                    answered=s.answered,
                    answer_rate=s.answer_rate,
                    median_reply_days=s.median_reply_days,
                    last_reply=s.last_reply.isoformat() if s.last_reply else None,
                    unanswered_over_limit=len(verdict.veto_findings),
                    slow=len(verdict.warning_findings),
                    reply_stale=verdict.reply_stale,
                    summary=tuple(verdict.messages_zh),
                )
            )
        vetoes = sum(len(v.veto_findings) for v in verdicts)
        total = sum(v.stats.total for v in verdicts)
        answered = sum(v.stats.answered for v in verdicts)
        if vetoes:
            result = Verdict.FAIL
        elif unknown:
            result = Verdict.UNKNOWN
        elif any(v.result == RESULT_WARN for v in verdicts):
            result = Verdict.WARN
        else:
            result = Verdict.PASS
        rate = f"{answered / total:.1%}" if total else "—"
        figure = (
            f"超过{rules.unanswered_months}个月未回应留言{vetoes}条；"
            f"共{total}条留言，已答复{answered}条，答复率{rate}"
        )
        if unknown:
            figure += f"；{unknown}个留言栏目无法读取"
        status = IndicatorStatus(
            Indicator.INTERACTION,
            site.id,
            site.name,
            result,
            figure,
            f"近{rules.window_months}个月内有留言超过{rules.unanswered_months}个月未回应即不合格",
            float(vetoes),
            rule_id=RuleId.COLUMNS_INTERACTION,
        )
        return status, findings, rows

    # ------------------------------------------------------------------------------ annual reports

    def _report_findings(self, audit: ReportAudit, tracker: _Tracker) -> list[Finding]:
        site = self.ctx.site
        out = []
        for url, reason in audit.failures.items():
            tracker.failed[url] = reason
            out.append(
                unreachable_finding(
                    self.name, site.id, "政府信息公开工作年度报告页面", url, reason, site.unit
                )
            )
        if audit.index_url not in audit.failures:
            tracker.checked.add(column_key(audit.index_url))
        for report in audit.reports:
            tracker.checked.add(column_key(report.url))
            name = f"《{report.title}》" if report.title else "年度报告"
            if not report.readable:
                out.append(
                    Finding(
                        duty=self.name,
                        kind="annual_report_unreadable",
                        severity=Severity.INFO,
                        site=site.id,
                        identity=column_key(report.url),
                        url=report.url,
                        unit=site.unit,
                        message=f"{name}未识别到统计表格（可能以附件或图片发布），无法核对数据，请人工核查",
                        evidence=report.as_dict(),
                    )
                )
                continue
            broken = report.arithmetic
            if broken:
                listed = "；".join(f"{i}. {p.message_zh}" for i, p in enumerate(broken, 1))
                out.append(
                    Finding(
                        duty=self.name,
                        kind="annual_report_inconsistent",
                        severity=Severity.DEDUCTION,
                        site=site.id,
                        identity=column_key(report.url),
                        url=report.url,
                        unit=site.unit,
                        message=f"{name}数据勾稽关系有{len(broken)}处不符：{listed}",
                        evidence=report.as_dict(),
                    )
                )
        if audit.due_year is not None:
            identity = f"annual-report:{audit.due_year}"
            if audit.deadline is not None or not audit.failures:
                tracker.checked.add(identity)
            if audit.deadline is not None:
                out.append(
                    Finding(
                        duty=self.name,
                        kind="annual_report_late",
                        severity=Severity.DEDUCTION,
                        site=site.id,
                        identity=identity,
                        url=audit.index_url,
                        unit=site.unit,
                        message=audit.deadline.message_zh,
                        evidence={"year": audit.due_year, "code": audit.deadline.code},
                    )
                )
        return out


def _thresholds(options: Any) -> SiteThresholds:
    t = options.thresholds
    return SiteThresholds(
        t.stale_veto, t.stale_warn, t.overdue_veto, t.overdue_warn, t.blank_veto, t.blank_warn
    )


def _find_report_page(html: str | None, final: str, results: Sequence[ColumnResult]) -> str | None:
    """The 年度报告 column: a homepage link named 年度报告/年报, else a column with that name."""
    if html is not None:
        from checks.common.dates import element_text, parse_listing

        root = parse_listing(html)
        if root is not None:
            for a in root.iter("a"):
                text = element_text(a) or (a.get("title") or "")
                href = (a.get("href") or "").strip()
                if href and not href.startswith(("#", "javascript:")) and REPORT_NAME.search(text):
                    return join_url(final, href)
    return next((r.target.url for r in results if REPORT_NAME.search(r.target.name)), None)


# ------------------------------------------------------------------------------------------- units


class UnitsCheck(SiteCheck):
    """Monthly inspection of every unit's (县直部门/乡镇) 政务公开 columns, reported per unit."""

    name = "units"
    judges_site_content = True

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Audit each unit's configured columns and the columns found under its path prefixes."""
        ctx, site, options = self.ctx, self.ctx.site, self.ctx.config.columns
        today = _today(self)
        fetch = PageFetcher(fetcher, ctx.config)
        tracker = _Tracker()
        units = ctx.config.units_of(site.id)
        configured = configured_targets(self)
        targets: list[ColumnTarget] = []
        facts: dict[str, PageFacts] = {}
        known = {t.key for t in configured}
        unit_names = {u.name for u in units}
        findings: list[Finding] = []
        for unit in units:
            targets.extend(t for t in configured if t.unit == unit.name)
            if not options.discover:
                continue
            for prefix in unit.paths:
                found, unit_facts, failed = await _unit_columns(
                    fetch, join_url(site.homepage, prefix), prefix, unit.name, today, known
                )
                for url, reason in failed.items():
                    tracker.failed[url] = reason
                    findings.append(
                        unreachable_finding(
                            self.name, site.id, f"{unit.name}政务公开页面", url, reason, unit.name
                        )
                    )
                targets.extend(found)
                facts.update(unit_facts)
                known.update(t.key for t in found)
        limits = engine_limits(options, targets)
        results = await audit_columns(
            targets, fetch, today, limits, concurrency=options.concurrency, facts=facts
        )
        _record_columns(tracker, results)
        findings.extend(column_findings(self.name, site.id, results))
        per_unit = []
        for unit in units:
            mine = [r for r in results if r.target.unit == unit.name]
            tally = Tally()
            for r in mine:
                tally.add(r)
            statuses = {r.verdict.status for r in mine}
            serious = any(r.verdict.severity == "serious" for r in mine)
            result = (
                "未检测"
                if not mine or statuses == {"unknown"}
                else RESULT_FAIL
                if serious
                else RESULT_WARN
                if "warning" in statuses
                else RESULT_PASS
            )
            per_unit.append(UnitFigures(unit.name, unit.kind, result, tally.figures()))
        report = CheckReport(
            groups=[UnitsFigures(tuple(per_unit))],
            columns=[census_row(r) for r in results if r.target.unit in unit_names],
        )
        reasons = set(tracker.failed.values())
        if reasons and not tracker.checked and all(r.startswith(HOST_DOWN_REASONS) for r in reasons):
            # Nothing could be read, and for reasons of the host: the site is down. The patrol and the
            # availability duty report that; this run records why it could not inspect the units.
            return CheckOutcome(failed=f"site unreachable: {sorted(reasons)[0]}", complete=False)
        return tracker.outcome(findings, report)


async def _unit_columns(
    fetch: PageFetcher, start: str, prefix: str, unit: str, today: date, known: set[str]
) -> tuple[list[ColumnTarget], dict[str, PageFacts], dict[str, str]]:
    """A unit's landing page and the column pages it links to under the unit's path prefix."""
    html, final, error = await fetch(start)
    if html is None:
        return [], {}, {start: error or "无法访问"}
    targets: list[ColumnTarget] = []
    facts_by_key: dict[str, PageFacts] = {}
    failed: dict[str, str] = {}
    landing = page_facts(html, final, today)
    pages = [(start, unit, landing)]
    sub_links = [c for c in _unit_links(html, final, prefix)]
    for text, url in sub_links:
        if column_key(url) in known or column_key(url) == column_key(start):
            continue
        sub_html, sub_final, sub_error = await fetch(url)
        if sub_html is None:
            failed[url] = sub_error or "无法访问"
            continue
        pages.append((url, text, page_facts(sub_html, sub_final, today)))
    for url, text, facts in pages:
        key = column_key(url)
        if key in known:
            continue
        col = column_from_facts(facts, text, False)
        if col is None:
            continue
        name = col.name
        targets.append(
            ColumnTarget(name, url, column_type_for(name, facts.column_type), False, unit, source="unit")
        )
        facts_by_key[key] = facts
        known.add(key)
    return targets, facts_by_key, failed


_DIR_PATH = re.compile(r"/(?:index\.s?html?)?$")


def _unit_links(html: str, page_url: str, prefix: str) -> list[tuple[str, str]]:
    """Links on a unit's page to other column pages under its prefix (directory-style URLs)."""
    from yarl import URL

    from checks.common.dates import base_url, element_text, parse_listing
    from monitor.core.urls import InvalidURL, normalize

    root = parse_listing(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    host = URL(page_url).host
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        try:
            url = normalize(str(URL(base).join(URL(href))))
        except (InvalidURL, ValueError):
            continue
        u = URL(url)
        if u.host != host or not u.path.startswith(prefix) or not _DIR_PATH.search(u.path):
            continue
        key = column_key(url)
        if key in seen:
            continue
        seen.add(key)
        out.append((element_text(a), url))
    return out


# ----------------------------------------------------------------------------------- discovery CLI


async def discover_snippet(config: Config, url: str, clock: Clock) -> tuple[str, int]:
    """``monitor columns discover URL``: a ``columns:`` YAML block for config.yaml, and an exit status.

    The block lists every column discovery finds (name, url, type, top_level, unit), ready to paste and
    edit; it loads into the config as it is (tests/test_columns_check.py loads it).
    """
    import yaml

    from monitor.config import adhoc_config
    from monitor.web.egress import EgressPolicy
    from monitor.web.fetch import Fetcher

    config, site = adhoc_config(url, config)
    resolver = UnitResolver(site, config.units_of(site.id))
    today = clock.now().astimezone(config.tz).date()
    async with Fetcher(config.crawl, egress=EgressPolicy.for_config(config, site)) as fetcher:
        fetch = PageFetcher(fetcher, config)
        html, final, error = await fetch(site.homepage)
        if html is None:
            return f"# cannot read {site.homepage}: {error}\n", 3
        found = await discover_columns(
            fetch,
            final,
            html,
            site.crawl_hosts,
            today,
            max_pages=config.columns.discover_max_pages,
            concurrency=config.columns.concurrency,
        )
    columns = []
    known_units = {u.name for u in config.units} | ({site.unit} if site.unit else set())
    new_units: dict[str, list[str]] = {}
    for col in found.columns:
        entry: dict[str, Any] = {"name": col.name, "url": col.url, "type": col.type}
        entry["top_level"] = col.top_level
        unit = _discovered_unit(resolver.unit_for(col.url), site.unit, col.unit)
        if unit:
            entry["unit"] = unit
            if unit not in known_units:
                new_units.setdefault(unit, []).append(col.url)
        columns.append(entry)
    head = (
        f"# {len(columns)} columns found on {site.homepage} ({found.visited} pages visited"
        + (f", {len(found.failed)} could not be read" if found.failed else "")
        + ").\n# Paste into config.yaml, check the types (dynamic | notice | policy | personnel |\n"
        "# planning | interaction | topic | other) and mark 一级栏目 with top_level: true.\n"
    )
    if config.site_for_url(site.homepage) is None:
        head += f"# The site is not in config.yaml yet: add it under `sites:` with id: {site.id}\n"
    block: dict[str, Any] = {}
    if new_units:
        head += "# Units found on the way (县直部门/乡镇): merge them into `units:` (check kind and paths).\n"
        block["units"] = [_unit_entry(name, urls, site.id) for name, urls in new_units.items()]
    block["columns"] = {"sites": {site.id: {"columns": columns}}}
    body = yaml.safe_dump(block, allow_unicode=True, sort_keys=False, width=200)
    return head + body, 0


def _unit_entry(name: str, urls: list[str], site_id: str) -> dict[str, Any]:
    """A ``units:`` entry for a unit discovery met: kind from the name, path = its columns' common
    directory when that is specific (``/xxgk/bm/jyj/``), else none."""
    from posixpath import commonpath

    from yarl import URL

    dirs = [URL(u).path.rsplit("/", 1)[0] or "/" for u in urls]
    common = commonpath(dirs) if dirs else "/"
    kind = "township" if re.search(r"(?:镇|乡|街道)$", name) else "department"
    entry: dict[str, Any] = {"name": name, "kind": kind, "site": site_id}
    if common.count("/") >= 2:
        entry["paths"] = [common.rstrip("/") + "/"]
    return entry
