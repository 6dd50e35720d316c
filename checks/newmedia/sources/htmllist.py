"""HTML list pages of an account's posts, read with the column engine's rules (:mod:`checks.common.dates`).

Dates follow the column audit exactly (``2026-11-03``, ``[11-03]``, ``发布时间：…``; dates inside titles
never count; 置顶 rows are flagged). A list date has no time of day: the post counts from midnight.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from checks.common.dates import extract_list_items
from checks.newmedia.sources.common import SourceFailure, blocked_or, fetch_text
from monitor.config import HtmlSource
from monitor.core.posts import Post
from monitor.web.fetch import Fetcher


async def read_html(
    account: str, source: HtmlSource, fetcher: Fetcher, tz: ZoneInfo, now: datetime
) -> list[Post]:
    """Fetch the list page and turn its dated rows into posts."""
    text, result = await fetch_text(fetcher, source.url, "列表页")
    return parse_html_list(account, text, result.final_url or source.url, source, tz, now)


def parse_html_list(
    account: str, html: str, page_url: str, source: HtmlSource, tz: ZoneInfo, now: datetime
) -> list[Post]:
    """Posts of an already-fetched list page. Raises :class:`SourceFailure` when nothing usable."""
    today = now.astimezone(tz).date()
    items = extract_list_items(html, page_url, today, source.item_selector, source.date_selector)
    dated = [i for i in items if i.date is not None]
    if not dated:
        reason = f"列表页{len(items)}个条目均无发布日期" if items else "列表页未识别到任何条目"
        raise blocked_or(html, reason, source.url)
    return [
        Post(
            account=account,
            post_id=item.url or item.title,
            title=item.title,
            url=item.url,
            published_at=datetime.combine(item.date, time(0), tzinfo=tz),
            pinned=item.pinned,
        )
        for item in dated
        if item.date is not None
    ]


__all__ = ["SourceFailure", "parse_html_list", "read_html"]
