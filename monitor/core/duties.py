"""The names of the duties: which page checks each crawl duty runs, the site-level checks, the special ones.

Pure data at the bottom of the house: the config validates its schedule against these names, the runner
and the daemon run them, and the check registry (``checks.PAGE_CHECKS`` / ``checks.SITE_CHECKS``) must
name exactly these checks, in this order (``tests/test_check_registry.py``).
"""

from __future__ import annotations

#: Page checks fed by the shared site crawl, in the order ``patrol`` runs them.
PAGE_CHECK_NAMES: tuple[str, ...] = ("links", "darklinks", "typos", "sensitive", "privacy")

#: Crawl duties that switch on several page checks on one crawl (besides ``patrol``, which runs all).
PAGE_CHECK_GROUPS: dict[str, tuple[str, ...]] = {"text": ("typos", "sensitive", "privacy")}

#: Site-level checks (one run per site, or one per config for scope "global").
SITE_CHECK_NAMES: tuple[str, ...] = ("newmedia", "columns", "units", "availability", "identity")

#: Duties the daemon runs itself rather than through ``monitor.runner.run_duty``.
SPECIAL_DUTIES: tuple[str, ...] = ("report", "backup")


def crawl_duties() -> dict[str, tuple[str, ...]]:
    """Crawl duties and the page checks each switches on: one per page check, the groups (``text``:
    typos + sensitive + privacy), and ``patrol``, every page check on one crawl."""
    duties: dict[str, tuple[str, ...]] = {name: (name,) for name in PAGE_CHECK_NAMES}
    duties.update(PAGE_CHECK_GROUPS)
    duties["patrol"] = PAGE_CHECK_NAMES
    return duties


def duty_names() -> list[str]:
    """Every duty ``monitor run`` and the daemon know: crawl duties, then site-level checks."""
    return [*crawl_duties(), *SITE_CHECK_NAMES]


def known_duties() -> list[str]:
    """Names a schedule may use: the runnable duties and the daemon's special ones."""
    return [*duty_names(), *SPECIAL_DUTIES]
