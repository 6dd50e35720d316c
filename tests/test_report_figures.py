"""Typed figure groups of the run report (issue 19): what checks store besides plain numbers is read back
into dataclasses, from rows of every schema, without losing a key."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.figures import (
    AccountVerdicts,
    AnnualReportEntry,
    AnnualReportFigures,
    AvailabilityTargets,
    BoardFigures,
    BrowserFigures,
    CandidateExample,
    ColumnStatusFigures,
    DarkLinksFigures,
    DiscoveryFigures,
    HomepageFigures,
    IdentityFigures,
    MessageBoards,
    NightFigures,
    ReportProblem,
    StatusTally,
    TargetFigures,
    TlsFigures,
    TypoModelFigures,
    UnitFigures,
    UnitsFigures,
    UnreadablePages,
)
from monitor.core.report import REPORT_SCHEMA, CheckReport, CrawlFigures, RunReport, dump_report, load_report
from monitor.store.database import Resolution, Store

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
ROWS = Path(__file__).parent / "fixtures" / "report_rows"


def _stored_run(store: Store, db: Path, duty: str, counts: dict[str, Any]) -> int:
    """A finished run whose counts column holds ``counts`` exactly as an older version wrote it."""
    run_id = store.start_run(duty, "portal", [duty], FixedClock(TUESDAY, SHANGHAI).now())
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE runs SET status = 'ok', finished_at = started_at, complete = 1, counts = ? WHERE id = ?",
            (json.dumps(counts, ensure_ascii=False), run_id),
        )
    return run_id


def _demo_rows() -> list[dict[str, Any]]:
    return json.loads((ROWS / "schema2_demo.json").read_text(encoding="utf-8"))["rows"]


@pytest.mark.parametrize("schema", [1, 2])
def test_real_rows_of_older_schemas_load_typed_and_lose_nothing(tmp_path: Path, schema: int) -> None:
    """Rows a real store of the previous version holds (the demo county's runs, schema 2; the same
    without a schema key as schema 1 rows were) read into the typed groups; written back, they are
    the same JSON, key for key."""
    db = tmp_path / "monitor.db"
    store = Store(db)
    for row in _demo_rows():
        counts = dict(row["counts"])
        if schema == 1:
            counts.pop("schema")
        run_id = _stored_run(store, db, row["duty"], counts)
        report = store.run_report(run_id)
        assert report.schema == schema
        assert report.as_json() == {k: v for k, v in counts.items() if k != "schema"}
        assert json.loads(dump_report(report))["schema"] == REPORT_SCHEMA == 3
        if row["duty"] == "patrol":
            dl = report.group(DarkLinksFigures)
            assert dl is not None and dl.pages_analysed == report.pages_crawled and dl.dark_links >= 1
            assert isinstance(dl.browser_figures, BrowserFigures) and dl.by_kind
            model = report.group(TypoModelFigures)
            assert model is not None and (model.skipped is not None or model.pages_scored is not None)
            assert report.credibility is not None and report.credibility.pages == report.pages_crawled
        elif row["duty"] == "columns":
            home = report.group(HomepageFigures)
            assert home is not None and home.status in ("fresh", "warning", "stale", "unknown")
            reports = report.group(AnnualReportFigures)
            assert reports is not None and reports.reports and reports.reports[0].url.startswith("http")
            tally = report.group(ColumnStatusFigures)
            assert tally is not None and tally.tally.columns == report.number("columns_checked")
            assert report.group(DiscoveryFigures) is not None
            assert report.group(UnreadablePages) is not None
        elif row["duty"] == "units":
            units = report.group(UnitsFigures)
            assert units is not None and all(u.result for u in units.units)
        elif row["duty"] == "availability":
            targets = report.group(AvailabilityTargets)
            assert targets is not None and targets.rows[0].url.startswith("http")
            assert targets.rows[0].summary.startswith("近")
            assert report.group(TlsFigures) is not None
        elif row["duty"] == "identity":
            identity = report.group(IdentityFigures)
            assert identity is not None and set(identity.missing) <= set(identity.found)


#: A patrol row of the first dark-links release (schema 1: no schema key): no spider comparison, no
#: browser pass, no candidates; the typo model skipped.
EARLY_PATROL = {
    "pages_crawled": 40,
    "links_checked": 300,
    "broken": 0,
    "text_pages": 40,
    "typo": 1,
    "darklinks": {
        "pages_analysed": 40,
        "dark_links": 1,
        "by_kind": {"dark_link": 1},
        "resources_unavailable": [],
        "resources_truncated": [],
        "spider_fetches": 0,
        "spider_failed": [],
        "outbound_targets": 12,
        "outbound_scanned": 12,
        "outbound_fetched_by_check": 3,
        "outbound_over_cap": 0,
    },
    "typo_model": {"skipped": "语言模型文件缺失"},
    "tls": "首页未使用HTTPS",
}

#: Shapes the demo county does not produce: a message board read and one that was not, new-media
#: verdicts (schema 2 as the columns and newmedia duties wrote them).
BOARDS_AND_ACCOUNTS = {
    "schema": 2,
    "messages": [
        {
            "board": "县长信箱",
            "url": "http://www.test.gov.cn/hdjl/xzxx/",
            "unit": None,
            "status": "warning",
            "total": 14,
            "answered": 12,
            "answer_rate": 0.857,
            "median_reply_days": 4.5,
            "last_reply": "2026-11-20",
            "unanswered_over_limit": 0,
            "slow": 2,
            "reply_stale": False,
            "summary": ["2条留言超过5个工作日才答复"],
        },
        {
            "board": "咨询投诉",
            "url": "http://www.test.gov.cn/hdjl/zxts/",
            "unit": "县教育局",
            "status": "unknown",
        },
    ],
    "verdicts": {"fresh": 3, "stale": 1, "zombie": 0, "unknown": 1},
    "manual": 2,
}


def test_rows_of_earlier_shapes_read_with_what_they_recorded(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    store = Store(db)
    early = store.run_report(_stored_run(store, db, "patrol", EARLY_PATROL))
    dl = early.group(DarkLinksFigures)
    assert dl is not None and (dl.pages_analysed, dl.dark_links, dl.outbound_fetched_by_check) == (40, 1, 3)
    # Not recorded then: None (not zero), and no browser pass.
    assert dl.spider_pages_compared is None and dl.candidates is None and dl.browser is None
    assert dl.browser_figures == BrowserFigures()
    assert early.group(TypoModelFigures) == TypoModelFigures(skipped="语言模型文件缺失")
    assert early.group(TlsFigures) == TlsFigures(note="首页未使用HTTPS")
    assert early.figures == {"text_pages": 40, "typo": 1}

    other = store.run_report(_stored_run(store, db, "columns", BOARDS_AND_ACCOUNTS))
    boards = other.group(MessageBoards)
    assert boards is not None
    read, unread = boards.boards
    assert (read.total, read.answered, read.slow, read.summary) == (
        14,
        12,
        2,
        ("2条留言超过5个工作日才答复",),
    )
    assert (unread.status, unread.total, unread.unit) == ("unknown", None, "县教育局")
    assert other.group(AccountVerdicts) == AccountVerdicts(fresh=3, stale=1, zombie=0, unknown=1, manual=2)
    assert other.as_json() == {k: v for k, v in BOARDS_AND_ACCOUNTS.items() if k != "schema"}


def test_a_group_not_of_its_shape_is_logged_and_kept_as_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "monitor.db"
    store = Store(db)
    odd = {"schema": 2, "darklinks": "n/a", "targets": [1, 2], "probes": 3}
    run_id = _stored_run(store, db, "availability", odd)
    with caplog.at_level(logging.WARNING, logger="monitor.core.report"):
        report = store.run_report(run_id)
    assert report.group(DarkLinksFigures) is None and report.group(AvailabilityTargets) is None
    assert report.figures == {"darklinks": "n/a", "targets": [1, 2], "probes": 3}
    assert report.as_json() == {"darklinks": "n/a", "targets": [1, 2], "probes": 3}
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"run {run_id}: figures darklinks not of their shape") for m in logged)
    assert any(m.startswith(f"run {run_id}: figures targets not of their shape") for m in logged)


def _every_group() -> CheckReport:
    target = TargetFigures(
        name="首页",
        url="https://www.test.gov.cn/",
        kind="homepage",
        ok=False,
        status=None,
        error="timeout",
        latency_ms=10000,
        state="down",
        fail_streak=3,
        window_probes=300,
        window_failures=9,
        window_offline=1,
        failure_percent=3.0,
        availability_percent=97.0,
        median_latency_ms=180,
        level="warning",
        summary="近7天探测300次，失败9次，失败率3.0%",
    )
    return CheckReport(
        figures={"columns_checked": 12, "probes": 1, "self_check": "正常（1/1个参照网址可访问）"},
        groups=[
            DarkLinksFigures(
                pages_analysed=9,
                dark_links=2,
                by_kind={"dark_link": 2},
                stylesheets_and_scripts_fetched=4,
                resources_unavailable=("https://www.test.gov.cn/a.css",),
                spider_fetches=4,
                spider_pages_compared=4,
                spider_over_budget=0,
                outbound_targets=3,
                outbound_scanned=3,
                outbound_fetched_by_check=1,
                outbound_over_cap=0,
                browser="2 pages loaded in Chromium: 1 confirmed hidden",
                browser_figures=BrowserFigures(2, 2, 0, 1, 1, 0, 0, None),
                candidates=1,
                candidate_examples=(CandidateExample("https://www.test.gov.cn/", "https://x.example/", "x"),),
            ),
            TypoModelFigures(pages_scored=3, pages_unchanged=6, learned=1),
            AvailabilityTargets((target,)),
            TlsFigures(host="www.test.gov.cn", port=443, not_after="2027-03-01T00:00:00+00:00", days_left=97),
            HomepageFigures(
                "2026-11-20", "关于…的通知", "https://www.test.gov.cn/tzgg/1.html", 4, "fresh", None
            ),
            MessageBoards((BoardFigures("县长信箱", "https://www.test.gov.cn/xx/", None, "unknown"),)),
            AnnualReportFigures(
                "https://www.test.gov.cn/ndbg/",
                2025,
                (
                    AnnualReportEntry(
                        "https://www.test.gov.cn/ndbg/2025.html",
                        "2025年政府信息公开工作年度报告",
                        2025,
                        "2026-01-20",
                        True,
                        (ReportProblem("sum", "一 = 二 + 三", "第一栏与各项之和不符"),),
                    ),
                ),
            ),
            DiscoveryFigures(30, 12, False),
            ColumnStatusFigures(StatusTally(12, {"fresh": 10, "stale": 2})),
            UnitsFigures(
                (UnitFigures("县教育局", "department", "预警", StatusTally(3, {"stale": 1, "fresh": 2})),)
            ),
            UnreadablePages({"https://www.test.gov.cn/b/": "HTTP 500"}),
            AccountVerdicts(fresh=1, stale=0, zombie=0, unknown=0, manual=1),
            IdentityFigures({"code": True, "icp": False}, ("icp",)),
        ],
    )


def test_every_group_round_trips_through_the_store(tmp_path: Path) -> None:
    report = RunReport(findings=1, complete=True, crawl=CrawlFigures(pages_crawled=9))
    report.add(_every_group())
    report.credibility = NightFigures(pages=9, distinct_bodies=9, distinct_titles=9)
    report.skipped_reason = None
    store = Store(tmp_path / "monitor.db")
    run_id = store.start_run("patrol", "portal", ["patrol"], TUESDAY)
    store.finish_run(run_id, status="ok", now=TUESDAY, report=report, resolution=Resolution(("patrol",)))
    back = store.run_report(run_id)
    assert back == report and back.schema == REPORT_SCHEMA
    assert len(back.groups) == 13 and not set(back.figures) & {k for g in back.groups for k in g.KEYS}
    # The display view (monitor status --json) is the shape older versions stored.
    shown = store.get_run(run_id)["counts"]
    assert shown["tls"] == {
        "host": "www.test.gov.cn",
        "port": 443,
        "not_after": "2027-03-01T00:00:00+00:00",
        "days_left": 97,
    }
    assert shown["units"][0] == {
        "unit": "县教育局",
        "kind": "department",
        "result": "预警",
        "columns": 3,
        "fresh": 2,
        "stale": 1,
    }
    assert shown["verdicts"] == {"fresh": 1, "stale": 0, "zombie": 0, "unknown": 0} and shown["manual"] == 1
    assert shown["darklinks"]["browser_figures"]["skipped"] is None  # a pass that ran records it


def test_a_later_check_replaces_a_group_and_plain_dicts_are_typed() -> None:
    """Within one run a later check's group wins (as a later check's figures always did); a figure
    given in its stored shape (a report built by hand) is read into its dataclass."""
    report = RunReport(figures={"typo_model": {"pages_scored": 1, "pages_unchanged": 0, "learned": 0}})
    assert report.group(TypoModelFigures) == TypoModelFigures(pages_scored=1, pages_unchanged=0, learned=0)
    assert report.figures == {}
    report.add(CheckReport(groups=[TypoModelFigures(skipped="关闭")]))
    assert report.group(TypoModelFigures) == TypoModelFigures(skipped="关闭")
    assert load_report(dump_report(report)).group(TypoModelFigures) == TypoModelFigures(skipped="关闭")
