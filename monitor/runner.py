"""The one code path every duty takes, whether started by the CLI or by the daemon.

``run_duty`` records a run, does the work, and applies the findings to the store in one transaction.
A crawl duty (``links``, ``patrol``) crawls each site once and feeds every page check it switches on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from checks import (
    PAGE_CHECKS,
    SITE_CHECKS,
    CheckContext,
    PageCheck,
    SiteCheck,
    SiteMemory,
    UnitResolver,
)
from checks.links.policy import DeadLinkPolicy
from monitor.config import Config, Site, adhoc_config
from monitor.core.clock import Clock
from monitor.core.duties import crawl_duties, duty_names
from monitor.core.findings import Finding
from monitor.core.report import RunReport
from monitor.crawl.analysis import AnalysisPool, AnalysisRequest
from monitor.crawl.crawler import CrawlReport, SiteCrawler, Target
from monitor.crawl.credibility import SampledFetcher, SiteSample, Verdict, history_from_runs, judge
from monitor.crawl.progress import Progress
from monitor.store.database import Resolution, RunOutcome, Store
from monitor.web.egress import EgressPolicy
from monitor.web.fetch import Fetcher, FetchResult
from monitor.web.page import Page

log = logging.getLogger(__name__)


class DutyError(Exception):
    """A duty cannot be started as asked (unknown duty, no sites configured…)."""


@dataclass
class SiteRunResult:
    """What one run of a duty on one site did."""

    run_id: int
    duty: str
    site: Site
    status: str
    report: RunReport = field(default_factory=RunReport)
    outcome: RunOutcome = field(default_factory=RunOutcome)
    open_findings: int = 0
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, Any]:
        """The report's stored JSON form, as ``monitor status --json`` exports it (read-only). Code that
        shows a run reads ``report``'s typed fields instead."""
        return self.report.as_json()


def sites_for(config: Config, url: str | None) -> tuple[Config, list[Site]]:
    """The sites a duty runs on: the configured ones, or one ad hoc site for ``url``."""
    if url:
        config, site = adhoc_config(url, config)
        return config, [site]
    if not config.sites:
        raise DutyError("no sites configured: give a URL (monitor run links URL) or add sites to config.yaml")
    return config, list(config.sites)


async def run_duty(
    duty: str,
    config: Config,
    store: Store,
    clock: Clock,
    *,
    url: str | None = None,
    site_ids: Collection[str] | None = None,
    progress: Callable[[], Progress] = Progress,
) -> list[SiteRunResult]:
    """Run a duty on every configured site (or on ``url`` alone, or on the sites ``site_ids`` names: one
    task of the queue, ``monitor.app.worker``) and record the results."""
    duties = crawl_duties()
    if duty not in duties and duty not in SITE_CHECKS:
        raise DutyError(f"unknown duty {duty!r}; known: {', '.join(duty_names())}")
    if duty in SITE_CHECKS and SITE_CHECKS[duty].scope == "global":
        if url:
            raise DutyError(f"{duty} does not take a URL")
        pseudo = Site(id=duty, name=duty, homepage="http://localhost/")
        return [await run_site_check(SITE_CHECKS[duty], pseudo, config, store, clock, progress())]
    config, sites = sites_for(config, url)
    if site_ids is not None:
        unknown = set(site_ids) - {s.id for s in sites}
        if unknown:
            raise DutyError(f"no site with id {', '.join(sorted(unknown))} in the configuration")
        sites = [s for s in sites if s.id in site_ids]
    results = []
    for site in sites:
        if duty in SITE_CHECKS:
            results.append(await run_site_check(SITE_CHECKS[duty], site, config, store, clock, progress()))
        else:
            results.append(await run_site_crawl(duty, duties[duty], site, config, store, clock, progress()))
    return results


def check_context(
    duty: str, site: Site, config: Config, clock: Clock, store: Store | None = None
) -> CheckContext:
    """The context a check of ``duty`` gets for ``site`` (and the site's saved records from ``store``)."""
    return CheckContext(
        site=site,
        config=config,
        clock=clock,
        units=UnitResolver(site, config.units_of(site.id)),
        log=logging.getLogger(f"checks.{duty}"),
        store=store,
        memory=SiteMemory(store.signatures(site.id) if store is not None else None),
    )


async def _watch_requests(fetcher: Fetcher, progress: Progress, every: float = 0.25) -> None:
    """Report a site-level duty's request count while it works (a check has no crawl counters)."""
    started = time.monotonic()
    while True:
        progress.activity(requests=fetcher.requests, elapsed=time.monotonic() - started)
        await asyncio.sleep(every)


def gate_run(
    store: Store, duty: str, site: Site, run_id: int, sample: SiteSample, report: RunReport
) -> Verdict:
    """The sanity gate (monitor.crawl.credibility) on a run that ended ``ok``: its figures against the
    site's recent runs of the duty, kept in the run ``report`` with the verdict."""
    history = history_from_runs(r for r in store.runs(duty, site.id, limit=12) if r["id"] != run_id)
    figures = sample.figures()
    verdict = judge(figures, history)
    report.credibility = figures
    if verdict.degraded:
        report.degraded_reason = verdict.reason
        report.degraded_rules = verdict.rules
        log.warning("run %d (%s on %s) degraded, nothing resolved: %s", run_id, duty, site.id, verdict.reason)
    elif verdict.note:
        report.credibility_note = verdict.note
    return verdict


async def run_site_check(
    check_class: type[SiteCheck],
    site: Site,
    config: Config,
    store: Store,
    clock: Clock,
    progress: Progress | None = None,
) -> SiteRunResult:
    """Run one site-level check on one site (or once, for global checks) and record the run."""
    duty = check_class.name
    run_id = store.start_run(duty, site.id, (duty,), clock.now())
    ctx = check_context(duty, site, config, clock, store)
    check = check_class(ctx)
    sample = SiteSample(homepage=site.homepage)
    gated = check_class.judges_site_content and check_class.scope == "site"
    progress = progress or Progress()
    progress.start(duty if site.id == duty else f"{duty} · {site.name}")
    try:
        egress = EgressPolicy.for_config(config, site)
        fetcher_cm = (
            SampledFetcher(config.crawl, sample, site, egress=egress)
            if gated
            else Fetcher(config.crawl, egress=egress)
        )
        async with fetcher_cm as fetcher:
            watcher = asyncio.create_task(_watch_requests(fetcher, progress))
            try:
                outcome = await check.run(fetcher)
            finally:
                watcher.cancel()
                progress.stop()
    except (asyncio.CancelledError, KeyboardInterrupt):
        store.mark_interrupted(run_id, clock.now())
        raise
    except Exception as exc:
        log.exception("run %d (%s on %s) failed", run_id, duty, site.id)
        store.finish_run(run_id, status="failed", now=clock.now(), error=f"{type(exc).__name__}: {exc}")
        return SiteRunResult(run_id, duty, site, "failed", error=str(exc))
    status = "failed" if outcome.failed else "skipped" if outcome.skipped else "ok"
    report = RunReport(findings=len(outcome.findings), complete=outcome.complete)
    report.add(outcome.report)
    if outcome.skipped:
        report.skipped_reason = outcome.skipped
    findings, error = outcome.findings, outcome.failed
    if status == "ok" and gated and gate_run(store, duty, site, run_id, sample, report).degraded:
        # A maintenance or firewall night: what its pages "show" is not the site's state.
        status, error = "degraded", report.degraded_reason
        report.findings_withheld, report.findings, findings = len(findings), 0, []
    if outcome.posts:
        # Observations, not conclusions: kept even when the run fails, so history never has gaps.
        report.posts_new = store.save_posts(outcome.posts, clock.now())
    if outcome.probes:
        store.add_probes(outcome.probes)  # observations too (an offline round's are flagged as such)
    result = store.finish_run(
        run_id,
        status=status,
        now=clock.now(),
        findings=findings,
        report=report,
        resolution=Resolution(
            (duty,),
            None if outcome.complete else (outcome.cleared or (lambda _: False)),
            partial_pages=frozenset(sample.truncated),
            whole_pages=sample.whole_pages,
        ),
        complete=outcome.complete,
        error=error,
    )
    if status == "ok" and ctx.memory.pending:
        store.put_signatures(site.id, ctx.memory.pending, clock.now())
    if status == "ok" and outcome.target_states:
        store.save_target_states(outcome.target_states)
    return SiteRunResult(
        run_id,
        duty,
        site,
        status,
        report=report,
        outcome=result,
        open_findings=store.count_open(site.id, (duty,)),
        error=error,
        findings=findings,
    )


async def run_site_crawl(
    duty: str,
    check_names: tuple[str, ...],
    site: Site,
    config: Config,
    store: Store,
    clock: Clock,
    progress: Progress,
) -> SiteRunResult:
    """Crawl one site once with the named page checks, and record the run."""
    run_id = store.start_run(duty, site.id, check_names, clock.now())
    ctx = check_context(duty, site, config, clock, store)
    try:
        # Checks prepare before the crawl (the text checks build their scanner, reading word lists).
        checks = [PAGE_CHECKS[name](ctx) for name in check_names]
    except Exception as exc:
        log.exception("run %d (%s on %s) could not start its checks", run_id, duty, site.id)
        store.finish_run(run_id, status="failed", now=clock.now(), error=f"{type(exc).__name__}: {exc}")
        return SiteRunResult(run_id, duty, site, "failed", error=str(exc))
    failed_checks: set[str] = set()
    sample = SiteSample(homepage=site.homepage)

    def failed(check: PageCheck, where: str, why: str | None = None) -> None:
        if check.name not in failed_checks:
            if why is None:
                log.exception("check %s failed on %s", check.name, where)
            else:
                log.error("check %s failed on %s: %s", check.name, where, why)
        failed_checks.add(check.name)

    async def on_page(page: Page) -> None:
        sample.add_crawled(page)  # the sanity gate's view (visible text the crawl computed already)
        # Requests with the same analyzer key are one analysis whose result goes to every check asking.
        requests: dict[str, list[tuple[PageCheck, AnalysisRequest]]] = {}
        for check in checks:
            try:
                check.on_page(page)
                request = await check.visit(page, fetcher)
            except Exception:
                failed(check, page.url)
                continue
            if request is not None:
                requests.setdefault(request.analyzer.key, []).append((check, request))
        await pool.submit_page(
            page,
            [
                (_fan_out(asking, page.url, failed), _fail_all(asking, page.url, failed))
                for asking in requests.values()
            ],
        )

    def on_checked(target: Target, result: FetchResult) -> None:
        for check in checks:
            try:
                check.on_link_checked(target.url, result)
            except Exception:
                failed(check, target.url)

    progress.start(f"{duty} · {site.name}")
    workers = config.crawl.analysis_workers if any(c.analyses_pages for c in checks) else 0
    try:
        egress = EgressPolicy.for_config(config, site)
        async with Fetcher(config.crawl, egress=egress) as fetcher, AnalysisPool(workers) as pool:
            crawler = SiteCrawler(
                site,
                config,
                fetcher,
                clock,
                policy=DeadLinkPolicy(config),
                on_page=on_page,
                on_checked=on_checked,
                check_links=any(c.needs_link_checks for c in checks),
                progress=progress,
            )
            report = await crawler.run()
            await pool.drain()  # every page's analysis is in before the checks conclude
            findings = await _collect(checks, report, fetcher, failed_checks)
    except (asyncio.CancelledError, KeyboardInterrupt):
        store.mark_interrupted(run_id, clock.now())
        raise
    except Exception as exc:
        log.exception("run %d (%s on %s) failed", run_id, duty, site.id)
        store.finish_run(run_id, status="failed", now=clock.now(), error=f"{type(exc).__name__}: {exc}")
        return SiteRunResult(run_id, duty, site, "failed", error=str(exc))
    finally:
        progress.stop()

    status = "failed" if report.unreachable is not None else "ok"
    for target in report.failures:
        if target.internal and target.crawl:
            answered = target.result.status if target.result is not None else None
            sample.add_failure(target.url, answered, target.failure)
    run_report = RunReport(crawl=report.figures(), complete=report.complete)
    for check in checks:
        if check.name not in failed_checks:
            try:
                run_report.add(check.report_part())
            except Exception:
                log.exception("check %s failed while counting", check.name)
                failed_checks.add(check.name)
    resolvable = tuple(c.name for c in checks if c.name not in failed_checks)
    cleared = None
    if not report.complete:
        cleared = lambda identity: any(c.cleared(report, identity) for c in checks)  # noqa: E731
    # A check that could not observe everything (a stylesheet or a second fetch failed) resolves only
    # what it positively saw fixed, even after a complete crawl.
    cleared_for = {
        c.name: (lambda identity, c=c: c.cleared(report, identity))
        for c in checks
        if c.name in resolvable and not c.observed_all()
    }
    error = "site unreachable" if report.unreachable is not None else None
    if status == "ok" and gate_run(store, duty, site, run_id, sample, run_report).degraded:
        # A maintenance, firewall or partial night: resolve nothing, record nothing it "found".
        status, error = "degraded", run_report.degraded_reason
        run_report.findings_withheld, findings = len(findings), []
    run_report.findings = len(findings)
    run_report.check_errors = tuple(sorted(failed_checks))
    partial = frozenset(sample.truncated)
    outcome = store.finish_run(
        run_id,
        status=status,
        now=clock.now(),
        findings=findings,
        report=run_report,
        resolution=Resolution(resolvable, cleared, cleared_for, partial, sample.whole_pages)
        if resolvable
        else None,
        complete=report.complete,
        error=error,
    )
    if status == "ok" and not failed_checks and ctx.memory.pending:
        # A baseline moves only after a run in which every check did its whole job.
        store.put_signatures(site.id, ctx.memory.pending, clock.now())
    return SiteRunResult(
        run_id,
        duty,
        site,
        status,
        report=run_report,
        outcome=outcome,
        open_findings=store.count_open(site.id, check_names),
        error=error,
        findings=findings,
    )


def _fan_out(
    asking: list[tuple[PageCheck, AnalysisRequest]], where: str, failed: Callable[..., None]
) -> AnalysisRequest:
    """One request for the checks sharing an analysis: its result goes to each of their callbacks."""

    def deliver(result: Any) -> None:
        for check, request in asking:
            try:
                request.on_result(result)
            except Exception:
                failed(check, where)

    first = asking[0][1]
    return AnalysisRequest(first.analyzer, deliver, first.inputs, first.shared)


def _fail_all(
    asking: list[tuple[PageCheck, AnalysisRequest]], where: str, failed: Callable[..., None]
) -> Callable[[str], None]:
    def fail(why: str) -> None:
        for check, _ in asking:
            failed(check, where, why)

    return fail


async def _collect(
    checks: list[PageCheck], report: CrawlReport, fetcher: Fetcher, failed: set[str]
) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(await check.finish(report, fetcher))
        except Exception:
            log.exception("check %s failed while finishing", check.name)
            failed.add(check.name)
    return findings
