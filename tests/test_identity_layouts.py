"""Site identity on the layouts real portals use: footers written by the site's own scripts, frames and
loaded fragments; article pages configured as the homepage; and the saved real pages, which are clean.

The shapes follow the CMS families of ``../shared/realworld`` (Hanweb 大汉's ``document.writeln`` footer
script after ``<!--页脚开始-->``, Shanghai's ``footer.js``, NFCMS's ``foot_2020.js`` with concatenated
strings, 中国政府网's header include that closes ``</html>`` early); names and numbers are fictional
(示例县). Each decoy has a planted twin that must still be reported.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from checks.identity.check import inspect_identity, page_role
from checks.identity.includes import include_candidates, written_markup
from monitor.core.clock import FixedClock
from monitor.core.figures import IdentityFigures
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.html import parse_html
from tests.realworld import REALWORLD, findings_by_page, run_on_realworld
from tests.sites import LocalSites, fast_config

HOST = "www.test.gov.cn"
HOME = f"http://{HOST}/"

CODE, ICP, POLICE = "网站标识码：4199000001", "豫ICP备12345678号", "豫公网安备 41052302000123号"
DZJG = '<a href="http://bszs.conac.cn/sitename?method=show&id=1"><img src="/images/red.png"></a>'
ZHAOCUO = '<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=4199000001">找错</a>'


def _page(head: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例县人民政府</title>'
        f'<meta name="SiteIDCode" content="4199000001">{head}</head><body>'
        f'<div class="nav"><a href="/col/col1/index.html">政务公开</a></div>{body}</body></html>'
    )


def _writeln_script(*parts: str) -> str:
    """A Hanweb-style footer script: one document.writeln per line, quotes escaped."""
    html = f'<div class="footer"><p>主办：示例县人民政府办公室</p><p>{" ".join(parts)}</p></div>'
    lines = [html[i : i + 40] for i in range(0, len(html), 40)]
    return "\n".join('document.writeln("' + line.replace('"', '\\"') + '");' for line in lines)


HANWEB_HOME = _page(
    '<script src="/script/jquery.js"></script>',
    '<!--页脚开始--> <script src="/script/0/1708171610341487.js"></script> <!--页脚结束-->',
)


def _config(sites: LocalSites, homepage: str = HOME) -> object:
    return fast_config(sites, [HOST], homepage)


def test_written_markup_takes_what_scripts_write_and_nothing_else() -> None:
    js = (
        'var icp = "豫ICP备99999999号"; console.log("网站标识码：4199000009");\n'
        "document.write(\n  '<p>' +\n  '豫ICP备12345678号' +\n  '</p>'\n);\n"
        'el.innerHTML = "<span id=\\"c\\">网站标识码：" +\n  "4199000001</span>";\n'
        'document.write(unescape("%3Cspan%3E%E8%B1%AB%E5%85%AC%E7%BD%91%E5%AE%89%E5%A4%87'
        '%2041052302000123%E5%8F%B7%3C%2Fspan%3E"));\n'
        "$('#f').html('<img src=\"/i/dzjg.png\">');"
    )
    markup = written_markup(js)
    assert "豫ICP备12345678号" in markup and '<span id="c">网站标识码：4199000001</span>' in markup
    assert "豫公网安备 41052302000123号" in markup and '<img src="/i/dzjg.png">' in markup
    assert "99999999" not in markup and "4199000009" not in markup  # kept in variables, never shown


def test_include_candidates_are_same_site_footer_scripts_and_frames_not_libraries() -> None:
    html = _page(
        "",
        '<script src="/js/jquery-1.12.min.js"></script><script src="/js/swiper.js"></script>'
        '<script src="http://cdn.example.com/foot.js"></script>'
        '<iframe src="/module/visit.jsp" style="display:none"></iframe>'
        '<iframe src="/include/foot.html" width="100%" height="120"></iframe>'
        "<script>$('#bottom').load('/inc/footer.shtml');</script>"
        '<script src="/js/main.js"></script><!-- 底部 --><script src="/js/a81c.js"></script>',
    )
    got = include_candidates(parse_html(html), HOME + "col/index.html")
    assert got == [
        f"{HOME}include/foot.html",
        f"{HOME}inc/footer.shtml",
        f"{HOME}js/a81c.js",
        f"{HOME}js/main.js",
    ]


@pytest.mark.parametrize(
    ("snippet", "item"),
    [
        ("<p>蜀ICP备：19007388号</p>", "icp"),
        ("<p>浙ICP备05000083</p>", "icp"),
        ("<p>黔ICP备10001234号-2</p>", "icp"),
        ("<p>京公网安备11011502002502</p>", "police"),
        ("<p>川公网安备 51010402000507 号</p>", "police"),
        ('<div class="dzjg j-gov" data-setting="{sitecode:\'541442B4\'}"></div>', "dzjg"),
        (
            '<script id="_jiucuo_" sitecode="4199000001" src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js">'
            "</script>",
            "zhaocuo",
        ),
        ('<span id="_span_jiucuo"><img src="/i/jc.png"></span>', "zhaocuo"),
        ("<script id=\"_jiucuo_\" sitecode='4199000001' src='static/js/jiucuo.js'></script>", "zhaocuo"),
        (ZHAOCUO, "zhaocuo"),
        (
            '<span id="jc"><a href="http://pucha.kaipuyun.cn/exposure/jiucuo.html?site_code=4199000001">'
            '<img src="http://pucha.kaipuyun.cn/exposure/images/jiucuo.png"></a></span>',
            "zhaocuo",
        ),
        ("<p>赣公网安备36092502000005<br>赣ICP备14008674号</p>", "police"),
    ],
)
def test_more_real_forms_of_each_mark(snippet: str, item: str) -> None:
    report = inspect_identity(f"<html><body>{snippet}</body></html>", HOME, (".gov.cn",))
    assert report.found[item] is not None


@pytest.mark.parametrize(
    ("snippet", "item"),
    [
        ("<p>浙ICP备05000（5位）</p><p>ICP备案号查询</p>", "icp"),
        ("<p>京公网安备1101150200250（13位）</p>", "police"),
        ('<li class="dzjg"></li><div id="conac-tip">党政机关网站标识说明</div>', "dzjg"),
        (
            '<a href="https://zfwzgl.example.com/jiucuo">纠错</a><script src="/js/jiucuo.js"></script>',
            "zhaocuo",
        ),
    ],
)
def test_near_misses_stay_missing(snippet: str, item: str) -> None:
    report = inspect_identity(f"<html><body>{snippet}</body></html>", HOME, (".gov.cn",))
    assert item in report.missing


def test_a_document_closed_early_by_an_include_is_read_to_its_end() -> None:
    """中国政府网 pages include a whole header document (its own </html>); browsers read on."""
    html = (
        "<html><head><title>x</title></head><body><div>header</div></body></html>\n<!--end header-->"
        f'<div class="footer"><p>{CODE} {ICP} {POLICE}</p>{DZJG}{ZHAOCUO}</div></body></html>'
    )
    assert inspect_identity(html, HOME, (".gov.cn",)).missing == ["meta"]


def test_page_role() -> None:
    today = datetime(2026, 12, 4).date()
    article = _page('<meta name="PubDate" content="2026-11-20 10:00">', "<h1>关于…的通知</h1>")
    assert page_role(article, HOME + "art/2026/11/20/art_1_2.html", today) == "article"
    assert page_role(article, HOME + "zwgk/tzgg/202611/t20261120_88.html", today) == "article"
    assert page_role(
        _page("", "<p>发布时间：2026-11-20</p><p>来源：县政府办</p>"), HOME + "x/1.html", today
    ) == ("article")
    # The site root is the homepage, whatever it shows; a department's own homepage under a path too.
    assert page_role(article, HOME, today) == "homepage"
    assert page_role(article, HOME + "index.shtml", today) == "homepage"
    assert page_role(_page("", "<ul><li>县长信箱</li></ul>"), HOME + "bm/jyj/", today) == "homepage"
    # Column pages are not the homepage either.
    assert page_role(_page("", "<ul><li>通知</li></ul>"), HOME + "col/col1234/index.html", today) == "column"
    listing = _page('<meta name="ColumnName" content="通知公告">', "<ul><li>通知</li></ul>")
    assert page_role(listing, HOME + "zwgk/tzgg/", today) == "column"
    portal = _page('<meta name="ColumnName" content="首页">', "<ul><li>通知</li></ul>")
    assert page_role(portal, HOME + "site/portal/", today) == "homepage"


async def test_a_footer_written_by_the_sites_script_counts(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(HOST, "/", HANWEB_HOME)
    sites.route(HOST, "/script/0/1708171610341487.js", _js(_writeln_script(CODE, ICP, POLICE, DZJG, ZHAOCUO)))
    (result,) = await run_duty("identity", _config(sites), store, clock)
    assert result.findings == [] and result.status == "ok"
    figures = result.report.group(IdentityFigures)
    assert figures is not None and figures.includes == 1 and figures.page == "homepage"
    assert sites.count(HOST, "/script/jquery.js") == 0  # libraries are never read


async def test_a_mark_missing_from_the_script_footer_is_still_reported(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(HOST, "/", HANWEB_HOME)
    # The police number kept in a variable is not shown to anyone: planted missing.
    js = f'var beian = "{POLICE}";\n' + _writeln_script(CODE, ICP, DZJG, ZHAOCUO)
    sites.route(HOST, "/script/0/1708171610341487.js", _js(js))
    (result,) = await run_duty("identity", _config(sites), store, clock)
    assert [f.kind for f in result.findings] == ["site_identity_police"]
    assert result.findings[0].url == HOME


async def test_a_footer_frame_and_a_loaded_footer_count(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html(
        HOST,
        "/",
        _page(
            "",
            '<iframe src="/include/foot.html" width="100%" height="150" frameborder="0"></iframe>'
            "<div id=\"bottom\"></div><script>$(function(){$('#bottom').load('/inc/dibu.shtml');});</script>",
        ),
    )
    sites.html(HOST, "/include/foot.html", f"<html><body><p>{CODE} {ICP}</p>{DZJG}</body></html>")
    sites.html(HOST, "/inc/dibu.shtml", f"<p>{POLICE}</p>{ZHAOCUO}")
    (result,) = await run_duty("identity", _config(sites), store, clock)
    assert result.findings == []


async def test_an_article_page_configured_as_homepage_is_judged_by_the_sites_root(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    article_url = f"{HOME}zwgk/tzgg/202611/t20261120_88.html"
    # The article template carries no 找错 entry and no SiteIDCode: not asked of an article.
    sites.html(HOST, "/zwgk/tzgg/202611/t20261120_88.html", _page("", f"<h1>通知</h1><p>{CODE} {ICP}</p>"))
    # The root, the real homepage, lacks its ICP filing: planted.
    sites.html(HOST, "/", _page("", f"<p>{CODE} {POLICE}</p>{DZJG}{ZHAOCUO}"))
    (result,) = await run_duty("identity", _config(sites, article_url), store, clock)
    assert [(f.kind, f.url) for f in result.findings] == [("site_identity_icp", HOME)]
    figures = result.report.group(IdentityFigures)
    assert figures is not None and figures.judged == HOME


async def test_an_article_page_without_a_readable_root_judges_nothing(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    article_url = f"{HOME}art/2026/11/20/art_1_2.html"
    sites.html(
        HOST,
        "/art/2026/11/20/art_1_2.html",
        _page('<meta name="PubDate" content="2026-11-20">', "<p>正文</p>"),
    )
    sites.status(HOST, "/", 404)
    (result,) = await run_duty("identity", _config(sites, article_url), store, clock)
    assert result.findings == [] and result.status == "ok" and result.report.complete is False
    figures = result.report.group(IdentityFigures)
    assert figures is not None and (figures.page, figures.judged) == ("article", None)


async def test_the_saved_real_pages_raise_no_identity_finding(tmp_path: Path) -> None:
    assert (REALWORLD / "manifest.json").is_file(), (
        f"{REALWORLD} missing: the repo runs with ../shared beside it"
    )
    store = Store(tmp_path / "rw.db")
    pages, results = await run_on_realworld("identity", store, FixedClock(datetime(2026, 12, 4, 2, 0)))
    assert len(pages) >= 34 and [r.site.id for r in results if r.status != "ok"] == []
    assert [f"{site}: {f['message']}" for site, f in findings_by_page(store, "identity")] == []


def _js(text: str) -> object:
    from aiohttp import web

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/javascript")

    return handler
