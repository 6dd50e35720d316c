"""The store: migrations, WAL, the finding lifecycle, interrupted runs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core.clock import FixedClock
from monitor.core.findings import Finding, Severity
from monitor.core.posts import Post
from monitor.store.database import MIGRATIONS, Probe, Resolution, Store
from tests.conftest import open_test_store

# Every test that takes ``store`` or ``store_url`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_stores


def dead(url: str, site: str = "portal", duty: str = "links") -> Finding:
    return Finding(
        duty=duty,
        kind="dead_link",
        severity=Severity.WARNING,
        site=site,
        identity=url,
        url=url,
        message=f"链接无法访问：{url}",
        sources=("http://a.gov.cn/",),
    )


def run(
    store: Store,
    clock: FixedClock,
    findings: list[Finding],
    status: str = "ok",
    site: str = "portal",
    duty: str = "links",
) -> int:
    rid = store.start_run(duty, site, [duty], clock.now())
    store.finish_run(rid, status=status, now=clock.now(), findings=findings, resolution=Resolution((duty,)))
    return rid


def test_migrations_run_once_and_wal_is_on(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    Store(path).close()
    with Store(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        assert s.backend.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {"runs", "findings", "events"} <= s.backend.table_names()


def test_fingerprint_is_stable_and_ignores_evidence() -> None:
    a = dead("http://a.gov.cn/x")
    b = Finding(**{**a.__dict__, "message": "other", "evidence": {"n": 1}, "sources": ()})
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != dead("http://a.gov.cn/y").fingerprint
    assert a.fingerprint != dead("http://a.gov.cn/x", site="other").fingerprint


def test_lifecycle_open_seen_resolved_reopened(store: Store, clock: FixedClock) -> None:
    run(store, clock, [dead("u1"), dead("u2")])
    clock.advance(days=1)
    run(store, clock, [dead("u1")])
    rows = {r["url"]: r for r in store.findings()}
    assert rows["u1"]["status"] == "open" and rows["u1"]["times_seen"] == 2
    assert rows["u2"]["status"] == "resolved" and rows["u2"]["resolved_at"] == clock.now().isoformat()
    clock.advance(days=1)
    run(store, clock, [dead("u1"), dead("u2")])
    assert store.finding(rows["u2"]["fingerprint"])["status"] == "open"  # type: ignore[index]
    assert [e["event"] for e in store.events(rows["u2"]["fingerprint"])] == ["opened", "resolved", "reopened"]


def test_failed_or_other_site_or_other_duty_runs_resolve_nothing(store: Store, clock: FixedClock) -> None:
    run(store, clock, [dead("u1")])
    run(store, clock, [], status="failed")
    run(store, clock, [], site="other")
    run(store, clock, [], duty="darklinks")
    assert [r["status"] for r in store.findings()] == ["open"]


def test_ignored_stays_ignored(store: Store, clock: FixedClock) -> None:
    run(store, clock, [dead("u1")])
    fp = dead("u1").fingerprint
    store.ignore(fp[:6], "误报：内网地址", clock.now())
    run(store, clock, [dead("u1")])
    run(store, clock, [])
    row = store.finding(fp)
    assert row is not None and row["status"] == "ignored" and row["ignored_reason"] == "误报：内网地址"


def test_interrupted_run_is_recovered_and_resolves_nothing(
    store_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    path = store_url
    with open_test_store(path, tmp_path) as s:
        run(s, clock, [dead("u1")])
    # Another process starts a run and dies without finishing it.
    code = (
        "import sys; from datetime import datetime; from monitor.store.database import Store\n"
        "s = Store(sys.argv[1])\n"
        "s.start_run('links', 'portal', ['links'], datetime.fromisoformat(sys.argv[2]))\n"
        "import os; os._exit(9)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), clock.now().isoformat()],
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    with open_test_store(path, tmp_path) as s:
        (stale,) = s.recover_interrupted(clock.now())
        assert s.get_run(stale)["status"] == "interrupted"
        assert [r["status"] for r in s.findings()] == ["open"]
        assert s.integrity_ok()


def test_a_crash_inside_finish_run_leaves_nothing_half_written(store: Store, clock: FixedClock) -> None:
    rid = store.start_run("links", "portal", ["links"], clock.now())

    class Boom(Finding):
        @property
        def fingerprint(self) -> str:  # type: ignore[override]
            raise RuntimeError("disk on fire")

    with contextlib.suppress(RuntimeError):
        store.finish_run(
            rid, status="ok", now=clock.now(), findings=[dead("u1"), Boom(**dead("u2").__dict__)]
        )
    assert list(store.findings()) == []
    assert store.get_run(rid)["status"] == "running"


def test_two_connections_share_the_database(store_url: str, tmp_path: Path, clock: FixedClock) -> None:
    a, b = open_test_store(store_url, tmp_path), open_test_store(store_url, tmp_path)
    try:
        run(a, clock, [dead("u1")])
        run(b, clock, [dead("u1"), dead("u2")])
        assert len(list(a.findings(status="open"))) == 2
        assert a.integrity_ok() and b.integrity_ok()
    finally:
        a.close()
        b.close()
    if not store_url.startswith("postgresql://"):
        assert sqlite3.connect(store_url).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_posts_probes_states_and_signatures_round_trip(store: Store, clock: FixedClock) -> None:
    """What the checks keep from run to run reads back the same on either engine."""
    now = clock.now()
    day = timedelta(days=1)
    posts = [
        Post("wx", f"p{i}", f"标题{i}", f"http://mp/{i}", now - i * day, pinned=i == 0) for i in range(3)
    ]
    assert store.save_posts(posts, now) == 3
    assert store.save_posts([Post("wx", "p1", "改了标题", "http://mp/1", now - day)], now + day) == 0
    stored = store.posts("wx", since=now - day)
    assert [p.post_id for p in stored] == ["p0", "p1"] and stored[1].title == "改了标题"
    assert stored[0].pinned and stored[0].original is None
    assert store.count_posts("wx", now - 3 * day, now) == 2  # [since, until)
    first_seen = {r["post_id"]: r["first_seen"] for r in store.backend.query("SELECT * FROM posts")}
    assert set(first_seen.values()) == {now.isoformat()}  # first_seen never moves

    store.add_probes(
        [
            Probe("portal", "http://a/", "首页", now - day, True, 200, 120),
            Probe("portal", "http://a/", "首页", now, False, None, None, "timeout", "超时", 6, True),
            Probe("portal", "http://b/", "办事", now, True, 200, 80),
        ]
    )
    newest = store.probes("portal", "http://a/")
    assert [p.ok for p in newest] == [False, True]
    assert newest[0] == Probe(
        "portal", "http://a/", "首页", now, False, None, None, "timeout", "超时", 6, True
    )
    assert (
        len(store.probes("portal", since=now - day)) == 2 and len(store.probes("portal", ip_version=6)) == 1
    )

    store.save_target_state({"site": "portal", "target": "http://a/", "state": "down", "fail_streak": 3})
    store.save_target_states([{"site": "portal", "target": "http://a/", "state": "up", "ok_streak": 1}])
    state = store.target_state("portal", "http://a/")
    assert state is not None and (state["state"], state["fail_streak"], state["ok_streak"]) == ("up", 3, 1)
    assert store.target_state("portal", "http://nowhere/") is None

    store.put_signatures("portal", {"head": {"title": "首页"}, "icp": ["京ICP备1号"]}, now)
    store.put_signatures("portal", {"head": {"title": "改版"}}, now + day)
    assert store.signatures("portal") == {"head": {"title": "改版"}, "icp": ["京ICP备1号"]}

    store.put_state("alerts.cursor", {"event_id": 7}, now)
    store.put_state("alerts.cursor", {"event_id": 9, "running": [1]}, now + day)
    assert store.get_state("alerts.cursor") == {"event_id": 9, "running": [1]}
    assert store.get_state("nothing") is None
