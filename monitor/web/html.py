"""The one way HTML text becomes an lxml tree: :func:`parse_document`.

Every parser in the product goes through it, with one rule for bad input: an empty (or whitespace-only)
or unparsable document is ``None``, never an exception. An XML declaration is dropped first (lxml
refuses a ``str`` that carries an encoding declaration; the text is already decoded).

``plain=True`` builds plain libxml2 elements instead of lxml.html's: lxml.html looks up a Python element
class for every element proxy, which costs more than a whole-tree walk's own per-element work (the
dark-links engine walks every element). :func:`parse_html` is the same parse for callers that want a
tree whatever the input (an empty document for junk), :func:`parse_utf8` its fast path for bodies known
to be valid UTF-8.
"""

from __future__ import annotations

import re
from typing import Literal, overload

import lxml.html
from lxml import etree

# Comments are kept in plain trees: the dark-links engine reads commented-out blocks.
_PLAIN_PARSER = etree.HTMLParser(remove_comments=False, remove_pis=True, no_network=True)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

# lxml.html's parser class (HtmlElement lookup) with the encoding forced: <meta charset> is not obeyed,
# the bytes are known to be UTF-8 (see tests/test_page_parse.py).
_UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")


@overload
def parse_document(text: str, *, plain: Literal[False] = False) -> lxml.html.HtmlElement | None: ...


@overload
def parse_document(text: str, *, plain: bool) -> etree._Element | None: ...


def parse_document(text: str, *, plain: bool = False) -> etree._Element | None:
    """Parse HTML leniently; None for an empty or unparsable document (never raises)."""
    if not text or not text.strip():
        return None
    text = _XML_DECL_RE.sub("", text, count=1)
    try:
        root = etree.fromstring(text, _PLAIN_PARSER) if plain else lxml.html.document_fromstring(text)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root if root is not None and isinstance(root.tag, str) else None


def empty_document() -> lxml.html.HtmlElement:
    """An empty ``<html>`` document: what :func:`parse_html` gives for junk."""
    return lxml.html.document_fromstring("<html></html>")


def parse_html(text: str) -> lxml.html.HtmlElement:
    """:func:`parse_document` for callers that want a tree whatever the input (an empty one for junk)."""
    root = parse_document(text)
    return root if isinstance(root, lxml.html.HtmlElement) else empty_document()


def parse_utf8(body: bytes) -> lxml.html.HtmlElement:
    """Parse a body known to be valid UTF-8: the same tree as ``parse_html(body.decode())``, faster."""
    try:
        return lxml.html.document_fromstring(body, parser=_UTF8_PARSER)
    except (etree.ParserError, ValueError):
        return parse_html(body.decode("utf-8", "replace"))
