"""The saved real government pages of ``../shared/realworld/`` are decoys: the dark-link check stays silent.

These 34 pages of 32 real portals carry what synthetic fixtures lack — 无障碍/适老化 toolbars, 友情链接
drop-downs, share menus, bundled libraries, CMS credits, hidden navigation — and they are clean, so every
finding on them is a false alarm (issue 15: 595 of them before the evidence rule).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from monitor.core.clock import FixedClock
from monitor.store.database import Store
from tests.realworld import REALWORLD, findings_by_page, run_on_realworld


async def test_real_government_pages_raise_no_dark_link(tmp_path: Path) -> None:
    manifest = REALWORLD / "manifest.json"
    assert manifest.is_file(), f"{REALWORLD} missing: the repo runs with ../shared beside it"
    store = Store(tmp_path / "rw.db")
    pages, results = await run_on_realworld("darklinks", store, FixedClock(datetime(2026, 12, 4, 2, 0)))
    assert len(pages) >= 34
    assert [r.site.id for r in results if r.status != "ok"] == []
    # every page was analysed, the check did not just skip them
    assert all(r.counts["darklinks"]["pages_analysed"] == 1 for r in results)
    found = [f"{site}: {f['message']}" for site, f in findings_by_page(store, "darklinks")]
    assert found == []
    # what real portals hide (友情链接 drop-downs, share menus) is counted as information only
    assert sum(r.counts["darklinks"]["candidates"] for r in results) > 0
    store.close()
