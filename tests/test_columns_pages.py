"""Page-level extraction used by the column audits: homepage items, pager words, breadcrumbs."""

from __future__ import annotations

from datetime import date

from checks.columns.discovery import column_from_facts, page_facts
from checks.common.dates import extract_list_items, extract_page_items

TODAY = date(2026, 11, 26)
LAYOUT = (
    '<html><head><meta name="ColumnName" content="{name}"></head><body><a id="top" name="top"></a>'
    '<div class="topbar">今天是2026年11月26日</div><div class="wrap">'
    '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/hdjl/">互动交流</a></div>'
    "{body}</div></body></html>"
)


def test_homepage_items_from_every_block_never_the_header_clock() -> None:
    html = (
        '<html><body><div class="topbar">今天是2026年11月26日 <a href="/fav">加入收藏本站点</a></div>'
        '<div class="b"><h3><a href="/a/">要闻</a></h3><ul><li><a href="/a/1.html">示例县召开推进会</a>'
        '<span>11-20</span></li><li><div><a href="/a/2.html">县委中心组学习</a></div>'
        "<span>2026-11-01</span></li></ul></div>"
        '<div class="c"><p><a href="/b/1.html">关于开展排查的通知</a> 2026-10-01</p></div></body></html>'
    )
    items = extract_page_items(html, "http://x.gov.cn/", TODAY)
    assert [(i.url[-9:], i.date) for i in items] == [
        ("/a/1.html", date(2026, 11, 20)),
        ("/a/2.html", date(2026, 11, 1)),
        ("/b/1.html", date(2026, 10, 1)),
    ]
    header = '<div class="header">今天是2026年11月26日 <a href="/x">网站首页链接</a></div>'
    header_only = f"<html><body>{header}</body></html>"
    assert extract_page_items(header_only, "http://x.gov.cn/", TODAY) == []


def test_calendar_pager_and_breadcrumb_are_not_list_items() -> None:
    body = (
        '<div class="calendar"><p><a href="c.html?month=2026-10">&lt; 上个月</a><strong>2026年11月</strong>'
        '<a href="c.html?month=2026-12">下个月 &gt;</a></p><ul><li>11月5日　县长接待日（县信访局）</li>'
        "<li>11月15日　“政府开放日”活动</li>"
        "<li>11月25日　政策解读在线访谈</li></ul></div>"
    )
    html = LAYOUT.format(name="活动日历", body=body)
    assert extract_list_items(html, "http://x.gov.cn/hdjl/c.html", TODAY) == []
    facts = page_facts(html, "http://x.gov.cn/hdjl/c.html", TODAY)
    assert column_from_facts(facts, "活动日历", False) is None  # a static page, not a blank column


def test_single_undated_row_is_not_dated_by_the_page_header() -> None:
    body = '<ul class="list"><li><a href="n1.html">关于做好冬季森林防火工作的通知</a></li></ul>'
    items = extract_list_items(LAYOUT.format(name="通知公告", body=body), "http://x.gov.cn/tzgg/", TODAY)
    assert all(i.date is None for i in items)


def test_blank_and_static_pages() -> None:
    blank = page_facts(
        LAYOUT.format(name="规划计划", body='<p class="empty">暂无信息</p>'), "http://x.gov.cn/k/", TODAY
    )
    column = column_from_facts(blank, "规划计划", False)
    assert column is not None and column.type == "planning"
    links = '<p>旅游资讯：<a href="http://a.cn/1">示县文旅资讯网</a> <a href="http://b.cn/">示县文旅合作网</a></p>'
    static = LAYOUT.format(
        name="走进示县", body="<p>" + "示例县位于示市西北部，物产丰富。" * 5 + "</p>" + links
    )
    assert column_from_facts(page_facts(static, "http://x.gov.cn/zjsx/", TODAY), "走进示县", True) is None
