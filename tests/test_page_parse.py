"""Parsing a clean UTF-8 body as bytes gives the same tree as parsing the decoded text."""

from __future__ import annotations

import pytest
from lxml import etree

from monitor.page import parse_html, parse_utf8

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
