"""The text a visitor sees on a page, with offsets, from the already parsed lxml tree.

What counts as visible: the ``<title>``, the body's text and the ``alt`` text of images (image maps and
image buttons too). What does not: scripts, styles, ``<noscript>``, ``<template>``, comments, and
elements hidden by the ``hidden`` attribute or an inline ``display:none`` / ``visibility:hidden`` style
(with everything inside them). Stylesheet rules and scripts that hide elements are not evaluated.

Whitespace runs collapse to one space as a browser renders them; block elements (paragraphs, list
items, table cells, ``<br>``…) end with a newline so that words of different blocks never join.

Hand-written over ``etree.iterwalk`` (C-level traversal, ``skip_subtree`` for hidden parts) because a
generic HTML-to-text library (html2text, inscriptis) re-parses the document, drops offsets and does not
skip inline-hidden elements; this walk costs a fraction of the parse the crawl has already paid.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from lxml import etree

BLOCK_SEPARATOR = "\n"
# Elements whose boundaries separate words (CSS display: block, list-item, table-*, and line breaks).
BLOCK_TAGS = frozenset(
    """address article aside blockquote body br caption center dd details dialog dir div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol optgroup option
    p pre section summary table tbody td tfoot th thead tr ul legend iframe select textarea button
    """.split()
)
# Elements whose content is never rendered as text.
SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "object", "svg", "math"}
)
ALT_TAGS = frozenset({"img", "area", "input"})
_WS = re.compile(r"[ \t\n\r\f]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

TITLE, BODY, ALT = "title", "body", "alt"
WHERE_ZH = {TITLE: "标题", BODY: "正文", ALT: "图片说明文字"}


@dataclass(frozen=True)
class VisibleText:
    """A page's visible text and where each part of it came from.

    ``regions`` are ``(start_offset, kind)`` pairs in ascending order; ``kind`` is ``title``, ``body``
    or ``alt`` and holds from ``start_offset`` up to the next region.
    """

    text: str
    regions: tuple[tuple[int, str], ...] = ()

    def where(self, offset: int) -> str:
        """Which part of the page (``title``, ``body``, ``alt``) the character at ``offset`` is in."""
        if not self.regions:
            return BODY
        i = bisect.bisect_right(self.regions, (offset, "\uffff")) - 1
        return self.regions[max(i, 0)][1]


def is_hidden(el: etree._Element) -> bool:
    """True for an element a browser does not render, judged from its own markup only."""
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if not style:
        return False
    return _HIDDEN_STYLE.search(style) is not None


class _Builder:
    """Accumulates text pieces, collapsing whitespace and separating blocks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.regions: list[tuple[int, str]] = []
        self.kind = ""
        self.at_break = True  # at the start of the text or right after a block separator

    def region(self, kind: str) -> None:
        if kind != self.kind:
            if self.regions and self.regions[-1][0] == self.pos:
                self.regions[-1] = (self.pos, kind)
            else:
                self.regions.append((self.pos, kind))
            self.kind = kind

    def add(self, raw: str) -> None:
        piece = _WS.sub(" ", raw)
        if self.at_break:
            piece = piece.lstrip(" ")
        if not piece:
            return
        self.parts.append(piece)
        self.pos += len(piece)
        self.at_break = False

    def brk(self) -> None:
        if self.at_break:
            return
        if self.parts and self.parts[-1].endswith(" "):
            # Trailing space before a block end: replace it (keeps offsets of earlier pieces intact).
            last = self.parts[-1].rstrip(" ")
            self.pos -= len(self.parts[-1]) - len(last)
            self.parts[-1] = last
        self.parts.append(BLOCK_SEPARATOR)
        self.pos += 1
        self.at_break = True

    def result(self) -> VisibleText:
        return VisibleText("".join(self.parts), tuple(self.regions))


def extract_visible_text(tree: etree._Element) -> VisibleText:
    """The visible text of a parsed document (see the module docstring for what is included)."""
    b = _Builder()
    title = tree.find(".//title") if tree.tag == "html" else None
    if title is not None and title.text:
        b.region(TITLE)
        b.add(title.text)
        b.brk()
    body = tree.find("body") if tree.tag == "html" else tree
    if body is None:
        body = tree
    b.region(BODY)
    walker = etree.iterwalk(body, events=("start", "end", "comment", "pi"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comment or processing instruction: only its tail is text
            if el.tail:
                b.add(el.tail)
            continue
        if event == "start":
            if tag in SKIPPED_TAGS or is_hidden(el):
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS:
                b.brk()
            if tag in ALT_TAGS:
                alt = el.get("alt")
                if alt and alt.strip() and (tag != "input" or (el.get("type") or "").lower() == "image"):
                    b.brk()
                    b.region(ALT)
                    b.add(alt)
                    b.brk()
                    b.region(BODY)
            if el.text:
                b.add(el.text)
        else:
            # A hidden block also ends with a separator: harmless, and it saves judging it again.
            if tag in BLOCK_TAGS:
                b.brk()
            if el.tail:
                b.add(el.tail)
    b.brk()
    return b.result()
