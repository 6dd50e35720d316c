"""The bundled demo county site: the demo crawl reports every planted dead link and nothing else."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import openpyxl
import yaml

from monitor.app.demo.runner import demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.bulletin_data import problem_rows

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "tests/demo_expected/expected.yaml").read_text(encoding="utf-8"))
EXPECTED_DARKLINKS = yaml.safe_load(
    (REPO / "tests/demo_expected/expected_darklinks.yaml").read_text(encoding="utf-8")
)
# The patrol also runs the text checks: their planted findings are asserted by tests/test_demo_text.py.
EXPECTED_TEXT = yaml.safe_load((REPO / "tests/demo_expected/expected_text.yaml").read_text(encoding="utf-8"))
KIND_TO_FAILURE = {
    "soft_404": "soft_404",
    "dns": "dns",
    "refused": "refused",
    "timeout": "timeout",
    "redirect_loop": "redirect_loop",
    "invalid_url": "invalid_url",
}


async def test_demo_crawl_reports_exactly_the_planted_dead_links(tmp_path: Path, clock: FixedClock) -> None:
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        # The timeout trap must still time out (2.5 s > the 2 s slow-but-fine page); the pauses between
        # asking again only cost time here (the demo's traps count requests, not seconds), and so does
        # watching pages that never redirect (the demo's planted script redirects leave at once).
        fast = {"timeout_seconds": 2.5, "retry_backoff_seconds": 0.05, "confirm_delay_seconds": 0.05}
        browser = config.darklinks.browser.model_copy(update={"redirect_watch_seconds": 1.0})
        config = config.model_copy(
            update={
                "crawl": config.crawl.model_copy(update=fast),
                "darklinks": config.darklinks.model_copy(update={"browser": browser}),
            }
        )
        with Store(tmp_path / "demo.db") as store:
            results = await run_duty("patrol", config, store, clock)
            found = {f["url"]: f for f in store.findings(status="open", site="portal", duty="links")}
            elsewhere = [f["url"] for f in store.findings(status="open") if f["site"] != "portal"]
            others = {
                (f["duty"], f["identity"])
                for f in store.findings(status="open", site="portal")
                if f["duty"] != "links"
            }
    finally:
        await server.close()
    assert [r.status for r in results] == ["ok"] * len(config.sites)
    (result,) = [r for r in results if r.site.id == "portal"]
    assert elsewhere == []  # the other demo sites (identity fixtures) crawl clean
    planted = {d["url"]: d for d in EXPECTED["dead_links"]}
    assert set(found) == set(planted)  # every planted dead link, and no decoy
    # The only other findings of the patrol are the planted dark links (tests/test_demo_darklinks.py)
    # and text problems (tests/test_demo_text.py).
    planted_text = {(d["duty"], d["url"], d["wrong"]) for d in EXPECTED_TEXT["findings"]}
    assert {o for o in others if o[0] == "darklinks"} == {
        ("darklinks", d["identity"]) for d in EXPECTED_DARKLINKS["findings"]
    }
    text_found = {(d, i.split("#")[0]) for d, i in others if d != "darklinks"}
    assert text_found == {(duty, url) for duty, url, _ in planted_text}
    for url, spec in planted.items():
        f = found[url]
        assert (f["kind"] == "homepage_dead_link") == spec["homepage"], url
        assert len(f["source_urls"]) >= spec["min_sources"], url
        kind = spec["kind"]
        if kind.startswith("http_"):
            assert (f["evidence"]["failure"], f["evidence"]["status"]) == ("http", int(kind[5:])), url
        else:
            assert f["evidence"]["failure"] == KIND_TO_FAILURE[kind], url
    # Units are named from the source page (the orphan 审计局 page's dead link).
    assert found["http://www.shixian.gov.cn/zwgk/bm/sjj/art_5401.html"]["unit"] == "县审计局"
    assert result.counts["skipped"].get("query_variants", 0) >= 1  # the calendar trap was capped


async def test_monitor_demo_command_end_to_end(tmp_path: Path) -> None:
    """What the README's first command ends with: a finished demo run, its findings, and a bulletin."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(REPO / "config.yaml"),
        "--db",
        str(tmp_path / "d.db"),
        "demo",
        "--port",
        "0",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "MONITOR_REPORTS": str(tmp_path / "reports")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    planted = (
        len(EXPECTED["dead_links"]) + len(EXPECTED_DARKLINKS["findings"]) + len(EXPECTED_TEXT["findings"])
    )
    assert f"新发现{planted}，" in text
    assert "首页链接“学习教育专题”无法访问：HTTP 404" in text
    # The bulletin for the week of the run, which is still running: the path is printed.
    (folder,) = (tmp_path / "reports").iterdir()
    assert re.fullmatch(r"\d{4}-W\d{2}", folder.name)
    assert f"{folder / 'bulletin.html'}" in text
    html = (folder / "bulletin.html").read_text(encoding="utf-8")
    assert "首页链接“学习教育专题”无法访问" in html and "本周监测尚未结束" in html
    assert "http://www.shixian.gov.cn/ztzl/2021/xxjy/index.html" in html
    assert "学习教育专题" in (folder / "bulletin.txt").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(folder / f"{folder.name}问题清单.xlsx")  # named as the bulletin names it
    rows = list(problem_rows(wb))
    urls = {row[6] for row in rows}
    assert {d["url"] for d in EXPECTED["dead_links"]} <= urls  # every planted dead link is listed …
    # … and every open finding of every duty, once (the unit inspection's repeats of column findings
    # are listed under the column audit).
    with Store(tmp_path / "d.db") as store:
        open_rows = list(store.findings(status="open"))
    columns_keys = {(f["site"], f["kind"], f["identity"]) for f in open_rows if f["duty"] == "columns"}
    expected = [
        f
        for f in open_rows
        if not (f["duty"] == "units" and (f["site"], f["kind"], f["identity"]) in columns_keys)
    ]
    assert len(rows) == len(expected)
