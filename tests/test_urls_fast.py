"""The fast path of link resolution gives exactly what yarl's join + normalise gives."""

from __future__ import annotations

import ada_url
import pytest
from yarl import URL

from monitor.core.urls import InvalidURL, _fast_resolve, host_of, host_of_link, normalize, resolve, resolver

BASES = [
    "http://www.test.gov.cn/",
    "http://www.test.gov.cn/zwgk/index.html",
    "https://www.test.gov.cn:8443/a/b/c.html?x=1",
    "http://127.0.0.1:18080/content/5.html",
    "http://user:pw@www.test.gov.cn/a/",
    "http://WWW.Test.gov.cn/%E6%96%B0%E9%97%BB/",
]
HREFS = [
    "/",
    "/content/1.html",
    "/content/1.html#top",
    "/a/b/",
    "/a?x=1&y=2",
    "/a?",
    "/a?x=1#f",
    "/a//b",
    "/a/./b",
    "/a/../b",
    "/.hidden",
    "/a/..",
    "/X%41",
    "/a b",
    "/新闻/1.html",
    "/a?q=a+b",
    "/a?q=中",
    "/a;p=1",
    "/~user/",
    "//other.gov.cn/x",
    "http://other.gov.cn",
    "http://other.gov.cn/",
    "http://other.gov.cn/a/b.html?x=1#f",
    "http://other.gov.cn:80/a",
    "https://other.gov.cn:443/a",
    "http://other.gov.cn:8080/a",
    "http://other.gov.cn:99999/a",
    "http://other.gov.cn:0/a",
    "http://OTHER.gov.cn/a",
    "http://other.gov.cn./a",
    "http://127.1/a",
    "http://0x7f.0.0.1/a",
    "http://a-b.c/a/./b",
    "http://a..b/a",
    "https://-a.b/",
    "http://xn--fiqs8s.cn/",
    "http://other.gov.cn?x=1",
    "http://other.gov.cn#f",
    "x.html",
    "../x.html",
    "./202312/t20231201_1.html",
    "../../xxgk/index.html?id=3",
    "a/./b/../c.html",
    "../../../../../x.html",
    "..",
    ".",
    "./",
    "x.html?q=a b",
    "x%41.html",
    "子栏目/1.html",
    "a\\b.html",
    "http:x.html",
    "HTTP://Other.gov.cn/A/../b",
    "?page=2",
    "#top",
]


@pytest.mark.parametrize("base", BASES)
def test_fast_path_matches_yarl(base: str) -> None:
    b = URL(base)
    for href in HREFS:
        fast = _fast_resolve(b, href)
        if fast is None:
            continue
        try:
            slow = normalize(b.join(URL(href)))
        except (ValueError, InvalidURL):
            slow = None
        assert fast == slow, (base, href)
        assert resolve(b, href) == slow


def test_fast_path_is_taken_for_plain_cms_links() -> None:
    b = URL("http://www.test.gov.cn/zwgk/index.html")
    assert _fast_resolve(b, "/content/1.html") == "http://www.test.gov.cn/content/1.html"
    assert _fast_resolve(b, "http://other.gov.cn/a?x=1") == "http://other.gov.cn/a?x=1"
    assert _fast_resolve(b, "/a/../b") is None


def _browser_resolve(base: URL, href: str) -> str | None:
    # The reference: what the WHATWG URL parser makes of the href, printed by yarl.
    try:
        return normalize(URL(ada_url.join_url(str(base), href.strip())))
    except (ValueError, InvalidURL):
        return None


def _resolved(resolve_href: object, href: str) -> str | None:
    try:
        return resolve_href(href)  # type: ignore[operator]
    except InvalidURL:
        return None


def test_resolver_remembers_nothing_that_depends_on_the_page() -> None:
    # Pages of two sites and of two folders of one site, in turn, each resolving every href twice
    # (the second time from the per-origin cache where it applies): always what a browser resolves.
    hrefs = [*HREFS, " /content/1.html ", "HTTP://other.gov.cn/a", "http:x.html", "https:/a"]
    for _ in range(2):
        for base in BASES:
            b = URL(base)
            resolve_href = resolver(b)
            for href in hrefs:
                assert _resolved(resolve_href, href) == _browser_resolve(b, href), (base, href)


HOST_URLS = [
    *BASES,
    *(h for h in HREFS if h.startswith("http")),
    "http://[::1]:8080/a",
    "http://user@host.gov.cn/a",
    "https://a.b.gov.cn:8443?x=1",
    "http://a.gov.cn#frag",
    "http://a.gov.cn:/a",
    "ftp://a.gov.cn/a",
]


def _yarl_host(url: str) -> str | None:
    try:
        return URL(url).host or ""
    except ValueError:
        return None  # yarl rejects it (port 99999): never a normalised URL, so never given to host_of


@pytest.mark.parametrize("url", [u for u in HOST_URLS if _yarl_host(u) is not None])
def test_host_of_matches_yarl(url: str) -> None:
    assert host_of(url) == _yarl_host(url)


def test_host_of_link_is_the_one_host_parser_for_links_as_written() -> None:
    # IDNA hosts decode as everywhere else in the product (the dark-links check used IDNA 2003 before).
    assert host_of_link("http://xn--fiqs8s.xn--fiqs8s/a") == host_of("http://xn--fiqs8s.xn--fiqs8s/a")
    assert host_of_link(" HTTP://User@WWW.Example.GOV.cn.:8080/x ") == "www.example.gov.cn"
    assert host_of_link("http://[::1]:8000/") == "::1"
    for not_a_link in ("", "   ", "关于我们.html", "javascript:void(0)", "mailto:a@b.cn", "//"):
        assert host_of_link(not_a_link) == ""
