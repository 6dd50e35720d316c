"""Site identity (《政府网站发展指引》, 国办发〔2017〕47号): what every government homepage must carry.

Its own duty, not part of availability: availability runs every 15 minutes and must stay a light probe,
while the homepage footer changes rarely (daily is plenty); and a homepage that cannot be fetched must
leave identity findings as they are rather than resolve them.

Items (one finding per missing item, kind ``site_identity_<item>``):

- ``code``: the 网站标识码 in the page's visible text, after its label, in the official format — ten
  digits (``1304000009``) or ``bm`` + eight digits (``bm14000002``). A code inside a script, a comment or
  an attribute does not count: a visitor cannot see it. An unlabelled ten-digit number (a 文号, a phone
  number) does not count either.
- ``icp``: an ICP备案 number, ``<省>ICP备<digits>号`` (optionally ``-n``), in visible text. "ICP备案查询"
  without a number does not count.
- ``police``: a 公安机关备案 number, ``<省>公网安备 <14 digits>号``, in visible text.
- ``dzjg``: the 党政机关网站标识 — an image whose src/alt/title mentions dzjg, conac or 党政机关, a link to
  conac.cn, or the official ``conac.cn`` script that writes the logo.
- ``domain``: the homepage host ends with a government suffix (``.gov.cn`` by default).
- ``meta``: ``<meta name="SiteIDCode" content="…">`` with a code in the official format.
- ``zhaocuo``: a 「我为政府网站找错」 entry — a link to the national platform (zfwzzc.www.gov.cn,
  zfwzgl.www.gov.cn's or pucha.kaipuyun.cn's jiucuo page), its official script
  (``…/exposure/jiucuo.js``) or the ``_span_jiucuo`` box it fills, or a link (text, title or image
  alt) reading 我为政府网站找错. The words in plain text, not a link, are no entry.

Which page is judged. The rules put these marks on the **homepage** (its footer; 「找错」 on the
homepage): an article page need not carry them, and often does not (its template drops the 找错 entry,
the SiteIDCode meta…). So the configured address is judged as the homepage when it is the site's root
(``/``, ``/index.html``…) or looks like neither an article nor a column page; when it is an article page
(a publication date the page shows or a ``PubDate``-style meta, an article address such as
``/art/2024/…``, ``t20240101_1.html``, ``content_123.htm``) or a column page (``/col/col123/``,
``index_2.html``, a ``ColumnName`` meta other than 首页), the site's root is read instead, and if that
cannot be read the run records that no homepage was judged — no finding either way, nothing resolved.

Where the marks are. Portals write their footer with a script of their own, a frame or a loaded fragment
(:mod:`checks.identity.includes`): when the page's HTML lacks an item, up to six same-site includes are
read and what they write counts as the page's (a visitor sees it). Marks kept in script variables,
comments or hidden templates still do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import lxml.html
from yarl import URL

from checks.base import CheckOutcome, SiteCheck
from checks.common.dates import article_dating
from checks.identity.includes import include_candidates, written_markup
from monitor.core.figures import IdentityFigures
from monitor.core.findings import Finding, Severity
from monitor.core.report import CheckReport
from monitor.core.urls import host_of_link, origin_of, path_of
from monitor.web.decode import decode_body
from monitor.web.fetch import Fetcher
from monitor.web.html import parse_html

RULE = "《政府网站发展指引》（国办发〔2017〕47号）"
#: Province abbreviations as filings write them, the alternative ones too (蜀ICP备, 黔ICP备, 滇ICP备…).
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼港澳台蜀黔滇陇秦"
CODE_FORMAT = re.compile(r"^(?:\d{10}|[bB][mM]\d{8})$")
_CODE_IN_TEXT = re.compile(
    r"(?:网站)?标识码\s*[:：]?\s*(?<![0-9A-Za-z])(\d{10}|[bB][mM]\d{8})(?![0-9A-Za-z])"
)
# "号" is often left out (浙ICP备05000083), a colon sometimes added (蜀ICP备：19007388号).
_ICP = re.compile(
    rf"[{_PROVINCES}]\s*ICP\s*备\s*[:：]?\s*(?<!\d)(\d{{6,12}})(?!\d)(?:\s*号)?(?:\s*-\s*\d+)?", re.IGNORECASE
)
# "号" is often left out (京公网安备11011502002502); the 14 digits are what identifies the filing.
_POLICE = re.compile(rf"[{_PROVINCES}]\s*公网安备\s*(?:号\s*)?[:：]?\s*(?<!\d)(\d{{14}})(?!\d)(?:\s*号)?")
_DZJG_MARK = re.compile(r"dzjg|conac|党政机关", re.IGNORECASE)
_VISIBLE_TEXT = lxml.etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)"
    " and not(ancestor::template)]"
)

_DZJG_BOX = lxml.etree.XPath(
    "//body//*[contains(@class, 'dzjg') or contains(@id, 'dzjg') or contains(@class, 'conac')"
    " or contains(@id, 'conac')]"
)

ITEMS: dict[str, str] = {
    "code": "网站标识码",
    "icp": "ICP备案编号",
    "police": "公安机关备案编号",
    "dzjg": "党政机关网站标识",
    "domain": "政府网站域名（.gov.cn）",
    "meta": "SiteIDCode元数据标签",
    "zhaocuo": "「我为政府网站找错」入口",
}
_WHERE = {
    "code": "网站首页底部未标注网站标识码（10位，如4199000001）",
    "icp": "网站首页底部未标注ICP备案编号（如豫ICP备12345678号）",
    "police": "网站首页底部未标注公安机关备案编号（如豫公网安备 41052302000123号）",
    "dzjg": "网站首页底部未展示党政机关网站标识",
    "meta": '首页未设置网站标识码元数据（<meta name="SiteIDCode" content="…">）',
    "zhaocuo": "网站首页未设置「我为政府网站找错」入口（链接至zfwzzc.www.gov.cn）",
}


@dataclass(frozen=True)
class IdentityReport:
    """Each item's evidence (the text or markup that satisfied it), or None when missing."""

    found: Mapping[str, str | None]
    host: str

    @property
    def missing(self) -> list[str]:
        """Missing item keys in :data:`ITEMS` order."""
        return [k for k in ITEMS if self.found.get(k) is None]


def visible_text(tree: lxml.html.HtmlElement) -> str:
    """What a visitor can read: body text without scripts, styles, comments and templates."""
    return " ".join(" ".join(_VISIBLE_TEXT(tree)).split())


def inspect_identity(
    html: str, url: str, domain_suffixes: tuple[str, ...], includes: Sequence[str] = ()
) -> IdentityReport:
    """Find every identity item on a homepage (pure). ``includes``: markup the page's own scripts,
    frames and loaded fragments put into it (:mod:`checks.identity.includes`); the footer items
    (code, ICP, police, 党政机关标识, 找错) found there count. The ``meta`` tag counts only in the page."""
    tree = parse_html(_STRAY_END.sub(" ", html))
    trees = [tree, *(parse_html(f"<html><body>{markup}</body></html>") for markup in includes if markup)]
    text = " ".join(visible_text(t) for t in trees)
    host = (URL(url).host or "").lower().rstrip(".")
    found: dict[str, str | None] = {}
    m = _CODE_IN_TEXT.search(text)
    found["code"] = m.group(1) if m else None
    m = _ICP.search(text)
    found["icp"] = m.group(0) if m else None
    m = _POLICE.search(text)
    found["police"] = m.group(0) if m else None
    found["dzjg"] = next((d for d in map(_dzjg, trees) if d is not None), None)
    found["domain"] = host if any(host.endswith(s.lower()) for s in domain_suffixes) else None
    found["meta"] = None
    for node in tree.iterfind(".//meta[@name]"):
        if (node.get("name") or "").strip().lower() == "siteidcode":
            content = (node.get("content") or "").strip()
            if CODE_FORMAT.match(content):
                found["meta"] = content
                break
    found["zhaocuo"] = next((z for z in map(_zhaocuo, trees) if z is not None), None)
    return IdentityReport(found, host)


def _dzjg(tree: lxml.html.HtmlElement) -> str | None:
    for img in tree.iter("img"):
        for attr in ("src", "alt", "title"):
            value = img.get(attr) or ""
            if _DZJG_MARK.search(value):
                return f"<img {attr}={value[:80]}>"
    for a in tree.iter("a"):
        host = host_of_link(a.get("href") or "")
        if host == "conac.cn" or host.endswith(".conac.cn"):
            return f"<a href={a.get('href', '')[:80]}>"
    for script in tree.iter("script"):
        src = script.get("src") or ""
        # The official logo is written by a script from dcs.conac.cn, often via unescape(...).
        if "conac.cn" in src.lower() or "conac.cn" in (script.text or "").lower().replace("%2e", "."):
            return "<script conac.cn>"
        if "_ideConac" in (script.text or ""):
            return "<script _ideConac>"
    for _node in tree.iterfind(".//*[@id='_ideConac']"):
        return "<span id=_ideConac>"
    for node in _DZJG_BOX(tree):
        # A box named for the mark that a widget fills from its site code (data-setting="{sitecode:…}"),
        # or holding an image: an empty <li class="dzjg"> is no mark.
        if "sitecode" in (node.get("data-setting") or "").lower() or node.find(".//img") is not None:
            return f"<{node.tag} class={(node.get('class') or node.get('id') or '')[:40]}>"
    return None


#: ``</body>``/``</html>`` before the end of the document (a server-side include of a whole page, as
#: 中国政府网's header): browsers ignore them and go on; libxml2 drops everything after. Only the last
#: ones are kept. (monitor.web.html's parser has the same limit for every check: noted in issue 19.)
_STRAY_END = re.compile(r"</(?:body|html)\s*>(?=[\s\S]*</(?:body|html)\s*>)", re.IGNORECASE)

#: Hosts of the national 「我为政府网站找错」 platform: the older address, 政府网站管理's jiucuo page, and
#: 开普云's pucha host that serves the same entry (its jiucuo.js / jiucuo.html) to many county portals.
_ZHAOCUO_HOSTS = ("zfwzzc.www.gov.cn", "zfwzgl.www.gov.cn", "pucha.kaipuyun.cn")


def _zhaocuo_link(url: str) -> bool:
    host = host_of_link(url)
    return host in _ZHAOCUO_HOSTS[:2] or (host == _ZHAOCUO_HOSTS[2] and "jiucuo" in url.lower())


def _zhaocuo(tree: lxml.html.HtmlElement) -> str | None:
    for a in tree.iter("a", "area"):
        href = a.get("href") or ""
        if _zhaocuo_link(href):
            return href[:120]
        label = " ".join(a.text_content().split()) + (a.get("title") or "")
        label += "".join(img.get("alt") or "" for img in a.iter("img"))
        if "我为政府网站找错" in label.replace(" ", ""):
            return f"<a href={href[:100]}>{label[:40]}"
    for script in tree.iter("script"):
        # The platform's own script draws the entry: <script id="_jiucuo_" src=".../exposure/jiucuo.js">.
        src = script.get("src") or ""
        # Sites often serve a copy of it themselves; its embed code names it: id="_jiucuo_" sitecode="…".
        embed = script.get("id") == "_jiucuo_" or (script.get("sitecode") and "jiucuo" in src.lower())
        if embed or (_zhaocuo_link(src) and "jiucuo" in src.lower()):
            return f"<script src={src[:100]}>"
    for node in tree.iterfind(".//*[@id='_span_jiucuo']"):
        # The box the platform's script fills with the entry's image; left empty, it shows nothing.
        if node.find(".//img") is not None or node.find(".//a") is not None:
            return "<span id=_span_jiucuo>"
    return None


#: Addresses of article pages in the CMS families portals run on (Hanweb /art/…, TRS t20240101_1,
#: 中国政府网 content_…): never a homepage.
_ARTICLE_URL = re.compile(
    r"/art/\d{4}/|/art_\d+_\d+\.s?html?$|/t\d{8}_\d+\.s?html?$|/content_\w+\.s?html?$|/\d{6}/t\d+",
    re.IGNORECASE,
)
_ROOT_PAGE = re.compile(r"^/(?:(?:index|default|main|home)\.(?:s?html?|jsp|php|aspx?))?$", re.IGNORECASE)

#: Addresses of column (list) pages: Hanweb /col/col123/, a list's later pages index_2.html.
_COLUMN_URL = re.compile(r"/col/col\d+/|/index_\d+\.s?html?$", re.IGNORECASE)

PAGE_HOMEPAGE, PAGE_ARTICLE, PAGE_COLUMN = "homepage", "article", "column"


def is_site_root(url: str) -> bool:
    """The address is the site's root (``/``, ``/index.html``…): the homepage by definition."""
    return bool(_ROOT_PAGE.match(path_of(url) or "/"))


def page_role(html: str, url: str, today: date) -> str:
    """``article`` for a page that shows (or declares in its meta tags) a publication date, or sits at an
    article address; ``column`` for a column page (a column address, or a ``ColumnName`` meta naming a
    column other than 首页); else ``homepage``. The site's root is always the homepage."""
    if is_site_root(url):
        return PAGE_HOMEPAGE
    path = path_of(url)
    if _ARTICLE_URL.search(path):
        return PAGE_ARTICLE
    if _COLUMN_URL.search(path):
        return PAGE_COLUMN
    dated = article_dating(html, today)
    if dated.visible is not None or dated.meta is not None:
        return PAGE_ARTICLE
    column = _meta(parse_html(html), "columnname")
    return PAGE_COLUMN if column and "首页" not in column else PAGE_HOMEPAGE


def _meta(tree: lxml.html.HtmlElement, name: str) -> str | None:
    for node in tree.iterfind(".//meta[@name]"):
        if (node.get("name") or "").strip().lower() == name:
            return (node.get("content") or "").strip() or None
    return None


class IdentityCheck(SiteCheck):
    """Check the homepage for 网站标识码, 备案 numbers, 党政机关标识, .gov.cn, SiteIDCode and 找错 entry."""

    name = "identity"
    scope = "site"
    judges_site_content = True

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Read the homepage (the site's root when the configured address is an article or column page), its
        footer includes when an item is missing from its HTML, and judge every item."""
        ctx = self.ctx
        page = await _fetch_html(fetcher, ctx.site.homepage)
        if isinstance(page, str):
            return CheckOutcome(complete=False, failed=f"homepage could not be fetched ({page})")
        html, final = page
        today = ctx.clock.now().astimezone(ctx.config.tz).date()
        judged = ctx.site.homepage
        role = page_role(html, ctx.site.homepage, today)
        if role != PAGE_HOMEPAGE:
            root = origin_of(ctx.site.homepage) + "/"
            home = await _fetch_html(fetcher, root)
            if isinstance(home, str):
                # The rules ask these marks of the homepage, not of an article or a column: none is judged.
                ctx.log.info("identity: %s is a %s page and %s gave %s", ctx.site.homepage, role, root, home)
                figures = IdentityFigures(page=role, judged=None)
                return CheckOutcome(report=CheckReport(groups=[figures]), complete=False)
            (html, final), judged = home, root
        includes: list[str] = []
        # The domain rule is about the address people are sent to: the configured homepage's host.
        report = inspect_identity(html, ctx.site.homepage, ctx.config.identity.domain_suffixes)
        if set(report.missing) & _FOOTER_ITEMS:
            includes = await _read_includes(fetcher, html, final)
            if includes:
                suffixes = ctx.config.identity.domain_suffixes
                report = inspect_identity(html, ctx.site.homepage, suffixes, includes)
        findings = [self._missing(item, report, judged) for item in report.missing]
        expected = ctx.config.identity.site_codes.get(ctx.site.id)
        for item in ("code", "meta"):
            got = report.found.get(item)
            if expected and got and got.lower() != expected.lower():
                findings.append(
                    Finding(
                        duty=self.name,
                        kind=f"site_identity_{item}_wrong",
                        severity=Severity.DEDUCTION,
                        site=ctx.site.id,
                        identity=item,
                        url=judged,
                        message=(
                            f"{ITEMS[item]}标注为{got}，与本网站的网站标识码{expected}不一致（依据{RULE}）"
                        ),
                        unit=ctx.units.site_unit,
                        evidence={"found": got, "expected": expected},
                    )
                )
        figures = IdentityFigures(
            found={k: v is not None for k, v in report.found.items()},
            missing=tuple(report.missing),
            page=PAGE_HOMEPAGE,
            judged=judged,
            includes=len(includes),
        )
        return CheckOutcome(findings=findings, report=CheckReport(groups=[figures]), complete=True)

    def _missing(self, item: str, report: IdentityReport, url: str) -> Finding:
        ctx = self.ctx
        if item == "domain":
            message = (
                f"网站域名{report.host}不是政府网站域名（应使用"
                f"{'、'.join(ctx.config.identity.domain_suffixes)}），依据{RULE}"
            )
        else:
            message = f"{_WHERE[item]}，依据{RULE}"
        return Finding(
            duty=self.name,
            kind=f"site_identity_{item}",
            severity=Severity.DEDUCTION,
            site=ctx.site.id,
            identity=item,
            url=url,
            message=message,
            unit=ctx.units.site_unit,
            evidence={"item": ITEMS[item]},
        )


#: Items a footer carries (what a script-written footer can supply).
_FOOTER_ITEMS = {"code", "icp", "police", "dzjg", "zhaocuo"}


async def _fetch_html(fetcher: Fetcher, url: str) -> tuple[str, str] | str:
    """The decoded page and its final address, or why it could not be read."""
    result = await fetcher.fetch(url)
    if not result.ok or result.body is None:
        return f"HTTP {result.status}" if result.status else (result.detail or "unreachable")
    html, _ = decode_body(result.body, result.content_type_header)
    return html, result.final_url or url


async def _read_includes(fetcher: Fetcher, html: str, page_url: str) -> list[str]:
    """Markup the page's same-site footer scripts, frames and loaded fragments add to it (bounded by
    :data:`checks.identity.includes.MAX_INCLUDES`; one that cannot be read is skipped)."""
    out: list[str] = []
    for url in include_candidates(parse_html(html), page_url):
        result = await fetcher.fetch(url, retries=0)
        if not result.ok or result.body is None:
            continue
        text, _ = decode_body(result.body, result.content_type_header)
        looks_like_html = text.lstrip()[:1] == "<" or "html" in (result.content_type_header or "").lower()
        out.append(text if looks_like_html else written_markup(text))
    return out
