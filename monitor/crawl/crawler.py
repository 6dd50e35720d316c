"""One crawl of a site, feeding every page check and checking every distinct link once.

The data flow, in order:

1. The homepage (and the URLs of ``/sitemap.xml`` when present) are queued as pages.
2. Queued targets wait in one lane per host (:class:`~monitor.crawl.hostqueue.HostQueue`) and start when
   their host has room, so a slow host never holds up the others; each is fetched through the shared
   :class:`~monitor.web.fetch.Fetcher`. An in-scope HTML page
   is decoded, parsed once, handed to every page check (``on_page``, awaited when it is a coroutine: a
   check may fetch what the page needs — its stylesheets — while the page is still in memory), and its
   links are registered. Only then is the page released, so memory stays bounded by the number of targets
   in progress (``crawl.concurrency``).
3. Registering a link dedupes it by normalised URL. New in-scope navigational links become pages to crawl
   (subject to depth, page and trap limits); everything else becomes a target to check only (HEAD for
   resources, a capped GET for external pages so soft 404s show) — when the link check is on. Every
   checked target's result is shown to ``on_checked`` (the dark-link check scans external pages there,
   so it never fetches them a second time).
4. What a fetch outcome means — a failure, a soft 404, when to ask again, a site that is down — is not
   the crawl's decision: it asks the :class:`FailurePolicy` it is given (the dead-link policy,
   :mod:`checks.links.policy`, handed over by the runner: the crawl layer never imports the checks).
   A target that checks fine forgets its source pages; a failing one keeps them all (父页面).
5. Every failure is fetched again (the confirmation pass; it runs alongside the crawl, so the crawl's tail
   is not one long pause), when the policy says. Only failures seen twice are reported, so a transient
   error never becomes a finding. Checked-only links get no in-line retries for a 5xx, a timeout or a
   429, since this pass re-checks them anyway (a 429 not before its Retry-After).
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import inspect
import logging
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lxml import etree
from yarl import URL

from monitor.config import Config, Site
from monitor.core.clock import Clock
from monitor.core.report import CrawlFigures
from monitor.core.urls import (
    InvalidURL,
    ScopeRules,
    TrapDetector,
    host_of,
    looks_like_resource,
    normalize,
    origin_of,
)
from monitor.crawl.hostqueue import HostQueue, HostTurn
from monitor.crawl.looplag import LoopLag
from monitor.crawl.progress import Progress
from monitor.web.cssrefs import stylesheet_references
from monitor.web.decode import decode_body
from monitor.web.fetch import NOT_REQUESTED, ErrorKind, Fetcher, FetchResult
from monitor.web.page import (
    NAVIGATION_TAGS,
    NOSCRIPT_REFRESH,
    STYLESHEET,
    Link,
    Page,
    stylesheet_links,
)

log = logging.getLogger(__name__)

# External pages are read only far enough to recognise a "page not found" page.
EXTERNAL_PAGE_BYTES = 256 * 1024
# The site's own stylesheets are read whole up to this size (a bundled framework is a few hundred KB).
STYLESHEET_BYTES = 4 * 1024 * 1024
MAX_SOURCES_WITH_TEXT = 200


@dataclass(slots=True)  # slots: a big site keeps tens of thousands of these queued at once
class Target:
    """A distinct URL found during the crawl, with where it was found."""

    url: str
    internal: bool
    crawl: bool
    depth: int
    tag: str
    sources: dict[str, str] = field(default_factory=dict)
    source_count: int = 0
    result: FetchResult | None = None
    failure: ErrorKind | None = None
    detail: str = ""

    def add_source(self, page_url: str, text: str) -> None:
        """Remember a page that links here (first anchor text per page)."""
        if page_url not in self.sources:
            self.source_count += 1
            # Interned: the same link text repeats on every page that links here; keep one copy.
            self.sources[page_url] = sys.intern(text) if len(self.sources) < MAX_SOURCES_WITH_TEXT else ""


_CHECKED_OK = object()  # replaces a Target once it checked fine: its source list is no longer needed


class FailurePolicy(Protocol):
    """What fetch outcomes mean: the crawl asks, the dead-link policy (:mod:`checks.links.policy`)
    answers. A failure is ``(error kind, detail)``."""

    #: Retries of the confirmation fetch (the second opinion) itself.
    confirm_retries: int

    def failure(self, target: Target, res: FetchResult) -> tuple[ErrorKind, str] | None:
        """The failure a fetch of ``target`` shows, or None."""
        ...

    def confirmed_failure(
        self, target: Target, res: FetchResult, before: ErrorKind | None
    ) -> tuple[ErrorKind, str] | None:
        """The failure the confirmation fetch of a failed target shows, or None (it recovered)."""
        ...

    def soft_404(self, page: Page) -> str:
        """Why a crawled HTTP 200 page is really a "not found" page ('' when it is not)."""
        ...

    def confirm_pause(self, target: Target) -> float:
        """Seconds after it was first seen that a failure is fetched again."""
        ...

    def retry_after(self, target: Target) -> float | None:
        """Seconds from now the failure's server asked us to wait (a 429's Retry-After), or None."""
        ...

    def site_down_sign(self, target: Target, failure: ErrorKind | None) -> bool:
        """This failure may mean the whole site is down (the homepage is then probed)."""
        ...


@dataclass
class CrawlReport:
    """What one crawl saw."""

    site: Site
    homepage: str
    started_at: datetime
    finished_at: datetime | None = None
    pages_crawled: int = 0
    targets_checked: int = 0
    failures: list[Target] = field(default_factory=list)
    recovered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    unreachable: FetchResult | None = None
    homepage_urls: frozenset[str] = frozenset()
    requests: int = 0
    max_host_concurrency: dict[str, int] = field(default_factory=dict)
    link_checks: bool = True
    _seen: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        """Every reachable in-scope page was crawled (no page limit hit, site reachable)."""
        incomplete = ("max_pages", "recovered_uncrawled")
        return self.unreachable is None and not any(self.skipped.get(k) for k in incomplete)

    def cleared(self, url: str) -> bool:
        """The URL was checked in this crawl and works."""
        return self._seen.get(url) is _CHECKED_OK

    def figures(self) -> CrawlFigures:
        """Summary numbers for the run report."""
        return CrawlFigures(
            pages_crawled=self.pages_crawled,
            links_checked=self.targets_checked,
            # A link into the internal network is not requested: neither broken nor working.
            broken=sum(1 for t in self.failures if t.failure != ErrorKind.PRIVATE_ADDRESS),
            private_address_links=sum(1 for t in self.failures if t.failure == ErrorKind.PRIVATE_ADDRESS),
            recovered_on_recheck=self.recovered,
            skipped=dict(self.skipped),
            skipped_examples=self.skipped_examples,
            requests=self.requests,
        )


class SiteCrawler:
    """Crawls one site. ``on_page`` is called for every parsed in-scope HTML page (and awaited when it
    returns an awaitable); ``on_checked`` sees the result of every link target checked (not crawled).
    """

    def __init__(
        self,
        site: Site,
        config: Config,
        fetcher: Fetcher,
        clock: Clock,
        *,
        policy: FailurePolicy,
        on_page: Callable[[Page], Awaitable[None] | None] = lambda page: None,
        on_checked: Callable[[Target, FetchResult], None] = lambda target, result: None,
        check_links: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.site = site
        self.config = config
        self.opts = config.crawl
        self.fetcher = fetcher
        self.clock = clock
        self.on_page = on_page
        self.on_checked = on_checked
        self.check_links = check_links
        self.progress = progress or Progress()
        self.scope = ScopeRules(
            origins=frozenset(site.crawl_origins),
            path_prefixes=site.scope.path_prefixes,
            exclude=tuple(re.compile(p) for p in site.scope.exclude),
        )
        self.ignore = tuple(re.compile(p) for p in config.links.ignore)
        self.policy = policy
        self.traps = TrapDetector(
            self.opts.max_url_length, self.opts.max_query_variants_per_path, self.opts.max_path_repeats
        )
        # One lane per host (monitor.crawl.hostqueue): a busy or slow host never holds up the others.
        self.queue: HostQueue[Target] = HostQueue(
            self._work, total=self.opts.concurrency, per_host=self.opts.per_host_concurrency
        )
        self.pages_queued = 0
        self.report: CrawlReport | None = None
        # Failures already being re-checked while the crawl goes on: id(target) -> (failure, task).
        self._early: dict[int, tuple[ErrorKind | None, asyncio.Task[bool]]] = {}

    # -- public -----------------------------------------------------------------------------------
    async def run(self) -> CrawlReport:
        """Crawl, check, confirm; return the report."""
        homepage = normalize(self.site.homepage)
        report = self.report = CrawlReport(
            site=self.site, homepage=homepage, started_at=self.clock.now(), link_checks=self.check_links
        )
        report.homepage_urls = frozenset({homepage})
        home = Target(homepage, internal=True, crawl=True, depth=0, tag="a")
        report._seen[homepage] = home
        self.pages_queued = 1
        self._enqueue(home)
        async with LoopLag():  # a no-op unless a benchmark asks for loop-lag samples
            await self._crawl(report, home, homepage)
        report.requests = self.fetcher.requests
        report.max_host_concurrency = self.fetcher.max_concurrency_seen
        report.finished_at = self.clock.now()
        self._publish()
        return report

    async def _crawl(self, report: CrawlReport, home: Target, homepage: str) -> None:
        try:
            if self.site.sitemap:
                await self._read_sitemap(homepage)
            await self.queue.join()
            if home.failure is not None:
                # Nothing was crawled: give the homepage one more chance before judging the site.
                await asyncio.sleep(self.opts.confirm_delay_seconds)
                report.failures.remove(home)
                home.failure, home.result = None, None
                self._enqueue(home)
                await self.queue.join()
            await self._confirm(report, home)
        finally:
            await self.queue.close()
            pending = [task for _, task in self._early.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # -- registration -----------------------------------------------------------------------------
    def _skip(self, reason: str, url: str) -> None:
        assert self.report is not None
        self.report.skipped[reason] += 1
        examples = self.report.skipped_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(url)

    def register(self, link: Link, page_url: str, depth: int) -> None:
        """Account for one link found on a crawled page."""
        report = self.report
        assert report is not None
        if link.skipped_scheme and link.skipped_scheme != "file":
            report.skipped[f"scheme:{link.skipped_scheme}"] += 1
            return
        if link.url is None:
            # An invalid link, or a file: link (on a public page it names a file on the author's own
            # computer: dead for every visitor). Both are findings without a request.
            if not self.check_links:
                return
            key = "invalid:" + link.raw
            known = report._seen.get(key)
            if known is None:
                known = Target(link.raw, internal=False, crawl=False, depth=depth + 1, tag=link.tag)
                if link.skipped_scheme:
                    known.failure, known.detail = ErrorKind.LOCAL_FILE, "file: URL"
                else:
                    known.failure, known.detail = ErrorKind.INVALID_URL, link.error
                report._seen[key] = known
                report.failures.append(known)
            assert isinstance(known, Target)
            known.add_source(page_url, link.text)
            return
        url = link.url
        known = report._seen.get(url)
        if known is not None:
            if isinstance(known, Target):
                known.add_source(page_url, link.text)
            return
        if any(p.search(url) for p in self.ignore):
            report._seen[url] = _CHECKED_OK
            report.skipped["ignored_by_config"] += 1
            return
        internal = self.scope.in_scope(url)
        if not internal and not self.config.links.check_external:
            report._seen[url] = _CHECKED_OK
            report.skipped["external_unchecked"] += 1
            return
        crawl = internal and link.navigational and not looks_like_resource(url)
        if internal and self.scope.excluded(url):
            report._seen[url] = _CHECKED_OK
            self._skip("excluded", url)
            return
        if crawl:
            trap = self.traps.reason(url)
            if trap is not None:
                report._seen[url] = _CHECKED_OK
                self._skip(trap, url)
                return
            if depth + 1 > self.opts.max_depth:
                crawl = False
                self._skip("max_depth", url)
            elif self.pages_queued >= self.opts.max_pages:
                report._seen[url] = _CHECKED_OK
                self._skip("max_pages", url)
                return
        if not crawl and not self.check_links:
            return
        target = Target(url, internal=internal, crawl=crawl, depth=depth + 1, tag=link.tag)
        target.add_source(page_url, link.text)
        report._seen[url] = target
        if crawl:
            self.pages_queued += 1
        self._enqueue(target)

    def _enqueue(self, target: Target) -> None:
        self.queue.put(host_of(target.url), target)

    async def _read_sitemap(self, homepage: str) -> None:
        """Queue the in-scope page URLs of /sitemap.xml (and its child sitemaps, one level)."""
        root = URL(homepage).origin()
        pending = [str(root.with_path("/sitemap.xml"))]
        for _ in range(20):
            if not pending:
                break
            sitemap_url = pending.pop(0)
            res = await self.fetcher.fetch(sitemap_url, retries=1)
            if not res.ok or not res.body:
                return
            for loc, is_index in _sitemap_locs(res.body):
                try:
                    url = normalize(loc)
                except InvalidURL:
                    continue
                if is_index:
                    if self.scope.in_scope(url) and len(pending) < 20:
                        pending.append(url)
                    continue
                if self.scope.in_scope(url):
                    self.register(Link(url, loc, "a", "sitemap.xml"), sitemap_url, 0)

    # -- work -------------------------------------------------------------------------------------
    async def _work(self, target: Target, turn: HostTurn) -> None:
        try:
            await self._process(target, turn)
        except Exception:  # a check or a page must never kill the crawl
            log.exception("error while processing %s", target.url)
        finally:
            self._publish()

    async def _process(self, target: Target, turn: HostTurn) -> None:
        report = self.report
        assert report is not None
        if target.crawl:
            # A retry's backoff (a 429's Retry-After) is waited out without holding the host's lane.
            res = await self.fetcher.fetch(target.url, backoff_sleep=turn.away)
            turn.done()
            target.result = res
            if res.ok and res.is_html and res.body is not None:
                # Let the item the lane just started send its request before this page is parsed: the
                # server works on the next page while we parse this one, instead of the slot standing
                # idle for the parse (measured in bench/patrol_bench.py --politeness).
                await asyncio.sleep(0)
                # Not redirected (the usual case): the URL is already normalised, no need to parse it.
                final = (
                    normalize(res.final_url) if res.final_url and res.final_url != target.url else target.url
                )
                if target.depth == 0:
                    report.homepage_urls = report.homepage_urls | {final, target.url}
                    self._homepage_moved(final)
                if self.scope.in_scope(final):
                    await self._crawl_page(target, res, final)
        else:
            res = await self._check(target, turn)
            turn.done()
            target.result = res
            self.on_checked(target, res)
            if self._reads_stylesheet(target) and res.ok and res.body:
                await self._register_stylesheet(target, res)
        report.targets_checked += 1
        self._judge(target)

    def _homepage_moved(self, url: str | None) -> None:
        """The homepage redirects (or refreshes) to ``url``: on the same host and a default port, its
        origin is the site's too (the usual http → https move). Another host, or another port of the
        same host (another server, perhaps an internal one), stays outside, as configured."""
        if url is None:
            return
        home = self.report.homepage if self.report is not None else ""
        if host_of(url) == host_of(home) and _default_port(url) and _default_port(home):
            self.scope = self.scope.with_origin(origin_of(url))

    def _reads_stylesheet(self, target: Target) -> bool:
        """The site's own stylesheets are read for what they load (a browser loads it all)."""
        return target.tag == STYLESHEET and target.internal

    async def _register_stylesheet(self, target: Target, res: FetchResult) -> None:
        assert res.body is not None
        if res.is_html:
            return  # an error page answered with 200, not CSS (the soft-404 check judges it)
        text, _ = decode_body(res.body, res.content_type_header)
        final = res.final_url or target.url
        try:
            base = URL(final)
        except ValueError:
            return
        # Tokenizing is pure Python (~0.6 µs a byte: 150 ms for a 250 KB framework stylesheet): in a
        # thread, the loop keeps serving fetches between the GIL's switches instead of stalling.
        refs = await asyncio.to_thread(stylesheet_references, text) if len(text) > 16384 else None
        # The stylesheet is the source of what it references: that is the file to fix.
        for link in stylesheet_links(text, base, refs):
            self.register(link, target.url, target.depth)

    async def _check(self, target: Target, turn: HostTurn) -> FetchResult:
        # A link that is only checked (not crawled) gets no in-line retries for a 5xx, a timeout or a 429:
        # every failure is re-checked by the confirmation pass anyway (after the pause — for a 429, after
        # its Retry-After — overlapping the crawl), so they only cost the failing server requests and the
        # crawl seconds (a dead 500 link: 2 requests instead of 5; a host that never answers: 3 timeouts
        # instead of 5; a 429 that never clears: 3 requests and 2 Retry-After waits instead of 5 and 3;
        # the same verdicts).
        fetch = functools.partial(
            self.fetcher.fetch,
            target.url,
            retry_server_errors=False,
            retry_timeouts=False,
            retry_rate_limits=False,
            backoff_sleep=turn.away,
        )
        if self._reads_stylesheet(target):
            return await fetch(max_bytes=STYLESHEET_BYTES)
        if not target.internal and not looks_like_resource(target.url) and target.tag in NAVIGATION_TAGS:
            return await fetch(max_bytes=EXTERNAL_PAGE_BYTES)
        if looks_like_resource(target.url) or target.tag not in NAVIGATION_TAGS:
            return await fetch(method="HEAD", read_body=False)
        return await fetch(max_bytes=EXTERNAL_PAGE_BYTES)

    async def _crawl_page(self, target: Target, res: FetchResult, final: str) -> None:
        report = self.report
        assert report is not None and res.body is not None
        text, encoding = decode_body(res.body, res.content_type_header)
        page = Page(
            url=target.url,
            final_url=final,
            status=res.status or 0,
            depth=target.depth,
            html=text,
            encoding=encoding,
            is_homepage=target.depth == 0,
            truncated=res.truncated,
            # Clean UTF-8 (no BOM, nothing replaced): let lxml parse the bytes, which is faster.
            utf8_body=res.body
            if encoding == "utf-8" and "\ufffd" not in text and not res.body.startswith(codecs.BOM_UTF8)
            else None,
        )
        if final != target.url:
            if report._seen.get(final) is not None and final not in report.homepage_urls:
                # Redirected onto a page we have (or will have) crawled under its own URL.
                page.release()
                return
            report._seen.setdefault(final, _CHECKED_OK)
        soft = self.policy.soft_404(page)
        if soft:
            target.failure, target.detail = ErrorKind.SOFT_404, soft
            page.release()
            return
        report.pages_crawled += 1
        try:
            checked = self.on_page(page)
            if inspect.isawaitable(checked):
                await checked
            # Most links of a page were seen before (navigation, related articles): deal with those here,
            # without a call per link (register() is the hottest function of a crawl).
            seen, page_url = report._seen, target.url
            for link in page.links:
                known = seen.get(link.url) if link.url is not None else None
                if known is _CHECKED_OK:
                    continue
                if known is not None:
                    known.add_source(page_url, link.text)  # type: ignore[attr-defined]
                    continue
                if link.tag == "meta" and target.depth == 0 and link.text != NOSCRIPT_REFRESH:
                    # A homepage that is a refresh stub: its target is the real homepage (like a redirect).
                    self._homepage_moved(link.url)
                    self.register(link, page_url, -1)
                    continue
                self.register(link, page_url, target.depth)
        finally:
            page.release()

    def _judge(self, target: Target) -> None:
        report = self.report
        assert report is not None
        res = target.result
        if target.failure is None and res is not None:
            judged = self.policy.failure(target, res)
            if judged is not None:
                target.failure, target.detail = judged
        if target.failure is None:
            report._seen[target.url] = _CHECKED_OK
            target.sources.clear()
        else:
            report.failures.append(target)
            if target.depth > 0:
                # Confirm it while the crawl goes on, once the pause since it was first seen has passed,
                # instead of all at the end: the crawl's tail is not a pause plus a re-check round.
                loop = asyncio.get_running_loop()
                # A 429 that says when to ask again is asked then (its answer came now): the server's
                # own word replaces the pause. Everything else: the pause after its answer came, so the
                # server gets the whole pause however long connecting and answering took.
                wait = self.policy.retry_after(target)
                due = loop.time() + (wait if wait is not None else self.policy.confirm_pause(target))
                task = asyncio.create_task(self._recheck_at(target, due))
                self._early[id(target)] = (target.failure, task)

    async def _confirm(self, report: CrawlReport, home: Target) -> None:
        """Fetch every failure again after a pause; keep only failures seen twice.

        Failures found during the crawl are already being re-checked (``_recheck_at``); the rest (the
        homepage) get the pause now.
        """
        suspects = [t for t in report.failures if t.failure not in NOT_REQUESTED]
        if not suspects:
            return
        kinds = {id(t): self._early[id(t)][0] if id(t) in self._early else t.failure for t in suspects}
        late = [t for t in suspects if id(t) not in self._early]
        if late:
            await asyncio.sleep(self.opts.confirm_delay_seconds)
        home_down = home.failure is not None
        if not home_down and any(self.policy.site_down_sign(t, kinds[id(t)]) for t in suspects):
            # Internal connection failures: is the whole site down now? Then say so once.
            probe = await self.fetcher.fetch(home.url)
            if not probe.ok:
                report.unreachable = probe
        late_results = dict(
            zip(map(id, late), await asyncio.gather(*(self._recheck(t) for t in late)), strict=True)
        )
        results = [
            late_results[id(t)] if id(t) in late_results else await self._early[id(t)][1] for t in suspects
        ]
        confirmed: list[Target] = [t for t in report.failures if t.failure in NOT_REQUESTED]
        for target, still_failing in zip(suspects, results, strict=True):
            if still_failing:
                confirmed.append(target)
            else:
                report.recovered += 1
                report._seen[target.url] = _CHECKED_OK
                if target.crawl:
                    # Its links were never read, so this crawl cannot vouch for what is behind it.
                    self._skip("recovered_uncrawled", target.url)
        report.failures = confirmed
        if home.failure is not None and home in confirmed:
            report.unreachable = home.result
        if report.unreachable is not None:
            # One site-level finding instead of thousands: drop this site's connection-level failures.
            report.failures = [
                t
                for t in report.failures
                if not self.policy.site_down_sign(t, t.failure) and t is not home
            ]

    async def _recheck_at(self, target: Target, due: float) -> bool:
        """Re-check a failure at loop time ``due`` (at least the confirmation pause after it was seen)."""
        wait = due - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await self._recheck(target)
        except Exception:  # a re-check must never kill the crawl; keep the failure as seen
            log.exception("error while re-checking %s", target.url)
            return True

    async def _recheck(self, target: Target) -> bool:
        before = target.failure
        target.failure = None
        fetch = functools.partial(
            self.fetcher.fetch,
            target.url,
            retries=self.policy.confirm_retries,
            retry_server_errors=target.crawl,
        )
        if target.crawl or (target.tag in NAVIGATION_TAGS and not looks_like_resource(target.url)):
            res = await fetch(max_bytes=EXTERNAL_PAGE_BYTES)
        else:
            # GET, not HEAD: a server that mishandles HEAD must not produce a dead link.
            res = await fetch(read_body=False)
        target.result = res
        judged = self.policy.confirmed_failure(target, res, before)
        if judged is not None:
            target.failure, target.detail = judged
            return True
        return False

    def _publish(self) -> None:
        report = self.report
        if report is None:
            return
        self.progress.update(
            pages=report.pages_crawled,
            queued=self.queue.qsize(),
            checked=report.targets_checked,
            broken=len(report.failures),
        )


def _sitemap_locs(body: bytes) -> list[tuple[str, bool]]:
    """``(loc, is_sitemap_index_entry)`` pairs from a sitemap document; [] when it is not one."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    is_index = etree.QName(root).localname == "sitemapindex"
    out: list[tuple[str, bool]] = []
    for node in root.iter("{*}loc"):
        if node.text and node.text.strip():
            out.append((node.text.strip(), is_index))
    return out


def _default_port(url: str) -> bool:
    """The URL uses its scheme's default port (80 for http, 443 for https)."""
    try:
        return URL(url).is_default_port()
    except ValueError:
        return False
