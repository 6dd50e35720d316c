"""Visible-text extraction: what a visitor reads, with offsets; hidden and non-text parts left out."""

from __future__ import annotations

import pytest

from monitor.web.html import parse_html
from monitor.web.page import Page
from monitor.web.visible_text import extract_visible_text


def visible(html: str) -> str:
    return extract_visible_text(parse_html(html)).text


def test_title_body_and_alt_text_with_regions() -> None:
    html = (
        "<html><head><title>关于 印发 通知</title><meta name=x content=元数据></head>"
        '<body><p>第一段</p><img src="a.jpg" alt="图片 说明"><p>第二段</p></body></html>'
    )
    vt = extract_visible_text(parse_html(html))
    assert vt.text == "关于 印发 通知\n第一段\n图片 说明\n第二段\n"
    assert [vt.where(vt.text.index(s)) for s in ("印发", "第一段", "说明", "第二段")] == [
        "title",
        "body",
        "alt",
        "body",
    ]
    assert "元数据" not in vt.text


@pytest.mark.parametrize(
    "hidden",
    [
        '<p style="display:none">隐藏</p>',
        '<p style="color:red; DISPLAY : NONE">隐藏</p>',
        '<div style="visibility: hidden"><span>隐藏</span></div>',
        "<p hidden>隐藏</p>",
        "<script>var s = '隐藏';</script>",
        "<style>.a:after{content:'隐藏'}</style>",
        "<noscript>隐藏</noscript>",
        "<template><p>隐藏</p></template>",
        "<!-- 隐藏 -->",
    ],
)
def test_hidden_parts_are_left_out_but_their_neighbours_stay(hidden: str) -> None:
    text = visible(f"<html><body><div>前文{hidden}后文</div></body></html>")
    assert "隐藏" not in text
    assert "前文" in text and "后文" in text


def test_inline_markup_joins_and_blocks_separate() -> None:
    # Inline tags do not break words (a typo split by <b> is still one word); blocks do.
    assert "中华人民共和国" in visible("<body><p>中华人民<b>共和</b><a href=#>国</a></p></body>")
    text = visible(
        "<body><ul><li>博</li><li>彩</li></ul><table><tr><td>台</td><td>独</td></tr></table></body>"
    )
    assert "博彩" not in text and "台独" not in text
    assert visible("<body><p>第一行<br>第二行</p></body>") == "第一行\n第二行\n"


def test_whitespace_collapses_like_a_browser() -> None:
    assert visible("<body><p>\n   县政府   召开\n\t 常务会议  </p>\n\n<p> 下一段</p></body>") == (
        "县政府 召开 常务会议\n下一段\n"
    )


def test_offsets_point_into_the_text() -> None:
    vt = extract_visible_text(parse_html("<title>标题</title><body><p>甲<i>乙</i>丙</p><p>丁</p></body>"))
    i = vt.text.index("乙丙")
    assert vt.text[i : i + 2] == "乙丙"
    assert vt.where(0) == "title" and vt.where(i) == "body"


def test_junk_and_empty_documents() -> None:
    assert visible("") == ""
    assert visible("<html><body></body></html>") == ""
    assert visible("just text 文字") == "just text 文字\n"
    deep = "<div>" * 200 + "深层" + "</div>" * 200
    assert "深层" in visible(f"<body>{deep}</body>")


def test_page_computes_text_once_and_release_drops_it() -> None:
    page = Page("http://x/", "http://x/", 200, 0, "<body><p>正文</p></body>", "utf-8")
    assert page.text is page.text
    assert page.memo("k", lambda: [1]) is page.memo("k", lambda: [2])
    page.release()
    assert page.memo("k", lambda: [2]) == [2]
