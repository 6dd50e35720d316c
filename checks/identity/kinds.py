"""The finding kinds of the identity family: the 问题类型 each is reported as, and its usual severity."""

from __future__ import annotations

from monitor.core.findings import FindingKind, Severity

#: The identity items a site's footer and head must carry (``site_identity_<item>`` when missing,
#: ``site_identity_<item>_wrong`` when present but wrong).
ITEMS = ("code", "icp", "police", "dzjg", "domain", "meta", "zhaocuo")

#: Duty ``identity``.
KINDS: dict[str, tuple[FindingKind, ...]] = {
    "identity": (
        *(FindingKind(f"site_identity_{item}", "网站标识不规范", Severity.DEDUCTION) for item in ITEMS),
        *(FindingKind(f"site_identity_{item}_wrong", "网站标识不规范", Severity.DEDUCTION) for item in ITEMS),
    )
}
