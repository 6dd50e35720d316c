"""New-media source adapters against real local servers: feed (RSS 2.0, Atom), json, html, manual.

Each test runs the real duty (``run_duty("newmedia")``) on a real SQLite file with a pinned clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.newmedia_fixtures import HOST, NOW, ago, atom, feed_account, nm_config, rfc822, rss
from tests.sites import LocalSites


async def run(sites: LocalSites, store: Store, accounts: list[dict[str, Any]], **nm: Any) -> dict[str, Any]:
    """Run the duty once at NOW; return the census rows by account id plus the run result."""
    (result,) = await run_duty("newmedia", nm_config(sites, accounts, **nm), store, FixedClock(NOW))
    rows = {r["id"]: r for r in result.counts["accounts"]}
    return {"result": result, "rows": rows, "findings": {(f.kind, f.identity): f for f in result.findings}}


async def test_rss_newest_item_date_counts_never_last_build_date(sites: LocalSites, store: Store) -> None:
    # The channel was rebuilt this morning, but the newest item is 24 days old: stale.
    sites.html(
        HOST,
        "/jyj.xml",
        rss(
            [
                {"title": "全县秋季学期开学工作部署会召开", "date": rfc822(ago(24))},
                {"title": "教育局召开安全工作会议", "date": rfc822(ago(40))},
            ],
            last_build=rfc822(ago(0, hour=8)),
        ),
        content_type="application/rss+xml; charset=utf-8",
    )
    out = await run(sites, store, [feed_account("jyj", "/jyj.xml")])
    row = out["rows"]["jyj"]
    assert (row["verdict"], row["days_since"], row["last_post"]) == ("stale", 24, "2026-11-02")
    stale = out["findings"][("stale", "jyj")]
    assert stale.severity.value == "veto"
    assert (
        stale.message == "示例县教育局（微信公众号）最近一次发布为2026年11月2日，已24天未更新（要求14天内）"
    )
    assert stale.unit == "县教育局"


async def test_atom_published_wins_over_updated_and_zone_is_converted(
    sites: LocalSites, store: Store
) -> None:
    # An entry edited yesterday but published 20 days ago is 20 days old; Z times convert to Shanghai.
    sites.html(
        HOST,
        "/wb.atom",
        atom(
            [
                {"title": "旧文更新", "published": "2026-11-06T02:00:00Z", "updated": "2026-11-25T02:00:00Z"},
                {"title": "冬季供暖保障", "updated": "2026-11-11T17:00:00Z"},  # = 11-12 01:00 Shanghai
            ]
        ),
        content_type="application/atom+xml",
    )
    out = await run(sites, store, [feed_account("wb", "/wb.atom", name="示例县发布", platform="weibo")])
    row = out["rows"]["wb"]
    assert (row["verdict"], row["last_post"], row["days_since"]) == ("fresh", "2026-11-12", 14)
    assert row["last_post_title"] == "冬季供暖保障"


async def test_naive_feed_dates_mean_shanghai_at_the_14_day_boundary(sites: LocalSites, store: Store) -> None:
    # "2026-11-11 20:00:00" without a zone is Shanghai time: 15 days → stale. Read as UTC (feedparser's
    # *_parsed) it would be 11-12 04:00 Shanghai, 14 days, and wrongly fresh. The same instant with an
    # explicit Z is 11-12 04:00 Shanghai: fresh.
    sites.html(HOST, "/naive.xml", rss([{"title": "通知", "date": "2026-11-11 20:00:00"}]))
    sites.html(HOST, "/naive822.xml", rss([{"title": "通知", "date": "Wed, 11 Nov 2026 20:00:00"}]))
    sites.html(HOST, "/zulu.xml", rss([{"title": "通知", "date": "2026-11-11T20:00:00Z"}]))
    sites.html(HOST, "/cst.xml", rss([{"title": "通知", "date": "Wed, 11 Nov 2026 20:00:00 CST"}]))
    sites.html(HOST, "/d13.xml", rss([{"title": "通知", "date": "2026-11-13 23:59:59"}]))
    sites.html(HOST, "/d14.xml", rss([{"title": "通知", "date": "2026-11-12 00:00:00"}]))
    out = await run(
        sites,
        store,
        [
            feed_account("naive", "/naive.xml"),
            feed_account("naive822", "/naive822.xml"),
            feed_account("zulu", "/zulu.xml"),
            feed_account("cst", "/cst.xml"),  # Chinese servers' "CST" is +0800, not US Central
            feed_account("d13", "/d13.xml"),
            feed_account("d14", "/d14.xml"),
        ],
    )
    got = {k: (r["verdict"], r["days_since"]) for k, r in out["rows"].items()}
    assert got == {
        "naive": ("stale", 15),
        "naive822": ("stale", 15),
        "zulu": ("fresh", 14),
        "cst": ("stale", 15),
        "d13": ("fresh", 13),
        "d14": ("fresh", 14),
    }


async def test_gb2312_feed_and_original_marker(sites: LocalSites, store: Store) -> None:
    body = rss(
        [
            {"title": "【原创】乡村振兴看示县", "date": rfc822(ago(2)), "categories": ["原创"]},
            {"title": "转载：全国新闻", "date": rfc822(ago(3))},
        ]
    ).replace('encoding="UTF-8"', 'encoding="gb2312"')
    sites.html(HOST, "/gb.xml", body.encode("gb18030"), content_type="text/xml")
    out = await run(sites, store, [feed_account("gb", "/gb.xml", source={"original_marker": "原创"})])
    row = out["rows"]["gb"]
    assert row["last_post_title"] == "【原创】乡村振兴看示县"
    assert (row["posts_month"], row["originals_month"]) == (2, 1)


async def test_json_source_with_dotted_paths_epoch_millis_and_pinned_flag(
    sites: LocalSites, store: Store
) -> None:
    doc = {
        "code": 0,
        "data": {
            "list": [
                {
                    "newsId": 9,
                    "headline": "置顶：政务服务指南",
                    "link": "http://app/9",
                    "pubtime": int(ago(1).timestamp() * 1000),
                    "isTop": 1,
                },
                {
                    "newsId": 8,
                    "headline": "县政府常务会议召开",
                    "link": "http://app/8",
                    "pubtime": int(ago(16).timestamp() * 1000),
                    "isTop": 0,
                },
                {"newsId": 7, "headline": "无日期条目", "link": "http://app/7"},
            ]
        },
    }
    sites.html(HOST, "/app/news", json.dumps(doc, ensure_ascii=False), content_type="application/json")
    account = {
        "id": "app",
        "platform": "app",
        "name": "示县通",
        "source": {
            "type": "json",
            "url": f"http://{HOST}/app/news",
            "items": "data.list",
            "fields": {
                "id": "newsId",
                "title": "headline",
                "url": "link",
                "date": "pubtime",
                "pinned": "isTop",
            },
        },
    }
    out = await run(sites, store, [account])
    row = out["rows"]["app"]
    # The pinned item (1 day old) is excluded: the newest ordinary post is 16 days old.
    assert (row["verdict"], row["days_since"], row["last_post_title"]) == ("stale", 16, "县政府常务会议召开")
    assert out["findings"][("stale", "app")].message.startswith(
        "示县通（移动客户端）最近一次发布为2026年11月10日"
    )
    assert {p.post_id for p in store.posts("app")} == {"9", "8"}


async def test_json_feed_defaults(sites: LocalSites, store: Store) -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "x",
        "items": [
            {
                "id": "a",
                "title": "今日要闻",
                "url": "http://x/a",
                "date_published": "2026-11-25T08:00:00+08:00",
            }
        ],
    }
    sites.html(HOST, "/feed.json", json.dumps(doc, ensure_ascii=False), content_type="application/feed+json")
    account = {
        "id": "jf",
        "platform": "other",
        "name": "示例县网",
        "source": {"type": "json", "url": f"http://{HOST}/feed.json"},
    }
    out = await run(sites, store, [account])
    assert (out["rows"]["jf"]["verdict"], out["rows"]["jf"]["days_since"]) == ("fresh", 1)


async def test_html_list_source_uses_the_column_date_rules(sites: LocalSites, store: Store) -> None:
    html = (
        "<html><head><title>公众号文章</title></head><body><div class='nav'><a href='/'>首页</a></div>"
        "<ul class='list'>"
        "<li class='top'><a href='/a/1.html'>【置顶】学习贯彻全会精神</a><span>2026-11-25</span></li>"
        "<li><a href='/a/2.html'>11月3日义诊活动走进社区</a><span>2026-11-04</span></li>"
        "<li><a href='/a/3.html'>县教育局开展督导检查</a><span>2026-10-20</span></li>"
        "</ul></body></html>"
    )
    sites.html(HOST, "/wx/list.html", html)
    account = {
        "id": "h",
        "platform": "wechat",
        "name": "示例县教育局",
        "source": {"type": "html", "url": f"http://{HOST}/wx/list.html"},
    }
    out = await run(sites, store, [account])
    row = out["rows"]["h"]
    # Pinned row skipped; the date inside the title (11月3日) is not the post date.
    assert (row["verdict"], row["last_post"], row["days_since"]) == ("stale", "2026-11-04", 22)


async def test_captcha_waf_and_http_errors_are_unknown_never_stale(sites: LocalSites, store: Store) -> None:
    captcha = (
        "<html><head><title>安全验证</title></head><body><p>访问过于频繁，请完成下方验证码后继续访问</p>"
        "<img src='/captcha.jpg'><input name='code'></body></html>"
    )
    sites.html(HOST, "/dy.xml", captcha)  # HTTP 200, but a captcha page instead of the feed
    sites.html(
        HOST, "/waf.xml", "<html><body>Request blocked by Web Application Firewall</body></html>", status=403
    )
    sites.status(HOST, "/down.xml", 503)
    sites.html(HOST, "/empty.xml", rss([]))
    sites.html(HOST, "/nodates.xml", rss([{"title": "无日期"}]))
    sites.html(HOST, "/profile.html", captcha)  # an html source behind a captcha
    accounts = [
        feed_account("dy", "/dy.xml", platform="douyin", name="示例县文旅"),
        feed_account("waf", "/waf.xml"),
        feed_account("down", "/down.xml"),
        feed_account("empty", "/empty.xml"),
        feed_account("nodates", "/nodates.xml"),
        {
            "id": "prof",
            "platform": "douyin",
            "name": "示例县融媒",
            "source": {"type": "html", "url": f"http://{HOST}/profile.html"},
        },
    ]
    out = await run(sites, store, accounts)
    assert {r["verdict"] for r in out["rows"].values()} == {"unknown"}
    assert {kind for kind, _ in out["findings"]} == {"source_error"}  # nothing stale
    reasons = {k: r["reason"] for k, r in out["rows"].items()}
    assert "验证码/安全验证" in reasons["dy"] and "验证码/安全验证" in reasons["prof"]
    assert reasons["waf"] == "订阅源无法访问（HTTP 403，返回验证码/安全验证页面）"
    assert reasons["down"] == "订阅源无法访问（HTTP 503）"
    assert reasons["empty"] == "订阅中没有任何条目"
    assert reasons["nodates"] == "订阅中1个条目均无可识别的发布日期"
    msg = out["findings"][("source_error", "dy")].message
    assert msg.startswith("示例县文旅（抖音）监测源异常：") and "未计入不更新统计" in msg
    assert out["result"].counts["verdicts"]["unknown"] == 6
    assert {i["verdict"] for i in out["result"].counts["indicators"]} == {"unknown"}
    assert out["result"].counts["complete"] is False


def ledger(tmp_path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "ledger.csv"
    path.write_bytes(text.encode(encoding))
    return path


async def test_manual_ledger_fresh_stale_expired_and_missing(
    sites: LocalSites, store: Store, tmp_path: Path
) -> None:
    # Excel-style GBK CSV with Chinese headers; the newest row per account wins.
    path = ledger(
        tmp_path,
        "账号,最近发布日期,填报人,填报时间\n"
        "西岭乡,2026-11-20,张三,2026-11-24 16:00\n"
        "西岭乡,2026-10-01,张三,2026-10-02 16:00\n"
        "wx-old,2026-11-01,李四,2026-11-24\n"
        "wx-exp,2026-11-20,王五,2026-11-10\n",
        encoding="gbk",
    )
    src = {"type": "manual", "path": str(path), "max_age_days": 7}
    accounts = [
        {"id": "wx-xlx", "platform": "wechat", "name": "西岭乡", "source": src},
        {"id": "wx-old", "platform": "wechat", "name": "东关镇", "source": src},
        {"id": "wx-exp", "platform": "wechat", "name": "石桥镇", "source": src},
        {"id": "wx-none", "platform": "wechat", "name": "城关镇", "source": src},
    ]
    out = await run(sites, store, accounts)
    rows = out["rows"]
    assert (rows["wx-xlx"]["verdict"], rows["wx-xlx"]["days_since"]) == ("fresh", 6)
    assert rows["wx-xlx"]["source_label"] == "人工填报" and rows["wx-xlx"]["reported_by"] == "张三"
    assert rows["wx-xlx"]["posts_week"] is None  # a ledger says nothing about counts
    assert rows["wx-old"]["verdict"] == "stale"
    assert out["findings"][("stale", "wx-old")].message == (
        "东关镇（微信公众号）最近一次发布为2026年11月1日（人工填报），已25天未更新（要求14天内）"
    )
    assert rows["wx-exp"]["verdict"] == "unknown"
    assert rows["wx-exp"]["reason"] == "人工填报记录已过期（填报于2026年11月10日，已16天，超过7天有效期）"
    assert rows["wx-none"]["reason"] == "人工填报台账中没有该账号的填报记录"
    assert out["result"].counts["manual"] == 4
    m1 = {i["subject"]: i for i in out["result"].counts["indicators"]}
    assert "人工填报" in m1["wx-xlx"]["figure"]


async def test_manual_ledger_unreadable_is_unknown(sites: LocalSites, store: Store, tmp_path: Path) -> None:
    src = {"type": "manual", "path": str(tmp_path / "missing.csv")}
    out = await run(sites, store, [{"id": "m", "platform": "wechat", "name": "甲", "source": src}])
    assert out["rows"]["m"]["verdict"] == "unknown"
    assert out["rows"]["m"]["reason"].startswith("人工填报台账无法读取")
