"""Where a page's footer really is: markup written by its own scripts, and same-site frames and loads.

Real portals rarely keep the identity marks in the page's HTML. Many CMS families write the common footer
with a script of their own (Hanweb 大汉: ``<script src="…/1708171610341487.js">`` full of
``document.writeln("…")``; Shanghai's ``footer.js``; NFCMS's ``foot_2020.js``), load it into a frame, or
``$("#footer").load("/include/footer.html")``. A visitor sees that footer, so the identity check reads it:
this module finds the candidates on the page and pulls the written markup out of script text.

Nothing is executed. Only markup a script *writes* counts (``document.write``/``writeln``, ``innerHTML``,
``insertAdjacentHTML``, jQuery ``html``/``append``/``after``…): a mark kept in a script variable, a comment
or an analytics call is not shown to anyone, and stays a decoy. Hand-written rather than a JavaScript
parser: only string literals and brackets matter here, and the scripts are read as text, never run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import lxml.html

from monitor.core.urls import host_of, join_url, path_of, percent_decode

#: How many includes (scripts, frames, loaded fragments) one page may cost at most.
MAX_INCLUDES = 6

#: Calls and assignments whose string arguments become page markup.
_WRITERS = re.compile(
    r"document\s*\.\s*write(?:ln)?\s*\("
    r"|\.\s*(?:innerHTML|outerHTML)\s*\+?=\s*"
    r"|\.\s*insertAdjacentHTML\s*\(\s*['\"][a-zA-Z]+['\"]\s*,"
    r"|\.\s*(?:html|append|prepend|after|before|replaceWith)\s*\("
)
_LOAD = re.compile(r"\.\s*load\s*\(\s*(['\"])([^'\"\s]+?\.(?:s?html?|jsp|php|aspx?)(?:\?[^'\"\s]*)?)\1")
#: Script files of libraries and widgets: never a site's footer.
_LIBRARY = re.compile(
    r"jquery|bootstrap|layui|layer\.|swiper|vue|react|echarts|require|sea\.js|modernizr|respond|html5shiv"
    r"|polyfill|crypto|md5|qrcode|share|aria\.js|wza|pdf|player|audio|video|baidu|cnzz|hm\.js|analytics"
    r"|gbk\.js|urite|superslide|owl\.|carousel|\.min\.js",
    re.IGNORECASE,
)
_FOOTERISH = re.compile(r"foot|bottom|dibu|bot[_.]|_bot|copyright|页脚|底部|尾", re.IGNORECASE)
_HIDDEN_FRAME = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|(?:width|height)\s*:\s*0(?:px)?\b")


def written_markup(script: str) -> str:
    """The markup a script writes into the page: the string literals of its writer calls, joined.

    ``"%3Cspan…"`` (``unescape``/``decodeURIComponent`` arguments) is percent-decoded.
    """
    parts: list[str] = []
    for m in _WRITERS.finditer(script):
        parts.extend(_literals(script, m.end(), until_paren=m.group(0).rstrip().endswith(("(", ","))))
    out = "".join(parts)
    if re.search(r"%3C", out, re.IGNORECASE):
        out = percent_decode(out)
    return out


def _literals(js: str, start: int, *, until_paren: bool) -> Iterator[str]:
    """String literals of the expression starting at ``start``: up to the closing bracket of the call
    (``until_paren``) or to the end of the statement (an assignment)."""
    depth, i, n = 0, start, len(js)
    while i < n:
        c = js[i]
        if c in "'\"`":
            value, i = _string(js, i)
            yield value
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return
            depth -= 1
        elif depth == 0 and (c == ";" or (c == "\n" and not until_paren and not _continued(js, start, i))):
            return
        i += 1


def _continued(js: str, start: int, i: int) -> bool:
    """The expression goes on past this line break (the line ends with ``+``)."""
    return js[start:i].rstrip().endswith("+")


_ESCAPES = {"n": "\n", "t": "\t", "r": "", "0": "", "b": "", "f": "", "v": ""}


def _string(js: str, start: int) -> tuple[str, int]:
    """The value of the string literal opening at ``start`` and the index after it."""
    quote, i, n = js[start], start + 1, len(js)
    out: list[str] = []
    while i < n:
        c = js[i]
        if c == "\\" and i + 1 < n:
            nxt = js[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", js[i + 2 : i + 6]):
                out.append(chr(int(js[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", js[i + 2 : i + 4]):
                out.append(chr(int(js[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "\n":  # a line continuation
                i += 2
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        if c == "\n" and quote != "`":
            return "".join(out), i  # an unterminated literal ends at the line
        out.append(c)
        i += 1
    return "".join(out), n


def include_candidates(tree: lxml.html.HtmlElement, page_url: str) -> list[str]:
    """Same-site URLs that may hold the page's footer, likeliest first: scripts and frames named like a
    footer, then the other scripts of the body from the last one up, fragments loaded with ``.load``.
    Libraries, hidden frames and other hosts are left out; at most :data:`MAX_INCLUDES`."""
    host = host_of(page_url)
    named: list[str] = []
    others: list[str] = []

    def same_site(src: str) -> str | None:
        url = join_url(page_url, src.strip())
        return url if url.startswith(("http://", "https://")) and host_of(url) == host else None

    body = tree.find("body")
    scope = body if body is not None else tree
    for el in scope.iter("script", "iframe", "frame"):
        src = el.get("src") or ""
        if not src.strip():
            if el.tag == "script":
                for m in _LOAD.finditer(el.text or ""):
                    url = same_site(m.group(2))
                    if url:
                        named.append(url)
            continue
        url = same_site(src)
        if url is None:
            continue
        name = path_of(url).rsplit("/", 1)[-1]
        if el.tag == "script":
            if _LIBRARY.search(name):
                continue
        else:
            style = (el.get("style") or "").lower()
            if _HIDDEN_FRAME.search(style) or (el.get("width") or "").strip() in ("0", "0px"):
                continue
            if (el.get("height") or "").strip() in ("0", "0px"):
                continue
        (named if _FOOTERISH.search(name) or _footer_comment(el) else others).append(url)
    ordered = [*named, *reversed(others)]
    return list(dict.fromkeys(ordered))[:MAX_INCLUDES]


def _footer_comment(el: lxml.html.HtmlElement) -> bool:
    """The element sits right after a comment naming the footer (``<!--页脚开始-->``, ``<!-- footer -->``)."""
    prev = el.getprevious()
    for _ in range(2):
        if prev is None:
            return False
        if isinstance(prev, lxml.html.HtmlComment):
            return bool(_FOOTERISH.search(prev.text or ""))
        prev = prev.getprevious()
    return False
