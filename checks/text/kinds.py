"""The finding kinds of the text family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Duties ``typos``, ``sensitive`` and ``privacy`` (the kinds of ``checks.text.check.CHECK_KINDS``).
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "typos": (
        FindingKind("serious_expression", "严重表述错误", Severity.VETO),
        FindingKind("typo", "错别字", Severity.DEDUCTION),
        FindingKind("nonstandard_phrasing", "不规范表述", Severity.DEDUCTION),
        FindingKind("suspected_typo", "疑似错别字", Severity.WARNING),
    ),
    "sensitive": (FindingKind("sensitive_word", "敏感词", Severity.WARNING),),
    "privacy": (FindingKind("privacy_id_number", "个人隐私信息泄露", Severity.VETO),),
}
