"""The dark-link check on real crawls of local sites: stylesheets, cloaking, outbound decay, defacement,
lifecycle and decoys. Every host is served by a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from monitor.config import BAIDUSPIDER_USER_AGENT, Config
from monitor.core.clock import FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from monitor.web.fetch import Fetcher
from tests.sites import LocalSites, fast_config, page

GOV = "www.test.gov.cn"
HOME = f"http://{GOV}/"
SPAM = "www.xpj-test.com"
FRIEND = "www.old-friend.cn"
NEWS = "www.news-test.cn"
PARTNER = "www.newpartner-test.com"
CITY = "www.city-test.gov.cn"
SOGOU_UA = "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)"
GAMBLING = page(
    "澳门新葡京娱乐城_百家乐_真人娱乐_官方网站",
    "百家乐 真人娱乐 时时彩 北京赛车 在线投注，注册即送彩金。",
)
FIXTURES = Path(__file__).parent / "fixtures" / "darklinks"


async def run(duty: str, config: Config, store: Store, clock: FixedClock) -> SiteRunResult:
    (result,) = await run_duty(duty, config, store, clock)
    return result


def findings(store: Store, status: str | None = "open") -> dict[str, dict[str, Any]]:
    return {f["identity"]: f for f in store.findings(duty="darklinks", status=status)}


# ------------------------------------------------------------------------------------------ fetcher


async def test_fetcher_per_request_headers_use_the_same_politeness_slot(sites: LocalSites) -> None:
    seen: list[str] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request.headers.get("User-Agent", ""))
        return web.Response(text="<html><body>ok</body></html>", content_type="text/html")

    sites.route(GOV, "/", echo)
    config = fast_config(sites, [GOV], HOME)
    async with Fetcher(config.crawl) as fetcher:
        await fetcher.fetch(HOME)
        res = await fetcher.fetch(HOME, headers={"User-Agent": BAIDUSPIDER_USER_AGENT})
        await fetcher.fetch(HOME)
        assert res.ok
        assert list(fetcher.max_concurrency_seen) == [GOV]  # one slot for both user agents
    assert seen == [config.crawl.user_agent, BAIDUSPIDER_USER_AGENT, config.crawl.user_agent]


# ------------------------------------------------------------------------------- stylesheets, scripts

HIDE_CSS = "body{color:#333}\n.bottom-links p, #wrap-y { display : none; }\n"
INJECT_JS = (
    "document.write(unescape('%3Ca%20href%3D%22http%3A//www.xpj-test.com/%22%3E"
    "%E7%99%BE%E5%AE%B6%E4%B9%90%3C/a%3E'));"
)
ASSETS = '<link rel="stylesheet" href="/css/site.css"><script src="/js/inject.js"></script>'


def serve_stylesheet_site(sites: LocalSites) -> None:
    sites.html(
        GOV,
        "/",
        page(
            "测试县人民政府",
            '<div class="bottom-links"><p><a href="http://www.ylc8-test.com/">娱乐城</a></p></div>',
            links=["/xwzx/", "/zwgk/art_1.html"],
            head=ASSETS,
        ),
    )
    sites.html(
        GOV,
        "/xwzx/",
        page(
            "新闻中心",
            '<div id="wrap-y"><a href="http://www.yiyima-test.net/">一肖一码</a></div>',
            head=ASSETS,
        ),
    )
    sites.html(GOV, "/zwgk/art_1.html", page("通知", head=ASSETS))
    sites.html(GOV, "/css/site.css", HIDE_CSS, content_type="text/css")
    sites.html(GOV, "/js/inject.js", INJECT_JS, content_type="application/javascript")


async def test_linked_stylesheet_and_script_are_fetched_once_and_applied(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    serve_stylesheet_site(sites)
    config = fast_config(sites, [GOV, SPAM, "www.ylc8-test.com", "www.yiyima-test.net"], HOME)
    result = await run("darklinks", config, store, clock)

    found = findings(store)
    assert set(found) == {
        f"{HOME}->http://www.ylc8-test.com/",
        f"{HOME}xwzx/->http://www.yiyima-test.net/",
        f"{HOME}->http://www.xpj-test.com/",
        f"{HOME}xwzx/->http://www.xpj-test.com/",
        f"{HOME}zwgk/art_1.html->http://www.xpj-test.com/",
    }
    css_hit = found[f"{HOME}->http://www.ylc8-test.com/"]
    assert css_hit["kind"] == "dark_link" and css_hit["severity"] == "veto"
    assert any("http://www.test.gov.cn/css/site.css" in t for t in css_hit["evidence"]["techniques"])
    assert css_hit["evidence"]["snippet"].startswith('<p>…<a href="http://www.ylc8-test.com/">')
    assert "娱乐城" in css_hit["message"] and HOME in css_hit["message"]
    js_hit = found[f"{HOME}->http://www.xpj-test.com/"]
    assert js_hit["evidence"]["technique_kind"] == "script_link"
    assert "百家乐" in js_hit["message"]
    # Three pages link both files: each was fetched once in the run.
    assert sites.count(GOV, "/css/site.css") == 1
    assert sites.count(GOV, "/js/inject.js") == 1
    # W1 figure in the run counts.
    (w1,) = result.counts["indicators"]
    assert (w1["indicator"], w1["verdict"], w1["value"]) == ("W1", "fail", 5.0)
    assert w1["figure"] == "发现暗链/违规外链5处（涉及3个页面，共检测3个页面）"
    assert result.counts["darklinks"]["stylesheets_and_scripts_fetched"] == 2


async def test_without_the_stylesheet_the_class_hidden_link_is_not_reported(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """The rule lives only in the stylesheet: proves the fetched file is what hides the link."""
    serve_stylesheet_site(sites)
    sites.html(GOV, "/css/site.css", "body{color:#333}", content_type="text/css")
    config = fast_config(sites, [GOV, SPAM, "www.ylc8-test.com", "www.yiyima-test.net"], HOME)
    await run("darklinks", config, store, clock)
    assert f"{HOME}->http://www.ylc8-test.com/" not in findings(store)


# ------------------------------------------------------------------------------------------ cloaking


def cloaked(body: str, spam: str, spider: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        extra = spam if spider in request.headers.get("User-Agent", "") else ""
        html = page("测试县人民政府", body + extra, links=["/xwzx/", "/xwzx/2026/art_1.html"])
        return web.Response(text=html, content_type="text/html")

    return handler


async def test_cloaking_spider_only_links_are_found_with_both_versions_as_evidence(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    spam_link = f'<div><a href="http://{SPAM}/bet.html">澳门新葡京 百家乐</a></div>'
    sites.route(GOV, "/", cloaked("", spam_link, "Baiduspider"))
    sites.route(GOV, "/xwzx/", cloaked("", f'<a href="http://{SPAM}/col.html">时时彩平台</a>', "Sogou"))
    # A deep article cloaks too, but is not double-fetched ("columns" mode: homepage and columns only).
    sites.route(
        GOV, "/xwzx/2026/art_1.html", cloaked("", f'<a href="http://{SPAM}/deep.html">真人娱乐</a>', "spider")
    )
    sites.html(SPAM, "/bet.html", GAMBLING)
    config = fast_config(
        sites,
        [GOV, SPAM],
        HOME,
        darklinks={"spider_user_agents": [BAIDUSPIDER_USER_AGENT, SOGOU_UA], "double_fetch": "columns"},
    )
    result = await run("darklinks", config, store, clock)

    found = findings(store)
    assert set(found) == {
        f"{HOME}->http://{SPAM}/bet.html",
        f"{HOME}#cloaking",
        f"{HOME}xwzx/->http://{SPAM}/col.html",
        f"{HOME}xwzx/#cloaking",
    }
    link = found[f"{HOME}->http://{SPAM}/bet.html"]
    assert link["kind"] == "cloaking" and link["severity"] == "veto"
    assert link["message"].startswith("发现针对搜索引擎的暗链（以Baiduspider/2.0身份访问）")
    ev = link["evidence"]
    assert ev["spider_user_agent"] == BAIDUSPIDER_USER_AGENT
    assert ev["spider_version"]["external_domains"] == [SPAM]
    assert ev["browser_version"]["external_domains"] == []
    assert ev["snippet"] == f'<a href="http://{SPAM}/bet.html">澳门新葡京 百家乐</a>'
    assert found[f"{HOME}xwzx/->http://{SPAM}/col.html"]["evidence"]["spider_user_agent"] == SOGOU_UA
    # homepage and /xwzx/: one crawl GET + one per spider UA; the article: the crawl's GET only.
    assert sites.count(GOV, "/") == 3
    assert sites.count(GOV, "/xwzx/") == 3
    assert sites.count(GOV, "/xwzx/2026/art_1.html") == 1
    assert result.counts["darklinks"]["spider_fetches"] == 4


async def test_cloaking_max_pages_and_explicit_paths(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.route(GOV, "/", cloaked("", "", "Baiduspider"))
    sites.html(GOV, "/xwzx/", page("新闻中心"))
    sites.route(
        GOV, "/xwzx/2026/art_1.html", cloaked("", f'<a href="http://{SPAM}/x.html">百家乐</a>', "Baidu")
    )
    config = fast_config(
        sites,
        [GOV, SPAM],
        HOME,
        darklinks={"double_fetch": "homepage", "double_fetch_paths": ["/xwzx/2026/art_1.html"]},
    )
    await run("darklinks", config, store, clock)
    assert set(findings(store)) == {
        f"{HOME}xwzx/2026/art_1.html->http://{SPAM}/x.html",
        f"{HOME}xwzx/2026/art_1.html#cloaking",
    }
    assert sites.count(GOV, "/xwzx/") == 1  # "homepage" mode: columns are not double-fetched


async def test_every_page_is_compared_as_a_spider_once_a_week(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """Default ``every_page``: homepage and columns each run, every other page on its rotation day, so
    a cloaked deep article is found within a week; a cloaking finding on a page not compared today is
    not resolved by that run."""
    articles = [f"/xwzx/2026/art_{i}.html" for i in range(1, 15)]
    cloaked_article = articles[3]
    sites.html(GOV, "/", page("测试县人民政府", links=["/xwzx/"]))
    sites.html(GOV, "/xwzx/", page("新闻中心", links=articles))
    for path in articles:
        spam = f'<a href="http://{SPAM}/deep.html">真人娱乐</a>' if path == cloaked_article else ""
        sites.route(GOV, path, cloaked("", spam, "Baiduspider"))
    config = fast_config(sites, [GOV, SPAM], HOME)
    identity = f"{HOME}{cloaked_article[1:]}->http://{SPAM}/deep.html"
    compared_on: dict[str, list[int]] = {p: [] for p in articles}
    found_on: list[int] = []
    for day in range(7):
        before = {p: sites.count(GOV, p) for p in articles}
        result = await run("darklinks", config, store, clock)
        for path in articles:
            if sites.count(GOV, path) - before[path] == 2:  # the crawl's GET and the spider's
                compared_on[path].append(day)
        if identity in findings(store):
            found_on.append(day)
        counts = result.counts["darklinks"]
        assert counts["spider_over_budget"] == 0
        clock.advance(days=1)
    # every article compared exactly once in seven daily runs; the homepage and column every day
    assert all(len(days) == 1 for days in compared_on.values()), compared_on
    assert sites.count(GOV, "/") == 7 * 2
    found_day = compared_on[cloaked_article][0]
    # found on its day, and still open on the following days when it was not compared again
    assert found_on == list(range(found_day, 7))
    assert findings(store)[identity]["severity"] == "veto"


async def test_spider_budget_bounds_the_second_fetches(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    articles = [f"/xwzx/2026/art_{i}.html" for i in range(1, 30)]
    sites.html(GOV, "/", page("测试县人民政府", links=["/xwzx/"]))
    sites.html(GOV, "/xwzx/", page("新闻中心", links=articles))
    for path in articles:
        sites.html(GOV, path, page("文章"))
    config = fast_config(
        sites, [GOV], HOME, darklinks={"spider_budget": 4, "spider_rotation_days": 1}
    )
    result = await run("darklinks", config, store, clock)
    counts = result.counts["darklinks"]
    assert counts["spider_fetches"] == 4
    assert counts["spider_pages_compared"] == 4
    assert counts["spider_over_budget"] == 31 - 4


# ------------------------------------------------------------------------------------ outbound decay


def serve_friend_links(sites: LocalSites) -> None:
    friends = (
        '<div class="yqlj">友情链接：<a href="http://www.old-friend.cn/">示县农业信息网</a> '
        '<a href="http://www.news-test.cn/a.html">县域新闻网</a> '
        '<a href="http://www.city-test.gov.cn/">示市人民政府</a></div>'
    )
    sites.html(GOV, "/", page("测试县人民政府", friends, links=["/xwzx/"]))
    sites.html(GOV, "/xwzx/", page("新闻中心", '<a href="http://www.old-friend.cn/">农业信息</a>'))
    sites.html(FRIEND, "/", GAMBLING)
    # One spam word in a crackdown story: not a gambling page.
    sites.html(
        NEWS, "/a.html", page("我县开展打击赌博专项行动", "民警捣毁一个网络赌博窝点，查获百家乐赌台2张。")
    )


async def test_outbound_decay_when_darklinks_runs_alone(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    serve_friend_links(sites)
    config = fast_config(sites, [GOV, FRIEND, NEWS, CITY], HOME)
    result = await run("darklinks", config, store, clock)

    (finding,) = findings(store).values()
    assert finding["kind"] == "outbound_spam" and finding["severity"] == "veto"
    assert finding["identity"] == "http://www.old-friend.cn/"
    assert finding["source_urls"] == [HOME, f"{HOME}xwzx/"]
    assert finding["message"].startswith(
        "外链指向违规内容：首页外部链接“示县农业信息网”（http://www.old-friend.cn/）的目标页面现含违规词“"
    )
    assert "共2个页面引用该链接" in finding["message"]
    assert set(finding["evidence"]["terms"]) >= {"百家乐", "真人娱乐", "时时彩"}
    # Each distinct external target fetched once; government hosts are not fetched at all.
    assert sites.count(FRIEND, "/") == 1
    assert sites.count(NEWS, "/a.html") == 1
    assert sites.count(CITY, "/") == 0
    assert result.counts["darklinks"]["outbound_fetched_by_check"] == 2


async def test_outbound_decay_reuses_the_crawls_fetch_in_patrol(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    serve_friend_links(sites)
    sites.html(CITY, "/", page("示市人民政府"))
    config = fast_config(sites, [GOV, FRIEND, NEWS, CITY], HOME)
    result = await run("patrol", config, store, clock)
    assert [f["identity"] for f in store.findings(duty="darklinks")] == ["http://www.old-friend.cn/"]
    assert sites.count(FRIEND, "/") == 1  # the link check's GET, scanned in passing
    assert result.counts["darklinks"]["outbound_fetched_by_check"] == 0
    assert result.counts["broken"] == 0


# ---------------------------------------------------------------------------------------- defacement


async def test_defacement_across_runs(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    state = {"title": "测试县人民政府", "links": '<a href="http://www.news-test.cn/">县域新闻网</a>'}

    async def home(request: web.Request) -> web.Response:
        return web.Response(text=page(state["title"], state["links"]), content_type="text/html")

    sites.route(GOV, "/", home)
    for host in (NEWS, PARTNER, CITY):
        sites.html(host, "/", page("某网站"))
    config = fast_config(sites, [GOV, NEWS, PARTNER, CITY], HOME)

    first = await run("darklinks", config, store, clock)
    assert findings(store) == {}
    saved = store.signatures("test")["darklinks.homepage"]
    assert saved["known_domains"] == [NEWS]
    assert first.counts["indicators"][0]["verdict"] == "pass"

    # A new commercial domain and a new government one appear on the homepage.
    state["links"] += f'<a href="http://{PARTNER}/">合作伙伴</a><a href="http://{CITY}/">示市人民政府</a>'
    await run("darklinks", config, store, clock)
    (new_domain,) = findings(store).values()
    assert new_domain["identity"] == f"{HOME}#domain:{PARTNER}"
    assert (new_domain["kind"], new_domain["severity"]) == ("defacement", "warning")
    assert new_domain["message"].startswith(
        f"首页新增外部链接域名 {PARTNER}，上次检测时不存在，链接：“合作伙伴”"
    )

    # Still there the next day: still open (not silently accepted as the new normal).
    await run("darklinks", config, store, clock)
    assert findings(store)[f"{HOME}#domain:{PARTNER}"]["times_seen"] == 2

    # The title is stuffed with gambling terms: a veto-level defacement, reported once.
    state["title"] = "测试县人民政府_澳门新葡京_百家乐官网"
    result = await run("darklinks", config, store, clock)
    head = findings(store)[f"{HOME}#head"]
    assert (head["kind"], head["severity"]) == ("defacement", "veto")
    assert "新葡京、百家乐" in head["message"]
    assert "标题由“测试县人民政府”变为“测试县人民政府_澳门新葡京_百家乐官网”" in head["message"]
    assert not [f for f in result.findings if f.kind == "head_hijack"]
    assert result.counts["indicators"][0]["verdict"] == "fail"

    # Cleaned up: both resolve.
    state["title"] = "测试县人民政府"
    state["links"] = '<a href="http://www.news-test.cn/">县域新闻网</a>'
    await run("darklinks", config, store, clock)
    assert findings(store) == {}
    assert {f["identity"] for f in store.findings(duty="darklinks", status="resolved")} == {
        f"{HOME}#head",
        f"{HOME}#domain:{PARTNER}",
    }


# ----------------------------------------------------------------------------------------- lifecycle


async def test_removed_dark_link_resolves_but_an_unreadable_stylesheet_resolves_nothing(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    hidden = '<div class="bottom-links"><p><a href="http://www.xpj-test.com/">澳门新葡京</a></p></div>'
    state = {"body": hidden}

    async def home(request: web.Request) -> web.Response:
        html = page("测试县人民政府", state["body"], head='<link rel="stylesheet" href="/css/site.css">')
        return web.Response(text=html, content_type="text/html")

    sites.route(GOV, "/", home)
    sites.html(SPAM, "/", page("某网站"))
    sites.sequence(
        GOV,
        "/css/site.css",
        [
            (200, {"Content-Type": "text/css"}, HIDE_CSS),
            (500, {}, "error"),
            (500, {}, "error"),
            (200, {"Content-Type": "text/css"}, HIDE_CSS),
        ],
    )
    config = fast_config(sites, [GOV, SPAM], HOME, crawl={"retries": 0})
    identity = f"{HOME}->http://www.xpj-test.com/"

    await run("darklinks", config, store, clock)
    assert set(findings(store)) == {identity}

    # The stylesheet cannot be read (500, and its one retry): the link is not seen as hidden, but that
    # proves nothing — the finding stays open.
    state["body"] = hidden
    second = await run("darklinks", config, store, clock)
    assert second.counts["darklinks"]["resources_unavailable"] == [f"{HOME}css/site.css"]
    assert second.outcome.resolved == 0
    assert set(findings(store)) == {identity}

    # Removed, stylesheet readable again: resolved.
    state["body"] = "<p>正文</p>"
    third = await run("darklinks", config, store, clock)
    assert third.outcome.resolved == 1
    assert findings(store) == {}
    events = [
        e["event"]
        for e in store.events(store.findings(duty="darklinks", status="resolved").__next__()["fingerprint"])
    ]
    assert events == ["opened", "resolved"]


# -------------------------------------------------------------------------------------------- decoys


async def test_decoy_pages_stay_silent_on_a_real_crawl(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """Dropdown menus, sr-only skip links, 无障碍/长者助手 toolbars, 体彩 news, friend links, carousels…"""
    portal = "www.shixian.gov.cn"
    decoys = sorted(FIXTURES.glob("decoy_*.html"))
    hosts = {portal}
    for path in decoys:
        text = path.read_text(encoding="utf-8")
        hosts |= set(re.findall(r"https?://([a-z0-9.-]+\.[a-z]{2,})", text))
        sites.html(portal, f"/decoys/{path.name}", text)
    links = [f"/decoys/{p.name}" for p in decoys]
    sites.html(portal, "/", page("石县人民政府", links=links))
    config = fast_config(sites, sorted(hosts), f"http://{portal}/")
    result = await run("darklinks", config, store, clock)
    assert result.counts["darklinks"]["pages_analysed"] == len(decoys) + 1
    assert list(store.findings(duty="darklinks")) == []
    assert result.counts["indicators"][0]["verdict"] == "pass"


# ------------------------------------------------------------------------------------------------ CLI


@pytest.mark.e2e  # the CLI in a subprocess, with the real browser confirming the hidden link
async def test_cli_run_darklinks_url_prints_inert_findings_and_exits_1(
    sites: LocalSites, tmp_path: Path
) -> None:
    """`monitor run darklinks URL` in a real subprocess; a hostile anchor text cannot drive the terminal."""
    hostile = (
        '<div style="display:none"><a href="http://www.xpj-test.com/">百家乐\x1b[2J\x1b]0;pwned\x07</a></div>'
    )
    sites.html(GOV, "/", page("测试县人民政府", hostile))
    sites.html(SPAM, "/", page("某网站"))
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"crawl": {"timeout_seconds": 1.5, "retries": 0, "host_overrides": sites.overrides(GOV, SPAM)}},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    repo = Path(__file__).resolve().parents[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "--db",
        str(tmp_path / "m.db"),
        "-q",
        "run",
        "darklinks",
        HOME,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(repo)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 1, err.decode()[-2000:]
    assert "新发现1" in text
    assert "[单项否决]" in text and "发现暗链：页面存在隐藏链接（display:none）" in text
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in text


# ------------------------------------------------------------------- candidates and target evidence


@pytest.mark.parametrize("duty", ["darklinks", "patrol"])
async def test_concealed_outside_links_are_decided_by_what_their_target_serves(
    sites: LocalSites, store: Store, clock: FixedClock, duty: str
) -> None:
    """Hidden links, a hidden iframe and a meta refresh to neutral-looking outside domains: the ones whose
    target serves a gambling page are dark links (evidence: the target's content); the ones to a clean
    page stay silent and are only counted."""
    bad, clean = "www.neutral-target.com", "www.clean-partner.com"
    body = (
        f'<div style="display:none"><a href="http://{bad}/a.html">点击进入</a>'
        f'<a href="http://{clean}/b.html">合作单位</a></div>'
        f'<iframe src="http://{bad}/frame.html" width="0" height="0"></iframe>'
    )
    sites.html(GOV, "/", page("测试县人民政府", body, links=["/xwzx/"]))
    refresh = f'<meta http-equiv="refresh" content="5;url=http://{bad}/moved.html">'
    sites.html(GOV, "/xwzx/", page("新闻中心", head=refresh))
    for path in ("/a.html", "/frame.html", "/moved.html"):
        sites.html(bad, path, GAMBLING)
    sites.html(clean, "/b.html", page("合作单位", "本单位是县农业技术推广站的合作单位。"))
    config = fast_config(sites, [GOV, bad, clean], HOME)
    result = await run(duty, config, store, clock)

    found = {f["identity"]: f for f in store.findings(duty="darklinks", status="open")}
    assert set(found) == {
        f"{HOME}->http://{bad}/a.html",
        f"{HOME}->http://{bad}/frame.html",
        f"{HOME}xwzx/->http://{bad}/moved.html",
    }
    for finding in found.values():
        assert finding["severity"] == "veto"
        assert finding["evidence"]["evidence"] == ["target_content"]
        assert "证据：目标页面含违规内容" in finding["message"]
        assert "百家乐" in finding["message"]
    assert found[f"{HOME}->http://{bad}/a.html"]["evidence"]["technique_kind"] == "hidden_link"
    assert found[f"{HOME}->http://{bad}/frame.html"]["evidence"]["technique_kind"] == "iframe"
    assert found[f"{HOME}xwzx/->http://{bad}/moved.html"]["evidence"]["technique_kind"] == "meta_refresh"
    counts = result.counts["darklinks"]
    assert counts["candidates"] == 4
    # one problem, one finding: no extra outbound_spam for links already reported as dark links
    assert all(f["kind"] == "dark_link" for f in found.values())
