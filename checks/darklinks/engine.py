"""暗链 / 黑链 (hidden spam link) detection — the pure analysis engine.

No HTTP and no storage: the crawl hands in a page (and the same-site stylesheets / scripts it already
fetched) and gets :class:`DarkLinkHit` records back.

How a page is analysed
======================
1. The HTML is parsed once with lxml (comments kept).  ``<style>`` blocks and the linked stylesheets the
   caller supplied are reduced to the rules that can hide or camouflage (:mod:`checks.darklinks.css`)
   and indexed by id / class / tag.
2. Only elements on the path from the root to a link, iframe, script or link-bearing comment are
   visited, top-down, each once; a child inherits its parent's computed state (sticky concealments such
   as ``display:none`` or ``opacity:0``, inherited ones such as ``visibility`` or ``font-size:0`` that a
   descendant can undo, the text colour and the nearest background).  No ancestor walks per link.
3. Inline scripts (and supplied same-site scripts) are decoded statically (:mod:`checks.darklinks.js`);
   the HTML they write is walked like the page, starting from the script's own state, and their
   ``location`` changes are checked for referrer / user-agent keyed redirects.
4. Links inside HTML comments, ``<meta http-equiv=refresh>`` and title / keywords / description are
   checked last.

The decision rule (false positives are bugs)
============================================
A link is reported only when it is concealed **and** it is suspicious:

* *strong* concealment — CSS / attribute hiding, colour camouflage, zero-width text, hidden iframe or
  marquee, obfuscated script writes, referrer / user-agent keyed redirects, spider-only content —
  needs an external target outside ``site_domains``, ``allow_domains`` and government hosts (``.gov.cn``
  …), **or** spam vocabulary in its text / URL, **or** a suspicious domain;
* *weak* concealment — inside an HTML comment, ``<noscript>``, a plain (unobfuscated) script write, an
  unconditional script redirect — needs spam vocabulary or a suspicious domain.

So a hidden dropdown of internal links, an ``sr-only`` skip link, a 无障碍 toolbar pointing at a
``.gov.cn`` host, a 友情链接 block of other government sites or a news article about 体育彩票 stay silent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import unescape as html_unescape
from pathlib import Path
from typing import NamedTuple

from lxml import etree

from checks.darklinks.css import (
    Color,
    IndexedRule,
    RuleIndex,
    color_hex,
    css_imports,
    length_px,
    media_applies,
    parse_color,
    parse_declarations,
    parse_stylesheet,
    same_color,
)
from checks.darklinks.js import Payload, expand_script, find_redirects
from monitor.core.urls import host_of_link, join_url, origin_of, path_of, percent_decode, resolve_link
from monitor.web.html import parse_document

__all__ = [
    "DarkLinkHit",
    "DarkLinkOptions",
    "DefacementSignal",
    "analyze_document",
    "analyze_page",
    "benign_host",
    "compare_versions",
    "defacement_changes",
    "defacement_signals",
    "head_signature",
    "linked_scripts",
    "linked_stylesheets",
    "spam_terms_in",
    "suspicious_domain",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SNIPPET_CHARS = 500
# Government (and government-run) hosts: hidden links to them are benign unless spam words are present.
BENIGN_SUFFIXES = ("gov.cn", "政务", "gov", "mil.cn", "conac.cn")

KIND_LABELS = {
    "hidden_link": "隐藏链接",
    "script_link": "脚本写入的链接",
    "js_redirect": "脚本跳转",
    "meta_refresh": "meta刷新跳转",
    "head_hijack": "标题/关键词/描述劫持",
    "iframe": "隐藏iframe",
    "cloaking": "针对搜索引擎爬虫的差异内容",
    "candidate": "待核实的外部链接",
}

#: The evidence that makes a concealed link a dark link (暗链), as stored in a finding's ``evidence``.
EVIDENCE_LABELS = {
    "spam_words": "锚文本或链接地址含违规词",
    "spam_nearby": "链接所在隐藏区块含违规词",
    "spam_domain": "域名符合违规网站特征",
    "target_content": "目标页面含违规内容",
    "spider_only": "仅对搜索引擎爬虫呈现或跳转",
    "head_hijack": "标题/关键词/描述含违规词",
    "browser_confirmed": "浏览器渲染确认不可见",
    "browser_navigated": "浏览器实测页面跳转",
}


@dataclass(frozen=True)
class DarkLinkOptions:
    """Per-site settings.

    ``site_domains``: registrable domains / hosts that count as internal (``("shixian.gov.cn",)`` also
    covers ``www.shixian.gov.cn``).  ``extra_vocabulary``: site-specific spam terms.  ``allow_domains``:
    external hosts never reported for being external (spam words still count).
    """

    site_domains: tuple[str, ...]
    extra_vocabulary: tuple[str, ...] = ()
    allow_domains: tuple[str, ...] = ()
    #: ``host:port`` of the site's origins on a non-default port (``127.0.0.1:8001``): another port of
    #: the site's host is another site, so a link there is outbound (issue 16: origin, not host).
    site_ports: tuple[str, ...] = ()


@dataclass(frozen=True)
class DarkLinkHit:
    """One dark link (or redirect / hijack) found on a page."""

    page_url: str
    target: str | None  # absolute link / redirect target; None for head hijack and text-only cloaking
    text: str  # anchor text (zero-width characters removed), title for head hijack
    techniques: tuple[str, ...]  # how it is concealed, e.g. "css:display:none via .c1 in <style>"
    reasons: tuple[str, ...]  # why it is spam: "external domain x", "spam vocabulary: 百家乐", …
    snippet: str  # offending HTML / script, at most ~500 characters
    kind: str  # see KIND_LABELS; "candidate" is not a finding by itself (see the module doc)
    message: str  # Chinese, specific, for the bulletin
    evidence: tuple[str, ...] = ()  # why it is spam, as EVIDENCE_LABELS codes; empty for a candidate
    candidate_of: str = ""  # for a candidate: the kind it becomes once its target shows spam content


# ==================================================================================================
# Vocabulary and domains

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e\u200e\u200f\u00ad\u2061\u2062\u2063\u2064"
_ZW_RE = re.compile(f"[{_ZERO_WIDTH}]")


def _normalize(text: str) -> str:
    """Form used for vocabulary matching: NFKC, lower case, no whitespace or zero-width characters."""
    text = _strip_zw(text)
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.lower().split())  # str.split is far faster than a \s+ regex on CJK text


def _read_lines(name: str) -> list[str]:
    lines = []
    for raw in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


@dataclass(frozen=True)
class _Lexicon:
    terms: re.Pattern[str] | None
    benign: re.Pattern[str] | None
    display: dict[str, str]  # normalized term -> term as written in the vocabulary
    first_chars: frozenset[str]  # a text without any of these cannot contain a term


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


@lru_cache(maxsize=64)
def _lexicon(extra: tuple[str, ...]) -> _Lexicon:
    display: dict[str, str] = {}
    benign: list[str] = []
    for line in [*_read_lines("spam_vocabulary.txt"), *extra]:
        if line.startswith("!"):
            benign.append(_normalize(line[1:]))
        else:
            display.setdefault(_normalize(line), line)
    first = frozenset(term[0] for term in display if term)
    return _Lexicon(_alternation(display), _alternation(benign), display, first)


@lru_cache(maxsize=1)
def _suspicious_patterns() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _read_lines("suspicious_domains.txt")))


def spam_terms_in(text: str, options: DarkLinkOptions) -> list[str]:
    """Distinct spam-vocabulary terms in ``text``, in order of first appearance.

    Benign phrases (``!投注站`` …) are masked first.  For an outbound link's target page, the caller
    should treat two or more distinct terms (or one in the page title) as a gambling / porn page.
    """
    if not text:
        return []
    lex = _lexicon(options.extra_vocabulary)
    if lex.terms is None:
        return []
    norm = _normalize(text)
    if lex.first_chars.isdisjoint(norm):
        return []
    if lex.benign is not None:
        norm = lex.benign.sub("|", norm)
    found: list[str] = []
    for m in lex.terms.finditer(norm):
        term = lex.display[m.group(0)]
        if term not in found:
            found.append(term)
    return found


_PATH_OF_URL_RE = re.compile(r"^[a-z]+://[^/?#\\]*", re.I)


def _under(host: str, domains: Iterable[str]) -> bool:
    for d in domains:
        d = d.lower().lstrip(".")
        if host == d or host.endswith("." + d):
            return True
    return False


def other_port(url: str, options: DarkLinkOptions) -> bool:
    """The URL names an explicit port that is not one of the site's (``http://h:8002/`` for a site on
    ``h:8001``, or on ``h`` itself): a different origin on the site's host, hence not the site's own.
    The scheme is not compared: http and https copies of one portal are the same site here."""
    netloc = origin_of(url).partition("://")[2]  # default ports are already dropped
    return ":" in netloc.rsplit("]", 1)[-1] and netloc not in options.site_ports


def own_url(url: str, options: DarkLinkOptions) -> bool:
    """On the site's own hosts (or under its domain) and on one of its ports."""
    host = host_of_link(url)
    return bool(host) and _under(host, options.site_domains) and not other_port(url, options)


def benign_host(host: str, options: DarkLinkOptions) -> bool:
    """The site's own, an allow-listed or a government host (never reported for being external)."""
    host = host.lower().rstrip(".")
    return (
        _under(host, options.site_domains)
        or _under(host, options.allow_domains)
        or _under(host, BENIGN_SUFFIXES)
    )


def suspicious_domain(host: str) -> bool:
    """True when ``host`` looks like a gambling / porn spam domain (see data/suspicious_domains.txt)."""
    return bool(host) and _suspicious_patterns().search(host.lower()) is not None


class _Verdict(NamedTuple):
    host: str
    internal: bool
    benign: bool  # internal, allow-listed or a government host
    terms: tuple[str, ...]
    suspicious: bool

    def reasons(self) -> list[str]:
        out = []
        if not self.benign:
            out.append(f"external domain {self.host}")
        if self.terms:
            out.append("spam vocabulary: " + "、".join(self.terms))
        if self.suspicious:
            out.append(f"suspicious domain {self.host}")
        return out

    def evidence(self) -> list[str]:
        """Spam evidence in the link itself: vocabulary in its text or URL, a spam-domain pattern."""
        out = []
        if self.terms:
            out.append("spam_words")
        if self.suspicious:
            out.append("spam_domain")
        return out

    def outside(self) -> bool:
        """External and neither allow-listed nor a government host."""
        return not self.benign

    def target_phrase(self, url: str) -> str:
        if self.suspicious:
            return f"可疑外部站点 {self.host}"
        if not self.benign:
            return f"外部站点 {self.host}"
        if self.internal:
            path = path_of(url) or "/"
            return f"本站地址 {path}"
        return f"站点 {self.host}"


def _unquote_safe(url: str) -> str:
    """Percent-decoded URL, for spam words in paths (``/%E7%99%BE%E5%AE%B6%E4%B9%90.html``)."""
    if "%" not in url:
        return url
    try:
        return percent_decode(url)
    except (UnicodeError, ValueError):
        return url


@lru_cache(maxsize=32768)
def _verdict(url: str, text: str, options: DarkLinkOptions) -> _Verdict:
    """Is a (concealed) link external / spammy / suspicious?  Cached: navigation repeats per page."""
    host = host_of_link(url)
    internal = not host or (_under(host, options.site_domains) and not other_port(url, options))
    benign = internal or _under(host, options.allow_domains) or _under(host, BENIGN_SUFFIXES)
    terms = tuple(spam_terms_in(f"{text} {_unquote_safe(url)}", options))
    return _Verdict(host, internal, benign, terms, not internal and suspicious_domain(host))


# ==================================================================================================
# Parsing helpers


def _fragment(html: str) -> etree._Element | None:
    """Parse script-written or commented-out HTML; returns its <body> (or the root)."""
    root = parse_document(f"<html><body>{html}</body></html>", plain=True)
    if root is None:
        return None
    body = root.find("body")
    return body if body is not None else root


def _base_url(root: etree._Element, page_url: str) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return join_url(page_url, href)
        break
    return page_url


def _resolve(base: str, href: str | None) -> str | None:
    """Absolute http(s) URL for ``href``, or None for fragments, javascript:, mailto: … (the one link
    policy, :func:`monitor.core.urls.resolve_link`), zero-width characters removed first."""
    if not href:
        return None
    return _resolve_cached(base, href)


@lru_cache(maxsize=32768)
def _resolve_cached(base: str, href: str) -> str | None:
    # Cached: a site's navigation repeats the same hrefs on every page.
    return resolve_link(base, _strip_zw(href.strip()))


def _strip_zw(text: str) -> str:
    """``text`` without zero-width characters (``str.translate`` is slow on CJK text: search first)."""
    return _ZW_RE.sub("", text) if _ZW_RE.search(text) else text


def _clean_text(text: str) -> str:
    return " ".join(_strip_zw(text).split())


def _start_tag(el: etree._Element) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in el.attrib.items())
    return f"<{el.tag!s}{attrs}>"


def _trim(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outer_html(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode", method="html", with_tail=False)


_TAG_ATTR_RE = re.compile(r"""([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_LINK_TAG_RE = re.compile(r"<link\b[^>]*>", re.I)
_SCRIPT_TAG_RE = re.compile(r"<script\b[^>]*>", re.I)
_BASE_TAG_RE = re.compile(r"<base\b[^>]*>", re.I)
_STYLE_BLOCK_RE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.I | re.S)


@lru_cache(maxsize=4096)  # the same <link>/<script> tags stand on every page of a site; callers only read
def _tag_attrs(tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _TAG_ATTR_RE.findall(tag):
        if value[:1] in "\"'":
            value = value[1:-1]
        out.setdefault(name.lower(), html_unescape(value))
    return out


def _regex_base(html: str, page_url: str) -> str:
    m = _BASE_TAG_RE.search(html)
    if m:
        href = _tag_attrs(m.group(0)).get("href", "").strip()
        if href:
            return join_url(page_url, href)
    return page_url


def linked_stylesheets(html: str, page_url: str) -> list[str]:
    """Absolute URLs of ``<link rel=stylesheet>`` and ``@import`` in ``<style>``, in document order.

    A cheap regex scan (no DOM parse) so the caller can fetch them before :func:`analyze_page`; pass the
    fetched same-site ones back in ``stylesheets`` keyed by these exact URLs.
    """
    base = _regex_base(html, page_url)
    found: list[tuple[int, str]] = []
    for m in _LINK_TAG_RE.finditer(html):
        attrs = _tag_attrs(m.group(0))
        rels = attrs.get("rel", "").lower().split()
        media = attrs.get("media")
        if "stylesheet" in rels and "alternate" not in rels and (not media or media_applies(media)):
            url = _resolve(base, attrs.get("href"))
            if url:
                found.append((m.start(), url))
    for m in _STYLE_BLOCK_RE.finditer(html):
        for ref in css_imports(m.group(1)):
            url = _resolve(base, ref)
            if url:
                found.append((m.start(), url))
    out: list[str] = []
    for _, url in sorted(found):
        if url not in out:
            out.append(url)
    return out


def linked_scripts(html: str, page_url: str) -> list[str]:
    """Absolute URLs of ``<script src>``; pass fetched same-site ones to :func:`analyze_page`."""
    base = _regex_base(html, page_url)
    out: list[str] = []
    for m in _SCRIPT_TAG_RE.finditer(html):
        url = _resolve(base, _tag_attrs(m.group(0)).get("src"))
        if url and url not in out:
            out.append(url)
    return out


# ==================================================================================================
# The top-down walk


@dataclass(frozen=True, slots=True)
class _Conceal:
    technique: str  # English, goes to DarkLinkHit.techniques
    label: str  # short, for the Chinese message
    strong: bool
    container: etree._Element | None = None


class _State(NamedTuple):
    sticky: tuple[_Conceal, ...] = ()  # cannot be undone by descendants (display:none, opacity:0 …)
    visibility: _Conceal | None = None  # inherited, undone by visibility:visible
    fontzero: _Conceal | None = None  # inherited, undone by a non-zero font-size
    indent: _Conceal | None = None  # inherited, undone by another text-indent
    color: Color | None = None  # computed text colour (None: user-agent default)
    bg: Color | str | None = None  # nearest opaque background colour; "image" when unknown
    origin: str = "page"  # "page" | "script" | "comment"

    def conceals(self) -> list[_Conceal]:
        out = list(self.sticky)
        for c in (self.visibility, self.fontzero, self.indent):
            if c is not None:
                out.append(c)
        return out


_JS_TYPES = frozenset(
    {
        "",
        "text/javascript",
        "application/javascript",
        "module",
        "text/ecmascript",
        "application/x-javascript",
        "text/jscript",
    }
)
_WALK_TARGETS = ("a", "iframe", "frame", "script", etree.Comment)
_HTML_IN_TEXT_RE = re.compile(r"<\s*(?:a|iframe|frame)\b", re.I)
_UNCOMMENTER_RE = re.compile(
    r"nodeType\s*===?\s*8|COMMENT_NODE|SHOW_COMMENT|replace\(\s*/\s*(?:<|\\x3c)!--|replace\(\s*['\"]<!--",
    re.I,
)
_SEO_MARKER_RE = re.compile(r"\s*seo\b", re.I)
_TITLE_SET_RE = re.compile(r"document\s*\.\s*title\s*=\s*(['\"])(.*?)\1", re.S)
_SIZE_ATTR_TAGS = frozenset({"iframe", "frame", "marquee"})
# Attributes that can change an element's state (with the id / class that select CSS rules).
_STYLING_ATTRS = frozenset({"style", "id", "class", "hidden", "bgcolor", "color"})
_MAX_SCRIPT_NESTING = 3

_CLIP_RECT_RE = re.compile(r"rect\(([^)]*)\)")
_SCALE_ZERO_RE = re.compile(r"scale[xy3d]*\(\s*0(?:\.0+)?\s*[,)]|matrix\(\s*0\s*,\s*0\s*,\s*0\s*,\s*0\s*,")
_TRANSLATE_RE = re.compile(r"translate[xy3d]*\(\s*([^,)]+)(?:,\s*([^,)]+))?")
_NUM_RE = re.compile(r"-?\d*\.?\d+")
_FILTER_ZERO_RE = re.compile(r"opacity\(\s*0(?:\.0*)?%?\s*\)|alpha\(\s*opacity\s*=\s*0\s*\)")
_CLIP_PATH_ZERO_RE = re.compile(r"inset\(\s*(?:50|100)%|circle\(\s*0|polygon\(\s*0\s+0\s*,\s*0\s+0\s*,")


# (important, inline, specificity, order): compared as a tuple, the cascade in one comparison.
_Priority = tuple[bool, bool, tuple[int, int, int], int]


class _Decls:
    """The winning declaration per property for one element (inline style beats rules)."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, tuple[_Priority, str, IndexedRule | str]] = {}

    def add(self, prop: str, value: str, prio: _Priority, src: IndexedRule | str) -> None:
        """Keep the declaration if it wins the cascade so far (later equal priority wins)."""
        old = self.values.get(prop)
        if old is None or prio >= old[0]:
            self.values[prop] = (prio, value, src)

    def get(self, prop: str) -> str | None:
        """The winning value of ``prop``."""
        item = self.values.get(prop)
        return item[1] if item else None

    def via(self, prop: str) -> str:
        """Where the winning value came from, for the technique text."""
        item = self.values.get(prop)
        if item is None:
            return ""
        src = item[2]
        if isinstance(src, IndexedRule):
            return f"via {src.rule.selector.text} in {src.source}"
        return src


class _PendingLink(NamedTuple):
    """A concealed link waiting for the decision rule."""

    el: etree._Element
    target: str
    raw_text: str
    alts: str
    title: str
    conceals: list[_Conceal]
    kind: str
    seq: int


class _PageAnalysis:
    """State for one ``analyze_page`` call."""

    def __init__(
        self,
        root: etree._Element,
        page_url: str,
        options: DarkLinkOptions,
        stylesheets: Mapping[str, str],
        scripts: Mapping[str, str],
    ) -> None:
        self.root = root
        self.page_url = page_url
        self.options = options
        self.scripts = scripts
        self.base = _base_url(root, page_url)
        self.hits: list[DarkLinkHit] = []
        self._order: list[int] = []  # document-order sequence number of each hit
        self._seq = 0
        # Elements right after an <!--seo--> marker comment: a weak concealment of their own.
        self._seo_blocks: dict[etree._Element, _Conceal] = {}
        self._last_visible: tuple[Color | None, Color | str | None] = (None, None)
        # Concealed links to this site, judged together at the end: one vocabulary scan of all of them
        # usually clears a page full of hidden tab panes and dropdown menus at once.
        self._pending_internal: list[_PendingLink] = []
        self._nearby: dict[etree._Element, list[str]] = {}
        self._seen: set[tuple[str, str | None, str]] = set()
        self._uncommenter: bool | None = None
        self._script_nesting = 0
        self._memo: dict[tuple, tuple[_State, _Decls, _State]] = {}
        self._signatures: dict[tuple[int, str, str | None, str | None], int] = {}
        self._match_memo: dict[int, list[IndexedRule]] = {}  # path signature -> matching rules
        self.cascade_complete = True
        self.index = self._build_index(stylesheets)

    # ---------------------------------------------------------------- styles
    def _build_index(self, stylesheets: Mapping[str, str]) -> RuleIndex:
        sheets: list[tuple[str, tuple]] = []
        for el in self.root.iter("link", "style"):
            media = el.get("media")
            if media and not media_applies(media):
                continue
            if el.tag == "link":
                rels = (el.get("rel") or "").lower().split()
                if "stylesheet" not in rels or "alternate" in rels:
                    continue
                url = _resolve(self.base, el.get("href"))
                if not url:
                    continue
                css = stylesheets.get(url)
                if css is None:
                    self.cascade_complete = False
                    continue
                sheets.append((url, parse_stylesheet(css)))
            else:
                css = el.text or ""
                for ref in css_imports(css):
                    url = _resolve(self.base, ref)
                    if url and url in stylesheets:
                        sheets.append((url, parse_stylesheet(stylesheets[url])))
                    elif url:
                        self.cascade_complete = False
                sheets.append(("<style>", parse_stylesheet(css)))
        return RuleIndex.build(sheets)

    def _signature(self, psig: int, tag: str, el_id: str | None, cls_attr: str | None) -> int:
        key = (psig, tag, el_id, cls_attr)
        sig = self._signatures.get(key)
        if sig is None:
            sig = self._signatures[key] = len(self._signatures) + 1
        return sig

    def _compute(
        self,
        el: etree._Element,
        tag: str,
        parent: _State,
        ancestors: frozenset[str],
        el_id: str | None,
        cls_attr: str | None,
        psig: int,
    ) -> tuple[_State, _Decls | None, int]:
        """The element's state from its matching rules, inline style and presentational attributes.

        Also returns the element's path signature: equal signatures mean equal tag / id / class on
        the whole ancestor path, so (for path-invariant rules) the same matching rules — the news
        items of every list on a page are matched once.
        """
        sig = self._signature(psig, tag, el_id, cls_attr)
        style = el.get("style")
        rules: list[IndexedRule] | tuple[()] = ()
        if self.index:
            if self.index.path_invariant:
                cached_rules = self._match_memo.get(sig)
                if cached_rules is None:
                    cached_rules = self._match_memo[sig] = self.index.matching(
                        el, tag, el_id, cls_attr, ancestors
                    )
                rules = cached_rules
            else:
                rules = self.index.matching(el, tag, el_id, cls_attr, ancestors)
        attrib = el.attrib
        if (
            not style
            and not rules
            and tag not in _SIZE_ATTR_TAGS
            and not ("hidden" in attrib or "bgcolor" in attrib or "color" in attrib)
        ):
            return parent, None, sig
        memo_key = None
        if tag not in _SIZE_ATTR_TAGS:
            # Siblings in lists share parent state, rules and style: compute their state once.
            memo_key = (
                id(parent),
                tuple(map(id, rules)),
                style,
                attrib.get("hidden"),
                attrib.get("bgcolor"),
                attrib.get("color") if tag == "font" else None,
            )
            cached = self._memo.get(memo_key)
            if cached is not None:
                return cached[0], cached[1], sig
        decls = _Decls()
        for item in rules:
            spec = item.rule.selector.specificity
            for prop, value, important in item.rule.declarations:
                decls.add(prop, value, (important, False, spec, item.order), item)
        if style:
            for prop, value, important in parse_declarations(style):
                decls.add(prop, value, (important, True, (0, 0, 0), 0), "inline style")
        if tag == "font" and "color" in attrib and "color" not in decls.values:
            decls.add("color", attrib["color"].lower(), (False, False, (0, 0, 0), -1), "font color attribute")
        if (
            "bgcolor" in attrib
            and "background-color" not in decls.values
            and "background" not in decls.values
        ):
            decls.add("background-color", attrib["bgcolor"].lower(), (False, False, (0, 0, 0), -1), "bgcolor")
        if not decls.values and "hidden" not in attrib and tag not in _SIZE_ATTR_TAGS:
            return parent, None, sig
        state = self._derive(el, tag, parent, decls)
        if memo_key is not None and (
            len(state.sticky) == len(parent.sticky)
            and state.visibility is parent.visibility
            and state.fontzero is parent.fontzero
            and state.indent is parent.indent
        ):
            # Only element-independent results are shared (a new concealment names its element);
            # the parent is stored too, so its id() cannot be reused while the memo lives.
            self._memo[memo_key] = (state, decls, parent)
        return state, decls, sig

    def _derive(self, el: etree._Element, tag: str, parent: _State, d: _Decls) -> _State:
        """Apply the winning declarations to the inherited state (only properties that are present)."""
        v = d.values
        sticky = list(parent.sticky)
        visibility, fontzero, indent = parent.visibility, parent.fontzero, parent.indent

        def get(prop: str) -> str | None:
            item = v.get(prop)
            return item[1] if item else None

        def hide(prop: str, label: str, shown: str | None = None) -> _Conceal:
            return _Conceal(f"css:{shown or prop + ':' + (get(prop) or '')} ({d.via(prop)})", label, True, el)

        display = get("display")
        if display == "none":
            sticky.append(hide("display", "display:none"))
        elif display is None and "hidden" in el.attrib:
            sticky.append(_Conceal("hidden attribute", "hidden属性", True, el))
        if "visibility" in v:
            vis = get("visibility")
            if vis in ("hidden", "collapse"):
                visibility = hide("visibility", f"visibility:{vis}")
            elif vis == "visible":
                visibility = None
        if "opacity" in v:
            opacity = get("opacity") or ""
            try:
                op = float(opacity[:-1]) / 100 if opacity.endswith("%") else float(opacity)
            except ValueError:
                op = 1.0
            if op <= 0.05:
                sticky.append(hide("opacity", "opacity:0"))
        if "filter" in v and _FILTER_ZERO_RE.search(get("filter") or ""):
            sticky.append(hide("filter", "filter:opacity(0)"))
        if "overflow" in v or "overflow-x" in v or "overflow-y" in v:
            overflow = " ".join(x for x in (get("overflow"), get("overflow-x"), get("overflow-y")) if x)
            if "hidden" in overflow or "clip" in overflow:
                for prop in ("height", "max-height", "width", "max-width"):
                    px = length_px(get(prop))
                    if px is not None and px <= 1:
                        shown = f"{prop}:{get(prop)}+overflow:hidden"
                        sticky.append(hide(prop, shown, shown))
                        break
        if "font-size" in v or "font" in v:
            size = get("font-size")
            if size is None:
                for token in (get("font") or "").split():
                    if token[:1].isdigit() or token[:1] == ".":
                        size = token.split("/")[0]
                        break
            if size is not None:
                px = length_px(size)
                if px is not None and px <= 1:
                    fontzero = hide("font-size", f"font-size:{size}", f"font-size:{size}")
                elif px is not None or size.endswith("%") or size.isalpha():
                    fontzero = None
        position = get("position")
        if position in ("absolute", "fixed") and "clip" in v:
            clip = get("clip") or ""
            m = _CLIP_RECT_RE.search(clip)
            if m and all(abs(float(n)) <= 1 for n in _NUM_RE.findall(m.group(1))):
                sticky.append(hide("clip", f"clip:{clip}"))
        if "clip-path" in v and _CLIP_PATH_ZERO_RE.search(get("clip-path") or ""):
            sticky.append(hide("clip-path", "clip-path"))
        if position in ("absolute", "fixed", "relative"):
            offsets = [
                f"{prop}:{get(prop)}"
                for prop in ("left", "top")
                if (px := length_px(get(prop))) is not None and px <= -500
            ]
            if offsets:
                shown = ";".join(offsets)
                sticky.append(hide("left", f"定位移出屏幕（{shown}）", f"position:{position};{shown}"))
            elif (px := length_px(get("right"))) is not None and px >= 2000:
                sticky.append(hide("right", f"定位移出屏幕（right:{get('right')}）"))
        for prop in ("margin-left", "margin-top"):
            if prop in v and (px := length_px(get(prop))) is not None and px <= -500:
                sticky.append(hide(prop, f"负边距移出屏幕（{prop}:{get(prop)}）"))
        if "text-indent" in v:
            ti = get("text-indent") or ""
            px = length_px(ti)
            indent = hide("text-indent", f"text-indent:{ti}") if px is not None and px <= -500 else None
        if "transform" in v:
            transform = get("transform") or ""
            hidden_tf = bool(_SCALE_ZERO_RE.search(transform))
            if not hidden_tf:
                for m in _TRANSLATE_RE.finditer(transform):
                    if any((px := length_px(x)) is not None and px <= -500 for x in m.groups() if x):
                        hidden_tf = True
            if hidden_tf:
                sticky.append(hide("transform", f"transform:{transform}"))
        if tag == "marquee":
            sticky.extend(self._marquee(el, d))
        color = parent.color
        if "color" in v:
            own_color = get("color") or ""
            if own_color not in ("inherit", "currentcolor", "unset"):
                color = parse_color(own_color) or color
        bg = parent.bg
        for prop in ("background-color", "background"):
            value = get(prop)
            if value:
                c = parse_color(value)
                if c is not None and c[3] > 0.5:
                    bg = c
                elif "url(" in value or "gradient" in value:
                    bg = "image"
                break
        return _State(tuple(sticky), visibility, fontzero, indent, color, bg, parent.origin)

    @staticmethod
    def _marquee(el: etree._Element, d: _Decls) -> list[_Conceal]:
        for prop in ("width", "height"):
            px = length_px(d.get(prop)) if d.get(prop) else length_px(el.get(prop), unitless_px=True)
            if px is not None and px <= 2:
                return [
                    _Conceal(f"marquee {prop}={el.get(prop) or d.get(prop)}", "marquee极小尺寸", True, el)
                ]
        try:
            amount = int(el.get("scrollamount") or 0)
        except ValueError:
            amount = 0
        if amount >= 300:
            return [_Conceal(f"marquee scrollamount={amount}", "marquee高速滚动", True, el)]
        return []

    # ---------------------------------------------------------------- walk
    def run(self) -> list[DarkLinkHit]:
        interesting: set[etree._Element] = set()
        for target in self.root.iter(*_WALK_TARGETS):
            if target.tag is etree.Comment and not _HTML_IN_TEXT_RE.search(target.text or ""):
                continue
            node: etree._Element | None = target
            while node is not None and node not in interesting:
                interesting.add(node)
                node = node.getparent()
        for comment in self.root.iter(etree.Comment):
            if _SEO_MARKER_RE.match(comment.text or ""):
                block = comment.getnext()
                if block is not None and isinstance(block.tag, str):
                    marker = _trim(_clean_text(comment.text or ""), 40)
                    self._seo_blocks[block] = _Conceal(
                        f"comment-wrapped SEO block (<!--{marker}-->)",
                        "<!--seo-->注释包裹的区块",
                        False,
                        block,
                    )
        self.walk(self.root, _State(), interesting)
        self._flush_internal_links()
        self._meta_refresh()
        self._head_hijack()
        order = sorted(range(len(self.hits)), key=self._order.__getitem__)
        return [self.hits[i] for i in order]

    def _flush_internal_links(self) -> None:
        pending, self._pending_internal = self._pending_internal, []
        if not pending:
            return
        # The host is known to be ours: only the path and query of the URL can carry spam words, and a
        # title that repeats the anchor text adds nothing.
        batch = "|".join(
            f"{p.raw_text} {p.alts} {'' if p.title in p.raw_text else p.title} "
            f"{_unquote_safe(_PATH_OF_URL_RE.sub('', p.target))}"
            for p in pending
        )
        if not spam_terms_in(batch, self.options):
            return  # internal and free of spam words: none of them can qualify
        for p in pending:
            self._judge_link(p)

    def walk(self, root: etree._Element, state: _State, interesting: set[etree._Element] | None) -> None:
        """Visit ``root`` top-down, each element once, handing every element its parent's state.

        ``interesting``: the only elements worth entering (ancestors of links, iframes, scripts and
        link-bearing comments); ``None`` visits everything (small script / comment fragments).
        """
        # Each entry: element, parent's state, ancestor keys, parent's path signature (see _compute).
        stack: list[tuple[etree._Element, _State, frozenset[str], int]] = [(root, state, frozenset(), 0)]
        wanted = self.index.ancestor_keys
        tag_rules = self.index.by_tag
        always = bool(self.index.universal)
        while stack:
            el, pstate, ancestors, psig = stack.pop()
            tag = el.tag
            if not isinstance(tag, str):
                if tag is etree.Comment:
                    self._comment(el, pstate)
                continue
            # Fast path: no attribute that styles, no rule for the tag — the parent's state holds.
            names = el.keys()
            if always or tag in tag_rules or tag in _SIZE_ATTR_TAGS or not _STYLING_ATTRS.isdisjoint(names):
                el_id = el.get("id")
                cls_attr = el.get("class")
                st, decls, sig = self._compute(el, tag, pstate, ancestors, el_id, cls_attr, psig)
            else:
                el_id = cls_attr = None
                st, decls, sig = pstate, None, self._signature(psig, tag, None, None)
            if self._seo_blocks and el in self._seo_blocks:
                st = st._replace(sticky=(*st.sticky, self._seo_blocks[el]))
            if tag == "a":
                self._link(el, st, decls)
            elif tag in ("iframe", "frame"):
                self._iframe(el, st, decls)
                continue
            elif tag == "script":
                self._script(el, st)
                continue
            elif tag == "style":
                continue
            elif tag == "noscript":
                st = st._replace(sticky=(*st.sticky, _Conceal("inside <noscript>", "noscript中", False, el)))
            if wanted:
                own = self.index.element_keys(tag, el_id, cls_attr)
                if own and not ancestors.issuperset(own):
                    ancestors = ancestors.union(own)
            children = [c for c in el if interesting is None or c in interesting]
            for child in reversed(children):
                stack.append((child, st, ancestors, sig))

    # ---------------------------------------------------------------- reporting
    def _report(
        self,
        kind: str,
        target: str | None,
        text: str,
        techniques: list[str],
        verdict: _Verdict | None,
        snippet: str,
        message: str,
        extra_reasons: Iterable[str] = (),
        seq: int | None = None,
        evidence: Iterable[str] = (),
        candidate_of: str = "",
    ) -> None:
        key = (kind, target, text)
        if key in self._seen:
            return
        self._seen.add(key)
        reasons = [*(verdict.reasons() if verdict else ()), *extra_reasons]
        if seq is None:
            self._seq += 1
            seq = self._seq
        self._order.append(seq)
        self.hits.append(
            DarkLinkHit(
                self.page_url,
                target,
                text,
                tuple(dict.fromkeys(techniques)),
                tuple(reasons),
                _trim(snippet),
                kind,
                message,
                tuple(dict.fromkeys(evidence)),
                candidate_of,
            )
        )

    def _link(self, el: etree._Element, st: _State, decls: _Decls | None) -> None:
        # Cheapest tests first: most links on a page are neither concealed nor camouflaged, and most
        # concealed ones (tab panes, dropdowns) are internal: no text cleaning before the verdict.
        conceals = st.conceals() if st.sticky or st.visibility or st.fontzero or st.indent else []
        leaf = len(el) == 0
        if (decls is not None and "color" in decls.values) or not leaf:
            extra = self._camouflage(el, st, decls)
            if extra:
                conceals.append(extra)
        raw_text = (el.text or "") if leaf else "".join(el.itertext())
        if _ZW_RE.search(raw_text):
            zw = self._zero_width(el, raw_text, _clean_text(raw_text))
            if zw:
                conceals.append(zw)
        if not conceals:
            return
        target = _resolve(self.base, el.get("href"))
        if target is None:
            return
        self._seq += 1
        pending = _PendingLink(
            el,
            target,
            raw_text,
            "" if leaf else " ".join(img.get("alt") or "" for img in el.iter("img")),
            el.get("title") or "",
            conceals,
            "script_link" if st.origin == "script" else "hidden_link",
            self._seq,
        )
        if own_url(target, self.options) or not host_of_link(target):
            self._pending_internal.append(pending)
        else:
            self._judge_link(pending)

    def _judge_link(self, p: _PendingLink) -> None:
        """Apply the decision rule to one concealed link and report it if it qualifies."""
        el, target, raw_text, alts, title, conceals, kind = (
            p.el,
            p.target,
            p.raw_text,
            p.alts,
            p.title,
            p.conceals,
            p.kind,
        )
        verdict = _verdict(target, f"{raw_text} {alts} {title}", self.options)
        strong = any(c.strong for c in conceals)
        evidence = verdict.evidence()
        container = next((c.container for c in conceals if c.container is not None), None)
        nearby: list[str] = []
        if not evidence and container is not None and container is not el:
            nearby = self._nearby_terms(container)
            if nearby:
                evidence.append("spam_nearby")
        if not evidence:
            if strong and verdict.outside():
                self._candidate(p, verdict)
            return
        text = _clean_text(raw_text)
        label_text = text or _clean_text(alts) or _clean_text(title)
        techniques = [c.technique for c in conceals]
        wrapped = _comment_wrapper(container if container is not None else el)
        if wrapped and not any(t.startswith("comment-wrapped") for t in techniques):
            techniques.append(wrapped)
        link_html = _outer_html(el)
        if container is None or container is el:
            snippet = link_html
        elif container.tag == "script":
            snippet = f"{_trim(container.text or _start_tag(container), 300)} ⇒ {link_html}"
        else:
            snippet = f"{_start_tag(container)}…{link_html}"
        labels = "、".join(dict.fromkeys(c.label for c in conceals))
        message = (
            f"页面存在{KIND_LABELS[kind]}（{labels}），指向{verdict.target_phrase(target)}，"
            f"锚文本“{label_text or '（无可见文字）'}”"
        )
        if verdict.terms:
            message += f"，含违规词“{'、'.join(verdict.terms)}”"
        if nearby:
            message += f"，所在隐藏区块含违规词“{'、'.join(nearby)}”"
        extra = [f"spam vocabulary nearby: {'、'.join(nearby)}"] if nearby else []
        self._report(
            kind, target, label_text, techniques, verdict, snippet, message, extra, p.seq, evidence
        )

    def _nearby_terms(self, container: etree._Element) -> list[str]:
        """Spam words in a concealing block's own text (once per block: its links share it)."""
        terms = self._nearby.get(container)
        if terms is None:
            terms = self._nearby[container] = spam_terms_in(_text_beside_links(container), self.options)
        return terms

    def _candidate(self, p: _PendingLink, verdict: _Verdict) -> None:
        """A strongly concealed link to an outside site without spam evidence: not a dark link by itself
        (real portals hide 友情链接 drop-downs, share menus, vendor credits). Kept as a candidate: the
        check counts it, and reports it only if the target page turns out to carry spam content."""
        text = _clean_text(p.raw_text) or _clean_text(p.alts) or _clean_text(p.title)
        labels = "、".join(dict.fromkeys(c.label for c in p.conceals))
        message = (
            f"页面存在{KIND_LABELS[p.kind]}（{labels}），指向{verdict.target_phrase(p.target)}，"
            f"锚文本“{text or '（无可见文字）'}”"
        )
        techniques = [c.technique for c in p.conceals]
        self._report_candidate(p.kind, p.target, text, techniques, verdict, _outer_html(p.el), message, p.seq)

    def _report_candidate(
        self,
        kind: str,
        target: str,
        text: str,
        techniques: list[str],
        verdict: _Verdict,
        snippet: str,
        message: str,
        seq: int | None = None,
    ) -> None:
        """Report a candidate (``kind="candidate"``): an outside target in a concealing or redirecting
        context, without spam evidence of its own — the target page's content decides."""
        self._report(
            "candidate", target, text, techniques, verdict, snippet, message, seq=seq, candidate_of=kind
        )

    def _camouflage(self, el: etree._Element, st: _State, decls: _Decls | None) -> _Conceal | None:
        color = st.color if decls is not None and decls.get("color") is not None else None
        if color is None:
            for sub in el.iterdescendants():
                sub_color = sub.get("color") if sub.tag == "font" else None
                if sub_color is None and "color" in (sub.get("style") or ""):
                    sub_color = dict((p, v) for p, v, _ in parse_declarations(sub.get("style") or "")).get(
                        "color"
                    )
                if sub_color:
                    color = parse_color(sub_color)
                    break
        if color is None or (color == self._last_visible[0] and st.bg == self._last_visible[1]):
            return None  # same colours as the previous, visible, link (lists of links)
        if color[3] <= 0.05:
            return _Conceal("camouflage: transparent text colour", "文字颜色透明", True, el)
        bg = st.bg
        if bg is None and self.cascade_complete:
            bg = (255, 255, 255, 1.0)  # every stylesheet is known and none sets a background: UA white
        if isinstance(bg, tuple) and same_color(color, bg):
            return _Conceal(
                f"camouflage: text colour {color_hex(color)} equals background {color_hex(bg)}",
                f"文字颜色与背景色同为{color_hex(color)}",
                True,
                el,
            )
        self._last_visible = (color, st.bg)
        return None

    def _zero_width(self, el: etree._Element, raw_text: str, text: str) -> _Conceal | None:
        if not text and not any(True for _ in el.iter("img")):
            return _Conceal("zero-width characters only (invisible anchor)", "锚文本仅含零宽字符", True, el)
        split_terms = spam_terms_in(_ZW_RE.sub("|", raw_text), self.options)
        joined_terms = spam_terms_in(raw_text, self.options)
        if any(t not in split_terms for t in joined_terms):
            return _Conceal("zero-width characters inside spam words", "零宽字符拆分违规词", True, el)
        return None

    def _iframe(self, el: etree._Element, st: _State, decls: _Decls | None) -> None:
        target = _resolve(self.base, el.get("src"))
        if target is None:
            return
        conceals = st.conceals()
        for prop in ("width", "height"):
            value = decls.get(prop) if decls is not None else None
            px = length_px(value) if value else length_px(el.get(prop), unitless_px=True)
            if px is not None and px <= 1:
                conceals.append(
                    _Conceal(f"iframe {prop}={value or el.get(prop)}", "iframe尺寸为0或1像素", True, el)
                )
                break
        verdict = _verdict(target, el.get("title") or "", self.options)
        evidence = verdict.evidence()
        labels = "、".join(dict.fromkeys(c.label for c in conceals)) or "可见iframe"
        kind_label = "隐藏iframe" if conceals else "iframe"
        message = f"页面嵌入{kind_label}（{labels}），加载{verdict.target_phrase(target)}的页面 {target}"
        if not evidence:
            # Hidden iframes of statistics and share services are common: the target's content decides.
            if any(c.strong for c in conceals) and verdict.outside():
                techniques = [c.technique for c in conceals]
                self._report_candidate("iframe", target, "", techniques, verdict, _outer_html(el), message)
            return
        if verdict.terms:
            message += f"，含违规词“{'、'.join(verdict.terms)}”"
        techniques = [c.technique for c in conceals] or ["iframe"]
        self._report("iframe", target, "", techniques, verdict, _outer_html(el), message, evidence=evidence)

    def _comment(self, node: etree._Element, st: _State) -> None:
        text = node.text or ""
        if not _HTML_IN_TEXT_RE.search(text):
            return
        frag = _fragment(text)
        if frag is None:
            return
        if self._uncommenter is None:
            code = [el.text or "" for el in self.root.iter("script")]
            code.extend(self.scripts.values())
            self._uncommenter = any(_UNCOMMENTER_RE.search(c) for c in code)
        if self._uncommenter:
            conceal = _Conceal(
                "inside HTML comment uncommented by a script", "HTML注释中（由脚本释放）", True, None
            )
        else:
            conceal = _Conceal("inside HTML comment", "HTML注释中", False, None)
        state = st._replace(sticky=(*st.sticky, conceal), origin="comment")
        self.walk(frag, state, None)

    # ---------------------------------------------------------------- scripts
    def _script(self, el: etree._Element, st: _State) -> None:
        script_type = (el.get("type") or "").strip().lower()
        if script_type not in _JS_TYPES:
            return
        src = el.get("src")
        if src:
            url = _resolve(self.base, src)
            if url is None:
                return
            verdict = _verdict(url, "", self.options)
            if verdict.terms or verdict.suspicious:
                self._report(
                    "script_link",
                    url,
                    "",
                    ["external script from a spam domain"],
                    verdict,
                    _outer_html(el),
                    f"页面引用了来自{verdict.target_phrase(url)}的脚本 {url}",
                    evidence=verdict.evidence(),
                )
            code = self.scripts.get(url)
            origin_label = url
        else:
            code = el.text
            origin_label = "inline <script>"
        if not code or not code.strip() or self._script_nesting >= _MAX_SCRIPT_NESTING:
            return
        self._script_nesting += 1
        try:
            for i, payload in enumerate(expand_script(code)):
                self._script_payload(el, st, payload, origin_label, as_written=i == 0)
        finally:
            self._script_nesting -= 1

    def _script_payload(
        self, el: etree._Element, st: _State, payload: Payload, origin_label: str, as_written: bool
    ) -> None:
        """Redirects, ``document.title`` and written HTML in one decoded payload.

        The script as written is only searched for redirects: its HTML is read from its string literals
        (their own payloads), which is where quoting and escapes are resolved.
        """
        text = payload.text
        for redirect in find_redirects(payload):
            self._redirect(el, payload, redirect.target, redirect.keyed_on, origin_label, redirect.code)
        if "title" in text:
            for m in _TITLE_SET_RE.finditer(text):
                terms = spam_terms_in(m.group(2), self.options)
                if terms:
                    self._report(
                        "head_hijack",
                        None,
                        _clean_text(m.group(2)),
                        ["document.title set by script"],
                        None,
                        text,
                        f"页面标题被脚本改写为“{_clean_text(m.group(2))}”，含违规词“{'、'.join(terms)}”",
                        [f"spam vocabulary: {'、'.join(terms)}"],
                        evidence=("head_hijack",),
                    )
        if not as_written and _HTML_IN_TEXT_RE.search(text):
            frag = _fragment(text)
            if frag is None:
                return
            layers = "+".join(payload.layers)
            if payload.obfuscated:
                conceal = _Conceal(
                    f"written by script, decoded via {layers} ({origin_label})",
                    f"脚本经{layers}混淆写入",
                    True,
                    el,
                )
            else:
                conceal = _Conceal(f"written by script ({origin_label})", "脚本写入", False, el)
            self.walk(frag, st._replace(sticky=(*st.sticky, conceal), origin="script"), None)

    def _redirect(
        self,
        el: etree._Element,
        payload: Payload,
        raw_target: str,
        keyed_on: str | None,
        origin_label: str,
        code: str,
    ) -> None:
        target = _resolve(self.base, raw_target)
        if target is None:
            return
        verdict = _verdict(target, "", self.options)
        evidence = verdict.evidence()
        if keyed_on is not None and verdict.outside():
            # Sending only spiders or search-engine visitors elsewhere is cloaking: evidence by itself.
            evidence.append("spider_only")
        if not evidence and not verdict.outside():
            return  # mobile-site switches and moves within government hosts: never dark links
        techniques = []
        if keyed_on == "referrer":
            techniques.append("redirect keyed on document.referrer (search-engine visitors)")
            label = "仅对从搜索引擎进入的访客跳转"
        elif keyed_on == "useragent":
            techniques.append("redirect keyed on navigator.userAgent (spiders)")
            label = "仅对搜索引擎爬虫跳转"
        else:
            techniques.append("script redirect")
            label = "脚本直接跳转"
        if payload.obfuscated:
            techniques.append(f"decoded via {'+'.join(payload.layers)}")
            label += f"，脚本经{'+'.join(payload.layers)}混淆"
        message = (
            f"页面存在{KIND_LABELS['js_redirect']}（{label}），跳转至{verdict.target_phrase(target)} {target}"
        )
        if verdict.terms:
            message += f"，含违规词“{'、'.join(verdict.terms)}”"
        snippet = code if payload.obfuscated or not el.text else (el.text or payload.text)
        if not evidence:  # an outside target: what it serves decides
            self._report_candidate("js_redirect", target, "", techniques, verdict, snippet, message)
            return
        self._report("js_redirect", target, "", techniques, verdict, snippet, message, evidence=evidence)

    # ---------------------------------------------------------------- head
    def _meta_refresh(self) -> None:
        for meta in self.root.iter("meta"):
            if (meta.get("http-equiv") or "").strip().lower() != "refresh":
                continue
            delay, target = _refresh_target(meta.get("content") or "", self.base)
            if target is None:
                continue
            verdict = _verdict(target, "", self.options)
            evidence = verdict.evidence()
            if not evidence and not verdict.outside():
                continue  # a refresh within the site or to another government host
            message = (
                f"页面存在{KIND_LABELS['meta_refresh']}（{delay}秒后），跳转至"
                f"{verdict.target_phrase(target)} {target}"
            )
            if verdict.terms:
                message += f"，含违规词“{'、'.join(verdict.terms)}”"
            techniques = [f"meta refresh after {delay}s"]
            if not evidence:  # a moved site's refresh stub, or a hijack: what the target serves decides
                snippet = _outer_html(meta)
                self._report_candidate("meta_refresh", target, "", techniques, verdict, snippet, message)
                continue
            self._report(
                "meta_refresh", target, "", techniques, verdict, _outer_html(meta), message, evidence=evidence
            )

    def _head_hijack(self) -> None:
        head = _head_fields(self.root)
        terms = spam_terms_in(" ".join(head.values()), self.options)
        if not terms:
            return
        body = self.root.find("body")
        body_text = _visible_text(body) if body is not None else ""
        body_terms = spam_terms_in(body_text, self.options)
        discussed = all(t in body_terms for t in terms)
        # Terms the page body also discusses are its topic, not a hijack: one term (a news story about a
        # gambling case), or several in a story about a crackdown (警方破获“百家乐”“时时彩”网络赌博案).
        if discussed and (len(terms) < 2 or _CRACKDOWN_RE.search(body_text)):
            return
        where = "、".join(
            n
            for n, v in (("标题", head["title"]), ("关键词", head["keywords"]), ("描述", head["description"]))
            if spam_terms_in(v, self.options)
        )
        message = f"页面{where}被植入违规词“{'、'.join(terms)}”（标题：“{_trim(head['title'], 60)}”）"
        snippet = " | ".join(f"{k}: {v}" for k, v in head.items() if v)
        self._report(
            "head_hijack",
            None,
            head["title"],
            ["title/keywords/description stuffed with spam vocabulary"],
            None,
            snippet,
            message,
            [f"spam vocabulary: {'、'.join(terms)}"],
            evidence=("head_hijack",),
        )


_TEXT_BESIDE_LINKS = etree.XPath(
    "descendant-or-self::text()[not(ancestor::a) and not(ancestor::script) and not(ancestor::style)]"
)


def _text_beside_links(container: etree._Element, limit: int = 2000) -> str:
    """The text of a concealing block outside its links (``<div hidden>澳门赌场 <a>点击进入</a></div>``):
    spam words there make every link of the block suspect; the other links' own anchors do not."""
    parts: list[str] = []
    size = 0
    for text in _TEXT_BESIDE_LINKS(container):
        parts.append(str(text))
        size += len(text)
        if size >= limit:
            break
    return " ".join(parts)[:limit]


#: Words of news about fighting gambling and porn: a page about a crackdown names the spam terms.
_CRACKDOWN_RE = re.compile(
    r"打击|破获|查处|侦破|捣毁|警方|公安|涉赌|犯罪|判处|判决|整治|专项行动|举报|反诈|诈骗"
)


def _comment_wrapper(el: etree._Element) -> str | None:
    """``<!--seo--><div …>`` — the element follows a marker comment directly."""
    prev = el.getprevious()
    if prev is not None and prev.tag is etree.Comment and not (prev.tail or "").strip():
        marker = _trim(_clean_text(prev.text or ""), 40)
        if marker and not _HTML_IN_TEXT_RE.search(prev.text or ""):
            return f"comment-wrapped block (<!--{marker}-->)"
    return None


_REFRESH_RE = re.compile(r"""^\s*(\d*(?:\.\d+)?)\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)['"]?\s*$""", re.I)


def _refresh_target(content: str, base: str) -> tuple[str, str | None]:
    m = _REFRESH_RE.match(content)
    if m is None or not m.group(2).strip():
        return "0", None
    return m.group(1) or "0", _resolve(base, m.group(2).strip())


def _head_fields(root: etree._Element) -> dict[str, str]:
    title_el = root.find(".//title")
    fields = {
        "title": _clean_text("".join(title_el.itertext())) if title_el is not None else "",
        "keywords": "",
        "description": "",
    }
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name in ("keywords", "description"):
            # Injected pages often carry a second keywords / description tag: keep them all.
            content = _clean_text(meta.get("content") or "")
            fields[name] = f"{fields[name]} {content}".strip() if fields[name] else content
    return fields


def _visible_text(el: etree._Element) -> str:
    """Text of ``el`` without scripts, styles and comments (which ``itertext`` already skips)."""
    parts: list[str] = []
    skip = ("script", "style", "template")
    for node in el.iter():
        if not isinstance(node.tag, str):
            if node.tail:
                parts.append(node.tail)
            continue
        if node.tag not in skip and node.text:
            parts.append(node.text)
        if node.tail and node is not el:
            parts.append(node.tail)
    return " ".join(parts)


# ==================================================================================================
# Public API


def analyze_page(
    html: str,
    page_url: str,
    options: DarkLinkOptions,
    stylesheets: Mapping[str, str] | None = None,
    scripts: Mapping[str, str] | None = None,
) -> list[DarkLinkHit]:
    """All dark links, hidden iframes, script redirects, meta refreshes and head hijacks of one page.

    ``stylesheets`` / ``scripts``: already-fetched same-site CSS / JS keyed by the absolute URLs that
    :func:`linked_stylesheets` / :func:`linked_scripts` return.  Never raises on malformed HTML.
    """
    return analyze_document(parse_document(html, plain=True), page_url, options, stylesheets, scripts)


def analyze_document(
    root: etree._Element | None,
    page_url: str,
    options: DarkLinkOptions,
    stylesheets: Mapping[str, str] | None = None,
    scripts: Mapping[str, str] | None = None,
) -> list[DarkLinkHit]:
    """:func:`analyze_page` on a document already parsed with :func:`monitor.web.html.parse_document`
    (``plain=True``; the tree is only read, so other analyses of the page can share it)."""
    if root is None:
        return []
    return _PageAnalysis(root, page_url, options, stylesheets or {}, scripts or {}).run()


def _links(root: etree._Element, base: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in root.iter("a"):
        url = _resolve(base, a.get("href"))
        if url and url not in out:
            out[url] = _clean_text("".join(a.itertext()))
    return out


def compare_versions(
    browser_html: str, spider_html: str, page_url: str, options: DarkLinkOptions
) -> list[DarkLinkHit]:
    """Cloaking: links and spam words served only to the spider user agent.

    Fetch the page twice (browser UA, e.g. Chrome; spider UA, e.g. Baiduspider) and pass both bodies.
    Spider-only links count as strongly concealed (external or spam → hit); spam words that only the
    spider sees give one text hit.  Internal links that differ (rotating news lists) stay silent.
    """
    b_root, s_root = parse_document(browser_html, plain=True), parse_document(spider_html, plain=True)
    if s_root is None:
        return []
    base = _base_url(s_root, page_url)
    b_links = _links(b_root, _base_url(b_root, page_url)) if b_root is not None else {}
    hits: list[DarkLinkHit] = []
    for url, text in _links(s_root, base).items():
        if url in b_links:
            continue
        verdict = _verdict(url, text, options)
        if not verdict.outside() and not verdict.evidence():
            continue
        message = "搜索引擎爬虫访问时页面出现浏览器访问时没有的链接，"
        message += f"指向{verdict.target_phrase(url)}，锚文本“{text}”"
        if verdict.terms:
            message += f"，含违规词“{'、'.join(verdict.terms)}”"
        snippet = next(
            (_outer_html(a) for a in s_root.iter("a") if _resolve(base, a.get("href")) == url), url
        )
        hits.append(
            DarkLinkHit(
                page_url,
                url,
                text,
                ("cloaking: link served only to spider user agent",),
                tuple(verdict.reasons()),
                _trim(snippet),
                "cloaking",
                message,
                ("spider_only", *verdict.evidence()),
            )
        )

    def all_text(root: etree._Element | None) -> str:
        if root is None:
            return ""
        return " ".join([*_head_fields(root).values(), _visible_text(root)])

    spider_terms = spam_terms_in(all_text(s_root), options)
    if spider_terms:
        browser_terms = spam_terms_in(all_text(b_root), options)
        only = [t for t in spider_terms if t not in browser_terms]
        if only:
            title = _head_fields(s_root)["title"]
            hits.append(
                DarkLinkHit(
                    page_url,
                    None,
                    title,
                    ("cloaking: spam text served only to spider user agent",),
                    (f"spam vocabulary: {'、'.join(only)}",),
                    _trim(title),
                    "cloaking",
                    f"搜索引擎爬虫访问时页面出现违规词“{'、'.join(only)}”，浏览器访问时不存在（疑似针对爬虫的劫持）",
                    ("spider_only", "spam_words"),
                )
            )
    return hits


def head_signature(html: str, page_url: str, options: DarkLinkOptions) -> dict:
    """What to keep run to run for defacement comparison (JSON-serialisable).

    Keys: ``title``, ``keywords``, ``description``, ``external_domains`` (sorted hosts of external
    links and iframes), ``head_spam_terms``, ``head_hijacked`` (the :func:`analyze_page` head rule).
    """
    root = parse_document(html, plain=True)
    if root is None:
        return {
            "title": "",
            "keywords": "",
            "description": "",
            "external_domains": [],
            "head_spam_terms": [],
            "head_hijacked": False,
        }
    base = _base_url(root, page_url)
    fields = _head_fields(root)
    domains: set[str] = set()
    for el in root.iter("a", "iframe"):
        url = _resolve(base, el.get("href") if el.tag == "a" else el.get("src"))
        if url:
            host = host_of_link(url)
            if host and not _under(host, options.site_domains):
                domains.add(host)
    terms = spam_terms_in(" ".join(fields.values()), options)
    hijacked = False
    if terms:
        analysis = _PageAnalysis(root, page_url, options, {}, {})
        analysis._head_hijack()
        hijacked = bool(analysis.hits)
    return {
        **fields,
        "external_domains": sorted(domains),
        "head_spam_terms": terms,
        "head_hijacked": hijacked,
    }


@dataclass(frozen=True)
class DefacementSignal:
    """One change for the worse since the previous head signature.

    ``kind``: ``"head_spam"`` (spam words in title / keywords / description — veto level) or
    ``"new_domain"`` (external link domains not seen before; ``suspicious`` lists the ones that look like
    spam domains).
    """

    kind: str
    message: str
    terms: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    suspicious: tuple[str, ...] = ()


def defacement_changes(
    previous: dict | None, current: dict, options: DarkLinkOptions
) -> list[DefacementSignal]:
    """Structured form of :func:`defacement_signals` (same rules, same messages)."""
    out: list[DefacementSignal] = []
    cur_terms = list(current.get("head_spam_terms") or [])
    if previous is None:
        if current.get("head_hijacked"):
            out.append(
                DefacementSignal(
                    "head_spam",
                    f"页面标题/关键词/描述含违规词“{'、'.join(cur_terms)}”"
                    f"（标题：“{current.get('title', '')}”），疑似被篡改",
                    terms=tuple(cur_terms),
                )
            )
        return out
    prev_terms = set(previous.get("head_spam_terms") or [])
    new_terms = [t for t in cur_terms if t not in prev_terms]
    if new_terms:
        old_title, new_title = previous.get("title", ""), current.get("title", "")
        change = (
            f"（标题由“{old_title}”变为“{new_title}”）"
            if old_title != new_title
            else f"（标题：“{new_title}”）"
        )
        out.append(
            DefacementSignal(
                "head_spam",
                f"页面标题/关键词/描述新出现违规词“{'、'.join(new_terms)}”{change}，疑似被篡改",
                terms=tuple(new_terms),
            )
        )
    prev_domains = set(previous.get("external_domains") or [])
    new_domains = [
        d
        for d in current.get("external_domains") or []
        if d not in prev_domains and not _under(d, options.allow_domains) and not _under(d, BENIGN_SUFFIXES)
    ]
    if new_domains:
        shown = "、".join(new_domains[:10]) + ("等" if len(new_domains) > 10 else "")
        msg = f"页面新增{len(new_domains)}个外部链接域名：{shown}（上次检测时不存在）"
        bad = [d for d in new_domains if suspicious_domain(d)]
        if bad:
            msg += f"，其中可疑域名：{'、'.join(bad[:10])}"
        out.append(DefacementSignal("new_domain", msg, domains=tuple(new_domains), suspicious=tuple(bad)))
    return out


def defacement_signals(previous: dict | None, current: dict, options: DarkLinkOptions) -> list[str]:
    """Chinese messages for what changed for the worse since the previous signature.

    First run (``previous`` is None): only a head hijack is reported.  Later runs: new spam words in
    title / keywords / description, and new external link domains that are not government or
    allow-listed hosts (suspicious ones named separately).
    """
    return [signal.message for signal in defacement_changes(previous, current, options)]
