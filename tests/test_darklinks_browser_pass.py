"""The dark-link check with its browser pass switched on: a real crawl, real Chromium, a real store.

The static pass nominates; Chromium confirms (evidence ``browser_confirmed`` and a screenshot stored
beside the database), refutes (a link the page shows is not a dark link), or cannot tell (the static
evidence stands). Without Chromium the check still reports on static evidence and says it skipped.
"""

from __future__ import annotations

from pathlib import Path

from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config, page
from tests.test_darklinks_browser import needs_chromium

GOV = "www.test.gov.cn"
HOME = f"http://{GOV}/"
SPAM = "www.xpj-test.com"

HIDDEN = f'<div style="position:absolute;left:-9999px"><a href="http://{SPAM}/a.html">澳门新葡京</a></div>'
# Hidden in the markup, shown by the page's own script when it loads: the browser sees it.
REVEALED = (
    f'<div id="tab" style="display:none"><a href="http://{SPAM}/b.html">百家乐</a></div>'
    "<script>document.getElementById('tab').style.display='block';</script>"
)


def serve(sites: LocalSites) -> None:
    sites.html(GOV, "/", page("测试县人民政府", HIDDEN + REVEALED))


@needs_chromium
async def test_browser_confirms_with_a_screenshot_and_refutes_what_the_page_shows(
    sites: LocalSites, tmp_path: Path, clock: FixedClock
) -> None:
    serve(sites)
    config = fast_config(sites, [GOV, SPAM], HOME, darklinks={"browser": {"page_timeout_seconds": 10}})
    with Store(tmp_path / "monitor.db") as store:
        (result,) = await run_duty("darklinks", config, store, clock)
        found = {f["identity"]: f for f in store.findings(duty="darklinks", status="open")}
    # the revealed tab is on screen: not a dark link; the off-screen one is, confirmed
    assert set(found) == {f"{HOME}->http://{SPAM}/a.html"}
    finding = found[f"{HOME}->http://{SPAM}/a.html"]
    assert finding["evidence"]["evidence"][-1] == "browser_confirmed"
    assert finding["evidence"]["browser"]["status"] == "confirmed"
    assert "浏览器渲染确认不可见" in finding["message"]
    (shot,) = [s for s in finding["evidence"]["screenshots"] if s["label"] == "浏览器视图"]
    png = tmp_path / "monitor.db.evidence" / shot["file"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figures = result.counts["darklinks"]["browser_figures"]
    assert (figures["confirmed"], figures["refuted"], figures["pages_loaded"]) == (1, 1, 1)
    assert "1 shown on the page (not reported)" in result.counts["darklinks"]["browser"]
    # the spam page was read once, by the outbound scan's capped GET, never by the browser
    assert sites.count(SPAM, "/a.html") == 1


async def test_without_chromium_the_static_evidence_stands_and_the_summary_says_so(
    sites: LocalSites, tmp_path: Path, clock: FixedClock
) -> None:
    serve(sites)
    missing = str(tmp_path / "no-chromium")
    config = fast_config(
        sites, [GOV, SPAM], HOME, darklinks={"browser": {"enabled": True, "executable_path": missing}}
    )
    with Store(tmp_path / "monitor.db") as store:
        (result,) = await run_duty("darklinks", config, store, clock)
        found = {f["identity"] for f in store.findings(duty="darklinks", status="open")}
    assert found == {f"{HOME}->http://{SPAM}/a.html", f"{HOME}->http://{SPAM}/b.html"}
    line = result.counts["darklinks"]["browser"]
    assert line.startswith("confirmation skipped (") and missing in line
    assert "2 reported on static evidence" in line
