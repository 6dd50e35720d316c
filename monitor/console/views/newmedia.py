"""New-media accounts (latest post, days silent) and availability (each target's state and its recent
probes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from monitor.config import Config
from monitor.console.context import principal, render, state
from monitor.store import triage
from monitor.store.database import Probe, Store

PROBES_STRIP = 96
FAILURES_SHOWN = 20
LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class AccountRow:
    """One configured account and what the store knows of its posts."""

    id: str
    name: str
    platform: str
    unit: str
    last_post: datetime | None
    last_title: str
    last_url: str
    days_silent: int | None
    posts_30d: int


@dataclass(frozen=True)
class SiteAvailability:
    """One site's probes over the last days."""

    site: str
    name: str
    ratio: float | None
    strip: list[Probe]  # the latest probes, oldest first (the coloured strip)
    failures: list[Probe]  # the latest failed probes, newest first
    checked: int


PLATFORMS = {
    "wechat": "微信公众号",
    "weibo": "微博",
    "douyin": "抖音",
    "toutiao": "今日头条",
    "app": "移动客户端",
    "other": "其他",
}


def _read(store: Store, config: Config, now: datetime, units: frozenset[str] | None) -> dict[str, Any]:
    accounts = []
    for a in config.newmedia.accounts:
        if units is not None and (a.unit or "") not in units:
            continue
        recent = store.posts(a.id, since=now - timedelta(days=400))
        last = recent[0] if recent else None
        accounts.append(
            AccountRow(
                id=a.id,
                name=a.name,
                platform=PLATFORMS.get(a.platform, "其他"),
                unit=a.unit or "",
                last_post=last.published_at if last else None,
                last_title=last.title if last else "",
                last_url=last.url if last else "",
                days_silent=(now - last.published_at).days if last else None,
                posts_30d=store.count_posts(a.id, now - timedelta(days=30), now + timedelta(days=1)),
            )
        )
    sites = []
    for s in config.sites:
        probes = store.probes(s.id, since=now - timedelta(days=LOOKBACK_DAYS))
        counted = [p for p in probes if not p.monitor_offline]
        ratio = sum(p.ok for p in counted) / len(counted) if counted else None
        failures = [p for p in probes if not p.ok and not p.monitor_offline][:FAILURES_SHOWN]
        strip = list(reversed(probes[:PROBES_STRIP]))
        sites.append(SiteAvailability(s.id, s.name, ratio, strip, failures, len(counted)))
    return {"accounts": accounts, "sites": sites, "overview": triage.overview(store, now, units)}


async def newmedia_page(request: web.Request) -> web.Response:
    """Accounts and availability history."""
    st = state(request)
    who = principal(request)
    now = st.clock.now()
    data = await st.reader(_read, st.config, now, who.scope)
    return render(request, "newmedia.html", now=now, lookback=LOOKBACK_DAYS, **data)
