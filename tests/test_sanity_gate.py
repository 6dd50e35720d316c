"""The sanity gate (issue 20, items 1 and 2): a maintenance, firewall or partial night resolves nothing,
and a page cut at ``max_response_bytes`` is partial, never empty.

Real parts: virtual hosts on an aiohttp server on 127.0.0.1 whose behaviour changes from night to night,
a real SQLite file, the runner as ``monitor run`` drives it, and the CLI's ``status``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from click.testing import CliRunner

from monitor.app.cli import main, print_run_summary
from monitor.bulletin.docx import build_document
from monitor.bulletin.model import build_bulletin
from monitor.bulletin.render import render_html, render_text
from monitor.bulletin.xlsx import write_workbook
from monitor.config import Config
from monitor.core.clock import FixedClock
from monitor.core.isoweek import IsoWeek
from monitor.crawl.credibility import NightFigures, PastNight, SiteSample, judge
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from tests.realworld import run_on_realworld
from tests.sites import LocalSites, fast_config, page

GOV = "www.test.gov.cn"
HOME = f"http://{GOV}/"
ARTICLES = [f"/art/{i}.html" for i in range(12)]
DEAD = [f"/old/{i}.html" for i in range(12)]

MAINTENANCE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示</title></head>'
    '<body><h1>服务暂不可用</h1><p>给您带来不便，敬请谅解。</p><a href="/help.html">帮助</a></body></html>'
)


def challenge() -> str:
    """A WAF challenge page: a new token every time, the same visible text."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title>'
        f'<script>var token="{secrets.token_hex(16)}";</script></head>'
        "<body><p>正在进行安全验证，请稍候……</p><noscript>请开启JavaScript</noscript></body></html>"
    )


def county_site(sites: LocalSites, night: dict[str, str]) -> None:
    """A homepage linking 12 articles; article i links to a dead page /old/i.html (12 dead links).

    ``night["mode"]``: ``normal``; ``maintenance`` (every URL answers 200 with one page); ``waf`` (every
    URL answers a challenge page with a fresh token); ``homepage_only`` (every other page resets).
    """

    def answer(request: web.Request, normal: web.Response) -> web.Response:
        mode = night["mode"]
        if mode == "maintenance":
            return web.Response(text=MAINTENANCE, content_type="text/html")
        if mode == "waf":
            return web.Response(text=challenge(), content_type="text/html")
        if mode == "homepage_only" and request.path != "/":
            assert request.transport is not None
            request.transport.abort()
        return normal

    async def home(request: web.Request) -> web.Response:
        return answer(
            request, web.Response(text=page("示例县人民政府", links=ARTICLES), content_type="text/html")
        )

    def article(i: int) -> Any:
        async def handler(request: web.Request) -> web.Response:
            body = f"关于做好第{i}批次{'春夏秋冬'[i % 4]}季防汛工作的通知，请各乡镇认真落实第{i}项要求。"
            text = page(f"通知{i}", body, links=[DEAD[i], "/"])
            return answer(request, web.Response(text=text, content_type="text/html"))

        return handler

    async def gone(request: web.Request) -> web.Response:
        return answer(
            request, web.Response(status=404, text="<html><body>404</body></html>", content_type="text/html")
        )

    sites.route(GOV, "/", home)
    for i, path in enumerate(ARTICLES):
        sites.route(GOV, path, article(i))
    for path in DEAD:
        sites.route(GOV, path, gone)
    sites.route(GOV, "/sitemap.xml", sitemap_handler(night))


def sitemap_handler(night: dict[str, str]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        if night.get("sitemap") != "yes":
            return web.Response(status=404)
        locs = "".join(f"<url><loc>{HOME.rstrip('/')}{p}</loc></url>" for p in ARTICLES)
        xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
        return web.Response(text=xml, content_type="application/xml")

    return handler


async def run(duty: str, config: Config, store: Store, clock: FixedClock) -> SiteRunResult:
    (result,) = await run_duty(duty, config, store, clock)
    clock.advance(days=1)
    return result


def open_findings(store: Store) -> dict[str, dict[str, Any]]:
    return {f["fingerprint"]: f for f in store.findings(status="open")}


async def three_good_nights(config: Config, store: Store, clock: FixedClock) -> dict[str, dict[str, Any]]:
    for _ in range(3):
        result = await run("links", config, store, clock)
        assert result.status == "ok" and result.open_findings == 12
    return open_findings(store)


@pytest.mark.parametrize("mode", ["maintenance", "waf"])
async def test_a_maintenance_or_firewall_night_resolves_nothing_and_records_nothing(
    sites: LocalSites, store: Store, clock: FixedClock, mode: str
) -> None:
    night = {"mode": "normal"}
    county_site(sites, night)
    config = fast_config(sites, [GOV], HOME)
    before = await three_good_nights(config, store, clock)

    night["mode"] = mode
    bad = await run("links", config, store, clock)
    assert bad.status == "degraded"
    assert bad.outcome.resolved == 0 and bad.outcome.new == 0  # was: 12 resolved
    assert "仅读取到1个页面，近3次完整运行的中位数为13个" in (bad.error or "")
    assert bad.counts["degraded_reason"] == bad.error and bad.findings == []
    assert open_findings(store).keys() == before.keys()  # nothing came or went (/help.html is dead too)

    night["mode"] = "normal"
    again = await run("links", config, store, clock)
    assert again.status == "ok" and again.outcome.new == 0 and again.outcome.resolved == 0
    after = open_findings(store)
    assert {fp: f["first_seen"] for fp, f in after.items()} == {
        fp: f["first_seen"] for fp, f in before.items()
    }
    assert all(not any(e["event"] == "resolved" for e in store.events(fp)) for fp in after)


async def test_only_the_homepage_answering_is_a_degraded_night(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    night = {"mode": "normal"}
    county_site(sites, night)
    config = fast_config(sites, [GOV], HOME)
    before = await three_good_nights(config, store, clock)

    night["mode"] = "homepage_only"
    bad = await run("links", config, store, clock)
    assert bad.status == "degraded"
    assert bad.outcome.resolved == 0 and bad.outcome.new == 0  # was: 12 resolved, 12 new "dead" articles
    assert bad.counts["findings_withheld"] == 12
    assert "13个本站页面中12个无法访问（92%）" in bad.counts["degraded_reason"]
    assert open_findings(store).keys() == before.keys()


async def test_first_night_behind_a_challenge_page_is_caught_without_history(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    night = {"mode": "waf", "sitemap": "yes"}  # the sitemap's URLs all answer the challenge
    county_site(sites, night)
    config = fast_config(sites, [GOV], HOME)
    first = await run("links", config, store, clock)
    assert first.status == "degraded"
    assert "13个页面中13个内容完全相同" in first.counts["degraded_reason"]
    assert "首页为网站维护或安全验证提示页" in first.counts["degraded_reason"]
    assert store.count_open() == 0


async def test_first_night_with_only_the_homepage_answering(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    night = {"mode": "homepage_only"}
    county_site(sites, night)
    first = await run("links", fast_config(sites, [GOV], HOME), store, clock)
    assert first.status == "degraded" and store.count_open() == 0


async def test_status_and_summary_name_the_degraded_night(
    sites: LocalSites, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    night = {"mode": "normal"}
    county_site(sites, night)
    config = fast_config(sites, [GOV], HOME)
    with Store(tmp_path / "monitor.db") as store:
        await three_good_nights(config, store, clock)
        night["mode"] = "maintenance"
        bad = await run("links", config, store, clock)
    capsys.readouterr()
    from monitor.app.lang import set_lang

    set_lang("en")  # the summary's English wording (Chinese is the default: tests/test_cli_lang.py)
    try:
        print_run_summary([bad])  # what `monitor run links --lang en` prints
    finally:
        set_lang("zh")
    summary = capsys.readouterr().out
    assert f"run #{bad.run_id} degraded" in summary
    assert "degraded night: 仅读取到1个页面，近3次完整运行的中位数为13个; nothing resolved" in summary
    assert "1 finding(s) of this night not recorded" in summary  # the maintenance page's dead /help.html
    out = CliRunner().invoke(main, ["--lang", "en", "--db", str(tmp_path / "monitor.db"), "status"]).output
    assert "degraded, nothing resolved: 仅读取到1个页面" in out

    # The bulletin's 监测开展情况 names the night and the reason (the runs were Nov 26–29, week 48).
    with Store(tmp_path / "monitor.db") as store:
        b = build_bulletin(store, config, IsoWeek(2026, 48), clock)
    text = render_text(b, xlsx_name="x.xlsx")
    html = render_html(b, xlsx_name="x.xlsx")
    note = "监测说明：2026年11月29日09:30 测试县政府网站：仅读取到1个页面，近3次完整运行的中位数为13个"
    assert note in text and note in html
    assert "本次结果未采用，未将任何问题判为已整改" in text
    paragraphs = [p.text for p in build_document(b).paragraphs]
    said = note.removeprefix("监测说明：")
    assert any(text.startswith("监测说明：") and said in text for text in paragraphs)  # the 公文 (.docx) too
    write_workbook(b, tmp_path / "b.xlsx")
    cells = [
        c
        for row in openpyxl.load_workbook(tmp_path / "b.xlsx").worksheets[0].iter_rows(values_only=True)
        for c in row
    ]
    assert any(isinstance(c, str) and note in c for c in cells)


# -- decoys: credible nights stay credible ------------------------------------------------------------


async def test_a_template_site_whose_pages_differ_only_in_body_text_is_credible(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """Every page has the same title, header, navigation and footer; only the article text differs."""
    nav = "".join(f'<li><a href="/col/{c}.html">栏目{c}</a></li>' for c in range(8))
    texts = [
        "县政府召开常务会议研究部署安全生产工作",
        "关于公布县级行政许可事项清单的通知",
        "县人社局开展根治欠薪冬季专项行动",
        "县教育局发布寒假学生安全提醒",
        "县卫健委开展义诊进乡村活动",
        "县住建局部署老旧小区改造工作",
        "县农业农村局召开秋冬种生产推进会",
        "县市场监管局开展食品安全抽检",
        "县文旅局举办非遗展演活动",
        "县医保局解读城乡居民医保缴费政策",
        "县民政局走访慰问困难群众",
        "县生态环境局通报空气质量状况",
    ]

    def tpl(body: str, links: list[str]) -> str:
        items = "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例县人民政府</title></head><body>'
            f'<div class="top">示例县人民政府 主办：县政府办公室</div><ul class="nav">{nav}</ul>'
            f'<div class="article"><p>{body}。{body}，请各单位认真贯彻落实。</p></div><ul>{items}</ul>'
            '<div class="footer">网站标识码1234000001 版权所有 示例县人民政府</div></body></html>'
        )

    sites.html(GOV, "/", tpl("欢迎访问示例县人民政府门户网站", [f"/a/{i}.html" for i in range(12)]))
    for i, text in enumerate(texts):
        sites.html(GOV, f"/a/{i}.html", tpl(text, ["/"]))
    for c in range(8):
        sites.html(GOV, f"/col/{c}.html", tpl(f"栏目{c}信息列表：{texts[c]}", ["/"]))
    config = fast_config(sites, [GOV], HOME)
    for _ in range(4):
        result = await run("links", config, store, clock)
        assert result.status == "ok", result.counts.get("degraded_reason")
    assert result.counts["credibility"]["distinct_bodies"] == 21


async def test_a_small_site_of_three_pages_with_a_dead_page_is_credible(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(GOV, "/", page("首页", links=["/a.html", "/b.html", "/c.html"]))
    sites.html(GOV, "/a.html", page("A", "县政府办公室关于节假日值班安排的通知"))
    sites.html(GOV, "/b.html", page("B", "县财政局2026年部门预算公开说明"))
    config = fast_config(sites, [GOV], HOME)
    for _ in range(4):
        result = await run("links", config, store, clock)
        assert result.status == "ok", result.counts.get("degraded_reason")
    assert result.open_findings == 1


async def test_real_government_pages_are_credible(store: Store, clock: FixedClock) -> None:
    # The gate judges the crawl's pages whatever the duty: the sensitive-word duty crawls the same pages
    # without checking every link (0.7 s for the corpus instead of 33 s for links).
    _, results = await run_on_realworld("sensitive", store, clock)
    degraded = {r.site.homepage: r.counts.get("degraded_reason") for r in results if r.status == "degraded"}
    assert degraded == {}
    _, results = await run_on_realworld("identity", store, clock)
    degraded = {r.site.homepage: r.counts.get("degraded_reason") for r in results if r.status == "degraded"}
    assert degraded == {}


def test_a_site_that_really_shrank_is_accepted_on_the_third_night() -> None:
    usual = NightFigures(pages=40, distinct_bodies=40, top_body_pages=1, distinct_titles=40)
    smaller = NightFigures(pages=12, distinct_bodies=12, top_body_pages=1, distinct_titles=12)
    history = [PastNight("ok", True, usual)] * 4
    first = judge(smaller, history)
    assert first.degraded and first.rules == ("pages_drop",)
    second = judge(smaller, [PastNight("degraded", True, smaller, first.rules), *history])
    assert second.degraded
    third = judge(smaller, [PastNight("degraded", True, smaller, first.rules)] * 2 + history)
    assert not third.degraded and "连续3次" in third.note
    # An identical body on every URL never expires.
    same = NightFigures(
        pages=12, distinct_bodies=1, top_body_pages=12, distinct_titles=1, homepage_repeated=True
    )
    assert judge(same, [PastNight("degraded", True, same, ("same_body",))] * 5).degraded


def test_a_counter_or_a_date_does_not_make_copies_of_one_page_differ() -> None:
    sample = SiteSample(homepage=HOME)
    for i in range(6):
        sample.add_page(
            f"{HOME}p{i}", "维护", f"系统维护中，预计 2026-11-{20 + i} 0{i}:00 恢复。访问量 {i * 997}"
        )
    figures = sample.figures()
    assert figures.distinct_bodies == 1 and figures.top_body_pages == 6


# -- item 2: a page over max_response_bytes is partial, never empty --------------------------------------


async def test_a_truncated_page_keeps_its_findings_open_and_its_first_part_is_checked(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    state = {"big": False}
    filler = "<p>" + "县政府信息公开工作年度报告正文内容。" * 40 + "</p>"

    async def news(request: web.Request) -> web.Response:
        head = page("新闻", links=["/gone-early.html"])
        if not state["big"]:
            text = head.replace("</body>", '<a href="/gone-late.html">旧链接</a></body>')
        else:  # the same links, the second far beyond the cap
            text = head.replace("</body>", filler * 60 + '<a href="/gone-late.html">旧链接</a></body>')
        return web.Response(text=text, content_type="text/html")

    sites.html(GOV, "/", page("首页", links=["/news.html"]))
    sites.route(GOV, "/news.html", news)
    config = fast_config(sites, [GOV], HOME, crawl={"max_response_bytes": 65536})
    first = await run("links", config, store, clock)
    assert first.status == "ok" and first.open_findings == 2

    state["big"] = True
    second = await run("links", config, store, clock)
    assert second.outcome.resolved == 0  # was: the late link resolved, the page "read and empty"
    assert second.counts["credibility"]["truncated"] == 1
    assert second.outcome.seen_again == 1  # the part that was read is still checked
    assert {f["url"] for f in store.findings(status="open")} == {
        f"http://{GOV}/gone-early.html",
        f"http://{GOV}/gone-late.html",
    }


# -- site checks: the columns duty fetches its pages itself --------------------------------------------


async def test_a_maintenance_night_of_the_columns_duty_resolves_and_records_nothing(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    from datetime import timedelta

    old = (clock.now() - timedelta(days=30)).date().isoformat()
    older = (clock.now() - timedelta(days=40)).date().isoformat()
    paths = [f"/col{i}/" for i in range(6)]
    nav = "".join(f'<a href="{p}">栏目{i}</a>' for i, p in enumerate(paths))
    home = page("测试县人民政府", f"<div class='nav'>{nav}</div>今日要闻：县政府召开常务会议")
    sites.html(GOV, "/", home)
    for i, path in enumerate(paths):
        rows = "".join(
            f'<li><a href="{path}a{j}.html">栏目{i}第{j}条信息标题</a><span>{when}</span></li>'
            for j, when in enumerate((old, older))
        )
        sites.html(GOV, path, page(f"栏目{i}", f"<ul class='list'>{rows}</ul>"))
    columns = [{"name": f"工作动态{i}", "url": f"http://{GOV}{p}"} for i, p in enumerate(paths)]
    config = fast_config(sites, [GOV], HOME, columns={"sites": {"test": {"columns": columns}}})
    first = await run("columns", config, store, clock)
    assert first.status == "ok"
    before = open_findings(store)
    assert sum(f["kind"] == "column_stale" for f in before.values()) == 6

    maintenance = page("系统维护", "网站系统升级维护中，暂停访问，给您带来不便敬请谅解。")
    for path in ["/", *paths]:
        sites.html(GOV, path, maintenance)
    bad = await run("columns", config, store, clock)
    assert bad.status == "degraded" and "首页为网站维护或安全验证提示页" in (bad.error or "")
    assert bad.outcome.resolved == 0 and bad.outcome.new == 0
    assert open_findings(store).keys() == before.keys()


async def test_empty_columns_saying_under_maintenance_are_not_a_maintenance_night(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """Empty columns often say "本栏目正在维护中": short pages with one body, but not the homepage."""
    cols = [f"/col/{i}/" for i in range(5)]
    sites.html(GOV, "/", page("示例县人民政府", "县政府召开常务会议研究部署冬季安全生产工作", links=cols))
    for path in cols:
        sites.html(GOV, path, page("栏目", "本栏目正在维护中，敬请期待。", links=["/"]))
    config = fast_config(sites, [GOV], HOME)
    result = await run("links", config, store, clock)
    assert result.status == "ok", result.counts.get("degraded_reason")
    assert result.counts["credibility"]["top_body_pages"] == 5


def test_a_site_whose_every_crawl_hits_max_pages_is_compared_with_its_partial_runs() -> None:
    usual = NightFigures(pages=500, distinct_bodies=498, top_body_pages=2, distinct_titles=480)
    tonight = NightFigures(pages=1, distinct_bodies=1, top_body_pages=1, distinct_titles=1)
    verdict = judge(tonight, [PastNight("ok", False, usual)] * 5)
    assert verdict.degraded and "近5次正常运行的中位数为500个" in verdict.reason
    # Failed and degraded runs never make the baseline.
    assert not judge(
        tonight, [PastNight("failed", True, usual), PastNight("degraded", True, usual)] * 3
    ).degraded


async def test_pages_linked_only_from_a_truncated_tail_keep_their_findings(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    state = {"big": False}
    filler = ("<p>" + "县政府信息公开工作年度报告正文内容。" * 40 + "</p>") * 60

    async def index(request: web.Request) -> web.Response:
        text = page("信息公开目录", links=["/"])
        tail = '<a href="/deep.html">深层页面</a></body>'
        return web.Response(
            text=text.replace("</body>", (filler if state["big"] else "") + tail), content_type="text/html"
        )

    sites.html(GOV, "/", page("首页", links=["/index.html", "/other.html"]))
    sites.html(GOV, "/other.html", page("其他", links=["/"]))
    sites.route(GOV, "/index.html", index)
    sites.html(GOV, "/deep.html", page("深层页面", links=["/deep-gone.html"]))
    config = fast_config(sites, [GOV], HOME, crawl={"max_response_bytes": 65536})
    first = await run("links", config, store, clock)
    assert first.open_findings == 1

    state["big"] = True  # /deep.html is now linked only from beyond the cap: not reached
    second = await run("links", config, store, clock)
    assert second.counts["pages_crawled"] == 3 and second.outcome.resolved == 0
    assert [f["url"] for f in store.findings(status="open")] == [f"http://{GOV}/deep-gone.html"]


def test_challenge_pages_match_whatever_their_token_and_script_drawn_pages_do_not() -> None:
    from monitor.crawl.credibility import body_fingerprint

    challenges = {body_fingerprint("安全验证中", challenge()) for _ in range(5)}
    assert len(challenges) == 1
    spa = {body_fingerprint("", f'<div id="app" data-page="/news/{name}"></div>') for name in ("a", "b", "c")}
    assert len(spa) == 3


async def test_the_gate_verdict_is_part_of_the_typed_run_report(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    night = {"mode": "homepage_only"}
    county_site(sites, night)
    bad = await run("links", fast_config(sites, [GOV], HOME), store, clock)
    stored = store.run_report(bad.run_id)
    assert stored.degraded_reason == bad.report.degraded_reason and stored.degraded_reason
    assert stored.degraded_rules == ("failed_share",) and stored.findings_withheld == 12
    assert stored.credibility is not None and stored.credibility.failed == 12
    assert stored.findings == 0 and "degraded_reason" not in stored.figures
