"""Parsing a clean UTF-8 body as bytes gives the same tree as parsing the decoded text."""

from __future__ import annotations

import pytest
from lxml import etree

from monitor.web.html import parse_html, parse_utf8
from monitor.web.page import Page
from monitor.web.visible_text import extract_visible_text

DOCS = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>首页</title></head>'
    "<body><p>你好</p></body></html>",
    # A meta tag that lies: the server said UTF-8 and the bytes are UTF-8.
    '<html><head><meta charset="gbk"><title>部门动态</title></head><body><a href="/a">链接</a></body></html>',
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
    "<body>政务</body></html>",
    '<?xml version="1.0" encoding="gb2312"?><html><body><p>声明</p></body></html>',
    "<p>no html element, 只有片段 <b>bold</b>",
    "<html><body><script>var a = '<a href=\"/x\">';</script><!-- 注释 -->"
    "<img alt=图片 src=/i.gif></body></html>",
    "",
    "   ",
    "<html><body>&nbsp;&copy;&#x4e2d; 𠀀 emoji 😀</body></html>",
]


@pytest.mark.parametrize("doc", DOCS)
def test_bytes_and_text_parse_alike(doc: str) -> None:
    from_text = parse_html(doc)
    from_bytes = parse_utf8(doc.encode("utf-8"))
    assert etree.tostring(from_bytes, encoding="unicode") == etree.tostring(from_text, encoding="unicode")
    assert type(from_bytes) is type(from_text)


# The visible text and the title come from the page's plain parse (shared with the dark-link engine in
# an analysis worker); they must be what the crawl's lxml.html tree gives.
VISIBLE_DOCS = [
    *DOCS,
    "<html><head><title> 关于 <b>印发</b>\n通知 </title></head><body><p>正文</p></body></html>",
    "<html><body><p>前<?php echo $title; ?>后</p><div>甲<?xml-stylesheet x?>乙</div></body></html>",
    '<html><body><div hidden>隐藏</div><p style="display:none">也隐藏</p><ul><li>一</li><li>二</li></ul>'
    '<input type="image" alt="搜索"><area alt="地图"><noscript>请启用脚本</noscript></body></html>',
    "\ufeff<html><body>带BOM的页面</body></html>",
    "<html><body><table><tr><td>单元格</td><td>二</td></tr></table><br>换行<br/>后</body></html>",
]


@pytest.mark.parametrize("doc", VISIBLE_DOCS)
def test_visible_text_and_title_from_the_plain_parse_match_the_crawl_tree(doc: str) -> None:
    url = "http://www.test.gov.cn/"
    for utf8 in (None, doc.encode("utf-8")):
        crawl = Page(url, url, 200, 0, doc, "utf-8", utf8_body=utf8)
        expected_text = extract_visible_text(crawl.tree)
        title = next(crawl.tree.iter("title"), None)
        expected_title = " ".join(title.text_content().split()) if title is not None else ""
        worker = Page(url, url, 200, 0, doc, "utf-8", utf8_body=utf8)
        assert worker.text == expected_text
        assert worker.title == expected_title
        assert worker._tree is None  # neither needed the lxml.html parse
