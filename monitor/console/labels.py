"""The Chinese words the console shows for the store's English identifiers.

Finding kinds come from the kinds each check family declares (:func:`checks.kinds.kind_label`), duties
from the bulletin's vocabulary: the console never shows a raw English identifier.
"""

from __future__ import annotations

from checks.kinds import kind_label
from monitor.bulletin.vocabulary import duty_label
from monitor.core.findings import Severity

STATUS_LABELS = {
    "open": "待整改",
    "recheck": "已整改，待复核",
    "resolved": "已整改（复核通过）",
    "ignored": "误报",
}

EVENT_LABELS = {
    "opened": "发现问题",
    "reopened": "问题复现，重新打开",
    "resolved": "监测未再发现，已关闭",
    "ignored": "标记为误报",
    "unignored": "撤销误报",
    "assigned": "转交单位",
    "deadline_set": "设定整改时限",
    "rectified": "已整改，申请复核",
    "recheck_closed": "复核通过，已关闭",
    "recheck_failed": "复核未通过，问题仍在",
    "recheck_not_credible": "复核结果不可信，未作判定",
}

RUN_STATUS_LABELS = {
    "ok": "完成",
    "failed": "失败",
    "interrupted": "已中断",
    "skipped": "跳过（无检查对象）",
    "running": "运行中",
    "degraded": "降级（不作整改判定）",
}

RECHECK_STATE_LABELS = {"pending": "排队中", "running": "复核中", "done": "已完成"}
RECHECK_OUTCOME_LABELS = {"closed": "问题已消除", "still_present": "问题仍在", "not_credible": "结果不可信"}

TARGET_STATE_LABELS = {"up": "正常", "down": "无法访问", "unknown": "未知"}

#: Severities, most serious first, with their labels.
SEVERITY_CHOICES = [(s.value, s.label_zh) for s in Severity]


def severity_label(value: str) -> str:
    """扣分 for ``deduction``; an unknown value shows as 未知级别."""
    try:
        return Severity(value).label_zh
    except ValueError:
        return "未知级别"


def status_label(value: str) -> str:
    """A finding status in Chinese."""
    return STATUS_LABELS.get(value, "未知状态")


def event_label(value: str) -> str:
    """A finding event in Chinese."""
    return EVENT_LABELS.get(value, "其他记录")


def run_status_label(value: str) -> str:
    """A run status in Chinese."""
    return RUN_STATUS_LABELS.get(value, "未知")


def problem_label(duty: str, kind: str) -> str:
    """The 问题类型 of a finding kind (declared label)."""
    return kind_label(duty, kind)


__all__ = [
    "RECHECK_OUTCOME_LABELS",
    "RECHECK_STATE_LABELS",
    "SEVERITY_CHOICES",
    "STATUS_LABELS",
    "TARGET_STATE_LABELS",
    "duty_label",
    "event_label",
    "problem_label",
    "run_status_label",
    "severity_label",
    "status_label",
]
