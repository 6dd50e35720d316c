"""Observing columns over HTTP and turning the engine's verdicts into findings and census rows.

Shared by the ``columns`` duty (the weekly site audit) and the ``units`` duty (the monthly per-unit
inspection). The judging itself is pure and lives in :mod:`checks.columns.rules`; this module fetches
list pages (and, for lists without dates, the newest item's article page), and words the findings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from checks.columns.discovery import SCRIPT_LIST_REASON, PageFacts, column_key, page_facts
from checks.columns.rules import (
    TYPE_LABELS,
    ColumnIdentity,
    ColumnLimits,
    ColumnObservation,
    ColumnVerdict,
    evaluate_column,
    format_date_zh,
)
from checks.common.dates import article_dating
from checks.common.fetchfailure import failure_reason_zh
from monitor.config import Columns, Config
from monitor.core.figures import StatusTally
from monitor.core.findings import Finding, Severity
from monitor.core.report import ColumnCensusRow
from monitor.core.urls import host_of_link
from monitor.web.decode import decode_body
from monitor.web.fetch import ErrorKind
from monitor.web.page import Page

if TYPE_CHECKING:
    from monitor.web.fetch import Fetcher

__all__ = [
    "ColumnResult",
    "ColumnTarget",
    "PageFetcher",
    "audit_columns",
    "census_row",
    "column_findings",
    "engine_limits",
    "unreachable_finding",
]

#: Chinese verdict of a column in the census table (网站普查信息统计表).
_CENSUS_VERDICT = {
    "fresh": "合格",
    "review": "合格",
    "warning": "预警",
    "stale": "不合格",
    "blank": "不合格",
    "unknown": "未检测",
}


@dataclass(frozen=True, slots=True)
class ColumnTarget:
    """A column to audit, from the config (``source="config"``) or found by discovery."""

    name: str
    url: str
    type: str
    top_level: bool = False
    unit: str | None = None
    item_selector: str | None = None
    date_selector: str | None = None
    limit_days: int | None = None
    source: str = "config"

    @property
    def key(self) -> str:
        """Identity of the column (its normalised list-page URL)."""
        return column_key(self.url)


@dataclass(slots=True)
class ColumnResult:
    """One audited column: what was seen and how the engine judged it."""

    target: ColumnTarget
    verdict: ColumnVerdict
    items_on_page: int = 0
    items_week: int = 0
    items_month: int = 0
    dated_from_article: bool = False
    error: str | None = None
    #: Set when the newest article shows one publication date and its PubDate meta another.
    date_conflict: dict[str, str] | None = None


class PageFetcher:
    """Fetch HTML pages for the column audit: decoded text, or a Chinese reason why not.

    A "page not found" page answered with HTTP 200 (软404, recognised with ``links.soft_404_patterns``)
    is a failure too: a deleted column must be "unknown", never a blank column.
    """

    def __init__(self, fetcher: Fetcher, config: Config) -> None:
        self.fetcher = fetcher
        self.timeout = config.crawl.timeout_seconds
        self.soft404 = tuple(re.compile(p, re.IGNORECASE) for p in config.links.soft_404_patterns)
        self._cache: dict[str, tuple[str | None, str, str | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, url: str) -> tuple[str | None, str, str | None]:
        """``(html or None, final_url, reason or None)``; each URL is fetched once per run."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url not in self._cache:
                self._cache[url] = await self._fetch(url)
            return self._cache[url]

    async def _fetch(self, url: str) -> tuple[str | None, str, str | None]:
        result = await self.fetcher.fetch(url)
        if not result.ok:
            kind = result.error or ErrorKind.HTTP
            return None, url, failure_reason_zh(kind, result, result.detail, self.timeout)
        final = result.final_url or url
        if not result.is_html:
            return None, final, f"返回的不是网页（{result.content_type or '未知类型'}）"
        text, encoding = decode_body(result.body or b"", result.content_type_header)
        page = Page(url, final, result.status or 200, 0, text, encoding)
        for pattern in self.soft404:
            if pattern.search(page.title):
                return None, final, f"页面不存在（软404，标题为“{page.title[:40]}”）"
        visible = page.visible_text()
        if len(visible) <= 1200:
            for pattern in self.soft404:
                m = pattern.search(visible)
                if m:
                    return None, final, f"页面不存在（软404，页面内容含“{m.group(0)}”）"
        return text, final, None


def engine_limits(options: Columns, targets: Sequence[ColumnTarget]) -> ColumnLimits:
    """The engine's windows from the config, with per-column overrides keyed by column URL."""
    lim = options.limits
    return ColumnLimits(
        dynamic_days=lim.dynamic_days,
        dynamic_warn_days=lim.dynamic_warn_days,
        notice_months=lim.notice_months,
        notice_warn_months=lim.notice_warn_months,
        yearly_months=lim.yearly_months,
        yearly_warn_months=lim.yearly_warn_months,
        review_months=lim.review_months,
        overrides={t.url: t.limit_days for t in targets if t.limit_days is not None},
    )


def _counts(facts: PageFacts, today: date) -> tuple[int, int]:
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    dated = [i.date for i in facts.items if i.date is not None and i.date <= today]
    return sum(1 for d in dated if d >= week_start), sum(1 for d in dated if d >= month_start)


async def observe_column(
    target: ColumnTarget,
    fetch: PageFetcher,
    today: date,
    limits: ColumnLimits,
    facts: PageFacts | None = None,
) -> ColumnResult:
    """Fetch (unless ``facts`` are given), date and judge one column.

    Page 1 decides: only the first list page is read. A list without any date is dated from its newest
    item's article page (PubDate meta, 发布时间 label…); when that article cannot be fetched the column is
    unknown (no evidence either way), when it carries no date either the column is undated.
    """
    error = None
    if facts is None:
        html, final, error = await fetch(target.url)
        if html is not None:
            facts = page_facts(html, final, today, target.item_selector, target.date_selector)
    base: ColumnIdentity = {
        "name": target.name,
        "url": target.url,
        "type": target.type,
        "top_level": target.top_level,
        "unit": target.unit or "",
    }
    if facts is not None and facts.script_list and not facts.says_empty:
        facts, error = None, SCRIPT_LIST_REASON
    if facts is None:
        obs = ColumnObservation(**base, error=error or "无法访问")
        return ColumnResult(target, evaluate_column(obs, today, limits), error=error)
    latest = latest_title = latest_url = None
    from_article = False
    conflict = None
    if facts.items and all(i.date is None for i in facts.items):
        newest = next((i for i in facts.items if not i.pinned), facts.items[0])
        html, _final, error = await fetch(newest.url)
        if html is None:
            obs = ColumnObservation(**base, items=facts.items, error=f"最新一条信息《{newest.title}》{error}")
            return ColumnResult(target, evaluate_column(obs, today, limits), len(facts.items), error=error)
        dating = article_dating(html, today)
        found = dating.date
        if dating.disagree and dating.visible is not None and dating.meta is not None:
            conflict = {"visible": dating.visible.isoformat(), "meta": dating.meta.isoformat()}
        if found is not None and found <= today:
            latest, latest_title, latest_url, from_article = found, newest.title, newest.url, True
    obs = ColumnObservation(
        **base, items=facts.items, latest=latest, latest_title=latest_title, latest_url=latest_url
    )
    week, month = _counts(facts, today)
    if from_article and latest is not None:
        week = int(latest >= today - timedelta(days=today.weekday()))
        month = int(latest >= today.replace(day=1))
    return ColumnResult(
        target,
        evaluate_column(obs, today, limits),
        items_on_page=len(facts.items),
        items_week=week,
        items_month=month,
        dated_from_article=from_article,
        date_conflict=conflict,
    )


async def audit_columns(
    targets: Sequence[ColumnTarget],
    fetch: PageFetcher,
    today: date,
    limits: ColumnLimits,
    *,
    concurrency: int = 4,
    facts: dict[str, PageFacts] | None = None,
) -> list[ColumnResult]:
    """Observe and judge every target (at most ``concurrency`` at a time), in target order."""
    sem = asyncio.Semaphore(concurrency)
    known = facts or {}

    async def one(t: ColumnTarget) -> ColumnResult:
        async with sem:
            return await observe_column(t, fetch, today, limits, known.get(t.key))

    return list(await asyncio.gather(*(one(t) for t in targets)))


# -------------------------------------------------------------------------------------------- findings

_KINDS = {
    "stale": ("column_stale", Severity.DEDUCTION),
    "warning": ("column_warning", Severity.WARNING),
    "blank": ("column_blank", Severity.DEDUCTION),
    "review": ("column_review", Severity.INFO),
}


def _latest_note(v: ColumnVerdict) -> str:
    if v.latest_title and v.latest_url:
        return f"；最新一条：《{v.latest_title[:60]}》{v.latest_url}"
    return ""


def _conflict_note(r: ColumnResult) -> str:
    """Say so when the article's visible date and its PubDate meta disagree (the visible one is used)."""
    c = r.date_conflict
    if not c:
        return ""
    shown, meta = date.fromisoformat(c["visible"]), date.fromisoformat(c["meta"])
    return (
        f"（注意：该信息页面显示发布时间为{format_date_zh(shown)}，PubDate元数据为{format_date_zh(meta)}，"
        "二者不一致，已按页面显示时间判断）"
    )


def _evidence(r: ColumnResult) -> dict[str, Any]:
    v = r.verdict
    return {
        "column": v.name,
        "unit": v.unit or None,
        "type": v.type,
        "type_zh": TYPE_LABELS.get(v.type, "其他类"),
        "top_level": v.top_level,
        "status": v.status,
        "last_update": v.latest.isoformat() if v.latest else None,
        "days_since": v.days_since,
        "limit_days": v.limit_days,
        "warn_days": v.warn_days,
        "latest_title": v.latest_title,
        "latest_url": v.latest_url,
        "items_on_page": r.items_on_page,
        "dated_from_article": r.dated_from_article,
        "date_conflict": r.date_conflict,
        "counts_stale": v.counts_stale,
        "counts_overdue": v.counts_overdue,
        "counts_blank": v.counts_blank,
        "recommend_review": v.recommend_review,
        "source": r.target.source,
    }


def unreachable_finding(
    duty: str, site: str, what: str, url: str, reason: str, unit: str | None, identity: str | None = None
) -> Finding:
    """监测源异常: a page the audit needs could not be read; it is reported, never judged."""
    return Finding(
        duty=duty,
        kind="source_unreachable",
        severity=Severity.INFO,
        site=site,
        identity=identity or column_key(url),
        url=url,
        unit=unit,
        message=f"监测源异常：{what}无法读取（{reason}），本次未检测、未计入统计，请人工核查",
        evidence={"reason": reason},
    )


#: Failures of the host rather than of one page: when several pages of one host fail like this, the site
#: cannot be reached and is reported once, not once per column.
HOST_DOWN_REASONS = ("域名无法解析", "服务器拒绝连接", "连接超时", "HTTPS证书或加密连接错误")


def collapse_unreachable_hosts(findings: list[Finding]) -> list[Finding]:
    """One 监测源异常 per unreachable host: pages of a host that failed for a host-level reason (DNS,
    refused, timeout, TLS) — two or more of them — become one finding naming the host and how many pages
    went unchecked. Page-level failures (HTTP 404 on one column) stay one finding each."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        reason = str((f.evidence or {}).get("reason", ""))
        if f.kind != "source_unreachable" or not reason.startswith(HOST_DOWN_REASONS):
            continue
        host = host_of_link(f.url)
        groups.setdefault((f.duty, f.site, host), []).append(f)
    merged: dict[int, Finding] = {}
    dropped: set[int] = set()
    for (duty, site, host), group in groups.items():
        if len(group) < 2 or not host:
            continue
        first = min(group, key=lambda f: (len(f.url), f.url))  # the homepage when it is among them
        reason = str(first.evidence.get("reason", ""))
        merged[id(first)] = Finding(
            duty=duty,
            kind="source_unreachable",
            severity=Severity.INFO,
            site=site,
            identity=f"host:{host}",
            url=first.url,
            unit=first.unit,
            message=(
                f"监测源异常：网站{host}无法访问（{reason}），{len(group)}个页面（首页、栏目）本次均未检测、"
                "未计入统计，请人工核查"
            ),
            evidence={"reason": reason, "pages": len(group), "urls": sorted(f.url for f in group)[:20]},
        )
        dropped.update(id(f) for f in group if f is not first)
    return [merged.get(id(f), f) for f in findings if id(f) not in dropped]


def column_findings(duty: str, site: str, results: Sequence[ColumnResult]) -> list[Finding]:
    """One finding per column that is not fine; identity = the column's URL."""
    out = []
    for r in results:
        v = r.verdict
        unit = v.unit or None
        if v.status == "unknown":
            out.append(
                unreachable_finding(
                    duty, site, f"{v.label}栏目", v.url, r.error or "无法访问", unit, r.target.key
                )
            )
            continue
        if v.status == "undated":
            if v.severity != "serious":
                continue  # no update duty: nothing to report
            kind, severity = "column_undated", Severity.DEDUCTION
        elif v.status == "fresh" and v.days_since is not None and v.days_since < 0:
            kind, severity = "column_future_date", Severity.INFO
        elif v.status in _KINDS:
            kind, severity = _KINDS[v.status]
        else:
            continue
        type_note = "" if "类" in v.message_zh else f"（{TYPE_LABELS.get(v.type, '其他类')}栏目）"
        out.append(
            Finding(
                duty=duty,
                kind=kind,
                severity=severity,
                site=site,
                identity=r.target.key,
                url=v.url,
                unit=unit,
                message=v.message_zh + type_note + _latest_note(v) + _conflict_note(r),
                evidence=_evidence(r),
            )
        )
    return out


def census_row(r: ColumnResult) -> ColumnCensusRow:
    """One row of the 网站普查信息统计表 (every column, fine or not)."""
    v = r.verdict
    verdict = _CENSUS_VERDICT.get(v.status, "合格")
    if v.status == "undated":
        verdict = "不合格" if v.severity == "serious" else "预警"
    return ColumnCensusRow(
        name=v.name,
        url=v.url,
        unit=v.unit or None,
        type=v.type,
        type_zh=TYPE_LABELS.get(v.type, "其他类"),
        top_level=v.top_level,
        last_update=v.latest.isoformat() if v.latest else None,
        last_update_zh=format_date_zh(v.latest) if v.latest else None,
        days_since=v.days_since,
        items_on_page=r.items_on_page,
        items_week=r.items_week,
        items_month=r.items_month,
        status=v.status,
        verdict=verdict,
        message=v.message_zh,
        latest_title=v.latest_title,
        latest_url=v.latest_url,
        source=r.target.source,
    )


@dataclass
class Tally:
    """Per-status column counts (for run counts and per-unit summaries)."""

    columns: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, r: ColumnResult) -> None:
        """Count one column."""
        self.columns += 1
        self.by_status[r.verdict.status] = self.by_status.get(r.verdict.status, 0) + 1

    def figures(self) -> StatusTally:
        """The run report's form (``column_status`` and each unit's row)."""
        return StatusTally(self.columns, dict(sorted(self.by_status.items())))
