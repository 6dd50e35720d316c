"""The checks, one module each, and the registry the runner picks them from."""

from __future__ import annotations

from checks.availability import AvailabilityCheck
from checks.base import CheckContext, CheckOutcome, PageCheck, SiteCheck, SiteMemory, UnitResolver
from checks.columns import ColumnsCheck, UnitsCheck
from checks.darklinks import DarkLinksCheck
from checks.identity import IdentityCheck
from checks.links import LinksCheck
from checks.newmedia import NewMediaCheck

#: Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
PAGE_CHECKS: dict[str, type[PageCheck]] = {
    LinksCheck.name: LinksCheck,
    DarkLinksCheck.name: DarkLinksCheck,
}

#: Site-level checks (one run per site, or one per config for scope "global"), keyed by duty name.
SITE_CHECKS: dict[str, type[SiteCheck]] = {
    NewMediaCheck.name: NewMediaCheck,
    ColumnsCheck.name: ColumnsCheck,
    UnitsCheck.name: UnitsCheck,
    AvailabilityCheck.name: AvailabilityCheck,
    IdentityCheck.name: IdentityCheck,
}

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
