"""Real local web servers for tests: virtual hosts on one aiohttp server on 127.0.0.1.

A test describes pages per (host, path); the monitor reaches them through ``crawl.host_overrides``, so
URLs look like production (``http://www.test.gov.cn/…``) while every byte stays on loopback.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from monitor.config import Config, config_from_mapping

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page(title: str, body: str = "", *, links: list[str] | None = None, head: str = "") -> str:
    """A small realistic Chinese CMS page with the given links as <a> items."""
    items = "".join(f'<li><a href="{href}">链接{i}</a></li>' for i, href in enumerate(links or []))
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f'<body><div class="header">示例县人民政府</div><ul class="list">{items}</ul>'
        f'<div class="content">{body or "为深入贯彻落实县委县政府决策部署，现将有关事项通知如下。"}</div>'
        "</body></html>"
    )


@dataclass
class LocalSites:
    """Virtual hosts served by one local server. Add routes with :meth:`html`, :meth:`route`, …"""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    hits: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    active: Counter[str] = field(default_factory=Counter)
    max_active: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _runner: web.AppRunner | None = None

    def route(self, host: str, path: str, handler: Handler) -> None:
        """Serve ``handler`` at http://host/path (path includes any query string)."""
        self.routes[(host, path)] = handler

    def html(
        self,
        host: str,
        path: str,
        body: str | bytes,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve fixed content."""
        data = body.encode("utf-8") if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.Response:
            return web.Response(
                body=data, status=status, headers={"Content-Type": content_type, **(headers or {})}
            )

        self.route(host, path, handler)

    def status(self, host: str, path: str, status: int, *, headers: dict[str, str] | None = None) -> None:
        """Serve an empty response with a status."""
        self.html(host, path, f"<html><body>{status}</body></html>", status=status, headers=headers)

    def redirect(self, host: str, path: str, location: str, status: int = 302) -> None:
        """Serve a redirect."""

        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": location})

        self.route(host, path, handler)

    def sequence(self, host: str, path: str, responses: list[tuple[int, dict[str, str], str]]) -> None:
        """Answer with each response in turn; the last one repeats."""
        state = {"i": 0}

        async def handler(request: web.Request) -> web.Response:
            i = min(state["i"], len(responses) - 1)
            state["i"] += 1
            status, headers, body = responses[i]
            return web.Response(
                status=status,
                headers={"Content-Type": "text/html; charset=utf-8", **headers},
                body=body.encode("utf-8"),
            )

        self.route(host, path, handler)

    def held(self, host: str, path: str, body: str) -> asyncio.Event:
        """Answer only once the returned event is set: a page that stays in flight until the test has
        seen what it waits for (a slow page of fixed seconds races a loaded machine)."""
        release = asyncio.Event()

        async def handler(request: web.Request) -> web.Response:
            await release.wait()
            return web.Response(text=body, content_type="text/html")

        self.route(host, path, handler)
        return release

    def slow(self, host: str, path: str, seconds: float, body: str) -> None:
        """Answer after a delay."""

        async def handler(request: web.Request) -> web.Response:
            await asyncio.sleep(seconds)
            return web.Response(text=body, content_type="text/html")

        self.route(host, path, handler)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0].lower()
        path = request.path_qs
        self.hits[(request.method, host, path)] += 1
        self.active[host] += 1
        self.max_active[host] = max(self.max_active[host], self.active[host])
        try:
            handler = self.routes.get((host, path)) or self.routes.get((host, request.path))
            if handler is None:
                return web.Response(
                    status=404,
                    text="<html><head><title>404</title></head><body>Not Found</body></html>",
                    content_type="text/html",
                )
            return await handler(request)
        finally:
            self.active[host] -= 1

    async def start(self) -> LocalSites:
        """Listen on 127.0.0.1 at a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def count(self, host: str, path: str, method: str | None = None) -> int:
        """How many requests a path received."""
        return sum(
            n
            for (m, h, p), n in self.hits.items()
            if h == host and p == path and (method is None or m == method)
        )

    def overrides(self, *hosts: str, **special: str) -> dict[str, str]:
        """host_overrides sending ``hosts`` here, plus special entries (e.g. nxdomain)."""
        return {**{h: f"127.0.0.1:{self.port}" for h in hosts}, **special}


def fast_config(
    sites: LocalSites,
    hosts: list[str],
    homepage: str,
    *,
    special: dict[str, str] | None = None,
    crawl: dict[str, Any] | None = None,
    **extra: Any,
) -> Config:
    """A config for one test site with quick timeouts and pauses (tests must not wait for real backoff)."""
    return config_from_mapping(
        {
            "sites": [{"id": "test", "name": "测试县政府网站", "homepage": homepage, "unit": "县政府办公室"}],
            "crawl": {
                "timeout_seconds": 1.5,
                "retries": 2,
                "retry_backoff_seconds": 0.05,
                "max_retry_after_seconds": 2,
                "confirm_delay_seconds": 0.05,
                # In-process analysis: a worker per run would rebuild the text scanner (~2 s) in every
                # test; tests/test_analysis_pool.py runs the crawls with real worker processes.
                "analysis_workers": 0,
                "host_overrides": sites.overrides(*hosts, **(special or {})),
                # The virtual hosts stand in for public sites: the egress policy lets them through
                # although they resolve to loopback (names in ``special`` stay internal).
                "allow_private": [f"http://{h}" for h in hosts],
                **(crawl or {}),
            },
            **extra,
            # The dark-link browser pass (headless Chromium) is off unless a test asks for it: these
            # tests count requests and judge the static pass; tests/test_darklinks_browser*.py drive it.
            "darklinks": {"browser": {"enabled": False}, **extra.get("darklinks", {})},
        }
    )
