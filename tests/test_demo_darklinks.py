"""The demo county site: the dark-link check finds every planted instance and nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from monitor.app.demo.runner import demo_config
from monitor.app.demo.server import DemoServer, start_demo_server
from monitor.config import BAIDUSPIDER_USER_AGENT, Config, load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.fetch import Fetcher

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "tests/demo_expected/expected_darklinks.yaml").read_text(encoding="utf-8"))


@pytest.fixture
async def demo(clock: FixedClock) -> AsyncIterator[tuple[DemoServer, Config]]:
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        # The demo's timeout trap and slow page are the link check's business: do not wait for them here.
        fast = {"timeout_seconds": 1.0, "retries": 0, "confirm_delay_seconds": 0.0}
        # The planted script redirects leave during the load: watching the other pages 3 s for a late
        # redirect only costs time here (tests/test_darklinks_browser*.py watch 1 s too).
        browser = config.darklinks.browser.model_copy(update={"redirect_watch_seconds": 1.0})
        config = config.model_copy(
            update={
                "crawl": config.crawl.model_copy(update=fast),
                "darklinks": config.darklinks.model_copy(update={"browser": browser}),
            }
        )
        yield server, config
    finally:
        await server.close()


async def test_demo_crawl_finds_every_planted_dark_link_and_nothing_else(
    demo: tuple[DemoServer, Config], tmp_path: Path, clock: FixedClock
) -> None:
    _, config = demo
    with Store(tmp_path / "demo.db") as store:
        results = await run_duty("darklinks", config, store, clock)
        (result,) = [r for r in results if r.site.id == "portal"]
        # The two small identity-fixture sites carry no dark links.
        assert all(r.status == "ok" and not r.findings for r in results if r.site.id != "portal")
        found = {f["identity"]: f for f in store.findings(duty="darklinks", status="open")}
        (again,) = [r for r in await run_duty("darklinks", config, store, clock) if r.site.id == "portal"]
    assert result.status == "ok"
    planted = {e["identity"]: e for e in EXPECTED["findings"]}
    assert set(found) == set(planted)  # every planted instance; no decoy, no other page
    for identity, spec in planted.items():
        f = found[identity]
        assert f["kind"] == spec["kind"], identity
        assert f["severity"] == "veto", identity
        assert f["evidence"].get("technique_kind") == spec["engine"], identity
        assert spec["evidence"] in json.dumps(f["evidence"], ensure_ascii=False), identity
    for decoy in EXPECTED["decoys"]:
        on_page = [i for i in found if i.startswith((decoy["url"] + "->", decoy["url"] + "#"))]
        if "target" in decoy:
            on_page = [i for i in on_page if i.startswith(decoy["url"] + "->" + decoy["target"])]
        assert on_page == [], decoy["url"]
    (w1,) = result.counts["indicators"]
    assert (w1["indicator"], w1["verdict"], w1["value"]) == ("W1", "fail", float(len(planted)))
    # 专题 index, art_01, art_02 and 走进示县 (the decayed 友情链接 is on the 专题 index too)
    assert w1["figure"].startswith(f"发现暗链/违规外链{len(planted)}处（涉及4个页面")
    # The next day: the same findings (stable identities), nothing new, no defacement of the homepage.
    assert (again.outcome.new, again.outcome.seen_again, again.outcome.resolved) == (0, len(planted), 0)


async def test_demo_cloaking_is_served_to_spiders_only(demo: tuple[DemoServer, Config]) -> None:
    _, config = demo
    url = "http://www.shixian.gov.cn/zjsx/"
    async with Fetcher(config.crawl) as fetcher:
        browser = await fetcher.fetch(url)
        spider = await fetcher.fetch(url, headers={"User-Agent": BAIDUSPIDER_USER_AGENT})
    assert browser.ok and spider.ok
    assert browser.body is not None and spider.body is not None
    assert b"xpj-demo-casino" not in browser.body
    assert spider.body.count(b"http://www.xpj-demo-casino.com/spider-") == 2
    assert (
        spider.body.replace(spider.body[spider.body.find(b'<div class="seo-links">') :], b"") in browser.body
    )
