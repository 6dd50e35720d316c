"""Browser confirmation of dark-link candidates in real headless Chromium (Debian's /usr/bin/chromium).

The government site and the spam/third-party hosts are real aiohttp servers on 127.0.0.1, reached through
host overrides exactly as in production; the third-party server counts every request it gets, so "the
browser never reached it" is measured, not assumed. One browser pass serves all the assertions on the
main scenario (a pass launches Chromium once; each page is loaded twice).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import struct
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from checks.darklinks.browser import (
    BrowserCandidate,
    BrowserReport,
    confirm_candidates,
    host_resolver_rules,
    origin_of,
    proxy_bypass_list,
)
from monitor.config import BAIDUSPIDER_USER_AGENT, ConfigError, DarkLinksBrowser, config_from_mapping
from tests.sites import LocalSites

GOV = "www.bt-test.gov.cn"
SITE = f"http://{GOV}"
SPAM = "www.spam-bt.com"
CDN = "static.other-bt.cn"
MOBILE_SPAM = "m.spam-bt.com"
CHROMIUM = "/usr/bin/chromium"

needs_chromium = pytest.mark.skipif(
    not __import__("os").path.exists(CHROMIUM), reason="Debian chromium is installed by .ci/run"
)

HIDDEN_PAGE = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>示例县人民政府</title>
<style>
body {{ margin: 0; font-family: sans-serif; background: #ffffff; }}
.menu li .sub {{ display: none; }}
.menu li:hover .sub {{ display: block; }}
.box {{ height: 0; overflow: hidden; }}
</style>
<script src="http://{SPAM}/js/stat.js"></script>
</head><body>
<div class="header" style="background:#c8161d;color:#fff;padding:20px;font-size:28px">
示例县人民政府门户网站</div>
<ul class="menu"><li>政务公开<ul class="sub"><li><a href="/zwgk/jgsz/">机构设置</a></li></ul></li></ul>
<div class="content" style="padding:20px">
<p>为深入贯彻落实县委县政府决策部署，现将有关事项通知如下。</p>
<p><a id="visible" href="http://{SPAM}/visible">友情链接：示例市人民政府</a></p>
<div style="display:none"><a href="http://{SPAM}/none">澳门新葡京</a></div>
<a href="http://{SPAM}/offscreen" style="position:absolute;left:-9999px;top:-9999px">百家乐</a>
<div style="background:#ffffff;padding:8px">
<a href="http://{SPAM}/camouflage" style="color:#fefefe;text-decoration:none">时时彩 北京赛车</a></div>
<div class="box"><a href="http://{SPAM}/clipped">真人娱乐</a></div>
<div style="text-indent:-9999px"><a href="http://{SPAM}/indent">彩票投注</a></div>
<div style="background:#c8161d;padding:6px"><a href="{SITE}/decoy/header" style="color:#fff">首页</a></div>
<div style="background:#fff url(/bg.png);padding:6px">
<a href="{SITE}/decoy/bgimage" style="color:#fff">图片背景上的白字</a></div>
<p style="font-size:12px"><a href="{SITE}/decoy/grey" style="color:#999">网站地图</a></p>
<p><a href="http://{SPAM}/twice">示例链接</a></p>
<div style="display:none"><a href="http://{SPAM}/twice">示例链接</a></div>
<img src="http://{CDN}/pixel.gif" alt="">
<div style="font-size:0"><a href="{SITE}/decoy/icon" style="display:inline-block;width:48px;height:48px;
background:#c8161d url(/badge.png)">集约化</a></div>
<div style="position:relative;height:60px;background:#f3fafe">
<div style="position:absolute;left:0;top:0;width:100%;height:60px">
<img src="http://{CDN}/banner.jpg" alt=""></div>
<a href="{SITE}/decoy/banner" style="position:relative;color:#fff">EN</a></div>
<div style="background:#fff"><a href="http://{SPAM}/span"><span style="color:#fdfdfd">六合彩</span></a></div>
<div style="float:right;width:25px;height:26px;background:#c8161d url(/i-jieyue.png);font-size:0">
<a href="{SITE}/decoy/badge" style="display:block;width:25px;height:26px;font-size:0">集</a></div>
<a href="http://{SPAM}/pixel"><img src="http://{SPAM}/1.gif" width="1" height="1"></a>
<div class="footer" style="overflow:hidden"><a href="http://bszs.conac.cn/sitename?method=show&id=1">
<img src="http://{CDN}/dzjg.png"></a></div>
</div>
</body></html>"""

CLOAK_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告</title>
<script>
var ua = navigator.userAgent.toLowerCase(), ref = document.referrer;
if (ua.indexOf("baiduspider") >= 0 && ref.indexOf("baidu.com") >= 0) {{
  setTimeout(function () {{ window.location.href = "http://{SPAM}/landing.html"; }}, 200);
}}
</script></head><body><h1>通知公告</h1><p>关于开展安全生产检查的通知。</p></body></html>"""

MOBILE_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策解读</title>
<script>
if (/Android|iPhone|iPad|Mobile/i.test(navigator.userAgent)) {{ location.replace("http://{MOBILE_SPAM}/"); }}
</script></head><body><h1>政策解读</h1><p>一图读懂政府工作报告。</p></body></html>"""


REFRESH_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=http://{SPAM}/refresh.html"><title>首页</title></head>
<body><p>页面已迁移。</p></body></html>"""


def spider_only_page(ua: str) -> str:
    """Server-side cloaking: the spider gets a link that browsers never see."""
    link = f'<p><a href="http://{SPAM}/for-spiders">北京赛车开奖</a></p>' if "Baiduspider" in ua else ""
    return f"<!DOCTYPE html><html><body><h1>工作动态</h1>{link}<p>县政府召开常务会议。</p></body></html>"


@dataclass
class Scenario:
    report: BrowserReport
    gov: LocalSites
    spam: LocalSites
    seconds: float
    gov_requests: list[dict[str, str]]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def options(**extra: Any) -> DarkLinksBrowser:
    return DarkLinksBrowser(
        **{"executable_path": CHROMIUM, "page_timeout_seconds": 4, "redirect_watch_seconds": 1.0, **extra}
    )


async def _never_finishes(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
    await response.prepare(request)
    await response.write("<html><head><title>加载中</title></head><body><p>正在加载".encode())
    await asyncio.sleep(60)
    return response


async def _scenario() -> Scenario:
    gov = await LocalSites().start()
    spam = await LocalSites().start()
    requests: list[dict[str, str]] = []

    def recorded(body: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            requests.append(
                {
                    "path": request.path,
                    "ua": request.headers.get("User-Agent", ""),
                    "referer": request.headers.get("Referer", ""),
                }
            )
            return web.Response(text=body, content_type="text/html")

        return handler

    gov.route(GOV, "/index.html", recorded(HIDDEN_PAGE))
    gov.route(GOV, "/tzgg/cloak.html", recorded(CLOAK_PAGE))
    gov.route(GOV, "/zcjd/mobile.html", recorded(MOBILE_PAGE))
    gov.route(GOV, "/slow.html", _never_finishes)
    gov.html(GOV, "/refresh.html", REFRESH_PAGE)

    async def cloaked(request: web.Request) -> web.Response:
        return web.Response(
            text=spider_only_page(request.headers.get("User-Agent", "")), content_type="text/html"
        )

    gov.route(GOV, "/gzdt/cloaked.html", cloaked)
    for path in ("/landing.html", "/refresh.html", "/js/stat.js", "/pixel.gif", "/"):
        spam.html(SPAM, path, "<html><body>spam</body></html>")
    overrides = {
        **gov.overrides(GOV),
        **spam.overrides(SPAM, CDN, MOBILE_SPAM),
    }
    page = f"{SITE}/index.html"
    candidates = [
        BrowserCandidate("none", page, "hidden_link", f"http://{SPAM}/none"),
        BrowserCandidate("offscreen", page, "hidden_link", f"http://{SPAM}/offscreen"),
        BrowserCandidate("camouflage", page, "hidden_link", f"http://{SPAM}/camouflage"),
        BrowserCandidate("clipped", page, "hidden_link", f"http://{SPAM}/clipped"),
        BrowserCandidate("indent", page, "hidden_link", f"http://{SPAM}/indent#top"),
        BrowserCandidate("dropdown", page, "hidden_link", f"{SITE}/zwgk/jgsz/"),
        BrowserCandidate("visible", page, "hidden_link", f"http://{SPAM.upper()}/visible"),
        BrowserCandidate("absent", page, "hidden_link", f"http://{SPAM}/not-on-the-page"),
        BrowserCandidate("twice", page, "hidden_link", f"http://{SPAM}/twice"),
        BrowserCandidate("pixel", page, "hidden_link", f"http://{SPAM}/pixel"),
        BrowserCandidate(
            "blocked-image", page, "hidden_link", "http://bszs.conac.cn/sitename?method=show&id=1"
        ),
        BrowserCandidate("decoy-header", page, "hidden_link", f"{SITE}/decoy/header"),
        BrowserCandidate("decoy-bgimage", page, "hidden_link", f"{SITE}/decoy/bgimage"),
        BrowserCandidate("decoy-grey", page, "hidden_link", f"{SITE}/decoy/grey"),
        BrowserCandidate("decoy-icon", page, "hidden_link", f"{SITE}/decoy/icon"),
        BrowserCandidate("decoy-badge", page, "hidden_link", f"{SITE}/decoy/badge"),
        BrowserCandidate("decoy-banner", page, "hidden_link", f"{SITE}/decoy/banner"),
        BrowserCandidate("span", page, "hidden_link", f"http://{SPAM}/span"),
        BrowserCandidate(
            "spider-only", f"{SITE}/gzdt/cloaked.html", "hidden_link", f"http://{SPAM}/for-spiders"
        ),
        BrowserCandidate("refresh", f"{SITE}/refresh.html", "js_redirect"),
        BrowserCandidate("cloak", f"{SITE}/tzgg/cloak.html", "js_redirect", f"http://{SPAM}/landing.html"),
        BrowserCandidate("mobile", f"{SITE}/zcjd/mobile.html", "js_redirect", f"http://{MOBILE_SPAM}/"),
        BrowserCandidate("slow", f"{SITE}/slow.html", "hidden_link", f"http://{SPAM}/x"),
        BrowserCandidate("elsewhere", f"http://{SPAM}/", "js_redirect"),
    ]
    started = time.monotonic()
    try:
        report = await confirm_candidates(candidates, options(page_timeout_seconds=2.5), overrides, [SITE])
        seconds = time.monotonic() - started
    finally:
        await gov.close()
        await spam.close()
    return Scenario(report, gov, spam, seconds, requests)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    if not __import__("os").path.exists(CHROMIUM):
        pytest.skip("Debian chromium is installed by .ci/run")
    return asyncio.run(_scenario())


def _verdict(scenario: Scenario, key: str) -> Any:
    return scenario.report.verdicts[key]


@needs_chromium
@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("none", "display:none"),
        ("offscreen", "可见范围之外"),
        ("camouflage", "与背景色#ffffff几乎相同"),
        ("clipped", "裁剪"),
        ("indent", "可见范围之外"),
        ("dropdown", "display:none"),
        ("pixel", "尺寸1×1像素"),
        ("span", "文字颜色#fdfdfd与背景色#ffffff几乎相同"),
    ],
)
def test_hidden_links_are_confirmed_with_a_screenshot(scenario: Scenario, key: str, words: str) -> None:
    v = _verdict(scenario, key)
    assert v.status == "confirmed", v.detail
    assert v.detail.startswith("浏览器渲染：链接") and words in v.detail, v.detail
    assert v.screenshot is not None
    width, height = png_size(v.screenshot)
    assert 0 < width <= 1200 and 0 < height <= 900
    assert len(v.screenshot) <= 400_000


@needs_chromium
def test_a_visible_link_is_refuted_whatever_the_case_of_its_host(scenario: Scenario) -> None:
    v = _verdict(scenario, "visible")
    assert v.status == "refuted"
    assert "链接可见" in v.detail and "像素" in v.detail
    assert v.screenshot is None


@needs_chromium
@pytest.mark.parametrize(
    "key", ["decoy-header", "decoy-bgimage", "decoy-grey", "decoy-icon", "decoy-badge", "decoy-banner"]
)
def test_light_text_on_its_own_background_is_not_camouflage(scenario: Scenario, key: str) -> None:
    # White on the red masthead, white over a background image (colour unknowable: never claimed), a
    # small grey footer link, and icon links (font-size:0 text over their own or their parent's background
    # picture, as on 集约化 badges) are design; so is white text over a banner layer whose picture the
    # browser was not allowed to load (the colour behind it cannot be known).
    v = _verdict(scenario, key)
    assert v.status == "refuted", v.detail


@needs_chromium
def test_an_image_link_whose_image_lives_elsewhere_is_not_called_hidden(scenario: Scenario) -> None:
    # The 党政机关 badge comes from another site, which the browser must not fetch: with no image the link
    # has no size, and that proves nothing.
    v = _verdict(scenario, "blocked-image")
    assert v.status == "unknown"
    assert v.detail == "浏览器渲染：链接内的图片未加载（来自本站以外或已缺失），无法判断链接是否可见"


@needs_chromium
def test_a_link_with_one_visible_copy_is_refuted(scenario: Scenario) -> None:
    v = _verdict(scenario, "twice")
    assert v.status == "refuted"
    assert "链接可见" in v.detail and "（共2处）" in v.detail


@needs_chromium
def test_a_link_served_only_to_the_spider_is_confirmed_with_both_views(scenario: Scenario) -> None:
    v = _verdict(scenario, "spider-only")
    assert v.status == "confirmed"
    assert v.detail == "以浏览器访问时页面无此链接，以百度蜘蛛访问时出现且可见"
    assert v.screenshot is not None and v.spider_screenshot is not None
    assert v.screenshot != v.spider_screenshot
    assert png_size(v.spider_screenshot)[0] > 0


@needs_chromium
def test_a_meta_refresh_away_from_the_site_is_confirmed(scenario: Scenario) -> None:
    v = _verdict(scenario, "refresh")
    assert v.status == "confirmed"
    assert v.detail == (
        f"以浏览器和百度蜘蛛访问时页面均跳转至 http://{SPAM}/refresh.html（页面自动跳转，已拦截，未加载目标）"
    )
    assert scenario.spam.count(SPAM, "/refresh.html") == 0


@needs_chromium
def test_a_link_missing_from_the_rendered_page_is_unknown(scenario: Scenario) -> None:
    v = _verdict(scenario, "absent")
    assert v.status == "unknown"
    assert "未找到该链接" in v.detail


@needs_chromium
def test_spider_and_search_referrer_keyed_redirect_is_confirmed_without_loading_the_target(
    scenario: Scenario,
) -> None:
    v = _verdict(scenario, "cloak")
    assert v.status == "confirmed", v.detail
    assert f"以百度蜘蛛访问时页面跳转至 http://{SPAM}/landing.html" in v.detail
    assert "以浏览器访问" not in v.detail  # a plain visitor stays
    assert v.screenshot is not None and png_size(v.screenshot)[0] > 0
    # The aborted navigation leaves the page on screen (no browser error page): both views look the same.
    assert v.spider_screenshot is None
    assert scenario.spam.count(SPAM, "/landing.html") == 0
    # The spider visit really carried the spider's identity and the search-result referrer.
    spider = [
        r for r in scenario.gov_requests if r["path"] == "/tzgg/cloak.html" and "Baiduspider" in r["ua"]
    ]
    assert spider and spider[0]["ua"] == BAIDUSPIDER_USER_AGENT
    assert spider[0]["referer"].startswith("https://www.baidu.com/s?wd=")
    plain = [
        r for r in scenario.gov_requests if r["path"] == "/tzgg/cloak.html" and "Baiduspider" not in r["ua"]
    ]
    assert plain and "HeadlessChrome" not in plain[0]["ua"] and plain[0]["referer"] == ""


@needs_chromium
def test_a_mobile_only_redirect_is_not_triggered(scenario: Scenario) -> None:
    v = _verdict(scenario, "mobile")
    assert v.status == "refuted"
    assert "均未跳转" in v.detail
    assert scenario.spam.count(MOBILE_SPAM, "/") == 0


@needs_chromium
def test_the_browser_never_reaches_another_host(scenario: Scenario) -> None:
    # The page asks for a script on the spam host and an image on a third-party CDN: both are mapped to
    # a live loopback server, which must not see a single request.
    assert sum(scenario.spam.hits.values()) == 0, dict(scenario.spam.hits)
    v = _verdict(scenario, "elsewhere")
    assert v.status == "unknown" and "不在本站范围内" in v.detail


@needs_chromium
def test_a_page_that_never_finishes_loading_is_unknown_within_its_timeout(scenario: Scenario) -> None:
    v = _verdict(scenario, "slow")
    assert v.status == "unknown"
    assert "页面加载超时（2.5秒内未完成）" in v.detail
    # Bounded: the server would keep that page open for 60 s; the whole pass (6 pages, each loaded twice
    # at once; the slow one given 2.5 s) ends well before.
    assert scenario.seconds < 50
    assert scenario.report.skipped is None
    assert scenario.report.pages_loaded == 6


async def test_missing_chromium_skips_the_pass_with_a_reason(tmp_path: Any) -> None:
    cands = [BrowserCandidate("k", f"{SITE}/", "hidden_link", f"http://{SPAM}/")]
    missing = str(tmp_path / "no-chromium")
    report = await confirm_candidates(cands, options(executable_path=missing), {}, [SITE])
    assert report.skipped == f"未找到Chromium：{missing}（安装：apt-get install chromium）"
    assert report.pages_loaded == 0
    assert report.verdicts["k"].status == "unknown"
    assert report.verdicts["k"].detail == report.skipped


async def test_disabled_pass_is_skipped() -> None:
    cands = [BrowserCandidate("k", f"{SITE}/", "js_redirect")]
    report = await confirm_candidates(cands, options(enabled=False), {}, [SITE])
    assert report.skipped is not None and "enabled: false" in report.skipped
    assert report.verdicts["k"].status == "unknown"


@needs_chromium
async def test_pages_beyond_the_budget_are_left_unknown(sites: LocalSites) -> None:
    sites.html(
        GOV, "/a.html", f'<html><body><a href="http://{SPAM}/a" style="display:none">x</a></body></html>'
    )
    sites.html(
        GOV, "/b.html", f'<html><body><a href="http://{SPAM}/b" style="display:none">x</a></body></html>'
    )
    cands = [
        BrowserCandidate("a", f"{SITE}/a.html", "hidden_link", f"http://{SPAM}/a"),
        BrowserCandidate("b", f"{SITE}/b.html", "hidden_link", f"http://{SPAM}/b"),
    ]
    report = await confirm_candidates(cands, options(max_pages=1), sites.overrides(GOV), [SITE])
    assert report.verdicts["a"].status == "confirmed"
    assert report.verdicts["b"].status == "unknown"
    assert "每次运行1个页面" in report.verdicts["b"].detail
    assert (report.pages_loaded, report.pages_over_budget) == (1, 1)
    assert sites.count(GOV, "/b.html") == 0


@needs_chromium
async def test_redirect_hops_from_the_site_never_reach_the_network(sites: LocalSites) -> None:
    """Playwright's routing does not see redirect hops: the refusing proxy does. The site's own resources
    redirect to another port of loopback (a listener that must see nothing) and to cloud metadata."""
    trap = web.Application()
    trapped: list[str] = []

    async def record(request: web.Request) -> web.Response:
        trapped.append(request.path)
        return web.Response(text="secret")

    trap.router.add_get("/{tail:.*}", record)
    runner = web.AppRunner(trap)
    await runner.setup()
    listener = web.TCPSite(runner, "127.0.0.1", 0)
    await listener.start()
    port = listener._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        sites.redirect(GOV, "/img", f"http://127.0.0.1:{port}/pixel.gif")
        sites.redirect(GOV, "/frame", f"http://127.0.0.1:{port}/admin")
        sites.redirect(GOV, "/meta", "http://169.254.169.254/latest/meta-data/")
        sites.html(
            GOV,
            "/r.html",
            '<html><body><img src="/img"><iframe src="/frame"></iframe><img src="/meta">'
            f'<a href="http://{SPAM}/x" style="display:none">百家乐</a></body></html>',
        )
        cand = BrowserCandidate("r", f"{SITE}/r.html", "hidden_link", f"http://{SPAM}/x")
        started = time.monotonic()
        report = await confirm_candidates([cand], options(), sites.overrides(GOV), [SITE])
    finally:
        await runner.cleanup()
    assert report.verdicts["r"].status == "confirmed"  # the page itself loaded and was judged
    assert sites.count(GOV, "/img") >= 1 and sites.count(GOV, "/frame") >= 1
    assert trapped == []
    assert time.monotonic() - started < 30  # the metadata hop failed at once, no connect timeout


def test_proxy_bypass_lists_exactly_the_allowed_origins() -> None:
    assert proxy_bypass_list(["http://www.x.gov.cn", "https://x.gov.cn:8443", "http://[::1]:8080"]) == (
        "<-loopback>;http://www.x.gov.cn:80;https://x.gov.cn:8443;http://[::1]:8080"
    )


def test_host_rules_resolve_only_the_site() -> None:
    rules = host_resolver_rules(
        {
            GOV: "127.0.0.1:8080",
            f"{SPAM}:443": "127.0.0.1:8443",
            "gone.example.cn": "nxdomain",
            "*": "nxdomain",
        },
        ["http://www.bt-test.gov.cn", "https://real.gov.cn:8443"],
    )
    assert rules == (
        f"MAP {GOV} 127.0.0.1:8080, MAP {SPAM}:443 127.0.0.1:8443, MAP gone.example.cn ~NOTFOUND, "
        "MAP * ~NOTFOUND, EXCLUDE real.gov.cn"
    )
    assert origin_of("HTTP://WWW.X.GOV.CN:80/a?b") == "http://www.x.gov.cn"
    assert origin_of("https://x.gov.cn:8443/") == "https://x.gov.cn:8443"
    assert origin_of("javascript:alert(1)") is None


def test_browser_options_are_validated_at_load() -> None:
    config = config_from_mapping({"darklinks": {"browser": {"max_pages": 5, "page_timeout_seconds": 8}}})
    assert config.darklinks.browser.max_pages == 5
    assert config.darklinks.browser.executable_path == "/usr/bin/chromium"
    assert config.darklinks.browser.spider_user_agent == BAIDUSPIDER_USER_AGENT
    assert config_from_mapping({}).darklinks.browser == DarkLinksBrowser()
    bad = {
        "executable_path": "chromium",
        "page_timeout_seconds": 0,
        "max_pages": -1,
        "spider_referer": "baidu",
        "headless": False,
    }
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"darklinks": {"browser": bad}})
    paths = {path for path, _ in info.value.problems}
    assert paths == {f"darklinks.browser.{key}" for key in bad}


# ------------------------------------------------------------------------------------------ real pages

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"


@needs_chromium
async def test_real_government_pages_never_confirm_a_redirect_and_reach_only_their_own_site() -> None:
    # Real pages carry 无障碍 toolbars, statistics scripts, share menus and mobile-redirect snippets: none of
    # that may read as a redirect for a desktop browser or a spider, and none of their third-party
    # resources may be fetched. Every host of the collection is mapped to the local server, so a request
    # that escaped the allow-list would be counted.
    manifest = json.loads((REALWORLD / "manifest.json").read_text(encoding="utf-8"))
    chosen = manifest[::8]
    root = REALWORLD / "sites"
    hits: Counter[str] = Counter()

    async def serve(request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0].lower()
        hits[host] += 1
        base = (root / host).resolve()
        target = (base / (request.path.lstrip("/") or "index.html")).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return web.Response(status=404, text="404")
        html = target.suffix.lower() in (".html", ".htm", ".shtml", ".jsp")
        ctype = "text/html" if html else (mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        return web.Response(body=target.read_bytes(), headers={"Content-Type": ctype})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        every_host = {p.name for p in root.iterdir() if p.is_dir()}
        allowed = {r["site"] for r in chosen}
        cands = [
            BrowserCandidate(
                r["site"], f"http://{r['site']}{r['served_path'][len(r['site']) + 1 :]}", "js_redirect"
            )
            for r in chosen
        ]
        report = await confirm_candidates(
            cands,
            options(redirect_watch_seconds=0.5, page_timeout_seconds=10),
            {h: f"127.0.0.1:{port}" for h in every_host},
            [f"http://{h}" for h in sorted(allowed)],
        )
    finally:
        await runner.cleanup()
    assert report.pages_loaded == len(chosen)
    assert {k: v.status for k, v in report.verdicts.items()} == {r["site"]: "refuted" for r in chosen}
    assert set(hits) == allowed  # each page's own host answered; no other host was ever asked
