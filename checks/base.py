"""What every check gets and gives.

A page check sees each crawled page once (``on_page``, and the optional async ``visit`` when it must fetch
what the page needs while the page is still in memory) and turns what it saw, plus the crawl report, into
findings (``finish``). It never reads raw config, never opens its own HTTP session and never writes SQL:
what it must remember from run to run goes through ``ctx.memory``, which the runner saves.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from yarl import URL

from monitor.config import Config, Site, Unit
from monitor.core.clock import Clock
from monitor.core.findings import Finding
from monitor.core.posts import Post
from monitor.core.report import CheckReport
from monitor.core.urls import origin_of

if TYPE_CHECKING:
    from monitor.crawl.analysis import AnalysisRequest
    from monitor.crawl.crawler import CrawlReport
    from monitor.store.database import Probe, Store
    from monitor.web.fetch import Fetcher, FetchResult
    from monitor.web.page import Page


class UnitResolver:
    """Which unit (县直部门/乡镇) owns a URL: the longest matching path prefix on the site."""

    def __init__(self, site: Site, units: tuple[Unit, ...]) -> None:
        self._origins = frozenset(site.crawl_origins)
        self._prefixes = sorted(
            ((p, u.name) for u in units for p in u.paths), key=lambda pair: len(pair[0]), reverse=True
        )
        self.site_unit = site.unit

    def unit_for(self, url: str) -> str | None:
        """The owning unit's name, the site's own unit, or None."""
        try:
            u = URL(url)
        except ValueError:
            return self.site_unit
        if origin_of(url) in self._origins:
            for prefix, name in self._prefixes:
                if u.path.startswith(prefix):
                    return name
        return self.site_unit


class SiteMemory:
    """Small JSON records a check keeps per site from run to run (e.g. the homepage's head signature).

    Reads see the records as they were when the run started; writes are buffered and saved by the runner
    only when the run ends ``ok``, so a failed or interrupted run never moves a baseline.
    """

    def __init__(self, records: Mapping[str, Any] | None = None) -> None:
        self._records = dict(records or {})
        self.pending: dict[str, Any] = {}

    def get(self, kind: str) -> Any | None:
        """The record saved under ``kind`` by an earlier run, or None."""
        return self._records.get(kind)

    def put(self, kind: str, data: Any) -> None:
        """Save ``data`` (JSON-able) under ``kind`` when this run succeeds."""
        self.pending[kind] = data


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may use."""

    site: Site
    config: Config
    clock: Clock
    units: UnitResolver
    log: logging.Logger
    #: The run's store, for duties that keep history of their own (availability probes, new-media posts);
    #: read through its methods only, never SQL. None when a check runs without a store (pure-part tests).
    store: Store | None = None
    memory: SiteMemory = field(default_factory=SiteMemory)


class PageCheck(ABC):
    """A check fed by the shared site crawl."""

    name: ClassVar[str]
    #: The crawl must check every link (not only fetch pages) when this check runs.
    needs_link_checks: ClassVar[bool] = False

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    def on_page(self, page: Page) -> None:  # noqa: B027 - optional hook
        """See one crawled page (its body is released right after every check has seen it)."""

    #: ``visit`` may hand back an :class:`~monitor.crawl.analysis.AnalysisRequest` (the runner then starts
    #: analysis workers for the run, see ``crawl.analysis_workers``).
    analyses_pages: ClassVar[bool] = False

    async def visit(self, page: Page, fetcher: Fetcher) -> AnalysisRequest | None:
        """Optional async companion of ``on_page``: fetch what the page needs (stylesheets, a second copy)
        while it is still in memory. Awaited by the crawl worker before the page is released, so memory
        stays bounded by the number of workers instead of growing with the site.

        May return the CPU-heavy, pure part of the check as an analysis request: the runner has it run
        off the event loop (in a worker process) and hands the result to the request's callback."""
        return None

    def on_link_checked(self, url: str, result: FetchResult) -> None:  # noqa: B027 - optional hook
        """See the crawl's fetch of a link target it checked but did not crawl (external pages…)."""

    @abstractmethod
    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """Turn what was seen into findings."""

    def report_part(self) -> CheckReport:
        """This check's part of the run report (figures, indicator statuses, census rows), asked once
        after ``finish``; the runner assembles the parts into the run's
        :class:`~monitor.core.report.RunReport`."""
        return CheckReport()

    def observed_all(self) -> bool:
        """False when the check could not see everything it judges (a stylesheet or a second fetch
        failed): then only findings for which ``cleared`` is true are resolved, even after a complete
        crawl."""
        return True

    def cleared(self, report: CrawlReport, identity: str) -> bool:
        """Whether an open finding with this identity is known fixed even if the crawl was partial."""
        return False


@dataclass
class CheckOutcome:
    """What a site-level check observed and concluded in one run.

    ``complete``: it observed everything it is responsible for, so an open finding it did not report is
    fixed. When incomplete, only findings for which ``cleared(identity)`` is true are resolved.
    ``report``: figures, indicator statuses and census rows (the runner adds it to the run report).
    ``failed``: why the duty could not do its job (the run is recorded as failed; nothing is resolved).
    ``skipped``: why the duty had nothing to do (e.g. no accounts configured): recorded as ``skipped``,
    neither a failure nor data.
    ``posts``: new-media posts observed, stored by the runner (a check never writes to the store).
    ``probes``: availability probes taken, stored by the runner when the run ends, even a failed one
    (observations; an offline round's probes are flagged and left out of every ratio).
    ``target_states``: the targets' new up/down state rows, saved by the runner only when the run
    succeeds, so a failed run moves no state.
    """

    findings: list[Finding] = field(default_factory=list)
    report: CheckReport = field(default_factory=CheckReport)
    complete: bool = True
    failed: str | None = None
    skipped: str | None = None
    cleared: Callable[[str], bool] | None = None
    posts: list[Post] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    target_states: list[dict[str, Any]] = field(default_factory=list)


class SiteCheck(ABC):
    """A duty that is not fed by the crawl (columns, new-media, availability…): observe, then evaluate.

    ``scope = "site"`` runs once per configured site (``ctx.site`` is that site); ``scope = "global"``
    runs once per config (``ctx.site`` is a pseudo-site whose id names the duty, e.g. new-media accounts).
    """

    name: ClassVar[str]
    scope: ClassVar[Literal["site", "global"]] = "site"
    #: Judges the site's own pages (columns, units, identity): the run passes the sanity gate
    #: (monitor.crawl.credibility) on the pages it fetched before it may resolve or record anything.
    judges_site_content: ClassVar[bool] = False

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    @abstractmethod
    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Observe (I/O through ``fetcher``) and evaluate (pure) into an outcome."""
