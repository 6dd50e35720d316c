"""Unit tests of the script decoders and the CSS subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.darklinks.css import length_px, parse_color, parse_selector, parse_stylesheet
from checks.darklinks.js import (
    Payload,
    b64_decode,
    expand_script,
    find_redirects,
    js_unescape,
    percent_unescape,
    unpack_packer,
)

FIXTURES = Path(__file__).parent / "fixtures" / "darklinks"


def test_js_unescape() -> None:
    assert js_unescape(r"\x3ca href=\x22x\x22\x3e") == '<a href="x">'
    assert js_unescape(r"\u003c\u6fb3\u95e8\u{1F600}") == "<澳门\U0001f600"
    assert js_unescape(r"\74a\76 it\'s \\ ok") == "<a> it's \\ ok"


def test_percent_unescape() -> None:
    assert percent_unescape("%3Ca%20href%3D%22x%22%3E%u6FB3%u95E8") == '<a href="x">澳门'
    assert percent_unescape("%E6%BE%B3%E9%97%A8") == "澳门"  # decodeURIComponent style
    assert percent_unescape("%E6%BE") == "\xe6\xbe"  # invalid UTF-8: Latin-1, like unescape()


def test_b64_decode() -> None:
    assert b64_decode("PGEgaHJlZj0ieCI+") == '<a href="x">'
    assert b64_decode("not base64!") is None


def test_unpack_packer_fixture() -> None:
    html = (FIXTURES / "tech_js_packer.html").read_text(encoding="utf-8")
    code = html.split("<script>", 1)[1].split("</script>", 1)[0]
    unpacked = unpack_packer(code)
    assert unpacked is not None
    assert (
        'document.write(\'<a href="http://www.bjl9999.com/" style="display:none">百家乐官网</a>\');'
        in unpacked
    )


def test_expand_script_layers_nest() -> None:
    inner = "document.write(unescape('%3Ca href%3D%22http://www.x.com/%22%3Ey%3C/a%3E'))"
    import base64

    outer = f"eval(atob('{base64.b64encode(inner.encode()).decode()}'))"
    payloads = expand_script(outer)
    layers = {p.layers for p in payloads}
    assert ("atob", "unescape") in layers
    assert any(p.text == '<a href="http://www.x.com/">y</a>' for p in payloads)


def test_expand_script_joins_literals_and_from_char_code() -> None:
    payloads = expand_script(
        "document.write('<a hr' + 'ef=\"http://a.com\">' + String.fromCharCode(0x62,99) + '</a>')"
    )
    texts = [p.text for p in payloads]
    assert "bc" in texts
    assert any('<a href="http://a.com">' in t for t in texts)


def test_expand_script_is_bounded() -> None:
    bomb = "unescape('" + "%25" * 10 + "')" * 1
    assert len(expand_script(bomb * 500)) <= 200


@pytest.mark.parametrize(
    ("code", "keyed", "target"),
    [
        (
            "if(document.referrer.indexOf('baidu')>-1){top.location.href='http://a.com/'}",
            "referrer",
            "http://a.com/",
        ),
        (
            "var u='http://b.com/';if(/spider|bot/i.test(navigator.userAgent)){location.replace(u)}",
            "useragent",
            "http://b.com/",
        ),
        ("location.href='/index.html'", None, "/index.html"),
        ("if(location.href=='x'){}", None, None),
    ],
)
def test_find_redirects(code: str, keyed: str | None, target: str | None) -> None:
    found = find_redirects(Payload(code, ()))
    if target is None:
        assert found == []
    else:
        assert (found[0].target, found[0].keyed_on) == (target, keyed)


def test_selector_parsing_and_specificity() -> None:
    sel = parse_selector("#ft .yq > ul li.x[data-a='1']")
    assert sel is not None
    assert sel.specificity == (1, 3, 2)
    assert sel.combinators == (" ", ">", " ")
    for unsupported in ("a:hover", "li:nth-child(2)", "p::before", ":not(.x)"):
        assert parse_selector(unsupported) is None
    assert parse_selector("a:link") is not None


def test_stylesheet_parsing_keeps_only_relevant_rules() -> None:
    css = """
    /* comment { display:none } */
    @import url(x.css);
    body { margin:0 }
    .a, .b > i { display : none !important }
    @media screen { .c { visibility:hidden } }
    @media print { .d { display:none } }
    @font-face { font-family: x; src: url(a;b.woff) }
    .e { background:url(data:image/png;base64,AAAA) #fff; color:#fff }
    """
    rules = parse_stylesheet(css)
    assert [r.selector.text for r in rules] == [".a", ".b > i", ".c", ".e"]
    assert rules[0].declarations == (("display", "none", True),)
    assert dict((p, v) for p, v, _ in rules[3].declarations)["background"].endswith("#fff")


def test_values() -> None:
    assert length_px("-9999px") == -9999
    assert length_px("-60em") == -960
    assert length_px("0") == 0
    assert length_px("50%") is None
    assert length_px("1", unitless_px=True) == 1
    assert parse_color("#FFF") == (255, 255, 255, 1.0)
    assert parse_color("rgba(0, 0, 0, 0)") == (0, 0, 0, 0.0)
    assert parse_color("url(x.png) no-repeat white") == (255, 255, 255, 1.0)
    assert parse_color("transparent")[3] == 0.0


@pytest.mark.parametrize(
    ("value", "rgba"),
    [
        ("rgb(100%, 100%, 100%)", (255, 255, 255, 1.0)),
        ("hsl(0, 0%, 100%)", (255, 255, 255, 1.0)),
        ("hsl(120deg 100% 25% / 50%)", (0, 128, 0, 0.5)),
        ("rgb(255 255 255 / 0)", (255, 255, 255, 0.0)),
        ("ghostwhite", (248, 248, 255, 1.0)),
        ("RebeccaPurple", (102, 51, 153, 1.0)),
        ("#ffffff80", (255, 255, 255, 128 / 255)),
        ("ffffff", (255, 255, 255, 1.0)),  # a legacy bgcolor attribute
        ("1px solid #f00", (255, 0, 0, 1.0)),
    ],
)
def test_every_css_colour_syntax(value: str, rgba: tuple[int, int, int, float]) -> None:
    got = parse_color(value)
    assert got is not None
    assert got[:3] == rgba[:3]
    assert abs(got[3] - rgba[3]) < 0.01


def test_unknown_colours_are_not_guessed() -> None:
    assert parse_color("currentcolor") is None
    assert parse_color("inherit") is None
    assert parse_color("var(--bg)") is None


def test_colour_words_inside_urls_are_not_colours() -> None:
    assert parse_color("url(../images/white.png) no-repeat") is None
