"""The national veto indicators (单项否决) and how checks report their status to the bulletin.

A check that measures an indicator hands :class:`IndicatorStatus` records to the runner in its part of the
run report (:mod:`monitor.core.report`). Each record names the rule that measured it by a stable
``rule_id`` (:class:`RuleId`): one indicator may be measured by two rules (W1: the text checks and the
dark-link check), and the weekly bulletin's veto table keeps the latest record per (indicator, subject,
rule) within the week — it never re-computes a check, and never tells rules apart by their wording.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, asdict, dataclass
from enum import StrEnum
from typing import Any


class Indicator(StrEnum):
    """Codes of the national veto indicators a monitor can measure (国办秘函〔2019〕19号)."""

    SITE_UNAVAILABLE = "W2"  # 站点无法访问
    HOMEPAGE_STALE = "W3"  # 首页不更新
    COLUMNS_STALE = "W4-1"  # 栏目不更新: stale columns
    COLUMNS_OVERDUE = "W4-2"  # 栏目不更新: 应更新未更新 columns
    COLUMNS_BLANK = "W4-3"  # 空白栏目
    SERIOUS_ERRORS = "W1"  # 严重表述错误 / 暗链 (linking to illegal content)
    INTERACTION = "W5"  # 互动回应差
    NEWMEDIA_STALE = "M1"  # 新媒体不更新

    @property
    def name_zh(self) -> str:
        """Chinese name used in the veto table."""
        return INDICATOR_NAMES[self]


INDICATOR_NAMES = {
    Indicator.SITE_UNAVAILABLE: "站点无法访问",
    Indicator.HOMEPAGE_STALE: "首页不更新",
    Indicator.COLUMNS_STALE: "栏目不更新",
    Indicator.COLUMNS_OVERDUE: "应更新未更新栏目",
    Indicator.COLUMNS_BLANK: "空白栏目",
    Indicator.SERIOUS_ERRORS: "严重表述错误/暗链",
    Indicator.INTERACTION: "互动回应差",
    Indicator.NEWMEDIA_STALE: "新媒体不更新",
}


class RuleId(StrEnum):
    """Stable names of the rules that measure an indicator (``family.rule``); stored with every record.

    The wording of a rule (its threshold text) follows the configuration and may change between runs;
    the id does not.
    """

    AVAILABILITY_HOMEPAGE = "availability.homepage_failure_rate"  # W2
    COLUMNS_HOMEPAGE = "columns.homepage_2weeks"  # W3
    COLUMNS_STALE = "columns.stale_columns"  # W4-1
    COLUMNS_OVERDUE = "columns.overdue_columns"  # W4-2
    COLUMNS_BLANK = "columns.blank_columns"  # W4-3
    COLUMNS_INTERACTION = "columns.interaction_3months"  # W5
    TEXT_SERIOUS_ERRORS = "text.serious_expression_errors"  # W1
    DARKLINKS = "darklinks.dark_links"  # W1
    NEWMEDIA_FRESHNESS = "newmedia.account_2weeks"  # M1


#: The one rule of each indicator measured by a single rule: how records written before rule ids existed
#: (run reports of schema 1) are read.
_SINGLE_RULE = {
    Indicator.SITE_UNAVAILABLE: RuleId.AVAILABILITY_HOMEPAGE,
    Indicator.HOMEPAGE_STALE: RuleId.COLUMNS_HOMEPAGE,
    Indicator.COLUMNS_STALE: RuleId.COLUMNS_STALE,
    Indicator.COLUMNS_OVERDUE: RuleId.COLUMNS_OVERDUE,
    Indicator.COLUMNS_BLANK: RuleId.COLUMNS_BLANK,
    Indicator.INTERACTION: RuleId.COLUMNS_INTERACTION,
    Indicator.NEWMEDIA_STALE: RuleId.NEWMEDIA_FRESHNESS,
}
#: W1 records of schema 1 carry no rule id; the two checks that wrote them wrote these fixed rule texts.
_LEGACY_W1_RULES = {
    "出现1处严重表述错误即单项否决": RuleId.TEXT_SERIOUS_ERRORS,
    "发现1处暗链或违规外链即单项否决": RuleId.DARKLINKS,
}


def legacy_rule_id(indicator: Indicator, threshold: str) -> str:
    """The rule id of a record written before rule ids existed (schema 1 run reports).

    This is the only place a rule's wording is read: the migration of old rows. A W1 wording no check
    ever wrote gets an id of its own (``legacy.W1:<wording>``), so it is still kept apart.
    """
    if indicator in _SINGLE_RULE:
        return _SINGLE_RULE[indicator].value
    known = _LEGACY_W1_RULES.get(threshold)
    return known.value if known is not None else f"legacy.{indicator.value}:{threshold}"


class Verdict(StrEnum):
    """合格 / 预警 / 不合格, plus 未检测 when the check could not tell."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"pass": "合格", "warn": "预警", "fail": "不合格", "unknown": "未检测"}[self.value]


@dataclass(frozen=True)
class IndicatorStatus:
    """One measured indicator for one subject (a site or an account), as of one run.

    ``rule_id`` (keyword-only) names the rule that measured it (:class:`RuleId`)."""

    indicator: Indicator
    subject: str  # site id or account id
    subject_name: str  # 示例县人民政府门户网站 / 示例县发布（微信公众号）
    verdict: Verdict
    figure: str  # measured figure, Chinese: "近7天失败率6.1%（672次中41次）"
    threshold: str  # the rule: "≥5% 不合格，≥3% 预警"
    value: float | None = None
    _: KW_ONLY
    rule_id: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form stored in the run report."""
        d = asdict(self)
        d["indicator"] = self.indicator.value
        d["verdict"] = self.verdict.value
        d["rule_id"] = str(self.rule_id)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndicatorStatus:
        """Inverse of :meth:`as_dict`; a record without ``rule_id`` (schema 1) gets its legacy rule id.

        Raises KeyError, TypeError or ValueError for a record that is not one."""
        if not isinstance(d, dict):
            raise TypeError(f"not a record: {type(d).__name__}")
        indicator = Indicator(d["indicator"])
        value = d.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(f"value is not a number: {value!r}")
        for name in ("subject", "subject_name", "figure", "threshold"):
            if not isinstance(d[name], str):
                raise TypeError(f"{name} is not text: {d[name]!r}")
        rule_id = d.get("rule_id") or legacy_rule_id(indicator, d["threshold"])
        return cls(
            indicator=indicator,
            subject=d["subject"],
            subject_name=d["subject_name"],
            verdict=Verdict(d["verdict"]),
            figure=d["figure"],
            threshold=d["threshold"],
            value=None if value is None else float(value),
            rule_id=str(rule_id),
        )
