"""The dead-link check against real local HTTP servers: every behaviour the issue names."""

from __future__ import annotations

import asyncio

from aiohttp import web

from monitor.config import Config
from monitor.core.clock import FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
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


async def test_clean_site_has_no_findings(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=["/a.html", "/b.html", f"http://{EXT}/"]))
    sites.html(GOV, "/a.html", page("A", links=["/b.html", "/"]))
    sites.html(GOV, "/b.html", page("B"))
    sites.html(EXT, "/", page("合作单位"))
    result = await run_links(fast_config(sites, [GOV, EXT], HOME), store, clock)
    assert result.status == "ok"
    assert result.counts["pages_crawled"] == 3
    assert result.open_findings == 0
    # External links are checked, never crawled: the partner page's links are not followed.
    assert sites.count(EXT, "/") == 1


async def test_twenty_pages_one_finding_with_every_source(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    articles = [f"/art_{i}.html" for i in range(20)]
    sites.html(GOV, "/", page("首页", links=articles))
    for path in articles:
        sites.html(GOV, path, page("文章", links=["/gone.html", "/"]))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    findings = list(store.findings(status="open"))
    assert len(findings) == 1
    f = findings[0]
    assert f["url"] == f"http://{GOV}/gone.html"
    assert f["kind"] == "dead_link"
    assert sorted(f["source_urls"]) == sorted(f"http://{GOV}{p}" for p in articles)
    assert "共20个页面引用该链接" in f["message"] and "HTTP 404" in f["message"]
    assert result.counts["broken"] == 1


async def test_homepage_dead_link_is_its_own_higher_severity_kind(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/banner-gone.html", "/a.html"]))
    sites.html(GOV, "/a.html", page("A", links=["/inner-gone.html"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    home = found[f"http://{GOV}/banner-gone.html"]
    inner = found[f"http://{GOV}/inner-gone.html"]
    assert (home["kind"], home["severity"]) == ("homepage_dead_link", "deduction")
    assert (inner["kind"], inner["severity"]) == ("dead_link", "warning")
    assert home["message"].startswith("首页")


async def test_fixed_link_resolves_and_broken_again_reopens(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/notice.html"]))
    config = fast_config(sites, [GOV], HOME)
    first = await run_links(config, store, clock)
    assert first.outcome.new == 1
    fp = next(iter(store.findings()))["fingerprint"]

    clock.advance(days=1)
    sites.html(GOV, "/notice.html", page("通知"))  # the office fixed it
    second = await run_links(config, store, clock)
    assert second.outcome.resolved == 1 and second.open_findings == 0
    row = store.finding(fp)
    assert row is not None and row["status"] == "resolved" and row["resolved_at"].startswith("2026-11-27")

    clock.advance(days=1)
    sites.status(GOV, "/notice.html", 404)
    third = await run_links(config, store, clock)
    assert third.outcome.reopened == 1
    assert [e["event"] for e in store.events(fp)] == ["opened", "resolved", "reopened"]


async def test_second_run_knows_new_and_still_open(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/x.html"]))
    config = fast_config(sites, [GOV], HOME)
    await run_links(config, store, clock)
    first_seen = next(iter(store.findings()))["first_seen"]
    clock.advance(hours=24)
    sites.html(GOV, "/", page("首页", links=["/x.html", "/y.html"]))
    second = await run_links(config, store, clock)
    assert (second.outcome.new, second.outcome.seen_again) == (1, 1)
    x = open_urls(store)[f"http://{GOV}/x.html"]
    assert x["first_seen"] == first_seen and x["last_seen"] > first_seen


async def test_gbk_pages_decode_and_their_links_are_followed(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>城关镇人民政府</title></head><body>"
        '<a href="/镇务公开/通知.html">镇务公开：关于堃喆镕同志任职的通知</a>'
        '<a href="/missing.html">过期链接</a></body></html>'
    ).encode("gb18030")
    sites.html(GOV, "/", body, content_type="text/html")  # no charset in HTTP: the meta tag decides
    sites.html(GOV, "/%E9%95%87%E5%8A%A1%E5%85%AC%E5%BC%80/%E9%80%9A%E7%9F%A5.html", page("通知"))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.counts["pages_crawled"] == 2
    (finding,) = store.findings(status="open")
    assert finding["url"] == f"http://{GOV}/missing.html"
    assert "过期链接" in finding["message"]


async def test_undecodable_bytes_never_crash(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(
        GOV,
        "/",
        b"<html><body>\xff\xfe\x00\x81<a href='/a.html'>\xc3\x28</a></body></html>",
        content_type="text/html; charset=utf-8",
    )
    sites.html(GOV, "/a.html", b"\x00\x00\x00<<<<>>>\xff", content_type="text/html; charset=no-such-codec")
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.status == "ok" and result.open_findings == 0


async def test_soft_404_found_and_lookalike_title_is_not(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/old.html", "/g404.html"]))
    sites.html(GOV, "/old.html", page("提示信息", "对不起，您访问的页面不存在或已被删除！"))
    sites.html(
        GOV,
        "/g404.html",
        page("关于G404国道改扩建工程征地的公示", "G404国道示例段改扩建工程征地范围公示如下。" * 30),
    )
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert list(found) == [f"http://{GOV}/old.html"]
    assert found[f"http://{GOV}/old.html"]["evidence"]["failure"] == "soft_404"
    assert "软404" in found[f"http://{GOV}/old.html"]["message"]


async def test_head_405_falls_back_to_get(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    files = "files.test.gov.cn"

    async def no_head(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(status=405, headers={"Allow": "GET"})
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")

    sites.html(GOV, "/", page("首页", links=[f"http://{files}/2026年 工作要点.pdf"]))
    sites.route(files, "/2026%E5%B9%B4%20%E5%B7%A5%E4%BD%9C%E8%A6%81%E7%82%B9.pdf", no_head)
    result = await run_links(fast_config(sites, [GOV, files], HOME), store, clock)
    assert result.open_findings == 0
    path = "/2026%E5%B9%B4%20%E5%B7%A5%E4%BD%9C%E8%A6%81%E7%82%B9.pdf"
    assert sites.count(files, path, "HEAD") == 1 and sites.count(files, path, "GET") == 1


async def test_429_then_200_with_retry_after_is_not_a_finding(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=[f"http://{EXT}/weather"]))
    sites.sequence(EXT, "/weather", [(429, {"Retry-After": "1"}, "slow down"), (200, {}, page("天气"))])
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await run_links(fast_config(sites, [GOV, EXT], HOME), store, clock)
    assert result.open_findings == 0
    assert sites.count(EXT, "/weather") == 2
    assert loop.time() - started >= 1.0  # Retry-After was honoured, not the 0.05 s backoff


async def test_slow_but_fine_page_is_not_a_finding(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/slow.html"]))
    sites.slow(GOV, "/slow.html", 0.8, page("慢页面"))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.open_findings == 0


async def test_timeout_is_reported_only_after_confirmation(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/hang.html"]))
    sites.slow(GOV, "/hang.html", 30, page("永不返回"))
    config = fast_config(sites, [GOV], HOME, crawl={"timeout_seconds": 0.3, "retries": 1})
    await run_links(config, store, clock)
    (f,) = store.findings(status="open")
    assert f["evidence"]["failure"] == "timeout" and "连接超时" in f["message"]
    # Two attempts in the crawl, two more in the confirmation pass.
    assert sites.count(GOV, "/hang.html") == 4


async def test_transient_500_recovers_on_retry(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=["/flaky.html"]))
    sites.sequence(GOV, "/flaky.html", [(503, {}, "busy"), (200, {}, page("正常"))])
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.open_findings == 0


async def test_failure_that_clears_before_confirmation_is_not_reported(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/blip.html"]))
    sites.sequence(GOV, "/blip.html", [(503, {}, "")] * 3 + [(200, {}, page("恢复"))])
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.open_findings == 0
    assert result.counts["recovered_on_recheck"] == 1


async def test_not_found_is_asked_again_at_once_and_passing_errors_after_the_pause(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    # A 404 is the server's own answer: its second opinion is asked at once. A 503 may pass: it is asked
    # again only after confirm_delay_seconds. Both are reported, each after two answers; a 404 that
    # clears on the second request is not.
    sites.html(GOV, "/", page("首页", links=["/gone.html", "/down.html", "/republished.html"]))
    hits: dict[str, list[float]] = {}
    loop = asyncio.get_running_loop()

    def answer(path: str, statuses: list[int]) -> None:
        async def handler(request: web.Request) -> web.Response:
            seen = hits.setdefault(path, [])
            seen.append(loop.time())
            status = statuses[min(len(seen), len(statuses)) - 1]
            return web.Response(status=status, text=page("页面"), content_type="text/html")

        sites.route(GOV, path, handler)

    answer("/gone.html", [404])
    answer("/down.html", [503])
    answer("/republished.html", [404, 200])
    config = fast_config(sites, [GOV], HOME, crawl={"confirm_delay_seconds": 2.0, "retries": 0})
    result = await run_links(config, store, clock)
    found = open_urls(store)
    assert set(found) == {f"http://{GOV}/gone.html", f"http://{GOV}/down.html"}
    assert result.counts["recovered_on_recheck"] == 1
    gone, down = hits["/gone.html"], hits["/down.html"]
    assert len(gone) == 2 and len(hits["/republished.html"]) == 2
    assert len(down) >= 2  # the confirmation of a page may retry a 5xx once more
    assert gone[1] - gone[0] < 1.0
    assert down[1] - down[0] >= 2.0


async def test_redirect_chain_is_followed_and_loop_detected(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/old/zwgk.html", "/loop-a.html"]))
    sites.redirect(GOV, "/old/zwgk.html", "/zwgk/old-index.html", 301)
    sites.redirect(GOV, "/zwgk/old-index.html", f"http://{GOV}/zwgk/", 302)
    sites.html(GOV, "/zwgk/", page("政务公开"))
    sites.redirect(GOV, "/loop-a.html", "/loop-b.html")
    sites.redirect(GOV, "/loop-b.html", "/loop-a.html")
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert list(found) == [f"http://{GOV}/loop-a.html"]
    f = found[f"http://{GOV}/loop-a.html"]
    assert f["evidence"]["failure"] == "redirect_loop" and "重定向循环" in f["message"]
    assert [r["to"] for r in f["evidence"]["fetch"]["redirects"]] == [
        f"http://{GOV}/loop-b.html",
        f"http://{GOV}/loop-a.html",
    ]


async def test_calendar_trap_is_capped_and_reported_as_skipped(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    async def calendar(request: web.Request) -> web.Response:
        month = int(request.query.get("m", "0"))
        return web.Response(
            text=page(f"日历{month}", links=[f"/cal.html?m={month - 1}", f"/cal.html?m={month + 1}"]),
            content_type="text/html",
        )

    sites.html(GOV, "/", page("首页", links=["/cal.html?m=0"]))
    sites.route(GOV, "/cal.html", calendar)
    config = fast_config(sites, [GOV], HOME, crawl={"max_query_variants_per_path": 10})
    result = await run_links(config, store, clock)
    assert result.status == "ok" and result.open_findings == 0
    assert result.counts["pages_crawled"] == 11
    assert result.counts["skipped"]["query_variants"] >= 1


async def test_growing_query_strings_and_repeating_paths_are_traps(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    async def grower(request: web.Request) -> web.Response:
        qs = request.query_string
        return web.Response(
            text=page("列表", links=[f"/list.html?{qs}&sort=1" if qs else "/list.html?sort=1", "a/b/"]),
            content_type="text/html",
        )

    sites.html(GOV, "/", page("首页", links=["/list.html", "/x/"]))
    sites.route(GOV, "/list.html", grower)

    async def relative_loop(request: web.Request) -> web.Response:
        return web.Response(text=page("目录", links=["x/"]), content_type="text/html")

    for depth in range(1, 8):
        sites.route(GOV, "/" + "x/" * depth, relative_loop)
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.status == "ok"
    assert result.counts["skipped"].get("query_growth", 0) >= 1
    assert result.counts["skipped"].get("path_repeat", 0) >= 1
    assert result.counts["pages_crawled"] < 12


async def test_dead_site_gives_one_site_level_finding(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    config = fast_config(sites, [], "http://www.down.gov.cn/", special={"www.down.gov.cn": "127.0.0.1:1"})
    result = await run_links(config, store, clock, url="http://www.down.gov.cn/")
    assert result.status == "failed"
    (f,) = store.findings()
    assert f["kind"] == "site_unreachable" and "拒绝连接" in f["message"]


async def test_site_down_mid_crawl_collapses_into_one_finding(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    state = {"down": False}
    links = [f"/p{i}.html" for i in range(15)]

    def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()  # the connection drops without an answer
        return web.Response()

    async def home(request: web.Request) -> web.Response:
        if state["down"]:
            return hang_up(request)
        return web.Response(text=page("首页", links=links), content_type="text/html")

    async def article(request: web.Request) -> web.Response:
        state["down"] = True  # the server dies once the crawl gets past the homepage
        return hang_up(request)

    sites.route(GOV, "/", home)
    for p in links:
        sites.route(GOV, p, article)
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    kinds = [f["kind"] for f in store.findings()]
    assert kinds == ["site_unreachable"]
    assert result.status == "failed"


async def test_failed_run_resolves_nothing(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=["/gone.html"]))
    config = fast_config(sites, [GOV], HOME)
    await run_links(config, store, clock)
    await sites.close()  # the whole site goes away
    clock.advance(days=1)
    result = await run_links(config, store, clock)
    assert result.status == "failed"
    statuses = {f["url"]: f["status"] for f in store.findings()}
    assert statuses[f"http://{GOV}/gone.html"] == "open"


async def test_non_http_schemes_are_skipped_and_base_href_honoured(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><head><base href="http://www.test.gov.cn/zcwj/"></head><body>'
        '<a href="mailto:xxgk@test.gov.cn">信箱</a><a href="tel:0371-1234567">电话</a>'
        '<a href="javascript:void(0)">打印</a><a href="data:text/html,hi">x</a>'
        '<a href="#top">顶部</a><a href="wj1.html#p2">文件一</a><a href="wj1.html">文件一</a>'
        '<a href="HTTP://WWW.TEST.GOV.CN:80/xw/../zcwj/wj2.html">文件二</a></body></html>',
    )
    sites.html(GOV, "/zcwj/wj1.html", page("文件一"))
    sites.html(GOV, "/zcwj/wj2.html", page("文件二"))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert result.open_findings == 0
    assert result.counts["pages_crawled"] == 3
    assert sites.count(GOV, "/zcwj/wj1.html") == 1  # fragments dropped: fetched once
    skipped = result.counts["skipped"]
    assert skipped["scheme:mailto"] == 1 and skipped["scheme:tel"] == 1 and skipped["scheme:javascript"] == 1
    assert not any(m == "GET" and p.startswith("/mailto") for m, _, p in sites.hits)


async def test_every_link_kind_is_extracted_and_checked(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        GOV,
        "/",
        '<html><head><link rel="stylesheet" href="/s.css"><script src="/gone.js"></script>'
        '<link rel="dns-prefetch" href="//cdn.example.com"></head><body>'
        '<img src="/gone.png" alt="横幅"><iframe src="/frame.html"></iframe>'
        '<map><area href="/area-gone.html" alt="热区"></map><object data="/gone.swf"></object>'
        '<video><source src="/gone.mp4"></video><a href="/files/通知.docx">附件下载</a></body></html>',
    )
    sites.html(GOV, "/s.css", "body{}", content_type="text/css")
    sites.html(GOV, "/frame.html", page("内嵌"))
    result = await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    expected = {
        "/gone.js",
        "/gone.png",
        "/area-gone.html",
        "/gone.swf",
        "/gone.mp4",
        "/files/%E9%80%9A%E7%9F%A5.docx",
    }
    assert set(found) == {f"http://{GOV}{p}" for p in expected}
    assert "图片“横幅”" in found[f"http://{GOV}/gone.png"]["message"]
    assert found[f"http://{GOV}/files/%E9%80%9A%E7%9F%A5.docx"]["message"].startswith("首页附件“附件下载”")
    assert "cdn.example.com" not in str(sites.hits)
    assert result.counts["pages_crawled"] == 2


async def test_invalid_url_is_a_finding_without_a_request(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["http://www.test.gov.cn:99999/bad", "http://[bad-host/"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    found = open_urls(store)
    assert set(found) == {"http://www.test.gov.cn:99999/bad", "http://[bad-host/"}
    assert all(f["evidence"]["failure"] == "invalid_url" for f in found.values())


async def test_sitemap_pages_are_crawled(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页"))
    sites.html(
        GOV,
        "/sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>http://{GOV}/orphan.html</loc></url><url><loc>http://elsewhere.cn/x</loc></url></urlset>",
        content_type="application/xml",
    )
    sites.html(GOV, "/orphan.html", page("孤立页面", links=["/orphan-dead.html"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert list(open_urls(store)) == [f"http://{GOV}/orphan-dead.html"]


async def test_limits_max_pages_and_response_size(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=[f"/p{i}.html" for i in range(10)]))
    for i in range(10):
        sites.html(GOV, f"/p{i}.html", page(f"页面{i}"))
    result = await run_links(fast_config(sites, [GOV], HOME, crawl={"max_pages": 4}), store, clock)
    assert result.counts["pages_crawled"] == 4
    assert result.counts["skipped"]["max_pages"] == 7  # 10 links, 3 admitted after the homepage
    assert result.counts["complete"] is False

    big = page("大页面", links=["/after-cap.html"]).replace(
        "</body>", "x" * 50_000 + '<a href="/late.html">晚</a></body>'
    )
    sites.html(GOV, "/", big)
    result = await run_links(
        fast_config(sites, [GOV], HOME, crawl={"max_response_bytes": 20_000}), store, clock
    )
    assert result.status == "ok"
    assert sites.count(GOV, "/late.html") == 0  # beyond the cap: never seen


async def test_partial_crawl_resolves_only_what_it_rechecked(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    links = [f"/p{i}.html" for i in range(6)]
    sites.html(GOV, "/", page("首页", links=["/gone-a.html", *links]))
    for p in links:
        sites.html(GOV, p, page("页面", links=["/gone-b.html"]))
    await run_links(fast_config(sites, [GOV], HOME), store, clock)
    assert len(open_urls(store)) == 2
    # Next night the page limit cuts the crawl short: gone-b is not seen, but that proves nothing.
    sites.html(GOV, "/gone-a.html", page("已修复"))
    clock.advance(days=1)
    result = await run_links(fast_config(sites, [GOV], HOME, crawl={"max_pages": 1}), store, clock)
    assert result.counts["complete"] is False
    statuses = {f["url"].rsplit("/", 1)[-1]: f["status"] for f in store.findings()}
    assert statuses == {"gone-a.html": "resolved", "gone-b.html": "open"}


async def test_per_host_concurrency_is_never_exceeded(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    links = [f"/p{i}.html" for i in range(30)]
    sites.html(GOV, "/", page("首页", links=links))
    for p in links:
        sites.slow(GOV, p, 0.05, page("页面"))
    config = fast_config(sites, [GOV], HOME, crawl={"per_host_concurrency": 3, "concurrency": 20})
    await run_links(config, store, clock)
    assert sites.max_active[GOV] == 3


async def test_a_stuck_external_host_does_not_hold_up_the_crawl(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    # Ten links to a partner site that answers nothing until the test lets it, listed before the
    # site's own pages; 4 requests in flight at most, 2 per host. The site must be crawled to the end
    # while the partner still holds its two requests (no worker may sit waiting for the partner's slot).
    external = [f"http://{EXT}/stuck{i}.html" for i in range(10)]
    articles = [f"/art{i}.html" for i in range(10)]
    sites.html(GOV, "/", page("首页", links=[*external, *articles]))
    for path in articles:
        sites.html(GOV, path, page("文章", links=["/"]))
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text=page("合作单位"), content_type="text/html")

    for url in external:
        sites.route(EXT, url.removeprefix(f"http://{EXT}"), stuck)
    crawled_while_stuck: list[bool] = []

    async def watch() -> None:
        for _ in range(400):  # up to 4 s
            if all(sites.count(GOV, p) for p in articles):
                break
            await asyncio.sleep(0.01)
        crawled_while_stuck.append(all(sites.count(GOV, p) for p in articles))
        release.set()

    config = fast_config(
        sites, [GOV, EXT], HOME, crawl={"concurrency": 4, "per_host_concurrency": 2, "timeout_seconds": 10}
    )
    watcher = asyncio.create_task(watch())
    result = await run_links(config, store, clock)
    await watcher
    assert crawled_while_stuck == [True]
    assert sites.max_active[EXT] == 2
    assert result.counts["pages_crawled"] == 11 and result.open_findings == 0


async def test_a_host_waiting_out_retry_after_keeps_checking_its_other_links(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    # One request at a time to the partner site. Its first link answers 429 with Retry-After: 1 once;
    # while that wait runs, the partner's other links are checked, and the 429 link passes on its retry.
    others = [f"http://{EXT}/ok{i}.html" for i in range(3)]
    sites.html(GOV, "/", page("首页", links=[f"http://{EXT}/busy.html", *others]))
    order: list[str] = []

    async def busy(request: web.Request) -> web.Response:
        order.append("/busy.html")
        if order.count("/busy.html") == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="稍后再试")
        return web.Response(text=page("合作单位"), content_type="text/html")

    sites.route(EXT, "/busy.html", busy)
    for url in others:
        path = url.removeprefix(f"http://{EXT}")

        async def ok(request: web.Request, path: str = path) -> web.Response:
            order.append(path)
            return web.Response(text=page("合作单位"), content_type="text/html")

        sites.route(EXT, path, ok)
    config = fast_config(
        sites, [GOV, EXT], HOME, crawl={"per_host_concurrency": 1, "max_retry_after_seconds": 5}
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await run_links(config, store, clock)
    assert result.open_findings == 0
    # The 429, the other links while it waits, then its retry.
    assert order == ["/busy.html", "/ok0.html", "/ok1.html", "/ok2.html", "/busy.html"]
    assert loop.time() - started >= 1.0  # Retry-After was honoured


async def test_per_host_delay_spaces_requests(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    links = [f"/p{i}.html" for i in range(5)]
    sites.html(GOV, "/", page("首页", links=links))
    for p in links:
        sites.html(GOV, p, page("页面"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    config = fast_config(sites, [GOV], HOME, crawl={"per_host_delay_seconds": 0.1})
    await run_links(config, store, clock)
    # 6 page requests + the sitemap probe, at least 0.1 s apart.
    assert loop.time() - started >= 0.6


async def test_dns_failure_and_refused_are_classified(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["http://www.gone.gov.cn/", "http://oa.test.gov.cn/"]))
    config = fast_config(
        sites,
        [GOV],
        HOME,
        special={"www.gone.gov.cn": "nxdomain", "oa.test.gov.cn": "127.0.0.1:1"},
        # oa.test.gov.cn stands in for a public host that refuses connections (the port is loopback's).
        crawl={"allow_private": [HOME, "http://oa.test.gov.cn"]},
    )
    await run_links(config, store, clock)
    found = open_urls(store)
    assert found["http://www.gone.gov.cn/"]["evidence"]["failure"] == "dns"
    assert "域名无法解析" in found["http://www.gone.gov.cn/"]["message"]
    assert found["http://oa.test.gov.cn/"]["evidence"]["failure"] == "refused"


async def test_ignored_finding_stays_ignored(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=["/intranet.html"]))
    config = fast_config(sites, [GOV], HOME)
    await run_links(config, store, clock)
    fp = next(iter(store.findings()))["fingerprint"]
    store.ignore(fp, "内网链接，外网无法访问属正常", clock.now())
    clock.advance(days=1)
    result = await run_links(config, store, clock)
    assert result.outcome.ignored_seen == 1 and result.open_findings == 0
    row = store.finding(fp)
    assert row is not None and row["status"] == "ignored" and row["last_seen"].startswith("2026-11-27")


async def test_unit_of_the_source_page_is_named(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    sites.html(GOV, "/", page("首页", links=["/zwgk/bm/jyj/"]))
    sites.html(GOV, "/zwgk/bm/jyj/", page("教育局", links=["/zwgk/bm/jyj/gone.html"]))
    config = fast_config(
        sites,
        [GOV],
        HOME,
        units=[{"name": "县教育局", "kind": "department", "site": "test", "paths": ["/zwgk/bm/jyj/"]}],
    )
    await run_links(config, store, clock)
    (f,) = store.findings()
    assert f["unit"] == "县教育局"


async def test_max_depth_checks_but_does_not_crawl(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/d1.html"]))
    sites.html(GOV, "/d1.html", page("一层", links=["/d2.html"]))
    sites.html(GOV, "/d2.html", page("二层", links=["/d3-gone.html"]))
    result = await run_links(fast_config(sites, [GOV], HOME, crawl={"max_depth": 1}), store, clock)
    assert result.counts["pages_crawled"] == 2
    assert sites.count(GOV, "/d2.html") == 1  # checked …
    assert sites.count(GOV, "/d3-gone.html") == 0  # … but its links were never read
    assert result.counts["skipped"]["max_depth"] == 1
