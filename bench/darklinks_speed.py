"""Micro-benchmark of the dark-link engine on the realistic portal fixture.

Run:  PYTHONPATH=$PWD python bench/darklinks_speed.py [--repeat N]

Prints ms/page for the portal homepage as shipped (~16 KB) and inflated to ~200 KB by repeating its
tabbed news lists (a worst case: ~1,000 links, nearly all inside CSS-hidden tab panes, so every one
of them goes through the decision rule), both with the site stylesheet supplied.

"cold" clears the engine's URL / verdict caches before every run (a page whose links the process has
never seen); "warm" keeps them (a site's navigation repeats on every page).  The stylesheet stays
parsed in both: it is shared by every page of a site.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from checks.darklinks import engine as darklinks_engine
from checks.darklinks.engine import DarkLinkOptions, analyze_page

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "darklinks"
PAGE_URL = "http://www.shixian.gov.cn/"
OPTIONS = DarkLinkOptions(site_domains=("shixian.gov.cn",))


def inflate(html: str, target_bytes: int) -> str:
    """Repeat the news-list items until the page reaches ``target_bytes``."""
    items = re.findall(r"<li><a href=\"/zwyw/[^\n]*</li>", html)
    block = "\n".join(items)
    extra: list[str] = []
    size = len(html.encode())
    n = 0
    while size < target_bytes:
        chunk = block.replace(".html", f"_{n}.html")
        extra.append(f'<div class="pane"><ul class="news-list">\n{chunk}\n</ul></div>')
        size += len(chunk.encode()) + 50
        n += 1
    return html.replace('</div>\n<div class="zt">', "\n".join(extra) + '</div>\n<div class="zt">', 1)


def clear_page_caches() -> None:
    """Forget resolved URLs and link verdicts (not the parsed stylesheet)."""
    darklinks_engine._resolve_cached.cache_clear()
    darklinks_engine._verdict.cache_clear()


def measure(html: str, css: dict[str, str], repeat: int) -> tuple[float, float, int]:
    """(median cold ms, median warm ms over ``repeat`` runs each, hit count)."""
    hits = analyze_page(html, PAGE_URL, OPTIONS, css)  # parse the stylesheet, load the lexicons
    cold, warm = [], []
    for _ in range(repeat):
        clear_page_caches()
        t0 = time.perf_counter()
        analyze_page(html, PAGE_URL, OPTIONS, css)
        cold.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        analyze_page(html, PAGE_URL, OPTIONS, css)
        warm.append((time.perf_counter() - t0) * 1000)
    return statistics.median(cold), statistics.median(warm), len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    html = (FIXTURES / "portal_homepage.html").read_text(encoding="utf-8")
    css = {
        "http://www.shixian.gov.cn/css/portal.css": (FIXTURES / "css" / "portal.css").read_text(
            encoding="utf-8"
        )
    }
    for label, page in (("portal as shipped", html), ("portal inflated", inflate(html, 200_000))):
        cold, warm, hits = measure(page, css, args.repeat)
        size_kb = len(page.encode()) / 1024
        links = page.count("<a ")
        print(
            f"{label:18s} {size_kb:6.1f} KB {links:5d} links  "
            f"cold {cold:6.2f} ms/page  warm {warm:6.2f} ms/page  ({hits} hit)"
        )


if __name__ == "__main__":
    main()
