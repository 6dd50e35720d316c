"""Pure evaluation of new-media accounts (政务新媒体): freshness, zombie accounts, content quality, census.

No HTTP and no database: callers hand in what a source said (:class:`Observation`) plus ``now``.

Boundaries (the same rule as the column audit, see :mod:`checks.columns.rules`): days are calendar days
in the configured zone between the newest non-pinned post and the check date. With a 14-day threshold an
account is **fresh** at 13 and 14 days and **stale** from 15 days (no post in the two weeks before the
check point); **zombie** (僵尸账号) when more than ``zombie_days`` (90) days have passed. A source that
failed gives **unknown** — never stale. Pinned posts (置顶) are excluded before taking the newest date;
dates more than a day in the future are ignored as implausible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from checks.newmedia.sources.common import ManualEntry, Observation
from monitor.config import Account, NewMedia, NewMediaQuality
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.posts import Post
from monitor.core.report import AccountCensusRow

Status = Literal["fresh", "stale", "zombie", "unknown"]

PLATFORM_LABELS = {
    "wechat": "微信公众号",
    "weibo": "微博",
    "douyin": "抖音",
    "toutiao": "今日头条",
    "app": "移动客户端",
    "other": "其他平台",
}
STATUS_LABELS = {"fresh": "正常更新", "stale": "不更新", "zombie": "僵尸账号", "unknown": "无法检测"}
#: Posts dated further ahead than this are a source's clock error, not a post.
FUTURE_TOLERANCE = timedelta(days=1)
TREND_WEEKS = 8


def display_name(account: Account) -> str:
    """``示例县教育局（微信公众号）``."""
    return f"{account.name}（{PLATFORM_LABELS[account.platform]}）"


def date_zh(d: date) -> str:
    """``2026年11月2日``."""
    return f"{d.year}年{d.month}月{d.day}日"


def warn_days(threshold: int) -> int:
    """Early-warning point, five sevenths of the threshold (10 of 14 days), as for dynamic columns."""
    return -(-threshold * 5 // 7)


@dataclass(frozen=True)
class Freshness:
    """The verdict on one account at check time."""

    status: Status
    threshold_days: int
    zombie_days: int
    last_post: date | None = None
    last_title: str = ""
    last_url: str = ""
    days_since: int | None = None
    warn: bool = False
    reason: str | None = None
    manual: ManualEntry | None = None
    message_zh: str = ""


def _newest(posts: Iterable[Post], now: datetime) -> Post | None:
    best: Post | None = None
    for p in posts:
        if p.pinned or p.published_at > now + FUTURE_TOLERANCE:
            continue
        if best is None or p.published_at > best.published_at:
            best = p
    return best


def evaluate_freshness(
    account: Account, obs: Observation, now: datetime, settings: NewMedia, tz: ZoneInfo
) -> Freshness:
    """Fresh, stale, zombie or unknown — see the module docstring for the boundaries."""
    name = display_name(account)
    threshold, zombie = settings.threshold_of(account), settings.zombie_days
    base: dict[str, Any] = {"threshold_days": threshold, "zombie_days": zombie, "manual": obs.manual}
    if obs.error is not None:
        return Freshness(
            "unknown",
            **base,
            reason=obs.error,
            message_zh=f"{name}监测源异常：{obs.error}，无法判断更新情况，未计入不更新统计，请核查监测源",
        )
    today = now.astimezone(tz).date()
    title = url = ""
    if obs.manual is not None:
        last = obs.manual.last_post
        if last > today + FUTURE_TOLERANCE:
            return Freshness(
                "unknown",
                **base,
                reason="人工填报的发布日期晚于检测日期",
                message_zh=f"{name}监测源异常：人工填报的发布日期晚于检测日期",
            )
    else:
        newest = _newest(obs.posts, now)
        if newest is None:
            reason = (
                "仅有置顶信息，无法判断" if any(p.pinned for p in obs.posts) else "发布日期均晚于检测时间"
            )
            return Freshness(
                "unknown", **base, reason=reason, message_zh=f"{name}监测源异常：{reason}，未计入不更新统计"
            )
        last, title, url = newest.published_at.astimezone(tz).date(), newest.title, newest.url
    days = max(0, (today - last).days)
    note = "（人工填报）" if obs.manual is not None else ""
    said = f"{name}最近一次发布为{date_zh(last)}{note}"
    info = {**base, "last_post": last, "last_title": title, "last_url": url, "days_since": days}
    if days > zombie:
        return Freshness(
            "zombie",
            **info,
            message_zh=f"{said}，已{days}天未更新，超过{zombie}天，属于“僵尸”账号，建议按规定关停注销或整合",
        )
    if days > threshold:
        return Freshness("stale", **info, message_zh=f"{said}，已{days}天未更新（要求{threshold}天内）")
    when = "当天" if days == 0 else f"{days}天前"
    return Freshness(
        "fresh",
        **info,
        warn=days >= warn_days(threshold),
        message_zh=f"{said}（{when}），符合要求（{threshold}天内）",
    )


# -- content quality ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityIssue:
    """A month whose share of original or policy posts is below the floor."""

    kind: Literal["low_original", "low_policy"]
    month: str  # "2026-10"
    posts: int
    hits: int
    share: float
    floor: float
    message_zh: str


def is_policy(title: str, keywords: Iterable[str]) -> bool:
    """A title naming a policy document or its interpretation (政策文件及政策解读类)."""
    return any(k and k in title for k in keywords)


def month_bounds(now: datetime, tz: ZoneInfo, back: int) -> tuple[datetime, datetime]:
    """``[start, end)`` of the calendar month ``back`` months before ``now``'s month, in ``tz``."""
    first = now.astimezone(tz).date().replace(day=1) - relativedelta(months=back)
    start = datetime.combine(first, time(0), tzinfo=tz)
    return start, datetime.combine(first + relativedelta(months=1), time(0), tzinfo=tz)


def evaluate_quality(
    account: Account, posts: list[Post], now: datetime, tz: ZoneInfo, q: NewMediaQuality
) -> tuple[list[QualityIssue], dict[str, Any]]:
    """Judge the last complete calendar month: original share (when the source tells) and policy share.

    A month is judged only when the known posts reach back before it (so it is seen whole) and it has at
    least ``min_posts`` posts; otherwise the summary says why not.
    """
    start, end = month_bounds(now, tz, 1)
    label = start.strftime("%Y-%m")
    month_zh = f"{start.year}年{start.month}月"
    in_month = [p for p in posts if start <= p.published_at < end]
    summary: dict[str, Any] = {"month": label, "posts": len(in_month), "judged": False}
    if not any(p.published_at < start for p in posts):
        summary["reason"] = "监测记录未覆盖整月"
        return [], summary
    if len(in_month) < q.min_posts:
        summary["reason"] = f"当月发布少于{q.min_posts}条"
        return [], summary
    summary["judged"] = True
    name = display_name(account)
    issues: list[QualityIssue] = []
    told = [p for p in in_month if p.original is not None]
    originals = sum(1 for p in told if p.original)
    summary["original"] = originals if told else None
    if told and q.original_min_share is not None:
        share = originals / len(told)
        summary["original_share"] = round(share, 3)
        if share < q.original_min_share:
            issues.append(
                QualityIssue(
                    "low_original",
                    label,
                    len(told),
                    originals,
                    share,
                    q.original_min_share,
                    f"{name}{month_zh}发布{len(told)}条，其中原创{originals}条，原创占比{share:.0%}，"
                    f"低于{q.original_min_share:.0%}（原创度不高）",
                )
            )
    policy = sum(1 for p in in_month if is_policy(p.title, q.policy_keywords))
    share = policy / len(in_month)
    summary["policy"] = policy
    summary["policy_share"] = round(share, 3)
    if q.policy_min_share is not None and share < q.policy_min_share:
        issues.append(
            QualityIssue(
                "low_policy",
                label,
                len(in_month),
                policy,
                share,
                q.policy_min_share,
                f"{name}{month_zh}发布{len(in_month)}条，其中政策文件及政策解读类{policy}条，占比{share:.0%}，"
                f"低于{q.policy_min_share:.0%}",
            )
        )
    return issues, summary


# -- census and indicator ---------------------------------------------------------------------------


def week_start(now: datetime, tz: ZoneInfo, back: int = 0) -> datetime:
    """Monday 00:00 of ``now``'s ISO week, ``back`` weeks earlier."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=back)
    return datetime.combine(monday, time(0), tzinfo=tz)


def history_start(now: datetime, tz: ZoneInfo) -> datetime:
    """How far back stored posts are needed: the trend, last month, and some before it for coverage."""
    return min(week_start(now, tz, TREND_WEEKS - 1), month_bounds(now, tz, 1)[0]) - timedelta(days=92)


def census_row(
    account: Account,
    verdict: Freshness,
    posts: list[Post],
    now: datetime,
    tz: ZoneInfo,
    source_label: str,
    quality: dict[str, Any],
) -> AccountCensusRow:
    """One line of the account census (run counts → bulletin). Post counts are None for manual accounts."""
    manual = account.source.type == "manual"

    def count(start: datetime, end: datetime) -> int | None:
        return None if manual else sum(1 for p in posts if start <= p.published_at < end)

    w0 = week_start(now, tz)
    m0 = month_bounds(now, tz, 0)[0]
    this_month = [p for p in posts if m0 <= p.published_at <= now + FUTURE_TOLERANCE]
    told = [p for p in this_month if p.original is not None]
    trend = []
    for back in range(TREND_WEEKS - 1, -1, -1):
        start = week_start(now, tz, back)
        iso = start.isocalendar()
        trend.append(
            {"week": f"{iso.year}-W{iso.week:02d}", "posts": count(start, start + timedelta(weeks=1))}
        )
    return AccountCensusRow(
        id=account.id,
        name=account.name,
        platform=account.platform,
        platform_zh=PLATFORM_LABELS[account.platform],
        unit=account.unit,
        source=account.source.type,
        source_label=source_label,
        verdict=verdict.status,
        verdict_zh=STATUS_LABELS[verdict.status],
        warn=verdict.warn,
        threshold_days=verdict.threshold_days,
        last_post=verdict.last_post.isoformat() if verdict.last_post else None,
        last_post_title=verdict.last_title or None,
        last_post_url=verdict.last_url or None,
        days_since=verdict.days_since,
        reason=verdict.reason,
        reported_by=verdict.manual.reported_by if verdict.manual else None,
        posts_week=count(w0, now + FUTURE_TOLERANCE),
        posts_month=None if manual else len(this_month),
        originals_month=sum(1 for p in told if p.original) if told else None,
        trend_8w=trend,
        quality=quality,
    )


def indicator_status(account: Account, verdict: Freshness) -> IndicatorStatus:
    """The M1 (新媒体不更新) record of one account."""
    rule = f"{verdict.threshold_days}天内有更新；超过{verdict.zombie_days}天为僵尸账号"
    if verdict.status == "unknown":
        return IndicatorStatus(
            Indicator.NEWMEDIA_STALE,
            account.id,
            display_name(account),
            Verdict.UNKNOWN,
            f"监测源异常：{verdict.reason}",
            rule,
            rule_id=RuleId.NEWMEDIA_FRESHNESS,
        )
    assert verdict.last_post is not None and verdict.days_since is not None
    source = "（人工填报）" if verdict.manual is not None else ""
    figure = f"最近发布{date_zh(verdict.last_post)}{source}，{verdict.days_since}天未更新"
    if verdict.status in ("stale", "zombie"):
        result = Verdict.FAIL
    else:
        result = Verdict.WARN if verdict.warn else Verdict.PASS
    return IndicatorStatus(
        Indicator.NEWMEDIA_STALE,
        account.id,
        display_name(account),
        result,
        figure,
        rule,
        float(verdict.days_since),
        rule_id=RuleId.NEWMEDIA_FRESHNESS,
    )
