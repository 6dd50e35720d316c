"""The file names of a bulletin's attachments: the same on disk, in the mail and in the text that cites them.

An office forwards the attachments as they arrive and files them by name, so the bulletin's text
("附件：1. 问题清单（…见 2026-W48问题清单.xlsx）") names exactly the file next to it and in the mail. The
names stay short enough for one RFC 2231 ``filename*=`` parameter (see :mod:`monitor.bulletin.mail`).
"""

from __future__ import annotations

from monitor.core.isoweek import IsoWeek


def workbook_name(week: IsoWeek) -> str:
    """``2026-W48问题清单.xlsx``: the workbook holding 附件1 (问题清单) and 附件2 (普查信息统计表)."""
    return f"{week.label}问题清单.xlsx"


def document_name(week: IsoWeek) -> str:
    """``2026-W48监测通报.docx``: the Word document of the 通报 for 盖章印发."""
    return f"{week.label}监测通报.docx"
