"""The finding kinds of the darklinks family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Duty ``darklinks``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "darklinks": (
        FindingKind("dark_link", "暗链", Severity.VETO),
        FindingKind("cloaking", "暗链", Severity.VETO),
        FindingKind("head_hijack", "页面标题或关键词被篡改", Severity.VETO),
        FindingKind("defacement", "首页疑似被篡改", Severity.VETO),
        FindingKind("outbound_spam", "外链指向违规内容", Severity.VETO),
    )
}
