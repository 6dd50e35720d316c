"""The saved real government pages of ``../shared/realworld/`` as a loopback site, and a check run over them.

Each manifest record becomes one configured site whose homepage is the saved page's original URL; the
pages' hosts are served by an aiohttp server on 127.0.0.1 keyed by the Host header (bytes exactly as
saved, HTML as ``text/html`` without a charset, like the corpus's own ``serve.py``), and every other host
is ``nxdomain`` — nothing leaves loopback. The crawl stops at the saved page (``max_pages: 1``).

Used by the decoy tests (``tests/test_darklinks_realworld.py``) and by the measurement
``bench/darklinks_realworld.py``; these pages are clean, so every finding on them is a false alarm.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.config import Config, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"
_HTML = (".html", ".htm", ".shtml", ".jsp")


@dataclass(frozen=True)
class RealPage:
    """One saved page: its site id in the generated config, host and original URL."""

    site_id: str
    host: str
    url: str


def real_pages(root: Path = REALWORLD) -> list[RealPage]:
    """Every page of the corpus manifest, in manifest order."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return [
        RealPage(f"rw{i:02d}", rec["site"].lower(), rec["original_url"]) for i, rec in enumerate(manifest)
    ]


def _app(root: Path) -> web.Application:
    sites = (root / "sites").resolve()

    async def handle(request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0].lower()
        path = request.path + ("index.html" if request.path.endswith("/") else "")
        base = sites / host
        target = (base / path.lstrip("/")).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return web.Response(status=404, text="404 Not Found")
        ext = target.suffix.lower()
        guessed = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        ctype = "text/html" if ext in _HTML else guessed
        return web.Response(body=target.read_bytes(), headers={"Content-Type": ctype})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@asynccontextmanager
async def serve_realworld(root: Path = REALWORLD) -> Any:
    """Serve the corpus on 127.0.0.1; yields the port."""
    runner = web.AppRunner(_app(root), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port
    finally:
        await runner.cleanup()


def realworld_config(port: int, pages: list[RealPage], extra: dict[str, Any] | None = None) -> Config:
    """One site per saved page, its hosts on the loopback server, every other host nxdomain."""
    hosts = sorted({p.host for p in pages})
    mapping: dict[str, Any] = {
        "sites": [{"id": p.site_id, "name": p.host, "homepage": p.url} for p in pages],
        "crawl": {
            "max_pages": 1,
            "timeout_seconds": 5,
            "retries": 0,
            # Every other host is nxdomain: the dark-link check's second try of an outbound target
            # (retries=1 of its own) must not wait out the default 1 s backoff on each of 34 sites.
            "retry_backoff_seconds": 0.02,
            "confirm_delay_seconds": 0,
            "analysis_workers": 0,
            "host_overrides": {**{h: f"127.0.0.1:{port}" for h in hosts}, "*": "nxdomain"},
        },
    }
    for key, value in (extra or {}).items():
        mapping[key] = {**mapping.get(key, {}), **value} if isinstance(value, dict) else value
    return config_from_mapping(mapping)


async def run_on_realworld(
    duty: str, store: Store, clock: FixedClock, extra: dict[str, Any] | None = None
) -> tuple[list[RealPage], list[SiteRunResult]]:
    """Run ``duty`` over every saved page; returns the pages and one run result per page."""
    pages = real_pages()
    async with serve_realworld() as port:
        config = realworld_config(port, pages, extra)
        results = await run_duty(duty, config, store, clock)
    return pages, results


def findings_by_page(store: Store, duty: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(site id, finding) for every open finding of ``duty``."""
    for finding in store.findings(duty=duty, status="open"):
        yield finding["site"], finding
