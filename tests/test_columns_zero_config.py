"""Zero-config column audits (issue 17): discovery on real-shaped sites, no column registry at all.

Two counties on real local HTTP servers: the demo county and a second layout (tests/county2.py:
Hanweb-style ``/col/col…`` columns, departments and townships three levels deep, pagers, headline links,
year-less dates, header clocks, GBK township pages). Each must yield exactly its stale and blank columns
(precision and recall 1.0 here; bench/columns_quality.py prints the same figures).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from checks.columns.discovery import candidate_links, looks_like_article, looks_like_pager
from checks.common.dates import SHANGHAI
from monitor.app.cli import main
from monitor.app.demo.runner import demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import Config, config_from_mapping, load_config
from monitor.core.clock import FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from tests.county2 import HOST, County2
from tests.sites import LocalSites

REPO = Path(__file__).resolve().parents[1]
CMS = Path(__file__).parent / "fixtures" / "cms"
TODAY = date(2026, 11, 26)
STALE = {"column_stale", "column_undated"}


def _zero(config: Config) -> Config:
    return config.model_copy(
        update={"columns": config.columns.model_copy(update={"sites": {}, "discover": True})}
    )


async def _audit(config: Config, site: str, tmp: Path) -> tuple[SiteRunResult, list[dict[str, Any]]]:
    clock = FixedClock(datetime(2026, 11, 26, 9, 30), SHANGHAI)
    with Store(tmp / "z.db") as store:
        (run,) = [r for r in await run_duty("columns", config, store, clock) if r.site.id == site]
        return run, [f for f in store.findings(status="open", duty="columns") if f["site"] == site]


async def test_second_county_zero_config_finds_exactly_its_stale_and_blank_columns(tmp_path: Path) -> None:
    county = County2(TODAY)
    await county.start()
    try:
        run, findings = await _audit(county.config(), county.SITE_ID, tmp_path)
    finally:
        await county.close()
    # Nothing unreadable: the https copy of a column link (no TLS on this server) is read as the http page.
    assert run.status == "ok" and run.counts["unreadable"] == {}
    stale = {f["identity"] for f in findings if f["kind"] in STALE}
    blank = {f["identity"] for f in findings if f["kind"] == "column_blank"}
    assert stale == county.truth_stale
    assert blank == county.truth_blank
    census = {row["url"].replace("index.html", ""): row for row in run.counts["columns"]}
    # Every planted column is found once, pager pages and the headline's article never.
    assert set(census) == {f"http://{HOST}{c.path}" for c in county.columns}
    # Names: a 更多>> link outside a heading, a heading inside its link, a left-hand menu.
    assert census[f"http://{HOST}/col/col105/"]["name"] == "政策文件"
    assert census[f"http://{HOST}/col/col104/"]["name"] == "通知公告"
    # 新闻发布会 is not a 14-day news column; a year-old list with year-less dates is a year old.
    assert census[f"http://{HOST}/col/col106/"]["type"] == "other"
    assert census[f"http://{HOST}/xxgk/bm/czj/gzdt/"]["days_since"] >= 371
    # The header clock (今天是2026年11月26日) does not date 白沙镇's stale list.
    assert census[f"http://{HOST}/xxgk/xz/bsz/gzdt/"]["days_since"] == 40
    # Zero-config attribution: a column below a unit's page belongs to that unit.
    assert census[f"http://{HOST}/xxgk/xz/bsz/gzdt/"]["unit"] == "白沙镇"
    assert census[f"http://{HOST}/xxgk/bm/wjw/gzdt/"]["unit"] == "县卫生健康委员会"
    assert census[f"http://{HOST}/col/col102/"]["unit"] == "县政府办公室"
    # The newest article shows 发布时间 50 days ago, its PubDate 2 days: the page wins, the finding says so.
    conflict = next(f for f in findings if f["identity"].endswith("/zrzyj/gzdt/"))
    assert conflict["evidence"]["days_since"] == 50
    assert "PubDate元数据" in conflict["message"] and "不一致" in conflict["message"]


@pytest.mark.e2e  # the demo county
async def test_demo_county_zero_config_finds_exactly_its_stale_and_blank_columns(
    tmp_path: Path, clock: FixedClock
) -> None:
    truth = yaml.safe_load((REPO / "tests/demo_expected/expected_columns.yaml").read_text(encoding="utf-8"))
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = _zero(demo_config(load_config(REPO / "config.yaml", env={}), server))
        run, findings = await _audit(config, "portal", tmp_path)
    finally:
        await server.close()
    assert run.status == "ok"
    assert {f["identity"] for f in findings if f["kind"] in STALE} == set(truth["zero_config"]["stale"])
    assert {f["identity"] for f in findings if f["kind"] == "column_blank"} == set(
        truth["zero_config"]["blank"]
    )


def test_homepage_candidates_on_a_jyh_platform_homepage() -> None:
    html = (CMS / "jyh_homepage.html").read_text(encoding="utf-8")
    site = "http://www.example-sx.gov.cn"
    cands = {c.url: c for c in candidate_links(html, f"{site}/", ["www.example-sx.gov.cn"])}
    names = {c.text for c in cands.values()}
    # Left-hand menu, tab strip, <a><h1>…</h1></a>, and the 更多>> link named after its block.
    assert {
        "政策文件",
        "人事信息",
        "规划计划",
        "新闻发布会",
        "县域要闻",
        "部门动态",
        "近期信息公开",
        "通知公告",
    } <= names
    assert all(c.text for c in cands.values())
    # One candidate per page whatever the scheme; no pager, article or utility links.
    assert f"{site}/col/col1229102/index.html" in cands
    assert not any(u.startswith("https://") for u in cands)
    assert not any("index_" in u or "/art/" in u for u in cands)
    assert not any(n in names for n in ("网站地图", "联系我们", "长者模式", "关怀版", "登录", "下一页"))


def test_pager_and_article_links() -> None:
    assert looks_like_pager("http://a.gov.cn/col/col1/index_2.html")
    assert looks_like_pager("http://a.gov.cn/xwzx/tzgg/index_1.shtml")
    assert looks_like_pager("http://a.gov.cn/list.jsp?cat=3&page=2")
    assert looks_like_pager("http://a.gov.cn/xwzx/", "下一页")
    assert not looks_like_pager("http://a.gov.cn/xwzx/", "新闻中心")
    for url in (
        "http://a.gov.cn/art/2024/6/1/art_1229_58901.html",
        "http://a.gov.cn/xwzx/202406/t20240601_1102937.html",
        "http://a.gov.cn/zhengce/content/2024-06/01/content_6954968.htm",
        "http://a.gov.cn/bsfw/1545021.html",
        "http://www.bjdx.gov.cn/bjsdxqrmzf/zhyw/zjdt/2188837/index.html",  # articles as directories
    ):
        assert looks_like_article(url), url
    for url in (
        "http://a.gov.cn/col/col1229102/index.html",
        "http://a.gov.cn/xxgk/bm/jyj/gzdt/",
        "http://www.sc.gov.cn/10462/10464/10797/",  # numbered column directories
    ):
        assert not looks_like_article(url), url


async def test_columns_discover_write_saves_an_editable_columns_block(tmp_path: Path) -> None:
    county = County2(TODAY)
    await county.start()
    try:
        config = county.config()
        config_path = tmp_path / "config.yaml"
        config_path.write_text(
            yaml.safe_dump(config.model_dump(mode="json", exclude={"base_dir"}), allow_unicode=True),
            encoding="utf-8",
        )
        out = tmp_path / "columns-dongxi.yaml"
        runner = CliRunner()
        args = ["--config", str(config_path), "columns", "discover", f"http://{HOST}/", "--write", str(out)]
        result = await _in_thread(runner, args)
        assert result.exit_code == 0, result.output
        assert "wrote 25 columns" in result.output
        again = await _in_thread(runner, args)
        assert again.exit_code == 2 and "exists" in again.output  # never overwritten silently
    finally:
        await county.close()
    block = yaml.safe_load(out.read_text(encoding="utf-8"))
    entries = block["columns"]["sites"][County2.SITE_ID]["columns"]
    assert {e["name"] for e in entries} >= {"县域要闻", "政策文件", "新闻发布会", "工作动态", "规划计划"}
    # Columns below a unit's page carry the unit, and the units met come as a units: block.
    assert {"name": "县教育局", "kind": "department", "site": "dongxi", "paths": ["/xxgk/bm/jyj/"]} in block[
        "units"
    ]
    assert {"name": "红石镇", "kind": "township", "site": "dongxi", "paths": ["/xxgk/xz/hsz/"]} in block[
        "units"
    ]
    # The saved blocks load into the config as they are (the user then edits them).
    raw = {**config.model_dump(exclude={"base_dir"}), "columns": block["columns"], "units": block["units"]}
    loaded = config_from_mapping(raw)
    assert len(loaded.columns.sites[County2.SITE_ID].columns) == 25
    assert sum(1 for c in loaded.columns.sites[County2.SITE_ID].columns if c.unit == "白沙镇") == 2


async def _in_thread(runner: CliRunner, args: list[str]) -> Any:
    import asyncio

    return await asyncio.to_thread(runner.invoke, main, args, catch_exceptions=False)


async def test_a_list_loaded_by_a_script_is_unknown_not_blank() -> None:
    from checks.columns.audit import ColumnTarget, observe_column
    from checks.columns.discovery import page_facts
    from checks.columns.rules import ColumnLimits

    ajax = (
        '<html><head><meta name="ColumnName" content="工作动态"></head><body><ul id="list"></ul>'
        '<script>$.ajax({url: "/api/list?col=12", success: render});</script></body></html>'
    )
    url = f"http://{HOST}/xxgk/bm/jyj/gzdt/"
    facts = page_facts(ajax, url, TODAY)
    assert facts.script_list and not facts.items
    result = await observe_column(
        ColumnTarget("工作动态", url, "dynamic"), None, TODAY, ColumnLimits(), facts
    )  # type: ignore[arg-type]
    assert result.verdict.status == "unknown" and "脚本" in (result.error or "")
    # An explicit 暂无信息 (or an empty Hanweb datastore) is still a blank column.
    empty = ajax.replace('<ul id="list"></ul>', "<p>暂无信息</p>")
    result = await observe_column(
        ColumnTarget("工作动态", url, "dynamic"),
        None,
        TODAY,
        ColumnLimits(),
        page_facts(empty, url, TODAY),  # type: ignore[arg-type]
    )
    assert result.verdict.status == "blank"
    hanweb = (
        '<html><body><div><script type="text/xml"><datastore><recordset></recordset></datastore></script>'
    )
    hanweb += '<script>$("#4043").jpage({dataStore: "datastore"});</script></div></body></html>'
    assert not page_facts(hanweb, url, TODAY).script_list


def _twin_list(name: str, col: int) -> str:
    rows = "".join(
        f'<li><a href="/art/2026/10/{d}/art_{col}_{d}.html">{name}第{d}期：工作会议召开</a>'
        f"<span>2026-10-{d:02d}</span></li>"
        for d in (20, 12)
    )
    head = f'<meta name="ColumnName" content="{name}">'
    return f'<html><head>{head}</head><body><ul class="list">{rows}</ul></body></html>'


async def test_one_list_served_at_two_urls_is_one_column_and_units_name_their_columns(
    sites: LocalSites, tmp_path: Path
) -> None:
    host = "www.twin.gov.cn"
    menu = (
        '<ul class="sub"><li><a href="/bm/jyj/gzdt/">工作动态</a></li>'
        '<li><a href="/bm/jyj/tzgg/">通知公告</a></li></ul>'
    )
    nav = '<div class="nav"><a href="/bm/jyj/">县教育局</a><a href="/jydt/">教育动态</a></div>'
    sites.html(host, "/", f"<html><body>{nav}</body></html>")
    sites.html(host, "/bm/jyj/", f"<html><body>{menu}<p>县教育局负责全县教育工作。</p></body></html>")
    sites.html(host, "/bm/jyj/gzdt/", _twin_list("工作动态", 5))
    sites.html(host, "/jydt/", _twin_list("工作动态", 5))  # the same list under a second URL
    sites.html(host, "/bm/jyj/tzgg/", _twin_list("通知公告", 6))
    await sites.start()
    crawl = {
        "timeout_seconds": 2,
        "retries": 0,
        "analysis_workers": 0,
        "host_overrides": sites.overrides(host),
    }
    site = {"id": "twin", "name": "双子县", "homepage": f"http://{host}/", "unit": "县政府办公室"}
    run, findings = await _audit(config_from_mapping({"sites": [site], "crawl": crawl}), "twin", tmp_path)
    rows_by_url = {r["url"]: r for r in run.counts["columns"]}
    # One of the two URLs of the list is a column, not both (no doubled stale finding).
    assert len([u for u in rows_by_url if u.endswith(("/jydt/", "/bm/jyj/gzdt/"))]) == 1
    stale = [f for f in findings if f["kind"] == "column_stale"]
    # Kept under the URL below its unit's page: the finding names 县教育局.
    assert [(f["url"], f["unit"]) for f in stale] == [(f"http://{host}/bm/jyj/gzdt/", "县教育局")]
    assert stale[0]["message"].startswith("县教育局·工作动态栏目更新至2026年10月20日")
    assert rows_by_url[f"http://{host}/bm/jyj/tzgg/"]["unit"] == "县教育局"


def test_a_blank_column_without_column_tags_is_found_when_it_says_so() -> None:
    from checks.columns.discovery import column_from_facts, is_blank, page_facts

    url = f"http://{HOST}/xxgk/bm/jyj/ghjh/"
    empty = '<html><body><div class="list"><ul></ul><p>暂无信息</p></div></body></html>'
    facts = page_facts(empty, url, TODAY)
    column = column_from_facts(facts, "规划计划", False)
    assert column is not None and column.type == "planning" and is_blank(facts)
    # An empty page that says nothing (no tags, no 暂无信息) is not taken for a column.
    assert column_from_facts(page_facts("<html><body></body></html>", url, TODAY), "规划计划", False) is None


async def test_a_toolbar_row_with_the_header_clock_cannot_make_a_stale_homepage_fresh(
    sites: LocalSites, tmp_path: Path
) -> None:
    host = "www.stale.gov.cn"
    toolbar = (
        '<div class="tbar"><span>今天是<script>document.write(new Date())</script></span>'
        ' <a href="javascript:void(0)">无障碍</a> <a href="/laonian/">长者模式</a> <span>今天</span></div>'
    )
    rows = "".join(
        f'<li><a href="/art/2026/10/{d}/art_1_{d}.html">县政府召开第{d}次常务会议</a><span>10-{d:02d}</span>'
        "</li>"
        for d in (12, 8)
    )
    sites.html(host, "/", f'<html><body>{toolbar}<div class="blk"><ul>{rows}</ul></div></body></html>')
    await sites.start()
    crawl = {
        "timeout_seconds": 2,
        "retries": 0,
        "analysis_workers": 0,
        "host_overrides": sites.overrides(host),
    }
    site = {"id": "stale", "name": "旧县", "homepage": f"http://{host}/", "unit": "县政府办公室"}
    run, findings = await _audit(config_from_mapping({"sites": [site], "crawl": crawl}), "stale", tmp_path)
    assert run.counts["homepage"]["latest"] == "2026-10-12"
    assert [f["kind"] for f in findings if f["kind"].startswith("homepage")] == ["homepage_stale"]
