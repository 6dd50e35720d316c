"""The checks, one module each, and the registry the runner picks them from."""

from __future__ import annotations

from checks.availability import AvailabilityCheck
from checks.base import CheckContext, CheckOutcome, PageCheck, SiteCheck, SiteMemory, UnitResolver
from checks.columns import ColumnsCheck, UnitsCheck
from checks.darklinks import DarkLinksCheck
from checks.identity import IdentityCheck
from checks.links import LinksCheck
from checks.newmedia import NewMediaCheck
from checks.text import PrivacyCheck, SensitiveCheck, TyposCheck

#: Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
PAGE_CHECKS: dict[str, type[PageCheck]] = {
    LinksCheck.name: LinksCheck,
    DarkLinksCheck.name: DarkLinksCheck,
    TyposCheck.name: TyposCheck,
    SensitiveCheck.name: SensitiveCheck,
    PrivacyCheck.name: PrivacyCheck,
}

#: Crawl duties that switch on several page checks on one crawl (besides ``patrol``, which runs all).
PAGE_CHECK_GROUPS: dict[str, tuple[str, ...]] = {
    "text": (TyposCheck.name, SensitiveCheck.name, PrivacyCheck.name),
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
    "PAGE_CHECK_GROUPS",
    "SITE_CHECKS",
    "CheckContext",
    "CheckOutcome",
    "PageCheck",
    "SiteCheck",
    "SiteMemory",
    "UnitResolver",
]
