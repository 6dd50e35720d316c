"""Source adapters of the new-media duty, one module per kind of source.

Each adapter turns one configured source into normalised :class:`~monitor.core.posts.Post` records or a
:class:`~checks.newmedia.sources.common.SourceFailure`; :func:`observe` dispatches and never raises, so
one broken account never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from checks.newmedia.sources.common import Observation, SourceFailure
from checks.newmedia.sources.feed import read_feed
from checks.newmedia.sources.htmllist import read_html
from checks.newmedia.sources.jsonapi import read_json
from checks.newmedia.sources.manual import LedgerRow, entry_for, load_ledger, location
from checks.newmedia.sources.wechat import read_wechat
from monitor.config import Account, Config, ManualSource
from monitor.web.fetch import Fetcher

log = logging.getLogger(__name__)

#: How each kind of source is named in bulletins and run counts.
SOURCE_LABELS = {
    "feed": "RSS/Atom订阅",
    "json": "JSON接口",
    "html": "网页列表",
    "wechat_api": "微信公众平台接口",
    "manual": "人工填报",
}


def source_location(account: Account, config: Config) -> str:
    """Where an account's source lives (never a secret): URL, API base, or ledger path."""
    src = account.source
    if isinstance(src, ManualSource):
        return location(src, config)
    if src.type == "wechat_api":
        return f"{src.api_base.rstrip('/')}/cgi-bin/freepublish/batchget"
    return src.url


class Ledgers:
    """Manual ledgers read once per run, however many accounts share one."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[list[LedgerRow]]] = {}

    async def rows(
        self, source: ManualSource, config: Config, fetcher: Fetcher, now: datetime
    ) -> list[LedgerRow]:
        """The parsed rows of the ledger ``source`` points at."""
        key = location(source, config)
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = asyncio.ensure_future(load_ledger(source, config, fetcher, now))
        return await task


async def observe(
    account: Account,
    config: Config,
    fetcher: Fetcher,
    now: datetime,
    ledgers: Ledgers,
    env: Mapping[str, str] | None = None,
) -> Observation:
    """Read one account's source. Failures come back as ``Observation(error=…)``, never as exceptions."""
    src, tz = account.source, config.tz
    try:
        if src.type == "feed":
            return Observation(posts=await read_feed(account.id, src, fetcher, tz, now))
        if src.type == "json":
            return Observation(posts=await read_json(account.id, src, fetcher, tz, now))
        if src.type == "html":
            return Observation(posts=await read_html(account.id, src, fetcher, tz, now))
        if src.type == "wechat_api":
            return Observation(posts=await read_wechat(account.id, src, fetcher, tz, now, env))
        rows = await ledgers.rows(src, config, fetcher, now)
        return Observation(manual=entry_for(account, src, rows, now, tz))
    except SourceFailure as failure:
        return Observation(error=failure.reason, evidence=failure.evidence)
    except Exception as exc:  # a parser bug must not cost the other accounts their verdicts
        log.exception("source of account %s failed unexpectedly", account.id)
        return Observation(error=f"监测源解析出错（{type(exc).__name__}）")


__all__ = ["SOURCE_LABELS", "Ledgers", "Observation", "SourceFailure", "observe", "source_location"]
