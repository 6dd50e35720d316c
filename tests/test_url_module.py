"""One URL module: ``monitor.core.urls`` is the only importer of ``urllib.parse``, and its link helpers
keep the two ways checks read an href apart (a link to a page, or an href as written)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from monitor.bulletin.render import href as clickable
from monitor.core.urls import join_url, path_of, resolve_link, scheme_of, split_url

ROOT = Path(__file__).resolve().parents[1]
URL_MODULE = ROOT / "monitor" / "core" / "urls.py"
BASE = "http://www.shixian.gov.cn/zwgk/tzgg/index.html"


def _urllib_imports(path: Path) -> list[int]:
    """Lines of ``path`` importing urllib.parse in any spelling."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name.startswith("urllib") for name in names):
            lines.append(node.lineno)
    return lines


def test_only_the_url_module_imports_urllib_parse() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in ("monitor", "checks")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != URL_MODULE
        for line in _urllib_imports(path)
    ]
    assert offenders == [], "use monitor.core.urls instead of urllib.parse: " + ", ".join(offenders)
    assert _urllib_imports(URL_MODULE)  # the scan does see an import where there is one


@pytest.mark.parametrize(
    "href",
    [
        "",
        "   ",
        "#top",
        "javascript:void(0)",
        " JavaScript:go()",
        "mailto:zwgk@shixian.gov.cn",
        "tel:0771-1234567",
        "data:text/html,x",
        "about:blank",
        "sms:10086",
        "ftp://ftp.shixian.gov.cn/a",
    ],
)
def test_a_link_to_no_page_resolves_to_none(href: str) -> None:
    assert resolve_link(BASE, href) is None
    assert resolve_link(BASE, None) is None


def test_a_link_to_a_page_resolves_as_written() -> None:
    assert resolve_link(BASE, "  /xxgk/a.html ") == "http://www.shixian.gov.cn/xxgk/a.html"
    assert resolve_link(BASE, "../zcwj/") == "http://www.shixian.gov.cn/zwgk/zcwj/"
    assert resolve_link(BASE, "//cdn.example.com/x.js") == "http://cdn.example.com/x.js"
    # Absolute hrefs come back as written: not normalised (the dark-link check quotes what the page says).
    assert resolve_link(BASE, "http://Spam.Example/页") == "http://Spam.Example/页"
    assert resolve_link(BASE, "/a/../b.html") == "http://www.shixian.gov.cn/b.html"
    assert resolve_link("http://[::1", "a.html") is None  # an unparsable base: no link, no exception


def test_an_href_as_written_keeps_what_a_link_to_a_page_drops() -> None:
    """List items and <base href> keep every href: an item linked to javascript: is still an item,
    and an empty href is the list page itself. The same hrefs give None as links to a page."""
    assert join_url(BASE, "javascript:void(0)") == "javascript:void(0)"
    assert join_url(BASE, "") == BASE
    assert join_url(BASE, "#p2") == BASE + "#p2"
    assert (
        join_url(BASE, "202611/t20261103_1.html")
        == "http://www.shixian.gov.cn/zwgk/tzgg/202611/t20261103_1.html"
    )
    assert [resolve_link(BASE, h) for h in ("javascript:void(0)", "", "#p2")] == [None, None, None]


def test_scheme_as_written_and_as_parsed() -> None:
    """The crawl reads the scheme as written; the bulletin decides what is clickable as a browser parses
    it, so a tab inside ``javascript`` cannot make a hostile link look relative and harmless."""
    assert scheme_of(" Mailto:x") == "mailto" and scheme_of("/a:b") == ""
    assert scheme_of("java\tscript:alert(1)") == ""
    assert scheme_of("java\tscript:alert(1)", as_parsed=True) == "javascript"
    assert scheme_of("ht\ttp://www.shixian.gov.cn/", as_parsed=True) == "http"
    assert scheme_of("http://[::1", as_parsed=True) == ""
    assert clickable("http://www.shixian.gov.cn/") == "http://www.shixian.gov.cn/"
    assert clickable("java\tscript:alert(1)") is None and clickable("http://[::1") is None


def test_parts_of_a_url_as_written() -> None:
    parts = split_url("HTTPS://WWW.Shixian.gov.cn:8443/Zwgk/%E9%80%9A/?a=1#x")
    assert (parts.scheme, parts.host, parts.port) == ("https", "www.shixian.gov.cn", 8443)
    assert (parts.path, parts.query) == ("/Zwgk/%E9%80%9A/", "a=1")
    assert split_url("http://xn--fiq228c.gov.cn/").host == "xn--fiq228c.gov.cn"  # IDNA stays encoded
    with pytest.raises(ValueError):
        split_url("http://www.shixian.gov.cn:99999/").port  # noqa: B018 - a bad port raises when read
    assert path_of("http://www.shixian.gov.cn") == "" and path_of("/a/b?c") == "/a/b"
