"""政府信息公开工作年度报告: parse the 2021 national template tables and check their arithmetic.

Two inputs are supported:

* the HTML page the report is published on (tables as ``<table>``, any rowspan/colspan layout —
  rows are recognised by their labels, not by cell positions);
* the plain-text form produced by document converters, where each table row is a block of lines
  separated by a blank line and every cell is one line starting with a tab (a cell may continue on
  following lines without a tab, e.g. ``商业`` / ``企业``).

Tables read (template of 国办公开办函〔2021〕30号):

* 三、收到和处理政府信息公开申请情况 — rows 一 本年新收, 二 上年结转, 三 办理结果 (一)予以公开,
  (二)部分公开, (三)不予公开 1–8, (四)无法提供 1–3, (五)不予处理 1–5, (六)其他处理 1–3, (七)总计,
  四 结转下年度继续办理; seven numeric columns 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构,
  其他, 总计. A row is any table row ending in exactly seven numbers.
* 四、行政复议、行政诉讼情况 — one row of fifteen numbers: 复议 维持/纠正/其他/尚未审结/总计, then
  诉讼 未经复议直接起诉 and 复议后起诉, each 维持/纠正/其他/尚未审结/总计.

Relations checked (every broken one is reported with its numbers):

1. 一 + 二 = 三(七) + 四, in each of the seven columns (the template's own 勾稽关系);
2. (七)总计 = (一) + (二) + Σ(三) + Σ(四) + Σ(五) + Σ(六), in each column, sub-items summed;
3. each row's 总计 = the sum of the six applicant columns;
4. 复议 总计 = 维持 + 纠正 + 其他 + 尚未审结, and the same for both 诉讼 groups.

Plus the report year and the publication deadline: the report for year Y must be on the site by
31 January of Y+1 (《政府信息公开条例》第五十条).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from lxml.html import HtmlElement

from checks.common.dates import parse_listing

__all__ = [
    "APPLICANT_COLUMNS",
    "REVIEW_COLUMNS",
    "AnnualReport",
    "ReportProblem",
    "audit_annual_report",
    "check_annual_report",
    "check_publish_deadline",
    "due_report_year",
    "parse_annual_report",
    "parse_annual_report_html",
    "parse_annual_report_text",
]

APPLICANT_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
REVIEW_GROUPS = ("行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）")
REVIEW_PARTS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
REVIEW_COLUMNS = tuple(f"{g}·{p}" for g in REVIEW_GROUPS for p in REVIEW_PARTS)

#: Result sections of 三、本年度办理结果: key, keyword in the label, display name, sub-item count.
SECTIONS: tuple[tuple[str, str, str, int], ...] = (
    ("public", "予以公开", "（一）予以公开", 0),
    ("partial", "部分公开", "（二）部分公开", 0),
    ("withheld", "不予公开", "（三）不予公开", 8),
    ("unavailable", "无法提供", "（四）无法提供", 3),
    ("not_processed", "不予处理", "（五）不予处理", 5),
    ("other", "其他处理", "（六）其他处理", 3),
    ("total", "总计", "（七）总计", 0),
)
_SECTION_NAME = {key: name for key, _, name, _ in SECTIONS}
ROW_NAMES = {
    "new": "一、本年新收",
    "carried": "二、上年结转",
    "carry_forward": "四、结转下年度继续办理",
    **{key: f"三{name}" for key, _, name, _ in SECTIONS},
}

_NUMBER = re.compile(r"^[0-9０-９]+$")
_DASH = re.compile(r"^[-—－–/／无]$")
_SUB_ITEM = re.compile(r"^([0-9０-９]{1,2})\s*[.．、]")
_FULLWIDTH = str.maketrans("０１２３４５６７８９（）", "0123456789()")


@dataclass(frozen=True, slots=True)
class ReportProblem:
    """One broken relation or structural gap, with a Chinese message carrying the numbers.

    ``code``: balance | result_total | row_total | review_total | missing_row | missing_table |
    late | not_published | missing_year. ``relation`` names the relation, e.g. ``一+二=三(七)+四``.
    """

    code: str
    relation: str
    message_zh: str
    column: str | None = None
    row: str | None = None
    expected: int | None = None
    actual: int | None = None


@dataclass(slots=True)
class AnnualReport:
    """Parsed report: year, title and the two tables (None/empty when not found)."""

    year: int | None
    title: str | None
    applications: dict[str, tuple[int, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    review: tuple[int, ...] | None = None
    unrecognized: list[str] = field(default_factory=list)
    source: str = "text"


# --------------------------------------------------------------------------------------------------
# Row extraction
# --------------------------------------------------------------------------------------------------


def _text_rows(text: str) -> list[list[str]]:
    """Rows of the plain-text form: blocks of tab-indented cell lines separated by blank lines.

    Lines without a leading tab continue the previous cell inside a block, and are single-cell rows
    (headings, paragraphs) outside one. A line with inner tabs is split into cells.
    """
    rows: list[list[str]] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        if line.startswith("\t"):
            current.extend(c.strip() for c in line.split("\t")[1:])
        elif not line.strip():
            if current:
                rows.append(current)
                current = []
        elif current:
            current[-1] += line.strip()
        elif "\t" in line:
            rows.append([c.strip() for c in line.split("\t")])
        else:
            rows.append([line.strip()])
    if current:
        rows.append(current)
    return rows


def _html_rows(root: HtmlElement) -> list[list[str]]:
    rows = []
    for tr in root.iter("tr"):
        cells = [
            re.sub(r"\s+", "", c.text_content())
            for c in tr
            if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")
        ]
        rows.append(cells)
    return rows


def _numeric_suffix(cells: list[str]) -> tuple[list[str], list[int]]:
    """Split a row into label cells and its trailing numbers (dashes count as 0)."""
    trimmed = list(cells)
    while trimmed and not trimmed[-1].strip():
        trimmed.pop()
    values: list[int] = []
    i = len(trimmed)
    while i > 0:
        cell = re.sub(r"\s+", "", trimmed[i - 1])
        if _NUMBER.match(cell):
            values.append(int(cell.translate(_FULLWIDTH)))
        elif _DASH.match(cell):
            values.append(0)
        else:
            break
        i -= 1
    values.reverse()
    return trimmed[:i], values


def _norm(label: str) -> str:
    return re.sub(r"\s+", "", label.translate(_FULLWIDTH))


def _read_tables(rows: list[list[str]], report: AnnualReport) -> None:
    section: str | None = None
    for cells in rows:
        labels_raw, values = _numeric_suffix(cells)
        labels = [_norm(c) for c in labels_raw if c.strip()]
        if len(values) == 15 and report.review is None:
            report.review = tuple(values)
            continue
        if len(values) != 7:
            continue
        joined = "".join(labels)
        key: str | None = None
        if "本年新收" in joined:
            key = "new"
        elif "上年结转" in joined:
            key = "carried"
        elif "结转下年度" in joined:
            key = "carry_forward"
        else:
            for lab in labels:
                body = _SUB_ITEM.sub("", lab)
                for sec_key, word, _name, _n in SECTIONS:
                    if word in body and not _SUB_ITEM.match(lab):
                        section = sec_key
                        break
            last = labels[-1] if labels else ""
            sub = _SUB_ITEM.match(last)
            if sub and section is not None:
                key = f"{section}.{int(sub.group(1).translate(_FULLWIDTH))}"
            elif section is not None and not sub:
                key = section
        if key is None or key in report.applications:
            report.unrecognized.append(joined or "（无标签行）")
            continue
        report.applications[key] = tuple(values)
        report.labels[key] = labels[-1] if labels else ""


_YEAR_PATTERNS = (
    re.compile(r"([0-9]{4})\s*年度?\s*(?:政府)?信息公开(?:工作)?年度?报告"),
    re.compile(r"([〇○零一二三四五六七八九]{4})\s*年度?\s*(?:政府)?信息公开(?:工作)?年度?报告"),
    re.compile(r"统计期限自\s*([0-9]{4})\s*年\s*1\s*月\s*1\s*日"),
)
_CN_DIGITS = {
    "〇": "0",
    "○": "0",
    "零": "0",
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}


def _find_year(*texts: str | None) -> int | None:
    for pattern in _YEAR_PATTERNS:
        for text in texts:
            if not text:
                continue
            m = pattern.search(text.translate(_FULLWIDTH))
            if m:
                digits = "".join(_CN_DIGITS.get(c, c) for c in m.group(1))
                return int(digits)
    return None


def parse_annual_report_text(text: str) -> AnnualReport:
    """Parse the plain-text (converted document) form of a report."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = next((ln for ln in lines[:5] if "报告" in ln), lines[0] if lines else None)
    report = AnnualReport(year=_find_year(title, text[:3000]), title=title, source="text")
    _read_tables(_text_rows(text), report)
    return report


def parse_annual_report_html(html: str) -> AnnualReport:
    """Parse a report from its published HTML page (tables as ``<table>``)."""
    root = parse_listing(html)
    if root is None:
        return AnnualReport(year=None, title=None, source="html")
    title = None
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() == "articletitle" and meta.get("content"):
            title = meta.get("content", "").strip()
            break
    if title is None:
        for tag in ("h1", "h2", "title"):
            el = next(iter(root.iter(tag)), None)
            if el is not None and "报告" in el.text_content():
                title = re.sub(r"\s+", "", el.text_content())
                break
    body_text = root.text_content()
    report = AnnualReport(year=_find_year(title, body_text[:5000]), title=title, source="html")
    rows = _html_rows(root)
    if not any(len(_numeric_suffix(r)[1]) in (7, 15) for r in rows):
        # Report pasted as text inside the page: fall back to the text reader.
        return parse_annual_report_text(body_text) if body_text.strip() else report
    _read_tables(rows, report)
    return report


def parse_annual_report(source: str) -> AnnualReport:
    """Parse HTML or plain text, detected by the presence of table/html markup."""
    if re.search(r"<\s*(?:table|html|body|tr)\b", source[:200000], re.I):
        return parse_annual_report_html(source)
    return parse_annual_report_text(source)


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def _plus(parts: list[tuple[str, int]]) -> str:
    return "＋".join(f"{name}{value}" for name, value in parts)


def _section_sum(report: AnnualReport, sec: str, count: int, col: int) -> int | None:
    if count == 0:
        row = report.applications.get(sec)
        return None if row is None else row[col]
    vals = [report.applications.get(f"{sec}.{i}") for i in range(1, count + 1)]
    if any(v is None for v in vals):
        return None
    return sum(v[col] for v in vals if v is not None)


def check_annual_report(report: AnnualReport) -> list[ReportProblem]:
    """Every broken relation of the two tables (see the module docstring), in a stable order."""
    problems: list[ReportProblem] = []
    apps = report.applications
    if not apps:
        problems.append(
            ReportProblem(
                "missing_table",
                "申请情况表",
                "未识别到“收到和处理政府信息公开申请情况”表（每行7列数字），无法核对",
            )
        )
    else:
        expected_keys = (
            ["new", "carried"]
            + [f"{k}.{i}" if n else k for k, _, _, n in SECTIONS for i in (range(1, n + 1) if n else [0])]
            + ["carry_forward"]
        )
        for key in expected_keys:
            if key not in apps:
                sec, _, idx = key.partition(".")
                name = ROW_NAMES.get(sec, sec) + (f"第{idx}项" if idx else "")
                problems.append(
                    ReportProblem(
                        "missing_row",
                        "表格完整",
                        f"申请情况表缺少“{name}”行，相关勾稽关系无法完整核对",
                        row=name,
                    )
                )

    # 3. Row totals.
    for key, values in apps.items():
        parts = list(zip(APPLICANT_COLUMNS[:6], values[:6], strict=True))
        total = sum(values[:6])
        if total != values[6]:
            sec, _, idx = key.partition(".")
            name = ROW_NAMES.get(sec, sec) + (f"「{report.labels.get(key, idx)}」" if idx else "")
            problems.append(
                ReportProblem(
                    "row_total",
                    "行总计=各类申请人之和",
                    f"申请情况表“{name}”行：各类申请人之和为{total}（{_plus(parts)}），与该行总计{values[6]}不一致",
                    row=name,
                    expected=total,
                    actual=values[6],
                )
            )

    # 2. (七)总计 = (一)…(六).
    if "total" in apps:
        for col, col_name in enumerate(APPLICANT_COLUMNS):
            parts = []
            complete = True
            for sec, _, name, count in SECTIONS[:-1]:
                value = _section_sum(report, sec, count, col)
                if value is None:
                    complete = False
                    break
                parts.append((name, value))
            if not complete:
                continue
            total = sum(v for _, v in parts)
            if total != apps["total"][col]:
                problems.append(
                    ReportProblem(
                        "result_total",
                        "三(七)总计=(一)+(二)+(三)+(四)+(五)+(六)",
                        f"申请情况表“{col_name}”列：（七）总计为{apps['total'][col]}，但{_plus(parts)}＝{total}，两者不等",
                        column=col_name,
                        expected=total,
                        actual=apps["total"][col],
                    )
                )

    # 1. 一 + 二 = 三(七) + 四.
    if all(k in apps for k in ("new", "carried", "total", "carry_forward")):
        for col, col_name in enumerate(APPLICANT_COLUMNS):
            left = apps["new"][col] + apps["carried"][col]
            right = apps["total"][col] + apps["carry_forward"][col]
            if left != right:
                problems.append(
                    ReportProblem(
                        "balance",
                        "一+二=三(七)+四",
                        f"申请情况表“{col_name}”列：一、本年新收{apps['new'][col]}＋二、上年结转{apps['carried'][col]}"
                        f"＝{left}，不等于三、办理结果（七）总计{apps['total'][col]}＋四、结转下年度继续办理"
                        f"{apps['carry_forward'][col]}＝{right}",
                        column=col_name,
                        expected=left,
                        actual=right,
                    )
                )

    # 4. Review / litigation totals.
    if report.review is None:
        problems.append(
            ReportProblem(
                "missing_table",
                "行政复议、行政诉讼表",
                "未识别到“政府信息公开行政复议、行政诉讼情况”表（15列数字），无法核对",
            )
        )
    else:
        for g, group in enumerate(REVIEW_GROUPS):
            block = report.review[g * 5 : g * 5 + 5]
            parts = list(zip(REVIEW_PARTS[:4], block[:4], strict=True))
            total = sum(block[:4])
            if total != block[4]:
                problems.append(
                    ReportProblem(
                        "review_total",
                        f"{group}总计=维持+纠正+其他+尚未审结",
                        f"行政复议、行政诉讼表“{group}”：{_plus(parts)}＝{total}，与总计{block[4]}不一致",
                        column=group,
                        expected=total,
                        actual=block[4],
                    )
                )
    return problems


def due_report_year(today: date) -> int:
    """The most recent report year whose deadline (31 January of the next year) has passed."""
    return today.year - 1 if today > date(today.year, 1, 31) else today.year - 2


def check_publish_deadline(year: int, published: date | None, today: date) -> ReportProblem | None:
    """The report for ``year`` must be published by 31 January of ``year + 1``.

    ``published`` None means not found on the site: a problem once the deadline has passed, nothing
    before that.
    """
    deadline = date(year + 1, 1, 31)
    if published is None:
        if today > deadline:
            late = (today - deadline).days
            return ReportProblem(
                "not_published",
                "年度报告按时公开",
                f"未找到{year}年度政府信息公开工作年度报告，应于{deadline.year}年1月31日前公开，已逾期{late}天",
                expected=None,
                actual=late,
            )
        return None
    if published > deadline:
        late = (published - deadline).days
        return ReportProblem(
            "late",
            "年度报告按时公开",
            f"{year}年度政府信息公开工作年度报告发布于{published.year}年{published.month}月{published.day}日，"
            f"晚于{deadline.year}年1月31日的期限{late}天",
            expected=0,
            actual=late,
        )
    return None


def audit_annual_report(
    source: str,
    published: date | None = None,
    today: date | None = None,
    published_by_year: Mapping[int, date | None] | None = None,
) -> tuple[AnnualReport, list[ReportProblem]]:
    """Parse and check a report; with ``published`` and ``today`` also check its deadline.

    ``published_by_year`` (year → publish date or None) lets callers check the report that is due on
    ``today`` (see :func:`due_report_year`) even when ``source`` is another year's report.
    """
    report = parse_annual_report(source)
    problems = check_annual_report(report)
    if report.year is None:
        problems.append(ReportProblem("missing_year", "报告年度", "未能从标题识别报告年度"))
    if today is not None:
        if report.year is not None and published is not None:
            late = check_publish_deadline(report.year, published, today)
            if late:
                problems.append(late)
        if published_by_year is not None:
            due = due_report_year(today)
            if report.year != due or published is None:
                late = check_publish_deadline(due, published_by_year.get(due), today)
                if late:
                    problems.append(late)
    return report, problems
