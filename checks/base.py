"""What every check gets and gives.

A page check sees each crawled page once (``on_page``) and turns what it saw, plus the crawl report, into
findings (``finish``). It never reads raw config, never opens its own HTTP session and never writes SQL.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from yarl import URL

from monitor.clock import Clock
from monitor.config import Config, Site, Unit
from monitor.findings import Finding

if TYPE_CHECKING:
    from monitor.crawl import CrawlReport
    from monitor.fetch import Fetcher
    from monitor.page import Page


class UnitResolver:
    """Which unit (县直部门/乡镇) owns a URL: the longest matching path prefix on the site."""

    def __init__(self, site: Site, units: tuple[Unit, ...]) -> None:
        hosts = set(site.crawl_hosts)
        self._hosts = hosts
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
        if (u.host or "") in self._hosts:
            for prefix, name in self._prefixes:
                if u.path.startswith(prefix):
                    return name
        return self.site_unit


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may use."""

    site: Site
    config: Config
    clock: Clock
    units: UnitResolver
    log: logging.Logger


class PageCheck(ABC):
    """A check fed by the shared site crawl."""

    name: ClassVar[str]
    #: The crawl must check every link (not only fetch pages) when this check runs.
    needs_link_checks: ClassVar[bool] = False

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    def on_page(self, page: Page) -> None:  # noqa: B027 - optional hook
        """See one crawled page (its body is released right after every check has seen it)."""

    @abstractmethod
    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """Turn what was seen into findings."""

    def cleared(self, report: CrawlReport, identity: str) -> bool:
        """Whether an open finding with this identity is known fixed even if the crawl was partial."""
        return False

    def counts(self) -> dict[str, Any]:
        """Figures this check measured, merged into the run's counts after ``finish`` (``indicators``
        lists are concatenated across checks, other keys set)."""
        return {}


@dataclass
class CheckOutcome:
    """What a site-level check observed and concluded in one run.

    ``complete``: it observed everything it is responsible for, so an open finding it did not report is
    fixed. When incomplete, only findings for which ``cleared(identity)`` is true are resolved.
    ``failed``: why the duty could not do its job (the run is recorded as failed; nothing is resolved).
    """

    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    failed: str | None = None
    cleared: Callable[[str], bool] | None = None


class SiteCheck(ABC):
    """A duty that is not fed by the crawl (columns, new-media, availability…): observe, then evaluate.

    ``scope = "site"`` runs once per configured site (``ctx.site`` is that site); ``scope = "global"``
    runs once per config (``ctx.site`` is a pseudo-site whose id names the duty, e.g. new-media accounts).
    """

    name: ClassVar[str]
    scope: ClassVar[Literal["site", "global"]] = "site"

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    @abstractmethod
    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Observe (I/O through ``fetcher``) and evaluate (pure) into an outcome."""
