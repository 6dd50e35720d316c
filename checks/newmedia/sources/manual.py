"""The manual ledger (人工填报): a CSV the office keeps for accounts no feed or API can read.

Columns (header names in English or Chinese, any order; Excel's UTF-8-with-BOM and GBK both read):
``account``/``账号`` (account id or name), ``last_post``/``最近发布日期``, ``reported_by``/``填报人``,
``reported_at``/``填报时间``. The newest row per account wins. A row older than the source's
``max_age_days`` is expired: the account becomes *unknown*, never fresh on stale word.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from checks.newmedia.sources.common import ManualEntry, SourceFailure, fetch_text, parse_post_datetime
from monitor.config import Account, Config, ManualSource
from monitor.web.decode import decode_body
from monitor.web.fetch import Fetcher

_HEADERS = {
    "account": ("account", "账号", "账号名称", "账号id", "帐号"),
    "last_post": ("last_post", "最近发布日期", "最近发布时间", "最后发布日期", "最近更新日期"),
    "reported_by": ("reported_by", "填报人"),
    "reported_at": ("reported_at", "填报时间", "填报日期"),
}


@dataclass(frozen=True)
class LedgerRow:
    """One parsed ledger row."""

    account: str
    last_post: datetime
    reported_by: str
    reported_at: datetime


def location(source: ManualSource, config: Config) -> str:
    """Where the ledger lives: its URL, or its absolute file path."""
    return source.url or str(config.resolve_path(source.path or ""))


async def load_ledger(
    source: ManualSource, config: Config, fetcher: Fetcher, now: datetime
) -> list[LedgerRow]:
    """Read and parse the ledger (a file or a URL). Raises :class:`SourceFailure` when unreadable."""
    if source.url:
        text, _ = await fetch_text(fetcher, source.url, "人工填报台账")
    else:
        path = config.resolve_path(source.path or "")
        try:
            text = decode_body(path.read_bytes(), "text/csv")[0]
        except OSError as exc:
            raise SourceFailure(f"人工填报台账无法读取（{exc.strerror or exc}）", path=str(path)) from None
    return parse_ledger(text, config.tz, now)


def parse_ledger(text: str, tz: ZoneInfo, now: datetime) -> list[LedgerRow]:
    """Rows with a recognisable account, last-post date and report time (others are skipped)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = _columns(reader.fieldnames or [])
    missing = [k for k in ("account", "last_post", "reported_at") if k not in columns]
    if missing:
        raise SourceFailure("人工填报台账缺少列：" + "、".join(_HEADERS[k][1] for k in missing))
    rows: list[LedgerRow] = []
    for raw in reader:
        account = (raw.get(columns["account"]) or "").strip()
        last = parse_post_datetime(raw.get(columns["last_post"]), tz, now)
        reported = parse_post_datetime(raw.get(columns["reported_at"]), tz, now)
        if not account or last is None or reported is None:
            continue
        by = (raw.get(columns.get("reported_by", "")) or "").strip() if "reported_by" in columns else ""
        rows.append(LedgerRow(account, last, by, reported))
    return rows


def entry_for(
    account: Account, source: ManualSource, rows: list[LedgerRow], now: datetime, tz: ZoneInfo
) -> ManualEntry:
    """The valid ledger entry of one account, or :class:`SourceFailure` (none, or expired)."""
    mine = [
        r
        for r in rows
        if r.account in (account.id, account.name) and r.reported_at <= now + timedelta(hours=1)
    ]
    if not mine:
        raise SourceFailure("人工填报台账中没有该账号的填报记录")
    row = max(mine, key=lambda r: r.reported_at)
    reported_day = row.reported_at.astimezone(tz).date()
    age = (now.astimezone(tz).date() - reported_day).days
    if age > source.max_age_days:
        raise SourceFailure(
            f"人工填报记录已过期（填报于{reported_day.year}年{reported_day.month}月{reported_day.day}日，"
            f"已{age}天，超过{source.max_age_days}天有效期）"
        )
    return ManualEntry(row.last_post.astimezone(tz).date(), row.reported_by, row.reported_at)


def _columns(fieldnames: Sequence[str]) -> Mapping[str, str]:
    found: dict[str, str] = {}
    for name in fieldnames:
        key = (name or "").strip().lower()
        for canonical, aliases in _HEADERS.items():
            if key in aliases and canonical not in found:
                found[canonical] = name
    return found
