"""Dates on real CMS list, home and article pages (issue 17): years, clocks, toolbars, labels, metas.

List and homepage shapes come from ``tests/fixtures/cms/`` (Hanweb, TRS, 集约化平台, 中国政府网 style; see
the README there); article pages are the real saved pages of ``../shared/realworld``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from checks.columns.rules import ColumnObservation, evaluate_column
from checks.common.dates import (
    ListItem,
    article_dating,
    date_in_url,
    extract_list_items,
    extract_page_items,
    infer_column_type,
    latest_item,
    settle_years,
)
from monitor.web.decode import decode_body

CMS = Path(__file__).parent / "fixtures" / "cms"
REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"
A_YEAR_LATER = date(2025, 6, 10)  # the audit runs a year after the list's last item
SITE = "http://www.example-sx.gov.cn"


def _cms(name: str) -> str:
    return (CMS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.gov.cn/art/2024/6/1/art_1229_1.html", (2024, 6, 1)),
        ("http://a.gov.cn/xwzx/202406/t20240601_1102937.html", (2024, 6, 1)),
        ("http://a.gov.cn/zhengce/content/2024-06/01/content_6954968.htm", (2024, 6, 1)),
        ("http://a.gov.cn/2024/06/01/news.html", (2024, 6, 1)),
        ("http://a.gov.cn/xwzx/202406/abc.html", (2024, 6, None)),
        ("http://a.gov.cn/col/col1229102/index.html", None),
        ("http://a.gov.cn/art_1229_20240.html", None),
    ],
)
def test_dates_written_in_cms_links(url: str, expected: tuple[int, int, int | None] | None) -> None:
    assert date_in_url(url) == expected


def test_hanweb_datastore_list_takes_the_year_from_the_art_links() -> None:
    items = extract_list_items(_cms("hanweb_list.html"), f"{SITE}/col/col1229102/index.html", A_YEAR_LATER)
    # The records inside the jpage script are the list (not a blank column), the toolbar is not an item.
    assert next(i.title for i in items) == "县教育局召开2024年中考考务工作部署会"
    assert [i.date for i in items] == [date(2024, 6, 1), date(2024, 5, 28), date(2024, 5, 20)]
    verdict = evaluate_column(
        ColumnObservation("部门动态", f"{SITE}/col/col1229102/", "dynamic", items=items), A_YEAR_LATER
    )
    # A year-old column, not "9 days old".
    assert verdict.status == "stale" and verdict.days_since == 374


def test_trs_list_takes_the_year_from_t_yyyymmdd_links_and_ignores_the_pager() -> None:
    items = extract_list_items(_cms("trs_list.html"), f"{SITE}/xxgk/tzgg/", A_YEAR_LATER)
    assert [i.date for i in items] == [date(2024, 6, 3), date(2024, 5, 27), date(2023, 12, 29)]
    assert all("index_" not in i.url for i in items)


def test_govcn_style_list_with_full_dates() -> None:
    items = extract_list_items(_cms("govcn_list.html"), f"{SITE}/zhengce/zuixin/", A_YEAR_LATER)
    assert [i.date for i in items] == [date(2024, 6, 1), date(2024, 5, 30)]


def test_year_from_dated_neighbours_then_the_clock_and_never_in_the_future() -> None:
    html = """<html><body><ul class="list">
      <li><a href="/xwzx/a.html">县政府召开常务会议研究部署重点工作</a><span>06-02</span></li>
      <li><a href="/xwzx/b.html">县政府召开专题会议研究防汛工作</a><span>2024-05-30</span></li>
      <li><a href="/xwzx/c.html">县委召开理论学习中心组学习会议</a><span>05-20</span></li>
    </ul></body></html>"""
    items = extract_list_items(html, f"{SITE}/xwzx/", A_YEAR_LATER)
    assert [i.date for i in items] == [date(2024, 6, 2), date(2024, 5, 30), date(2024, 5, 20)]
    # Nothing dated on the page: the clock (the most recent 06-02 not after today).
    alone = html.replace("2024-05-30", "05-30")
    assert next(i.date for i in extract_list_items(alone, f"{SITE}/xwzx/", A_YEAR_LATER)) == date(2025, 6, 2)
    # A link dated after today cannot put a year-less date in the future.
    future = ListItem("标题", f"{SITE}/art/2025/6/20/art_1_1.html", date(2025, 6, 20), yearless=True)
    assert settle_years([future], A_YEAR_LATER)[0].date == date(2024, 6, 20)


def test_relative_words_count_only_as_the_items_own_date() -> None:
    today = date(2026, 11, 26)
    html = """<html><body><ul class="list">
      <li><a href="/a.html">县长到乡镇调研秋冬种工作</a><p>今天上午，县长一行深入田间察看。</p></li>
      <li><a href="/b.html">全县安全生产工作会议召开</a><span>3天前</span></li>
    </ul></body></html>"""
    items = extract_list_items(html, f"{SITE}/xwzx/", today)
    assert [i.date for i in items] == [None, date(2026, 11, 23)]


def test_homepage_header_clock_and_accessibility_toolbar_are_never_items() -> None:
    items = extract_page_items(_cms("jyh_homepage.html"), f"{SITE}/", A_YEAR_LATER)
    assert items and all(i.date is not None and i.date.year == 2024 for i in items)
    assert not any(t in i.title for i in items for t in ("无障碍", "长者", "关怀版", "登录"))
    newest = latest_item(items, A_YEAR_LATER)
    assert newest is not None and newest.date == date(2024, 6, 3)
    # A toolbar row whose only date is the header clock.
    clock = (
        '<html><body><div class="tbar">今天是2025年6月10日 星期二 <a href="/wza/">无障碍</a>'
        ' <a href="/laonian/">长者模式</a></div></body></html>'
    )
    assert extract_page_items(clock, f"{SITE}/", A_YEAR_LATER) == []


def test_a_page_wrapping_div_is_not_a_dated_row() -> None:
    prose = "为深入贯彻落实县委县政府决策部署，进一步做好各项工作，" * 12
    html = f"""<html><body><div class="wrap">
      <div class="pic"><a href="/ztzl/2025/">专题专栏：学习贯彻会议精神</a></div>
      <div class="txt"><p>{prose}</p><p>发布时间：2025-06-09</p></div>
    </div></body></html>"""
    assert extract_page_items(html, f"{SITE}/", A_YEAR_LATER) == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [("新闻发布会", "other"), ("新闻发布会实录", "other"), ("新闻动态", "dynamic"), ("政务新闻", "dynamic")],
)
def test_press_conference_column_is_not_a_14_day_news_column(name: str, kind: str) -> None:
    assert infer_column_type(name) == kind


# ------------------------------------------------------------------------- real article pages


def _realworld(site: str) -> str:
    assert REALWORLD.is_dir(), "../shared/realworld must be beside the repository (CI has it)"
    for record in json.loads((REALWORLD / "manifest.json").read_text(encoding="utf-8")):
        if record["site"] == site:
            raw = (REALWORLD / "sites" / record["served_path"].lstrip("/")).read_bytes()
            return decode_body(raw, None)[0]
    raise AssertionError(site)


@pytest.mark.parametrize(
    ("site", "visible", "meta"),
    [
        # 日期：2021/09/06 on the page, PubDate 2023-11-10 in the head (a re-published copy)
        ("www.neac.gov.cn", date(2021, 9, 6), date(2023, 11, 10)),
        # 发布日期：2023-07-19 19:21:00 vs PubDate 2024-04-15
        ("sctcm.sc.gov.cn", date(2023, 7, 19), date(2024, 4, 15)),
        # 发布时间：2009-09-30 10:53 vs PubDate 2023-05-12
        ("www.miit.gov.cn", date(2009, 9, 30), date(2023, 5, 12)),
    ],
)
def test_real_articles_visible_label_wins_over_pubdate_and_the_conflict_is_known(
    site: str, visible: date, meta: date
) -> None:
    dating = article_dating(_realworld(site), date(2026, 11, 26))
    assert (dating.visible, dating.meta, dating.date, dating.disagree) == (visible, meta, visible, True)


def test_real_article_with_a_xinhua_dateline_takes_the_info_line_not_the_dateline() -> None:
    # "新华社上海11月30日电" opens the prose; the info block says 来源：新华社 … 2023-12-01 14:43.
    dating = article_dating(_realworld("www.kepu.gov.cn"), date(2026, 11, 26))
    assert dating.visible == date(2023, 12, 1)


def test_real_article_prose_dates_and_labels_inside_prose_are_not_publication_dates() -> None:
    # A training notice: 报名时间：2024年3月7日… in the body; the page's own date is 2024-03-03.
    dating = article_dating(_realworld("www.wlmq.gov.cn"), date(2026, 11, 26))
    assert dating.date == date(2024, 3, 3) and not dating.disagree


def test_article_without_label_or_meta_is_undated_even_with_a_dateline() -> None:
    html = (
        "<html><body><div class='header'>今天是2026年11月26日</div><div class='TRS_Editor'>"
        "<p>新华社北京11月20日电 记者从有关部门获悉……</p><p>2026年11月18日，会议召开。</p>"
        "</div></body></html>"
    )
    assert article_dating(html, date(2026, 11, 26)).date is None


def test_no_real_article_page_is_taken_for_a_column_and_none_dates_today() -> None:
    """The 34 real article pages (Hanweb, TRS, 集约化平台…): a headline linking one is not a column —
    even when the page carries ColumnName (集约化 templates do) or a related-links list — and no
    toolbar, clock or header row on them is an item dated on the audit day."""
    from checks.columns.discovery import column_from_facts, page_facts

    assert REALWORLD.is_dir(), "../shared/realworld must be beside the repository (CI has it)"
    today = date(2026, 11, 26)
    for record in json.loads((REALWORLD / "manifest.json").read_text(encoding="utf-8")):
        raw = (REALWORLD / "sites" / record["served_path"].lstrip("/")).read_bytes()
        html, url = decode_body(raw, None)[0], record["original_url"]
        assert column_from_facts(page_facts(html, url, today), "工作动态", False) is None, url
        assert not [i for i in extract_page_items(html, url, today) if i.date == today], url
