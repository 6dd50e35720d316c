"""政府信息公开工作年度报告: parsing (text and HTML) and every arithmetic relation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checks.columns.annual_report import (
    APPLICANT_COLUMNS,
    audit_annual_report,
    check_annual_report,
    check_publish_deadline,
    due_report_year,
    parse_annual_report,
    parse_annual_report_html,
    parse_annual_report_text,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT.parent / "shared" / "reference" / "000_e2934e71ad1fc0d7.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        raise AssertionError(f"seed report not found at {SEED}: the repo runs with ../shared beside it")
    return SEED.read_text(encoding="utf-8")


def _replace_after(text: str, label: str, nth: int, new: str) -> str:
    """Replace the ``nth`` numeric cell line (1-based) after the cell line starting with ``label``."""
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("\t" + label))
    seen = 0
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("\t") and lines[i].strip().isdigit():
            seen += 1
            if seen == nth:
                lines[i] = "\t" + new
                return "\n".join(lines)
    raise AssertionError("cell not found")


# ---------------------------------------------------------------------------------------------- seed


def test_seed_report_passes_with_zero_problems(seed_text: str) -> None:
    report = parse_annual_report(seed_text)
    assert report.source == "text"
    assert report.year == 2022
    assert report.title == "汤阴县人民政府办公室2022年政府信息公开工作年度报告"
    assert check_annual_report(report) == []


def test_seed_report_values(seed_text: str) -> None:
    report = parse_annual_report_text(seed_text)
    apps = report.applications
    assert len(apps) == 25 and report.unrecognized == []
    assert apps["new"] == (17, 0, 0, 0, 0, 0, 17)
    assert apps["public"] == (4, 0, 0, 0, 0, 0, 4)
    assert apps["partial"] == (4, 0, 0, 0, 0, 0, 4)
    assert apps["unavailable.1"] == (6, 0, 0, 0, 0, 0, 6)
    assert apps["other.1"] == (3, 0, 0, 0, 0, 0, 3)
    assert apps["total"] == (17, 0, 0, 0, 0, 0, 17)
    assert apps["carry_forward"] == (0,) * 7
    assert [f"withheld.{i}" in apps for i in range(1, 9)] == [True] * 8
    assert report.review == (1, 0, 0, 0, 1) + (0,) * 10


def test_seed_one_wrong_number_in_carry_forward(seed_text: str) -> None:
    broken = _replace_after(seed_text, "四、结转下年度继续办理", 1, "1")  # 自然人 0 -> 1
    problems = check_annual_report(parse_annual_report(broken))
    assert [(p.code, p.relation, p.column or p.row) for p in problems] == [
        ("row_total", "行总计=各类申请人之和", "四、结转下年度继续办理"),
        ("balance", "一+二=三(七)+四", "自然人"),
    ]
    assert problems[1].message_zh == (
        "申请情况表“自然人”列：一、本年新收17＋二、上年结转0＝17，"
        "不等于三、办理结果（七）总计17＋四、结转下年度继续办理1＝18"
    )
    assert problems[0].message_zh == (
        "申请情况表“四、结转下年度继续办理”行：各类申请人之和为1（自然人1＋商业企业0＋科研机构0＋"
        "社会公益组织0＋法律服务机构0＋其他0），与该行总计0不一致"
    )


def test_seed_one_wrong_number_in_new_total(seed_text: str) -> None:
    broken = _replace_after(seed_text, "一、本年新收", 7, "18")  # 总计 17 -> 18
    problems = check_annual_report(parse_annual_report(broken))
    assert [(p.code, p.column or p.row, p.expected, p.actual) for p in problems] == [
        ("row_total", "一、本年新收", 17, 18),
        ("balance", "总计", 18, 17),
    ]


def test_seed_one_wrong_number_in_sub_item(seed_text: str) -> None:
    broken = _replace_after(seed_text, "2.没有现成信息需要另行制作", 1, "2")  # 自然人 0 -> 2
    problems = check_annual_report(parse_annual_report(broken))
    assert [(p.code, p.column or p.row) for p in problems] == [
        ("row_total", "三（四）无法提供「2.没有现成信息需要另行制作」"),
        ("result_total", "自然人"),
    ]
    assert problems[1].message_zh == (
        "申请情况表“自然人”列：（七）总计为17，但（一）予以公开4＋（二）部分公开4＋（三）不予公开0＋"
        "（四）无法提供8＋（五）不予处理0＋（六）其他处理3＝19，两者不等"
    )


def test_seed_one_wrong_number_in_review_table(seed_text: str) -> None:
    lines = seed_text.split("\n")
    # The 15-number row of 行政复议/行政诉讼: change 复议总计 (the 5th number) from 1 to 2.
    start = max(i for i, ln in enumerate(lines) if ln.startswith("\t复议后起诉"))
    numeric = [i for i in range(start, len(lines)) if lines[i].startswith("\t") and lines[i][1:].isdigit()]
    lines[numeric[4]] = "\t2"
    problems = check_annual_report(parse_annual_report("\n".join(lines)))
    assert [(p.code, p.relation) for p in problems] == [
        ("review_total", "行政复议总计=维持+纠正+其他+尚未审结"),
    ]
    assert problems[0].message_zh == (
        "行政复议、行政诉讼表“行政复议”：结果维持1＋结果纠正0＋其他结果0＋尚未审结0＝1，与总计2不一致"
    )


def test_seed_missing_row_is_reported(seed_text: str) -> None:
    lines = seed_text.split("\n")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("\t8.属于行政查询事项"))
    # Drop the whole block (label cells before it up to the blank line, numbers after it).
    start = max(j for j in range(i) if not lines[j].strip()) + 1
    end = next(j for j in range(i, len(lines)) if not lines[j].strip())
    problems = check_annual_report(parse_annual_report("\n".join(lines[:start] + lines[end + 1 :])))
    assert [(p.code, p.row) for p in problems] == [("missing_row", "三（三）不予公开第8项")]


# ---------------------------------------------------------------------------------------------- HTML


def test_html_fixture_passes() -> None:
    html = (FIXTURES / "annual_report_2025.html").read_text(encoding="utf-8")
    report = parse_annual_report(html)
    assert report.source == "html" and report.year == 2025
    assert report.title == "示例县人民政府办公室2025年政府信息公开工作年度报告"
    assert len(report.applications) == 25 and report.unrecognized == []
    assert report.applications["new"] == (25, 3, 0, 1, 2, 0, 31)
    assert report.applications["carry_forward"] == (2, 1, 0, 0, 0, 0, 3)
    assert report.review == (1, 1, 0, 1, 3, 1, 0, 0, 1, 2, 0, 0, 0, 1, 1)
    assert check_annual_report(report) == []


def test_html_broken_fixture_names_relations() -> None:
    html = (FIXTURES / "annual_report_2025_broken.html").read_text(encoding="utf-8")
    problems = check_annual_report(parse_annual_report_html(html))
    assert [(p.code, p.relation, p.column or p.row, p.expected, p.actual) for p in problems] == [
        ("row_total", "行总计=各类申请人之和", "三（一）予以公开", 13, 12),
        ("result_total", "三(七)总计=(一)+(二)+(三)+(四)+(五)+(六)", "自然人", 26, 25),
    ]
    assert "（一）予以公开11" in problems[1].message_zh and "＝26" in problems[1].message_zh


def test_html_with_dash_cells_and_fullwidth_digits() -> None:
    html = (FIXTURES / "annual_report_2025.html").read_text(encoding="utf-8")
    head, tail = html.split("一、本年新收", 1)
    tail = tail.replace(">0</span></p></td>", ">—</span></p></td>", 3).replace(">25<", ">２５<", 1)
    report = parse_annual_report(head + "一、本年新收" + tail)
    assert report.applications["new"] == (25, 3, 0, 1, 2, 0, 31)
    assert report.applications["carried"][2:6] == (0, 0, 0, 0)
    assert check_annual_report(report) == []


def test_missing_tables_are_reported() -> None:
    text = "某县2025年政府信息公开工作年度报告\n\n正文没有表格。"
    problems = check_annual_report(parse_annual_report(text))
    assert [p.code for p in problems] == ["missing_table", "missing_table"]


def test_all_applicant_columns_named() -> None:
    assert APPLICANT_COLUMNS == (
        "自然人",
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    )


# ---------------------------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("year", "published", "today", "code"),
    [
        (2025, date(2026, 1, 31), date(2026, 3, 1), None),
        (2025, date(2026, 2, 1), date(2026, 3, 1), "late"),
        (2025, None, date(2026, 1, 31), None),  # not yet due
        (2025, None, date(2026, 2, 1), "not_published"),
    ],
)
def test_publish_deadline(year: int, published: date | None, today: date, code: str | None) -> None:
    problem = check_publish_deadline(year, published, today)
    assert (problem.code if problem else None) == code


def test_publish_deadline_messages() -> None:
    late = check_publish_deadline(2022, date(2023, 2, 3), date(2023, 3, 1))
    assert late is not None
    assert late.message_zh == "2022年度政府信息公开工作年度报告发布于2023年2月3日，晚于2023年1月31日的期限3天"
    missing = check_publish_deadline(2025, None, date(2026, 3, 2))
    assert missing is not None and "已逾期30天" in missing.message_zh


@pytest.mark.parametrize(
    ("today", "due"),
    [(date(2026, 1, 31), 2024), (date(2026, 2, 1), 2025), (date(2026, 12, 31), 2025)],
)
def test_due_report_year(today: date, due: int) -> None:
    assert due_report_year(today) == due


def test_audit_combines_parse_check_and_deadline(seed_text: str) -> None:
    report, problems = audit_annual_report(seed_text, published=date(2023, 1, 20), today=date(2023, 6, 1))
    assert report.year == 2022 and problems == []
    _, late = audit_annual_report(seed_text, published=date(2023, 2, 10), today=date(2023, 6, 1))
    assert [p.code for p in late] == ["late"]
    _, due = audit_annual_report(
        seed_text, published=date(2023, 1, 20), today=date(2024, 3, 1), published_by_year={2023: None}
    )
    assert [p.code for p in due] == ["not_published"]
    assert "2023年度" in due[0].message_zh
