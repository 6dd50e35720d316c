"""The checks, one module each, and the registry the runner picks them from."""

from __future__ import annotations

from checks.base import CheckContext, CheckOutcome, PageCheck, SiteCheck, SiteMemory, UnitResolver
from checks.darklinks import DarkLinksCheck
from checks.links import LinksCheck

#: Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
PAGE_CHECKS: dict[str, type[PageCheck]] = {
    LinksCheck.name: LinksCheck,
    DarkLinksCheck.name: DarkLinksCheck,
}

#: Site-level checks (one run per site, or one per config for scope "global"), keyed by duty name.
SITE_CHECKS: dict[str, type[SiteCheck]] = {}

__all__ = [
    "PAGE_CHECKS",
    "SITE_CHECKS",
    "CheckContext",
    "CheckOutcome",
    "PageCheck",
    "SiteCheck",
    "SiteMemory",
    "UnitResolver",
]
