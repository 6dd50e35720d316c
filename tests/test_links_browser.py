"""Links as a browser sees them (issue 16): every reference a browser loads or follows, URLs resolved by the
WHATWG rules, sites told apart by origin, bot walls. Each construct has a decoy that must stay silent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from aiohttp import web
from yarl import URL

from monitor.config import Config, adhoc_config, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from monitor.web.decode import decode_body
from monitor.web.html import parse_html
from monitor.web.page import CSS_RESOURCE, STYLESHEET, Page, extract_links, stylesheet_links
from tests.sites import LocalSites, fast_config, page

GOV = "www.test.gov.cn"
EXT = "www.partner.cn"
HOME = f"http://{GOV}/"


async def run_links(config: Config, store: Store, clock: FixedClock, url: str | None = None) -> SiteRunResult:
    results = await run_duty("links", config, store, clock, url=url)
    assert len(results) == 1
    return results[0]


def open_urls(store: Store, **filters: str) -> dict[str, dict]:
    return {f["url"]: f for f in store.findings(status="open", **filters)}


def requested(sites: LocalSites) -> set[str]:
    return {path for _, host, path in sites.hits if host == GOV}


async def test_refresh_stub_homepage_is_crawled_through(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><head><!-- <meta http-equiv="refresh" content="0;url=/old/"> -->'
        '<meta http-equiv="Refresh" content="0; URL=\'/portal/index.html\'"><title>正在跳转</title></head>'
        '<body><!-- <a href="/commented-gone.html">旧栏目</a> --></body></html>',
    )
    sites.html(GOV, "/portal/index.html", page("首页", links=["/portal/a.html", "/portal/gone.html"]))
    sites.html(GOV, "/portal/a.html", page("文章", links=["/portal/inner-gone.html"]))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.status == "ok"
    assert result.counts["pages_crawled"] == 3
    found = open_urls(store)
    # The refresh target is the real homepage: its dead links are homepage dead links.
    assert found[f"http://{GOV}/portal/gone.html"]["kind"] == "homepage_dead_link"
    assert found[f"http://{GOV}/portal/inner-gone.html"]["kind"] == "dead_link"
    assert set(found) == {f"http://{GOV}/portal/gone.html", f"http://{GOV}/portal/inner-gone.html"}
    assert not {"/old/", "/commented-gone.html"} & requested(sites)


async def test_srcset_candidates_are_checked_and_data_candidates_skipped(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><body><img src="/img/a.png" alt="横幅" srcset="/img/a,b.png 1x,\n'
        '   data:image/png;base64,iVBORw0KGgo= 1.5x,\n   /img/gone-2x.png 2x">'
        '<picture><source srcset="/img/w480.webp 480w, /img/gone-w960.webp 960w" type="image/webp">'
        '<img src="/img/a.png" alt="横幅"></picture></body></html>',
    )
    for path in ("/img/a.png", "/img/a,b.png", "/img/w480.webp"):
        sites.html(GOV, path, b"img", content_type="image/png")
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {f"http://{GOV}/img/gone-2x.png", f"http://{GOV}/img/gone-w960.webp"}
    assert "首页图片“横幅”" in found[f"http://{GOV}/img/gone-2x.png"]["message"]
    assert "/img/a,b.png" in requested(sites)  # a comma inside a candidate URL stays in it
    assert result.counts["skipped"]["scheme:data"] == 1


async def test_css_references_in_styles_and_the_sites_stylesheets(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><head><link rel="stylesheet" href="/css/site.css">'
        '<link rel="stylesheet" href="/css/print-old.css" disabled>'
        f'<link rel="stylesheet" href="http://{EXT}/theme.css">'
        "<style>/* .old { background: url(/img/commented.png) } */\n"
        '@import "/css/extra.css";\n.banner { background: url( "/img/gone-banner.png" ) no-repeat; }</style>'
        "</head><body><div style=\"background-image:url('/img/gone-inline.png')\">要闻</div>"
        '<div style="color:red">无引用</div></body></html>',
    )
    sites.html(
        GOV,
        "/css/site.css",
        ".logo{background:url(../img/logo.png)} @font-face{font-family:x;src:url(fonts/gone.woff2)}",
        content_type="text/css",
    )
    sites.html(GOV, "/css/extra.css", ".x{background:url(/img/gone-extra.png)}", content_type="text/css")
    sites.html(GOV, "/img/logo.png", b"img", content_type="image/png")
    sites.html(EXT, "/theme.css", ".y{background:url(/never-read.png)}", content_type="text/css")
    result = await run_links(fast_config(sites, [GOV, EXT], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {
        f"http://{GOV}/img/gone-banner.png",
        f"http://{GOV}/img/gone-inline.png",
        f"http://{GOV}/css/fonts/gone.woff2",
        f"http://{GOV}/img/gone-extra.png",
    }
    # A stylesheet's broken reference names the stylesheet as the file to fix.
    assert found[f"http://{GOV}/css/fonts/gone.woff2"]["source_urls"] == [f"http://{GOV}/css/site.css"]
    assert found[f"http://{GOV}/img/gone-extra.png"]["source_urls"] == [f"http://{GOV}/css/extra.css"]
    assert "样式表引用的资源" in found[f"http://{GOV}/img/gone-banner.png"]["message"]
    assert sites.count(GOV, "/css/site.css", "GET") == 1
    assert not {"/css/print-old.css", "/img/commented.png"} & requested(sites)
    # Another site's stylesheet is checked, never read.
    assert sites.count(EXT, "/never-read.png") == 0
    assert result.counts["pages_crawled"] == 1


async def test_track_poster_and_form_targets(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(
        GOV,
        "/",
        '<html><body><video src="/v.mp4" poster="/img/gone-poster.jpg">'
        '<track kind="subtitles" src="/sub/gone.vtt" srclang="zh"></video>'
        '<form action="/search" method="post"><button formaction="/apply/submit">提交申请</button>'
        '<button formaction="/apply/gone">旧入口</button>'
        '<input type="submit" formaction="/apply/gone-input" value="查询"></form></body></html>',
    )
    sites.html(GOV, "/v.mp4", b"mp4", content_type="video/mp4")
    # The real submit endpoint only takes POST: a 405 to a GET is a working endpoint, not a dead one.
    sites.status(GOV, "/apply/submit", 405)
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {
        f"http://{GOV}/img/gone-poster.jpg",
        f"http://{GOV}/sub/gone.vtt",
        f"http://{GOV}/apply/gone",
        f"http://{GOV}/apply/gone-input",
    }
    assert "首页字幕" in found[f"http://{GOV}/sub/gone.vtt"]["message"]
    assert "首页表单提交地址“旧入口”" in found[f"http://{GOV}/apply/gone"]["message"]


async def test_query_is_encoded_in_the_pages_own_charset(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    raw_paths: list[str] = []

    async def search(request: web.Request) -> web.Response:
        raw_paths.append(request.raw_path)
        return web.Response(text=page("检索结果"), content_type="text/html")

    html = (
        '<html><head><meta charset="gbk"><title>首页</title></head>'
        '<body><a href="/s?q=中文">检索</a></body></html>'
    )
    sites.html(GOV, "/", html.encode("gbk"), content_type="text/html")
    sites.route(GOV, "/s", search)
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert raw_paths == ["/s?q=%D6%D0%CE%C4"]
    assert result.open_findings == 0


async def test_hostless_and_file_links_are_findings_not_the_page_itself(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        page(
            "首页", links=["http://", "//////", "file:///C:/Users/admin/Desktop/通知.doc", "http:///a.html"]
        ),
    )
    sites.html(GOV, "/a.html", page("A"))
    await run_links(fast_config(sites, [GOV], HOME, special={"a.html": "nxdomain"}), store, clock)
    found = open_urls(store)
    assert set(found) == {"http://", "//////", "file:///C:/Users/admin/Desktop/通知.doc", "http://a.html/"}
    assert found["http://"]["evidence"]["failure"] == "invalid_url"
    assert found["//////"]["evidence"]["failure"] == "invalid_url"
    local = found["file:///C:/Users/admin/Desktop/通知.doc"]
    assert local["evidence"]["failure"] == "local_file" and "本机文件" in local["message"]
    # "http:///a.html" is http://a.html/ to a browser (slashes after the scheme are skipped).
    assert found["http://a.html/"]["evidence"]["failure"] == "dns"


async def test_redirects_are_followed_up_to_twenty_hops(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    for i in range(15):
        sites.redirect(GOV, f"/r15/{i}", f"/r15/{i + 1}")
    sites.html(GOV, "/r15/15", page("终点"))
    for i in range(21):
        sites.redirect(GOV, f"/r21/{i}", f"/r21/{i + 1}")
    sites.html(GOV, "/r21/21", page("终点"))
    sites.html(GOV, "/", page("首页", links=["/r15/0", "/r21/0"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {f"http://{GOV}/r21/0"}
    assert found[f"http://{GOV}/r21/0"]["evidence"]["failure"] == "too_many_redirects"


async def test_two_sites_on_one_host_by_port_stay_apart(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    other = await LocalSites().start()
    try:
        host = "site.test.gov.cn"
        sites.html(host, "/", page("一号站", links=["/gone-1.html", f"http://{host}:8002/shared.html"]))
        other.html(host, "/", page("二号站", links=["/ok.html"]))
        other.html(host, "/ok.html", page("二号站文章"))
        other.html(host, "/shared.html", page("二号站页面", links=["/deep.html"]))
        special = {f"{host}:8001": f"127.0.0.1:{sites.port}", f"{host}:8002": f"127.0.0.1:{other.port}"}
        # Both ports stand in for public servers: the egress policy lets them through (loopback here).
        stand_ins = [f"http://{host}:8001", f"http://{host}:8002"]
        config = fast_config(sites, [], HOME, special=special, crawl={"allow_private": stand_ins})
        first = await run_links(config, store, clock, url=f"http://{host}:8001/")
        assert first.site.id == "site-test-gov-cn-8001"
        # Another port of the same host is another site: checked, never crawled.
        assert other.count(host, "/shared.html") == 1 and other.count(host, "/deep.html") == 0
        assert set(open_urls(store)) == {f"http://{host}:8001/gone-1.html"}
        clock.advance(days=1)
        second = await run_links(config, store, clock, url=f"http://{host}:8002/")
        assert second.site.id == "site-test-gov-cn-8002" and second.open_findings == 0
        # The second site's clean run resolves nothing of the first.
        assert set(open_urls(store)) == {f"http://{host}:8001/gone-1.html"}
    finally:
        await other.close()


async def test_path_based_sub_sites_stay_apart(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/a/", page("甲单位", links=["/a/gone.html", "/b/"]))
    sites.html(GOV, "/b/", page("乙单位", links=["/b/ok.html"]))
    sites.html(GOV, "/b/ok.html", page("乙文章"))
    # No configured site: ad hoc sites, as `monitor run links URL` makes them.
    config = fast_config(sites, [GOV], HOME).model_copy(update={"sites": ()})
    first = await run_links(config, store, clock, url=f"http://{GOV}/a/")
    assert first.counts["pages_crawled"] == 1  # /b/ is the other sub-site: checked, not crawled
    clock.advance(days=1)
    second = await run_links(config, store, clock, url=f"http://{GOV}/b/")
    assert first.site.id != second.site.id
    assert set(open_urls(store)) == {f"http://{GOV}/a/gone.html"}


async def test_bot_walls_are_unverifiable_not_dead(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        page(
            "首页",
            links=[
                f"http://{EXT}/in/company",
                f"http://{EXT}/challenge",
                f"http://{EXT}/busy",
                f"http://{EXT}/forbidden",
            ],
        ),
    )
    sites.status(EXT, "/in/company", 999)
    sites.status(EXT, "/challenge", 403, headers={"cf-mitigated": "challenge"})
    sites.status(EXT, "/busy", 429, headers={"Retry-After": "0"})
    sites.status(EXT, "/forbidden", 403)  # decoy: a plain 403 is a dead link as before
    await run_links(fast_config(sites, [GOV, EXT], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {f"http://{EXT}{p}" for p in ("/in/company", "/challenge", "/busy", "/forbidden")}
    for path, status in (("/in/company", 999), ("/challenge", 403), ("/busy", 429)):
        f = found[f"http://{EXT}{path}"]
        assert (f["kind"], f["severity"]) == ("link_unverifiable", "info"), path
        assert "无法自动检测" in f["message"] and f"HTTP {status}" in f["message"]
    assert found[f"http://{EXT}/forbidden"]["kind"] == "homepage_dead_link"
    # A checked-only link's 429 is asked again by the confirmation pass, not retried in line first.
    assert sites.count(EXT, "/busy") == 3


async def test_noscript_refresh_is_checked_but_not_the_homepage(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><head><title>首页</title><noscript><meta http-equiv="refresh" content="0;url=/nojs.html">'
        '</noscript></head><body><ul><li><a href="/a.html">要闻</a></li></ul></body></html>',
    )
    sites.html(GOV, "/a.html", page("要闻"))
    sites.html(GOV, "/nojs.html", page("无脚本版", links=["/nojs-gone.html"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    # Crawled (some visitors land there), but its dead link is not a homepage dead link.
    assert found[f"http://{GOV}/nojs-gone.html"]["kind"] == "dead_link"


async def test_homepage_behind_a_challenge_is_unverifiable_not_unreachable(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.status(GOV, "/", 403, headers={"cf-mitigated": "challenge"})
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.status == "failed"
    (finding,) = store.findings(status="open")
    assert (finding["kind"], finding["severity"]) == ("site_unverifiable", "info")
    assert "首页无法自动检测：HTTP 403" in finding["message"]


REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"


def test_real_pages_and_their_stylesheets_give_no_link_a_browser_would_accept_as_broken() -> None:
    # 34 saved pages of real government sites, clean by definition: every reference in them and in the
    # stylesheets saved beside them must resolve (an invalid or file: link is reported without a request,
    # so here it would be a false alarm), and the stylesheets' url()s must be found.
    records = json.loads((REALWORLD / "manifest.json").read_text("utf-8"))
    kinds: Counter[str] = Counter()
    alarms = []
    read: set[str] = set()
    for record in records:
        body = (REALWORLD / "sites" / record["served_path"].lstrip("/")).read_bytes()
        text, encoding = decode_body(body, None)
        url = record["original_url"]
        page_ = Page(url, url, 200, 0, text, encoding)
        links = list(page_.links)
        for link in page_.links:
            if link.tag != STYLESHEET or link.url is None or link.url in read:
                continue
            sheet = URL(link.url)
            saved = REALWORLD / "sites" / (sheet.host or "") / sheet.path.lstrip("/")
            if saved.is_file():
                read.add(link.url)
                links += stylesheet_links(decode_body(saved.read_bytes(), "text/css")[0], sheet)
        for link in links:
            kinds[link.tag] += 1
            if link.url is None and (link.error or link.skipped_scheme == "file"):
                alarms.append((record["site"], link.tag, link.raw))
    assert alarms == []
    assert len(read) > 100 and kinds[CSS_RESOURCE] > 1000  # the saved stylesheets were read


async def test_an_external_host_that_never_answers_is_not_retried_in_line(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    # A checked-only link that times out is asked again by the confirmation pass (which overlaps the crawl),
    # not three times in a row first: 1 + 2 requests instead of 3 + 2. A crawled page keeps its retries.
    sites.html(GOV, "/", page("首页", links=[f"http://{EXT}/hang.html", "/a.html"]))
    sites.html(GOV, "/a.html", page("A"))
    sites.slow(EXT, "/hang.html", 30, page("永不返回"))
    config = fast_config(sites, [GOV, EXT], HOME, crawl={"timeout_seconds": 0.3, "retries": 2})
    await run_links(config, store, clock)
    (f,) = store.findings(status="open")
    assert f["url"] == f"http://{EXT}/hang.html" and f["evidence"]["failure"] == "timeout"
    assert sites.count(EXT, "/hang.html") == 3


def test_query_encoding_follows_the_document_charset_except_utf16() -> None:
    base = URL("http://www.test.gov.cn/list/")
    html = (
        '<html><body><a href="/s?q=中文&amp;x=✓#结果">检索</a>'
        '<a href="/文件/a.html?q=中">文件</a></body></html>'
    )
    by_charset = {
        enc: [link.url for link in extract_links(parse_html(html), base, enc)]
        for enc in ("gb18030", "big5", "utf-8", "utf-16-le")
    }
    # GBK/GB18030: the query in the page's charset (GB18030 has every character). The path is always
    # UTF-8; the fragment is dropped.
    assert by_charset["gb18030"] == [
        "http://www.test.gov.cn/s?q=%D6%D0%CE%C4&x=%817%BD7",
        "http://www.test.gov.cn/%E6%96%87%E4%BB%B6/a.html?q=%D6%D0",
    ]
    # Big5 has 中文 but no ✓: the browser sends its character reference, percent-encoded (WHATWG).
    assert by_charset["big5"][0] == "http://www.test.gov.cn/s?q=%A4%A4%A4%E5&x=%26%2310003%3B"
    # UTF-16 documents use UTF-8 for URLs (WHATWG "get an output encoding").
    assert by_charset["utf-16-le"] == by_charset["utf-8"]
    assert by_charset["utf-8"][0] == "http://www.test.gov.cn/s?q=%E4%B8%AD%E6%96%87&x=%E2%9C%93"
    # CSS parses its URLs as UTF-8 whatever the page's charset.
    css = '<html><body><div style="background:url(/bg?q=中)">x</div></body></html>'
    assert [link.url for link in extract_links(parse_html(css), base, "gb18030")] == [
        "http://www.test.gov.cn/bg?q=%E4%B8%AD"
    ]


def test_sites_are_origins_in_config() -> None:
    config = config_from_mapping(
        {
            "sites": [
                {"id": "main", "name": "主站", "homepage": "http://h.gov.cn/"},
                {
                    "id": "sub",
                    "name": "子站",
                    "homepage": "http://h.gov.cn/sub/",
                    "scope": {"path_prefixes": ["/sub/"]},
                },
                {"id": "alt", "name": "备用", "homepage": "http://h.gov.cn:8080/"},
                {
                    "id": "both",
                    "name": "双协议",
                    "homepage": "https://b.gov.cn/",
                    "scope": {"hosts": ["b.gov.cn", "https://static.b.gov.cn:8443"]},
                },
            ]
        }
    )
    owner = {
        u: (s.id if (s := config.site_for_url(u)) else None)
        for u in (
            "http://h.gov.cn/a.html",
            "http://h.gov.cn/sub/a.html",
            "http://h.gov.cn:8080/a.html",
            "https://h.gov.cn/a.html",
            "http://b.gov.cn/x",
            "https://static.b.gov.cn:8443/x.css",
            "https://static.b.gov.cn/x.css",
        )
    }
    assert list(owner.values()) == ["main", "sub", "alt", None, "both", "both", None]
    assert config.sites[3].crawl_origins == (
        "http://b.gov.cn",
        "https://b.gov.cn",
        "https://static.b.gov.cn:8443",
    )
    # Ad hoc: the id names the origin (and a sub-site's folder); plain http keeps the bare host name.
    ids = [
        adhoc_config(u)[1].id
        for u in ("http://x.gov.cn/", "https://x.gov.cn/", "http://x.gov.cn:8001/", "http://x.gov.cn/sub/")
    ]
    assert ids == ["x-gov-cn", "https-x-gov-cn", "x-gov-cn-8001", "x-gov-cn-sub"]


async def test_legacy_background_attributes_are_checked(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><body BACKGROUND="/img/body.gif"><table background="/img/gone-table.gif" bgcolor="#ffffff">'
        '<tr><td background="/img/gone-cell.gif">通知公告</td><td background="">空</td>'
        '<td style="background: url(/img/cell-css.gif)">样式</td></tr></table>'
        '<div background="/img/div-not-loaded.gif">div</div></body></html>',
    )
    sites.html(GOV, "/img/body.gif", b"gif", content_type="image/gif")
    sites.html(GOV, "/img/cell-css.gif", b"gif", content_type="image/gif")
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {f"http://{GOV}/img/gone-table.gif", f"http://{GOV}/img/gone-cell.gif"}
    assert "首页背景图片" in found[f"http://{GOV}/img/gone-cell.gif"]["message"]
    # A <div background> is no HTML: browsers ignore it, so do we.
    assert "/img/div-not-loaded.gif" not in requested(sites)


async def test_a_big_stylesheet_is_read_whole(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    # A framework-sized stylesheet (tokenized off the event loop): its last reference counts too.
    rules = "".join(f".c{i}{{color:#{i % 999:03d};margin:{i}px}}\n" for i in range(3000))
    sites.html(
        GOV, "/", '<html><head><link rel="stylesheet" href="/css/all.css"></head><body>首页</body></html>'
    )
    sites.html(
        GOV, "/css/all.css", rules + ".end{background:url(../img/gone-last.png)}", content_type="text/css"
    )
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert set(open_urls(store)) == {f"http://{GOV}/img/gone-last.png"}
