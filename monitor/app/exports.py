"""``monitor findings export``: a CSV for people and JSON lines for scripts.

The CSV is what an office opens in Excel or WPS and forwards: Chinese headers, the columns of the
bulletin's 附件1 问题清单 in the same order (序号 … 整改时限), then the triage columns (严重程度, 问题编号,
状态, 最近发现, 误报原因) and the evidence flattened into readable text and screenshot names — never a JSON
blob. Cells that a spreadsheet would run as a formula are written as text.

JSON lines keep the stable machine fields (``EXPORT_FIELDS``) with the evidence as structured JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from checks.kinds import kind_label
from monitor.bulletin.vocabulary import DUTIES, STATUS_FIXED, STATUS_OPEN, STATUS_OVERDUE
from monitor.config import Config
from monitor.core.findings import Severity
from monitor.core.textsafe import csv_cell, inert_json
from monitor.core.workdays import WorkdayCalendar

#: Fields of the JSON-lines export, stable for scripts.
EXPORT_FIELDS = (
    "fingerprint",
    "duty",
    "kind",
    "kind_zh",
    "severity",
    "status",
    "site",
    "unit",
    "url",
    "source_urls",
    "message",
    "evidence",
    "first_seen",
    "last_seen",
    "resolved_at",
    "ignored_reason",
    "assigned_unit",  # issue 23: the unit it was assigned to (null: ``unit``), the 整改时限 set for it
    "deadline",
)

#: The bulletin's 附件1 columns, in its order (monitor/bulletin/templates/bulletin.txt.j2).
ATTACHMENT_COLUMNS = (
    "序号",
    "单位",
    "网站/账号",
    "问题类型",
    "问题描述",
    "网址",
    "父页面",
    "发现时间",
    "整改状态",
    "整改时限",
)
#: What a person triaging needs besides the 附件1 columns.
EXTRA_COLUMNS = ("严重程度", "问题编号", "最近发现", "误报原因", "证据", "截图")
CSV_COLUMNS = ATTACHMENT_COLUMNS + EXTRA_COLUMNS

#: Chinese names of evidence keys the checks commonly record; other keys are shown as they are.
_EVIDENCE_KEYS = {
    "reason": "原因",
    "reasons": "判定依据",
    "days_since": "未更新天数",
    "last_update": "最近更新",
    "status": "HTTP状态",
    "final_url": "最终网址",
    "title": "标题",
    "text": "链接文字",
    "snippet": "页面片段",
    "page": "所在页面",
    "target": "目标",
    "terms": "命中词",
    "title_terms": "标题命中词",
    "techniques": "隐藏手法",
    "technique_kind": "手法类别",
    "pages": "页面数",
    "urls": "网址",
    "account_name": "账号",
    "subject_name": "对象",
    "figure": "指标数据",
    "indicator": "指标",
    "expected": "应为",
    "found": "实际",
    "since": "起始",
    "problems": "问题",
    "browser": "浏览器复核",
    "sources": "来源",
    "source_count": "来源数",
}
_EVIDENCE_MAX = 600
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any, depth: int = 0) -> str:
    """A value as readable text: lists joined with 、, mappings as 键=值, nothing deeper than two levels."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Mapping):
        if depth >= 2:
            return "…"
        return "，".join(
            f"{_EVIDENCE_KEYS.get(str(k), str(k))}={_plain(v, depth + 1)}"
            for k, v in value.items()
            if v not in (None, "", [], {})
        )
    if isinstance(value, list | tuple):
        if depth >= 2:
            return f"{len(value)}项"
        return "、".join(_plain(v, depth + 1) for v in value)
    return str(value)


def flatten_evidence(evidence: Mapping[str, Any] | None) -> str:
    """A finding's evidence as one readable cell: ``原因：域名无法解析；页面数：7`` (screenshots apart)."""
    if not evidence:
        return ""
    parts = []
    for key, value in evidence.items():
        if key == "screenshots" or value in (None, "", [], {}):
            continue
        parts.append(f"{_EVIDENCE_KEYS.get(key, key)}：{_plain(value, 1)}")
    text = "；".join(parts)
    return text if len(text) <= _EVIDENCE_MAX else text[: _EVIDENCE_MAX - 1] + "…"


def screenshot_names(evidence: Mapping[str, Any] | None) -> str:
    """The evidence screenshots' file names (in ``monitor.db.evidence/`` and the bulletin's folder)."""
    shots = (evidence or {}).get("screenshots") or []
    names = [str(s.get("file")) for s in shots if isinstance(s, Mapping) and s.get("file")]
    return "、".join(names)


def sheet_cell(value: Any) -> str:
    """Text a spreadsheet shows as text: inert, and never a formula (``monitor.core.textsafe.csv_cell``)."""
    return str(csv_cell("" if value is None else str(value)))


def _date(stamp: str | None) -> str:
    return stamp[:10] if stamp else ""


def _subject(row: Mapping[str, Any], site_names: Mapping[str, str]) -> str:
    evidence = row.get("evidence") or {}
    if row["site"] in site_names:
        return site_names[row["site"]]
    named = evidence.get("account_name") or evidence.get("subject_name")
    if named:
        return str(named)
    info = DUTIES.get(row["duty"])
    return info.subject if info is not None and row["site"] == row["duty"] else str(row["site"])


def people_rows(rows: Iterable[Mapping[str, Any]], config: Config, today: date) -> list[dict[str, str]]:
    """Findings as rows of the people's CSV (``CSV_COLUMNS``), with the bulletin's 整改状态 and 整改时限."""
    opts = config.bulletin
    calendar = WorkdayCalendar(opts.workdays.holidays, opts.workdays.makeup_workdays)
    site_names = {s.id: s.name for s in config.sites}
    out = []
    for seq, row in enumerate(rows, start=1):
        first_seen = datetime.fromisoformat(row["first_seen"]).astimezone(config.tz).date()
        # A 整改时限 set in the console (issue 23) overrides the bulletin's working-day rule.
        deadline = (
            date.fromisoformat(row["deadline"])
            if row.get("deadline")
            else calendar.add_workdays(first_seen, opts.deadline_working_days)
        )
        if row["status"] == "open":
            state = STATUS_OVERDUE if today > deadline else STATUS_OPEN
        elif row["status"] == "resolved":
            state = STATUS_FIXED
        else:
            state = "误报（已忽略）"
        sources = list(row.get("source_urls") or [])
        parent = sources[0] if sources else ""
        if len(sources) > 1:
            parent += f" 等{len(sources)}个"
        values = {
            "序号": seq,
            "单位": row.get("assigned_unit") or row.get("unit") or "",
            "网站/账号": _subject(row, site_names),
            "问题类型": kind_label(row["duty"], row["kind"]),
            "问题描述": row.get("message") or "",
            "网址": row.get("url") or "",
            "父页面": parent,
            "发现时间": _date(row["first_seen"]),
            "整改状态": state,
            "整改时限": deadline.isoformat(),
            "严重程度": Severity(row["severity"]).label_zh,
            "问题编号": row["fingerprint"],
            "最近发现": _date(row.get("last_seen")),
            "误报原因": row.get("ignored_reason") or "",
            "证据": flatten_evidence(row.get("evidence")),
            "截图": screenshot_names(row.get("evidence")),
        }
        out.append({k: sheet_cell(v) for k, v in values.items()})
    return out


def to_csv(rows: list[dict[str, str]]) -> str:
    """The people's CSV text (the caller adds Excel's byte-order mark when writing a file)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def machine_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings with the stable JSON-lines fields."""
    return [
        {k: kind_label(row["duty"], row["kind"]) if k == "kind_zh" else row.get(k) for k in EXPORT_FIELDS}
        for row in rows
    ]


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    """One JSON object per line (JSON escapes control characters: crawled text stays inert)."""
    return "".join(inert_json(row) + "\n" for row in rows)
