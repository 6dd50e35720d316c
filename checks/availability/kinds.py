"""The finding kinds of the availability family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Duty ``availability``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "availability": (
        FindingKind("availability_ratio", "站点无法访问", Severity.VETO),
        FindingKind("target_down", "站点无法访问", Severity.WARNING),
        FindingKind("https_missing", "HTTPS证书问题", Severity.DEDUCTION),
        FindingKind("tls_cert_expired", "HTTPS证书问题", Severity.VETO),
        FindingKind("tls_cert_expiring", "HTTPS证书问题", Severity.WARNING),
        FindingKind("tls_hostname_mismatch", "HTTPS证书问题", Severity.DEDUCTION),
        FindingKind("tls_untrusted", "HTTPS证书问题", Severity.DEDUCTION),
        FindingKind("tls_cert_not_yet_valid", "HTTPS证书问题", Severity.DEDUCTION),
        FindingKind("http_not_redirected", "HTTPS证书问题", Severity.WARNING),
        FindingKind("ipv6_missing", "IPv6支持问题", Severity.DEDUCTION),
        FindingKind("ipv6_unreachable", "IPv6支持问题", Severity.DEDUCTION),
    )
}
