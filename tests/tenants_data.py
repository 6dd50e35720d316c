"""A province of three tenants on loopback (issue 24): two counties and a city, each with its own CMS.

Real parts: one aiohttp server serving every virtual host (tests/sites.py), real duty runs (``patrol`` in
2026-W47 and W48, ``newmedia`` in W48) into a real SQLite file, the config written as YAML and loaded the
way the command line loads it.

Planted problems, and the ranking they must give (fewer 单项否决 first, then fewer problems per site):

- 甲县 (jia, county; a TRS-like portal in GBK): one 严重表述错误 in a page title (单项否决), with hostile
  markup and a direction override in the same title; its account is fresh. Veto 1, 1 problem on 1 site.
- 乙县 (yi, county; a Hanweb-like table layout): two dead links in W47, one fixed in W48 (整改率 50%).
  Veto 0, 1 problem on 1 site → first.
- 丙市 (bing, city; two govcn-like sites): three dead links since W47 (none fixed), its account silent
  since October (新媒体不更新, 单项否决), and its education site down since the W48 probes (站点无法访问).
  Veto 1, 5 problems on 2 sites → third, behind 甲县.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from monitor.config import Config, load_config
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.newmedia_fixtures import rfc822, rss
from tests.sites import LocalSites

W47_RUN = datetime(2026, 11, 19, 9, 30)
W48_RUN = datetime(2026, 11, 26, 9, 30)
REPORT_NOW = "2026-11-30T00:10:00+08:00"
RSS_HOST = "rss.province.test"

#: Per tenant: what only its own documents may show (site names, hosts, its issuer).
OWN = {
    "jia": ["甲县人民政府门户网站", "www.jiaxian.gov.cn", "甲县人民政府办公室", "甲县发布"],
    "yi": ["乙县人民政府网", "www.yixian.gov.cn", "乙县政务公开办", "乙县教育"],
    "bing": ["丙市人民政府", "www.bingshi.gov.cn", "jyj.bingshi.gov.cn", "丙市教育局网站", "丙市教育发布"],
}
RECIPIENTS = {
    "jia": ["zwgk@jiaxian.gov.cn"],
    "yi": ["xxgk@yixian.gov.cn", "bgs@yixian.gov.cn"],
    "bing": ["zwgk@bingshi.gov.cn"],
}
PROVINCE_RECIPIENTS = ["zwgkb@province.gov.cn"]
HOSTILE = "<script>alert(1)</script>"
RLO = "\u202e"


def _trs_page(title: str, body: str, links: list[tuple[str, str]]) -> bytes:
    """A TRS WCM-like page, served as GBK (older county portals still are)."""
    items = "".join(
        f'<li><a href="{h}" target="_blank">{t}</a><span>2026-11-18</span></li>' for h, t in links
    )
    html = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        f'<meta name="SiteName" content="甲县人民政府门户网站"><title>{title}</title></head>'
        f'<body><div class="top">甲县人民政府</div><div class="xxgk_list"><ul>{items}</ul></div>'
        f'<div class="TRS_Editor">{body}</div></body></html>'
    )
    return html.encode("gbk", errors="xmlcharrefreplace")


def _hanweb_page(title: str, links: list[tuple[str, str]]) -> str:
    """A Hanweb-like page: the list is a table of rows."""
    rows = "".join(
        f'<tr><td class="title"><a href="{h}">{t}</a></td><td class="date">2026-11-1{i}</td></tr>'
        for i, (h, t) in enumerate(links)
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><div id="header">乙县人民政府网</div><table class="list_table">{rows}</table>'
        "<div>为深入贯彻落实县委县政府决策部署，现将有关事项通知如下。</div></body></html>"
    )


def _govcn_page(title: str, links: list[tuple[str, str]]) -> str:
    """A govcn-like page: div rows with a span date."""
    rows = "".join(
        f'<div class="news_row"><a href="{h}">{t}</a><span>2026-11-20</span></div>' for h, t in links
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><header>丙市人民政府</header><main class="news_list">{rows}</main>'
        "<p>为进一步优化营商环境，现将有关事项通知如下。</p></body></html>"
    )


def serve(sites: LocalSites, week: int) -> None:
    """The three tenants' sites and feeds as they are during ``week`` (47 or 48)."""
    jia = "www.jiaxian.gov.cn"
    sites.html(
        jia,
        "/",
        _trs_page(
            "甲县人民政府门户网站",
            "欢迎访问。",
            [("/zwgk/bm/jyj/index.html", "教育动态"), ("/xwzx/1.html", "要闻")],
        ),
        content_type="text/html; charset=gbk",
    )
    sites.html(
        jia,
        "/zwgk/bm/jyj/index.html",
        _trs_page("教育动态", "县教育局召开工作会议。", [("/", "首页")]),
        content_type="text/html; charset=gbk",
    )
    title = f"纪念中华人民共合国成立77周年{HOSTILE.replace('<', '&lt;').replace('>', '&gt;')}{RLO}"
    sites.html(
        jia,
        "/xwzx/1.html",
        _trs_page(title, "全县各界举行纪念活动。", [("/", "首页")]),
        content_type="text/html; charset=gbk",
    )

    yi = "www.yixian.gov.cn"
    sites.html(
        yi,
        "/",
        _hanweb_page("乙县人民政府网", [("/gone1.html", "通知公告"), ("/zwgk/bm/jyj/index.html", "教育")]),
    )
    sites.html(
        yi, "/zwgk/bm/jyj/index.html", _hanweb_page("县教育局", [("/zwgk/bm/jyj/gone2.html", "招生公告")])
    )
    if week >= 48:  # 乙县 fixed one of its two dead links
        sites.html(yi, "/gone1.html", _hanweb_page("通知公告", [("/", "首页")]))

    bing = "www.bingshi.gov.cn"
    sites.html(
        bing, "/", _govcn_page("丙市人民政府", [("/dead-a.html", "市长信箱"), ("/dead-b.html", "政策解读")])
    )
    bing_jyj = "jyj.bingshi.gov.cn"
    sites.html(bing_jyj, "/", _govcn_page("丙市教育局网站", [("/dead-c.html", "招生考试"), ("/", "首页")]))

    fresh = rss(
        [{"title": "全县教育工作会议召开", "date": rfc822(datetime(2026, 11, 25, 10, tzinfo=SHANGHAI))}]
    )
    sites.html(RSS_HOST, "/jia.xml", fresh, content_type="application/rss+xml")
    sites.html(RSS_HOST, "/yi.xml", fresh, content_type="application/rss+xml")
    stale = rss([{"title": "秋季招生工作通知", "date": rfc822(datetime(2026, 10, 20, 10, tzinfo=SHANGHAI))}])
    sites.html(RSS_HOST, "/bing.xml", stale, content_type="application/rss+xml")
    sites.html(RSS_HOST, "/", "<html><body>ok</body></html>")


def config_mapping(sites: LocalSites, smtp_port: int, reports: Path) -> dict[str, Any]:
    """The province's configuration (as a YAML file would hold it)."""
    hosts = ["www.jiaxian.gov.cn", "www.yixian.gov.cn", "www.bingshi.gov.cn", "jyj.bingshi.gov.cn", RSS_HOST]
    return {
        "crawl": {
            "timeout_seconds": 2,
            "retries": 1,
            "retry_backoff_seconds": 0.05,
            "confirm_delay_seconds": 0.05,
            "analysis_workers": 0,
            "host_overrides": sites.overrides(*hosts),
            "allow_private": [f"http://{h}" for h in hosts],
        },
        "darklinks": {"browser": {"enabled": False}},
        # The self-check reference is on loopback too (nothing leaves the machine); two failed probes in a
        # row make a target down.
        "availability": {"timeout_seconds": 2, "down_after": 2, "reference_urls": [f"http://{RSS_HOST}/"]},
        "sites": [
            {"id": "jia-portal", "name": "甲县人民政府门户网站", "homepage": "http://www.jiaxian.gov.cn/"},
            {
                "id": "yi-portal",
                "name": "乙县人民政府网",
                "homepage": "http://www.yixian.gov.cn/",
                "tenant": "yi",
            },
            {"id": "bing-portal", "name": "丙市人民政府", "homepage": "http://www.bingshi.gov.cn/"},
            {"id": "bing-jyj", "name": "丙市教育局网站", "homepage": "http://jyj.bingshi.gov.cn/"},
        ],
        "units": [
            {"name": "县教育局", "site": "jia-portal", "paths": ["/zwgk/bm/jyj/"]},
            {"name": "城关镇人民政府", "kind": "township", "site": "jia-portal", "paths": ["/zwgk/xz/cgz/"]},
            # The same unit name in another county: unique within a tenant only.
            {"name": "县教育局", "site": "yi-portal", "paths": ["/zwgk/bm/jyj/"]},
            {"name": "市教育局", "site": "bing-jyj", "paths": ["/"]},
            {"name": "东城区人民政府", "kind": "township", "tenant": "bing"},
        ],
        "newmedia": {
            "accounts": [
                {
                    "id": "wx-jia",
                    "platform": "wechat",
                    "name": "甲县发布",
                    "unit": "县委宣传部",
                    "source": {"type": "feed", "url": f"http://{RSS_HOST}/jia.xml"},
                },
                {
                    "id": "wx-yi",
                    "platform": "wechat",
                    "name": "乙县教育",
                    "unit": "县教育局",
                    "tenant": "yi",
                    "source": {"type": "feed", "url": f"http://{RSS_HOST}/yi.xml"},
                },
                # No tenant written: its unit 市教育局 is a unit of 丙市 only.
                {
                    "id": "wx-bing",
                    "platform": "wechat",
                    "name": "丙市教育发布",
                    "unit": "市教育局",
                    "source": {"type": "feed", "url": f"http://{RSS_HOST}/bing.xml"},
                },
            ]
        },
        "bulletin": {
            "reports_dir": str(reports),
            "issue_number": "网监〔{year}〕{seq}号",
            "smtp": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "sender": "省政府网站监测 <monitor@province.gov.cn>",
                "retries": 0,
            },
        },
        "tenants": [
            {
                "id": "jia",
                "name": "甲县",
                "level": "county",
                "sites": ["jia-portal"],
                "accounts": ["wx-jia"],
                "bulletin": {"recipients": RECIPIENTS["jia"], "issue_number": "甲政网监〔{year}〕{seq}号"},
            },
            {
                "id": "yi",
                "name": "乙县",
                "level": "county",
                "bulletin": {"recipients": RECIPIENTS["yi"], "issuer": "乙县政务公开办"},
            },
            {
                "id": "bing",
                "name": "丙市",
                "level": "city",
                "sites": ["bing-portal", "bing-jyj"],
                "bulletin": {
                    "recipients": RECIPIENTS["bing"],
                    "contact": "联系人：丙市政务公开科，电话 0000-7654321",
                },
            },
        ],
        "province": {
            "name": "示例省",
            "issuer": "示例省人民政府办公厅政务公开办公室",
            "addressees": ["各市、县人民政府办公室"],
            "issue_number": "示政公开〔{year}〕{seq}号",
            "recipients": PROVINCE_RECIPIENTS,
        },
    }


def build_province(folder: Path, smtp_port: int) -> tuple[Path, Config]:
    """Serve the sites, write config.yaml, run the duties of W47 and W48; returns (config path, config)."""

    async def run() -> tuple[Path, Config]:
        sites = await LocalSites().start()
        try:
            path = folder / "config.yaml"
            mapping = config_mapping(sites, smtp_port, folder / "reports")
            mapping["storage"] = {"database": str(folder / "monitor.db")}
            path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
            config = load_config(path)
            with Store(folder / "monitor.db") as store:
                serve(sites, 47)
                await run_duty("patrol", config, store, FixedClock(W47_RUN, SHANGHAI))
                serve(sites, 48)
                clock = FixedClock(W48_RUN, SHANGHAI)
                await run_duty("patrol", config, store, clock)
                await run_duty("newmedia", config, store, clock)
                # 丙市's education site goes down after the patrol: two probe rounds find it down.
                sites.status("jyj.bingshi.gov.cn", "/", 503)
                for minute in (0, 15):
                    probe_clock = FixedClock(W48_RUN.replace(hour=10, minute=minute), SHANGHAI)
                    await run_duty("availability", config, store, probe_clock)
            return path, config
        finally:
            await sites.close()

    return asyncio.run(run())
