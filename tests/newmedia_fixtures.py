"""Builders for new-media test sources: RSS 2.0, Atom, JSON documents and configs pointing at LocalSites."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from monitor.config import Config, config_from_mapping
from monitor.core.clock import SHANGHAI
from tests.sites import LocalSites

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
HOST = "rss.test.gov.cn"


def ago(days: float, hour: int = 10) -> datetime:
    """A Shanghai time ``days`` calendar days before NOW's date, at ``hour`` o'clock."""
    d = (NOW - timedelta(days=days)).date()
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


def rfc822(dt: datetime) -> str:
    """``Thu, 26 Nov 2026 10:00:00 +0800``."""
    return format_datetime(dt)


def rss(items: list[dict[str, Any]], *, last_build: str | None = None, title: str = "示例县发布") -> str:
    """An RSS 2.0 document; items: title, date (raw string), link, categories, guid."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>http://mp.weixin.qq.com/</link><description>公众号</description>",
    ]
    if last_build:
        out.append(f"<lastBuildDate>{last_build}</lastBuildDate>")
    for i, it in enumerate(items):
        cats = "".join(f"<category>{escape(c)}</category>" for c in it.get("categories", ()))
        date = f"<pubDate>{it['date']}</pubDate>" if it.get("date") else ""
        out.append(
            f"<item><title>{escape(it['title'])}</title>"
            f"<link>{escape(it.get('link', f'http://mp.weixin.qq.com/s/{i}'))}</link>"
            f"<guid>{escape(it.get('guid', f'post-{i}'))}</guid>{date}{cats}</item>"
        )
    out.append("</channel></rss>")
    return "".join(out)


def atom(entries: list[dict[str, Any]], *, updated: str = "2026-11-26T09:00:00+08:00") -> str:
    """An Atom 1.0 document; entries: title, published and/or updated (raw strings), link, id."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>示例县微博</title><id>urn:weibo</id><updated>{updated}</updated>",
    ]
    for i, e in enumerate(entries):
        dates = "".join(f"<{k}>{e[k]}</{k}>" for k in ("published", "updated") if e.get(k))
        out.append(
            f"<entry><title>{escape(e['title'])}</title><id>{e.get('id', f'urn:e{i}')}</id>"
            f'<link href="{escape(e.get("link", f"https://weibo.com/{i}"))}"/>{dates}</entry>'
        )
    out.append("</feed>")
    return "".join(out)


def feed_account(aid: str, path: str, name: str = "示例县教育局", **extra: Any) -> dict[str, Any]:
    """An account mapping whose feed is served at http://HOST/path."""
    source = {"type": "feed", "url": f"http://{HOST}{path}", **extra.pop("source", {})}
    return {"id": aid, "platform": "wechat", "name": name, "unit": "县教育局", "source": source, **extra}


def nm_config(sites: LocalSites, accounts: list[dict[str, Any]], **newmedia: Any) -> Config:
    """A config with the given accounts, fast timeouts, and HOST (plus api/ledger hosts) on LocalSites."""
    return config_from_mapping(
        {
            "crawl": {
                "timeout_seconds": 1.5,
                "retries": 1,
                "retry_backoff_seconds": 0.05,
                "host_overrides": sites.overrides(HOST, "api.weixin.test", "oa.test.gov.cn"),
            },
            "newmedia": {"accounts": accounts, **newmedia},
        }
    )
