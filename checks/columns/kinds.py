"""The finding kinds of the columns family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Column audits shared by the ``columns`` duty (the site's own columns) and ``units`` (each unit's).
_COLUMN_AUDIT = (
    FindingKind("column_stale", "栏目不更新", Severity.DEDUCTION),
    FindingKind("column_undated", "栏目不更新", Severity.DEDUCTION),
    FindingKind("column_warning", "栏目临近更新期限（预警）", Severity.WARNING),
    FindingKind("column_blank", "空白栏目", Severity.DEDUCTION),
    FindingKind("column_review", "冗余栏目（建议整合或关闭）", Severity.INFO),
    FindingKind("column_future_date", "栏目日期异常", Severity.INFO),
    FindingKind("source_unreachable", "监测源异常", Severity.INFO),
)

#: Duties ``columns`` and ``units``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "columns": (
        FindingKind("homepage_stale", "首页不更新", Severity.VETO),
        FindingKind("homepage_warning", "首页不更新（预警）", Severity.WARNING),
        FindingKind("homepage_undated", "首页不更新", Severity.INFO),
        FindingKind("columns_indicator", "栏目不更新", Severity.VETO),
        *_COLUMN_AUDIT,
        FindingKind("message_unanswered", "互动回应差", Severity.VETO),
        FindingKind("message_slow", "留言答复不及时", Severity.WARNING),
        FindingKind("annual_report_inconsistent", "政府信息公开年报问题", Severity.DEDUCTION),
        FindingKind("annual_report_late", "政府信息公开年报问题", Severity.DEDUCTION),
        FindingKind("annual_report_unreadable", "监测源异常", Severity.INFO),
    ),
    "units": _COLUMN_AUDIT,
}
