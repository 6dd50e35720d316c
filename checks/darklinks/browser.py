"""Browser confirmation of dark-link candidates, with evidence screenshots (浏览器复核与取证截图).

The static pass of the dark-link check only nominates candidates. Each candidate page is then loaded in
headless Chromium — Debian's ``/usr/bin/chromium`` driven by Playwright, never a downloaded browser build —
twice: once as an ordinary desktop browser, once as Baiduspider arriving from a search result (User-Agent,
``Referer`` header and ``document.referrer``). What the rendered page shows decides:

- a hidden link is confirmed when every ``<a>``/``<area>`` pointing at the target is invisible to a reader:
  no box (display:none), zero or 1 px size, visibility, opacity, off the document, clip/clip-path, clipped
  away by an ``overflow:hidden`` ancestor, font size 0, or text coloured like its background;
- a script redirect is confirmed when the main frame really tries to navigate to another origin. That
  navigation is aborted: the target is recorded, never loaded.

Network safety: the browser reaches only the site's own origins. Chromium's ``--host-resolver-rules``
resolves nothing but the allowed hosts (and the test/demo host overrides), and every request is routed:
allowed origin → continue, anything else → abort. WebSockets are never connected. Playwright's routing
does not see redirect hops (Chromium follows them by itself), so a third fence covers those: every origin
but the allowed ones goes through a proxy that refuses every connection (``proxy_flags``), so a redirect
from the site's own page to ``http://169.254.169.254/`` or another port fails without leaving the machine.

The pass is bounded (``max_pages`` distinct pages per run, ``page_timeout_seconds`` per load) and never
raises: a missing browser skips it with a reason, any browser failure makes the affected verdicts
``unknown`` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from monitor.config import DarkLinksBrowser
from monitor.core.urls import origin_of as url_origin
from monitor.core.urls import split_url

if TYPE_CHECKING:
    from playwright.async_api import Browser, FloatRect, Page, Route, ViewportSize

log = logging.getLogger(__name__)

#: The validated ``darklinks.browser`` options.
BrowserOptions = DarkLinksBrowser

#: An ordinary desktop Chrome: cloaking scripts look for "HeadlessChrome" and spiders alike.
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
#: Screenshot caps: the region photographed, and the PNG's size (shrunk region retried when larger).
MAX_SHOT_WIDTH = 1200
MAX_SHOT_HEIGHT = 900
MAX_SHOT_BYTES = 400_000
SHOT_PADDING = 40
MAX_SHOTS_PER_VIEW = 12  # distinct regions photographed per page and view (a spam block is one region)
TOP_SHOT_HEIGHT = 600  # a redirect page (or a link with no place on the page) is shown by its top
#: Pages with only hidden-link candidates: a short pause after load for late scripts that write links.
SETTLE_SECONDS = 0.3
#: Headroom for evaluation and screenshots beyond the page's load timeout.
VISIT_HEADROOM_SECONDS = 10.0
LAUNCH_TIMEOUT_MS = 30_000

#: Flags for a quiet, isolated Chromium: no background traffic, no QUIC, no proxy, no DNS prefetch.
#: (Playwright itself launches with a fresh temporary user-data-dir per browser.)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--dns-prefetch-disable",
    # Chromium upgrades http:// navigations to https:// by default (HTTPS-Upgrades): many county sites
    # serve http only, and a different scheme is a different origin to the allow-list.
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,HttpsFirstModeIncognito,"
    "NetworkPrediction,Prerender2,OptimizationHints,MediaRouter",
)

Kind = Literal["hidden_link", "js_redirect"]
Status = Literal["confirmed", "refuted", "unknown"]
View = Literal["browser", "spider"]
VIEW_ZH = {"browser": "浏览器", "spider": "百度蜘蛛"}


@dataclass(frozen=True)
class BrowserCandidate:
    """A suspicion of the static pass, to be confirmed or refuted in the browser."""

    key: str  # opaque id chosen by the caller (finding identity)
    page_url: str  # page to load
    kind: Kind
    target: str | None = None  # absolute href of the link, or the expected redirect target


@dataclass(frozen=True)
class BrowserVerdict:
    """What the rendered page said about one candidate."""

    key: str
    status: Status  # unknown: timeout, load failure, link not found, budget, browser missing
    detail: str  # Chinese, specific
    screenshot: bytes | None = None  # PNG of the region as a browser shows it
    spider_screenshot: bytes | None = None  # PNG of the same region as the spider sees it, when it differs


@dataclass(frozen=True)
class BrowserReport:
    """The outcome of one browser pass. Every candidate has a verdict (``unknown`` when not examined)."""

    verdicts: dict[str, BrowserVerdict]
    skipped: str | None  # None when the pass ran; else why not (for the run summary)
    pages_loaded: int
    pages_over_budget: int = 0  # distinct pages beyond ``max_pages``, left unknown


# -- origins and host rules ------------------------------------------------------------------------------


def origin_of(url: str) -> str | None:
    """The URL's origin as :func:`monitor.core.urls.origin_of` gives it (``scheme://host[:port]``, IDNA
    hosts in their ASCII form, as Chromium requests them); None when it is not an http(s) URL."""
    return url_origin(url.strip()) or None


def host_resolver_rules(host_overrides: Mapping[str, str], allowed_origins: Sequence[str]) -> str:
    """Chromium ``--host-resolver-rules``: the overrides, then every other name unresolvable except the
    allowed hosts. EXCLUDE beats every MAP rule in Chromium, so overridden hosts are never excluded."""
    rules: list[str] = []
    overridden: set[str] = set()
    for key, target in host_overrides.items():
        key = key.strip().lower()
        if key == "*":
            continue  # "*": "nxdomain" is what the final MAP * rule does anyway
        name = key.rsplit(":", 1)[0] if key.count(":") == 1 else key
        overridden.add(name)
        rules.append(f"MAP {key} {'~NOTFOUND' if target == 'nxdomain' else target}")
    rules.append("MAP * ~NOTFOUND")
    for origin in allowed_origins:
        host = split_url(origin).host
        if host and host not in overridden:
            rules.append(f"EXCLUDE {host.lower()}")
    return ", ".join(dict.fromkeys(rules))


def proxy_bypass_list(allowed_origins: Sequence[str]) -> str:
    """Chromium ``--proxy-bypass-list``: exactly the allowed origins (scheme, host and port) go direct;
    ``<-loopback>`` removes Chromium's implicit bypass of localhost, so loopback goes to the proxy too."""
    rules = ["<-loopback>"]
    for origin in allowed_origins:
        parts = split_url(origin)
        if parts.host and parts.scheme in ("http", "https"):
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = f"[{parts.host}]" if ":" in parts.host else parts.host
            rules.append(f"{parts.scheme}://{host}:{port}")
    return ";".join(dict.fromkeys(rules))


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port bound but never listening: every connection to it is refused at once. Used as the
    proxy of everything the browser must not reach (nothing else can take the port meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def proxy_flags(allowed_origins: Sequence[str], refusing: int) -> tuple[str, ...]:
    """Flags sending every origin but the allowed ones to the refusing proxy at 127.0.0.1:``refusing``."""
    return (
        f"--proxy-server=http://127.0.0.1:{refusing}",
        f"--proxy-bypass-list={proxy_bypass_list(allowed_origins)}",
    )


def same_link(a: str, b: str) -> bool:
    """Two absolute URLs name the same page (fragment dropped, scheme/host case and default port ignored)."""

    def key(u: str) -> tuple[str | None, str]:
        parts = split_url(u.strip())
        return url_origin(u), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    try:
        return key(a) == key(b)
    except ValueError:
        return False


@cache
def _inspect_js() -> str:
    return resources.files("checks.darklinks").joinpath("browser.js").read_text(encoding="utf-8")


def _short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


# -- one visit of one page -------------------------------------------------------------------------------


@dataclass
class _Visit:
    """What one load of a page (as browser or as spider) showed."""

    view: View
    error: str | None = None
    status: int | None = None
    navigations: list[tuple[str, bool]] = field(default_factory=list)  # (target, by HTTP redirect)
    blocked: int = 0  # subresource requests to other origins, aborted
    matches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    doc_size: tuple[float, float] = (VIEWPORT["width"], VIEWPORT["height"])
    context: Any = None  # kept open after a successful load, for the screenshots
    page: Page | None = None

    @property
    def loaded(self) -> bool:
        """The page was loaded (or left by a redirect, which is a result too)."""
        return self.error is None or bool(self.navigations)


def _clip(region: Mapping[str, float] | None, doc: tuple[float, float]) -> FloatRect:
    """The screenshot rectangle: the region padded, at least 480×240, at most the caps, inside the page."""
    doc_w, doc_h = max(doc[0], 1.0), max(doc[1], 1.0)
    if region is None:  # the top of the page, as a visitor first sees it
        return {"x": 0, "y": 0, "width": min(MAX_SHOT_WIDTH, doc_w), "height": min(TOP_SHOT_HEIGHT, doc_h)}
    cx = region["x"] + region["width"] / 2
    cy = region["y"] + region["height"] / 2
    width = min(max(region["width"] + 2 * SHOT_PADDING, 480), MAX_SHOT_WIDTH, doc_w)
    height = min(max(region["height"] + 2 * SHOT_PADDING, 240), MAX_SHOT_HEIGHT, doc_h)
    # Centred on the region; a region wider or taller than the cap is shown from its left / top edge.
    x = cx - width / 2 if region["width"] + 2 * SHOT_PADDING <= width else region["x"] - SHOT_PADDING
    y = cy - height / 2 if region["height"] + 2 * SHOT_PADDING <= height else region["y"] - SHOT_PADDING
    x = min(max(x, 0), doc_w - width)
    y = min(max(y, 0), doc_h - height)
    return {"x": round(x), "y": round(y), "width": round(width), "height": round(height)}


async def _screenshot(page: Page, clip: FloatRect) -> bytes | None:
    """A PNG of ``clip`` (document coordinates) under MAX_SHOT_BYTES, shrinking the region when needed."""
    for _ in range(3):
        try:
            png = await page.screenshot(
                clip=clip, full_page=True, type="png", animations="disabled", caret="hide", timeout=10_000
            )
        except Exception as exc:  # a screenshot is evidence, not the verdict: never fail over it
            log.info("darklinks browser: screenshot failed: %s", _short_error(exc))
            return None
        if len(png) <= MAX_SHOT_BYTES:
            return png
        clip = {**clip, "width": max(clip["width"] * 0.7, 100), "height": max(clip["height"] * 0.7, 80)}
    return None


_MARK_ID = "__govsite_monitor_mark__"


async def _mark(page: Page, region: Mapping[str, float]) -> bool:
    """Outline where the link sits (a dashed red box over the page) for the screenshot; False if not drawn."""
    script = """([id, r]) => {
      const d = document.createElement("div");
      d.id = id;
      d.style.cssText = "position:absolute;box-sizing:border-box;pointer-events:none;z-index:2147483647;" +
        "border:2px dashed #e00000;background:rgba(255,0,0,0.06);margin:0;padding:0;" +
        `left:${r.x - 4}px;top:${r.y - 4}px;width:${r.width + 8}px;height:${r.height + 8}px`;
      document.documentElement.appendChild(d);
      return true;
    }"""
    try:
        return bool(await asyncio.wait_for(page.evaluate(script, [_MARK_ID, dict(region)]), 5))
    except Exception:
        return False


async def _unmark(page: Page) -> None:
    try:
        await asyncio.wait_for(page.evaluate("(id) => document.getElementById(id)?.remove()", _MARK_ID), 5)
    except Exception as exc:
        log.info("darklinks browser: removing the mark failed: %s", _short_error(exc))


Region = Mapping[str, float] | None


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned future's outcome, so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


def _region_key(region: Region) -> tuple[float, ...]:
    return () if region is None else tuple(round(region[k]) for k in ("x", "y", "width", "height"))


class _Session:
    """One launched browser and the options of this pass."""

    def __init__(self, browser: Browser, options: BrowserOptions, allowed: frozenset[str]) -> None:
        self.browser = browser
        self.options = options
        self.allowed = allowed

    def _allowed(self, url: str) -> bool:
        return origin_of(url) in self.allowed

    async def load(self, view: View, page_url: str, cands: Sequence[BrowserCandidate]) -> _Visit:
        """Load ``page_url`` once as ``view`` and inspect the candidates' links. On success the page stays
        open for :meth:`photograph`; :meth:`close` it in every case."""
        opts = self.options
        result = _Visit(view)
        spider = view == "spider"
        result.context = await self.browser.new_context(
            user_agent=opts.spider_user_agent if spider else DESKTOP_USER_AGENT,
            extra_http_headers={"Referer": opts.spider_referer} if spider else None,
            viewport=VIEWPORT,
            device_scale_factor=1,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            service_workers="block",
            ignore_https_errors=True,
        )
        try:
            await asyncio.wait_for(
                self._load_in(result, page_url, cands),
                opts.page_timeout_seconds + opts.redirect_watch_seconds + VISIT_HEADROOM_SECONDS,
            )
        except TimeoutError:
            result.error = result.error or f"页面处理超时（超过{opts.page_timeout_seconds:g}秒）"
        if result.error is not None and not result.navigations:
            await self.close(result)
        return result

    async def close(self, visit: _Visit) -> None:
        """Close the visit's context (pages, cookies, cache)."""
        context, visit.context, visit.page = visit.context, None, None
        if context is None:
            return
        try:
            await asyncio.wait_for(context.close(), 10)
        except Exception as exc:  # the browser may already be gone; the pass goes on
            log.info("darklinks browser: closing a context failed: %s", _short_error(exc))

    async def photograph(self, visit: _Visit, regions: Mapping[str, Region]) -> dict[str, bytes | None]:
        """A screenshot per candidate key: its region (outlined), or the page top for None. Regions shared
        by several candidates are taken once; at most MAX_SHOTS_PER_VIEW distinct ones per visit."""
        page = visit.page
        if page is None:
            return {}
        taken: dict[tuple[float, ...], bytes | None] = {}
        out: dict[str, bytes | None] = {}
        for key, region in regions.items():
            rk = _region_key(region)
            if rk not in taken:
                if len(taken) >= MAX_SHOTS_PER_VIEW:
                    out[key] = None
                    continue
                marked = region is not None and await _mark(page, region)
                taken[rk] = await _screenshot(page, _clip(region, visit.doc_size))
                if marked:
                    await _unmark(page)
            out[key] = taken[rk]
        return out

    async def _load_in(self, result: _Visit, page_url: str, cands: Sequence[BrowserCandidate]) -> None:
        opts = self.options
        context = result.context
        left_page = asyncio.Event()
        state = {"loading": True}

        async def on_request(route: Route) -> None:
            request = route.request
            url = request.url
            try:
                main = request.is_navigation_request() and request.frame.parent_frame is None
            except Exception:  # requests of workers have no frame
                main = False
            if main:
                first_load = state["loading"] and (
                    same_link(url, page_url) or request.redirected_from is not None
                )
                if first_load and self._allowed(url):
                    await route.continue_()
                    return
                if not same_link(url, page_url):
                    # The page tries to leave: record where to, and stay (the target is never loaded).
                    result.navigations.append((url, first_load))
                    left_page.set()
                # ERR_ABORTED cancels the navigation and keeps the current document on screen (any other
                # error code would commit Chromium's error page, and the screenshot would show that).
                await route.abort("aborted")
                return
            if self._allowed(url):
                await route.continue_()
            else:
                result.blocked += 1
                await route.abort("blockedbyclient")

        await context.route("**/*", on_request)
        await context.route_web_socket(lambda _url: True, lambda ws: None)  # never connected
        init = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false});"
        if result.view == "spider":
            init += (
                "if (window.top === window) Object.defineProperty(Document.prototype, 'referrer', "
                f"{{get: () => {json.dumps(opts.spider_referer)}, configurable: true}});"
            )
        await context.add_init_script(init)
        page = result.page = await context.new_page()
        timeout_ms = opts.page_timeout_seconds * 1000
        started = time.monotonic()
        goto = asyncio.ensure_future(page.goto(page_url, wait_until="load", timeout=timeout_ms))
        left_while_loading = asyncio.ensure_future(left_page.wait())
        try:
            await asyncio.wait((goto, left_while_loading), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled (the visit's time is up): the goto goes with it, as when awaited
            goto.cancel()
            raise
        finally:
            left_while_loading.cancel()
        if goto.done():
            try:
                response = goto.result()
                result.status = response.status if response is not None else None
            except Exception as exc:
                if not result.navigations:
                    if "Timeout" in type(exc).__name__ or "Timeout" in str(exc)[:40]:
                        result.error = f"页面加载超时（{opts.page_timeout_seconds:g}秒内未完成）"
                    else:
                        result.error = f"页面加载失败：{_short_error(exc)}"
        else:
            # The page tried to leave while loading (a script redirect in its body). Chromium stops the
            # document there — what it shows is final — and never reports that document's load, so the
            # goto would only wait out its timeout. Wait for the stopped document instead; the goto ends
            # with the visit's context (its error is of no interest: the navigation is the result).
            goto.add_done_callback(_ignore_outcome)
            remaining_ms = max(timeout_ms - (time.monotonic() - started) * 1000, 1)
            with contextlib.suppress(Exception):  # not complete in time: inspected as it is, as before
                await page.wait_for_function(
                    "document.readyState === 'complete'", polling=50, timeout=remaining_ms
                )
        state["loading"] = False
        if result.error is not None:
            return
        watch = opts.redirect_watch_seconds if any(c.kind == "js_redirect" for c in cands) else SETTLE_SECONDS
        if not result.navigations:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(left_page.wait(), watch)
        targets = sorted({c.target for c in cands if c.kind == "hidden_link" and c.target})
        try:
            found = await page.evaluate(_inspect_js(), targets)
            result.matches = found["matches"]
            result.doc_size = (float(found["docWidth"]), float(found["docHeight"]))
        except Exception as exc:
            if not result.navigations:
                result.error = f"页面脚本评估失败：{_short_error(exc)}"


# -- verdicts ------------------------------------------------------------------------------------------


def _describe_match(m: Mapping[str, Any]) -> str:
    if m["hidden"]:
        return "、".join(m["reasons"])
    return f"链接可见（{m['width']}×{m['height']}像素，位于{m['x']},{m['y']}）"


def _hidden_verdict(cand: BrowserCandidate, b: _Visit, s: _Visit) -> BrowserVerdict:
    bm = b.matches.get(cand.target or "", []) if b.loaded else []
    sm = s.matches.get(cand.target or "", []) if s.loaded else []

    def verdict(status: Status, detail: str) -> BrowserVerdict:
        return BrowserVerdict(cand.key, status, detail)

    if not b.loaded and not s.loaded:
        return verdict("unknown", f"浏览器复核未完成：{b.error}")
    if bm:
        many = f"（共{len(bm)}处）" if len(bm) > 1 else ""
        if all(m["hidden"] for m in bm):
            return verdict("confirmed", f"浏览器渲染：链接{many}{_describe_match(bm[0])}")
        visible = next((m for m in bm if not m["hidden"] and not m.get("uncertain")), None)
        if visible is not None:
            return verdict("refuted", f"浏览器渲染：{_describe_match(visible)}{many}")
        uncertain = next(m for m in bm if m.get("uncertain"))
        return verdict("unknown", f"浏览器渲染：{uncertain['uncertain']}，无法判断链接是否可见")
    if sm:
        state = "且不可见（" + _describe_match(sm[0]) + "）" if all(m["hidden"] for m in sm) else "且可见"
        return verdict("confirmed", f"以浏览器访问时页面无此链接，以百度蜘蛛访问时出现{state}")
    if not b.loaded:
        return verdict("unknown", f"浏览器复核未完成：{b.error}")
    code = f"（HTTP {b.status}）" if b.status and b.status >= 400 else ""
    return verdict("unknown", f"渲染后的页面中未找到该链接{code}（可能由未执行的脚本生成或已删除）")


def _redirect_verdict(cand: BrowserCandidate, b: _Visit, s: _Visit, watch: float) -> BrowserVerdict:
    page_origin = origin_of(cand.page_url)

    def away(v: _Visit) -> list[tuple[str, bool]]:
        if not v.loaded:
            return []
        return [
            (u, http)
            for u, http in v.navigations
            if origin_of(u) != page_origin or (cand.target and same_link(u, cand.target))
        ]

    b_nav, s_nav = away(b), away(s)
    if b_nav or s_nav:
        parts = []
        if b_nav and s_nav and b_nav[0][0] == s_nav[0][0]:
            parts.append(f"以浏览器和百度蜘蛛访问时页面均跳转至 {b_nav[0][0]}")
        else:
            for view, nav in (("浏览器", b_nav), ("百度蜘蛛", s_nav)):
                if nav:
                    parts.append(f"以{view}访问时页面跳转至 {nav[0][0]}")
        how = "服务器重定向" if any(http for _u, http in b_nav + s_nav) else "页面自动跳转"
        detail = "；".join(parts) + f"（{how}，已拦截，未加载目标）"
        if cand.target and not any(same_link(u, cand.target) for u, _ in b_nav + s_nav):
            detail += f"；与静态分析的目标 {cand.target} 不同"
        return BrowserVerdict(cand.key, "confirmed", detail)
    if b.loaded and s.loaded:
        return BrowserVerdict(cand.key, "refuted", f"以浏览器和百度蜘蛛访问，页面加载后{watch:g}秒内均未跳转")
    failed = b if not b.loaded else s
    return BrowserVerdict(cand.key, "unknown", f"浏览器复核未完成（{VIEW_ZH[failed.view]}）：{failed.error}")


def _regions(cands: Sequence[BrowserCandidate], visit: _Visit) -> dict[str, Region]:
    """What to photograph in one view for each candidate: where its link sits there, else the page top."""
    out: dict[str, Region] = {}
    for cand in cands:
        matches = visit.matches.get(cand.target or "", []) if cand.kind == "hidden_link" else []
        out[cand.key] = next((m["region"] for m in matches if m.get("region")), None)
    return out


# -- the pass ------------------------------------------------------------------------------------------


def _unknown_all(candidates: Sequence[BrowserCandidate], detail: str) -> dict[str, BrowserVerdict]:
    return {c.key: BrowserVerdict(c.key, "unknown", detail) for c in candidates}


async def confirm_candidates(
    candidates: Sequence[BrowserCandidate],
    options: BrowserOptions,
    host_overrides: Mapping[str, str],
    allowed_origins: Sequence[str],
) -> BrowserReport:
    """Load each candidate page in headless Chromium (as browser, then as spider) and judge the candidates.

    ``allowed_origins`` are the only origins the browser may reach (``http://www.x.gov.cn``…);
    ``host_overrides`` is ``crawl.host_overrides`` (host or host:port → ``IP:PORT`` or ``nxdomain``).
    Never raises for a browser problem: see :class:`BrowserReport`.
    """
    if not candidates:
        return BrowserReport({}, None, 0)
    if not options.enabled:
        reason = "浏览器复核已关闭（darklinks.browser.enabled: false）"
        return BrowserReport(_unknown_all(candidates, reason), reason, 0)
    exe = options.executable_path
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        reason = f"未找到Chromium：{exe}（安装：apt-get install chromium）"
        return BrowserReport(_unknown_all(candidates, reason), reason, 0)
    if options.max_pages == 0:
        reason = "浏览器复核页数上限为0（darklinks.browser.max_pages）"
        return BrowserReport(_unknown_all(candidates, reason), reason, 0)
    try:
        from playwright.async_api import async_playwright  # noqa: F401 - is it installed?
    except ImportError:
        reason = "未安装playwright（pip install playwright）"
        return BrowserReport(_unknown_all(candidates, reason), reason, 0)

    allowed = frozenset(o for o in (origin_of(a) for a in allowed_origins) if o)
    pages: dict[str, list[BrowserCandidate]] = {}
    verdicts: dict[str, BrowserVerdict] = {}
    for cand in candidates:
        if origin_of(cand.page_url) not in allowed:
            verdicts[cand.key] = BrowserVerdict(cand.key, "unknown", "页面不在本站范围内，未在浏览器中加载")
        elif cand.kind == "hidden_link" and not cand.target:
            verdicts[cand.key] = BrowserVerdict(cand.key, "unknown", "缺少链接目标，无法在页面中定位")
        else:
            pages.setdefault(cand.page_url, []).append(cand)
    budget = list(pages)[: options.max_pages]
    over = list(pages)[options.max_pages :]
    for url in over:
        for cand in pages[url]:
            verdicts[cand.key] = BrowserVerdict(
                cand.key, "unknown", f"超出本次浏览器复核上限（每次运行{options.max_pages}个页面），未复核"
            )
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            refusing = stack.enter_context(refusing_port())
        except OSError as exc:  # no loopback port to bind: never run the browser without its fence
            reason = f"浏览器复核未运行：{_short_error(exc)}"
            return BrowserReport(_unknown_all(candidates, reason), reason, 0)
        return await _run_browser(
            pages, budget, over, verdicts, options, host_overrides, allowed, refusing, candidates, started
        )


async def _run_browser(
    pages: dict[str, list[BrowserCandidate]],
    budget: list[str],
    over: list[str],
    verdicts: dict[str, BrowserVerdict],
    options: BrowserOptions,
    host_overrides: Mapping[str, str],
    allowed: frozenset[str],
    refusing: int,
    candidates: Sequence[BrowserCandidate],
    started: float,
) -> BrowserReport:
    """Launch Chromium behind its fences and judge the budgeted pages (see :func:`confirm_candidates`)."""
    exe = options.executable_path
    loaded = 0
    from playwright.async_api import async_playwright

    try:
        async with async_playwright() as pw:
            try:
                browser = await pw.chromium.launch(
                    executable_path=exe,
                    headless=True,
                    chromium_sandbox=False,
                    args=[
                        *CHROMIUM_FLAGS,
                        *proxy_flags(sorted(allowed), refusing),
                        f"--host-resolver-rules={host_resolver_rules(host_overrides, sorted(allowed))}",
                    ],
                    timeout=LAUNCH_TIMEOUT_MS,
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                )
            except Exception as exc:
                reason = f"Chromium启动失败：{_short_error(exc)}"
                log.warning("darklinks browser: %s", reason)
                for url in budget:
                    verdicts.update(_unknown_all(pages[url], reason))
                return BrowserReport(verdicts, reason, 0, len(over))
            try:
                session = _Session(browser, options, allowed)
                for url in budget:
                    cands = pages[url]
                    loaded += 1
                    verdicts.update(await _judge_page(session, url, cands))
            finally:
                try:
                    await asyncio.wait_for(browser.close(), 15)
                except Exception as exc:
                    log.info("darklinks browser: closing Chromium failed: %s", _short_error(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the driver died: what was judged stands, the rest is unknown
        reason = f"浏览器运行出错：{_short_error(exc)}"
        log.warning("darklinks browser: %s", reason)
        for url in budget:
            for cand in pages[url]:
                verdicts.setdefault(cand.key, BrowserVerdict(cand.key, "unknown", reason))
        if not any(v.status != "unknown" for v in verdicts.values()):
            return BrowserReport(verdicts, reason, loaded, len(over))
    log.info(
        "darklinks browser: %d candidates on %d pages in %.1fs (%d pages over budget)",
        len(candidates),
        loaded,
        time.monotonic() - started,
        len(over),
    )
    return BrowserReport(verdicts, None, loaded, len(over))


async def _judge_page(
    session: _Session, url: str, cands: Sequence[BrowserCandidate]
) -> dict[str, BrowserVerdict]:
    """Both visits of one page (at once, each in its own context: no shared cookies or cache), a verdict
    per candidate, then screenshots of the confirmed ones from the still-open pages."""
    opts = session.options
    b = s = None
    try:
        loads = await asyncio.gather(
            session.load("browser", url, cands), session.load("spider", url, cands), return_exceptions=True
        )
        b, s = (v if isinstance(v, _Visit) else None for v in loads)
        failure = next((v for v in loads if isinstance(v, BaseException)), None)
        if failure is not None:
            raise failure
        assert b is not None and s is not None
        out: dict[str, BrowserVerdict] = {}
        for cand in cands:
            if cand.kind == "hidden_link":
                out[cand.key] = _hidden_verdict(cand, b, s)
            else:
                out[cand.key] = _redirect_verdict(cand, b, s, opts.redirect_watch_seconds)
        confirmed = [c for c in cands if out[c.key].status == "confirmed"]
        if confirmed:
            shots: tuple[dict[str, bytes | None], dict[str, bytes | None]] = ({}, {})
            with contextlib.suppress(TimeoutError):
                shots = tuple(  # type: ignore[assignment]
                    await asyncio.wait_for(
                        asyncio.gather(
                            session.photograph(b, _regions(confirmed, b)),
                            session.photograph(s, _regions(confirmed, s)),
                        ),
                        opts.page_timeout_seconds + VISIT_HEADROOM_SECONDS,
                    )
                )
            for cand in confirmed:
                shot, spider_shot = shots[0].get(cand.key), shots[1].get(cand.key)
                out[cand.key] = replace(
                    out[cand.key],
                    screenshot=shot,
                    spider_screenshot=None if spider_shot == shot else spider_shot,
                )
        return out
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return _unknown_all(cands, f"浏览器复核出错：{_short_error(exc)}")
    finally:
        for visit in (b, s):
            if visit is not None:
                await session.close(visit)
