"""Tables people read on the terminal: ``findings list`` and ``check text``, in the chosen language.

Columns show the Chinese 问题类型 and severity names, never internal kind names; text from crawled pages
and drafts is made inert. Without a terminal the table is 200 columns wide (a pipe or a file).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checks.kinds import kind_label
from monitor.app.lang import FINDING_STATUS_ZH, t
from monitor.core.findings import Severity
from monitor.core.textsafe import inert


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200, markup=False, highlight=False)


def print_findings(rows: Sequence[Mapping[str, Any]], *, show_reason: bool, show_status: bool) -> None:
    """Findings as a table: id, severity, 问题类型, unit, site, first seen, message (and the 误报 reason)."""
    table = Table(header_style="bold")
    columns = [
        t("编号", "id"),
        t("严重程度", "severity"),
        t("问题类型", "type"),
        t("单位", "unit"),
        t("站点", "site"),
        t("首次发现", "first seen"),
    ]
    if show_status:
        columns.append(t("状态", "status"))
    columns.append(t("问题描述", "message"))
    if show_reason:
        columns.append(t("误报原因", "reason"))
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        cells = [
            Text(row["fingerprint"][:8]),
            Text(t(Severity(row["severity"]).label_zh, row["severity"])),
            Text(kind_label(row["duty"], row["kind"])),
            Text(inert(row.get("assigned_unit") or row["unit"] or "")),  # the unit it was assigned to
            Text(inert(row["site"])),
            Text(row["first_seen"][:10]),
        ]
        if show_status:
            cells.append(Text(t(FINDING_STATUS_ZH.get(row["status"], row["status"]), row["status"])))
        cells.append(Text(inert(row["message"])))
        if show_reason:
            cells.append(Text(inert(row.get("ignored_reason") or "")))
        table.add_row(*cells)
    console = _console()
    console.print(table)
    console.print(t(f"共{len(rows)}条", f"{len(rows)} finding(s)"))


def print_proofread(rows: Iterable[Mapping[str, Any]]) -> None:
    """``check text`` results: line, characters, severity, type, wrong text, suggestion, context."""
    rows = list(rows)
    table = Table(header_style="bold")
    for name in (
        t("行", "line"),
        t("位置", "chars"),
        t("严重程度", "severity"),
        t("问题类型", "type"),
        t("原文", "wrong"),
        t("建议", "suggestion"),
        t("上下文", "context"),
    ):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["line"]),
            f"{r['start'] + 1}-{r['end']}",
            t(Severity(r["severity"]).label_zh, r["severity"]),
            Text(r["kind_zh"]),
            Text(inert(r["wrong"])),
            Text(inert(r["suggestion"] or "")),
            Text(inert(r["snippet"])),
        )
    console = _console()
    console.print(table)
    if rows:
        console.print(t(f"共发现{len(rows)}处问题", f"{len(rows)} finding(s)"))
    else:
        console.print(t("未发现问题：文本通过检查", "no findings: the text is clean"))
