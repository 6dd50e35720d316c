"""Message-board (W5 互动回应) parsing and evaluation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checks.columns.rules import (
    ANSWERED,
    PROCESSING,
    UNANSWERED,
    UNKNOWN,
    MessageRecord,
    evaluate_messages,
    normalize_message_state,
    parse_messages,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TODAY = date(2026, 11, 26)
PAGE = "http://www.example.gov.cn/hdjl/xzxx/"


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("已回复", ANSWERED),
        ("[已答复]", ANSWERED),
        ("已办结", ANSWERED),
        ("办结", ANSWERED),
        ("未回复", UNANSWERED),
        ("待答复", UNANSWERED),
        ("未办结", UNANSWERED),
        ("待处理", UNANSWERED),
        ("办理中", PROCESSING),
        ("已转办", PROCESSING),
        ("已受理", PROCESSING),
        ("", UNKNOWN),
        ("公开", UNKNOWN),
    ],
)
def test_state_normalization(text: str, state: str) -> None:
    assert normalize_message_state(text) == state


def test_parse_table_with_header_columns() -> None:
    records = parse_messages((FIXTURES / "messages_table.html").read_text(encoding="utf-8"), PAGE, TODAY)
    assert [(r.asked, r.replied, r.state) for r in records] == [
        (date(2026, 11, 20), date(2026, 11, 22), ANSWERED),
        (date(2026, 11, 1), None, PROCESSING),
        (date(2026, 8, 1), None, UNANSWERED),
        (date(2026, 3, 10), date(2026, 7, 15), ANSWERED),
        (date(2026, 6, 1), date(2026, 6, 30), ANSWERED),
        (date(2025, 6, 1), None, UNANSWERED),
    ]
    assert records[0].title == "关于城关镇某小区冬季供暖不热的问题"
    assert records[0].url == "http://www.example.gov.cn/hdjl/xzxx/detail.jsp?id=901"


def test_parse_list_with_labels_and_states() -> None:
    records = parse_messages((FIXTURES / "messages_list.html").read_text(encoding="utf-8"), PAGE, TODAY)
    assert [(r.title, r.asked, r.replied, r.state) for r in records] == [
        ("咨询不动产登记所需材料", date(2026, 11, 18), date(2026, 11, 19), ANSWERED),
        ("关于农村危房改造补助的咨询", date(2026, 11, 10), None, UNANSWERED),
        ("孩子入学报名时间咨询", date(2026, 9, 1), date(2026, 9, 25), ANSWERED),
    ]


def test_parse_table_without_state_column_uses_empty_reply_cell() -> None:
    html = """<table><tr><td>标题</td><td>提问时间</td><td>回复时间</td></tr>
    <tr><td><a href="a.html">问一</a></td><td>2026-11-01</td><td>2026-11-03</td></tr>
    <tr><td><a href="b.html">问二</a></td><td>2026-11-02</td><td>&nbsp;</td></tr></table>"""
    records = parse_messages(html, PAGE, TODAY)
    assert [(r.state, r.replied) for r in records] == [(ANSWERED, date(2026, 11, 3)), (UNANSWERED, None)]


def test_parse_unlabelled_rows_first_date_asked_second_replied() -> None:
    html = """<ul><li><a href="1.html">问题甲</a> 2026-10-01 2026-10-09</li>
    <li><a href="2.html">问题乙</a> 2026-10-05 未回复</li></ul>"""
    records = parse_messages(html, PAGE, TODAY)
    assert [(r.asked, r.replied, r.state) for r in records] == [
        (date(2026, 10, 1), date(2026, 10, 9), ANSWERED),
        (date(2026, 10, 5), None, UNANSWERED),
    ]


def test_evaluate_table_fixture() -> None:
    records = parse_messages((FIXTURES / "messages_table.html").read_text(encoding="utf-8"), PAGE, TODAY)
    v = evaluate_messages(records, TODAY, slow_days=15)
    assert v.result == "不合格" and v.veto
    assert [f.kind for f in v.veto_findings] == ["unanswered_over_limit", "late_reply"]
    assert v.veto_findings[0].message_zh == (
        "留言《反映乡村道路破损问题》于2026年8月1日提交，至今未答复，已117天（超过3个月未回应，单项否决）"
    )
    assert v.veto_findings[1].days == 127
    kinds = sorted(f.kind for f in v.warning_findings)
    assert kinds == ["old_unanswered", "pending_slow", "slow_reply"]
    assert v.stats.total == 6 and v.stats.answered == 3
    assert v.stats.answer_rate == pytest.approx(0.5)
    assert v.stats.median_reply_days == 29.0  # 2, 29, 127
    assert v.stats.last_reply == date(2026, 11, 22)
    assert not v.reply_stale
    assert v.messages_zh[-1] == "共6条留言，已答复3条，答复率50.0%，答复用时中位数29天"


UNANSWERED_BOUNDARY = [
    # asked, expected veto (3 calendar months: on 2026-11-26 the limit is passed for anything before 08-26)
    (date(2026, 8, 26), False),
    (date(2026, 8, 25), True),
    (date(2025, 11, 26), True),  # exactly one year ago: still inside the window
    (date(2025, 11, 25), False),  # outside the last-year window
]


@pytest.mark.parametrize(("asked", "veto"), UNANSWERED_BOUNDARY)
def test_unanswered_boundaries(asked: date, veto: bool) -> None:
    v = evaluate_messages([MessageRecord("问", asked, None, UNANSWERED)], TODAY, slow_days=15)
    assert v.veto == veto


@pytest.mark.parametrize(
    ("asked", "replied", "kind"),
    [
        (date(2026, 10, 1), date(2026, 10, 16), None),  # 15 days: not slow
        (date(2026, 10, 1), date(2026, 10, 17), "slow_reply"),  # 16 days
        (date(2026, 3, 1), date(2026, 6, 1), "slow_reply"),  # exactly 3 months
        (date(2026, 3, 1), date(2026, 6, 2), "late_reply"),  # more than 3 months: veto
    ],
)
def test_reply_delay_boundaries(asked: date, replied: date, kind: str | None) -> None:
    v = evaluate_messages([MessageRecord("问", asked, replied, ANSWERED)], TODAY, slow_days=15)
    found = [f.kind for f in (*v.veto_findings, *v.warning_findings)]
    assert found == ([kind] if kind else [])


def test_late_replies_can_be_excluded_from_veto() -> None:
    record = MessageRecord("问", date(2026, 3, 1), date(2026, 7, 1), ANSWERED)
    v = evaluate_messages([record], TODAY, slow_days=15, count_late_replies=False)
    assert not v.veto and v.warning_findings[0].kind == "slow_reply"


def test_unknown_state_without_reply_is_not_evidence() -> None:
    v = evaluate_messages([MessageRecord("问", date(2026, 1, 1), None, UNKNOWN)], TODAY, slow_days=15)
    assert not v.veto and not v.warning_findings


def test_reply_stale_deduction() -> None:
    records = [MessageRecord("问", date(2026, 8, 1), date(2026, 8, 3), ANSWERED)]
    v = evaluate_messages(records, TODAY, slow_days=15)
    assert v.reply_stale and v.result == "预警"
    assert "留言答复超过2个月未更新（最近一次答复为2026年8月3日）" in v.messages_zh


def test_empty_board() -> None:
    v = evaluate_messages([], TODAY, slow_days=15)
    assert v.result == "合格" and v.stats.total == 0 and v.stats.answer_rate is None
    assert v.messages_zh == ("共0条留言，已答复0条，答复率—，答复用时中位数—",)
