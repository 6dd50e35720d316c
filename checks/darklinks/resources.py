"""The I/O half of the dark-link check: same-site stylesheets and scripts, spider copies, external pages.

Everything goes through the run's shared :class:`~monitor.web.fetch.Fetcher` (per-host politeness, retries,
size caps). Results are reduced at once to what the pure engine needs — text for stylesheets and
scripts, a short verdict for external pages — so no page body outlives its fetch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from checks.darklinks.engine import DarkLinkOptions, spam_terms_in
from monitor.web.decode import decode_body
from monitor.web.fetch import Fetcher, FetchResult
from monitor.web.page import Page

# A missing stylesheet hides nothing: 404 / 410 mean "known empty", not "unknown".
_GONE_STATUSES = frozenset({404, 410})
# External pages are read only as far as a spam landing page needs to show what it is.
EXTERNAL_PAGE_BYTES = 256 * 1024
_META_XPATH = "//meta[@name]"


class ResourceCache:
    """Same-site stylesheets and scripts of one run: each URL fetched once, kept within a byte budget.

    ``get`` returns the text, ``""`` when the resource is known not to exist, or None when it could not
    be read (timeout, 5xx, budget spent) — the caller then knows its analysis is incomplete. Concurrent
    requests for one URL share a single fetch.
    """

    def __init__(self, max_bytes: int, budget_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.budget_bytes = budget_bytes
        self.kept_bytes = 0
        self.fetched = 0
        self.unavailable: set[str] = set()
        self.truncated: set[str] = set()
        self._entries: dict[str, asyncio.Future[str | None]] = {}

    def known(self, url: str) -> tuple[bool, str | None]:
        """``(True, text)`` when ``url`` has already been read (``get`` would answer at once), else
        ``(False, None)``: a page whose resources are all known needs no awaiting."""
        entry = self._entries.get(url)
        if entry is not None and entry.done():
            return True, entry.result()
        return False, None

    async def get(self, url: str, fetcher: Fetcher) -> str | None:
        """The resource's text (fetched on first use)."""
        entry = self._entries.get(url)
        if entry is not None:
            return await entry
        entry = self._entries[url] = asyncio.get_running_loop().create_future()
        text: str | None = None
        try:
            text = await self._fetch(url, fetcher)
        finally:
            entry.set_result(text)
        return text

    async def _fetch(self, url: str, fetcher: Fetcher) -> str | None:
        if self.kept_bytes >= self.budget_bytes:
            self.unavailable.add(url)
            return None
        self.fetched += 1
        res = await fetcher.fetch(url, max_bytes=self.max_bytes, retries=1)
        if res.status in _GONE_STATUSES:
            return ""
        if not res.ok or res.body is None:
            self.unavailable.add(url)
            return None
        if res.truncated:
            self.truncated.add(url)  # the first max_bytes still carry their rules
        text, _ = decode_body(res.body, res.content_type_header)
        self.kept_bytes += len(text)
        return text


@dataclass
class OutboundTarget:
    """An external link target seen on the site, with (a bounded list of) the pages linking to it."""

    url: str
    sources: dict[str, str] = field(default_factory=dict)  # page URL -> anchor text
    source_count: int = 0
    verdict: OutboundVerdict | None = None

    def add_source(self, page_url: str, text: str, limit: int) -> None:
        """Remember a linking page (the first ``limit`` with their anchor text)."""
        if page_url in self.sources:
            return
        self.source_count += 1
        if len(self.sources) < limit:
            self.sources[page_url] = text


@dataclass(frozen=True)
class OutboundVerdict:
    """What an external page showed: fetched or not, its title, and the spam terms it carries."""

    ok: bool
    status: int | None
    final_url: str
    title: str = ""
    terms: tuple[str, ...] = ()
    title_terms: tuple[str, ...] = ()
    detail: str = ""

    def is_spam(self, min_terms: int) -> bool:
        """Two (``min_terms``) or more distinct spam terms, or one in the page title."""
        return self.ok and (len(self.terms) >= min_terms or bool(self.title_terms))


#: How much of a page title outside the configured sites is quoted in a finding.
EXTERNAL_TITLE_CHARS = 40


def scan_external(result: FetchResult, options: DarkLinkOptions) -> OutboundVerdict:
    """Reduce a fetched external page to its spam verdict (title, keywords, description, visible text)."""
    final = result.final_url or result.url
    if not result.ok or result.body is None:
        return OutboundVerdict(False, result.status, final, detail=result.detail or str(result.error or ""))
    if not result.is_html:
        return OutboundVerdict(True, result.status, final)
    text, encoding = decode_body(result.body, result.content_type_header)
    page = Page(result.url, final, result.status or 0, 0, text, encoding)
    try:
        metas = " ".join(
            m.get("content") or ""
            for m in page.tree.xpath(_META_XPATH)
            if (m.get("name") or "").lower() in ("keywords", "description")
        )
        title = page.title
        terms = spam_terms_in(f"{title} {metas} {page.visible_text()}", options)
        title_terms = spam_terms_in(title, options)
    finally:
        page.release()
    # An outside page's title is quoted into findings and mail: never more than EXTERNAL_TITLE_CHARS of it
    # (a link into someone's intranet must not carry a page's secrets out, even when allowed).
    return OutboundVerdict(
        True, result.status, final, title[:EXTERNAL_TITLE_CHARS], tuple(terms), tuple(title_terms)
    )


async def fetch_spider_copy(fetcher: Fetcher, url: str, user_agent: str) -> tuple[FetchResult, str | None]:
    """The page as a search-engine spider gets it (same politeness slot as every other request)."""
    res = await fetcher.fetch(url, headers={"User-Agent": user_agent}, retries=1)
    if not res.ok or res.body is None or not res.is_html:
        return res, None
    text, _ = decode_body(res.body, res.content_type_header)
    return res, text
