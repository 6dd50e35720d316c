"""JSON sources: JSON Feed 1.1 by default, or any app/CMS API described by dotted paths.

Path syntax (hand-written because it is six lines and JSONPath libraries bring a grammar we do not need):
``data.list`` walks object keys, a number indexes a list (``items.0.title``), an empty path is the
document itself (a top-level list).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from checks.newmedia.sources.common import SourceFailure, blocked_or, fetch_text, parse_post_datetime
from monitor.config import JsonSource
from monitor.core.posts import Post
from monitor.web.fetch import Fetcher

_MISSING = object()
_TRUE_WORDS = {"1", "true", "yes", "y", "是", "置顶", "原创", "top", "pinned", "original"}


def resolve(doc: Any, path: str | None) -> Any:
    """The value at a dotted path, or a private sentinel when it does not exist."""
    if path is None:
        return _MISSING
    value = doc
    for part in (p for p in path.split(".") if p):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def truthy(value: Any) -> bool | None:
    """A flag from JSON: booleans, 0/1, "true", "置顶", "原创"…; None when absent."""
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value).strip().lower() in _TRUE_WORDS


async def read_json(
    account: str, source: JsonSource, fetcher: Fetcher, tz: ZoneInfo, now: datetime
) -> list[Post]:
    """Fetch the document and map its items to posts."""
    text, _ = await fetch_text(fetcher, source.url, "接口")
    return parse_json(account, text, source, tz, now)


def parse_json(account: str, text: str, source: JsonSource, tz: ZoneInfo, now: datetime) -> list[Post]:
    """Posts of an already-fetched JSON document. Raises :class:`SourceFailure` when nothing usable."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise blocked_or(text, "接口返回的内容不是JSON", source.url) from None
    items = resolve(doc, source.items)
    if not isinstance(items, list):
        raise SourceFailure(f"接口返回的JSON中没有条目列表（路径“{source.items}”）", url=source.url)
    if not items:
        raise SourceFailure("接口返回的条目列表为空", url=source.url)
    f = source.fields
    posts: list[Post] = []
    for i, item in enumerate(items):
        published = parse_post_datetime(_value(resolve(item, f.date)), tz, now)
        if published is None:
            continue
        title = " ".join(str(_value(resolve(item, f.title)) or "").split())
        url = str(_value(resolve(item, f.url)) or "")
        post_id = _value(resolve(item, f.id))
        posts.append(
            Post(
                account=account,
                post_id=str(post_id) if post_id not in (None, "") else (url or f"{i}:{title}"),
                title=title,
                url=url,
                published_at=published,
                pinned=bool(truthy(resolve(item, f.pinned))),
                original=truthy(resolve(item, f.original)) if f.original else None,
            )
        )
    if not posts:
        raise SourceFailure(
            f"接口返回的{len(items)}个条目均无可识别的发布日期（字段“{f.date}”）", url=source.url
        )
    return posts


def _value(value: Any) -> Any:
    return None if value is _MISSING else value
