"""A realistic CMS-like county portal with one planted gambling link yields exactly one hit."""

from __future__ import annotations

from pathlib import Path

from checks.darklinks.engine import DarkLinkOptions, analyze_page, linked_scripts, linked_stylesheets

FIXTURES = Path(__file__).parent / "fixtures" / "darklinks"
PAGE_URL = "http://www.shixian.gov.cn/"
OPTIONS = DarkLinkOptions(site_domains=("shixian.gov.cn",))
HTML = (FIXTURES / "portal_homepage.html").read_text(encoding="utf-8")
CSS = (FIXTURES / "css" / "portal.css").read_text(encoding="utf-8")


def test_linked_resources_for_the_caller() -> None:
    # print.css is media="print": not needed, so not listed
    assert linked_stylesheets(HTML, PAGE_URL) == ["http://www.shixian.gov.cn/css/portal.css"]
    assert linked_scripts(HTML, PAGE_URL) == [
        "http://www.shixian.gov.cn/js/jquery.min.js",
        "https://zfwzgl.www.gov.cn/exposure/jiucuo.js",
    ]


def test_exactly_one_planted_link_with_stylesheet() -> None:
    hits = analyze_page(HTML, PAGE_URL, OPTIONS, {"http://www.shixian.gov.cn/css/portal.css": CSS})
    assert len(hits) == 1
    (hit,) = hits
    assert hit.kind == "hidden_link"
    assert hit.target == "http://www.hg3088-yl.com/"
    assert hit.text == "皇冠体育"
    assert hit.techniques == ("css:position:absolute;left:-999px;top:-999px (inline style)",)
    assert "suspicious domain www.hg3088-yl.com" in hit.reasons
    assert hit.message.startswith(
        "页面存在隐藏链接（定位移出屏幕（left:-999px;top:-999px）），指向可疑外部站点"
    )


def test_exactly_one_planted_link_without_stylesheet() -> None:
    hits = analyze_page(HTML, PAGE_URL, OPTIONS)
    assert [h.target for h in hits] == ["http://www.hg3088-yl.com/"]


def test_white_footer_link_on_dark_css_background_is_not_camouflage() -> None:
    """The footer's 技术支持 link is white on #1d3f72 from portal.css: visible, so silent."""
    planted = '<div style="position:absolute;top:-999px;left:-999px;"><a href="http://www.hg3088-yl.com/"'
    clean = HTML.replace(planted, '<div><a href="http://www.hg3088-yl.com/"')
    assert analyze_page(clean, PAGE_URL, OPTIONS, {"http://www.shixian.gov.cn/css/portal.css": CSS}) == []
