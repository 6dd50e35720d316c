"""Auditing the 政府信息公开工作年度报告 published on a site (I/O around :mod:`checks.columns.annual_report`).

The 年度报告 page is either a report itself (its tables parse) or a column listing reports; then the
newest ``max_reports`` reports named 年度报告/年报 are read. Each report's arithmetic is checked (every
broken relation with its numbers), and the report that is due — the previous year's, by 31 January —
must be on the list in time (《政府信息公开条例》第五十条).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from checks.columns.annual_report import (
    AnnualReport,
    ReportProblem,
    check_annual_report,
    check_publish_deadline,
    due_report_year,
    parse_annual_report,
)
from checks.common.dates import ListItem, article_date, extract_list_items

__all__ = ["REPORT_NAME", "ReportAudit", "ReportSeen", "audit_reports", "report_year_of"]

#: How a report or its column is named.
REPORT_NAME = re.compile(r"年度报告|年报")
_YEAR = re.compile(r"((?:19|20)[0-9]{2})\s*年度?")
_ARITHMETIC = {"balance", "result_total", "row_total", "review_total", "missing_row"}

Fetch = Callable[[str], Awaitable[tuple[str | None, str, str | None]]]


def report_year_of(title: str) -> int | None:
    """The report year named in a title (``示例县2025年政府信息公开工作年度报告`` → 2025)."""
    m = _YEAR.search(title or "")
    return int(m.group(1)) if m else None


@dataclass
class ReportSeen:
    """One report read: where, which year, when published, and what is wrong with it."""

    url: str
    title: str
    year: int | None
    published: date | None
    problems: list[ReportProblem]
    readable: bool

    @property
    def arithmetic(self) -> list[ReportProblem]:
        """Broken relations and missing rows (the report's numbers do not add up)."""
        return [p for p in self.problems if p.code in _ARITHMETIC]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary for run counts."""
        return {
            "url": self.url,
            "title": self.title,
            "year": self.year,
            "published": self.published.isoformat() if self.published else None,
            "readable": self.readable,
            "problems": [
                {"code": p.code, "relation": p.relation, "message": p.message_zh} for p in self.problems
            ],
        }


@dataclass
class ReportAudit:
    """Everything the annual-report audit found."""

    index_url: str
    reports: list[ReportSeen] = field(default_factory=list)
    deadline: ReportProblem | None = None
    due_year: int | None = None
    failures: dict[str, str] = field(default_factory=dict)  # url -> reason


def _read(url: str, html: str, title: str, published: date | None, today: date) -> ReportSeen:
    report: AnnualReport = parse_annual_report(html)
    readable = bool(report.applications) or report.review is not None
    problems = check_annual_report(report) if readable else []
    name = report.title or title
    year = report.year or report_year_of(name)
    return ReportSeen(url, name, year, published or article_date(html, today), problems, readable)


def _report_items(html: str, final: str, index_url: str, today: date) -> list[ListItem]:
    """Items of a 年度报告 list page that name a report of a given year (not links back to the list)."""
    return [
        i
        for i in extract_list_items(html, final, today)
        if REPORT_NAME.search(i.title)
        and report_year_of(i.title) is not None
        and i.url not in (final, index_url)
    ]


async def audit_reports(index_url: str, fetch: Fetch, today: date, *, max_reports: int = 3) -> ReportAudit:
    """Read the 年度报告 page (a report, or a list of reports) and check the reports and the deadline."""
    audit = ReportAudit(index_url, due_year=due_report_year(today))
    html, final, error = await fetch(index_url)
    if html is None:
        audit.failures[index_url] = error or "无法访问"
        return audit
    published_by_year: dict[int, date | None] = {}
    first = _read(index_url, html, "", None, today)
    items = [] if first.readable else _report_items(html, final, index_url, today)
    if first.readable or not items:
        # The page is a report itself (readable or not), not a list of reports.
        audit.reports.append(first)
        if first.year is not None:
            published_by_year[first.year] = first.published
    else:
        for item in items:
            year = report_year_of(item.title)
            if year is not None and year not in published_by_year:
                published_by_year[year] = item.date

        def newest_first(i: ListItem) -> tuple[int, date]:
            return (report_year_of(i.title) or 0, i.date or date.min)

        for item in sorted(items, key=newest_first, reverse=True)[:max_reports]:
            page, _final, err = await fetch(item.url)
            if page is None:
                audit.failures[item.url] = err or "无法访问"
                continue
            seen = _read(item.url, page, item.title, item.date, today)
            audit.reports.append(seen)
            if seen.year is not None and published_by_year.get(seen.year) is None:
                published_by_year[seen.year] = seen.published
    due = audit.due_year
    if due is not None and not (audit.failures and due not in published_by_year):
        audit.deadline = check_publish_deadline(due, published_by_year.get(due), today)
    return audit
