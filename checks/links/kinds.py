"""The finding kinds of the links family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: Duty ``links``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "links": (
        FindingKind("site_unreachable", "站点无法访问", Severity.DEDUCTION),
        FindingKind("homepage_dead_link", "首页链接不可用", Severity.DEDUCTION),
        FindingKind("dead_link", "链接不可用（死链）", Severity.WARNING),
        FindingKind("link_unverifiable", "链接无法自动检测（反爬虫防护）", Severity.INFO),
        FindingKind("site_unverifiable", "监测源异常", Severity.INFO),
        # A link (or a redirect hop) into the internal network: not requested (monitor.web.egress), so
        # neither a dead link nor a working one; public visitors cannot open it either.
        FindingKind("private_address_link", "链接指向内网地址", Severity.INFO),
    )
}
