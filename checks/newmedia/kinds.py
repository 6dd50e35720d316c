"""The finding kinds of the newmedia family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Duty ``newmedia``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "newmedia": (
        FindingKind("stale", "新媒体不更新", Severity.VETO),
        FindingKind("zombie", "僵尸账号", Severity.VETO),
        FindingKind("source_error", "监测源异常", Severity.WARNING),
        FindingKind("low_original", "新媒体原创度不高", Severity.WARNING),
        FindingKind("low_policy", "新媒体政策类信息较少", Severity.WARNING),
    )
}
