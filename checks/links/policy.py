"""The dead-link policy (死链判定): which fetch outcomes count as a dead link, when a failure is asked
again, and which failures say the whole site is down.

The crawl (:mod:`monitor.crawl.crawler`) fetches and reports outcomes; it does not decide what they mean.
The runner hands it this policy (the crawl layer sits below the checks and never imports them), and the
crawl asks it:

* a fetch that is not ``ok`` is a failure (its error kind, else ``http``) — except a form target answering
  405 to GET: it exists, it takes the form's POST;
* an HTTP 200 page that is really a "not found" page (``links.soft_404_patterns`` in its title, or in the
  visible text of a short page) is a ``soft_404``; external pages are judged on the capped body read for
  that purpose, crawled pages on their parsed page;
* every failure is fetched again (the confirmation pass) and reported only when seen twice: the server's
  own "does not exist" (404, 410) is asked again at once; anything that may be passing (timeouts, resets,
  5xx, 429, 403 from a firewall, soft 404s) once ``crawl.confirm_delay_seconds`` have passed since it was
  first seen; a 429 that says when to ask again (Retry-After, capped by
  ``crawl.max_retry_after_seconds``) is asked then. The second opinion itself gets one retry;
* a confirmed HTTP failure that is a bot wall's answer rather than the page's (a LinkedIn-style 999, a
  challenge page — Cloudflare's ``cf-mitigated: challenge``, usually on a 403 — or a 429 that never
  clears) is not a dead link: the check reports it as "cannot be checked automatically";
* connection-level failures of the site's own links (timeout, DNS, refused, reset, TLS) are the sign of
  a site that is down: the crawl then probes the homepage, and a site that is down gets one site-level
  finding instead of one per link.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.web.decode import decode_body
from monitor.web.fetch import ErrorKind, FetchResult
from monitor.web.page import FORM_TARGET, Page

if TYPE_CHECKING:
    from monitor.crawl.crawler import Target

#: The confirmation pass is itself a second opinion: one retry there (for a 429's Retry-After, a timeout,
#: or a 5xx of a crawled page) is enough.
CONFIRM_RETRIES = 1
#: Failures that say the site's server could not be reached at all.
CONNECTION_ERRORS = frozenset(
    {ErrorKind.TIMEOUT, ErrorKind.DNS, ErrorKind.REFUSED, ErrorKind.CONNECTION, ErrorKind.TLS}
)
#: The server's own answer that the resource does not exist: not a passing condition, so its second
#: opinion is asked at once.
NOT_FOUND_STATUSES = frozenset({404, 410})
#: A page longer than this (visible characters) is content, whatever words it contains: only its title
#: can make it a "not found" page.
SOFT_404_MAX_TEXT = 1200
#: How much of the title of a page outside the site a finding quotes (issue 20: an intranet page's title
#: may carry what its owner never published).
OUTSIDE_TITLE_CHARS = 40

#: Statuses only bot protection answers with (LinkedIn's 999); a 429 that never clears is one too.
BOT_WALL_STATUSES = frozenset({999})

Failure = tuple[ErrorKind, str]


def bot_wall_answer(res: FetchResult | None) -> bool:
    """The failed fetch is a bot wall's answer rather than the page's: a visitor's browser gets the page,
    an automated check cannot tell."""
    if res is None or res.error != ErrorKind.HTTP:
        return False
    return res.status in BOT_WALL_STATUSES or res.status == 429 or bool(res.challenge)


def bot_wall(target: Target) -> bool:
    """The target's confirmed failure is a bot wall rather than a dead link."""
    return target.failure == ErrorKind.HTTP and bot_wall_answer(target.result)


def form_endpoint(target: Target, res: FetchResult) -> bool:
    """A form target answering 405 to GET exists: it takes the form's POST."""
    return target.tag == FORM_TARGET and res.status == 405


class DeadLinkPolicy:
    """What the crawl's fetch outcomes mean for the dead-link check (see the module docstring)."""

    confirm_retries = CONFIRM_RETRIES

    def __init__(self, config: Config) -> None:
        self.soft404 = tuple(re.compile(p, re.IGNORECASE) for p in config.links.soft_404_patterns)
        self.confirm_delay = config.crawl.confirm_delay_seconds
        self.max_retry_after = config.crawl.max_retry_after_seconds

    def failure(self, target: Target, res: FetchResult) -> Failure | None:
        """The failure a fetch of ``target`` shows, or None: not ``ok`` (a form's 405 aside), or — for a
        target that is only checked, not crawled — an HTML body that is a "not found" page."""
        if not res.ok and not form_endpoint(target, res):
            return res.error or ErrorKind.HTTP, res.detail
        if not target.crawl and res.body and res.is_html:
            soft = self._soft_404_body(res, outside=not target.internal)
            if soft:
                return ErrorKind.SOFT_404, soft
        return None

    def confirmed_failure(self, target: Target, res: FetchResult, before: ErrorKind | None) -> Failure | None:
        """The failure the second fetch of a failed target shows, or None (it recovered). A soft 404 is
        judged again on the new body; any other failure needs the fetch itself to fail."""
        if not res.ok and not form_endpoint(target, res):
            return res.error or ErrorKind.HTTP, res.detail
        if before == ErrorKind.SOFT_404 and res.body is not None:
            soft = self._soft_404_body(res, url=target.url, outside=not target.internal)
            if soft:
                return ErrorKind.SOFT_404, soft
        return None

    def soft_404(self, page: Page, *, outside: bool = False) -> str:
        """Why an HTTP 200 page is really a "not found" page ('' when it is not). The title of a page
        ``outside`` the site is quoted at most OUTSIDE_TITLE_CHARS long."""
        limit = OUTSIDE_TITLE_CHARS if outside else 60
        for pattern in self.soft404:
            if pattern.search(page.title):
                return f"标题为“{page.title[:limit]}”"
        text = page.visible_text()
        if len(text) > SOFT_404_MAX_TEXT:
            return ""
        for pattern in self.soft404:
            m = pattern.search(text)
            if m:
                return f"页面内容含“{m.group(0)}”"
        return ""

    def confirm_pause(self, target: Target) -> float:
        """How long after it was first seen a failure is fetched again (see NOT_FOUND_STATUSES)."""
        res = target.result
        if target.failure == ErrorKind.HTTP and res is not None and res.status in NOT_FOUND_STATUSES:
            return 0.0
        return self.confirm_delay

    def retry_after(self, target: Target) -> float | None:
        """How long a 429's Retry-After asks us to wait from now (capped like every Retry-After); None
        when the failure is not a 429 that says."""
        res = target.result
        if res is None or res.status != 429 or res.retry_after is None:
            return None
        return min(res.retry_after, self.max_retry_after)

    def site_down_sign(self, target: Target, failure: ErrorKind | None) -> bool:
        """This failure of the site's own link may mean the whole site is down (a connection failure)."""
        return target.internal and failure in CONNECTION_ERRORS

    def _soft_404_body(self, res: FetchResult, url: str | None = None, *, outside: bool = False) -> str:
        assert res.body is not None
        text, enc = decode_body(res.body, res.content_type_header)
        page = Page(url or res.url, res.final_url or url or res.url, res.status or 0, 0, text, enc)
        try:
            return self.soft_404(page, outside=outside)
        finally:
            page.release()
