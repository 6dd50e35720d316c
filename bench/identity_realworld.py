"""False alarms of the site-identity check on the saved real government pages (``../shared/realworld/``).

Usage, from the repository root::

    .venv/bin/python bench/identity_realworld.py [--verbose] [--as-homepage]

Serves the 34 saved pages on 127.0.0.1 (every other host nxdomain), runs the ``identity`` duty with each
page as a site's configured homepage and prints, per page, the items it reported missing. The pages are
clean (their sites carry their identity marks), and they are article pages: every finding is a false
alarm. The target: zero findings. Prints the count per kind as well, before/after figures in one line.

``--as-homepage`` measures the footer reading itself: each saved page is judged *as if* it were its
site's homepage (their footers are the sites' common footers), once from its HTML alone and once with
its footer includes (same-site scripts, frames), and prints how many pages lack each item either way.
The 找错 entry and the SiteIDCode meta are homepage matters an article template may drop: counted, not
a target.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.identity.check import _FOOTER_ITEMS, _fetch_html, _read_includes, inspect_identity
from monitor.core.clock import FixedClock
from monitor.store.database import Store
from monitor.web.egress import EgressPolicy
from monitor.web.fetch import Fetcher
from tests.realworld import findings_by_page, real_pages, realworld_config, run_on_realworld, serve_realworld


async def as_homepage(verbose: bool) -> int:
    """Footer items missing per page, from the HTML alone and with the footer includes."""
    pages = real_pages()
    inline: Counter[str] = Counter()
    included: Counter[str] = Counter()
    reads = 0
    async with serve_realworld() as port:
        config = realworld_config(port, pages)
        async with Fetcher(config.crawl, egress=EgressPolicy.for_config(config)) as fetcher:
            for page in pages:
                got = await _fetch_html(fetcher, page.url)
                if isinstance(got, str):
                    print(f"{page.site_id} cannot be read: {got}")
                    continue
                html, final = got
                alone = inspect_identity(html, page.url, (".gov.cn",))
                includes = await _read_includes(fetcher, html, final) if set(alone.missing) else []
                reads += len(includes)
                full = inspect_identity(html, page.url, (".gov.cn",), includes)
                inline.update(alone.missing)
                included.update(full.missing)
                if verbose:
                    print(f"{page.site_id} {page.host:28} alone {alone.missing} with includes {full.missing}")
    items = [*sorted(_FOOTER_ITEMS - {"zhaocuo"}), "zhaocuo", "meta"]
    print(f"pages {len(pages)}  includes read {reads}")
    print("missing from the HTML alone: " + ", ".join(f"{k} {inline[k]}" for k in items))
    print("missing with the includes:   " + ", ".join(f"{k} {included[k]}" for k in items))
    return 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every finding's message")
    parser.add_argument("--as-homepage", action="store_true", help="judge each page as its site's homepage")
    args = parser.parse_args()
    if args.as_homepage:
        return await as_homepage(args.verbose)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "rw.db")
        clock = FixedClock(datetime(2026, 12, 4, 2, 0))
        started = time.perf_counter()
        pages, results = await run_on_realworld("identity", store, clock)
        elapsed = time.perf_counter() - started
        per_page: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        details: list[str] = []
        for site_id, finding in findings_by_page(store, "identity"):
            per_page[site_id] += 1
            kinds[finding["kind"]] += 1
            details.append(f"  {site_id} {finding['kind']}: {finding['message'][:160]}")
        failed = [r.site.id for r in results if r.status != "ok"]
        host = {p.site_id: p.host for p in pages}
        for site_id, n in sorted(per_page.items()):
            print(f"{site_id} {host[site_id]:28} {n}")
        if args.verbose:
            print("\n".join(details))
        total = sum(per_page.values())
        print(
            f"pages {len(pages)}  pages with findings {len(per_page)}  findings {total}  "
            f"by kind {dict(sorted(kinds.items()))}  runs not ok {failed}  {elapsed:.1f} s"
        )
        print("target met (no finding)" if total == 0 else "target NOT met (0 findings on clean pages)")
        store.close()
        return 0 if total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
