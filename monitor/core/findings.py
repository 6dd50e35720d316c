"""Findings: what a check reports, with a stable identity.

A finding's fingerprint hashes (duty, kind, site, identity) — never time or evidence — so the same dead
link seen from 20 pages, or again tomorrow, is one finding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """Severity follows the national indicators, most serious first."""

    VETO = "veto"  # 单项否决 level
    DEDUCTION = "deduction"  # 扣分项
    WARNING = "warning"  # pre-veto early warning, or a minor problem
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most serious."""
        return list(Severity).index(self)

    @property
    def label_zh(self) -> str:
        """Chinese label used in tables and bulletins."""
        return {"veto": "单项否决", "deduction": "扣分", "warning": "预警", "info": "提示"}[self.value]


@dataclass(frozen=True)
class FindingKind:
    """A kind of finding a check reports: its internal name, its Chinese 问题类型 and its usual severity.

    Each check family declares its kinds in its ``kinds`` module; the bulletin, the XLSX, the CLI and the
    exports show ``label``, never ``name``. ``severity`` is the kind's default: some checks raise or lower
    one finding's severity with what they measured (a ratio past the veto line, a word list's setting).
    """

    name: str
    label: str
    severity: Severity


class FindingStatus(StrEnum):
    """Lifecycle of a finding in the store."""

    OPEN = "open"
    RESOLVED = "resolved"
    IGNORED = "ignored"


#: Duties that inspect the same things share one identity space: the monthly unit inspection (``units``)
#: re-inspects the weekly column audit's (``columns``) columns unit by unit, so a column's problem is one
#: finding — one id — whichever of the two finds it (``status`` and the bulletin count it once).
IDENTITY_FAMILY: dict[str, str] = {"units": "columns"}


def identity_family(duty: str) -> str:
    """The duty whose identity space ``duty`` shares (itself for most duties)."""
    return IDENTITY_FAMILY.get(duty, duty)


def fingerprint(duty: str, kind: str, site: str, identity: str) -> str:
    """Stable 16-hex-digit identity of a problem (duties of one family share it, see IDENTITY_FAMILY)."""
    raw = "\x1f".join((identity_family(duty), kind, site, identity)).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class EvidenceImage:
    """A screenshot kept with a finding (取证截图): PNG bytes and what view it shows ("浏览器视图"…).

    The store writes it beside the database (see :mod:`monitor.store.evidence`) and records only its file name
    in the finding's evidence; the bytes themselves are never put into the database or any JSON.
    """

    label: str
    png: bytes = field(repr=False)


@dataclass(frozen=True)
class Finding:
    """One problem found by a check in one run.

    ``identity`` is what makes the problem itself (the dead URL, the column URL…); ``sources`` are the pages
    where it shows (父页面); ``evidence`` is free-form detail kept for the bulletin and exports; ``images``
    are evidence screenshots, stored as files beside the database (never serialised with ``evidence``).
    """

    duty: str
    kind: str
    severity: Severity
    site: str
    identity: str
    url: str
    message: str
    unit: str | None = None
    sources: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    # Screenshots (取证截图). Not part of the identity, nor of ``evidence``: the store writes the files.
    images: tuple[EvidenceImage, ...] = field(default=(), compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """Stable identity, see :func:`fingerprint`."""
        return fingerprint(self.duty, self.kind, self.site, self.identity)
