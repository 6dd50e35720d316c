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
- ``zhaocuo``: a 「我为政府网站找错」 entry — a link to zfwzzc.www.gov.cn, or a link (text, title or image
  alt) reading 我为政府网站找错. The words in plain text, not a link, are no entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import lxml.html
from yarl import URL

from checks.base import CheckOutcome, SiteCheck
from monitor.core.figures import IdentityFigures
from monitor.core.findings import Finding, Severity
from monitor.core.report import CheckReport
from monitor.core.urls import host_of_link
from monitor.web.decode import decode_body
from monitor.web.fetch import Fetcher
from monitor.web.html import parse_html

RULE = "《政府网站发展指引》（国办发〔2017〕47号）"
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼港澳台"
CODE_FORMAT = re.compile(r"^(?:\d{10}|[bB][mM]\d{8})$")
_CODE_IN_TEXT = re.compile(
    r"(?:网站)?标识码\s*[:：]?\s*(?<![0-9A-Za-z])(\d{10}|[bB][mM]\d{8})(?![0-9A-Za-z])"
)
_ICP = re.compile(rf"[{_PROVINCES}]\s*ICP\s*备\s*(\d{{6,12}})\s*号(?:\s*-\s*\d+)?", re.IGNORECASE)
_POLICE = re.compile(rf"[{_PROVINCES}]\s*公网安备\s*(?<!\d)(\d{{14}})(?!\d)\s*号")
_DZJG_MARK = re.compile(r"dzjg|conac|党政机关", re.IGNORECASE)
_VISIBLE_TEXT = lxml.etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)"
    " and not(ancestor::template)]"
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


def inspect_identity(html: str, url: str, domain_suffixes: tuple[str, ...]) -> IdentityReport:
    """Find every identity item on a homepage (pure)."""
    tree = parse_html(html)
    text = visible_text(tree)
    host = (URL(url).host or "").lower().rstrip(".")
    found: dict[str, str | None] = {}
    m = _CODE_IN_TEXT.search(text)
    found["code"] = m.group(1) if m else None
    m = _ICP.search(text)
    found["icp"] = m.group(0) if m else None
    m = _POLICE.search(text)
    found["police"] = m.group(0) if m else None
    found["dzjg"] = _dzjg(tree)
    found["domain"] = host if any(host.endswith(s.lower()) for s in domain_suffixes) else None
    found["meta"] = None
    for node in tree.iterfind(".//meta[@name]"):
        if (node.get("name") or "").strip().lower() == "siteidcode":
            content = (node.get("content") or "").strip()
            if CODE_FORMAT.match(content):
                found["meta"] = content
                break
    found["zhaocuo"] = _zhaocuo(tree)
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
    return None


def _zhaocuo(tree: lxml.html.HtmlElement) -> str | None:
    for a in tree.iter("a", "area"):
        href = a.get("href") or ""
        if host_of_link(href) == "zfwzzc.www.gov.cn":
            return href[:120]
        label = " ".join(a.text_content().split()) + (a.get("title") or "")
        label += "".join(img.get("alt") or "" for img in a.iter("img"))
        if "我为政府网站找错" in label.replace(" ", ""):
            return f"<a href={href[:100]}>{label[:40]}"
    return None


class IdentityCheck(SiteCheck):
    """Check the homepage for 网站标识码, 备案 numbers, 党政机关标识, .gov.cn, SiteIDCode and 找错 entry."""

    name = "identity"
    scope = "site"
    judges_site_content = True

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Fetch the homepage once and judge every item."""
        ctx = self.ctx
        result = await fetcher.fetch(ctx.site.homepage)
        if not result.ok or result.body is None:
            why = f"HTTP {result.status}" if result.status else (result.detail or "unreachable")
            return CheckOutcome(complete=False, failed=f"homepage could not be fetched ({why})")
        html, _ = decode_body(result.body, result.content_type_header)
        # The domain rule is about the address people are sent to: the configured homepage's host.
        report = inspect_identity(html, ctx.site.homepage, ctx.config.identity.domain_suffixes)
        findings = [self._missing(item, report) for item in report.missing]
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
                        url=ctx.site.homepage,
                        message=(
                            f"{ITEMS[item]}标注为{got}，与本网站的网站标识码{expected}不一致（依据{RULE}）"
                        ),
                        unit=ctx.units.site_unit,
                        evidence={"found": got, "expected": expected},
                    )
                )
        figures = IdentityFigures(
            found={k: v is not None for k, v in report.found.items()}, missing=tuple(report.missing)
        )
        return CheckOutcome(findings=findings, report=CheckReport(groups=[figures]), complete=True)

    def _missing(self, item: str, report: IdentityReport) -> Finding:
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
            url=ctx.site.homepage,
            message=message,
            unit=ctx.units.site_unit,
            evidence={"item": ITEMS[item]},
        )
