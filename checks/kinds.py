"""Every finding kind the checks can report, read from each family's ``kinds`` module.

Light on purpose (no check module is imported): the bulletin, the XLSX, the CLI and the exports take
their Chinese labels from here, and ``tests/test_finding_kinds.py`` fails when a check reports a kind
that is not declared.
"""

from __future__ import annotations

import importlib
from functools import cache

from monitor.core.findings import FindingKind

#: The families' kinds modules, in bulletin order of their duties.
_MODULES = (
    "checks.availability.kinds",
    "checks.identity.kinds",
    "checks.links.kinds",
    "checks.columns.kinds",
    "checks.darklinks.kinds",
    "checks.text.kinds",
    "checks.newmedia.kinds",
)


@cache
def finding_kinds() -> dict[str, dict[str, FindingKind]]:
    """Duty → kind name → its declaration, for every check."""
    out: dict[str, dict[str, FindingKind]] = {}
    for module in _MODULES:
        for duty, kinds in importlib.import_module(module).KINDS.items():
            out.setdefault(duty, {}).update((k.name, k) for k in kinds)
    return out


def kind_of(duty: str, kind: str) -> FindingKind | None:
    """The declaration of one kind of one duty; None for a kind no check declares."""
    return finding_kinds().get(duty, {}).get(kind)


def kind_label(duty: str, kind: str) -> str:
    """The 问题类型 of a kind; a kind no check declares (a finding stored by an older version) shows as
    ``问题类型未登记（<kind>）`` rather than disappearing."""
    declared = kind_of(duty, kind)
    return declared.label if declared is not None else f"问题类型未登记（{kind}）"
