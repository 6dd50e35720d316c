"""The demo county site (示例县, ``www.shixian.gov.cn``) and its neighbours, served by one aiohttp app.

Every virtual host is answered by the same server; the request's ``Host`` header (port stripped,
lower-cased) picks the document root ``site/<host>/``. A crawler reaches the hosts through a resolver
that maps each name to ``127.0.0.1:<port>`` (see :meth:`DemoServer.host_overrides`), so URLs keep their
real form (``http://www.shixian.gov.cn/...``) and the ``Host`` header is right without any rewriting.

Request flow::

    Host header ─► unknown host ─────────────────────────────► 404 text/plain
               └─► host hook (files: HEAD → 405; weather: 429 once per path)
                   └─► dynamic route for (host, path) ──────► handler (slow, loops, 403, 503-once, 500,
                   │                                           redirect chain, calendar)
                   └─► static path mapping:
                         "/"        → index.html
                         "/a/"      → a/index.html
                         "/a"       → 301 "/a/" when a/ is a directory
                         "/a/b.html"→ a/b.html
                       *.html, *.xml  → Jinja2 template (autoescape) rendered per request
                       anything else  → raw bytes with a content type from the extension
                       names starting with "_" or "." are never served (layouts, partials)

Pages are rendered with ``today`` (pinned or the current date in Asia/Shanghai), ``days_ago(n)`` and
the filters ``ymd`` (``2026-11-03``), ``cn`` (``2026年11月3日``) and ``md`` (``11-03``), so every
date on the site stays relative to the day it is served.

The planted dead links and the decoys are listed in ``monitor/demo/expected.yaml``.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import mimetypes
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

__all__ = ["DEMO_PORTAL", "DemoServer", "create_app", "start_demo_server"]

DEMO_PORTAL = "www.shixian.gov.cn"
FILES_HOST = "files.shixian.gov.cn"
CITY_HOST = "www.shishi.gov.cn"
PARTNER_HOST = "old.partner-site.cn"
TOURISM_HOST = "www.xianwenlv.cn"
WEATHER_HOST = "api.weather-demo.cn"
#: The county's self-hosted feed service (RSSHub/WeRSS-like) for its new-media accounts (政务新媒体).
RSS_HOST = "rss.shixian.gov.cn"
NXDOMAIN_HOST = "www.shixian-old.gov.cn"
REFUSED_HOST = "oa.shixian.gov.cn"
#: Two more configured demo sites for the site-identity check: between them and the portal, each
#: identity item is missing exactly once (see ``expected_availability.yaml``).
EDU_HOST = "jyj.shixian.gov.cn"
ZWFW_HOST = "www.shixian-zwfw.com"
#: Fictional gambling site: target of the planted dark links (暗链), answers every path with its page.
SPAM_HOST = "www.xpj-demo-casino.com"
#: An expired 友情链接 domain now serving gambling content (outbound link decay): every path, one page.
DECAYED_HOST = "www.sxnyxx.cn"

SITE_DIR = Path(__file__).resolve().parent / "site"
SERVED_HOSTS: tuple[str, ...] = (
    DEMO_PORTAL,
    FILES_HOST,
    CITY_HOST,
    PARTNER_HOST,
    TOURISM_HOST,
    WEATHER_HOST,
    RSS_HOST,
    EDU_HOST,
    ZWFW_HOST,
    SPAM_HOST,
    DECAYED_HOST,
)
#: Cloaking (darklinks): pages that get an extra block only when the User-Agent names a search spider.
#: Browsers and the monitor's own crawl never see it; the dark-link check's second fetch as Baiduspider
#: does. Keys are (host, normalised path); values are partial templates inserted before ``</body>``.
SPIDER_ONLY: dict[tuple[str, str], str] = {(DEMO_PORTAL, "/zjsx/"): "_spider_only_zjsx.html"}
_SPIDER_UA_RE = re.compile(r"baiduspider|sogou web spider|360spider|bytespider|yisouspider", re.I)


#: Seconds the timeout trap sleeps before answering (longer than any sane fetch timeout).
SLOW_QUERY_DELAY = 30.0
#: Seconds the "slow but fine" page takes.
SLOW_OK_DELAY = 2.0

_CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_EXTRA_TYPES = {
    ".wps": "application/vnd.ms-works",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".js": "application/javascript",
    ".css": "text/css",
}


@dataclass(frozen=True)
class _Wire:
    """How one page goes on the wire: codec, HTTP Content-Type, and the charset declared in the HTML."""

    codec: str
    content_type: str
    declared: str | None  # value for <meta charset>, None = no declaration at all
    bom: bool = False


_UTF8 = _Wire("utf-8", "text/html; charset=utf-8", "utf-8")

#: Pages that are not plain UTF-8 (the township pages run on an older CMS). Keys are host-relative files.
_WIRE: dict[tuple[str, str], _Wire] = {
    (DEMO_PORTAL, "zwgk/xz/cgz/index.html"): _Wire("gbk", "text/html", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/cgz/art_6001.html"): _Wire("gbk", "text/html; charset=gbk", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/dgz/index.html"): _Wire("gbk", "text/html; charset=gbk", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/dgz/art_6101.html"): _Wire("gbk", "text/html", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/xlx/index.html"): _Wire("gbk", "text/html", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/xlx/art_6201.html"): _Wire("gbk", "text/html; charset=gbk", "gb2312"),
    (DEMO_PORTAL, "zwgk/xz/sqz/index.html"): _Wire("utf-8", "text/html", None, bom=True),
}


def china_today() -> datetime.date:
    """Return today's date in Asia/Shanghai (UTC+8, no DST)."""
    return datetime.datetime.now(_CHINA_TZ).date()


def format_ymd(value: datetime.date) -> str:
    """Format a date as ``2026-11-03``."""
    return value.strftime("%Y-%m-%d")


def format_cn(value: datetime.date) -> str:
    """Format a date as ``2026年11月3日`` (no zero padding, as Chinese pages write it)."""
    return f"{value.year}年{value.month}月{value.day}日"


def format_md(value: datetime.date) -> str:
    """Format a date as ``11-03`` (short list-page style)."""
    return value.strftime("%m-%d")


def format_rfc822(value: datetime.date, hour: int = 10, minute: int = 0) -> str:
    """Format a date at a time of day in China time as RSS wants it: ``Thu, 26 Nov 2026 10:00:00 +0800``."""
    moment = datetime.datetime(value.year, value.month, value.day, hour, minute, tzinfo=_CHINA_TZ)
    return email.utils.format_datetime(moment)


#: Files rendered as Jinja templates, and the Content-Type they are served with (None: the page's wire).
_TEMPLATE_TYPES: dict[str, str | None] = {
    ".html": None,
    ".xml": "application/xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


_Handler = Callable[[web.Request, "_DemoSite", str], Awaitable[web.StreamResponse]]


@dataclass
class _DemoSite:
    """Per-app state: pinned date, template environments and the per-path toggles of the flaky routes."""

    pinned_today: datetime.date | None
    envs: dict[str, jinja2.Environment] = field(default_factory=dict)
    rate_limited: set[str] = field(default_factory=set)  # weather paths that already got their 429
    unavailable: set[str] = field(default_factory=set)  # 503-once paths that already got their 503
    sleepers: set[asyncio.Future[None]] = field(default_factory=set)

    def today(self) -> datetime.date:
        """The date pages are rendered against."""
        return self.pinned_today or china_today()

    def env(self, host: str) -> jinja2.Environment:
        """The Jinja2 environment whose loader root is ``site/<host>/``."""
        env = self.envs.get(host)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(SITE_DIR / host),
                autoescape=jinja2.select_autoescape(["html", "xml", "atom"]),
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.filters.update(ymd=format_ymd, cn=format_cn, md=format_md, rfc822=format_rfc822)
            self.envs[host] = env
        return env

    def render(self, host: str, rel: str, *, status: int = 200, **extra: Any) -> web.Response:
        """Render the template ``site/<host>/<rel>`` into a response with the page's wire encoding."""
        today = self.today()
        wire = _WIRE.get((host, rel), _UTF8)

        def days_ago(n: int) -> datetime.date:
            return today - datetime.timedelta(days=n)

        context: dict[str, Any] = {
            "today": today,
            "days_ago": days_ago,
            "host": host,
            "page_path": "/" + rel,
            "page_charset": wire.declared,
        }
        context.update(extra)
        text = self.env(host).get_template(rel).render(context)
        body = text.encode(wire.codec)
        if wire.bom:
            body = b"\xef\xbb\xbf" + body
        content_type = _TEMPLATE_TYPES.get(posixpath.splitext(rel)[1]) or wire.content_type
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless the server shuts down first; return False when interrupted by shutdown."""
        waiter: asyncio.Future[None] = asyncio.ensure_future(asyncio.sleep(seconds))
        self.sleepers.add(waiter)
        try:
            await asyncio.wait({waiter})
        finally:
            self.sleepers.discard(waiter)
            if not waiter.done():  # our own task was cancelled: do not leave the sleep behind
                waiter.cancel()
        return not waiter.cancelled()


_SITE_KEY = web.AppKey("demo_site", _DemoSite)


# --------------------------------------------------------------------------------------------- helpers


def _request_host(request: web.Request) -> str:
    """The Host header without port, lower-cased, without a trailing dot."""
    raw = request.headers.get("Host", "").strip().lower()
    if raw.startswith("["):
        raw = raw[: raw.find("]") + 1] if "]" in raw else raw
    elif raw.count(":") == 1:
        raw = raw.split(":", 1)[0]
    return raw.rstrip(".")


def _normalise_path(path: str) -> str:
    """Collapse dot segments and duplicate slashes, keeping a trailing slash."""
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    norm = posixpath.normpath("/" + path.lstrip("/"))
    norm = "/" + norm.lstrip("/")
    if trailing and norm != "/":
        norm += "/"
    return norm


def _rel_file(path: str) -> str:
    """Map a normalised URL path to a host-relative file name (``/`` → ``index.html``)."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel


def _plain(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8", headers=headers)


def _not_found(site: _DemoSite, host: str) -> web.Response:
    """A real 404: the CMS error page when the host has one, plain text otherwise."""
    if (SITE_DIR / host / "_404.html").is_file():
        return site.render(host, "_404.html", status=404)
    return _plain(404, "404 Not Found")


def _serve_static(request: web.Request, site: _DemoSite, host: str, path: str) -> web.StreamResponse:
    """Serve ``path`` from ``site/<host>/`` following the path mapping in the module docstring."""
    root = (SITE_DIR / host).resolve()
    rel = _rel_file(path)
    if any(part.startswith(("_", ".")) for part in rel.split("/")):
        return _not_found(site, host)
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        return _not_found(site, host)
    if not path.endswith("/") and (root / rel).is_dir():
        location = path + "/"
        if request.query_string:
            location += "?" + request.query_string
        raise web.HTTPMovedPermanently(location)
    if not target.is_file():
        return _not_found(site, host)
    if target.suffix in _TEMPLATE_TYPES:
        return site.render(host, rel)
    content_type = _EXTRA_TYPES.get(target.suffix.lower()) or (
        mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    )
    return web.Response(body=target.read_bytes(), headers={"Content-Type": content_type})


# -------------------------------------------------------------------------------------- dynamic routes


async def _slow_query(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """Timeout trap: answers only after :data:`SLOW_QUERY_DELAY` seconds."""
    if not await site.sleep(SLOW_QUERY_DELAY):
        return _plain(503, "服务正在关闭")
    return site.render(DEMO_PORTAL, rel)


async def _slow_ok(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """Slow but healthy page: answers after :data:`SLOW_OK_DELAY` seconds."""
    if not await site.sleep(SLOW_OK_DELAY):
        return _plain(503, "服务正在关闭")
    return site.render(DEMO_PORTAL, rel)


def _redirect(status: int, location: str) -> _Handler:
    async def handler(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


async def _forbidden(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """403 for the internal documents area."""
    return site.render(DEMO_PORTAL, "_403.html", status=403)


async def _unavailable_once(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """503 on the first request, the page on the next one, then 503 again (every run sees one 503)."""
    if rel not in site.unavailable:
        site.unavailable.add(rel)
        return _plain(503, "503 Service Temporarily Unavailable")
    site.unavailable.discard(rel)
    return site.render(DEMO_PORTAL, rel)


async def _server_error(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """The tourism site's linked page: always a 500 (a broken PHP CMS)."""
    return _plain(500, "500 Internal Server Error\nDatabase connection failed.")


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    year, month0 = divmod(index, 12)
    return max(1, min(9999, year)), month0 + 1


async def _calendar(request: web.Request, site: _DemoSite, rel: str) -> web.StreamResponse:
    """Crawler trap: ``?month=YYYY-MM`` renders a month whose prev/next links never run out."""
    today = site.today()
    year, month = today.year, today.month
    match = _MONTH_RE.match(request.query.get("month", ""))
    if match and 1 <= int(match.group(1)) <= 9999 and 1 <= int(match.group(2)) <= 12:
        year, month = int(match.group(1)), int(match.group(2))
    prev_y, prev_m = _shift_month(year, month, -1)
    next_y, next_m = _shift_month(year, month, 1)
    return site.render(
        DEMO_PORTAL,
        rel,
        cal_year=year,
        cal_month=month,
        prev_month=f"{prev_y:04d}-{prev_m:02d}",
        next_month=f"{next_y:04d}-{next_m:02d}",
    )


_ROUTES: dict[tuple[str, str], _Handler] = {
    (DEMO_PORTAL, "/bsfw/slow-query.html"): _slow_query,
    (DEMO_PORTAL, "/bsfw/slow-ok.html"): _slow_ok,
    (DEMO_PORTAL, "/hdjl/loop-a.html"): _redirect(302, "/hdjl/loop-b.html"),
    (DEMO_PORTAL, "/hdjl/loop-b.html"): _redirect(302, "/hdjl/loop-a.html"),
    (DEMO_PORTAL, "/old/zwgk.html"): _redirect(301, "/zwgk/old-index.html"),
    (DEMO_PORTAL, "/zwgk/old-index.html"): _redirect(302, f"http://{DEMO_PORTAL}/zwgk/"),
    (DEMO_PORTAL, "/hdjl/myzj/"): _unavailable_once,
    (DEMO_PORTAL, "/hdjl/myzj/index.html"): _unavailable_once,
    (DEMO_PORTAL, "/hdjl/calendar.html"): _calendar,
    (TOURISM_HOST, "/lyzx/"): _server_error,
    (TOURISM_HOST, "/lyzx/index.html"): _server_error,
}
#: Path prefixes answered by one handler.
_PREFIX_ROUTES: tuple[tuple[str, str, _Handler], ...] = ((DEMO_PORTAL, "/zwgk/internal/", _forbidden),)


async def _host_hook(
    request: web.Request, site: _DemoSite, host: str, path: str
) -> web.StreamResponse | None:
    """Host-wide behaviour that runs before routing; None means carry on."""
    if host == FILES_HOST and request.method == "HEAD":
        # The attachment server's WAF refuses HEAD; GET works. A checker must fall back to GET.
        return _plain(405, "405 Method Not Allowed", Allow="GET")
    if host in (SPAM_HOST, DECAYED_HOST):
        # The fictional gambling sites answer every path with their one page (so no dead links).
        return site.render(host, "index.html")
    if host == WEATHER_HOST:
        if path not in site.rate_limited:
            site.rate_limited.add(path)
            return _plain(429, "429 Too Many Requests", **{"Retry-After": "1"})
        site.rate_limited.discard(path)
    return None


async def _dispatch(request: web.Request) -> web.StreamResponse:
    site = request.app[_SITE_KEY]
    host = _request_host(request)
    if host not in SERVED_HOSTS:
        return _plain(404, "404 Not Found: unknown host")
    path = _normalise_path(request.path)
    hooked = await _host_hook(request, site, host, path)
    if hooked is not None:
        return hooked
    handler = _ROUTES.get((host, path))
    if handler is None:
        handler = next((h for hh, pre, h in _PREFIX_ROUTES if hh == host and path.startswith(pre)), None)
    if handler is not None:
        return await handler(request, site, _rel_file(path))
    response = _serve_static(request, site, host, path)
    spider_block = SPIDER_ONLY.get((host, path))
    if spider_block and _SPIDER_UA_RE.search(request.headers.get("User-Agent", "")):
        response = _with_spider_block(response, site, host, spider_block)
    return response


def _with_spider_block(
    response: web.StreamResponse, site: _DemoSite, host: str, partial: str
) -> web.StreamResponse:
    """Cloaking demo hook: the page plus a block of spam links, served to search spiders only."""
    if not isinstance(response, web.Response) or response.status != 200 or response.body is None:
        return response
    block = site.env(host).get_template(partial).render().encode("utf-8")
    body = bytes(response.body)  # type: ignore[arg-type]
    at = body.rfind(b"</body>")
    body = body[:at] + block + body[at:] if at >= 0 else body + block
    return web.Response(status=200, body=body, headers={"Content-Type": response.headers["Content-Type"]})


async def _wake_sleepers(app: web.Application) -> None:
    """on_shutdown: end pending slow requests so the runner does not wait for them."""
    for waiter in list(app[_SITE_KEY].sleepers):
        waiter.cancel()


# --------------------------------------------------------------------------------------------- public


def create_app(today: datetime.date | None = None) -> web.Application:
    """Build the aiohttp application serving every demo host.

    ``today`` pins the date pages compute relative dates from; by default the current date in
    Asia/Shanghai is read on every request.
    """
    app = web.Application()
    app[_SITE_KEY] = _DemoSite(pinned_today=today)
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    app.on_shutdown.append(_wake_sleepers)
    return app


class DemoServer:
    """A running demo server on a loopback port; see :func:`start_demo_server`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.host = host
        self.port = port
        self.base_url = f"http://{DEMO_PORTAL}/"

    def host_overrides(self) -> dict[str, str]:
        """Map every demo host name to where a resolver must send it.

        Served hosts map to ``"<host>:<port>"`` of this server; ``www.shixian-old.gov.cn`` maps to
        ``"nxdomain"`` (resolution must fail) and ``oa.shixian.gov.cn`` to ``127.0.0.1:1`` (refused).
        """
        overrides = {name: f"{self.host}:{self.port}" for name in SERVED_HOSTS}
        overrides[NXDOMAIN_HOST] = "nxdomain"
        overrides[REFUSED_HOST] = "127.0.0.1:1"
        return overrides

    async def close(self) -> None:
        """Stop listening, end pending slow requests and release the port."""
        await self._runner.cleanup()

    async def __aenter__(self) -> DemoServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_demo_server(
    host: str = "127.0.0.1", port: int = 0, today: datetime.date | None = None
) -> DemoServer:
    """Start the demo site on ``host:port`` (port 0 picks a free port) and return the running server."""
    runner = web.AppRunner(create_app(today), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return DemoServer(runner, host, bound_port)
