"""Turning response bytes into text the way a browser would, without ever crashing on bad bytes.

Order: a byte-order mark wins (as in browsers: a UTF-8 BOM on a page whose server claims GBK is UTF-8),
then the HTTP ``charset``, then a ``<meta charset>`` / ``http-equiv`` declaration in the first 4 KiB, then
UTF-8 if the bytes are valid UTF-8, else GB18030. Every GB2312/GBK label decodes as GB18030, the superset
that real "gb2312" pages actually use (镕, 堃, 喆 are not in GB2312).
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_GB_FAMILY = {
    "gb2312",
    "gbk",
    "x-gbk",
    "gb_2312-80",
    "gb_2312",
    "csgb2312",
    "cp936",
    "ms936",
    "euc-cn",
    "gb18030",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def canonical_encoding(label: str | None) -> str | None:
    """A Python codec name for a charset label, GB family → gb18030; None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB_FAMILY:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in ("gb2312", "gbk") else name


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def sniff_encoding(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Pick ``(codec, how)`` for a body: how ∈ bom, http, meta, utf-8, fallback."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, "bom"
    from_header = canonical_encoding(header_charset(content_type))
    if from_header:
        return from_header, "http"
    m = _META_CHARSET.search(body[:4096])
    if m:
        from_meta = canonical_encoding(m.group(1).decode("ascii", "ignore"))
        if from_meta:
            # A page declaring utf-16 in a meta tag is really ASCII-compatible (HTML spec): use utf-8.
            return ("utf-8" if from_meta.startswith("utf-16") else from_meta), "meta"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030", "fallback"
    return "utf-8", "utf-8"


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a body to ``(text, codec)``; undecodable bytes become U+FFFD."""
    codec, how = sniff_encoding(body, content_type)
    if how == "bom":
        body = body[len(next(b for b, n in _BOMS if n == codec)) :]
    return body.decode(codec, errors="replace"), codec
