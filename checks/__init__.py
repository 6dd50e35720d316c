"""The checks, one module each, and the registry the runner picks them from."""

from __future__ import annotations

from checks.base import CheckContext, PageCheck, UnitResolver
from checks.links import LinksCheck

#: Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
PAGE_CHECKS: dict[str, type[PageCheck]] = {
    LinksCheck.name: LinksCheck,
}

__all__ = ["PAGE_CHECKS", "CheckContext", "PageCheck", "UnitResolver"]
