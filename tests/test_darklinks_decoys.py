"""False positives are bugs: ordinary government-site patterns must stay silent.

Each decoy also has a sanity check where it matters: with a site-specific vocabulary word taken from
the hidden links, they *are* reported — so the silence comes from the decision rule, not from a
concealment the engine failed to see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.darklinks.engine import DarkLinkOptions, analyze_page

FIXTURES = Path(__file__).parent / "fixtures" / "darklinks"
PAGE_URL = "http://www.shixian.gov.cn/index.html"
OPTIONS = DarkLinkOptions(site_domains=("shixian.gov.cn",))

DECOYS = sorted(p.stem for p in FIXTURES.glob("decoy_*.html"))


def html_of(name: str) -> str:
    return (FIXTURES / f"{name}.html").read_text(encoding="utf-8")


def test_all_required_decoys_exist() -> None:
    assert set(DECOYS) >= {
        "decoy_dropdown_menu",
        "decoy_sr_only",
        "decoy_accessibility_toolbar",
        "decoy_lottery_news",
        "decoy_friend_links",
        "decoy_carousel",
        "decoy_noscript",
        "decoy_analytics",
        "decoy_meta_refresh_same_site",
    }


@pytest.mark.parametrize("name", DECOYS)
def test_decoy_stays_silent(name: str) -> None:
    assert analyze_page(html_of(name), PAGE_URL, OPTIONS) == []


@pytest.mark.parametrize(
    ("name", "word", "expected_targets"),
    [
        (
            "decoy_dropdown_menu",
            "县级要闻",
            ["http://www.shixian.gov.cn/xwzx/xjyw/"],
        ),
        ("decoy_sr_only", "跳到主要内容", []),  # a "#fragment" link is not a link to anywhere
        ("decoy_sr_only", "网站地图", ["http://www.shixian.gov.cn/sitemap/"]),
        (
            "decoy_accessibility_toolbar",
            "无障碍使用帮助",
            ["https://wza.jiangsu.gov.cn/wza/help.html"],
        ),
        ("decoy_carousel", "乡村振兴专题", ["http://www.shixian.gov.cn/ztzl/xczx/"]),
        ("decoy_friend_links", "鹿泉区", ["http://www.luquan.gov.cn/"]),
        # the carousel's second slide is hidden by the class rule, not only the inline ones
        ("decoy_carousel", "秋收进行时", ["http://www.shixian.gov.cn/xwzx/2025/1030.html"]),
    ],
)
def test_decoy_concealment_is_seen_but_judged_benign(
    name: str, word: str, expected_targets: list[str]
) -> None:
    options = DarkLinkOptions(site_domains=("shixian.gov.cn",), extra_vocabulary=(word,))
    hits = analyze_page(html_of(name), PAGE_URL, options)
    assert [h.target for h in hits] == expected_targets


def test_visible_links_are_never_reported_even_with_spam_words() -> None:
    """The 体彩 news links are visible: a vocabulary hit alone is not a dark link."""
    options = DarkLinkOptions(site_domains=("shixian.gov.cn",), extra_vocabulary=("中国体育彩票",))
    assert analyze_page(html_of("decoy_lottery_news"), PAGE_URL, options) == []


def test_noscript_link_counts_only_with_spam_evidence() -> None:
    html = html_of("decoy_noscript").replace('alt="站长统计"></a>', 'alt="百家乐"></a>', 1)
    (hit,) = analyze_page(html, PAGE_URL, OPTIONS)
    assert hit.techniques == ("inside <noscript>",)
