"""The national veto indicators (单项否决) and how checks report their status to the bulletin.

A check that measures an indicator puts :class:`IndicatorStatus` records (as dicts, via ``as_dict``) in
its run's counts under ``"indicators"``. The weekly bulletin's veto table reads the latest such record per
(indicator, subject) within the week from the store — it never re-computes a check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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
    """One measured indicator for one subject (a site or an account), as of one run."""

    indicator: Indicator
    subject: str  # site id or account id
    subject_name: str  # 示例县人民政府门户网站 / 示例县发布（微信公众号）
    verdict: Verdict
    figure: str  # measured figure, Chinese: "近7天失败率6.1%（672次中41次）"
    threshold: str  # the rule: "≥5% 不合格，≥3% 预警"
    value: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form stored in run counts."""
        d = asdict(self)
        d["indicator"] = self.indicator.value
        d["verdict"] = self.verdict.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndicatorStatus:
        """Inverse of :meth:`as_dict`."""
        return cls(**{**d, "indicator": Indicator(d["indicator"]), "verdict": Verdict(d["verdict"])})
