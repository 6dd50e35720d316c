"""The dark-link check (暗链/黑链): hidden spam links, cloaking, outbound link decay and defacement.

Runs on the shared site crawl. For every crawled page, while the page is still in memory (the async
``visit`` hook, awaited by the crawl worker before the page is released), it

1. fetches the page's same-site stylesheets and scripts — once per run each, cached by URL within a byte
   budget — and hands page, stylesheets and scripts to the pure engine (:mod:`checks.darklinks.engine`)
   as an analysis request, which the runner runs in an analysis worker process (:mod:`monitor.crawl.analysis`;
   the homepage is analysed in place, its defacement check needs the page);
2. on the homepage and top-level column pages (configurable), fetches the page again as Baiduspider and
   compares both versions (cloaking);
3. remembers the page's external link targets (bounded) for the outbound-decay scan;
4. on the homepage, computes the head signature and compares it with the one saved by the last run.

Why a hook and not "collect in ``on_page``, analyse in ``finish``": analysing later would mean keeping
every page body until the crawl ends (memory growing with the site) or fetching every page twice. With
the hook, memory stays bounded by the number of crawl workers, and each page is parsed while hot.

External link targets are scanned from the crawl's own capped GET (``on_link_checked``) when the link
check runs; otherwise (``monitor run darklinks``) the check fetches each distinct target once itself.

Decision rule: see the engine. Every finding is W1 (linking to illegal content) and veto-level, except a
new external domain on the homepage, which is a warning until someone looks at it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from yarl import URL

from checks.base import CheckContext, PageCheck
from checks.darklinks.browser import BrowserCandidate, BrowserVerdict, Kind, confirm_candidates
from checks.darklinks.engine import (
    EVIDENCE_LABELS,
    DarkLinkHit,
    DarkLinkOptions,
    analyze_document,
    benign_host,
    compare_versions,
    defacement_changes,
    head_signature,
    linked_scripts,
    linked_stylesheets,
    other_port,
    own_url,
)
from checks.darklinks.resources import (
    EXTERNAL_PAGE_BYTES,
    EXTERNAL_TITLE_CHARS,
    OutboundTarget,
    ResourceCache,
    fetch_spider_copy,
    scan_external,
)
from monitor.core.figures import BrowserFigures, CandidateExample, DarkLinksFigures
from monitor.core.findings import EvidenceImage, Finding, Severity
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.report import CheckReport
from monitor.core.urls import InvalidURL, host_of, normalize, origin_of
from monitor.crawl.analysis import AnalysisRequest, PageAnalyzer

if TYPE_CHECKING:
    from monitor.crawl.crawler import CrawlReport
    from monitor.web.fetch import Fetcher, FetchResult
    from monitor.web.page import Page

#: Key of the homepage baseline in the site memory (store table ``signatures``).
HOMEPAGE_MEMORY = "darklinks.homepage"
MAX_SOURCES_PER_TARGET = 20
EVIDENCE_LINKS = 20
# Top-level column pages: one directory level, optionally its index file.
_COLUMN_PATH_RE = re.compile(r"^/[^/]+/(?:index\.(?:s?html?|jsp|php|aspx?)|default\.aspx?)?$", re.I)
_TECHNIQUE_ZH = {
    "hidden_link": "暗链",
    "script_link": "脚本写入的暗链",
    "iframe": "隐藏iframe",
    "js_redirect": "脚本跳转劫持",
    "meta_refresh": "meta刷新跳转",
    "head_hijack": "标题/关键词劫持",
}


def site_ports(origins: tuple[str, ...]) -> tuple[str, ...]:
    """``host:port`` of the site's origins that name a port (see ``DarkLinkOptions.site_ports``)."""
    out = []
    for origin in origins:
        netloc = origin.partition("://")[2]
        if ":" in netloc.rsplit("]", 1)[-1]:
            out.append(netloc.lower())
    return tuple(out)


def site_domains(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """The site's hosts and, for ``www.`` hosts, the domain under them (``shixian.gov.cn``)."""
    out: list[str] = []
    for host in hosts:
        for name in (host, host[4:] if host.startswith("www.") else ""):
            if name and name not in out:
                out.append(name)
    return tuple(out)


@functools.lru_cache(maxsize=1024)  # every page of a site names the same few stylesheets and scripts
def _fetchable(url: str) -> str | None:
    """The URL as the fetcher wants it (normalised, percent-encoded), or None when it is not one."""
    try:
        return normalize(url)
    except InvalidURL:
        return None


@dataclass(frozen=True)
class DarkLinksAnalyzer(PageAnalyzer):
    """The engine's analysis of one page with its same-site stylesheets and scripts (picklable).

    ``inputs``: the stylesheet and script URLs read for the page; ``shared``: their texts.
    """

    options: DarkLinkOptions
    key: str = "darklinks"

    def analyze(
        self, page: Page, inputs: tuple[list[str], list[str]], shared: Mapping[str, str]
    ) -> list[DarkLinkHit]:
        """Every dark link, hidden iframe, redirect and head hijack of the page."""
        css, js = inputs
        stylesheets = {u: shared[u] for u in css if u in shared}
        scripts = {u: shared[u] for u in js if u in shared}
        # The page's shared plain parse: in a worker, the text analysis of the page walks the same tree.
        return analyze_document(page.plain_tree, page.final_url, self.options, stylesheets, scripts)


class DarkLinksCheck(PageCheck):
    """Hidden spam links (暗链/黑链), cloaking, outbound link decay and homepage defacement."""

    name = "darklinks"
    analyses_pages = True

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__(ctx)
        self.opts = ctx.config.darklinks
        self.options = DarkLinkOptions(
            site_domains=site_domains(ctx.site.crawl_hosts),
            extra_vocabulary=self.opts.extra_vocabulary,
            allow_domains=self.opts.allow_domains,
            site_ports=site_ports(ctx.site.crawl_origins),
        )
        self.analyzer = DarkLinksAnalyzer(self.options)
        self.resources = ResourceCache(self.opts.resource_max_bytes, self.opts.resource_cache_bytes)
        self._findings: dict[str, Finding] = {}
        self.outbound: dict[str, OutboundTarget] = {}
        self.outbound_over_cap = 0
        self.outbound_fetched = 0
        self.pages_analysed = 0
        self.spider_fetches = 0
        self._complete_pages: set[str] = set()  # analysed with every same-site stylesheet and script
        self._spider_failed: set[str] = set()
        self._double_fetched = 0
        self._spider_over_budget = 0
        self._today = ctx.clock.now().date().toordinal()  # the rotation's day, from the run's clock
        self._spider_compared: set[str] = set()  # pages whose spider copy was read and compared
        self._open_cloaking: set[str] | None = None  # identities of cloaking findings open before the run
        self._homepage: str | None = None
        self._report = CheckReport()
        self._benign_origins: dict[str, bool] = {}
        # Concealed links to outside sites without spam evidence: (page, target) -> the engine's hit.
        # Not findings; counted, and reported only if the target page carries spam content.
        self._candidates: dict[tuple[str, str], DarkLinkHit] = {}
        self._candidates_total = 0
        self._browser = BrowserFigures()

    # -- per page ---------------------------------------------------------------------------------
    async def visit(self, page: Page, fetcher: Fetcher) -> AnalysisRequest | None:
        """Fetch the page's stylesheets and scripts; analyse it (off the loop, except the homepage,
        whose defacement check needs the page); outbound links, cloaking and head signature."""
        html, page_url = page.html, page.final_url
        css_urls = [u for u in linked_stylesheets(html, page_url) if self._same_site(u)]
        js_urls = [u for u in linked_scripts(html, page_url) if self._same_site(u)]
        texts = self._known_resources((*css_urls, *js_urls))
        if texts is None:  # some are not read yet: fetch them (once per run, shared by every page)
            texts = await asyncio.gather(*(self._resource(u, fetcher) for u in (*css_urls, *js_urls)))
        shared = {u: t for u, t in zip((*css_urls, *js_urls), texts, strict=True) if t}
        if all(t is not None for t in texts):
            self._complete_pages.add(page.url)
        css = sorted(u for u in css_urls if u in shared)
        js = sorted(u for u in js_urls if u in shared)
        request: AnalysisRequest | None = None
        if page.is_homepage:
            self._homepage = page.url
            hits = self.analyzer.analyze(page, (css, js), shared)
            self._accept(page.url, True, self._defacement(page, hits), css, js)
        else:
            url = page.url  # the callback must not keep the page: it is released before the result comes
            request = AnalysisRequest(
                self.analyzer, lambda hits: self._accept(url, False, hits, css, js), (css, js), shared
            )
        self._collect_outbound(page)
        if self._wants_second_fetch(page):
            await self._cloaking(page, fetcher)
        return request

    def _accept(
        self, page_url: str, homepage: bool, hits: list[DarkLinkHit], css: list[str], js: list[str]
    ) -> None:
        self.pages_analysed += 1
        for hit in hits:
            if hit.kind == "candidate" and hit.target:
                self._candidate(page_url, hit)
            else:
                self._add(self._hit_finding(page_url, homepage, hit, css, js))

    def _candidate(self, page_url: str, hit: DarkLinkHit) -> None:
        """Remember a concealed outside link (bounded) and have its target page read for spam content."""
        assert hit.target is not None
        self._candidates_total += 1
        if len(self._candidates) < self.opts.outbound_max_targets:
            self._candidates[(page_url, hit.target)] = hit
        if self.opts.outbound:
            self._outbound_target(hit.target, page_url, hit.text)

    def _known_resources(self, urls: tuple[str, ...]) -> list[str | None] | None:
        """The texts of resources already read, without a task per page (every page of a site links the
        same few stylesheets); None when any of them still has to be fetched."""
        texts: list[str | None] = []
        for url in urls:
            fetch_url = _fetchable(url)
            if fetch_url is None:
                texts.append("")
                continue
            known, text = self.resources.known(fetch_url)
            if not known:
                return None
            texts.append(text)
        return texts

    async def _resource(self, url: str, fetcher: Fetcher) -> str | None:
        fetch_url = _fetchable(url)
        if fetch_url is None:
            return ""
        return await self.resources.get(fetch_url, fetcher)

    def _same_site(self, url: str) -> bool:
        return url.startswith(("http://", "https://")) and own_url(url, self.options)

    def _unit(self, url: str) -> str | None:
        return self.ctx.units.unit_for(url)

    def _add(self, finding: Finding) -> None:
        # One finding per identity: a link reported twice on a page (script and markup) stays one.
        self._findings.setdefault(finding.fingerprint, finding)

    def _hit_finding(
        self,
        page_url: str,
        homepage: bool,
        hit: DarkLinkHit,
        css: list[str],
        js: list[str],
        extra: Mapping[str, Any] | None = None,
    ) -> Finding:
        where = "首页" if homepage else "页面"
        if hit.target is None:
            kind, identity = "head_hijack", f"{page_url}#head"
            message = f"{where}标题/关键词被劫持：{hit.message}。所在页面：{page_url}"
        else:
            kind, identity = "dark_link", f"{page_url}->{hit.target}"
            label = _TECHNIQUE_ZH.get(hit.kind, "暗链")
            message = f"发现{label}：{hit.message}。所在页面：{page_url}"
        message += f"（证据：{evidence_phrase(hit.evidence)}）"
        return Finding(
            duty=self.name,
            kind=kind,
            severity=Severity.VETO,
            site=self.ctx.site.id,
            identity=identity,
            url=hit.target or page_url,
            unit=self._unit(page_url),
            sources=(page_url,),
            message=message,
            evidence={
                **_hit_evidence(page_url, hit),
                "stylesheets": css[:10],
                "scripts": js[:10],
                "indicator": Indicator.SERIOUS_ERRORS.value,
                **(extra or {}),
            },
        )

    # -- cloaking ---------------------------------------------------------------------------------
    def _wants_second_fetch(self, page: Page) -> bool:
        """Is this page fetched again as a spider this run?

        The homepage, top-level column pages and ``double_fetch_paths`` always are (within the budget);
        with ``double_fetch: every_page`` every other page is too, in rotation: a page is compared on
        the runs whose day falls in its bucket (a stable hash of its URL modulo
        ``spider_rotation_days``), so a daily patrol compares each page once a week while fetching only
        a seventh of the site twice. A share of the budget is kept for the always-compared pages.
        """
        if not self.opts.spider_user_agents or self.opts.double_fetch == "none":
            return False
        try:
            path = URL(page.url).path
        except ValueError:
            return False
        budget = self.opts.spider_budget
        always = path in self.opts.double_fetch_paths or page.is_homepage
        column = page.depth == 1 and _COLUMN_PATH_RE.match(path) is not None
        if column and self.opts.double_fetch in ("columns", "every_page"):
            always = True
        if always:
            chosen = self._double_fetched < budget
        elif self.opts.double_fetch == "every_page" and self._rotation_due(page.url):
            reserve = min(50, budget // 10)
            chosen = self._double_fetched < budget - reserve
        else:
            return False
        if chosen:
            self._double_fetched += 1
        else:
            self._spider_over_budget += 1
        return chosen

    def _rotation_due(self, url: str) -> bool:
        days = self.opts.spider_rotation_days
        if days <= 1:
            return True
        bucket = int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=4).digest(), "big") % days
        return bucket == self._today % days

    async def _cloaking(self, page: Page, fetcher: Fetcher) -> None:
        for user_agent in self.opts.spider_user_agents:
            self.spider_fetches += 1
            res, spider_html = await fetch_spider_copy(fetcher, page.url, user_agent)
            if spider_html is None:
                self._spider_failed.add(page.url)
                self.ctx.log.info("spider copy of %s failed: %s", page.url, res.error or res.status)
                continue
            self._spider_compared.add(page.url)
            hits = compare_versions(page.html, spider_html, page.final_url, self.options)
            if not hits:
                continue
            browser = _version_summary(page.html, page.final_url, self.options)
            spider = _version_summary(spider_html, page.final_url, self.options)
            for hit in hits:
                self._add(self._cloaking_finding(page, hit, user_agent, browser, spider, res.status))

    def _cloaking_finding(
        self,
        page: Page,
        hit: DarkLinkHit,
        user_agent: str,
        browser: dict[str, Any],
        spider: dict[str, Any],
        status: int | None,
    ) -> Finding:
        identity = f"{page.url}->{hit.target}" if hit.target else f"{page.url}#cloaking"
        spider_name = user_agent.split(";")[1].strip() if ";" in user_agent else user_agent[:40]
        return Finding(
            duty=self.name,
            kind="cloaking",
            severity=Severity.VETO,
            site=self.ctx.site.id,
            identity=identity,
            url=hit.target or page.url,
            unit=self._unit(page.url),
            sources=(page.url,),
            message=(
                f"发现针对搜索引擎的暗链（以{spider_name}身份访问）：{hit.message}。所在页面：{page.url}"
                f"（证据：{evidence_phrase(hit.evidence)}）"
            ),
            evidence={
                **_hit_evidence(page.url, hit),
                "spider_user_agent": user_agent,
                "spider_status": status,
                "browser_user_agent": self.ctx.config.crawl.user_agent,
                "spider_version": spider,
                "browser_version": browser,
                "indicator": Indicator.SERIOUS_ERRORS.value,
            },
        )

    # -- outbound links ---------------------------------------------------------------------------
    def _collect_outbound(self, page: Page) -> None:
        if not self.opts.outbound:
            return
        benign = self._benign_origins
        for link in page.links:
            url = link.url
            if url is None or link.tag not in ("a", "area"):
                continue
            # A site links to few distinct origins: judge each once, not once per link of every page
            # (bounded: a page inventing a host per link must not grow this without limit). A normalised
            # URL always has a path, so its origin ends at the first "/" after "//".
            end = url.find("/", url.find("//") + 2)
            origin = url if end == -1 else url[:end]
            known = benign.get(origin)
            if known is None:
                host = host_of(url)
                known = not host or (benign_host(host, self.options) and not other_port(url, self.options))
                if len(benign) < 10_000:
                    benign[origin] = known
            if known:
                continue
            self._outbound_target(url, page.url, link.text)

    def _outbound_target(self, url: str, source: str, text: str) -> None:
        """Remember an external link target and the page linking it (bounded)."""
        target = self.outbound.get(url)
        if target is None:
            if len(self.outbound) >= self.opts.outbound_max_targets:
                self.outbound_over_cap += 1
                return
            target = self.outbound[url] = OutboundTarget(url)
        target.add_source(source, text, MAX_SOURCES_PER_TARGET)

    def on_link_checked(self, url: str, result: FetchResult) -> None:
        """Scan the crawl's own capped GET of an external page (no second request)."""
        target = self.outbound.get(url)
        if target is not None and target.verdict is None and result.method == "GET":
            target.verdict = scan_external(result, self.options)

    async def _scan_remaining(self, fetcher: Fetcher) -> None:
        """Fetch, once each, the external targets the crawl did not check (link check off)."""

        async def scan(target: OutboundTarget) -> None:
            res = await fetcher.fetch(target.url, max_bytes=EXTERNAL_PAGE_BYTES, retries=1)
            self.outbound_fetched += 1
            target.verdict = scan_external(res, self.options)

        pending = [t for t in self.outbound.values() if t.verdict is None]
        # The fetcher's per-host slots keep this polite; the batches only bound the tasks in flight.
        for start in range(0, len(pending), 32):
            await asyncio.gather(*(scan(t) for t in pending[start : start + 32]))

    def _confirmed_candidate(self, page_url: str, hit: DarkLinkHit, target: OutboundTarget) -> Finding:
        """A concealed outside link whose target page now carries spam vocabulary."""
        verdict = target.verdict
        assert verdict is not None
        terms = "、".join(verdict.terms[:8])
        message = f"{hit.message}，目标页面含违规词“{terms}”"
        if verdict.title:
            message += f"（页面标题：“{verdict.title[:EXTERNAL_TITLE_CHARS]}”）"
        confirmed = DarkLinkHit(
            hit.page_url,
            hit.target,
            hit.text,
            hit.techniques,
            (*hit.reasons, f"target page carries spam vocabulary: {terms}"),
            hit.snippet,
            hit.candidate_of or "hidden_link",
            message,
            ("target_content",),
        )
        extra = {"target_title": verdict.title, "target_terms": list(verdict.terms)}
        return self._hit_finding(page_url, page_url == self._homepage, confirmed, [], [], extra)

    def _outbound_finding(self, target: OutboundTarget, homepage: str | None) -> Finding:
        verdict = target.verdict
        assert verdict is not None
        sources = list(target.sources)
        anchor = next((t for t in target.sources.values() if t), "")
        on_home = homepage is not None and homepage in target.sources
        label = f"“{anchor[:40]}”" if anchor else ""
        where = "首页" if on_home else ""
        message = (
            f"外链指向违规内容：{where}外部链接{label}（{target.url}）的目标页面现含违规词"
            f"“{'、'.join(verdict.terms[:8])}”"
        )
        if verdict.title:
            message += f"（页面标题：“{verdict.title[:EXTERNAL_TITLE_CHARS]}”）"
        message += "，疑为域名过期后被违规网站接管，请立即删除该链接"
        if target.source_count > 1:
            message += f"；共{target.source_count}个页面引用该链接，如 {sources[0]}"
        elif sources:
            message += f"；所在页面：{sources[0]}"
        return Finding(
            duty=self.name,
            kind="outbound_spam",
            severity=Severity.VETO,
            site=self.ctx.site.id,
            identity=target.url,
            url=target.url,
            unit=next(
                (u for u in (self._unit(s) for s in sources) if u and u != self.ctx.site.unit),
                self._unit(sources[0]) if sources else self.ctx.site.unit,
            ),
            sources=tuple(sources),
            message=message,
            evidence={
                "target": target.url,
                "final_url": verdict.final_url,
                "status": verdict.status,
                "title": verdict.title,
                "terms": list(verdict.terms),
                "title_terms": list(verdict.title_terms),
                "source_count": target.source_count,
                "sources": [{"url": u, "text": t} for u, t in target.sources.items()],
                "indicator": Indicator.SERIOUS_ERRORS.value,
            },
        )

    # -- defacement -------------------------------------------------------------------------------
    def _defacement(self, page: Page, hits: list[DarkLinkHit]) -> list[DarkLinkHit]:
        """Compare the homepage head with the saved baseline; returns ``hits`` minus what it reports."""
        current = head_signature(page.html, page.final_url, self.options)
        saved = self.ctx.memory.get(HOMEPAGE_MEMORY)
        if saved is None:
            signals = defacement_changes(None, current, self.options)
            known_domains = set(current["external_domains"])
            known_terms = [] if current["head_hijacked"] else list(current["head_spam_terms"])
        else:
            baseline = {
                **saved.get("signature", {}),
                "external_domains": saved.get("known_domains", []),
                "head_spam_terms": saved.get("known_terms", []),
            }
            signals = defacement_changes(baseline, current, self.options)
            flagged = {d for s in signals for d in s.domains}
            # New domains stay "new" (and their findings open) until removed or marked 误报.
            known_domains = set(saved.get("known_domains", [])) | (set(current["external_domains"]) - flagged)
            known_terms = list(saved.get("known_terms", []))
        self.ctx.memory.put(
            HOMEPAGE_MEMORY,
            {
                "homepage": page.url,
                "signature": current,
                "known_domains": sorted(known_domains),
                "known_terms": known_terms,
            },
        )
        previous_title = (saved or {}).get("signature", {}).get("title")
        for signal in signals:
            if signal.kind == "head_spam":
                self._add(
                    self._defacement_finding(
                        page,
                        f"{page.url}#head",
                        Severity.VETO,
                        signal.message,
                        current,
                        previous_title,
                        terms=signal.terms,
                    )
                )
                # The engine's head-hijack hit says the same thing: one finding, not two.
                hits = [h for h in hits if h.kind != "head_hijack"]
            else:
                for domain in signal.domains:
                    extra = "（可疑域名）" if domain in signal.suspicious else ""
                    message = f"首页新增外部链接域名 {domain}{extra}，上次检测时不存在"
                    links = _links_to(page, domain)
                    if links:
                        message += f"，链接：{'、'.join(f'“{t}”' if t else u for u, t in links[:3])}"
                    message += "；请确认是否为本单位添加（疑似被篡改）"
                    self._add(
                        self._defacement_finding(
                            page,
                            f"{page.url}#domain:{domain}",
                            Severity.WARNING,
                            message,
                            current,
                            previous_title,
                            domain=domain,
                        )
                    )
        return hits

    def _defacement_finding(
        self,
        page: Page,
        identity: str,
        severity: Severity,
        message: str,
        current: dict[str, Any],
        previous_title: str | None,
        *,
        terms: tuple[str, ...] = (),
        domain: str | None = None,
    ) -> Finding:
        if severity == Severity.VETO and not message.startswith("首页"):
            message = f"首页疑似被篡改：{message}"
        return Finding(
            duty=self.name,
            kind="defacement",
            severity=severity,
            site=self.ctx.site.id,
            identity=identity,
            url=page.url,
            unit=self.ctx.site.unit,
            sources=(page.url,),
            message=message,
            evidence={
                "page": page.url,
                "title": current.get("title", ""),
                "previous_title": previous_title,
                "keywords": current.get("keywords", "")[:300],
                "description": current.get("description", "")[:300],
                "terms": list(terms),
                "domain": domain,
                "links": [{"url": u, "text": t} for u, t in _links_to(page, domain)[:10]] if domain else [],
                "indicator": Indicator.SERIOUS_ERRORS.value,
            },
        )

    # -- results ----------------------------------------------------------------------------------
    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """Outbound decay (fetching what the crawl did not), then every finding and the W1 figure."""
        if self.opts.outbound and report.unreachable is None:
            await self._scan_remaining(fetcher)
        # A link already reported as hidden / cloaked on a page is not reported again as outbound decay
        # from that page: one problem, one finding.
        reported = {
            (f.evidence["page"], f.evidence["target"])
            for f in self._findings.values()
            if f.kind in ("dark_link", "cloaking") and f.evidence.get("target")
        }
        for target in self.outbound.values():
            if target.verdict is None or not target.verdict.is_spam(self.opts.outbound_min_terms):
                continue
            # A concealed link whose target page carries spam content: that is the dark link.
            for source in list(target.sources):
                hit = self._candidates.get((source, target.url))
                if hit is None or (source, target.url) in reported:
                    continue
                self._add(self._confirmed_candidate(source, hit, target))
                reported.add((source, target.url))
            hidden_on = [s for s in target.sources if (s, target.url) in reported]
            if hidden_on:
                for s in hidden_on:
                    del target.sources[s]
                target.source_count -= len(hidden_on)
                if target.source_count <= 0:
                    continue
            self._add(self._outbound_finding(target, self._homepage))
        findings = sorted(self._findings.values(), key=lambda f: (f.kind, f.identity))
        findings = await self._confirm_in_browser(findings)
        self._report = self._figures(report, findings)
        return findings

    # -- the browser pass ---------------------------------------------------------------------------
    async def _confirm_in_browser(self, findings: list[Finding]) -> list[Finding]:
        """Load the pages of hidden links and keyed redirects in headless Chromium (bounded, optional):
        a confirmed one gains the evidence ``browser_confirmed`` and its screenshots, a refuted one (the
        browser shows the link, or the page does not navigate for the spider) is not reported, an
        unknown one keeps its static evidence."""
        candidates: list[BrowserCandidate] = []
        for f in findings:
            technique = str(f.evidence.get("technique_kind"))
            kind = _BROWSER_KINDS.get(technique) if f.kind == "dark_link" else None
            if kind == "js_redirect" and "spider_only" not in f.evidence.get("evidence", ()):
                kind = None  # an unconditional redirect: nothing a spider-only visit would show
            if kind is not None:
                page, target = f.evidence["page"], f.evidence.get("target")
                candidates.append(BrowserCandidate(f.identity, page, kind, target))
        if not candidates:
            self._browser = BrowserFigures(candidates=0)
            return findings
        site = self.ctx.site
        scheme_hosts = {f"{scheme}://{host}" for host in site.crawl_hosts for scheme in ("http", "https")}
        origins = sorted((scheme_hosts | {origin_of(c.page_url) for c in candidates}) - {""})
        result = await confirm_candidates(
            candidates, self.opts.browser, self.ctx.config.crawl.host_overrides, origins
        )
        tally = {"confirmed": 0, "refuted": 0, "unknown": 0, "shown_but_obfuscated": 0}
        out: list[Finding] = []
        for f in findings:
            verdict = result.verdicts.get(f.identity) if f.kind == "dark_link" else None
            if verdict is None:
                out.append(f)
                continue
            if verdict.status == "refuted" and not _obfuscated(f):
                tally["refuted"] += 1
                self.ctx.log.info("browser refuted %s: %s", f.identity, verdict.detail)
                continue
            tally["shown_but_obfuscated" if verdict.status == "refuted" else verdict.status] += 1
            # A link an obfuscated script writes stays reported even when it shows: the obfuscation hides
            # it from whoever reads the page's source, which no rendering can refute (national rules §4).
            out.append(_with_browser_verdict(f, verdict))
        self._browser = BrowserFigures(
            candidates=len(candidates),
            pages_loaded=result.pages_loaded,
            pages_over_budget=result.pages_over_budget,
            confirmed=tally["confirmed"],
            refuted=tally["refuted"],
            unknown=tally["unknown"],
            shown_but_obfuscated=tally["shown_but_obfuscated"],
            skipped=result.skipped,
        )
        return out

    def browser_summary(self) -> str | None:
        """One line for the run summary about the browser pass (None when there was nothing to confirm)."""
        b = self._browser
        if not b.candidates:
            return None
        if b.skipped:
            return f"confirmation skipped ({b.skipped}); {b.candidates} reported on static evidence"
        line = (
            f"{b.pages_loaded} pages loaded in Chromium: {b.confirmed} confirmed hidden, "
            f"{b.refuted} shown on the page (not reported), {b.unknown} undecided"
        )
        if b.shown_but_obfuscated:
            line += f", {b.shown_but_obfuscated} written by an obfuscated script (reported)"
        if b.pages_over_budget:
            line += f"; {b.pages_over_budget} pages over darklinks.browser.max_pages"
        return line

    def _figures(self, report: CrawlReport, findings: list[Finding]) -> CheckReport:
        veto = [f for f in findings if f.severity == Severity.VETO]
        pages = {s for f in veto for s in f.sources}
        site = self.ctx.site
        if report.unreachable is not None or self.pages_analysed == 0:
            verdict, figure = Verdict.UNKNOWN, "网站无法访问，未完成暗链检测"
        elif veto:
            verdict = Verdict.FAIL
            figure = (
                f"发现暗链/违规外链{len(veto)}处（涉及{len(pages)}个页面，共检测{self.pages_analysed}个页面）"
            )
        else:
            verdict, figure = Verdict.PASS, f"未发现暗链（共检测{self.pages_analysed}个页面）"
        status = IndicatorStatus(
            indicator=Indicator.SERIOUS_ERRORS,
            subject=site.id,
            subject_name=site.name,
            verdict=verdict,
            figure=figure,
            threshold="发现1处暗链或违规外链即单项否决",
            value=float(len(veto)) if verdict != Verdict.UNKNOWN else None,
            rule_id=RuleId.DARKLINKS,
        )
        by_kind: dict[str, int] = {}
        for f in findings:
            by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
        scanned = sum(1 for t in self.outbound.values() if t.verdict is not None and t.verdict.ok)
        figures = DarkLinksFigures(
            pages_analysed=self.pages_analysed,
            dark_links=len(veto),
            by_kind=by_kind,
            stylesheets_and_scripts_fetched=self.resources.fetched,
            resources_unavailable=tuple(sorted(self.resources.unavailable)[:20]),
            resources_truncated=tuple(sorted(self.resources.truncated)[:20]),
            spider_fetches=self.spider_fetches,
            spider_pages_compared=len(self._spider_compared),
            spider_over_budget=self._spider_over_budget,
            spider_failed=tuple(sorted(self._spider_failed)[:20]),
            outbound_targets=len(self.outbound),
            outbound_scanned=scanned,
            outbound_fetched_by_check=self.outbound_fetched,
            outbound_over_cap=self.outbound_over_cap,
            browser=self.browser_summary(),
            browser_figures=self._browser,
            # Concealed links and redirects to outside sites without spam evidence: information
            # (提示), not findings; reported only if the target page carries spam content.
            candidates=self._candidates_total,
            candidate_examples=tuple(
                CandidateExample(page, target, hit.text[:40])
                for (page, target), hit in list(self._candidates.items())[:10]
            ),
        )
        return CheckReport(groups=[figures], indicators=[status])

    def report_part(self) -> CheckReport:
        """The W1 indicator and the check's own figures (see ``_figures``)."""
        return self._report

    def _cloaking_open(self) -> set[str]:
        """Identities of this site's cloaking findings that were open before the run (read once)."""
        if self._open_cloaking is None:
            store = self.ctx.store
            found = (
                store.findings(duty=self.name, status="open", site=self.ctx.site.id, kind="cloaking")
                if store is not None
                else ()
            )
            self._open_cloaking = {f["identity"] for f in found}
        return self._open_cloaking

    def observed_all(self) -> bool:
        """Every stylesheet, script, spider copy and external page it needed was read, and every page
        with an open cloaking finding was compared again this run (the rotation may have skipped it)."""
        return (
            not self.resources.unavailable
            and not self._spider_failed
            and not self.outbound_over_cap
            and all(t.verdict is not None and t.verdict.ok for t in self.outbound.values())
            and all(_page_of(i) in self._spider_compared for i in self._cloaking_open())
        )

    def cleared(self, report: CrawlReport, identity: str) -> bool:
        """Fixed for sure: its page was analysed with every input this run (and, for cloaking, compared
        again as a spider), or its target re-read."""
        target = self.outbound.get(identity)
        if target is not None:
            return target.verdict is not None and target.verdict.ok
        page = _page_of(identity)
        if identity in self._cloaking_open() and page not in self._spider_compared:
            return False
        return page in self._complete_pages and page not in self._spider_failed


#: Dark-link technique kinds the browser can judge, and how it judges them.
_BROWSER_KINDS: dict[str, Kind] = {
    "hidden_link": "hidden_link",
    "script_link": "hidden_link",
    "js_redirect": "js_redirect",
}


def _obfuscated(f: Finding) -> bool:
    """The link was written by a script through a decoding layer (``unescape``, ``atob``, a packer…)."""
    return any("decoded via" in t for t in f.evidence.get("techniques", ()))


def _with_browser_verdict(f: Finding, verdict: BrowserVerdict) -> Finding:
    """The finding with the browser's word: evidence, detail, screenshots."""
    evidence = dict(f.evidence)
    evidence["browser"] = {"status": verdict.status, "detail": verdict.detail}
    if verdict.status != "confirmed":
        return replace(f, evidence=evidence)
    seen = "browser_navigated" if f.evidence.get("technique_kind") == "js_redirect" else "browser_confirmed"
    evidence["evidence"] = [*evidence.get("evidence", []), seen]
    images = []
    if verdict.screenshot:
        images.append(EvidenceImage("浏览器视图", verdict.screenshot))
    if verdict.spider_screenshot:
        images.append(EvidenceImage("百度蜘蛛视图", verdict.spider_screenshot))
    message = f.message
    marker = "（证据："
    if marker in message:
        head = message.rpartition(marker)[0]
        message = f"{head}{marker}{evidence_phrase(evidence['evidence'])}）"
    message += f"；{verdict.detail}"
    return replace(f, evidence=evidence, message=message, images=tuple(images))


def _hit_evidence(page_url: str, hit: DarkLinkHit) -> dict[str, Any]:
    """What every dark-link and cloaking finding keeps of the engine's hit."""
    return {
        "page": page_url,
        "target": hit.target,
        "text": hit.text,
        "technique_kind": hit.kind,
        "techniques": list(hit.techniques),
        "reasons": list(hit.reasons),
        "snippet": hit.snippet,
        "evidence": list(hit.evidence),
    }


def _page_of(identity: str) -> str:
    """The page of a dark-link identity (``{page}->{target}``, ``{page}#head`` …)."""
    return re.split(r"->|#(?=head$|cloaking$|domain:)", identity, maxsplit=1)[0]


def evidence_phrase(codes: tuple[str, ...] | list[str]) -> str:
    """The evidence of a dark link in Chinese, e.g. "锚文本或链接地址含违规词、域名符合违规网站特征"."""
    return "、".join(EVIDENCE_LABELS.get(c, c) for c in codes) or "无"


def _version_summary(html: str, page_url: str, options: DarkLinkOptions) -> dict[str, Any]:
    """A bounded description of one version of a page, kept as cloaking evidence."""
    sig = head_signature(html, page_url, options)
    return {
        "title": sig["title"][:120],
        "bytes": len(html.encode("utf-8", "replace")),
        "external_domains": sig["external_domains"][:EVIDENCE_LINKS],
        "head_spam_terms": sig["head_spam_terms"],
    }


def _links_to(page: Page, domain: str | None) -> list[tuple[str, str]]:
    if not domain:
        return []
    out: list[tuple[str, str]] = []
    for link in page.links:
        if link.url and host_of(link.url) == domain and (link.url, link.text) not in out:
            out.append((link.url, link.text))
    return out
