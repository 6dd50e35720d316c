"""A crawled HTML page, parsed once with lxml and shared by every page check.

Link extraction covers every reference a browser loads or follows (docs/links.md lists them): a/area href,
img/script/iframe/frame/source/embed/video/audio/track src, img/source srcset, video poster, link href,
object data, input[type=image] src, button/input formaction, ``<meta http-equiv=refresh>``, the legacy
``background`` attribute of tables and body, and the CSS of ``style`` attributes and ``<style>`` blocks,
honouring ``<base href>``. We use lxml's HTML parser directly
(not BeautifulSoup on top of it): it is what BeautifulSoup would call anyway, without the tree copy
(see bench/README.md for the measurement).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, TypeVar, cast

import lxml.html
from lxml import etree
from yarl import URL

from monitor.core.urls import InvalidURL, percent_encode, resolve, resolver, scheme_of
from monitor.web.cssrefs import CssReference, declaration_references, stylesheet_references
from monitor.web.html import parse_document, parse_html, parse_utf8
from monitor.web.visible_text import BODY, VisibleText, extract_visible_text

T = TypeVar("T")

# (tag, attribute) pairs that point at something the browser will load or the user can follow.
LINK_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "img": ("src",),
    "script": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src",),
    "embed": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "object": ("data",),
    "input": ("src", "formaction"),
    "track": ("src",),
    "button": ("formaction",),
}
# Tags whose targets are pages a visitor navigates to (candidates for crawling). "meta" is a
# <meta http-equiv=refresh> target: the browser goes there by itself.
NAVIGATION_TAGS = frozenset({"a", "area", "iframe", "frame", "meta"})
# Tags of the links found in CSS: "stylesheet" (a <link rel=stylesheet> or an @import, fetched and read
# when it is the site's own) and "css" (a url() of a style attribute, <style> block or stylesheet).
STYLESHEET = "stylesheet"
CSS_RESOURCE = "css"
# The legacy background attribute (<td background="images/bg.gif">, common in older CMS templates): the
# browser loads it as the element's background image. Found with an XPath, and only when the page text
# has "background=" (most pages do not: no walk over every table cell).
BACKGROUND = "background"
_BACKGROUND_TAGS = frozenset({"body", "table", "thead", "tbody", "tfoot", "tr", "td", "th"})
_BACKGROUNDS = etree.XPath("//*[@background]")
# Tags of form submission targets (<button formaction>, <input formaction>): checked, never crawled.
FORM_TARGET = "form"
# Link texts of refresh targets: a <meta> has no text of its own (findings call it 自动跳转目标); one
# inside <noscript> says so, since only browsers without scripts follow it.
REFRESH = ""
NOSCRIPT_REFRESH = "仅限未启用脚本的浏览器"
# <link rel=…> values that name an origin, not a resource: never checked.
_ORIGIN_ONLY_RELS = frozenset({"dns-prefetch", "preconnect"})
# smart_strings=False: plain str results, without the back-reference to the tree lxml would attach.
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False
)


class Link(NamedTuple):
    """One reference found on a page. ``url`` is absolute and normalised, or None when invalid.

    A named tuple, not a frozen dataclass: a crawl creates one per link (millions on a big site) and a
    tuple is built several times faster.
    """

    url: str | None
    raw: str
    tag: str
    text: str
    skipped_scheme: str = ""
    error: str = ""

    @property
    def navigational(self) -> bool:
        """A link a visitor follows (as opposed to an embedded resource)."""
        return self.tag in NAVIGATION_TAGS


@dataclass
class Page:
    """A fetched HTML page of the site being crawled."""

    url: str
    final_url: str
    status: int
    depth: int
    html: str
    encoding: str
    is_homepage: bool = False
    truncated: bool = False
    _tree: lxml.html.HtmlElement | None = field(default=None, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    #: The body when it is valid UTF-8 (libxml2 parses bytes ~35 % faster than a str; same tree).
    utf8_body: bytes | None = field(default=None, repr=False)
    _visible_text: str | None = field(default=None, repr=False)

    @property
    def tree(self) -> lxml.html.HtmlElement:
        """The parsed document (parsed on first use, shared by every check)."""
        if self._tree is None:
            self._tree = parse_html(self.html) if self.utf8_body is None else parse_utf8(self.utf8_body)
        return self._tree

    @property
    def plain_tree(self) -> etree._Element | None:
        """The document parsed with plain lxml elements (:func:`~monitor.web.html.parse_document`,
        ``plain=True``; None when empty), parsed
        once for the analyses that walk every element: the dark-link engine and the visible text."""
        return self.memo("plain_tree", lambda: parse_document(self.html, plain=True))

    @cached_property
    def title(self) -> str:
        """Text of ``<title>``, whitespace-collapsed."""
        # Whichever parse the page already has (an analysis worker's plain one, else the crawl's tree): the
        # same libxml2 parse, so the same title. iter() filters by tag in C (find() walks in Python).
        tree = self._memo["plain_tree"] if self._tree is None and "plain_tree" in self._memo else self.tree
        node = next(tree.iter("title"), None) if tree is not None else None
        return " ".join(("".join(node.itertext()) if node is not None else "").split())

    @cached_property
    def base_url(self) -> URL:
        """Base for relative links: ``<base href>`` when present and valid, else the final URL."""
        base = URL(self.final_url)
        for node in self.tree.iter("base"):
            href = node.get("href")
            if href is None:
                continue
            try:
                return URL(resolve(base, href))
            except InvalidURL:
                break
        return base

    @cached_property
    def links(self) -> list[Link]:
        """Every link and embedded resource, in document order."""
        return extract_links(
            self.tree,
            self.base_url,
            self.encoding,
            styled=may_reference_in_css(self.html),
            backgrounds=may_have_backgrounds(self.html),
        )

    def visible_text(self) -> str:
        """Body text without scripts and styles, whitespace-collapsed (computed once per page)."""
        if self._visible_text is None:
            self._visible_text = " ".join(" ".join(_VISIBLE_TEXT(self.tree)).split())
        return self._visible_text

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value derived from the page, computed once and shared by every check (e.g. text scans)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def text(self) -> VisibleText:
        """What a visitor reads: title, body text and image alt text, with offsets (computed once)."""
        return self.memo("visible_text", self._extract_text)

    def _extract_text(self) -> VisibleText:
        root = self.plain_tree
        return extract_visible_text(root) if root is not None else VisibleText("", ((0, BODY),))

    def release(self) -> None:
        """Drop the body, tree and derived values once every check has seen the page (memory stays flat)."""
        self.html = ""
        self._tree = None
        self._memo.clear()
        self.utf8_body = None
        self._visible_text = None


def _anchor_text(node: lxml.html.HtmlElement) -> str:
    # A link without child elements (the usual case) has its text in .text: no XPath needed.
    raw = node.text_content() if len(node) else node.text
    text = " ".join(raw.split()) if raw else ""
    if not text:
        text = node.get("title") or node.get("alt") or ""
        if not text:
            img = node.find(".//img")
            if img is not None:
                text = img.get("alt") or img.get("title") or ""
    return text[:200]


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` list, as the HTML spec's "parse a srcset attribute" splits it.

    Hand-written (no maintained Python parser exists); it follows the spec's steps: a URL runs to the
    next whitespace (so a comma inside it stays), trailing commas end a candidate, and descriptors run to
    the next comma outside parentheses. Whitespace includes line breaks: multi-line lists work.
    """
    out: list[str] = []
    pos, n = 0, len(value)
    while True:
        while pos < n and (value[pos] in _HTML_SPACE or value[pos] == ","):
            pos += 1
        if pos >= n:
            return out
        start = pos
        while pos < n and value[pos] not in _HTML_SPACE:
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            in_parens = False
            while pos < n:
                c = value[pos]
                pos += 1
                if c == "(":
                    in_parens = True
                elif c == ")":
                    in_parens = False
                elif c == "," and not in_parens:
                    break
        if url:
            out.append(url)


_HTML_SPACE = " \t\n\r\f"
_REFRESH = re.compile(
    r"""[ \t\n\r\f]*[0-9.]+[ \t\n\r\f]*[;,]?[ \t\n\r\f]*(?:url[ \t\n\r\f]*=[ \t\n\r\f]*)?(.*)""",
    re.IGNORECASE | re.DOTALL,
)


def refresh_target(content: str) -> str | None:
    """The URL of a ``<meta http-equiv=refresh content=…>``, or None when it only reloads the page.

    The HTML spec's "shared declarative refresh steps": a delay, an optional ``;`` or ``,``, an optional
    ``url=``, and the URL, optionally quoted (a quoted URL ends at its closing quote).
    """
    m = _REFRESH.match(content)
    if m is None:
        return None
    url = m.group(1)
    if url[:1] in ("'", '"'):
        quote, url = url[0], url[1:]
        end = url.find(quote)
        if end != -1:
            url = url[:end]
    url = url.strip()
    return url or None


# WHATWG URL: in a document whose encoding is not UTF-8, the query is percent-encoded in that encoding;
# a character the encoding lacks becomes "%26%23N%3B" (its "&#N;" reference, percent-encoded: the
# standard's "percent-encode after encoding"). Only the query: the path is always UTF-8. Python's
# quote(..., encoding=…) with the error handler below does exactly this (ada, the URL parser, only knows
# UTF-8). The safe set is every printable ASCII character but the query percent-encode set of special
# URLs (space " # < > ') — "%" included, so existing escapes and the handler's output stay as they are.
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\"#<>'")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "utf_8", "ascii", "us-ascii", ""})


def _utf8_urls(encoding: str) -> bool:
    """URLs of a document in ``encoding`` are UTF-8: UTF-8 itself and, by the WHATWG "get an output
    encoding" rule, UTF-16 documents too (their queries are never UTF-16)."""
    name = encoding.lower()
    return name in _UTF8_NAMES or name.startswith(("utf-16", "utf_16", "utf16"))


def _url_charref(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(f"%26%23{ord(c)}%3B" for c in exc.object[exc.start : exc.end]), exc.end


_CHARREF_ERRORS = "govsite-url-charref"
codecs.register_error(_CHARREF_ERRORS, _url_charref)


def encode_query(href: str, encoding: str) -> str:
    """``href`` with a non-ASCII query percent-encoded in the page's ``encoding`` (as a browser does)."""
    if href.isascii() or _utf8_urls(encoding):
        return href
    q = href.find("?")
    if q == -1:
        return href
    f = href.find("#", q)
    query, tail = (href[q + 1 :], "") if f == -1 else (href[q + 1 : f], href[f:])
    if query.isascii():
        return href
    try:
        encoded = percent_encode(query, safe=_QUERY_SAFE, encoding=encoding, errors=_CHARREF_ERRORS)
    except LookupError:  # an encoding name Python does not know: leave it to UTF-8
        return href
    return href[: q + 1] + encoded + tail


def extract_links(
    tree: lxml.html.HtmlElement,
    base: URL,
    encoding: str = "utf-8",
    *,
    styled: bool = True,
    backgrounds: bool = True,
) -> list[Link]:
    """All references a browser loads or follows in a document, resolved against ``base``.

    ``encoding`` is the document's: a non-ASCII query string is percent-encoded in it (WHATWG URL).
    ``styled=False`` says the document has no ``url(`` anywhere (:func:`may_reference_in_css`): its
    ``style`` attributes are not searched; ``backgrounds=False`` likewise for ``background`` attributes
    (:func:`may_have_backgrounds`). Comments are never read: a commented-out link is no link.
    """
    out: list[Link] = []
    resolve_href = resolver(base)
    utf8 = _utf8_urls(encoding)

    def add(raw: str, tag: str, text: str, css: bool = False) -> None:
        # CSS parses its URLs as UTF-8 whatever the document's encoding (CSS Values: url()).
        link = _link(resolve_href, raw if utf8 or css else encode_query(raw, encoding), tag, text)
        if link is not None:
            out.append(link)

    append = out.append
    for node in tree.iter(*LINK_ATTRIBUTES, "meta", "style"):
        # iter() by tag names yields only elements of those names: the tag is one of them, a str (the stubs
        # type a tag as any name lxml accepts, QName and bytes included).
        tag = cast(str, node.tag)
        if tag == "a" or tag == "area":
            # Most references of a page: handled here without the general path's calls (this loop is the
            # hottest code of a crawl after the HTML parser; bench/README.md).
            raw = node.get("href")
            if raw is None:
                continue
            raw = raw.strip()
            if not raw or raw[0] == "#":
                continue
            text = _anchor_text(node)
            scheme = "" if raw[0] == "/" else scheme_of(raw)
            if scheme and scheme not in ("http", "https"):
                append(Link(None, raw, tag, text, skipped_scheme=scheme))
                continue
            try:
                append(Link(resolve_href(raw if utf8 else encode_query(raw, encoding)), raw, tag, text))
            except InvalidURL as exc:
                append(Link(None, raw, tag, text, error=str(exc)))
            continue
        if tag == "style":
            for ref in stylesheet_references(node.text or ""):
                add(ref.url, STYLESHEET if ref.imported else CSS_RESOURCE, "", css=True)
            continue
        if tag == "meta":
            if (node.get("http-equiv") or "").strip().lower() == "refresh":
                target = refresh_target(node.get("content") or "")
                if target is not None:
                    # Inside <noscript> only browsers without scripts follow it: checked, but it does not
                    # make its target the homepage.
                    noscript = next(node.iterancestors("noscript"), None) is not None
                    add(target, "meta", NOSCRIPT_REFRESH if noscript else REFRESH)
            continue
        link_tag = tag
        if tag == "link":
            rels = set((node.get("rel") or "").lower().split())
            if _ORIGIN_ONLY_RELS & rels:
                continue
            if "stylesheet" in rels:
                if node.get("disabled") is not None:
                    continue  # a disabled stylesheet is never loaded
                link_tag = STYLESHEET
        for attr in LINK_ATTRIBUTES[tag]:
            raw = node.get(attr)
            if raw is None:
                continue
            if attr == "formaction":
                if tag == "input" and (node.get("type") or "").lower() not in ("submit", "image"):
                    continue
                add(raw, FORM_TARGET, node.get("value") or node.text_content().strip()[:200])
                continue
            if tag == "input" and (node.get("type") or "").lower() != "image":
                continue
            add(raw, link_tag, node.get("alt") or node.get("title") or "")
        if tag in ("img", "source"):
            srcset = node.get("srcset")
            if srcset:
                text = node.get("alt") or node.get("title") or ""
                for raw in _srcset_urls(srcset):
                    add(raw, tag, text)
    if backgrounds:
        for node in _BACKGROUNDS(tree):
            if node.tag in _BACKGROUND_TAGS:
                add(node.get("background") or "", BACKGROUND, "")
    if styled:
        for node in _STYLED(tree):
            for raw in declaration_references(node.get("style") or ""):
                add(raw, CSS_RESOURCE, "", css=True)
    return out


def may_have_backgrounds(html: str) -> bool:
    """False when no element of the document can have a ``background`` attribute (lower or upper case
    in the markup; lxml lower-cases attribute names)."""
    return "background=" in html or "BACKGROUND=" in html or "Background=" in html


def may_reference_in_css(html: str) -> bool:
    """False when no ``style`` attribute of the document can reference anything: no ``url(`` (CSS allows
    no space before the parenthesis) in lower or upper case. Two substring searches (~3 µs on a CMS page)
    instead of the XPath walk over every element (~20 µs) or a case-insensitive regex (~15 µs); a mixed
    case "Url(" in a style attribute is the price (never seen in CMS markup)."""
    return "url(" in html or "URL(" in html


def _link(resolve_href: Callable[[str], str], raw: str, tag: str, text: str) -> Link | None:
    """The link for one raw reference (None for an empty or fragment-only one)."""
    raw = raw.strip()
    if not raw or raw[0] == "#":
        return None
    # A path-absolute href ("/…", the common case) has no scheme: skip the regex.
    scheme = "" if raw[0] == "/" else scheme_of(raw)
    if scheme and scheme not in ("http", "https"):
        return Link(None, raw, tag, text, skipped_scheme=scheme)
    try:
        return Link(resolve_href(raw), raw, tag, text)
    except InvalidURL as exc:
        return Link(None, raw, tag, text, error=str(exc))


def stylesheet_links(css: str, base: URL, references: list[CssReference] | None = None) -> list[Link]:
    """The references of a stylesheet file, resolved against its own URL (CSS URLs are always UTF-8).

    ``references``: the stylesheet already tokenized (:func:`~monitor.web.cssrefs.stylesheet_references`,
    which the crawl runs in a thread so that a big stylesheet does not stall its event loop).
    """
    resolve_href = resolver(base)
    out = []
    for ref in stylesheet_references(css) if references is None else references:
        link = _link(resolve_href, ref.url, STYLESHEET if ref.imported else CSS_RESOURCE, "")
        if link is not None:
            out.append(link)
    return out


# Elements with a style attribute that may reference something (XPath: the walk is done in C).
_STYLED = etree.XPath("//*[@style and contains(@style, 'url')]")
