"""One finding per problem across duties (issue 21): the weekly column audit and the monthly unit inspection
share a column problem's identity, and a site that cannot be reached is one finding, not one per column."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from monitor.core.clock import SHANGHAI, FixedClock, iso
from monitor.core.findings import Finding, Severity, fingerprint
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config
from tests.test_columns_check import HOST, ago, col, config_for, homepage, list_page, row

# The store tests run on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_stores

TODAY = date(2026, 11, 26)


async def _run(duty: str, config: object, store: Store) -> SiteRunResult:
    clock = FixedClock(datetime(TODAY.year, TODAY.month, TODAY.day, 9, 30), SHANGHAI)
    (result,) = await run_duty(duty, config, store, clock)  # type: ignore[arg-type]
    return result


async def test_columns_and_units_report_one_stale_column_once(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/bm/jyj/", list_page("县教育局", [row("公告", ago(2)), row("通知", ago(3))]))
    stale = list_page("工作动态", [row("动态一", ago(24)), row("动态二", ago(40))])
    sites.html(HOST, "/bm/jyj/gzdt/", stale)
    config = config_for(sites, [col("工作动态", "/bm/jyj/gzdt/", unit="县教育局")])
    units = await _run("units", config, store)
    columns = await _run("columns", config, store)
    (by_units,) = [f for f in units.findings if f.kind == "column_stale"]
    (by_columns,) = [f for f in columns.findings if f.kind == "column_stale"]
    assert by_units.fingerprint == by_columns.fingerprint  # the same id whichever duty finds it
    assert columns.outcome.new == 0 and columns.outcome.seen_again >= 1
    assert store.count_open("test") == len({f.fingerprint for f in units.findings + columns.findings})
    assert [r["kind"] for r in store.findings(status="open")] == ["column_stale"]
    # Fixed: the weekly audit resolves it (it took the finding over when it saw it).
    sites.html(HOST, "/bm/jyj/gzdt/", list_page("工作动态", [row("新动态", ago(1)), row("动态一", ago(24))]))
    again = await _run("columns", config, store)
    assert again.outcome.resolved == 1 and store.count_open("test") == 0


async def test_an_unreachable_site_adds_no_line_per_column(sites: LocalSites, store: Store) -> None:
    """The site does not resolve: the column audit records why it could not check (the patrol reports the
    site as unreachable) instead of one 监测源异常 per column."""
    columns = [col(f"栏目{i}", f"/lm{i}/") for i in range(6)]
    config = fast_config(
        sites,
        [],
        f"http://{HOST}/",
        special={HOST: "nxdomain"},
        units=[{"name": "县教育局", "site": "test", "paths": ["/bm/jyj/"]}],
        columns={"discover": False, "sites": {"test": {"columns": columns}}},
    )
    result = await _run("columns", config, store)
    assert result.status == "failed" and "域名无法解析" in (result.error or "")
    assert result.findings == [] and store.count_open("test") == 0


async def test_columns_on_an_unreachable_host_are_one_finding(sites: LocalSites, store: Store) -> None:
    """The portal is up but the columns live on another host that is down: one finding for that host."""
    other = "xxgk.test.gov.cn"
    sites.html(HOST, "/", homepage(ago(1)))
    columns = [{"name": f"公开{i}", "url": f"http://{other}/gk{i}/"} for i in range(5)]
    config = fast_config(
        sites,
        [HOST],
        f"http://{HOST}/",
        special={other: "nxdomain"},
        units=[{"name": "县教育局", "site": "test", "paths": ["/bm/jyj/"]}],
        columns={"discover": False, "sites": {"test": {"columns": columns}}},
    )
    result = await _run("columns", config, store)
    unreachable = [f for f in result.findings if f.kind == "source_unreachable"]
    assert len(unreachable) == 1, [f.message for f in unreachable]
    (finding,) = unreachable
    assert f"网站{other}无法访问（域名无法解析）" in finding.message and "5个页面" in finding.message
    assert finding.evidence["pages"] == 5
    assert result.counts["complete"] is False  # nothing there was observed: nothing there is resolved


async def test_a_dead_column_on_a_live_site_stays_its_own_finding(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.status(HOST, "/a/", 404)
    sites.status(HOST, "/b/", 404)
    config = config_for(sites, [col("甲", "/a/"), col("乙", "/b/")])
    result = await _run("columns", config, store)
    assert len([f for f in result.findings if f.kind == "source_unreachable"]) == 2


def test_migration_gives_units_findings_the_shared_identity(tmp_path: Path) -> None:
    """A database from before: a units finding the column audit also has is merged into it; one only the
    unit inspection has is renamed; events follow."""
    db = tmp_path / "monitor.db"
    with Store(db) as store:
        store.backend.execute("PRAGMA user_version = 4")
    conn = sqlite3.connect(db)
    old_fp = {}
    for duty, identity in (("columns", "http://x/a/"), ("units", "http://x/a/"), ("units", "http://x/b/")):
        legacy = (
            __import__("hashlib")
            .sha256("\x1f".join((duty, "column_stale", "test", identity)).encode())
            .hexdigest()[:16]
        )
        old_fp[(duty, identity)] = legacy
        conn.execute(
            "INSERT INTO findings (fingerprint, duty, kind, severity, site, identity, status, first_seen, "
            "last_seen) VALUES (?, ?, 'column_stale', 'warning', 'test', ?, 'open', ?, ?)",
            [
                legacy,
                duty,
                identity,
                iso(datetime(2026, 11, 1, tzinfo=SHANGHAI)),
                "2026-11-01T00:00:00+08:00",
            ],
        )
        conn.execute(
            "INSERT INTO events (fingerprint, at, event) VALUES (?, '2026-11-01', 'opened')", [legacy]
        )
    conn.commit()
    conn.close()
    with Store(db) as store:
        rows = {(r["duty"], r["identity"]): r["fingerprint"] for r in store.findings()}
        assert rows == {
            ("columns", "http://x/a/"): fingerprint("columns", "column_stale", "test", "http://x/a/"),
            ("units", "http://x/b/"): fingerprint("units", "column_stale", "test", "http://x/b/"),
        }
        assert fingerprint("units", "column_stale", "test", "http://x/b/") == fingerprint(
            "columns", "column_stale", "test", "http://x/b/"
        )
        merged = fingerprint("columns", "column_stale", "test", "http://x/a/")
        assert len(store.events(merged)) == 2  # the units row's history moved over
        orphans = store.backend.execute(
            "SELECT count(*) FROM events WHERE fingerprint NOT IN (SELECT fingerprint FROM findings)"
        ).fetchone()[0]
        assert orphans == 0


def test_finding_fingerprint_is_shared_only_within_the_family() -> None:
    def f(duty: str) -> Finding:
        return Finding(
            duty=duty,
            kind="column_stale",
            severity=Severity.WARNING,
            site="s",
            identity="u",
            url="u",
            message="m",
        )

    assert f("units").fingerprint == f("columns").fingerprint
    assert f("links").fingerprint != f("columns").fingerprint


async def test_units_on_an_unreachable_site_add_no_lines(sites: LocalSites, store: Store) -> None:
    units = [
        {"name": n, "site": "test", "paths": [p]} for n, p in (("县教育局", "/jyj/"), ("县财政局", "/czj/"))
    ]
    config = fast_config(
        sites,
        [],
        f"http://{HOST}/",
        special={HOST: "nxdomain"},
        units=units,
        columns={
            "discover": True,
            "sites": {"test": {"columns": [col("动态", "/jyj/dt/", unit="县教育局")]}},
        },
    )
    result = await _run("units", config, store)
    assert result.status == "failed" and "域名无法解析" in (result.error or "")
    assert result.findings == []
