"""What every new-media source adapter shares: the observation it returns, failures, dates, blocked pages.

A source either yields posts or fails with a Chinese reason (:class:`SourceFailure`); the check turns a
failure into the account verdict *unknown* (监测源异常), never into *stale*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_tz
from time import struct_time
from typing import Any
from zoneinfo import ZoneInfo

from checks.common.dates import find_datetimes
from monitor.core.posts import Post
from monitor.web.decode import decode_body
from monitor.web.fetch import ErrorKind, Fetcher, FetchResult

#: Body cap for source documents: a feed or list page is small; a huge answer is not a feed.
SOURCE_MAX_BYTES = 5_000_000

#: Wording of login walls, captchas and WAF blocks (验证码/安全验证/访问过于频繁…). Only consulted when a
#: source yielded nothing usable, so a list page that merely has a 验证码 field in its login box still works.
_BLOCKED = re.compile(
    r"验证码|安全验证|人机验证|滑动验证|拖动滑块|请完成验证|身份验证|访问验证|"
    r"访问过于频繁|请求过于频繁|访问频率过高|操作过于频繁|环境异常|访问受限|访问被拦截|已被拦截|"
    r"请在微信客户端打开|登录后(?:查看|访问|继续)|请先登录|"
    r"captcha|verify you are human|are you a robot|access denied|just a moment|"
    r"web application firewall|request blocked",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_TRAILING_ZONE = re.compile(r"(?:[+-]\d{2}:?\d{2}|\dZ|\b(?:GMT|UTC|UT|[ECMP][SD]T|CST|Z))\s*$", re.IGNORECASE)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?(?:\.\d+)?$")

_FAILURE_ZH = {
    ErrorKind.TIMEOUT: "访问超时",
    ErrorKind.DNS: "域名无法解析",
    ErrorKind.REFUSED: "连接被拒绝",
    ErrorKind.TLS: "HTTPS证书或加密连接错误",
    ErrorKind.CONNECTION: "连接中断",
    ErrorKind.REDIRECT_LOOP: "重定向循环",
    ErrorKind.TOO_MANY_REDIRECTS: "重定向次数过多",
    ErrorKind.INVALID_URL: "地址无效",
}


class SourceFailure(Exception):
    """A source could not be read or understood; ``reason`` is Chinese and specific."""

    def __init__(self, reason: str, **evidence: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


@dataclass(frozen=True)
class ManualEntry:
    """The newest valid ledger row (人工填报) for one account."""

    last_post: date
    reported_by: str
    reported_at: datetime


@dataclass
class Observation:
    """What one source said about one account in this run.

    ``error`` set: the source failed (verdict unknown). ``manual`` set: the date comes from the ledger.
    """

    posts: list[Post] = field(default_factory=list)
    error: str | None = None
    manual: ManualEntry | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def looks_blocked(text: str) -> bool:
    """Whether a page reads like a captcha, login wall or WAF block rather than content."""
    visible = _TAGS.sub(" ", text[:200_000])
    return bool(_BLOCKED.search(visible))


def failure_reason(result: FetchResult) -> str:
    """Chinese reason for a failed fetch: ``HTTP 503``, ``访问超时``…"""
    if result.error == ErrorKind.HTTP:
        return f"HTTP {result.status}"
    if result.error is not None:
        return _FAILURE_ZH.get(result.error, result.error.value)
    return f"HTTP {result.status}"


async def fetch_text(fetcher: Fetcher, url: str, what: str) -> tuple[str, FetchResult]:
    """GET a source document and decode it; HTTP errors and block pages become :class:`SourceFailure`."""
    result = await fetcher.fetch(url, max_bytes=SOURCE_MAX_BYTES)
    return checked_text(result, url, what), result


def checked_text(result: FetchResult, url: str, what: str) -> str:
    """The decoded body of a fetched source, or :class:`SourceFailure` naming what went wrong."""
    text = decode_body(result.body or b"", result.content_type_header)[0] if result.body else ""
    if not result.ok:
        blocked = "，返回验证码/安全验证页面" if text and looks_blocked(text) else ""
        raise SourceFailure(
            f"{what}无法访问（{failure_reason(result)}{blocked}）", url=url, status=result.status
        )
    if result.truncated:
        raise SourceFailure(f"{what}内容过大（超过{SOURCE_MAX_BYTES // 1_000_000}MB）", url=url)
    return text


def blocked_or(text: str, reason: str, url: str) -> SourceFailure:
    """The failure to raise when nothing usable was found: a block page, or ``reason``."""
    if looks_blocked(text):
        return SourceFailure("返回验证码/安全验证/访问受限页面，无法读取发布记录", url=url)
    return SourceFailure(reason, url=url)


def parse_post_datetime(value: Any, tz: ZoneInfo, now: datetime) -> datetime | None:
    """A publish time from a source field: aware, with zone-less values read in ``tz``.

    Accepts RFC 822 (``Tue, 03 Nov 2026 10:00:00 +0800``), ISO 8601 (``2026-11-03T10:00:00Z``,
    ``2026-11-03 10:00:00``), epoch seconds or milliseconds, and the Chinese forms of
    :mod:`checks.common.dates` (``2026年11月3日``). Returns None when nothing parses.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value), tz)
    text = str(value).strip()
    if not text:
        return None
    if _EPOCH.match(text):
        return _from_epoch(float(text), tz)
    parts = parsedate_tz(text)
    if parts is not None and parts[0] >= 1990:
        try:
            naive = datetime(*parts[:6])
        except ValueError:
            naive = None
        if naive is not None:
            zone = _TRAILING_ZONE.search(text)
            # parsedate_tz reports "no zone" as UTC; only the text can tell them apart.
            if zone is None or _china_cst(zone.group(), tz):
                return naive.replace(tzinfo=tz)
            return datetime.fromtimestamp(naive.replace(tzinfo=UTC).timestamp() - (parts[9] or 0), tz)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)
    found = find_datetimes(text, now.astimezone(tz).replace(tzinfo=None), relative=True)
    if found:
        # checks.common.dates reads zone-less text as Asia/Shanghai wall time; re-anchor it to ``tz``.
        value_sh = found[0].value
        return (
            value_sh.replace(tzinfo=None).replace(tzinfo=tz) if not _TRAILING_ZONE.search(text) else value_sh
        )
    return None


def from_parsed_struct(raw: str, parsed: struct_time | None, tz: ZoneInfo) -> datetime | None:
    """feedparser's ``*_parsed`` (UTC struct_time) as an aware datetime, honest about missing zones.

    feedparser converts to UTC and treats a date without a zone as UTC, so the struct alone cannot tell
    ``10:00 +0800`` from ``10:00``. The raw string can: without a zone the fields are the wall time as
    written, which means ``tz`` (Asia/Shanghai); with one they are UTC.
    """
    if parsed is None:
        return None
    try:
        naive = datetime(*parsed[:6])
    except (TypeError, ValueError):
        return None
    zone = _TRAILING_ZONE.search(raw.strip())
    if zone is None:
        return naive.replace(tzinfo=tz)
    aware = naive.replace(tzinfo=UTC).astimezone(tz)
    if _china_cst(zone.group(), tz):  # feedparser took it for −0600: undo that shift
        aware = (naive - timedelta(hours=6)).replace(tzinfo=tz)
    return aware


def _china_cst(zone: str, tz: ZoneInfo) -> bool:
    """Chinese servers write "CST" for China Standard Time; RFC 822 reads it as US Central (−0600)."""
    return zone.strip().upper() == "CST" and str(tz) in ("Asia/Shanghai", "Asia/Chongqing", "PRC")


def _from_epoch(seconds: float, tz: ZoneInfo) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz)
    except (OverflowError, OSError, ValueError):
        return None
