"""False alarms of the dark-link check on the saved real government pages (``../shared/realworld/``).

Usage, from the repository root::

    .venv/bin/python bench/darklinks_realworld.py [--browser] [--verbose]

Serves the 34 saved pages on 127.0.0.1 (every other host nxdomain), runs ``darklinks`` on each as its own
site and prints, per page, the findings it raised. The pages are clean: every finding is a false alarm.
The target (issue 15): zero veto-level findings and at most one finding of any kind per 20 pages.
``--browser`` turns on the headless-Chromium confirmation pass (``darklinks.browser``).
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

from monitor.core.clock import FixedClock
from monitor.store.database import Store
from tests.realworld import findings_by_page, run_on_realworld


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="confirm candidates in headless Chromium")
    parser.add_argument("--verbose", action="store_true", help="print every finding's message")
    args = parser.parse_args()
    extra = {"darklinks": {"browser": {"enabled": args.browser}}}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "rw.db")
        clock = FixedClock(datetime(2026, 12, 4, 2, 0))
        started = time.perf_counter()
        pages, results = await run_on_realworld("darklinks", store, clock, extra)
        elapsed = time.perf_counter() - started
        per_page: Counter[str] = Counter()
        severities: Counter[str] = Counter()
        details: list[str] = []
        for site_id, finding in findings_by_page(store, "darklinks"):
            per_page[site_id] += 1
            severities[finding["severity"]] += 1
            message = finding["message"][:200]
            details.append(f"  {site_id} {finding['severity']:8} {finding['kind']}: {message}")
        failed = [r.site.id for r in results if r.status != "ok"]
        host = {p.site_id: p.host for p in pages}
        for site_id, n in sorted(per_page.items()):
            print(f"{site_id} {host[site_id]:24} {n}")
        if args.verbose:
            print("\n".join(details))
        total = sum(per_page.values())
        print(
            f"pages {len(pages)}  pages with findings {len(per_page)}  findings {total}  "
            f"veto {severities.get('veto', 0)}  by severity {dict(severities)}  runs not ok {failed}  "
            f"{elapsed:.1f} s"
        )
        ok = severities.get("veto", 0) == 0 and total * 20 <= len(pages)
        print("target met" if ok else "target NOT met (0 veto, at most 1 finding per 20 pages)")
        store.close()
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
