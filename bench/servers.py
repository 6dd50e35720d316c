"""Local servers for the patrol benchmark (loopback only).

* ``quirky``: the "external" server (listen on 127.0.0.2 so its host differs from the site's):
  ``/404/{k}`` → 404, ``/500/{k}`` → 500, ``/slow/{k}`` → 200 after 2 s, ``/429/{k}`` → 429 with
  ``Retry-After: 1`` the first time a path is requested (any method), 200 afterwards. ``/__reset``
  forgets which 429 paths were already asked for (the bench calls it before each tool).
* ``static``: an aiohttp static server for a generated site, with optional added latency per request.
  It counts concurrent requests per Host header and the smallest gap between request starts, served at
  ``/__stats`` (JSON) — the politeness run reads it. Also the fallback when nginx is not installed.
* :func:`start_nginx`: nginx serving a generated site from its static files (the fast server).

Usage: ``python bench/servers.py quirky --host 127.0.0.2 --port 8081``,
``python bench/servers.py static DIR --port 8080 [--latency 0.05]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

SLOW_SECONDS = 2.0


def _app() -> web.Application:
    """An application whose responses carry the header that lets LinkChecker lift its rate limit."""

    async def mark(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["LinkChecker"] = "bench"

    app = web.Application()
    app.on_response_prepare.append(mark)
    return app


def quirky_app(slow_seconds: float = SLOW_SECONDS) -> web.Application:
    """The external server with always-broken, slow and rate-limited URLs."""
    asked: set[str] = set()

    async def handle(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind == "404":
            return web.Response(
                status=404, text="<html><body>Not Found</body></html>", content_type="text/html"
            )
        if kind == "500":
            return web.Response(status=500, text="<html><body>Error</body></html>", content_type="text/html")
        if kind == "slow":
            await asyncio.sleep(slow_seconds)
        elif kind == "429":
            if request.path not in asked:
                asked.add(request.path)
                return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        else:
            return web.Response(status=404)
        return web.Response(
            text="<html><head><title>外部网站</title></head><body><p>欢迎访问。</p></body></html>",
            content_type="text/html",
        )

    async def reset(request: web.Request) -> web.Response:
        asked.clear()
        return web.Response(text="ok")

    app = _app()
    app.router.add_route("*", "/__reset", reset)
    app.router.add_route("*", "/{kind}/{k}", handle)
    return app


class Stats:
    """Concurrency and request-start spacing per Host, as the server saw them."""

    def __init__(self) -> None:
        self.active: Counter[str] = Counter()
        self.max_active: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.last_start: dict[str, float] = {}
        self.min_gap: dict[str, float] = {}
        self.gaps: dict[str, list[float]] = {}
        self.first: float | None = None
        self.handler_s = 0.0
        self.last_end = 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON-able figures."""
        return {
            "max_active": dict(self.max_active),
            "requests": dict(self.requests),
            "min_gap_s": {h: round(g, 4) for h, g in self.min_gap.items()},
            "smallest_gaps_ms": {
                h: [round(g * 1000, 2) for g in sorted(v)[:5]] for h, v in self.gaps.items()
            },
            "busy_s": round(self.last_end - self.first, 3) if self.first is not None else 0.0,
            "handler_s": round(self.handler_s, 3),
        }


def static_app(root: Path, latency: float = 0.0) -> web.Application:
    """Serve ``root`` like a static web server, adding ``latency`` seconds to every request."""
    stats = Stats()
    root = root.resolve()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path == "/__stats":
            return web.json_response(stats.as_dict())
        if request.path == "/__reset":
            stats.__init__()  # type: ignore[misc]
            return web.Response(text="ok")
        host = request.host
        now = time.monotonic()
        if stats.first is None:
            stats.first = now
        if host in stats.last_start:
            gap = now - stats.last_start[host]
            stats.min_gap[host] = min(stats.min_gap.get(host, gap), gap)
            stats.gaps.setdefault(host, []).append(gap)
        stats.last_start[host] = now
        stats.requests[host] += 1
        stats.active[host] += 1
        stats.max_active[host] = max(stats.max_active[host], stats.active[host])
        try:
            if latency:
                await asyncio.sleep(latency)
            rel = request.path.lstrip("/") or "index.html"
            if rel.endswith("/"):
                rel += "index.html"
            path = (root / rel).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                return web.Response(
                    status=404, text="<html><body>404 Not Found</body></html>", content_type="text/html"
                )
            ctype = {
                "html": "text/html",
                "css": "text/css",
                "js": "application/javascript",
                "gif": "image/gif",
                "jpg": "image/jpeg",
            }.get(path.suffix.lstrip("."), "application/octet-stream")
            if request.method == "HEAD":
                return web.Response(content_type=ctype, headers={"Content-Length": str(path.stat().st_size)})
            return web.Response(
                body=path.read_bytes(), content_type=ctype, charset="utf-8" if ctype == "text/html" else None
            )
        finally:
            stats.active[host] -= 1
            stats.last_end = time.monotonic()
            stats.handler_s += stats.last_end - now

    app = _app()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def start_nginx(root: Path, port: int, workdir: Path) -> subprocess.Popen[bytes] | None:
    """Start nginx (foreground, one worker, no access log) serving ``root``; None when not installed."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""{user}
daemon off; worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off; sendfile on; tcp_nodelay on; keepalive_requests 1000000;
  types {{ text/html html; text/css css; application/javascript js; image/gif gif; image/jpeg jpg; }}
  default_type application/octet-stream; charset utf-8;
  client_body_temp_path {workdir}/tmp; proxy_temp_path {workdir}/tmp; fastcgi_temp_path {workdir}/tmp;
  uwsgi_temp_path {workdir}/tmp; scgi_temp_path {workdir}/tmp;
  # LinkChecker ignores maxrequestspersecond above 10 unless the server answers with this header.
  server {{ listen 127.0.0.1:{port}; root {root.resolve()}; index index.html;
           add_header LinkChecker bench always; }}
}}
""",
        encoding="utf-8",
    )
    (workdir / "tmp").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [binary, "-p", str(workdir), "-c", str(conf)], stderr=subprocess.DEVNULL, start_new_session=True
    )
    return proc


def main() -> None:
    """Command line: run one server in the foreground."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="which", required=True)
    q = sub.add_parser("quirky")
    q.add_argument("--host", default="127.0.0.2")
    q.add_argument("--port", type=int, default=8081)
    s = sub.add_parser("static")
    s.add_argument("root", type=Path)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    app = quirky_app() if args.which == "quirky" else static_app(args.root, args.latency)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
