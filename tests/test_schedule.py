"""Schedule config, catch-up decisions, sd_notify, the report wiring, status, and the systemd unit."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import types
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.app.daemon import Daemon, run_report
from monitor.app.schedule import DEFAULT_SCHEDULE, catch_up, effective_schedule
from monitor.app.sdnotify import Notifier
from monitor.config import ConfigError, DutySchedule, config_from_mapping, load_config
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.core.timing import cron_trigger, parse_duration
from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]


def problems(mapping: dict) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        config_from_mapping(mapping)
    return info.value.problems


# -- config -----------------------------------------------------------------------------------------
def test_schedule_defaults_follow_the_national_rhythm_and_entries_overlay_them() -> None:
    sched = effective_schedule(config_from_mapping({}).schedule)
    assert sched["availability"].every == 15 * 60
    assert sched["patrol"].cron == "0 2 * * *"
    assert sched["report"].cron == "30 8 * * 1" and sched["backup"].cron == "30 3 1 * *"
    assert {"newmedia", "columns", "units", "identity"} <= set(sched)

    config = config_from_mapping(
        {"schedule": {"duties": {"patrol": "off", "links": "every 1h30m", "columns": {"cron": "0 4 * * 0"}}}}
    )
    sched = effective_schedule(config.schedule)
    assert "patrol" not in sched and sched["links"].every == 5400 and sched["columns"].cron == "0 4 * * 0"
    only = config_from_mapping({"schedule": {"defaults": False, "duties": {"links": "*/2 * * * * *"}}})
    assert list(effective_schedule(only.schedule)) == ["links"]


@pytest.mark.parametrize(
    ("duties", "path", "message"),
    [
        ({"colums": "every 1h"}, "schedule.duties.colums", "unknown duty 'colums'; known: links, "),
        ({"links": "every soon"}, "schedule.duties.links.every", "not a duration: 'soon'"),
        ({"links": "every 0s"}, "schedule.duties.links.every", "duration must be positive"),
        ({"links": "61 * * * *"}, "schedule.duties.links.cron", "bad cron expression '61 * * * *'"),
        ({"links": "0 2 * *"}, "schedule.duties.links.cron", "needs 5 fields"),
        ({"links": "0 2 * * 8"}, "schedule.duties.links.cron", "bad day-of-week field '8'"),
        ({"links": {"cron": "0 2 * * *", "every": "1h"}}, "schedule.duties.links", "exactly one of"),
        ({"links": {"cron": "0 2 * * *", "when": 1}}, "schedule.duties.links.when", "unknown key"),
    ],
)
def test_bad_schedules_name_their_key_path(duties: dict, path: str, message: str) -> None:
    ((where, what),) = problems({"schedule": {"duties": duties}})
    assert where == path and message in what


def test_planned_duties_validate_before_they_exist() -> None:
    config = config_from_mapping({"schedule": {"duties": {"newmedia": "0 3 * * *", "units": "off"}}})
    assert config.schedule.duties["newmedia"].cron == "0 3 * * *"
    assert problems({"backup": {"keep": 0}})[0][0] == "backup.keep"


def test_example_config_has_commented_schedule_and_backup_sections() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    assert "\nschedule:\n" in text and "\nbackup:\n" in text
    config = load_config(REPO / "config.yaml", env={})
    sched = effective_schedule(config.schedule)
    assert sched["availability"].every == 900 and sched["patrol"].cron == "0 2 * * *"
    assert config.backup.keep == 12


def test_durations_and_crontab_weekdays() -> None:
    assert [parse_duration(v) for v in ("15m", "2s", "1h30m", "1d", "90", 2.5)] == [
        900,
        2,
        5400,
        86400,
        90,
        2.5,
    ]
    # Crontab counts 0 (and 7) as Sunday; APScheduler 3 alone would read 0 as Monday.
    after = datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)  # a Thursday
    sunday = cron_trigger("0 4 * * 0", SHANGHAI).get_next_fire_time(None, after)
    assert sunday == datetime(2026, 11, 29, 4, 0, tzinfo=SHANGHAI)
    assert cron_trigger("0 4 * * 7", SHANGHAI).get_next_fire_time(None, after) == sunday
    weekdays = cron_trigger("0 4 * * 1-5", SHANGHAI).get_next_fire_time(None, sunday)
    assert weekdays == datetime(2026, 11, 30, 4, 0, tzinfo=SHANGHAI)  # Monday
    every_two = cron_trigger("*/2 * * * * *", SHANGHAI).get_next_fire_time(None, after)
    assert every_two == after


# -- catch-up ----------------------------------------------------------------------------------------
NIGHTLY = DutySchedule(cron="0 2 * * *")
QUARTER = DutySchedule(every=900)
T = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("entry", "last_ok", "due"),
    [
        (NIGHTLY, None, True),
        (NIGHTLY, datetime(2026, 11, 26, 2, 0, 0, tzinfo=SHANGHAI), False),  # ran tonight at 02:00:00
        (NIGHTLY, datetime(2026, 11, 26, 2, 0, 5, tzinfo=SHANGHAI), False),
        (NIGHTLY, datetime(2026, 11, 25, 2, 0, 5, tzinfo=SHANGHAI), True),  # down overnight
        (NIGHTLY, datetime(2026, 11, 25, 23, 0, tzinfo=SHANGHAI), True),  # ran late last night, missed 02:00
        (QUARTER, T - timedelta(minutes=14), False),
        (QUARTER, T - timedelta(minutes=15), True),
    ],
)
def test_catch_up_decision(entry: DutySchedule, last_ok: datetime | None, due: bool) -> None:
    assert catch_up(entry, last_ok, T, SHANGHAI).due is due


# -- what the daemon schedules ----------------------------------------------------------------------
async def test_daemon_schedules_every_default_duty_and_the_configured_ones(tmp_path: Path) -> None:
    # Every name a schedule may use is a duty this installation runs: the config rejects any other.
    config = config_from_mapping({"schedule": {"duties": {"links": "every 2s"}}}, base_dir=tmp_path)
    daemon = Daemon(tmp_path / "config.yaml", config, tmp_path / "m.db", notifier=Notifier({}))
    daemon._sync_jobs()
    assert sorted(job.id for job in daemon.scheduler.get_jobs()) == sorted({*DEFAULT_SCHEDULE, "links"})
    assert daemon.specs["links"].every == 2


# -- sd_notify ---------------------------------------------------------------------------------------
def test_notifier_sends_to_abstract_and_path_sockets(tmp_path: Path) -> None:
    name = f"govsite-notify-{os.getpid()}"
    for address, bind in ((f"@{name}", "\0" + name), (str(tmp_path / "n.sock"), str(tmp_path / "n.sock"))):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(bind)
            sock.settimeout(2)
            notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000"})
            assert notifier.watchdog_interval == 15.0
            assert notifier.ready("idle; next: patrol at 02:00")
            assert sock.recv(4096) == b"READY=1\nSTATUS=idle; next: patrol at 02:00"
            assert notifier.reloading()
            fields = dict(line.split("=") for line in sock.recv(4096).decode().splitlines())
            assert fields["RELOADING"] == "1" and int(fields["MONOTONIC_USEC"]) > 0
    assert not Notifier({}).ready("x")  # outside systemd: a no-op
    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_interval is None


# -- report wiring -----------------------------------------------------------------------------------
async def test_report_duty_calls_the_bulletin_when_installed(tmp_path: Path) -> None:
    # A stand-in module exercises the wiring for a sync and an async weekly_job (the real one is
    # exercised with a real SMTP server in tests/test_bulletin_mail.py).
    config = config_from_mapping({})
    clock = FixedClock(datetime(2026, 11, 30, 8, 30), SHANGHAI)
    db = tmp_path / "m.db"
    calls = []

    def weekly_job(cfg, store, clk):  # type: ignore[no-untyped-def]
        calls.append((cfg, clk.now()))
        return {"bulletins": 1}

    async def weekly_job_async(cfg, store, clk):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)
        raise RuntimeError("SMTP down")

    fake = types.ModuleType("monitor.bulletin")
    sys.modules["monitor.bulletin"] = fake
    try:
        fake.weekly_job = weekly_job  # type: ignore[attr-defined]
        assert await run_report(config, db, clock) is True
        fake.weekly_job = weekly_job_async  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError):
            await run_report(config, db, clock)
    finally:
        del sys.modules["monitor.bulletin"]
    assert calls == [(config, clock.now())]
    with Store(db) as store:
        failed, ok = store.runs("report")
        assert ok["status"] == "ok" and ok["counts"] == {"bulletins": 1}
        assert failed["status"] == "failed" and failed["error"] == "RuntimeError: SMTP down"


# -- status ------------------------------------------------------------------------------------------
def test_status_without_daemon_shows_last_runs_and_open_findings(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    now = datetime(2026, 11, 26, 2, 0, 3, tzinfo=SHANGHAI)
    with Store(db) as store:
        run = store.start_run("links", "portal", ["links"], now)
        findings = [
            Finding("links", "dead_link", Severity.DEDUCTION, "portal", f"u{i}", f"http://x/{i}", "死链")
            for i in range(2)
        ]
        counts = {"pages_crawled": 120, "links_checked": 900, "broken": 2, "findings": 2}
        store.finish_run(run, status="ok", now=now, findings=findings, counts=counts)
        # A run in progress in another live process (the CLI takes runs of its own pid for stale).
        live = store.start_run("links", "portal", ["links"], now + timedelta(days=1))
        store.backend.execute("UPDATE runs SET pid = ? WHERE id = ?", [os.getppid(), live])
    result = CliRunner().invoke(main, ["--lang", "en", "--db", str(db), "status"])
    assert result.exit_code == 0, result.output
    assert "daemon: not running" in result.output
    assert (
        "portal: last run #1 2026-11-26T02:00:03+08:00 ok (120 pages, 900 links, 2 broken; 2 findings)"
        in (result.output)
    )
    assert (
        f"portal: running now: run #2 since 2026-11-27T02:00:03+08:00 (pid {os.getppid()})" in result.output
    )
    assert "open findings: 单项否决 0, 扣分 2, 预警 0, 提示 0 (total 2)" in result.output
    data = json.loads(CliRunner().invoke(main, ["--db", str(db), "status", "--json"]).output)
    assert data["daemon"] is None and data["open_findings"]["deduction"] == 2
    assert data["duties"]["links"]["runs"][0]["counts"]["pages_crawled"] == 120


# -- systemd unit ------------------------------------------------------------------------------------
_UNIT = REPO / "deploy" / "monitor.service"
_INSTALLED = "/opt/govsite-monitor/venv/bin/monitor "


def test_unit_file_has_the_service_contract() -> None:
    # Checked everywhere; the systemd verifier below needs systemd's own tools on the machine.
    unit = _UNIT.read_text(encoding="utf-8")
    for needed in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "User=govsite-monitor",
        "StateDirectory=govsite-monitor",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert needed in unit
    assert _INSTALLED in unit


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt-get install systemd); see deploy/README.md",
)
def test_unit_file_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = _UNIT.read_text(encoding="utf-8")
    # verify insists that ExecStart exists; the install path (/opt/…) does not on a test machine, so
    # point it at this interpreter — every other line is verified as shipped.
    path = tmp_path / "govsite-monitor.service"
    path.write_text(unit.replace(_INSTALLED, f"{sys.executable} -m monitor "), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done.stderr
