"""The typed run report: how runs are stored, and how rows written by the previous format are read."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from monitor.bulletin.model import build_bulletin
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.isoweek import IsoWeek
from monitor.core.report import (
    REPORT_SCHEMA,
    AccountCensusRow,
    CheckReport,
    ColumnCensusRow,
    CrawlFigures,
    RunReport,
    dump_report,
    load_report,
)
from monitor.runner import run_duty
from monitor.store.database import Resolution, Store
from tests.bulletin_data import PORTAL, bulletin_config
from tests.sites import LocalSites, fast_config, page

# The store tests run on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_stores

W48 = IsoWeek(2026, 48)
GOV = "www.test.gov.cn"
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)

#: A patrol row exactly as the previous version (the counts blob, no schema key) stored it.
OLD_PATROL = {
    "pages_crawled": 120,
    "links_checked": 800,
    "broken": 3,
    "recovered_on_recheck": 0,
    "skipped": {"max_depth": 2},
    "skipped_examples": {"max_depth": [PORTAL + "a/b/c/"]},
    "requests": 930,
    "complete": True,
    "text_pages": 120,
    "indicators": [
        {
            "indicator": "W1",
            "subject": "portal",
            "subject_name": "示例县人民政府门户网站",
            "verdict": "pass",
            "figure": "检查120个页面，未发现严重表述错误",
            "threshold": "出现1处严重表述错误即单项否决",
            "value": 0.0,
        },
        {
            "indicator": "W1",
            "subject": "portal",
            "subject_name": "示例县人民政府门户网站",
            "verdict": "fail",
            "figure": "发现暗链/违规外链2处（涉及1个页面，共检测120个页面）",
            "threshold": "发现1处暗链或违规外链即单项否决",
            "value": 2.0,
        },
        {"indicator": "W9", "subject": "portal", "verdict": "pass"},  # a record no version could read
        "not a record",
    ],
    "findings": 5,
    "check_errors": ["typos"],
}
#: A columns row of the previous format with its census hand-recorded under "census".
OLD_COLUMNS = {
    "columns_checked": 1,
    "census": {
        "columns": [
            {
                "name": "部门动态",
                "unit": "县教育局",
                "type": "dynamic",
                "last_update": "2026-10-28",
                "items_week": 0,
                "items_month": 1,
                "url": PORTAL + "zwgk/bm/jyj/bmdt/",
            },
            ["a row that is not an object"],
        ]
    },
}


def _old_row(store: Store, db: Path, duty: str, counts: dict) -> int:
    """Insert a finished run the way the previous version wrote it: raw SQL, counts without a schema."""
    clock = FixedClock(TUESDAY, SHANGHAI)
    run_id = store.start_run(duty, "portal", [duty], clock.now())
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE runs SET status = 'ok', finished_at = started_at, complete = 1, counts = ? WHERE id = ?",
            (json.dumps(counts, ensure_ascii=False), run_id),
        )
    return run_id


def test_a_run_of_the_previous_format_is_read_into_the_typed_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "monitor.db"
    store = Store(db)
    run_id = _old_row(store, db, "patrol", OLD_PATROL)
    with caplog.at_level(logging.WARNING, logger="monitor.core.report"):
        report = store.run_report(run_id)
    row = store.get_run(run_id)
    assert report.schema == 1
    assert report.pages_crawled == 120 and report.crawl is not None and report.crawl.broken == 3
    assert (report.findings, report.complete, report.check_errors) == (5, True, ("typos",))
    assert report.figures == {"text_pages": 120}
    # Old W1 records had no rule id: each check's fixed rule text gives it back, so they stay apart.
    assert [s.rule_id for s in report.indicators] == [RuleId.TEXT_SERIOUS_ERRORS, RuleId.DARKLINKS]
    # The two unreadable records are logged with the run they came from, not dropped silently.
    unreadable = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(unreadable) == 2 and all(m.startswith(f"run {run_id}: indicator record") for m in unreadable)
    # Display keeps the row as stored, JSON-able.
    assert row["counts"]["pages_crawled"] == 120 and "schema" not in row["counts"]
    assert json.loads(json.dumps(row))["counts"] == OLD_PATROL


def test_the_bulletin_reads_old_rows_census_and_veto_without_guessing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "monitor.db"
    store = Store(db)
    _old_row(store, db, "patrol", OLD_PATROL)
    _old_row(store, db, "columns", OLD_COLUMNS)
    with caplog.at_level(logging.WARNING, logger="monitor.core.report"):
        b = build_bulletin(store, bulletin_config(), W48, FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI))
    w1 = next(c for c in b.veto[0].cells if c.code == "W1")
    assert w1.verdict == Verdict.FAIL  # the dark links of the old row, with the text check's pass beside
    assert "发现暗链/违规外链2处" in w1.figure and "未发现严重表述错误" in w1.figure
    assert b.census.columns is not None
    (column,) = b.census.columns  # the row that is not an object is left out, and said so
    assert (column.name, column.type_zh, column.site_name) == ("部门动态", "动态类", "示例县人民政府门户网站")
    assert any("census columns row 1 is not an object" in r.getMessage() for r in caplog.records)
    assert ("抓取页面", 120, "个") in b.figures


def test_a_report_round_trips_through_the_store_with_its_schema(tmp_path: Path) -> None:
    status = IndicatorStatus(
        Indicator.COLUMNS_BLANK,
        "portal",
        "示例县人民政府门户网站",
        Verdict.WARN,
        "空白栏目1个（共检测12个栏目）",
        "≥2个不合格，≥1个预警",
        1.0,
        rule_id=RuleId.COLUMNS_BLANK,
    )
    report = RunReport(findings=2, complete=False, posts_new=4, crawl=CrawlFigures(pages_crawled=9))
    report.add(
        CheckReport(
            figures={"columns_checked": 12},
            indicators=[status],
            columns=[ColumnCensusRow(name="通知公告", url=PORTAL + "tzgg/", type="notice", items_week=2)],
            accounts=[AccountCensusRow(id="wx", name="示例县发布", platform="wechat", posts_week=None)],
        )
    )
    stored = json.loads(dump_report(report))
    assert stored["schema"] == REPORT_SCHEMA == 3
    assert stored["indicators"][0]["rule_id"] == "columns.blank_columns"
    store = Store(tmp_path / "monitor.db")
    run_id = store.start_run("columns", "portal", ["columns"], TUESDAY)
    store.finish_run(run_id, status="ok", now=TUESDAY, report=report, resolution=Resolution(("columns",)))
    back = store.run_report(run_id)
    assert back == report
    assert back.number("columns_checked") == 12 and back.number("pages_crawled") == 9
    assert back.number("complete") is None  # a flag is not a figure


def test_a_rule_keeps_its_place_when_its_wording_changes_within_the_week(tmp_path: Path) -> None:
    """The veto table keeps one record per rule: a threshold changed in config.yaml mid-week (new
    wording) replaces the rule's earlier record instead of showing both as two rules."""
    store = Store(tmp_path / "monitor.db")
    for day, (verdict, wording) in enumerate(
        [(Verdict.FAIL, "≥5%不合格，≥3%预警"), (Verdict.PASS, "≥8%不合格，≥5%预警")]
    ):
        when = datetime(2026, 11, 24 + day, 10, 0, tzinfo=SHANGHAI)
        run_id = store.start_run("availability", "portal", ["availability"], when)
        status = IndicatorStatus(
            Indicator.SITE_UNAVAILABLE,
            "portal",
            "示例县人民政府门户网站",
            verdict,
            f"第{day + 1}次",
            wording,
            rule_id=RuleId.AVAILABILITY_HOMEPAGE,
        )
        store.finish_run(run_id, status="ok", now=when, report=RunReport(indicators=[status]))
    b = build_bulletin(store, bulletin_config(), W48, FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI))
    w2 = next(c for c in b.veto[0].cells if c.code == "W2")
    assert (w2.verdict, w2.figure, w2.threshold) == (Verdict.PASS, "第2次", "≥8%不合格，≥5%预警")


def test_every_rule_id_measures_one_indicator_and_is_stable() -> None:
    """Rule ids are stored in every run: renaming one would split a week's records in two."""
    assert len({r.value for r in RuleId}) == len(RuleId)
    assert all(r.value.count(".") == 1 and r.value == r.value.lower() for r in RuleId)
    assert RuleId.AVAILABILITY_HOMEPAGE.value == "availability.homepage_failure_rate"
    assert RuleId.NEWMEDIA_FRESHNESS.value == "newmedia.account_2weeks"


def test_load_report_tolerates_empty_and_non_object_rows(caplog: pytest.LogCaptureFixture) -> None:
    assert load_report(None) == RunReport(schema=1)
    assert load_report("{}").as_json() == {}
    with caplog.at_level(logging.WARNING, logger="monitor.core.report"):
        assert load_report("[1, 2]", "run 7") == RunReport(schema=1)
    assert "run 7: run report is not a JSON object" in caplog.text


async def test_a_crawl_run_hands_the_store_the_report_it_returns(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """The runner assembles the report from the crawl and the checks; what the store reads back is
    that report, typed."""
    sites.html(GOV, "/", page("首页", links=["/a.html", "/gone.html"]))
    sites.html(GOV, "/a.html", page("A", links=["/"]))
    (result,) = await run_duty("links", fast_config(sites, [GOV], f"http://{GOV}/"), store, clock)
    report = result.report
    assert report.crawl is not None and (report.pages_crawled, report.crawl.broken) == (2, 1)
    assert (report.findings, report.complete, report.check_errors) == (1, True, ())
    assert store.run_report(result.run_id) == report
    assert result.counts == store.get_run(result.run_id)["counts"]  # the display view is the stored one
