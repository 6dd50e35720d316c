"""Triage and rectification in the store (monitor.store.triage): lists, details, the overview, every action
with its actor and reason, department scope, re-check bookkeeping, accounts — on real SQLite files and real
PostgreSQL databases (tests/conftest.py)."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store
from monitor.store.triage import (
    SORTS,
    FindingQuery,
    RecheckPending,
    User,
    add_user,
    assign_unit,
    claim_recheck,
    finding_detail,
    finish_recheck,
    get_user,
    kinds_present,
    list_findings,
    list_rechecks,
    list_users,
    mark_false_positive,
    overview,
    pending_rechecks,
    record_login,
    request_recheck,
    set_deadline,
    set_disabled,
    set_password_hash,
    undo_false_positive,
    unit_names,
)
from tests.conftest import open_test_store

# The console's reads and actions run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def finding(
    url: str, *, unit: str | None = "教育局", severity: Severity = Severity.WARNING, site: str = "portal"
) -> Finding:
    return Finding(
        duty="links",
        kind="dead_link",
        severity=severity,
        site=site,
        identity=url,
        url=url,
        message=f"链接无法访问：{url}",
        sources=("http://www.a.gov.cn/list/",),
        unit=unit,
    )


def run(
    store: Store, clock: FixedClock, findings: list[Finding], status: str = "ok", site: str = "portal"
) -> int:
    rid = store.start_run("links", site, ["links"], clock.now())
    store.finish_run(
        rid, status=status, now=clock.now(), findings=findings, resolution=Resolution(("links",))
    )
    return rid


@pytest.fixture
def seeded(store: Store, clock: FixedClock) -> dict[str, str]:
    """Three units' findings on one site: fingerprints by a short name."""
    fs = {
        "edu": finding("http://www.a.gov.cn/edu.html", unit="教育局"),
        "edu_veto": finding("http://www.a.gov.cn/edu2.html", unit="教育局", severity=Severity.VETO),
        "health": finding("http://www.a.gov.cn/health.html", unit="卫健委", severity=Severity.DEDUCTION),
        "none": finding("http://www.a.gov.cn/x_%.html", unit=None, severity=Severity.INFO),
    }
    run(store, clock, list(fs.values()))
    return {name: f.fingerprint for name, f in fs.items()}


def events(store: Store, fp: str) -> list[tuple[str, str | None, str | None, str | None]]:
    detail = finding_detail(store, fp, datetime(2026, 11, 26, 10, tzinfo=SHANGHAI))
    assert detail is not None
    return [(e.event, e.actor, e.note, e.detail) for e in detail.events]


def test_migration_7_adds_columns_tables_and_indexes(store: Store) -> None:
    assert {"assigned_unit", "deadline"} <= store.backend.columns("findings")
    assert {"actor", "detail"} <= store.backend.columns("events")
    assert {"rechecks", "users"} <= store.backend.table_names()

    # The unit filter of the list uses an index on the effective unit, with a status or without.
    unit = "coalesce(f.assigned_unit, f.unit) = ?"
    if store.postgresql:
        # A handful of rows: the planner would read the table; asked not to, it must use an index.
        store.backend.execute("SET enable_seqscan = off")

        def pg_plan(where: str) -> str:
            rows = store.backend.execute(f"EXPLAIN SELECT count(*) FROM findings f WHERE {where}", ["教育局"])
            return " ".join(str(r[0]) for r in rows)

        for where in (f"{unit} AND f.status = 'open'", unit):
            found = pg_plan(where)
            assert re.search(r"Scan using findings_(status_unit|unit_status) ", found), found
            assert "COALESCE(assigned_unit, unit) = " in found, found
        return

    def plan(where: str) -> str:
        rows = store.backend.execute(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM findings f WHERE {where}", ["教育局"]
        )
        return " ".join(str(r[3]) for r in rows)

    assert "<expr>=?" in plan(f"{unit} AND f.status = 'open'")
    assert "findings_unit_status (<expr>=?)" in plan(unit)


def test_list_filters_sorts_pages_and_scope(store: Store, clock: FixedClock, seeded: dict[str, str]) -> None:
    now = clock.now()
    page = list_findings(store, FindingQuery(), now)
    assert page.total == 4 and [r.severity for r in page.rows] == ["veto", "deduction", "warning", "info"]
    ascending = list_findings(store, FindingQuery(descending=False), now)
    assert [r.severity for r in ascending.rows] == ["info", "warning", "deduction", "veto"]
    assert list_findings(store, FindingQuery(unit="教育局"), now).total == 2
    assert list_findings(store, FindingQuery(severity="deduction"), now).rows[0].unit == "卫健委"
    # Text: a substring of the URL, message or source page; % and _ are literal characters.
    assert [r.fingerprint for r in list_findings(store, FindingQuery(text="x_%"), now).rows] == [
        seeded["none"]
    ]
    assert list_findings(store, FindingQuery(text="/LIST/"), now).total == 4
    text_pages = [
        list_findings(store, FindingQuery(text="gov.cn", per_page=3, page=n), now) for n in (1, 2, 3)
    ]
    assert [len(p.rows) for p in text_pages] == [3, 1, 0] and {p.total for p in text_pages} == {4}
    assert [r.severity for r in text_pages[0].rows] == ["veto", "deduction", "warning"]
    assert list_findings(store, FindingQuery(text="无法访问：http://www.a.gov.cn/health"), now).total == 1
    # Every sort, both ways, gives every finding once.
    for sort in SORTS:
        for descending in (True, False):
            rows = list_findings(store, FindingQuery(sort=sort, descending=descending), now).rows
            assert len({r.fingerprint for r in rows}) == 4, sort
    by_unit = list_findings(store, FindingQuery(sort="unit", descending=False), now).rows
    assert [r.unit for r in by_unit] == ["卫健委", "教育局", "教育局", None]
    # Pages of two, stable.
    first = list_findings(store, FindingQuery(per_page=2), now)
    second = list_findings(store, FindingQuery(per_page=2, page=2), now)
    assert first.pages == 2 and len({r.fingerprint for r in first.rows + second.rows}) == 4
    # A department sees only its unit, in every read.
    scope = frozenset({"卫健委"})
    assert [r.fingerprint for r in list_findings(store, FindingQuery(units=scope), now).rows] == [
        seeded["health"]
    ]
    assert list_findings(store, FindingQuery(units=scope, unit="教育局"), now).total == 0
    assert list_findings(store, FindingQuery(units=frozenset()), now).total == 0
    assert finding_detail(store, seeded["edu"], now, units=scope) is None
    assert finding_detail(store, seeded["health"], now, units=scope) is not None
    assert unit_names(store) == ["卫健委", "教育局"] and unit_names(store, scope) == ["卫健委"]
    assert kinds_present(store, scope) == [("links", "dead_link")]
    view = overview(store, now, scope)
    assert view.open_total == 1 and view.open_by_unit == [("卫健委", 1)] and view.veto == []
    with pytest.raises(KeyError):
        mark_false_positive(store, seeded["edu"], "不是本单位的", "wjw", now, units=scope)
    with pytest.raises(ValueError, match="每页条数"):
        FindingQuery(per_page=500)
    with pytest.raises(ValueError, match="排序"):
        FindingQuery(sort="url")


def test_every_action_is_an_event_with_actor_and_reason(
    store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    now = clock.now()
    fp = seeded["edu"]
    assign_unit(store, fp, "卫健委", "链接属卫健委栏目", "office1", now)
    row = list_findings(store, FindingQuery(unit="卫健委"), now).rows
    assert {r.fingerprint for r in row} == {fp, seeded["health"]}
    set_deadline(store, fp, date(2026, 12, 1), "按通报要求", "office1", now)
    set_deadline(store, fp, date(2026, 12, 8), "单位申请延期", "office1", now)
    mark_false_positive(store, fp, "内网链接", "office1", now)
    undo_false_positive(store, fp, "核实后确为死链", "office2", now)
    assert events(store, fp) == [
        ("opened", None, None, None),
        ("assigned", "office1", "链接属卫健委栏目", "卫健委"),
        ("deadline_set", "office1", "按通报要求", "2026-12-01"),
        ("deadline_set", "office1", "单位申请延期", "2026-12-01→2026-12-08"),
        ("ignored", "office1", "内网链接", None),
        ("unignored", "office2", "核实后确为死链", None),
    ]
    # Assigning back to the unit the check attributed clears the assignment.
    assign_unit(store, fp, "教育局", "退回", "office1", now)
    detail = finding_detail(store, fp, now)
    assert detail is not None and detail.assigned_unit is None and detail.row.unit == "教育局"
    assert detail.row.deadline == date(2026, 12, 8) and not detail.row.overdue
    later = now + timedelta(days=13)
    assert list_findings(store, FindingQuery(overdue=True), later).total == 1
    assert overview(store, later).overdue == 1


def test_actions_refuse_what_the_state_does_not_allow(
    store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    now = clock.now()
    fp = seeded["health"]
    for reason in ("", "   "):
        with pytest.raises(ValueError, match="请填写"):
            mark_false_positive(store, fp, reason, "office1", now)
    with pytest.raises(ValueError, match="没有标记为误报"):
        undo_false_positive(store, fp, "x", "office1", now)
    with pytest.raises(ValueError, match="早于今天"):
        set_deadline(store, fp, now.date() - timedelta(days=1), "x", "office1", now)
    with pytest.raises(ValueError, match="已由“卫健委”负责"):
        assign_unit(store, fp, "卫健委", "x", "office1", now)
    with pytest.raises(KeyError):
        assign_unit(store, "0123456789abcdef", "卫健委", "x", "office1", now)
    mark_false_positive(store, fp, "内网", "office1", now)
    for action in (
        lambda: mark_false_positive(store, fp, "x", "o", now),
        lambda: set_deadline(store, fp, now.date(), "x", "o", now),
        lambda: request_recheck(store, fp, "x", "o", now),
    ):
        with pytest.raises(ValueError, match="误报"):
            action()
    # Nothing was recorded by the refused actions.
    assert [e[0] for e in events(store, fp)] == ["opened", "ignored"]


def test_recheck_bookkeeping(store: Store, clock: FixedClock, seeded: dict[str, str]) -> None:
    now = clock.now()
    fp = seeded["edu"]
    recheck = request_recheck(store, fp, "已删除失效链接", "jyj", now)
    assert recheck.state == "pending" and recheck.duty == "links" and recheck.site == "portal"
    with pytest.raises(RecheckPending) as info:
        request_recheck(store, fp, "again", "jyj", now)
    assert info.value.recheck.id == recheck.id and "已有复核申请" in str(info.value)
    assert list_findings(store, FindingQuery(status="recheck"), now).rows[0].recheck_pending
    assert [r.id for r in pending_rechecks(store)] == [recheck.id]
    claimed = claim_recheck(store, recheck.id, now)
    assert claimed is not None and claimed.state == "running" and claimed.attempts == 1
    assert claim_recheck(store, recheck.id, now) is None  # taken
    # A degraded run cannot tell: back to pending, then after the last attempt: not credible.
    for attempt in (1, 2, 3):
        if attempt > 1:
            assert claim_recheck(store, recheck.id, now) is not None
        rid = store.start_run("links", "portal", ["links"], now)
        store.finish_run(rid, status="degraded", now=now, error="maintenance page")
        done = finish_recheck(store, recheck.id, rid, now, max_attempts=3)
        assert done.state == ("done" if attempt == 3 else "pending")
    assert (
        done.outcome == "not_credible" and "降级" in (done.note or "") and "已尝试 3 次" in (done.note or "")
    )
    assert events(store, fp)[-1][0] == "recheck_inconclusive"
    # A new request; the run still sees the finding.
    again = request_recheck(store, fp, "已再次整改", "jyj", now)
    assert claim_recheck(store, again.id, now) is not None
    rid = run(store, clock, [finding("http://www.a.gov.cn/edu.html")])
    assert finish_recheck(store, again.id, rid, now).outcome == "still_present"
    # The third time the run no longer sees it: resolved by the normal lifecycle, the re-check says so.
    third = request_recheck(store, fp, "第三次整改", "jyj", now)
    assert claim_recheck(store, third.id, now) is not None
    rid = run(store, clock, [])
    closed = finish_recheck(store, third.id, rid, now)
    assert closed.outcome == "closed" and f"#{rid}" in (closed.note or "")
    assert [e[0] for e in events(store, fp)][-3:] == ["rectified", "resolved", "recheck_closed"]
    detail = finding_detail(store, fp, now)
    assert detail is not None and detail.row.status == "resolved" and len(detail.rechecks) == 3
    # The queue as an office sees it, and as each department does.
    run(
        store, clock, [finding("http://www.a.gov.cn/health.html", unit="卫健委", severity=Severity.DEDUCTION)]
    )
    other = request_recheck(store, seeded["health"], "已整改", "wjw", now)  # reopened by that run
    assert [r.id for r in list_rechecks(store)] == [other.id, third.id, again.id, recheck.id]
    assert [r.id for r in list_rechecks(store, states=("pending", "running"))] == [other.id]
    assert [r.id for r in list_rechecks(store, units=frozenset({"卫健委"}))] == [other.id]
    assert list_rechecks(store, states=("done",), units=frozenset({"卫健委"})) == []


def test_false_positive_cancels_a_pending_recheck(
    store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    now = clock.now()
    recheck = request_recheck(store, seeded["edu"], "已整改", "jyj", now)
    mark_false_positive(store, seeded["edu"], "内网链接", "office1", now)
    assert pending_rechecks(store) == []
    detail = finding_detail(store, seeded["edu"], now)
    assert detail is not None and detail.rechecks[0].id == recheck.id
    assert detail.rechecks[0].outcome == "cancelled"


def test_overview_counts_and_weekly_trend(store: Store, clock: FixedClock) -> None:
    # Week 1: three found; week 2: one resolved; this week: one more found, one marked 误报.
    clock.advance(days=-14)
    a, b, c = (finding(f"http://www.a.gov.cn/{n}.html") for n in "abc")
    run(store, clock, [a, b, c])
    clock.advance(days=7)
    run(store, clock, [a, b])
    clock.advance(days=7)
    d = finding("http://www.a.gov.cn/d.html", severity=Severity.VETO)
    run(store, clock, [a, b, d])
    mark_false_positive(store, b.fingerprint, "内网", "office1", clock.now())
    view = overview(store, clock.now())
    assert view.open_total == 2 and view.open_by_severity[0] == ("veto", 1)
    assert view.open_by_kind == [("links", "dead_link", 2)] and view.open_by_unit == [("教育局", 2)]
    assert [r.fingerprint for r in view.veto] == [d.fingerprint]
    assert len(view.weeks) == 13 and view.weeks[-1].iso_week == "2026-W48"
    last3 = [(w.opened, w.resolved, w.open_at_end) for w in view.weeks[-3:]]
    assert last3 == [(3, 0, 3), (0, 1, 2), (1, 0, 2)]
    assert all(w.open_at_end == 0 for w in view.weeks[:-3])


def test_users(store: Store, clock: FixedClock) -> None:
    now = clock.now()
    add_user(store, User("admin", "admin", "h1", now))
    add_user(store, User("jyj", "department", "h2", now, unit="教育局"))
    with pytest.raises(ValueError, match="已存在"):
        add_user(store, User("admin", "admin", "h", now))
    with pytest.raises(ValueError, match="所属单位"):
        add_user(store, User("x", "department", "h", now))
    with pytest.raises(ValueError, match="角色"):
        add_user(store, User("x", "root", "h", now))
    assert [u.username for u in list_users(store)] == ["admin", "jyj"]
    set_password_hash(store, "jyj", "h3", now)
    set_disabled(store, "jyj", True)
    record_login(store, "admin", now)
    jyj, admin = get_user(store, "jyj"), get_user(store, "admin")
    assert jyj is not None and jyj.password_hash == "h3" and jyj.disabled and jyj.unit == "教育局"
    assert admin is not None and admin.last_login_at == now
    with pytest.raises(KeyError):
        record_login(store, "nobody", now)


def test_reads_answer_while_another_connection_holds_the_write_lock(
    tmp_path: Path, clock: FixedClock, store_url: str, store: Store, seeded: dict[str, str]
) -> None:
    """The console's reads never wait for the daemon's write transaction (WAL; PostgreSQL's snapshots),
    nor take a lock."""
    update = "UPDATE findings SET message = 'being rewritten' WHERE fingerprint = ?"
    writer: sqlite3.Connection | psycopg.Connection
    if store.postgresql:
        writer = psycopg.connect(store_url, autocommit=True)
        writer.execute("BEGIN")
        writer.execute(update.replace("?", "%s"), [seeded["edu"]])
    else:
        writer = sqlite3.connect(store_url, isolation_level=None, timeout=0.1)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(update, [seeded["edu"]])
    try:
        for reader in (
            open_test_store(store_url, tmp_path, lock_timeout=0.2),
            Store.open_readonly(store_url, lock_timeout=0.2),
        ):
            with reader:
                started = time.monotonic()
                page = list_findings(reader, FindingQuery(), clock.now())
                detail = finding_detail(reader, seeded["edu"], clock.now())
                view = overview(reader, clock.now())
                assert time.monotonic() - started < 0.2  # never waited for the busy timeout
                # The last committed state, not the writer's uncommitted change.
                assert page.total == 4 and view.open_total == 4
                assert detail is not None and detail.row.message.startswith("链接无法访问")
                assert not reader.backend.in_transaction  # the read transaction ended
        # … and the reads left the writer free to commit.
        writer.execute("COMMIT")
    finally:
        writer.close()


def test_bulletin_counts_triaged_findings_open_with_their_unit_and_deadline(
    store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    """Triage events are history: the weekly bulletin still counts the finding open, under the unit it
    was assigned to, with the 整改时限 set for it (and an undone 误报 is open again)."""
    from monitor.bulletin.model import build_bulletin
    from monitor.config import Config
    from monitor.core.isoweek import IsoWeek

    now = clock.now()
    fp = seeded["edu"]
    assign_unit(store, fp, "卫健委", "链接属卫健委栏目", "office1", now)
    set_deadline(store, fp, date(2026, 12, 20), "延期", "office1", now)
    request_recheck(store, fp, "已整改", "wjw", now)
    mark_false_positive(store, seeded["health"], "内网", "office1", now)
    undo_false_positive(store, seeded["health"], "确为死链", "office1", now)
    clock.advance(hours=1)
    b = build_bulletin(store, Config(), IsoWeek(2026, 48), clock)
    problems = {p.fingerprint: p for p in b.problems}
    assert set(problems) == set(seeded.values())
    assert all(p.is_open for p in problems.values())
    assert problems[fp].unit == "卫健委" and problems[fp].deadline == date(2026, 12, 20)
    assert b.trend[-1].total == 4


def test_a_recheck_left_running_by_a_dead_process_is_queued_again(
    store_url: str, store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    """A process that claimed a re-check and died (SIGKILL, power loss) gives it back to the queue."""
    import subprocess
    import sys

    from monitor.store.triage import get_recheck, requeue_stale_rechecks

    recheck = request_recheck(store, seeded["edu"], "已整改", "jyj", clock.now())
    code = (
        "import sys; from datetime import datetime; from monitor.store.database import Store; "
        "from monitor.store.triage import claim_recheck; "
        "s = Store(sys.argv[1]); assert claim_recheck(s, int(sys.argv[2]), datetime.now()) is not None"
    )
    subprocess.run([sys.executable, "-c", code, store_url, str(recheck.id)], check=True)
    claimed = get_recheck(store, recheck.id)
    assert claimed is not None and claimed.state == "running" and claimed.attempts == 1
    assert requeue_stale_rechecks(store) == [recheck.id]
    again = get_recheck(store, recheck.id)
    assert again is not None and again.state == "pending" and again.attempts == 0 and again.claimed_by is None
    # A live claimant (this process) keeps its claim, except at start-up (its pid is a previous life's).
    assert claim_recheck(store, recheck.id, clock.now()) is not None
    assert requeue_stale_rechecks(store) == []
    assert requeue_stale_rechecks(store, at_startup=True) == [recheck.id]


def test_exports_show_the_assigned_unit_and_the_set_deadline(
    store: Store, clock: FixedClock, seeded: dict[str, str]
) -> None:
    from monitor.app.exports import machine_rows, people_rows
    from monitor.config import Config

    now = clock.now()
    fp = seeded["edu"]
    assign_unit(store, fp, "卫健委", "链接属卫健委栏目", "office1", now)
    set_deadline(store, fp, date(2026, 11, 30), "限期整改", "office1", now)
    rows = [r for r in store.findings() if r["fingerprint"] == fp]
    (person,) = people_rows(rows, Config(), date(2026, 12, 1))
    assert person["单位"] == "卫健委" and person["整改时限"] == "2026-11-30" and person["整改状态"] == "逾期"
    (machine,) = machine_rows(rows)
    assert machine["unit"] == "教育局" and machine["assigned_unit"] == "卫健委"
    assert machine["deadline"] == "2026-11-30"
