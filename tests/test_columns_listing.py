"""Tests for list-page extraction, article dates and column-type inference."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checks.common.dates import (
    ListItem,
    article_date,
    article_dating,
    extract_list_items,
    infer_column_type,
    latest_item,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = date(2026, 11, 26)


def _load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_ul_list_ignores_nav_sidebar_footer_and_header_clock() -> None:
    items = extract_list_items(_load("list_ul.html"), "http://www.example.gov.cn/zwgk/bmdt/index.html", TODAY)
    assert len(items) == 7
    first = items[0]
    assert first.pinned and first.date == date(2026, 1, 5)
    assert first.title == "关于开展2026年度政务公开工作考核的通知"
    assert first.url == "http://www.example.gov.cn/zwgk/bmdt/202601/t20260105_9.html"
    assert [i.pinned for i in items[1:]] == [False] * 6
    # Truncated link text: the full title comes from @title.
    assert items[2].title == "县住建局开展城镇燃气安全专项检查暨老旧小区改造工程质量巡查活动"
    # The date column wins over a date inside the title.
    assert items[4].title == "县卫健委开展11月3日义诊活动" and items[4].date == date(2026, 11, 2)
    # An item without a date keeps None.
    assert items[-1].date is None
    titles = {i.title for i in items}
    assert not titles & {"首页", "政务公开", "关于我们", "网站地图", "下一页", "尾页"}
    assert "县委常委会召开会议研究部署冬季安全生产" not in titles


def test_table_layout_with_base_href_bracket_dates_and_pin_image() -> None:
    items = extract_list_items(_load("list_table.html"), "http://ignored.example/", TODAY)
    assert [i.url.rsplit("/", 1)[1] for i in items] == [
        "content_3301.html",
        "content_3312.html",
        "content_3311.html",
        "content_3290.html",
    ]
    assert items[0].url == "http://www.example.gov.cn/tzgg/content_3301.html"
    assert items[0].pinned and not any(i.pinned for i in items[1:])
    assert [i.date for i in items] == [
        date(2026, 10, 8),
        date(2026, 11, 18),
        date(2026, 11, 9),
        date(2025, 12, 28),
    ]
    # "12-15万元" in a title is an amount, and titles are never a date source anyway.
    assert items[3].title == "关于举办“12-15万元”小额担保贷款政策宣讲会的公告"


def test_div_list_with_date_inside_link() -> None:
    items = extract_list_items(_load("list_div.html"), "http://www.example.gov.cn/xzdt/", TODAY)
    assert [i.title for i in items] == [
        "城关镇开展冬季消防安全大排查",
        "白营镇召开人居环境整治推进会",
        "古贤镇组织开展防范电信诈骗宣传",
        "韩庄镇推进高标准农田建设",
    ]
    assert [i.date for i in items] == [
        date(2026, 11, 25),
        date(2026, 11, 23),
        date(2026, 11, 19),
        date(2026, 11, 15),
    ]


def test_list_split_over_sibling_uls_and_relative_dates() -> None:
    items = extract_list_items(_load("list_split.html"), "http://www.example.gov.cn/", TODAY)
    assert [i.date for i in items] == [
        date(2026, 11, 23),
        date(2026, 11, 25),
        date(2026, 11, 26),
        date(2026, 11, 2),
        date(2026, 10, 28),
    ]
    assert items[0].url == "http://www.example.gov.cn/ywdt/1.shtml"


def test_undated_list_is_found_with_dates_none() -> None:
    items = extract_list_items(_load("list_undated.html"), "http://www.example.gov.cn/zwgk/", TODAY)
    assert len(items) == 3
    assert all(i.date is None for i in items)


def test_empty_column_yields_no_items() -> None:
    assert extract_list_items(_load("list_empty.html"), "http://www.example.gov.cn/", TODAY) == []


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "<?xml version='1.0' encoding='gbk'?><p>x</p>"])
def test_degenerate_input(html: str) -> None:
    assert extract_list_items(html, "http://x/", TODAY) == []


def test_nested_item_tables() -> None:
    rows = "".join(
        f'<table width="100%"><tr><td class="bt">·<a href="show.asp?id={n}">'
        f"乡镇工作进展第{n}期简报内容</a></td>"
        f'<td class="sj">2026-11-{n:02d}</td></tr></table>'
        for n in (20, 18, 11)
    )
    html = (
        '<html><body><table><tr><td class="dh"><a href="/">首页</a></td></tr></table>'
        f"<div>{rows}</div></body></html>"
    )
    items = extract_list_items(html, "http://www.example.gov.cn/list/", TODAY)
    assert [i.date for i in items] == [date(2026, 11, 20), date(2026, 11, 18), date(2026, 11, 11)]
    assert items[0].url == "http://www.example.gov.cn/list/show.asp?id=20"


def test_selectors_css_and_xpath() -> None:
    html = _load("list_ul.html")
    url = "http://www.example.gov.cn/zwgk/bmdt/index.html"
    css = extract_list_items(html, url, TODAY, item_selector="ul.hot-list > li")
    assert [i.title for i in css] == [
        "县委常委会召开会议研究部署冬季安全生产",
        "全县秋冬季农业生产现场推进会召开",
    ]
    assert all(i.date is None for i in css)
    xp = extract_list_items(
        html, url, TODAY, item_selector="//ul[@class='news-list']/li", date_selector="span.date"
    )
    assert len(xp) == 7 and xp[1].date == date(2026, 11, 24)


def test_latest_item_takes_maximum_not_first_row() -> None:
    items = [
        ListItem("置顶旧通知", "u0", date(2025, 1, 5), pinned=True),
        ListItem("b", "u1", date(2026, 11, 20)),
        ListItem("c", "u2", date(2026, 11, 24)),
        ListItem("future", "u3", date(2026, 12, 30)),
        ListItem("undated", "u4", None),
    ]
    best = latest_item(items, TODAY)
    assert best is not None and best.title == "c"
    assert latest_item([ListItem("x", "u", None)], TODAY) is None
    pinned_new = [ListItem("p", "u", date(2026, 11, 25), pinned=True), ListItem("q", "u", date(2026, 11, 1))]
    assert latest_item(pinned_new, TODAY).title == "p"  # type: ignore[union-attr]
    assert latest_item(pinned_new, TODAY, include_pinned=False).title == "q"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- articles


def test_article_meta_pubdate() -> None:
    assert article_date(_load("article.html"), TODAY) == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('<meta name="pubdate" content="2026-11-20">', date(2026, 11, 20)),
        ('<meta name="publishdate" content="2026年11月19日">', date(2026, 11, 19)),
        (
            '<meta property="og:article:published_time" content="2026-11-18T09:00:00+08:00">',
            date(2026, 11, 18),
        ),
        ('<meta name="PubDate" content="">', None),
    ],
)
def test_article_meta_variants(meta: str, expected: date | None) -> None:
    # Without a labelled visible date the meta tag dates the article; the prose date never does.
    html = (
        f"<html><head>{meta}</head><body><div class='info'>来源：县政府办</div>"
        "<div class='content'><p>2026年11月1日，会议召开。</p></div></body></html>"
    )
    assert article_date(html, TODAY) == expected
    # A labelled visible date wins over the meta tag, and the disagreement is known.
    shown = html.replace("来源：县政府办", "发布时间：2026-11-10 来源：县政府办")
    dating = article_dating(shown, TODAY)
    assert dating.date == date(2026, 11, 10)
    assert dating.disagree == (expected is not None)


def test_article_label_prefers_publish_date_over_written_date() -> None:
    html = """<html><body>
    <div class="header">今天是2026年11月26日</div>
    <table class="xxgk"><tr><td>索引号：11410523MB1234567X/2026-00123</td><td>成文日期：2026-10-30</td></tr>
    <tr><td>发文字号：示政〔2026〕12号</td><td>发布日期：2026-11-05</td></tr></table>
    <div class="zw"><p>各乡镇人民政府……</p><p>2026年10月30日</p></div>
    </body></html>"""
    assert article_date(html, TODAY) == date(2026, 11, 5)


def test_article_generic_label_and_body_fallback() -> None:
    labelled = (
        "<html><body><div class='art'><h1>标题</h1><p>日期：2026-11-07</p>"
        "<p>正文2026-11-01</p></div></body></html>"
    )
    assert article_date(labelled, TODAY) == date(2026, 11, 7)
    body_only = (
        "<html><body><div class='top-bar'>2026年11月26日 星期四</div><div id='zoom'>"
        "<p>昨天，县长到乡镇调研。</p><p>示例县人民政府</p><p>二〇二六年十一月二日</p></div></body></html>"
    )
    # The 落款 date under a document and the prose are not publication dates.
    assert article_date(body_only, TODAY) is None
    assert article_date("<html><body><p>没有日期</p></body></html>", TODAY) is None


# ---------------------------------------------------------------------------------------------- column types

COLUMN_TYPES = [
    ("要闻", "dynamic"),
    ("本地要闻", "dynamic"),
    ("工作动态", "dynamic"),
    ("乡镇动态", "dynamic"),
    ("部门动态", "dynamic"),
    ("工作进展", "dynamic"),
    ("图片新闻", "dynamic"),
    ("通知公告", "notice"),
    ("公示公告", "notice"),
    ("公告", "notice"),
    ("公示", "notice"),
    ("政策文件", "policy"),
    ("规范性文件", "policy"),
    ("政策", "policy"),
    ("政策解读", "policy"),
    ("人事", "personnel"),
    ("人事信息", "personnel"),
    ("人事任免公示", "personnel"),
    ("规划", "planning"),
    ("计划", "planning"),
    ("规划计划", "planning"),
    ("发展规划", "planning"),
    ("互动交流", "interaction"),
    ("留言板", "interaction"),
    ("政策咨询", "interaction"),
    ("县长信箱", "interaction"),
    ("专题专栏", "topic"),
    ("扫黑除恶专题", "topic"),
    ("机构职能", "other"),
    ("计划生育", "other"),
    ("", "other"),
]


@pytest.mark.parametrize(("name", "expected"), COLUMN_TYPES)
def test_infer_column_type(name: str, expected: str) -> None:
    assert infer_column_type(name) == expected


def test_dates_glued_to_link_text_and_prose_dates_in_titles() -> None:
    html = """<html><body><ul class="list">
    <li><a href="1.html">县政府召开常务会议 2026-11-20</a></li>
    <li><a href="2.html">[11-18] 县人大开展视察</a></li>
    <li><a href="3.html">11月3日县领导调研秋粮收购</a><span>2026-11-04</span></li>
    <li><a href="4.html">关于调整办公时间至11月3日的通知</a></li>
    </ul></body></html>"""
    items = extract_list_items(html, "http://x/", TODAY)
    assert [(i.title, i.date) for i in items] == [
        ("县政府召开常务会议", date(2026, 11, 20)),
        ("县人大开展视察", date(2026, 11, 18)),
        ("11月3日县领导调研秋粮收购", date(2026, 11, 4)),
        ("关于调整办公时间至11月3日的通知", None),
    ]
