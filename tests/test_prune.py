"""``monitor prune --older-than 180d``: old reports, sent mail, unreferenced screenshots and run details go;
open findings, their screenshots, queued mail and every finding's state stay."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.bulletin.outbox import Outbox, OutboxEntry
from monitor.core.clock import SHANGHAI, iso
from monitor.core.findings import Finding, Severity
from monitor.store.database import Probe, Resolution, Store
from tests.conftest import open_test_store

# The store tests run on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_stores

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=3)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _finding(identity: str, shot: str | None = None) -> Finding:
    evidence = {"screenshots": [{"label": "浏览器", "file": shot, "width": 1, "height": 1, "bytes": 48}]}
    return Finding(
        duty="darklinks",
        kind="dark_link",
        severity=Severity.VETO,
        site="portal",
        identity=identity,
        url=f"http://www.shixian.gov.cn/{identity}.html",
        message=f"暗链 {identity}",
        evidence=evidence if shot else {},
    )


def _run(store: Store, when: datetime, duty: str, findings: list[Finding], counts: dict) -> int:
    run_id = store.start_run(duty, "portal", [duty], when)
    store.finish_run(
        run_id, status="ok", now=when, findings=findings, counts=counts, resolution=Resolution((duty,))
    )
    return run_id


def _mail(outbox: Outbox, key: str, sent_at: datetime | None) -> None:
    msg = EmailMessage()
    msg["Subject"] = key
    msg.set_content("通报")
    entry, _ = outbox.enqueue(msg, key=key, week="2026-W10", recipients=["a@b.cn"], now=OLD)
    if sent_at is not None:
        outbox._save(replace(entry, status="sent", sent_at=iso(sent_at)))


def test_prune_removes_only_old_unneeded_things(store_url: str, tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    postgresql = store_url.startswith("postgresql://")
    evidence = tmp_path / "monitor.db.evidence"
    evidence.mkdir()
    kept_shot, old_shot, new_shot = ("a" * 64 + ".png", "b" * 64 + ".png", "c" * 64 + ".png")
    for name in (kept_shot, old_shot, new_shot):
        (evidence / name).write_bytes(PNG)
    for name in (kept_shot, old_shot):
        os.utime(evidence / name, (OLD.timestamp(), OLD.timestamp()))
    with open_test_store(store_url, tmp_path) as store:
        first = _run(
            store, OLD, "darklinks", [_finding("open", kept_shot), _finding("gone", old_shot)], {"a": 1}
        )
        _run(store, OLD + timedelta(days=1), "availability", [], {"targets": [1, 2]})
        # A later run sees only the open problem: "gone" is resolved, its screenshot unreferenced.
        _run(store, RECENT, "darklinks", [_finding("open", kept_shot)], {"b": 2})
        store.add_probes(
            [
                Probe("portal", "http://www.shixian.gov.cn/", "首页", when, True, 200, 100)
                for when in (OLD, RECENT)
            ]
        )
    reports = tmp_path / "reports"
    for week in ("2026-W10", "2026-W48", "notes"):
        (reports / week).mkdir(parents=True)
        (reports / week / "bulletin.html").write_text("x", encoding="utf-8")
    outbox = Outbox(tmp_path / "outbox")
    _mail(outbox, "old-sent", OLD)
    _mail(outbox, "old-queued", None)
    _mail(outbox, "new-sent", RECENT)
    # A sent instant alert shares the outbox: pruned whole, so it is never taken for a crash and resent.
    alert, _ = outbox.enqueue_payload(
        OutboxEntry(key="old-alert", week="", subject="告警", recipients=["ops"], channel="ops"), b"{}"
    )
    outbox.save(replace(alert, status="sent", sent_at=iso(OLD)))
    config = tmp_path / "config.yaml"
    # On PostgreSQL the CLI finds the database through storage.url; the files beside it (evidence) are
    # named after storage.database, as on SQLite.
    storage = f"storage:\n  url: {store_url}\n  database: {db}\n" if postgresql else ""
    config.write_text(f"{storage}bulletin:\n  reports_dir: {reports}\n", encoding="utf-8")
    where = [] if postgresql else ["--db", str(db)]

    def prune(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), *where, "prune", *extra],
            env={**os.environ, "MONITOR_NOW": NOW.isoformat()},
            capture_output=True,
            text=True,
            timeout=60,
        )

    dry = prune("--older-than", "180d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove 1 report folder(s)" in dry.stdout
    assert (reports / "2026-W10").is_dir() and (evidence / old_shot).is_file()

    done = prune("--older-than", "180d")
    assert done.returncode == 0, done.stderr
    assert "removed 1 report folder(s)" in done.stdout
    assert "removed 2 sent mail(s)" in done.stdout
    assert "removed 1 evidence screenshot(s); 1 kept for open findings" in done.stdout
    assert "details of 1 old run(s) and 1 availability probe(s)" in done.stdout
    assert sorted(p.name for p in reports.iterdir()) == ["2026-W48", "notes"]
    assert sorted(e.key for e in Outbox(tmp_path / "outbox").entries()) == ["new-sent", "old-queued"]
    assert sorted(p.name for p in evidence.iterdir()) == sorted([kept_shot, new_shot])
    with open_test_store(store_url, tmp_path) as store:
        assert store.get_run(first)["counts"] == {}  # an old run's details
        latest = {r["duty"]: r for r in store.latest_runs()}
        assert latest["availability"]["counts"]["targets"] == [1, 2]  # the latest run of a duty keeps them
        open_now = [f["identity"] for f in store.findings(status="open")]
        assert open_now == ["open"]
        assert [f["identity"] for f in store.findings(status="resolved")] == ["gone"]
        (row,) = store.findings(status="open")
        assert row["evidence"]["screenshots"][0]["file"] == kept_shot
        assert store.backend.execute("SELECT count(*) FROM probes").fetchone()[0] == 1


def test_prune_refuses_a_cutoff_inside_the_availability_window(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    Store(db).close()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--db", str(db), "prune", "--older-than", "3d"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "availability window" in done.stderr and "Traceback" not in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "monitor", "--db", str(db), "prune", "--older-than", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "not a duration" in bad.stderr
