"""RSS 2.0 / Atom feeds (self-hosted RSSHub, WeRSS, a platform's own feed), parsed with ``feedparser``.

Freshness comes from the newest *item* date — never the channel's ``lastBuildDate``/``updated``, which
many generators stamp with the time the feed was built. An item's date is its ``pubDate``/``published``
(else ``updated``/``dc:date``), read from the raw string so a date written without a zone means the
configured zone (Asia/Shanghai); feedparser's ``*_parsed`` fields are only a fallback (see
:func:`~checks.newmedia.sources.common.from_parsed_struct`).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser

from checks.newmedia.sources.common import (
    SourceFailure,
    blocked_or,
    fetch_text,
    from_parsed_struct,
    parse_post_datetime,
)
from monitor.config import FeedSource
from monitor.core.posts import Post
from monitor.web.decode import decode_body
from monitor.web.fetch import Fetcher

_DATE_KEYS = ("published", "updated", "created")


async def read_feed(
    account: str, source: FeedSource, fetcher: Fetcher, tz: ZoneInfo, now: datetime
) -> list[Post]:
    """Fetch and parse the feed into posts (undated items are dropped; none dated is a failure)."""
    _, result = await fetch_text(fetcher, source.url, "订阅源")
    return parse_feed(
        account, result.body or b"", source, tz, now, url=source.url, content_type=result.content_type_header
    )


def parse_feed(
    account: str,
    data: bytes,
    source: FeedSource,
    tz: ZoneInfo,
    now: datetime,
    *,
    url: str = "",
    content_type: str = "",
) -> list[Post]:
    """Posts of an already-fetched feed document. Raises :class:`SourceFailure` when nothing usable."""
    # Bytes, never a str: feedparser fetches a string that looks like a URL itself. Its own encoding
    # detection (XML declaration, HTTP charset) handles GB2312 feeds.
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(data, response_headers=headers)
    entries = parsed.get("entries") or []
    if not entries:
        text = decode_body(data, content_type)[0]
        if not parsed.get("version"):
            raise blocked_or(text, "返回的内容不是RSS/Atom订阅", url)
        raise blocked_or(text, "订阅中没有任何条目", url)
    pinned_re = re.compile(source.pinned_marker, re.IGNORECASE)
    original_re = re.compile(source.original_marker) if source.original_marker else None
    posts: list[Post] = []
    for i, entry in enumerate(entries):
        published = _entry_datetime(entry, tz, now)
        if published is None:
            continue
        title = " ".join(str(entry.get("title") or "").split())
        terms = [str(t.get("term") or "") for t in entry.get("tags") or []]
        link = str(entry.get("link") or "")
        post_id = str(entry.get("id") or link or f"{i}:{title}:{published.isoformat()}")
        original = None
        if original_re is not None:
            original = any(original_re.search(t) for t in terms) or bool(original_re.search(title))
        posts.append(
            Post(
                account=account,
                post_id=post_id,
                title=title,
                url=link,
                published_at=published,
                pinned=bool(pinned_re.search(title)) or any(pinned_re.search(t.strip()) for t in terms),
                original=original,
            )
        )
    if not posts:
        raise SourceFailure(f"订阅中{len(entries)}个条目均无可识别的发布日期", url=url)
    return posts


def _entry_datetime(entry: feedparser.FeedParserDict, tz: ZoneInfo, now: datetime) -> datetime | None:
    for key in _DATE_KEYS:
        raw = entry.get(key)
        if not raw:
            continue
        value = parse_post_datetime(raw, tz, now) or from_parsed_struct(
            str(raw), entry.get(f"{key}_parsed"), tz
        )
        if value is not None:
            return value
    return None
