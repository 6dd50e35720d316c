"""Charset decoding and URL normalisation: pure functions, table-driven."""

from __future__ import annotations

import codecs

import pytest
from yarl import URL

from monitor.core.urls import InvalidURL, TrapDetector, looks_like_resource, normalize, resolve, scheme_of
from monitor.web.decode import canonical_encoding, decode_body, sniff_encoding

GBK_TEXT = "示例县人民政府：关于朱镕基同志、王堃、张喆的通知"


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (GBK_TEXT.encode("gb18030"), "text/html; charset=gbk", ("gb18030", "http")),
        (GBK_TEXT.encode("gb18030"), "text/html; charset=GB2312", ("gb18030", "http")),
        (b'<meta charset="gb2312">' + GBK_TEXT.encode("gb18030"), "text/html", ("gb18030", "meta")),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=GBK">' + GBK_TEXT.encode("gb18030"),
            None,
            ("gb18030", "meta"),
        ),
        (codecs.BOM_UTF8 + GBK_TEXT.encode("utf-8"), "text/html; charset=gbk", ("utf-8", "bom")),
        (GBK_TEXT.encode("utf-8"), "text/html", ("utf-8", "utf-8")),
        (GBK_TEXT.encode("gb18030"), None, ("gb18030", "fallback")),
        (GBK_TEXT.encode("utf-8"), "text/html; charset=bogus-codec", ("utf-8", "utf-8")),
    ],
)
def test_sniff_encoding(body: bytes, header: str | None, expected: tuple[str, str]) -> None:
    assert sniff_encoding(body, header) == expected


def test_gb2312_label_decodes_gbk_only_characters() -> None:
    text, codec = decode_body(b'<meta charset="gb2312">' + GBK_TEXT.encode("gb18030"))
    assert codec == "gb18030" and GBK_TEXT in text
    assert canonical_encoding("x-gbk") == "gb18030" and canonical_encoding("nope") is None


def test_bad_bytes_never_raise() -> None:
    text, _ = decode_body(b"<p>\xc3\x28\xa0\xa1\xfa</p>" * 10, "text/html; charset=utf-8")
    assert "\ufffd" in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://WWW.Shixian.GOV.CN:80/xwzx/../zwgk/", "http://www.shixian.gov.cn/zwgk/"),
        ("https://a.gov.cn:443", "https://a.gov.cn/"),
        (
            "http://a.gov.cn/通知 公告.pdf#page=2",
            "http://a.gov.cn/%E9%80%9A%E7%9F%A5%20%E5%85%AC%E5%91%8A.pdf",
        ),
        ("http://a.gov.cn/a/./b/../c.html?x=1", "http://a.gov.cn/a/c.html?x=1"),
        ("http://a.gov.cn:8080/", "http://a.gov.cn:8080/"),
        ("http://a.gov.cn?x=1", "http://a.gov.cn/?x=1"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw", ["http://www.a.cn:99999/bad", "http://[bad-host/", "ftp://a.cn/x", "http:///x"]
)
def test_invalid_urls(raw: str) -> None:
    with pytest.raises(InvalidURL):
        normalize(raw)


def test_resolve_and_schemes() -> None:
    base = URL("http://a.gov.cn/zwgk/tzgg/index.html")
    assert resolve(base, "../zcwj/1.html") == "http://a.gov.cn/zwgk/zcwj/1.html"
    assert resolve(base, "//b.gov.cn/x") == "http://b.gov.cn/x"
    assert [scheme_of(h) for h in ("mailto:x@a.cn", " JavaScript:void(0)", "/a", "tel:123")] == [
        "mailto",
        "javascript",
        "",
        "tel",
    ]
    assert looks_like_resource("http://a.cn/f/通知.DOCX") and not looks_like_resource("http://a.cn/a.html")


def test_trap_detector() -> None:
    traps = TrapDetector(max_url_length=60, max_query_variants=2, max_path_repeats=2)
    assert traps.reason("http://a.cn/" + "x" * 80) == "url_too_long"
    assert traps.reason("http://a.cn/a/b/a/b/a/") == "path_repeat"
    assert traps.reason("http://a.cn/l?s=1&s=1&s=1") == "query_growth"
    assert [traps.reason(f"http://a.cn/cal?m={i}") for i in range(3)] == [None, None, "query_variants"]
    assert traps.reason("http://a.cn/other?m=1") is None
