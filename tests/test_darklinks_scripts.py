"""Scripts read as code: which location changes are keyed redirects (issue 15).

A redirect counts only when a spider user-agent test or a search-engine referrer test guards it in the
same function or statement, and its target is a literal or a decoded literal. The decoys are what real
portals ship: 无障碍 toolbars, mobile-site switches, bundled libraries, words like ``bottom``.
"""

from __future__ import annotations

import base64

import pytest

from checks.darklinks.engine import DarkLinkOptions, analyze_page
from checks.darklinks.js import Payload, expand_script, find_redirects, is_library_bundle

URL = "http://www.shixian.gov.cn/xwzx/index.html"
OPTS = DarkLinkOptions(site_domains=("shixian.gov.cn",))


def redirects(code: str) -> list[tuple[str, str | None]]:
    out = []
    for payload in expand_script(code):
        out.extend((r.target, r.keyed_on) for r in find_redirects(payload))
    return out


def hits(code: str) -> list[tuple[str, str | None, tuple[str, ...]]]:
    html = f"<html><head><title>石县</title></head><body><p>正文</p><script>{code}</script></body></html>"
    return [(h.kind, h.target, h.evidence) for h in analyze_page(html, URL, OPTS) if h.kind != "candidate"]


B64 = base64.b64encode(b"http://www.neutral-target.com/go").decode()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the guard and the change in one statement, a referrer test for search engines
        (
            "var s=document.referrer;if(s.indexOf('baidu')>0||s.indexOf('sogou')>0){location.href="
            "'http://www.neutral-target.com/'}",
            [("http://www.neutral-target.com/", "referrer")],
        ),
        # the target still encoded where it is assigned, the guard through a variable
        (
            f"var u=atob('{B64}');var ua=navigator.userAgent.toLowerCase();"
            "if(/baiduspider|googlebot/.test(ua)){window.location.href=u;}",
            [("http://www.neutral-target.com/go", "useragent")],
        ),
        # an early return in the same function guards what follows
        (
            "function go(){if(!/spider/i.test(navigator.userAgent))return;"
            "location.replace(String.fromCharCode(104,116,116,112,58,47,47,120,46,99,110,47));}go();",
            [("http://x.cn/", "useragent")],
        ),
        # a logical && in one expression statement
        (
            "/bot|spider/i.test(navigator.userAgent)&&(top.location='http://www.neutral-target.com/')",
            [("http://www.neutral-target.com/", "useragent")],
        ),
        # a timer callback inside the guarded statement
        (
            "if(/baidu|sogou/.test(document.referrer)){setTimeout(function(){location.href="
            "'http://www.neutral-target.com/t'},300)}",
            [("http://www.neutral-target.com/t", "referrer")],
        ),
        # concatenated literals and unescape
        (
            "if(document.referrer.match(/so\\.com|sm\\.cn/)){location.href=unescape('http%3A//a-b.com/')"
            "+'x.html'}",
            [("http://a-b.com/x.html", "referrer")],
        ),
    ],
)
def test_keyed_redirects_are_found(code: str, expected: list[tuple[str, str | None]]) -> None:
    assert redirects(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        # 无障碍 toolbar: user-agent sniffing and a location change with a computed target
        "var isIE=navigator.userAgent.indexOf('MSIE')>-1;function jump(url){if(isIE){location.href=url}}",
        # "bottom" is not "bot"; the UA test is about the toolbar position
        "if(navigator.userAgent.indexOf('bottom')>-1){location.href='http://www.example.com/'}",
        # a robotics page, not a robot
        "if(/robotics/.test(navigator.userAgent)){location.href='http://www.example.com/'}",
        # the test in one function, the change in another: not guarded
        "function isBot(){return /baiduspider/i.test(navigator.userAgent)}"
        "function home(){location.href='http://www.example.com/'}",
        # "combing" is not Bing, "also.com" is not so.com
        "if(document.referrer.indexOf('combing')>-1||document.referrer.indexOf('also.com')>-1)"
        "{location.href='http://www.example.com/'}",
        # a named function declared inside the guard is not called by it
        "if(/baidu/.test(document.referrer)){function later(){}}function go(){location.href='http://www.e.com/'}",
        # a comparison is not a change
        "if(location.href=='http://www.example.com/'){}",
    ],
)
def test_unkeyed_or_computed_changes_are_not_keyed(code: str) -> None:
    assert all(keyed is None for _, keyed in redirects(code))


def test_mobile_site_switch_stays_silent() -> None:
    code = (
        "if(/iphone|android|mobile/i.test(navigator.userAgent)){window.location.href="
        "'http://m.shixian.gov.cn/'}else if(/ipad/i.test(navigator.userAgent)){location.href='http://www.example.com/'}"
    )
    assert redirects(code) == [("http://m.shixian.gov.cn/", None), ("http://www.example.com/", None)]
    assert hits(code) == []


def test_keyed_redirect_to_an_outside_site_is_a_dark_link_with_its_evidence() -> None:
    code = "if(/Baiduspider/.test(navigator.userAgent)){location.href='http://www.neutral-target.com/'}"
    assert hits(code) == [("js_redirect", "http://www.neutral-target.com/", ("spider_only",))]


def test_keyed_redirect_to_the_own_site_is_not() -> None:
    code = "if(/Baiduspider/.test(navigator.userAgent)){location.href='http://www.shixian.gov.cn/m/'}"
    assert hits(code) == []


def test_packed_keyed_redirect_is_unpacked_and_found() -> None:
    inner = "if(/spider/i.test(navigator.userAgent)){location.href='http://www.xpj8888.com/'}"
    escaped = "".join(f"\\x{ord(c):02x}" for c in inner)
    code = f"eval('{escaped}')"
    (hit,) = hits(code)
    assert hit[:2] == ("js_redirect", "http://www.xpj8888.com/")
    assert set(hit[2]) == {"spam_domain", "spider_only"}


def test_library_bundles_are_not_searched() -> None:
    keyed = "if(/spider/i.test(navigator.userAgent)){location.href='http://www.neutral-target.com/'}"
    bundle = "!function(e){var __webpack_require__=function(){};" + "x=1;" * 10_000 + keyed + "}()"
    assert is_library_bundle(bundle)
    assert find_redirects(Payload(bundle, ())) == []
    # the same lines in a small script are read
    assert not is_library_bundle(keyed)
    assert find_redirects(Payload(keyed, ()))


def test_broken_script_does_not_raise() -> None:
    code = "if(/spider/.test(navigator.userAgent)){location.href='http://www.neutral-target.com/' ;;; }}}((("
    assert redirects(code) == [("http://www.neutral-target.com/", "useragent")]
