"""The checks, one module each, and the registry the runner picks them from.

The registries name each check's class by module and import it on first use, so ``monitor run links``
does not import the new-media, columns or availability checks and their dependencies, and an analysis
worker process imports only the analyzers it runs. ``tests/test_check_registry.py`` keeps the names
here in step with the classes' own ``name``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from checks.base import CheckContext, CheckOutcome, PageCheck, SiteCheck, SiteMemory, UnitResolver
from monitor.core.duties import PAGE_CHECK_GROUPS

C = TypeVar("C")


class LazyRegistry(Mapping[str, type[C]], Generic[C]):
    """Check name -> class, importing ``module:Class`` only when a class is looked up."""

    def __init__(self, paths: dict[str, str]) -> None:
        self._paths = paths
        self._loaded: dict[str, type[C]] = {}

    def __getitem__(self, name: str) -> type[C]:
        cls = self._loaded.get(name)
        if cls is None:
            module, _, attr = self._paths[name].partition(":")  # KeyError for an unknown name
            cls = self._loaded[name] = getattr(importlib.import_module(module), attr)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths


#: Page checks fed by the shared site crawl, keyed by name (the ``duty`` of their findings).
PAGE_CHECKS: LazyRegistry[PageCheck] = LazyRegistry(
    {
        "links": "checks.links.check:LinksCheck",
        "darklinks": "checks.darklinks.check:DarkLinksCheck",
        "typos": "checks.text.check:TyposCheck",
        "sensitive": "checks.text.check:SensitiveCheck",
        "privacy": "checks.text.check:PrivacyCheck",
    }
)

#: Site-level checks (one run per site, or one per config for scope "global"), keyed by duty name.
SITE_CHECKS: LazyRegistry[SiteCheck] = LazyRegistry(
    {
        "newmedia": "checks.newmedia.check:NewMediaCheck",
        "columns": "checks.columns.check:ColumnsCheck",
        "units": "checks.columns.check:UnitsCheck",
        "availability": "checks.availability.check:AvailabilityCheck",
        "identity": "checks.identity.check:IdentityCheck",
    }
)

__all__ = [
    "PAGE_CHECKS",
    "PAGE_CHECK_GROUPS",
    "SITE_CHECKS",
    "CheckContext",
    "CheckOutcome",
    "LazyRegistry",
    "PageCheck",
    "SiteCheck",
    "SiteMemory",
    "UnitResolver",
]
