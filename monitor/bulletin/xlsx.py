"""The bulletin's workbook (``2026-W48问题清单.xlsx``): a summary sheet, one sheet per duty holding every
problem of 附件1 (same 序号), rankings, veto indicators and 附件2, the census (网站普查信息统计表). Written
with openpyxl in write-only (streaming) mode.

Every sheet has a frozen header and an auto-filter. Dates are date cells (sortable and filterable, shown
as 2026-11-02), http(s) URLs are clickable hyperlinks (any other scheme stays plain text), long text
wraps in fixed-width columns. Text from crawled pages is made inert (control characters would make the
file unreadable) and never becomes a formula: a cell starting with "=" is written as a string cell.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from monitor.core.textsafe import inert

from .model import Bulletin, Problem
from .render import href
from .vocabulary import duty_label, duty_order

PROBLEM_HEADER = (
    ("序号", 7),
    ("单位", 18),
    ("单位类别", 9),
    ("网站/账号", 22),
    ("问题类型", 16),
    ("问题描述", 60),
    ("网址", 50),
    ("父页面", 50),
    ("父页面数", 9),
    ("发现时间", 17),
    ("已持续天数", 10),
    ("整改状态", 9),
    ("整改时限", 11),
    ("严重程度", 9),
    ("问题编号", 18),
    ("截图", 40),  # evidence screenshot files, in evidence/ beside bulletin.html
)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="EEF1F5")
_LINK_FONT = Font(color="1F4E8C", underline="single")
_WRAP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: A column this wide or wider wraps its text (narrow ones hold numbers, dates and short labels).
WRAP_WIDTH = 16
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return inert(value, keep_newlines=True)
    return value


def _text_cell(ws: WriteOnlyWorksheet, text: str) -> Cell:
    """A string cell, inert; typed as text so openpyxl never writes it as a formula (it would for a
    leading '='), and Excel never evaluates it (a string cell is not parsed for + - @ either)."""
    cell = WriteOnlyCell(ws, value=_value(text))
    cell.data_type = "s"
    return cell


def as_day(value: Any) -> Any:
    """A census date recorded as ``2026-10-28`` as a date (a date cell); anything else unchanged."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


class _Sheet:
    """A write-only sheet with a styled, frozen, filtered header row at ``header_row``."""

    def __init__(
        self, wb: Workbook, title: str, header: Sequence[tuple[str, float]], *, preamble: Sequence[Any] = ()
    ) -> None:
        self.ws: WriteOnlyWorksheet = wb.create_sheet(_sheet_title(title, wb.sheetnames))
        self.width = len(header)
        # Rows may be longer than the header (a preamble line, a note): those cells do not wrap.
        self.wrap = defaultdict(bool, enumerate(width >= WRAP_WIDTH for _, width in header))
        for i, (_, width) in enumerate(header, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.header_row = len(preamble) + 1
        self.ws.freeze_panes = f"A{self.header_row + 1}"
        self.rows = 0
        for line in preamble:
            cell = _text_cell(self.ws, line)
            cell.font = _HEADER_FONT
            self.ws.append([cell])
        cells = []
        for name, _ in header:
            cell = WriteOnlyCell(self.ws, value=name)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cells.append(cell)
        self.ws.append(cells)

    def append(self, values: Iterable[Any]) -> None:
        """One row: dates as date cells, http(s) URLs as hyperlinks, long text wrapped."""
        row: list[Any] = []
        for i, v in enumerate(values):
            v = _value(v)
            # Only cells that need a format are cell objects: a styled cell costs several times a plain
            # value in openpyxl, and a 20,000-row workbook has 300,000 cells.
            if isinstance(v, datetime):
                # Excel has no time zones: the local (configured zone) wall time, as the bulletin shows it.
                cell = WriteOnlyCell(self.ws, value=v.replace(tzinfo=None))
                cell.number_format = DATETIME_FORMAT
            elif isinstance(v, date):
                # Set as the value (what WriteOnlyCell does): its stub leaves date out of the argument.
                cell = WriteOnlyCell(self.ws)
                cell.value = v
                cell.number_format = DATE_FORMAT
            elif isinstance(v, str) and v and (v[0] == "=" or self.wrap[i] or v.startswith(("http", "HTTP"))):
                cell = WriteOnlyCell(self.ws, value=v)
                if v.startswith("="):  # text, never a formula
                    cell.data_type = "s"
                if self.wrap[i]:
                    cell.alignment = _WRAP
                if "\n" not in v and href(v):
                    cell.hyperlink = v
                    cell.font = _LINK_FONT
            else:
                row.append(v)
                continue
            row.append(cell)
        self.ws.append(row)
        self.rows += 1

    def close(self) -> None:
        last = self.header_row + max(self.rows, 1)
        # The write-only sheet gets auto_filter from Worksheet._setup, which it shares; the stub omits it.
        self.ws.auto_filter.ref = (  # type: ignore[attr-defined]
            f"A{self.header_row}:{get_column_letter(self.width)}{last}"
        )


def _sheet_title(title: str, taken: list[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", title)[:31] or "sheet"
    name, n = base, 2
    while name in taken:
        suffix = f"_{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def _problem_row(p: Problem, seq: int) -> list[Any]:
    return [
        seq,
        p.unit,
        p.unit_group,
        p.site_name,
        p.type_label,
        p.message,
        p.url,
        p.sources[0] if p.sources else "",
        len(p.sources),
        p.first_seen,
        p.days_open,
        p.status,
        p.deadline,
        p.severity.label_zh,
        p.fingerprint,
        "\n".join(f"evidence/{s.file}（{s.label}）" for s in p.screenshots),
    ]


def write_workbook(b: Bulletin, path: Path) -> None:
    """Write the workbook to ``path`` (callers write to a temporary name and rename)."""
    wb = Workbook(write_only=True)
    until = f"（截至{b.as_of:%Y-%m-%d %H:%M}）" if b.incomplete else ""
    preamble = (b.title, f"{b.issue_number}　监测时段：{b.period_zh}{until}")

    summary = _Sheet(
        wb,
        "汇总",
        (
            ("问题类型", 24),
            ("检查项目", 24),
            ("待整改", 9),
            ("本周新发现", 11),
            ("持续未整改", 11),
            ("逾期", 8),
            ("本周已整改", 11),
        ),
        preamble=preamble,
    )
    for t in b.types:
        summary.append([t.label, duty_label(t.duty), t.open, t.new, t.still_open, t.overdue, t.fixed])
    summary.append(
        [
            "合计",
            "",
            b.totals["open"],
            b.totals["new"],
            b.totals["still_open"],
            b.totals["overdue"],
            b.totals["fixed"],
        ]
    )
    for duty_coverage in b.coverage:
        label = duty_coverage.label
        if duty_coverage.state != "ok":
            summary.append([f"（{label}：{duty_coverage.state_zh}）", label, None, None, None, None, None])
        for note in duty_coverage.degraded:  # nights the sanity gate did not use (issue 20)
            summary.append([f"（监测说明：{note}）", label, None, None, None, None, None])
    summary.close()

    # One sheet per duty; 序号 is the row's number in the bulletin's 附件 list, so both can be matched.
    by_duty: dict[str, list[Problem]] = {}
    for p in b.problems:
        by_duty.setdefault(p.duty, []).append(p)
    for duty in sorted(by_duty, key=duty_order):
        sheet = _Sheet(wb, duty_label(duty), PROBLEM_HEADER)
        for p in sorted(by_duty[duty], key=lambda p: p.seq):
            sheet.append(_problem_row(p, p.seq))
        sheet.close()
    if not b.problems:
        empty = _Sheet(wb, "问题清单", PROBLEM_HEADER)
        empty.append(["", "无"])
        empty.close()

    ranking = _Sheet(
        wb,
        "单位排名",
        (("排名", 7), ("单位", 24), ("类别", 10), ("待整改", 9), ("其中逾期", 10), ("本周新发现", 11)),
    )
    for i, r in enumerate(b.ranking, start=1):
        ranking.append([i, r.unit, r.group, r.open, r.overdue, r.new])
    ranking.close()

    veto = _Sheet(
        wb,
        "单项否决指标",
        (("监测对象", 28), ("类别", 10), ("指标", 18), ("结论", 8), ("监测情况", 50), ("判定标准", 40)),
    )
    for s in b.veto:
        for c in s.cells:
            veto.append([s.name, s.kind, c.indicator, c.verdict.label_zh, c.figure, c.threshold])
    veto.close()

    columns = _Sheet(
        wb,
        "网站普查信息统计表",
        (
            ("序号", 7),
            ("网站", 22),
            ("栏目", 24),
            ("单位", 18),
            ("类型", 12),
            ("最近更新", 12),
            ("本周更新条数", 12),
            ("本月更新条数", 12),
            ("网址", 50),
        ),
    )
    if b.census.columns is None:
        columns.append(["", "无数据（本周未开展栏目更新检查）"])
    for i, col in enumerate(b.census.columns or [], start=1):
        columns.append(
            [
                i,
                col.site_name,
                col.name,
                col.unit,
                col.type_zh,
                as_day(col.last_update),
                col.items_week,
                col.items_month,
                col.url,
            ]
        )
    columns.close()

    accounts = _Sheet(
        wb,
        "新媒体普查信息统计表",
        (
            ("序号", 7),
            ("账号", 24),
            ("平台", 12),
            ("单位", 18),
            ("最近发布", 16),
            ("本周发布条数", 12),
            ("本月发布条数", 12),
            ("网址", 50),
        ),
    )
    if b.census.accounts is None:
        accounts.append(["", "无数据（本周未开展政务新媒体检查）"])
    for i, acc in enumerate(b.census.accounts or [], start=1):
        accounts.append(
            [
                i,
                acc.name,
                acc.platform_zh,
                acc.unit,
                as_day(acc.last_post_zh or acc.last_post),
                acc.posts_week,
                acc.posts_month,
                acc.url,
            ]
        )
    accounts.close()

    wb.save(path)
