"""The Chinese words the console shows for the store's English identifiers.

Finding kinds come from the kinds each check family declares (:func:`checks.kinds.kind_label`), duties
from the bulletin's vocabulary: the console never shows a raw English identifier.
"""

from __future__ import annotations

from checks.kinds import kind_label
from monitor.bulletin.vocabulary import duty_label
from monitor.core.findings import Severity
from monitor.store.triage import EVENT_LABELS as TRIAGE_EVENT_LABELS

STATUS_LABELS = {
    "open": "待整改",
    "recheck": "已整改，待复核",
    "resolved": "已整改（复核通过）",
    "ignored": "误报",
}

#: Finding events: the store's own Chinese names (one vocabulary for the CLI and the console).
EVENT_LABELS = dict(TRIAGE_EVENT_LABELS)

RUN_STATUS_LABELS = {
    "ok": "完成",
    "failed": "失败",
    "interrupted": "已中断",
    "skipped": "跳过（无检查对象）",
    "running": "运行中",
    "degraded": "降级（不作整改判定）",
}

#: Duties that run several checks (monitor.core.duties) and the daemon's own; the others are named as
#: the bulletin names their check.
RUN_DUTY_LABELS = {
    "patrol": "全站巡检（死链、暗链、文字）",
    "text": "文字检查（错别字、敏感词、隐私）",
    "report": "生成周报",
    "backup": "数据备份",
}

RECHECK_STATE_LABELS = {"pending": "排队中", "running": "复核中", "done": "已完成"}
RECHECK_OUTCOME_LABELS = {
    "closed": "问题已消除，已关闭",
    "still_present": "问题仍在",
    "not_credible": "多次运行均不可信，未能判断",
    "cancelled": "已取消（问题被标记为误报）",
}

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


def run_duty_label(value: str) -> str:
    """The name of a run's duty in Chinese."""
    return RUN_DUTY_LABELS.get(value) or duty_label(value)


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
    "run_duty_label",
    "run_status_label",
    "severity_label",
    "status_label",
]
