"""Pure evaluation of column freshness, homepage freshness and message boards (national W3/W4/W5).

No HTTP and no database: callers hand in what they observed (:class:`ColumnObservation`,
:class:`MessageRecord`) plus ``today``; everything returned is plain data with Chinese messages ready
for the bulletin.

Boundaries, applied the same way to every window (``超过N天/N个月`` means *more than*):

* a column is **stale** when its newest date is strictly before ``today − window``; for the 14-day
  window that means 15 or more days since the last item (14 days is still within the requirement);
* it is in **warning** from ``today − warn_window`` on (10 days, 5 months, 11 months by default);
* month windows are calendar months (``dateutil.relativedelta``): on 2026-11-26 the 6-month cutoff is
  2026-05-26, so an item of 2026-05-26 is in time and one of 2026-05-25 is stale; on 2026-08-31 the
  cutoff is 2026-02-28 (month-end clamping).

Which columns count for which veto (国办秘函〔2019〕19号, 2015 census definitions):

* W4(1) **栏目不更新**: a 动态/要闻 column stale (any level), or a 通知公告/政策文件 **一级栏目** stale;
* W4(2) **应更新但长期未更新**: every column with an update duty (动态, 通知公告, 政策, 人事, 规划计划 at
  any level) that is stale — so W4(1) columns count here as well;
* W4(3) **空白栏目**: a column without any item (counted only there, not again as stale);
* an item without a publish date counts as not updated: a column whose items are all undated is
  ``undated`` and counts like a stale column of its type;
* a column that cannot be read (``error``) is ``unknown`` and never counts against the site.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypedDict

from dateutil.relativedelta import relativedelta
from lxml.html import HtmlElement

from checks.common.dates import (
    ListItem,
    base_url,
    drop_noise,
    element_text,
    latest_item,
    navish_elements,
    parse_date,
    parse_listing,
    scan_dates,
)
from monitor.core.urls import join_url

__all__ = [
    "DUTY_TYPES",
    "ColumnLimits",
    "ColumnObservation",
    "ColumnVerdict",
    "HomepageVerdict",
    "MessageFinding",
    "MessageRecord",
    "MessageStats",
    "MessageVerdict",
    "SiteColumnSummary",
    "SiteThresholds",
    "VetoIndicator",
    "evaluate_column",
    "evaluate_homepage",
    "evaluate_messages",
    "format_date_zh",
    "normalize_message_state",
    "parse_messages",
    "site_verdict",
]

#: Column types that must be updated (应更新栏目).
DUTY_TYPES = frozenset({"dynamic", "notice", "policy", "personnel", "planning"})

TYPE_LABELS = {
    "dynamic": "动态类",
    "notice": "通知公告类",
    "policy": "政策文件类",
    "personnel": "人事类",
    "planning": "规划计划类",
    "interaction": "互动交流类",
    "topic": "专题类",
    "other": "其他类",
}

RESULT_PASS, RESULT_WARN, RESULT_FAIL = "合格", "预警", "不合格"


def format_date_zh(d: date) -> str:
    """``2026年11月2日`` (no zero padding, as in bulletins)."""
    return f"{d.year}年{d.month}月{d.day}日"


# --------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnLimits:
    """Update windows. Defaults follow the national rules; every field is configurable.

    ``overrides`` maps a column URL, ``"单位·栏目"`` or a bare column name to a window in days; an
    override replaces the type's window (and its warning point becomes ``ceil(5/7 × days)``, i.e.
    10 for 14). ``review_months``: a column with nothing new for this long gets a recommendation to
    review, merge or close it (撤销冗余栏目).
    """

    dynamic_days: int = 14
    dynamic_warn_days: int = 10
    notice_months: int = 6
    notice_warn_months: int = 5
    yearly_months: int = 12
    yearly_warn_months: int = 11
    review_months: int = 12
    overrides: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ColumnObservation:
    """What a crawler saw for one column.

    ``latest``/``latest_title``/``latest_url`` may be supplied (e.g. from an article's PubDate); when
    ``latest`` is None it is derived from ``items`` (newest dated item not after today).
    """

    name: str
    url: str
    type: str
    top_level: bool = False
    unit: str = ""
    items: Sequence[ListItem] = ()
    latest: date | None = None
    latest_title: str | None = None
    latest_url: str | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """``单位·栏目`` as used in bulletins, or just the column name."""
        return f"{self.unit}·{self.name}" if self.unit else self.name


@dataclass(frozen=True, slots=True)
class ColumnVerdict:
    """Outcome for one column.

    ``status``: fresh | warning | stale | blank | undated | review | unknown. ``severity``: ok | info |
    warning | serious. ``counts_stale`` feeds W4(1), ``counts_overdue`` W4(2), ``counts_blank`` W4(3).
    ``limit_days``/``warn_days`` are the windows in days as they apply on ``today`` (month windows
    vary with the calendar); None when the column has no update duty.
    """

    name: str
    unit: str
    url: str
    type: str
    top_level: bool
    status: str
    days_since: int | None
    limit_days: int | None
    warn_days: int | None
    message_zh: str
    severity: str
    latest: date | None = None
    latest_title: str | None = None
    latest_url: str | None = None
    counts_stale: bool = False
    counts_overdue: bool = False
    counts_blank: bool = False
    recommend_review: bool = False

    @property
    def label(self) -> str:
        """``单位·栏目`` or the column name."""
        return f"{self.unit}·{self.name}" if self.unit else self.name


@dataclass(frozen=True, slots=True)
class _Window:
    limit_cutoff: date  # stale when latest < limit_cutoff
    warn_cutoff: date  # warning when latest <= warn_cutoff
    requirement: str  # e.g. "动态类要求14天内"
    exceeded: str  # e.g. "" or "超过6个月，"


def _override(obs: ColumnObservation, limits: ColumnLimits) -> int | None:
    for key in (obs.url, obs.label, obs.name):
        if key and key in limits.overrides:
            return limits.overrides[key]
    return None


def _window(obs: ColumnObservation, today: date, limits: ColumnLimits) -> _Window | None:
    """The update window for a column on ``today``, or None when the column has no update duty."""
    label = TYPE_LABELS.get(obs.type, "其他类")
    days = _override(obs, limits)
    if days is not None:
        warn = -(-days * 5 // 7)
        return _Window(
            today - relativedelta(days=days), today - relativedelta(days=warn), f"本栏目要求{days}天内", ""
        )
    if obs.type == "dynamic":
        return _Window(
            today - relativedelta(days=limits.dynamic_days),
            today - relativedelta(days=limits.dynamic_warn_days),
            f"{label}要求{limits.dynamic_days}天内",
            "",
        )
    if obs.type in ("notice", "policy"):
        level = "一级栏目" if obs.top_level else "栏目"
        months = limits.notice_months
        return _Window(
            today - relativedelta(months=months),
            today - relativedelta(months=limits.notice_warn_months),
            f"{label}{level}要求{months}个月内",
            f"超过{months}个月，",
        )
    if obs.type in ("personnel", "planning"):
        months = limits.yearly_months
        span = "1年" if months == 12 else f"{months}个月"
        return _Window(
            today - relativedelta(months=months),
            today - relativedelta(months=limits.yearly_warn_months),
            f"{label}要求{span}内",
            f"超过{span}，",
        )
    return None


def _counts_stale(obs: ColumnObservation) -> bool:
    """Whether a stale column of this kind counts for W4(1)."""
    return obs.type == "dynamic" or (obs.type in ("notice", "policy") and obs.top_level)


class ColumnIdentity(TypedDict):
    """Which column an observation or verdict is about (the fields both repeat from the config)."""

    name: str
    unit: str
    url: str
    type: str
    top_level: bool


class _LatestFields(TypedDict):
    """The column's newest dated item, when it has one."""

    latest: date | None
    latest_title: str | None
    latest_url: str | None


def evaluate_column(obs: ColumnObservation, today: date, limits: ColumnLimits | None = None) -> ColumnVerdict:
    """Judge one column. See the module docstring for the boundaries and what counts where."""
    limits = limits or ColumnLimits()
    label = obs.label
    base: ColumnIdentity = {
        "name": obs.name,
        "unit": obs.unit,
        "url": obs.url,
        "type": obs.type,
        "top_level": obs.top_level,
    }
    if obs.error:
        return ColumnVerdict(
            **base,
            status="unknown",
            days_since=None,
            limit_days=None,
            warn_days=None,
            message_zh=f"{label}栏目无法检测（{obs.error}），未计入统计，需人工核查",
            severity="info",
        )
    win = _window(obs, today, limits)
    limit_days = (today - win.limit_cutoff).days if win else None
    warn_days = (today - win.warn_cutoff).days if win else None
    duty = win is not None

    latest, latest_title, latest_url = obs.latest, obs.latest_title, obs.latest_url
    if latest is None:
        newest = latest_item(obs.items, today)
        if newest is not None:
            latest, latest_title, latest_url = newest.date, newest.title, newest.url
    latest_info: _LatestFields = {"latest": latest, "latest_title": latest_title, "latest_url": latest_url}

    if latest is None and not obs.items:
        return ColumnVerdict(
            **base,
            **latest_info,
            status="blank",
            days_since=None,
            limit_days=limit_days,
            warn_days=warn_days,
            severity="serious",
            counts_blank=True,
            recommend_review=True,
            message_zh=f"{label}栏目为空白栏目（无任何信息），应补充内容或撤销栏目",
        )
    if latest is None:
        n = len(obs.items)
        if not duty:
            return ColumnVerdict(
                **base,
                **latest_info,
                status="undated",
                days_since=None,
                limit_days=None,
                warn_days=None,
                severity="info",
                message_zh=f"{label}栏目共{n}条信息均未标注发布日期，无法判断更新情况",
            )
        assert win is not None
        return ColumnVerdict(
            **base,
            **latest_info,
            status="undated",
            days_since=None,
            limit_days=limit_days,
            warn_days=warn_days,
            severity="serious",
            counts_stale=_counts_stale(obs),
            counts_overdue=True,
            message_zh=f"{label}栏目共{n}条信息均未标注发布日期，视为未更新（{win.requirement}）",
        )

    days = (today - latest).days
    updated = f"{label}栏目更新至{format_date_zh(latest)}"
    review_cutoff = today - relativedelta(months=limits.review_months)
    idle_long = latest < review_cutoff
    review_note = "，建议评估栏目必要性，整合或撤销冗余栏目" if idle_long else ""

    if days < 0:
        return ColumnVerdict(
            **base,
            **latest_info,
            status="fresh",
            days_since=days,
            limit_days=limit_days,
            warn_days=warn_days,
            severity="info",
            message_zh=f"{updated}，晚于检查日期{format_date_zh(today)}，请核实发布日期是否准确",
        )
    if win is None:
        if idle_long:
            return ColumnVerdict(
                **base,
                **latest_info,
                status="review",
                days_since=days,
                limit_days=None,
                warn_days=None,
                severity="info",
                recommend_review=True,
                message_zh=f"{updated}，已{days}天无新信息（超过{_span(limits.review_months)}）{review_note}",
            )
        return ColumnVerdict(
            **base,
            **latest_info,
            status="fresh",
            days_since=days,
            limit_days=None,
            warn_days=None,
            severity="ok",
            message_zh=f"{updated}（{days}天前），{TYPE_LABELS.get(obs.type, '其他类')}栏目无固定更新时限",
        )
    if latest < win.limit_cutoff:
        return ColumnVerdict(
            **base,
            **latest_info,
            status="stale",
            days_since=days,
            limit_days=limit_days,
            warn_days=warn_days,
            severity="serious",
            counts_stale=_counts_stale(obs),
            counts_overdue=True,
            recommend_review=idle_long,
            message_zh=f"{updated}，已{days}天未更新（{win.exceeded}{win.requirement}）{review_note}",
        )
    if latest <= win.warn_cutoff:
        left = (latest - win.limit_cutoff).days
        return ColumnVerdict(
            **base,
            **latest_info,
            status="warning",
            days_since=days,
            limit_days=limit_days,
            warn_days=warn_days,
            severity="warning",
            message_zh=f"{updated}，已{days}天未更新，再过{left + 1}天将超过时限（{win.requirement}）",
        )
    return ColumnVerdict(
        **base,
        **latest_info,
        status="fresh",
        days_since=days,
        limit_days=limit_days,
        warn_days=warn_days,
        severity="ok",
        message_zh=f"{updated}（{days}天前），符合{win.requirement}更新的要求",
    )


def _span(months: int) -> str:
    return "1年" if months == 12 else f"{months}个月"


# --------------------------------------------------------------------------------------------------
# Homepage
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HomepageVerdict:
    """W3 首页不更新. ``result`` is 合格 / 预警 / 不合格; ``status`` fresh | warning | stale | unknown."""

    status: str
    result: str
    days_since: int | None
    limit_days: int
    warn_days: int
    message_zh: str
    severity: str

    @property
    def veto(self) -> bool:
        """True when the homepage triggers the W3 veto."""
        return self.status == "stale"


def evaluate_homepage(
    latest: date | None, today: date, limit_days: int = 14, warn_days: int = 10
) -> HomepageVerdict:
    """Homepage freshness: more than ``limit_days`` without a new item is a veto, ``warn_days`` warns.

    ``latest`` None means no dated item was recognised: that is ``unknown`` (to be checked by hand),
    never a veto, since a parsing gap must not fail a site.
    """
    if latest is None:
        return HomepageVerdict(
            "unknown",
            RESULT_WARN,
            None,
            limit_days,
            warn_days,
            "首页未识别到带发布日期的信息，无法判断更新情况，需人工核查",
            "info",
        )
    days = (today - latest).days
    head = f"首页信息更新至{format_date_zh(latest)}"
    if days > limit_days:
        return HomepageVerdict(
            "stale",
            RESULT_FAIL,
            days,
            limit_days,
            warn_days,
            f"{head}，已{days}天未更新（首页要求{limit_days}天内有更新，超过即单项否决）",
            "serious",
        )
    if days >= warn_days:
        return HomepageVerdict(
            "warning",
            RESULT_WARN,
            days,
            limit_days,
            warn_days,
            f"{head}，已{days}天未更新，再过{limit_days - days + 1}天将触发单项否决"
            f"（首页要求{limit_days}天内有更新）",
            "warning",
        )
    return HomepageVerdict(
        "fresh",
        RESULT_PASS,
        days,
        limit_days,
        warn_days,
        f"{head}（{max(days, 0)}天前），符合首页{limit_days}天内更新的要求",
        "ok",
    )


# --------------------------------------------------------------------------------------------------
# Site summary (veto table)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteThresholds:
    """Counts at which W4 indicators become 预警 / 不合格. Veto figures are national (✅); the warning
    figures for stale and overdue columns are local practice (⚠ configurable); blank warns at 3 as
    vendors do."""

    stale_veto: int = 5
    stale_warn: int = 3
    overdue_veto: int = 10
    overdue_warn: int = 6
    blank_veto: int = 5
    blank_warn: int = 3


@dataclass(frozen=True, slots=True)
class VetoIndicator:
    """One row of the bulletin's veto table."""

    key: str
    name_zh: str
    figure: int
    veto_threshold: int
    warn_threshold: int
    result: str
    columns: tuple[str, ...]
    message_zh: str


@dataclass(frozen=True, slots=True)
class SiteColumnSummary:
    """W4 outcome for a whole site; ``result`` is the worst of the three indicators."""

    indicators: tuple[VetoIndicator, ...]
    result: str
    unknown_columns: tuple[str, ...]
    review_columns: tuple[str, ...]
    checked: int

    @property
    def veto(self) -> bool:
        """True when any W4 indicator fails."""
        return self.result == RESULT_FAIL

    def indicator(self, key: str) -> VetoIndicator:
        """The indicator with ``key`` (stale, overdue, blank)."""
        return next(i for i in self.indicators if i.key == key)


def _indicator(key: str, name: str, cols: list[str], veto: int, warn: int) -> VetoIndicator:
    n = len(cols)
    if n >= veto:
        result, verdict = RESULT_FAIL, f"达到{veto}个，单项否决"
    elif n >= warn:
        result, verdict = RESULT_WARN, f"达到预警线{warn}个（{veto}个即单项否决）"
    else:
        result, verdict = RESULT_PASS, f"未达到{veto}个的否决线"
    listed = f"：{'、'.join(cols)}" if cols else ""
    return VetoIndicator(key, name, n, veto, warn, result, tuple(cols), f"{name}{n}个，{verdict}{listed}")


def site_verdict(
    verdicts: Iterable[ColumnVerdict], thresholds: SiteThresholds | None = None
) -> SiteColumnSummary:
    """Aggregate column verdicts into the three W4 indicators (stale, overdue, blank)."""
    t = thresholds or SiteThresholds()
    vs = list(verdicts)
    stale = [v.label for v in vs if v.counts_stale]
    overdue = [v.label for v in vs if v.counts_overdue]
    blank = [v.label for v in vs if v.counts_blank]
    indicators = (
        _indicator(
            "stale",
            "栏目不更新（动态类超过2周或通知公告、政策文件类一级栏目超过6个月未更新）",
            stale,
            t.stale_veto,
            t.stale_warn,
        ),
        _indicator("overdue", "应更新但长期未更新栏目", overdue, t.overdue_veto, t.overdue_warn),
        _indicator("blank", "空白栏目", blank, t.blank_veto, t.blank_warn),
    )
    results = {i.result for i in indicators}
    result = RESULT_FAIL if RESULT_FAIL in results else RESULT_WARN if RESULT_WARN in results else RESULT_PASS
    return SiteColumnSummary(
        indicators=indicators,
        result=result,
        unknown_columns=tuple(v.label for v in vs if v.status == "unknown"),
        review_columns=tuple(v.label for v in vs if v.recommend_review),
        checked=sum(1 for v in vs if v.status != "unknown"),
    )


# --------------------------------------------------------------------------------------------------
# Message boards (W5 互动回应)
# --------------------------------------------------------------------------------------------------

ANSWERED, UNANSWERED, PROCESSING, UNKNOWN = "answered", "unanswered", "processing", "unknown"

_STATE_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "未回复",
            "未答复",
            "待回复",
            "待答复",
            "未处理",
            "待处理",
            "未办理",
            "待办理",
            "未受理",
            "待受理",
            "未办结",
            "未反馈",
        ),
        UNANSWERED,
    ),
    (
        ("办理中", "处理中", "受理中", "转办中", "已转办", "已受理", "正在办理", "正在处理", "已交办"),
        PROCESSING,
    ),
    (("已回复", "已答复", "已办结", "已处理", "已解决", "已反馈", "办结", "已回应"), ANSWERED),
)


def normalize_message_state(text: str) -> str:
    """Map a 状态 text to answered / unanswered / processing / unknown (negatives checked first)."""
    clean = re.sub(r"\s+", "", text or "")
    for words, state in _STATE_RULES:
        if any(w in clean for w in words):
            return state
    return UNKNOWN


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message on a 留言/信箱 list: when it was asked, when (if) it was answered, and its state."""

    title: str
    asked: date
    replied: date | None
    state: str
    url: str | None = None

    @property
    def answered(self) -> bool:
        """True when the message shows a reply date or an answered state."""
        return self.replied is not None or self.state == ANSWERED


_ASK_HEAD = re.compile(
    r"(?:留言|提问|来信|咨询|提交|写信|发布|发表|投诉|反映|受理)(?:时间|日期)|^时间$|^日期$"
)
_REPLY_HEAD = re.compile(r"(?:回复|答复|办结|处理|反馈|回应)(?:时间|日期)")
_STATE_HEAD = re.compile(r"状态|办理情况|处理情况|回复情况|是否回复")
_TITLE_HEAD = re.compile(r"标题|主题|留言内容|信件|事项|问题")
_ASK_LABEL = re.compile(r"(?:留言|提问|来信|咨询|提交|写信|发布|发表|投诉|反映)(?:时间|日期)\s*[:：]?\s*$")
_REPLY_LABEL = re.compile(r"(?:回复|答复|办结|处理|反馈|回应)(?:时间|日期)\s*[:：]?\s*$")


def _cells(tr: HtmlElement) -> list[HtmlElement]:
    return [c for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]


def _parse_message_table(table: HtmlElement, base: str, today: date) -> list[MessageRecord] | None:
    rows = [tr for tr in table.iter("tr")]
    header_idx = None
    cols: dict[str, int] = {}
    for i, tr in enumerate(rows[:3]):
        texts = [element_text(c) for c in _cells(tr)]
        found: dict[str, int] = {}
        for j, t in enumerate(texts):
            if "reply" not in found and _REPLY_HEAD.search(t):
                found["reply"] = j
            elif "ask" not in found and _ASK_HEAD.search(t):
                found["ask"] = j
            elif "state" not in found and _STATE_HEAD.search(t):
                found["state"] = j
            elif "title" not in found and _TITLE_HEAD.search(t):
                found["title"] = j
        if "ask" in found:
            header_idx, cols = i, found
            break
    if header_idx is None:
        return None
    out: list[MessageRecord] = []
    for tr in rows[header_idx + 1 :]:
        cells = _cells(tr)
        if len(cells) <= cols["ask"]:
            continue
        asked = parse_date(element_text(cells[cols["ask"]]), today, relative=True)
        if asked is None:
            continue
        replied = None
        reply_col_empty = False
        if "reply" in cols and cols["reply"] < len(cells):
            reply_text = element_text(cells[cols["reply"]])
            replied = parse_date(reply_text, today, relative=True)
            reply_col_empty = replied is None
        has_state = "state" in cols and cols["state"] < len(cells)
        state_text = element_text(cells[cols["state"]]) if has_state else ""
        state = normalize_message_state(state_text)
        if state == UNKNOWN:
            state = ANSWERED if replied is not None else UNANSWERED if reply_col_empty else UNKNOWN
        title_cell = cells[cols["title"]] if "title" in cols and cols["title"] < len(cells) else tr
        link = next((a for a in title_cell.iter("a") if a.get("href")), None)
        if link is None:
            link = next((a for a in tr.iter("a") if a.get("href")), None)
        title = (link.get("title") or element_text(link)) if link is not None else element_text(title_cell)
        url = join_url(base, link.get("href") or "") if link is not None else None
        out.append(MessageRecord(title.strip(), asked, replied, state, url))
    return out


def _parse_message_row(row: HtmlElement, base: str, today: date) -> MessageRecord | None:
    text = element_text(row)
    found = scan_dates(text, today, relative=True)
    if not found:
        return None
    asked = replied = None
    labelled: set[int] = set()
    for i, m in enumerate(found):
        before = text[max(0, m.start - 10) : m.start]
        if _REPLY_LABEL.search(before):
            labelled.add(i)
            replied = replied or m.date
        elif _ASK_LABEL.search(before):
            labelled.add(i)
            asked = asked or m.date
    if not labelled:
        asked = found[0].date
        replied = found[1].date if len(found) >= 2 else None
    elif asked is None:
        asked = next((m.date for i, m in enumerate(found) if i not in labelled), None)
    if asked is None:
        return None
    state = normalize_message_state(text)
    if state == UNKNOWN and replied is not None:
        state = ANSWERED
    link = next((a for a in row.iter("a") if a.get("href")), None)
    title = (link.get("title") or element_text(link)) if link is not None else text[: found[0].start]
    url = join_url(base, link.get("href") or "") if link is not None else None
    return MessageRecord(title.strip(), asked, replied, state, url)


def parse_messages(html: str, page_url: str, today: date) -> list[MessageRecord]:
    """Messages from a typical 留言/信箱 list page.

    Tables with a header row are read by column (留言时间/提问时间 → asked, 回复时间/答复时间/办结时间 →
    replied, 状态/办理状态 → state, 标题/主题 → title); an empty reply cell means unanswered. Otherwise
    each list row (li/tr/div with a date) is read by labels (``留言时间：… 回复时间：…``) or, without
    labels, first date = asked and second = replied; 已回复/未回复/办理中 words give the state.
    """
    root = parse_listing(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    drop_noise(root)
    navish = navish_elements(root)
    best: list[MessageRecord] = []
    for table in root.iter("table"):
        if table in navish:
            continue
        parsed = _parse_message_table(table, base, today)
        if parsed and len(parsed) > len(best):
            best = parsed
    if best:
        return best
    for container in root.iter():
        if not isinstance(container.tag, str) or container in navish:
            continue
        records = []
        for row in container:
            if not isinstance(row.tag, str) or row.tag.lower() not in ("li", "tr", "div", "dl", "p"):
                continue
            record = _parse_message_row(row, base, today)
            if record is not None:
                records.append(record)
        if len(records) > len(best):
            best = records
    return best


@dataclass(frozen=True, slots=True)
class MessageFinding:
    """One problematic message with its figures."""

    record: MessageRecord
    kind: str  # unanswered_over_limit | late_reply | slow_reply | pending_slow | old_unanswered
    days: int
    message_zh: str


@dataclass(frozen=True, slots=True)
class MessageStats:
    """Reply statistics over all records passed in."""

    total: int
    answered: int
    answer_rate: float | None
    median_reply_days: float | None
    last_reply: date | None


@dataclass(frozen=True, slots=True)
class MessageVerdict:
    """W5 outcome. ``result`` is 合格 / 预警 / 不合格; ``veto`` lists what fails the site."""

    result: str
    veto_findings: tuple[MessageFinding, ...]
    warning_findings: tuple[MessageFinding, ...]
    stats: MessageStats
    reply_stale: bool
    messages_zh: tuple[str, ...]

    @property
    def veto(self) -> bool:
        """True when a message within the last year waited more than the limit."""
        return bool(self.veto_findings)


def _title(record: MessageRecord) -> str:
    return f"《{record.title}》" if record.title else "（无标题）"


def evaluate_messages(
    records: Iterable[MessageRecord],
    today: date,
    slow_days: int = 15,
    unanswered_months: int = 3,
    window_months: int = 12,
    reply_stale_months: int = 2,
    count_late_replies: bool = True,
) -> MessageVerdict:
    """Judge a message board.

    * veto: a message asked within the last ``window_months`` that has gone more than
      ``unanswered_months`` calendar months without a reply — still open (unanswered or 办理中), or,
      with ``count_late_replies``, answered only after that long (it *was* unanswered for > 3 months);
    * warning: replies that took more than ``slow_days`` days, and open messages older than
      ``slow_days``; and the newest reply older than ``reply_stale_months`` (the 留言答复 deduction);
    * a record with state ``unknown`` and no reply date is not counted as unanswered (no evidence).
    """
    rs = list(records)
    window_start = today - relativedelta(months=window_months)
    veto: list[MessageFinding] = []
    warn: list[MessageFinding] = []
    for r in rs:
        in_window = window_start <= r.asked <= today
        limit_date = r.asked + relativedelta(months=unanswered_months)
        if r.replied is not None:
            took = (r.replied - r.asked).days
            if in_window and count_late_replies and r.replied > limit_date:
                veto.append(
                    MessageFinding(
                        r,
                        "late_reply",
                        took,
                        (
                            f"留言{_title(r)}于{format_date_zh(r.asked)}提交，{format_date_zh(r.replied)}才答复，"
                            f"用时{took}天（超过{unanswered_months}个月未回应，单项否决）"
                        ),
                    )
                )
            elif took > slow_days:
                warn.append(
                    MessageFinding(
                        r,
                        "slow_reply",
                        took,
                        (
                            f"留言{_title(r)}于{format_date_zh(r.asked)}提交，{format_date_zh(r.replied)}答复，"
                            f"用时{took}天（超过{slow_days}天）"
                        ),
                    )
                )
            continue
        if r.state not in (UNANSWERED, PROCESSING):
            continue
        waited = (today - r.asked).days
        state_zh = "仍在办理中" if r.state == PROCESSING else "至今未答复"
        if in_window and today > limit_date:
            veto.append(
                MessageFinding(
                    r,
                    "unanswered_over_limit",
                    waited,
                    (
                        f"留言{_title(r)}于{format_date_zh(r.asked)}提交，{state_zh}，已{waited}天"
                        f"（超过{unanswered_months}个月未回应，单项否决）"
                    ),
                )
            )
        elif today > limit_date:
            warn.append(
                MessageFinding(
                    r,
                    "old_unanswered",
                    waited,
                    (
                        f"留言{_title(r)}于{format_date_zh(r.asked)}提交，{state_zh}，已{waited}天"
                        f"（超过{unanswered_months}个月；提交时间早于近{_span(window_months)}考核期，不计否决）"
                    ),
                )
            )
        elif waited > slow_days:
            warn.append(
                MessageFinding(
                    r,
                    "pending_slow",
                    waited,
                    (
                        f"留言{_title(r)}于{format_date_zh(r.asked)}提交，{state_zh}，已{waited}天（超过{slow_days}天）"
                    ),
                )
            )

    answered = [r for r in rs if r.answered]
    durations = [(r.replied - r.asked).days for r in rs if r.replied is not None]
    replies = [r.replied for r in rs if r.replied is not None]
    last_reply = max(replies) if replies else None
    stats = MessageStats(
        total=len(rs),
        answered=len(answered),
        answer_rate=(len(answered) / len(rs)) if rs else None,
        median_reply_days=float(statistics.median(durations)) if durations else None,
        last_reply=last_reply,
    )
    reply_stale = bool(rs) and (
        last_reply is None or last_reply < today - relativedelta(months=reply_stale_months)
    )
    messages = [f.message_zh for f in veto] + [f.message_zh for f in warn]
    if reply_stale:
        since = f"最近一次答复为{format_date_zh(last_reply)}" if last_reply else "未见任何答复"
        messages.append(f"留言答复超过{reply_stale_months}个月未更新（{since}）")
    rate = f"{stats.answer_rate:.1%}" if stats.answer_rate is not None else "—"
    median = f"{stats.median_reply_days:g}天" if stats.median_reply_days is not None else "—"
    messages.append(f"共{stats.total}条留言，已答复{stats.answered}条，答复率{rate}，答复用时中位数{median}")
    result = RESULT_FAIL if veto else RESULT_WARN if (warn or reply_stale) else RESULT_PASS
    return MessageVerdict(result, tuple(veto), tuple(warn), stats, reply_stale, tuple(messages))
