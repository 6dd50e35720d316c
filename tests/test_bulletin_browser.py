"""The bulletin page in real headless Chromium (Debian's /usr/bin/chromium): nothing runs off the right
edge on a narrow screen, and printing gives A4 pages with the attachments on landscape pages."""

from __future__ import annotations

import io
import os

import pytest
from playwright.sync_api import sync_playwright
from pypdf import PdfReader

from monitor.bulletin.publish import Report, render_report
from monitor.store.database import Store
from tests.bulletin_full import W48, fill_every_kind, full_config

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is installed by .ci/run"
)

#: Where each table's right edge is, and the page's width, as the browser laid them out.
MEASURE = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  tables: [...document.querySelectorAll('table.grid')].map(t => ({
    right: t.getBoundingClientRect().right,
    head: t.querySelector('th') ? t.querySelector('th').textContent : '',
  })),
  unitCells: [...document.querySelectorAll('table.list')]
    .filter(t => t.querySelector('th:nth-child(2)').textContent === '单位')
    .flatMap(t => [...t.querySelectorAll('tbody td:nth-child(2)')]
      .map(td => td.getBoundingClientRect().width)),
})"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("browser")
    with Store(folder / "m.db") as store:
        clock = fill_every_kind(store, per_kind=2)
        return render_report(store, full_config(), W48, clock, folder / "reports")


def test_the_page_fits_700_and_1000_pixels_and_prints_on_a4(report: Report) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 700, "height": 900})
            page.goto(report.html.as_uri())
            narrow = page.evaluate(MEASURE)
            page.set_viewport_size({"width": 1000, "height": 900})
            wide = page.evaluate(MEASURE)
            # As a browser prints it: A4, with the page sizes the stylesheet asks for (landscape 附件).
            pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
    for seen in (narrow, wide):
        assert seen["scrollWidth"] <= seen["innerWidth"], seen["scrollWidth"]
        over = [t["head"] for t in seen["tables"] if t["right"] > seen["innerWidth"]]
        assert not over, f"tables past the right edge at {seen['innerWidth']} px: {over}"
    # 单位 keeps room for its names (the old layout squeezed it to one character per line, ~20 px).
    assert narrow["unitCells"] and min(narrow["unitCells"]) >= 55
    pages = PdfReader(io.BytesIO(pdf)).pages
    # A4 is 595.3 × 841.9 points; Chromium rounds to whole CSS pixels.
    sizes = [("portrait" if p.mediabox.height > p.mediabox.width else "landscape") for p in pages]
    assert all(abs(min(p.mediabox.width, p.mediabox.height) - 595.3) < 2 for p in pages)
    assert all(abs(max(p.mediabox.width, p.mediabox.height) - 841.9) < 2 for p in pages)
    assert sizes[0] == "portrait" and sizes[-1] == "landscape", sizes  # the attachments: landscape
