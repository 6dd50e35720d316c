"""The bundled demo county site: the demo crawl reports every planted dead link and nothing else."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import yaml

from monitor.clock import FixedClock
from monitor.config import load_config
from monitor.demo.runner import demo_config
from monitor.demo.server import start_demo_server
from monitor.runner import run_duty
from monitor.store import Store

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "monitor" / "demo" / "expected.yaml").read_text(encoding="utf-8"))
# The patrol also runs the text checks: their planted findings are asserted by tests/test_demo_text.py.
EXPECTED_TEXT = yaml.safe_load((REPO / "monitor" / "demo" / "expected_text.yaml").read_text(encoding="utf-8"))
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
        config = config.model_copy(update={"crawl": config.crawl.model_copy(update={"timeout_seconds": 2.5})})
        with Store(tmp_path / "demo.db") as store:
            (result,) = await run_duty("patrol", config, store, clock)
            found = {f["url"]: f for f in store.findings(status="open", duty="links")}
    finally:
        await server.close()
    assert result.status == "ok"
    planted = {d["url"]: d for d in EXPECTED["dead_links"]}
    assert set(found) == set(planted)  # every planted dead link, and no decoy
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
    """What the README's first command ends with: a finished demo run and its findings in SQLite."""
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
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert f"findings: {len(EXPECTED['dead_links']) + len(EXPECTED_TEXT['findings'])} new" in text
    assert "首页链接“学习教育专题”无法访问：HTTP 404" in text
