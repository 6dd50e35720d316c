"""What the office reads: the bulletin's sections, numbers, statuses, escaping and workbook."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from monitor.bulletin.mail import attachment_name
from monitor.bulletin.model import build_bulletin
from monitor.bulletin.publish import render_report
from monitor.bulletin.render import inline_css, render_html
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store
from tests.bulletin_data import (
    FORMULA,
    HOSTILE_TITLE,
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    bulletin_config,
    fill_store,
    problem_rows,
)

# The bulletin is read from a SQLite and from a PostgreSQL store (tests/conftest.py).
pytestmark = pytest.mark.both_stores

W48 = IsoWeek(2026, 48)


def test_counts_statuses_and_sections_follow_the_store(store: Store, tmp_path: Path) -> None:
    clock = fill_store(store)
    b = build_bulletin(store, bulletin_config(), W48, clock)
    assert b.title == "示例县人民政府办公室关于2026年第48周政府网站与政务新媒体监测情况的通报"
    assert not b.incomplete and b.period_zh == "2026年11月23日至2026年11月29日"
    assert b.totals == {"open": 5, "new": 4, "still_open": 1, "fixed": 1, "overdue": 1}
    by_fp = {p.fingerprint: p for p in b.problems}
    assert C.fingerprint not in by_fp  # 误报 never appears
    a = by_fp[A.fingerprint]
    # Found Mon 2 Nov; 10 working days later is Mon 16 Nov; on 29 Nov it is overdue, open 27 days.
    assert (a.status, a.deadline.isoformat(), a.days_open, a.is_new) == ("逾期", "2026-11-16", 27, False)
    assert a.unit_group == "乡镇"
    assert by_fp[B.fingerprint].status == "已整改"
    assert by_fp[D.fingerprint].status == "待整改" and by_fp[D.fingerprint].is_new
    # Problem types from the one table; unknown kinds and duties still show, named after their duty.
    assert by_fp[D.fingerprint].type_label == "首页链接不可用"
    assert by_fp[F.fingerprint].type_label == "栏目不更新"
    assert by_fp[E.fingerprint].type_label == "链接可用性检测（死链）：weird_kind"
    assert by_fp[G.fingerprint].type_label == "darkweb：x"
    coverage = {c.duty: c for c in b.coverage}
    assert coverage["links"].runs == 1 and coverage["columns"].state == "ok"
    assert coverage["newmedia"].state == "none" and coverage["availability"].state == "none"
    assert coverage["darkweb"].runs == 1
    # Ranking by open problems: 县政府办公室 has D, E, G.
    assert [r.unit for r in b.ranking[:2]] == ["县政府办公室", "城关镇人民政府"]
    assert b.ranking[1].overdue == 1
    # Figures come from run counts: the latest run per site for page/link counts.
    assert ("抓取页面", 120, "个") in b.figures and ("检查栏目", 42, "个") in b.figures

    html = render_html(b, xlsx_name=attachment_name(b))
    text = re.sub(r"<[^>]+>", "", html)
    assert "各乡镇人民政府、县直各部门：" in text and "国办秘函〔2019〕19号" in text
    assert "政务新媒体更新检查" in text and "本周未开展（无数据）" in text
    assert (
        "站点可用性监测、网站标识规范检查、部门和乡镇政务公开检查、暗链检测、错别字与严重表述错误检查、敏感词检查、个人隐私信息检查、政务新媒体更新检查未开展或未成功完成，无监测数据"
        in text
    )
    assert "本周未检测" in text  # the veto table says 未检测 for unmeasured indicators
    assert "近7天失败率6.1%（672次中41次）" in text and "≥5% 不合格，≥3% 预警" in text
    assert "城关镇旧通知" in text and "逾期" in text
    assert "整改时限：2026年12月14日前（自2026年11月30日起10个工作日）" in text


def test_veto_table_reads_the_latest_indicator_status_per_subject(store: Store) -> None:
    clock = fill_store(store)
    b = build_bulletin(store, bulletin_config(), W48, clock)
    portal, newmedia = b.veto
    cells = {c.code: c for c in portal.cells}
    assert cells["W2"].verdict.label_zh == "不合格" and cells["W3"].verdict.label_zh == "合格"
    assert cells["W4-3"].verdict.label_zh == "未检测"
    assert portal.overall.label_zh == "不合格"
    assert newmedia.kind == "政务新媒体" and newmedia.cells[0].verdict.label_zh == "未检测"
    # An earlier week has no indicator records: everything is 未检测, nothing claims 合格.
    earlier = build_bulletin(store, bulletin_config(), IsoWeek(2026, 45), clock)
    assert {c.verdict.label_zh for s in earlier.veto for c in s.cells} == {"未检测"}
    assert {c.duty: c.state for c in earlier.coverage}["columns"] == "none"


def test_trend_shows_open_problems_per_week_as_table_bars(store: Store) -> None:
    clock = fill_store(store)
    b = build_bulletin(store, bulletin_config(), W48, clock)
    assert [p.week.week for p in b.trend] == list(range(41, 49))
    assert [p.total for p in b.trend] == [0, 0, 0, 0, 2, 2, 2, 5]
    assert b.trend[-1].counts["链接不可用（死链）"] == 1
    html = inline_css(render_html(b, xlsx_name="x.xlsx"))
    assert "<svg" not in html and "<img" not in html
    # The legend wraps inside one cell: a cell per type made the mail as wide as all types together.
    assert html.count('class="legend"') == 1 and html.count('class="legend-item"') == len(b.trend_types)
    # Bars are table cells with a bgcolor: what Outlook's Word engine draws.
    bars = re.findall(r'<td height="16" width="([\d.]+)%" bgcolor="#[0-9a-f]{6}"', html)
    assert len(bars) == 3 + 5  # weeks 45–47: one type each; week 48: five types
    assert "<style" not in html and 'style="' in html  # CSS inlined for mail clients


def test_hostile_page_text_stays_inert_everywhere(store: Store, tmp_path: Path) -> None:
    clock = fill_store(store)
    report = render_report(store, bulletin_config(), W48, clock, tmp_path / "reports")
    html = report.html.read_text(encoding="utf-8")
    assert HOSTILE_TITLE not in html and "<script" not in html and "onerror=alert(2)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert 'href="javascript:' not in html and "javascript:alert(3)" in html  # shown, not clickable
    mail_html = inline_css(html)
    assert "<script" not in mail_html and 'href="javascript:' not in mail_html
    text = report.text.read_text(encoding="utf-8")
    assert HOSTILE_TITLE in text  # plain text shows it as it is …
    assert "\x1b" not in text and "\\x1b[31m" in text  # … but control characters are made inert
    wb = openpyxl.load_workbook(report.xlsx)
    cells = {c.value: c for row in wb["栏目更新检查"].iter_rows(min_row=2) for c in row}
    assert cells[FORMULA].data_type == "s"  # a formula-looking message stays text


def test_workbook_holds_every_finding_with_frozen_filtered_headers(store: Store, tmp_path: Path) -> None:
    clock = fill_store(store)
    report = render_report(store, bulletin_config(), W48, clock, tmp_path / "reports")
    assert report.folder == tmp_path / "reports" / "2026-W48"
    # The attachments carry the names the bulletin's text gives them.
    assert {p.name for p in report.folder.iterdir()} == {
        "bulletin.html",
        "bulletin.txt",
        "2026-W48问题清单.xlsx",
        "2026-W48监测通报.docx",
    }
    wb = openpyxl.load_workbook(report.xlsx)
    # A summary sheet, then one sheet per duty (in the bulletin's duty order), then the tables.
    assert wb.sheetnames == [
        "汇总",
        "链接可用性检测（死链）",
        "栏目更新检查",
        "darkweb",
        "单位排名",
        "单项否决指标",
        "网站普查信息统计表",
        "新媒体普查信息统计表",
    ]
    rows = problem_rows(wb)
    assert sorted(r[14] for r in rows) == sorted(f.fingerprint for f in (A, B, D, E, F, G))
    assert sorted(r[0] for r in rows) == list(range(1, 7))  # 序号 as in the bulletin's 附件 list
    assert {r[14] for r in wb["栏目更新检查"].iter_rows(min_row=2, values_only=True)} == {F.fingerprint}
    header = [c.value for c in wb["链接可用性检测（死链）"][1]]
    assert header[:9] == [
        "序号",
        "单位",
        "单位类别",
        "网站/账号",
        "问题类型",
        "问题描述",
        "网址",
        "父页面",
        "父页面数",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None and ws.auto_filter.ref, ws.title
    statuses = {row[14]: row[11] for row in rows}
    assert statuses[A.fingerprint] == "逾期" and statuses[B.fingerprint] == "已整改"
    census = list(wb["网站普查信息统计表"].iter_rows(min_row=2, values_only=True))
    # A census date is a date cell.
    assert census[0][1:6] == (
        "示例县人民政府门户网站",
        "部门动态",
        "县教育局",
        "动态要闻类",
        datetime(2026, 10, 28),
    )
    assert "无数据" in str(next(iter(wb["新媒体普查信息统计表"].iter_rows(min_row=2, values_only=True))))


def test_a_week_with_no_runs_says_no_data_not_no_problems(tmp_path: Path) -> None:
    with Store(tmp_path / "empty.db") as store:
        clock = FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI)
        b = build_bulletin(store, bulletin_config(), W48, clock)
        html = re.sub(r"<[^>]+>", "", render_html(b, xlsx_name="x.xlsx"))
    assert all(c.state == "none" for c in b.coverage)
    assert "本周未开展（无数据）" in html and "未发现问题" not in html
    assert "无数据（本周未开展栏目更新检查）" in html


def test_the_running_week_is_marked_incomplete_and_includes_runs_up_to_now(store: Store) -> None:
    fill_store(store)
    now = FixedClock(datetime(2026, 11, 25, 10, 0), SHANGHAI)  # the instant of the columns run
    b = build_bulletin(store, bulletin_config(), W48, now)
    assert b.incomplete and b.trend[-1].partial
    assert {c.duty: c.state for c in b.coverage}["columns"] == "ok"
    html = re.sub(r"<[^>]+>", "", render_html(b, xlsx_name="x.xlsx"))
    assert "本周监测尚未结束，本通报数据截至2026年11月25日10:00" in html


def test_deadline_skips_weekends_and_configured_holidays(store: Store) -> None:
    fill_store(store)
    # Issued Friday 27 Nov with 1 working day: Monday 30 Nov is a configured holiday → Tuesday 1 Dec.
    config = bulletin_config(deadline_working_days=1, workdays={"holidays": ["2026-11-30"]})
    b = build_bulletin(store, config, W48, FixedClock(datetime(2026, 11, 27, 17, 0), SHANGHAI))
    assert b.deadline.isoformat() == "2026-12-01"
    assert "于2026年12月1日前（1个工作日内）完成整改" in b.rectification[0]
    # A make-up Saturday counts as a working day.
    config = bulletin_config(deadline_working_days=1, workdays={"makeup_workdays": ["2026-11-28"]})
    b = build_bulletin(store, config, W48, FixedClock(datetime(2026, 11, 27, 17, 0), SHANGHAI))
    assert b.deadline.isoformat() == "2026-11-28"


def test_one_indicator_measured_by_two_checks_shows_the_worst_with_both_figures() -> None:
    """W1 comes from the text checks and from the dark-link check: a later text-only run must not hide
    the dark links the patrol found."""
    from monitor.bulletin.model import _latest_indicators
    from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
    from monitor.core.report import RunReport

    def w1(verdict: Verdict, figure: str, rule: str, rule_id: str) -> IndicatorStatus:
        return IndicatorStatus(
            Indicator.SERIOUS_ERRORS, "portal", "门户", verdict, figure, rule, rule_id=rule_id
        )

    text, dark = RuleId.TEXT_SERIOUS_ERRORS, RuleId.DARKLINKS
    patrol = {
        "status": "ok",
        "report": RunReport(
            indicators=[
                w1(Verdict.PASS, "未发现严重表述错误", "出现1处严重表述错误即单项否决", text),
                w1(Verdict.FAIL, "发现暗链18处", "链接违法违规内容即单项否决", dark),
            ]
        ),
    }
    text_only = {
        "status": "ok",
        "report": RunReport(
            indicators=[w1(Verdict.PASS, "仍未发现严重表述错误", "出现1处严重表述错误即单项否决", text)]
        ),
    }
    failed_run = {
        "status": "failed",
        "report": RunReport(indicators=[w1(Verdict.PASS, "x", "链接违法违规内容即单项否决", dark)]),
    }
    (cell,) = _latest_indicators([patrol, text_only, failed_run]).values()
    assert cell.verdict == Verdict.FAIL
    assert "发现暗链18处" in cell.figure and "仍未发现严重表述错误" in cell.figure
    assert cell.figure.count("未发现严重表述错误") == 1  # the older text record was replaced, not repeated
