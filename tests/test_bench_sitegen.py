"""The patrol benchmark's synthetic site stays what the benchmark says it is (no timing here).

The generator must keep every page reachable, plant exactly the broken URLs it lists, and the monitor
must find exactly those on a small generated site served like the benchmark serves it (static server
on 127.0.0.1, quirky external server on 127.0.0.2 with 404/500/slow/429-then-200 URLs).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bench.servers import quirky_app, static_app
from bench.sitegen import generate
from monitor.config import config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store

HREF = re.compile(r'(?:href|src)="([^"]+)"')


def test_every_page_is_reachable_and_planted_targets_are_missing(tmp_path: Path) -> None:
    site = generate(tmp_path, 120, "http://127.0.0.2:9")
    files = {
        "/" if p.name == "index.html" else "/" + str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.*")
    }
    seen, todo = {"/"}, ["/"]
    internal_refs: set[str] = set()
    while todo:
        path = todo.pop()
        html = (tmp_path / ("index.html" if path == "/" else path.lstrip("/"))).read_text("utf-8")
        for href in HREF.findall(html):
            if href.startswith("http"):
                continue
            internal_refs.add(href)
            if href.endswith(".html") and href in files and href not in seen:
                seen.add(href)
                todo.append(href)
    assert len(seen) == 120  # every page reachable from the homepage
    assert {r for r in internal_refs if r not in files} == set(site.broken_internal)
    assert 25 <= site.links_per_page <= 35
    kinds = {u.split("/")[3] for u in site.broken_external}
    assert kinds == {"404", "500"}
    assert {u.split("/")[3] for u in site.transient_external} == {"slow", "429"}
    again = generate(tmp_path / "again", 120, "http://127.0.0.2:9")
    assert again.broken_internal == site.broken_internal  # deterministic for a seed


@pytest.fixture
async def bench_servers(tmp_path: Path) -> AsyncIterator[tuple[str, str, Path]]:
    runners = []
    ports = []
    for host, app in (("127.0.0.1", static_app(tmp_path / "site")), ("127.0.0.2", quirky_app(0.2))):
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, host, 0)
        await site.start()
        runners.append(runner)
        ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.2:{ports[1]}", tmp_path / "site"
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_monitor_finds_exactly_the_planted_set(
    bench_servers: tuple[str, str, Path], store: Store, clock: FixedClock
) -> None:
    site_base, ext_base, root = bench_servers
    site = generate(root, 60, ext_base)
    config = config_from_mapping(
        {
            "crawl": {
                "timeout_seconds": 1.5,
                "retry_backoff_seconds": 0.05,
                "max_retry_after_seconds": 2,
                "confirm_delay_seconds": 0.05,
                # The quirky server on 127.0.0.2 stands in for the internet's external sites.
                "allow_private": [ext_base],
            }
        }
    )
    (result,) = await run_duty("links", config, store, clock, url=site_base + "/")
    assert result.counts["pages_crawled"] == 60
    reported = {f["url"] for f in store.findings(status="open")}
    assert reported == site.planted(site_base)  # the slow and 429-then-200 links are not reported
