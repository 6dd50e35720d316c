"""Screenshots of every console page at 1280 px and 390 px (a phone), for a person to look at.

    .venv/bin/python bench/console_screenshots.py --out /tmp/shots [--findings 3000]

Fills a store (tests/console_data.py: findings of every declared kind over 13 weeks, a screenshot, a
bulletin), starts ``monitor web`` as a subprocess on a free loopback port, logs in with Debian's
Chromium through Playwright (never a downloaded browser) and writes ``<page>-1280.png`` and
``<page>-390.png`` (full pages) into ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from tests.console_harness import CHROMIUM, CHROMIUM_ARGS, ConsoleServer, filled_console

PAGES = (
    ("overview", "/"),
    ("findings", "/findings"),
    ("findings-filtered", "/findings?status=open&overdue=1&sort=deadline"),
    ("finding", None),
    ("units", "/units"),
    ("unit", "/units/%E5%8E%BF%E6%95%99%E8%82%B2%E5%B1%80"),
    ("runs", "/runs"),
    ("bulletins", "/bulletins"),
    ("newmedia", "/newmedia"),
    ("users", "/users"),
    ("login", "/login"),
)


def main() -> int:
    """Fill, serve, shoot."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--findings", type=int, default=3000)
    parser.add_argument("--pages", nargs="*", help="Only these pages (names as in PAGES).")
    parser.add_argument("--max-height", type=int, default=0, help="Cut full pages at this height (0: whole).")
    parser.add_argument("--folder", type=Path, help="Keep the filled store here (reused when present).")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "finding.txt"
        if marker.is_file():
            fp = marker.read_text().strip()
        else:
            fp = filled_console(folder, args.findings, screenshot=True, bulletin=True)
            marker.write_text(fp)
        with ConsoleServer(folder) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                for width in (1280, 390):
                    context = browser.new_context(
                        viewport={"width": width, "height": 900}, device_scale_factor=1
                    )
                    page = context.new_page()
                    server.login(page, "admin", "admin-password-23")
                    for name, path in PAGES:
                        if args.pages and name not in args.pages:
                            continue
                        if name == "login":
                            context.clear_cookies()
                        page.goto(server.url + (path or f"/findings/{fp}"))
                        height = page.evaluate("document.documentElement.scrollHeight")
                        if args.max_height:
                            height = min(height, args.max_height)
                        clip = {"x": 0, "y": 0, "width": width, "height": height}
                        page.screenshot(path=str(args.out / f"{name}-{width}.png"), full_page=True, clip=clip)
                    context.close()
            finally:
                browser.close()
    for shot in sorted(args.out.glob("*.png")):
        print(shot)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MONITOR_LANG", "en")
    raise SystemExit(main())
