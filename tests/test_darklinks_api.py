"""The rest of the public API, the decision rule's edges, and robustness."""

from __future__ import annotations

import pytest

from checks.darklinks.engine import (
    DarkLinkOptions,
    analyze_page,
    compare_versions,
    defacement_signals,
    head_signature,
    linked_scripts,
    linked_stylesheets,
    spam_terms_in,
    suspicious_domain,
)

URL = "http://www.shixian.gov.cn/xwzx/index.html"
OPTS = DarkLinkOptions(site_domains=("shixian.gov.cn",))


def page(body: str, head: str = "", title: str = "石县人民政府") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><p>正文</p>{body}</body></html>"


def targets(html: str, options: DarkLinkOptions = OPTS) -> list[tuple[str, str | None]]:
    """The dark links of a page (candidates — outside targets without spam evidence — left out)."""
    return [(h.kind, h.target) for h in analyze_page(html, URL, options) if h.kind != "candidate"]


def candidates(html: str, options: DarkLinkOptions = OPTS) -> list[tuple[str, str | None]]:
    """(the kind it would be, target) of each candidate: reported only if the target serves spam."""
    return [(h.candidate_of, h.target) for h in analyze_page(html, URL, options) if h.kind == "candidate"]


# ---------------------------------------------------------------- vocabulary and domains


def test_spam_terms_in_masks_benign_phrases_and_normalises() -> None:
    assert spam_terms_in("我县新增体育彩票投注站3家，老年人棋牌室改造完成", OPTS) == []
    assert spam_terms_in("成人教育 体彩 福彩 打击赌博", OPTS) == []
    assert spam_terms_in("澳门 新 葡京、百家乐，网上投注", OPTS) == ["新葡京", "百家乐", "投注"]
    assert spam_terms_in("ＢＥＴ３６５ 澳\u200b门\u200b银\u200b河", OPTS) == ["bet365", "澳门银河"]
    assert spam_terms_in("百家樂 時時彩", OPTS) == ["百家樂", "時時彩"]


def test_extra_vocabulary() -> None:
    options = DarkLinkOptions(site_domains=("shixian.gov.cn",), extra_vocabulary=("某某私服",))
    assert spam_terms_in("传奇某某私服开服", options) == ["某某私服"]
    assert spam_terms_in("传奇某某私服开服", OPTS) == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.xpj888.com", True),
        ("amjs6688.net", True),
        ("www.hg0088.com", True),
        ("365bet.com", True),
        ("www.abc.vip", True),
        ("www.bet365.com", True),
        ("www.gov.cn", False),
        ("www.xinhuanet.com", False),
        ("www.163.com", False),
        ("wza.jiangsu.gov.cn", False),
        ("www.people.com.cn", False),
    ],
)
def test_suspicious_domain(host: str, expected: bool) -> None:
    assert suspicious_domain(host) is expected


# ---------------------------------------------------------------- decision rule edges


def test_hidden_gov_link_is_benign_unless_spam_words() -> None:
    hidden_gov = '<div style="display:none"><a href="http://www.hebei.gov.cn/">河北省人民政府</a></div>'
    assert targets(page(hidden_gov)) == []
    spam_gov = '<div style="display:none"><a href="http://www.hebei.gov.cn/x.html">百家乐官网</a></div>'
    assert targets(page(spam_gov)) == [("hidden_link", "http://www.hebei.gov.cn/x.html")]


def test_hidden_internal_link_with_spam_words_is_reported() -> None:
    """A parasite page uploaded to the site itself (寄生虫页面) is linked with an internal URL."""
    html = page('<div style="display:none"><a href="/upload/2023/a.html">澳门新葡京官网</a></div>')
    (hit,) = analyze_page(html, URL, OPTS)
    assert hit.reasons == ("spam vocabulary: 新葡京",)
    assert "本站地址 /upload/2023/a.html" in hit.message


def test_spam_words_in_percent_encoded_path() -> None:
    html = page('<div hidden><a href="/%E7%99%BE%E5%AE%B6%E4%B9%90/1.html">点击进入</a></div>')
    assert targets(html) == [("hidden_link", "http://www.shixian.gov.cn/%E7%99%BE%E5%AE%B6%E4%B9%90/1.html")]


def test_allow_domains_silence_external_but_not_spam() -> None:
    opts = DarkLinkOptions(site_domains=("shixian.gov.cn",), allow_domains=("vendor.com.cn",))
    assert targets(page('<div hidden><a href="http://www.vendor.com.cn/">技术支持</a></div>'), opts) == []
    assert targets(page('<div hidden><a href="http://www.vendor.com.cn/">bet365</a></div>'), opts) == [
        ("hidden_link", "http://www.vendor.com.cn/")
    ]


def test_weak_contexts_need_spam_evidence() -> None:
    # commented-out external link, no script uncomments it: silent …
    assert targets(page('<!-- <a href="http://www.example.com/">旧链接</a> -->')) == []
    # … unless it carries spam words or a suspicious domain
    assert targets(page('<!-- <a href="http://www.example.com/">真人娱乐</a> -->')) == [
        ("hidden_link", "http://www.example.com/")
    ]
    # plain (unobfuscated) document.write of an external link: silent; with spam words: reported
    assert (
        targets(page("<script>document.write('<a href=\"http://www.example.com/\">合作伙伴</a>');</script>"))
        == []
    )
    assert targets(
        page("<script>document.write('<a href=\"http://www.example.com/\">老虎机</a>');</script>")
    ) == [("script_link", "http://www.example.com/")]
    # unconditional script redirect to another site (moved site): silent; to a spam domain: reported
    assert targets(page("<script>location.href='https://www.newsite.com/';</script>")) == []
    assert targets(page("<script>window.location.href='https://www.xpj777.com/';</script>")) == [
        ("js_redirect", "https://www.xpj777.com/")
    ]


def test_obfuscated_unconditional_redirect_needs_spam_evidence() -> None:
    """An obfuscated redirect to a spam domain is found through the decoding; to a clean site it is not
    evidence of anything (moved sites and mobile switches redirect too)."""

    def encoded(url: str) -> str:
        body = "".join(f"%{b:02X}" for b in f"location.href='{url}'".encode())
        return f"<script>eval(unescape('{body}'))</script>"

    assert targets(page(encoded("http://www.xpj8888.com/"))) == [("js_redirect", "http://www.xpj8888.com/")]
    assert targets(page(encoded("http://www.example.org/"))) == []
    # … its target page's content decides (the check reads it with the outbound scan)
    assert candidates(page(encoded("http://www.example.org/"))) == [("js_redirect", "http://www.example.org/")]


def test_script_sets_spam_title() -> None:
    (hit,) = analyze_page(page("<script>document.title='澳门新葡京-百家乐';</script>"), URL, OPTS)
    assert hit.kind == "head_hijack"
    assert "被脚本改写" in hit.message


def test_hidden_iframe_internal_is_silent_and_visible_spam_iframe_reported() -> None:
    assert targets(page('<iframe src="/tongji.html" width="0" height="0"></iframe>')) == []
    assert targets(page('<iframe src="http://www.amjs888.com/" width="600" height="400"></iframe>')) == [
        ("iframe", "http://www.amjs888.com/")
    ]


def test_head_hijack_single_term_also_in_body_is_news() -> None:
    news = page("<p>警方破获百家乐网络赌博案</p>", title="警方破获“百家乐”网络赌博案")
    assert targets(news) == []
    injected = page("<p>正常内容</p>", title="百家乐-石县人民政府")
    assert targets(injected) == [("head_hijack", None)]


# ---------------------------------------------------------------- CSS cascade


def test_more_specific_rule_shows_again() -> None:
    css = "<style>.links{display:none} #yq.links{display:block}</style>"
    html = page('<div id="yq" class="links"><a href="http://www.example.com/">合作</a></div>', head=css)
    assert targets(html) == []


def test_important_beats_inline_style() -> None:
    css = "<style>.x{display:none !important}</style>"
    html = page(
        '<div class="x" style="display:block"><a href="http://www.example.com/">合作</a></div>', head=css
    )
    # Hidden and external, without spam evidence: a candidate, not a dark link (issue 15's rule).
    assert targets(html) == []
    assert candidates(html) == [("hidden_link", "http://www.example.com/")]


def test_visibility_can_be_undone_by_a_descendant_but_display_cannot() -> None:
    vis = '<div style="visibility:hidden"><p style="visibility:visible"><a href="http://www.example.com/">合作</a></p></div>'
    assert candidates(page(vis)) == []  # visible again: not even a candidate
    disp = '<div style="display:none"><p style="display:block"><a href="http://www.example.com/">合作</a></p></div>'
    assert candidates(page(disp)) == [("hidden_link", "http://www.example.com/")]


def test_font_size_zero_layout_trick_is_undone_by_children() -> None:
    html = page(
        '<ul style="font-size:0"><li style="font-size:14px"><a href="http://www.example.com/">合作</a></li></ul>'
    )
    assert targets(html) == []


def test_hover_and_print_rules_do_not_apply_at_rest() -> None:
    head = (
        "<style>a:hover{display:none} @media print{.f{display:none}}"
        " @media (max-width:600px){.f{display:none}}</style>"
    )
    assert targets(page('<div class="f"><a href="http://www.example.com/">合作</a></div>', head=head)) == []


# ---------------------------------------------------------------- linked resources


def test_linked_stylesheets_and_scripts_resolve_against_base() -> None:
    html = (
        '<html><head><base href="http://www.shixian.gov.cn/v2/">'
        '<link href="css/a.css" rel="stylesheet"><link rel="alternate stylesheet" href="b.css">'
        '<link rel="stylesheet" href="p.css" media="print"><style>@import url("c.css");</style>'
        '<script src="js/x.js"></script></head><body></body></html>'
    )
    assert linked_stylesheets(html, URL) == [
        "http://www.shixian.gov.cn/v2/css/a.css",
        "http://www.shixian.gov.cn/v2/c.css",
    ]
    assert linked_scripts(html, URL) == ["http://www.shixian.gov.cn/v2/js/x.js"]


def test_supplied_same_site_script_is_decoded() -> None:
    html = page('<div id="f"><script src="/js/common.js"></script></div>')
    script = "document.write(unescape('%3Ca href%3D%22http://www.amyh8.com/%22%3E%u6FB3%u95E8%u94F6%u6CB3%3C/a%3E'));"
    assert targets(html) == []
    hits = analyze_page(html, URL, OPTS, scripts={"http://www.shixian.gov.cn/js/common.js": script})
    assert [(h.kind, h.target) for h in hits] == [("script_link", "http://www.amyh8.com/")]
    assert "http://www.shixian.gov.cn/js/common.js" in hits[0].techniques[0]


# ---------------------------------------------------------------- cloaking


def test_compare_versions_finds_spider_only_links_and_words() -> None:
    browser = page('<ul><li><a href="/xwzx/1.html">新闻一</a></li></ul>')
    spider = page(
        '<ul><li><a href="/xwzx/2.html">新闻二</a></li></ul>'
        '<p>澳门新葡京官方网站</p><a href="http://www.xpj888.com/">澳门新葡京</a>'
        '<a href="http://www.gov.cn/">中国政府网</a>'
    )
    hits = compare_versions(browser, spider, URL, OPTS)
    assert [(h.kind, h.target) for h in hits] == [("cloaking", "http://www.xpj888.com/"), ("cloaking", None)]
    assert "搜索引擎爬虫访问时" in hits[0].message
    assert hits[1].reasons == ("spam vocabulary: 新葡京",)


def test_compare_versions_identical_pages_are_silent() -> None:
    html = page('<a href="http://www.xinhuanet.com/">新华网</a>')
    assert compare_versions(html, html, URL, OPTS) == []


# ---------------------------------------------------------------- defacement


def test_head_signature_and_defacement_signals() -> None:
    before = head_signature(page('<a href="http://www.gov.cn/">中国政府网</a>'), URL, OPTS)
    assert before["title"] == "石县人民政府"
    assert before["external_domains"] == ["www.gov.cn"]
    assert before["head_hijacked"] is False
    assert defacement_signals(None, before, OPTS) == []

    after_html = page(
        '<a href="http://www.gov.cn/">中国政府网</a><a href="http://www.xpj888.com/">娱乐</a>'
        '<a href="http://www.example.com/">合作</a><a href="http://www.hebei.gov.cn/">河北</a>',
        head='<meta name="keywords" content="澳门新葡京,百家乐">',
        title="澳门新葡京_石县人民政府",
    )
    after = head_signature(after_html, URL, OPTS)
    assert after["head_hijacked"] is True
    messages = defacement_signals(before, after, OPTS)
    assert (
        messages[0] == "页面标题/关键词/描述新出现违规词“新葡京、百家乐”"
        "（标题由“石县人民政府”变为“澳门新葡京_石县人民政府”），疑似被篡改"
    )
    assert (
        messages[1] == "页面新增2个外部链接域名：www.example.com、www.xpj888.com（上次检测时不存在），"
        "其中可疑域名：www.xpj888.com"
    )
    assert defacement_signals(None, after, OPTS)[0].startswith("页面标题/关键词/描述含违规词“新葡京、百家乐”")
    assert defacement_signals(after, after, OPTS) == []


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<",
        "<?xml version='1.0' encoding='utf-8'?><html><body></body></html>",
        "\x00\x01",
        "<a href='http://[::1'>x</a>",
    ],
)
def test_malformed_input_never_raises(html: str) -> None:
    assert analyze_page(html, URL, OPTS) == []
    assert compare_versions(html, html, URL, OPTS) == []
    assert isinstance(head_signature(html, URL, OPTS), dict)


def test_visible_seo_comment_block_counts_only_with_spam_evidence() -> None:
    plain = page('<!--seo--><div><a href="http://www.example.com/">合作伙伴</a></div><!--/seo-->')
    assert targets(plain) == []
    spam = page('<!--seo--><div><a href="http://www.example.com/">百家乐</a></div><!--/seo-->')
    (hit,) = analyze_page(spam, URL, OPTS)
    assert hit.techniques == ("comment-wrapped SEO block (<!--seo-->)",)


def test_camouflage_in_any_colour_syntax() -> None:
    """Text colour equal to the background, written in two different CSS syntaxes (tinycss2 reads both)."""
    html = page(
        '<div style="background:hsl(0 0% 100%)"><a style="color:rgb(100%,100%,100%)" '
        'href="http://www.xpj888.com/">澳门新葡京</a></div>'
    )
    (hit,) = analyze_page(html, URL, OPTS)
    assert hit.kind == "hidden_link"
    assert "文字颜色与背景色同为#ffffff" in hit.message
    # a readable colour pair is not camouflage
    readable = html.replace("rgb(100%,100%,100%)", "hsl(0 0% 20%)")
    assert analyze_page(readable, URL, OPTS) == []


def test_a_crackdown_story_naming_two_games_is_not_a_head_hijack() -> None:
    title = "警方破获利用“百家乐”“时时彩”实施网络赌博案"
    body = "<p>近日，县公安局破获一起利用百家乐、时时彩等形式组织网络赌博的案件，依法查处涉赌人员12名。</p>"
    assert targets(page(body, title=title)) == []
    # the same head over a body that does not discuss them is a hijack
    (hit,) = analyze_page(page("<p>县政府召开常务会议。</p>", title=title), URL, OPTS)
    assert hit.kind == "head_hijack"


def test_another_port_of_the_sites_host_is_another_site() -> None:
    """Origin, not host (issue 16): a site on h:8001 owns h:8001 only; h:8002 is outbound."""
    options = DarkLinkOptions(site_domains=("127.0.0.1",), site_ports=("127.0.0.1:8001",))
    url = "http://127.0.0.1:8001/xwzx/index.html"
    hidden = '<div style="display:none"><a href="{}">合作</a></div>'
    own = f"<html><body><p>正文</p>{hidden.format('http://127.0.0.1:8001/a.html')}</body></html>"
    other = f"<html><body><p>正文</p>{hidden.format('http://127.0.0.1:8002/a.html')}</body></html>"
    assert analyze_page(own, url, options) == []
    (hit,) = analyze_page(other, url, options)
    assert (hit.kind, hit.target) == ("candidate", "http://127.0.0.1:8002/a.html")
    # a keyed redirect to the other port is cloaking, to the site's own port it is not
    keyed = "<script>if(/spider/i.test(navigator.userAgent)){{location.href='{}'}}</script>"
    page_own = f"<html><body>{keyed.format('http://127.0.0.1:8001/m/')}</body></html>"
    page_other = f"<html><body>{keyed.format('http://127.0.0.1:8002/m/')}</body></html>"
    assert analyze_page(page_own, url, options) == []
    assert [h.kind for h in analyze_page(page_other, url, options)] == ["js_redirect"]
