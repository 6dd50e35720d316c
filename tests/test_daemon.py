"""The daemon as systemd runs it: a real subprocess, a real $NOTIFY_SOCKET, real signals, a real site."""

from __future__ import annotations

import itertools
import re
import signal
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.app.cli import main
from monitor.app.locks import DutyLock
from monitor.core.clock import SHANGHAI
from monitor.store.backup import backup_database, list_backups
from monitor.store.database import Store
from tests.daemon_harness import Daemon, monitor_cli, runs, write_config
from tests.sites import LocalSites, page

HOST = "www.t.cn"


def serve(sites: LocalSites, *, slow: float | None = None, dead: bool = True) -> None:
    """A small site: a homepage, one good page, optionally a dead link and a slow page."""
    links = ["/a.html"] + (["/gone.html"] if dead else []) + (["/slow.html"] if slow else [])
    sites.html(HOST, "/", page("首页", links=links))
    sites.html(HOST, "/a.html", page("A"))
    if slow:
        sites.slow(HOST, "/slow.html", slow, page("慢页面"))


async def test_ready_watchdog_scheduled_runs_status_and_clean_stop(sites: LocalSites, tmp_path: Path) -> None:
    serve(sites)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1s"})
    daemon = await Daemon(config, abstract=True, watchdog_usec=300_000).start()
    try:
        await daemon.until(lambda: daemon.sent("READY", "1"), what="READY=1")
        ready = daemon.sent("READY", "1")[0]
        assert "next: links at" in ready["STATUS"] or "running links" in ready["STATUS"]
        # Watchdog pings at half of WATCHDOG_USEC (0.15 s here).
        await daemon.until(lambda: len(daemon.sent("WATCHDOG", "1")) >= 3, what="three WATCHDOG=1")

        # Never run before → it runs at start, then every second, on time.
        def finished() -> list[dict]:
            return [r for r in runs(daemon.database, "links") if r["status"] == "ok"]

        await daemon.until(lambda: len(finished()) >= 3, what="three links runs")
        ok = finished()
        starts = [datetime.fromisoformat(r["started_at"]) for r in ok[:3]]
        assert all(timedelta(0) <= b - a <= timedelta(seconds=2) for a, b in itertools.pairwise(starts))
        assert ok[0]["counts"]["broken"] == 1
        assert any(n.get("STATUS", "").startswith("running links (since ") for n in daemon.notifications)

        # monitor status reads the store and the daemon's state file.
        code, out, err = await monitor_cli("--lang", "en", "--config", str(config), "status", cwd=tmp_path)
        assert code == 0, err
        assert f"daemon: running (pid {daemon.pid}" in out
        assert re.search(r"links — every 1s, next \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", out)
        assert re.search(r"t: last run #\d+ \S+ ok \(2 pages, 3 links, 1 broken; 1 findings\)", out)
        assert "扣分 1" in out and "(total 1)" in out

        # A second daemon on the same database is refused (exit 4), the first keeps running.
        code, _, err = await monitor_cli("--config", str(config), "daemon", cwd=tmp_path)
        assert code == 4
        assert f"another daemon already uses {daemon.database} (pid {daemon.pid}" in err

        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
        assert daemon.sent("STOPPING", "1")
        assert not (tmp_path / "monitor.db.daemon.json").exists()
        assert all(r["status"] in ("ok", "interrupted") for r in runs(daemon.database))
        code, out, _ = await monitor_cli("--lang", "en", "--config", str(config), "status", cwd=tmp_path)
        assert "daemon: not running" in out and "next" not in out
    finally:
        await daemon.close()


async def test_sighup_bad_config_keeps_old_schedule_good_one_swaps(sites: LocalSites, tmp_path: Path) -> None:
    serve(sites, dead=False)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1s"})
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: daemon.sent("READY", "1"), what="READY=1")
        await daemon.until(lambda: len(runs(daemon.database, "links")) >= 1)

        write_config(config, sites.port, duties={"links": "every soon", "backup": "every 1s"})
        daemon.signal(signal.SIGHUP)
        await daemon.until_log(r"ERROR monitor.daemon: reload rejected; the running configuration stays")
        assert "schedule.duties.links.every: not a duration: 'soon'" in daemon.stderr
        reloading = daemon.sent("RELOADING", "1")
        assert len(reloading) == 1 and re.fullmatch(r"\d+", reloading[0]["MONOTONIC_USEC"])
        await daemon.until(lambda: len(daemon.sent("READY", "1")) == 2, what="READY=1 after the reload")
        assert "reload rejected (schedule.duties.links.every" in daemon.sent("READY", "1")[1]["STATUS"]
        # The old schedule keeps running, and the rejected file's new duty never starts.
        before = len(runs(daemon.database, "links"))
        await daemon.until(lambda: len(runs(daemon.database, "links")) >= before + 2)
        assert runs(daemon.database, "backup") == []

        write_config(config, sites.port, duties={"links": "off", "backup": "every 1s"})
        daemon.signal(signal.SIGHUP)
        await daemon.until_log(r"configuration reloaded from")
        assert "unscheduled links" in daemon.stderr and "scheduled backup: every 1s" in daemon.stderr
        await daemon.until(lambda: daemon.sent("RELOADING", "1")[1:] and len(daemon.sent("READY", "1")) == 3)
        await daemon.until(lambda: runs(daemon.database, "backup"), what="a backup run")
        await daemon.until(lambda: all(r["status"] != "running" for r in runs(daemon.database, "links")))
        settled = len(runs(daemon.database, "links"))
        # Two more backups (every 1 s) prove the scheduler kept running: links never started again.
        backups = len(runs(daemon.database, "backup"))
        await daemon.until(
            lambda: len(runs(daemon.database, "backup")) >= backups + 2, what="two more backups"
        )
        assert len(runs(daemon.database, "links")) == settled  # links is no longer scheduled
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
    finally:
        await daemon.close()


async def test_sigterm_mid_run_cancels_after_grace_and_records_interrupted(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites, slow=5)
    config = write_config(
        tmp_path / "config.yaml", sites.port, duties={"links": "every 1h"}, grace_seconds=0.3
    )
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: sites.count(HOST, "/slow.html"), what="the run to reach the slow page")
        assert runs(daemon.database, "links")[-1]["status"] == "running"
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait(timeout=4) == 0
        assert "waiting up to 0.3s for links to finish" in daemon.stderr
        assert "grace period over: cancelling links" in daemon.stderr
        assert "Traceback" not in daemon.stderr
        run = runs(daemon.database, "links")[-1]
        assert run["status"] == "interrupted" and run["finished_at"]
        stopping = daemon.sent("STOPPING", "1")
        assert stopping and stopping[0]["STATUS"] == "stopping: waiting up to 0.3s for links"
    finally:
        await daemon.close()


async def test_sigterm_mid_run_lets_it_finish_within_grace(sites: LocalSites, tmp_path: Path) -> None:
    serve(sites, slow=1)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1h"}, grace_seconds=8)
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: sites.count(HOST, "/slow.html"), what="the run to reach the slow page")
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait(timeout=6) == 0
        run = runs(daemon.database, "links")[-1]
        assert run["status"] == "ok" and run["counts"]["broken"] == 1
        assert "cancelling" not in daemon.stderr
    finally:
        await daemon.close()


async def test_sigkill_mid_run_then_restart_recovers_cleanly(sites: LocalSites, tmp_path: Path) -> None:
    serve(sites)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1h"})
    code, _, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
    assert code == 1, err
    with Store(tmp_path / "monitor.db") as store:
        (before,) = store.findings(status="open")

    # The next crawl is slow and does not see the dead link any more: a finished run would resolve it.
    serve(sites, slow=5, dead=False)
    write_config(config, sites.port, duties={"links": "every 1s"})
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: sites.count(HOST, "/slow.html"), what="the run to reach the slow page")
        killed = runs(daemon.database, "links")[-1]
        assert killed["status"] == "running"
        daemon.signal(signal.SIGKILL)
        assert await daemon.wait() == -signal.SIGKILL
    finally:
        await daemon.close()

    write_config(config, sites.port, duties={"links": "every 1h"})  # last success is recent: no catch-up
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: daemon.sent("READY", "1"), what="READY=1 after the restart")
        assert f"run #{killed['id']} was cut off by the end of its process" in daemon.stderr
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
    finally:
        await daemon.close()
    with Store(tmp_path / "monitor.db") as store:
        assert store.integrity_ok()
        run = store.get_run(killed["id"])
        assert run["status"] == "interrupted" and run["error"] == "process ended before the run finished"
        (after,) = store.findings(status="open")
        assert after["fingerprint"] == before["fingerprint"]
        assert (after["first_seen"], after["last_seen"], after["times_seen"]) == (
            before["first_seen"],
            before["last_seen"],
            before["times_seen"],
        )
        assert [e["event"] for e in store.events(after["fingerprint"])] == ["opened"]
        assert len(store.runs("links")) == 2  # the CLI run and the killed one: nothing ran twice


async def test_duty_never_overlaps_itself_across_daemon_and_cli(sites: LocalSites, tmp_path: Path) -> None:
    serve(sites, slow=5)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1h"})
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: sites.count(HOST, "/slow.html"), what="the run to reach the slow page")
        code, out, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
        assert code == 4, (out, err)
        assert re.fullmatch(
            rf"error: links is already running \(pid {daemon.pid}, started \d\d:\d\d:\d\d\); "
            r"not starting another\n",
            err,
        )
        assert len(runs(daemon.database, "links")) == 1
    finally:
        await daemon.close()  # SIGKILL: the kernel drops the daemon's locks


async def test_daemon_skips_a_run_while_another_process_holds_the_duty(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites)
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": "every 1s"})
    holder = DutyLock(tmp_path / "monitor.db", "links").acquire(datetime.now(SHANGHAI))
    daemon = await Daemon(config).start()
    try:
        await daemon.until_log(r"WARNING monitor.daemon: links is already running \(pid \d+, started ")
        await daemon.until(lambda: daemon.stderr.count("not starting another") >= 2, what="a second skip")
        assert runs(daemon.database, "links") == []
        holder.release()
        await daemon.until(lambda: runs(daemon.database, "links"), what="a run once the lock is free")
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
    finally:
        holder.release()
        await daemon.close()


async def test_catch_up_after_downtime_runs_only_overdue_duties_once(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites)
    yearly = "0 0 1 1 *"  # midnight on 1 January
    config = write_config(tmp_path / "config.yaml", sites.port, duties={"links": yearly, "backup": yearly})
    now = datetime.now(SHANGHAI)
    with Store(tmp_path / "monitor.db") as store:
        old = store.start_run("links", "t", ["links"], now - timedelta(days=400))
        store.finish_run(old, status="ok", now=now - timedelta(days=400), counts={})
        recent = store.start_run("backup", "backup", ["backup"], now - timedelta(seconds=60))
        store.finish_run(recent, status="ok", now=now - timedelta(seconds=59))
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: len(runs(daemon.database, "links")) == 2, what="one catch-up run")
        missed = r"links runs now to catch up: missed the run due at \d{4}-01-01 00:00:00"
        assert re.search(missed, daemon.stderr)
        await daemon.until(lambda: runs(daemon.database, "links")[-1]["status"] == "ok")
        # The daemon tells systemd it is idle again, its next links run next January: nothing else queued.
        await daemon.until(
            lambda: daemon.sent("STATUS")[-1]["STATUS"].startswith("idle"), what="STATUS idle after the run"
        )
        assert len(runs(daemon.database, "links")) == 2  # coalesced: one run, however long the downtime
        assert "backup runs now" not in daemon.stderr and len(runs(daemon.database, "backup")) == 1
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
    finally:
        await daemon.close()


def test_backup_cli_copies_verifies_and_rotates(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    # A relative backup folder lives next to the database (under systemd: in its StateDirectory).
    config.write_text("storage: {database: var/monitor.db}\nbackup: {directory: backups, keep: 2}\n")
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "backup"], env={"MONITOR_DB": None})
    assert result.exit_code == 2 and "no database at" in result.output
    with Store(tmp_path / "var" / "monitor.db") as store:
        when = datetime(2026, 11, 1, tzinfo=SHANGHAI)
        run_id = store.start_run("links", "t", ["links"], when)
        store.finish_run(run_id, status="ok", now=when, counts={"broken": 7})
    (tmp_path / "var" / "backups").mkdir(parents=True)
    (tmp_path / "var" / "backups" / "notes.txt").write_text("not ours")
    outs = []
    for day in (2, 3, 4):
        env = {"MONITOR_NOW": f"2026-12-0{day}T03:30:00+08:00", "MONITOR_DB": None}
        result = runner.invoke(main, ["--config", str(config), "backup"], env=env)
        assert result.exit_code == 0, result.output
        outs.append(result.output)
    assert re.match(r"backup: \S+monitor-20261204-033000\.db \(\d+ bytes, integrity ok\); 2 kept", outs[2])
    assert "removed monitor-20261202-033000.db" in outs[2]
    names = sorted(p.name for p in (tmp_path / "var" / "backups").iterdir())
    assert names == ["monitor-20261203-033000.db", "monitor-20261204-033000.db", "notes.txt"]
    copy = sqlite3.connect(tmp_path / "var" / "backups" / "monitor-20261204-033000.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        stored = copy.execute("SELECT counts FROM runs WHERE duty = 'links'").fetchone()[0]
        assert stored == '{"schema": 3, "broken": 7}'  # the run report as stored (monitor.core.report)
    finally:
        copy.close()
    with Store(tmp_path / "var" / "monitor.db") as store:
        backups = store.runs("backup")
        assert [r["status"] for r in backups] == ["ok"] * 3
        assert backups[0]["counts"]["removed"] == ["monitor-20261202-033000.db"]


def test_backups_within_one_second_keep_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    Store(db).close()
    when = datetime(2026, 12, 1, 3, 30, tzinfo=SHANGHAI)
    made = [backup_database(db, tmp_path / "b", keep=2, now=when).path for _ in range(4)]
    assert [p.name for p in made] == [
        "monitor-20261201-033000.db",
        "monitor-20261201-033000-2.db",
        "monitor-20261201-033000-3.db",
        "monitor-20261201-033000-4.db",
    ]
    assert [p.name for p in list_backups(tmp_path / "b")] == [made[2].name, made[3].name]
