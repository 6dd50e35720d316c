"""The checks, one module each, and the registry the runner picks them from.

The registries are built on first use (PEP 562 module ``__getattr__``): importing one check module —
as an analysis worker process does to run the text or dark-link analysis — does not import every other
check and its dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks.base import CheckContext, CheckOutcome, PageCheck, SiteCheck, SiteMemory, UnitResolver

if TYPE_CHECKING:
    PAGE_CHECKS: dict[str, type[PageCheck]]
    PAGE_CHECK_GROUPS: dict[str, tuple[str, ...]]
    SITE_CHECKS: dict[str, type[SiteCheck]]


def _registries() -> dict[str, Any]:
    from checks.availability import AvailabilityCheck
    from checks.columns import ColumnsCheck, UnitsCheck
    from checks.darklinks import DarkLinksCheck
    from checks.identity import IdentityCheck
    from checks.links import LinksCheck
    from checks.newmedia import NewMediaCheck
    from checks.text import PrivacyCheck, SensitiveCheck, TyposCheck

    return {
        # Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
        "PAGE_CHECKS": {
            LinksCheck.name: LinksCheck,
            DarkLinksCheck.name: DarkLinksCheck,
            TyposCheck.name: TyposCheck,
            SensitiveCheck.name: SensitiveCheck,
            PrivacyCheck.name: PrivacyCheck,
        },
        # Crawl duties that switch on several page checks on one crawl (besides ``patrol``, which runs all).
        "PAGE_CHECK_GROUPS": {"text": (TyposCheck.name, SensitiveCheck.name, PrivacyCheck.name)},
        # Site-level checks (one run per site, or one per config for scope "global"), keyed by duty name.
        "SITE_CHECKS": {
            NewMediaCheck.name: NewMediaCheck,
            ColumnsCheck.name: ColumnsCheck,
            UnitsCheck.name: UnitsCheck,
            AvailabilityCheck.name: AvailabilityCheck,
            IdentityCheck.name: IdentityCheck,
        },
    }


def __getattr__(name: str) -> Any:
    if name in ("PAGE_CHECKS", "PAGE_CHECK_GROUPS", "SITE_CHECKS"):
        globals().update(_registries())  # built once; later lookups find the module globals
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
