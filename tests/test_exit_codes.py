"""Every failure ends in a documented exit status with a one-line reason, never a traceback (issue 20, 4).

Real ``python -m monitor`` subprocesses, real SQLite files, a real write lock held by this process, a
real full disk (a size-capped tmpfs; skipped where it cannot be mounted).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import platform
import signal
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml

from monitor.core.clock import SHANGHAI, FixedClock
from monitor.store.database import Store
from tests.conftest import tiny_tmpfs
from tests.daemon_harness import REPO, monitor_cli, runs, write_config
from tests.sites import LocalSites, page

HOST = "www.t.cn"
README = (REPO / "README.md").read_text(encoding="utf-8")


def one_line_error(err: str) -> str:
    """The stderr of a failed command: exactly one ``error:`` line and no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def with_storage(config: Path, **storage: object) -> Path:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["storage"].update(storage)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def test_the_readme_documents_every_exit_status() -> None:
    section = README[README.index("## Exit status") :]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 130 |"):
        assert code in section, code
    for what in ("disk", "locked", "no database", "traceback"):
        assert what in section.lower(), what


async def test_a_config_that_is_not_utf8_is_status_2_for_every_command(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", 1, duties={})
    config.write_bytes(config.read_bytes().replace("测试县".encode(), "测试县".encode("gbk")))
    for args in (["check-config"], ["run", "links"], ["status"], ["findings", "list"], ["daemon"]):
        code, _, err = await monitor_cli("--config", str(config), *args, cwd=tmp_path)
        assert code == 2, (args, err)
        assert "not UTF-8 text: byte" in err and str(config) in err and "Traceback" not in err, (args, err)


async def test_read_only_commands_never_create_a_database_or_folders(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", 1, duties={})
    missing = tmp_path / "nowhere" / "monitor.db"
    for args in (["status"], ["status", "--json"], ["findings", "list"], ["findings", "export"]):
        code, _, err = await monitor_cli("--config", str(config), "--db", str(missing), *args, cwd=tmp_path)
        assert code == 2, (args, err)
        assert f"no database at {missing}" in one_line_error(err)
        assert not missing.parent.exists()


async def test_a_locked_database_is_status_3_and_readers_do_not_wait(
    sites: LocalSites, tmp_path: Path
) -> None:
    sites.html(HOST, "/", page("首页", links=["/gone.html"]))
    config = write_config(tmp_path / "config.yaml", sites.port, duties={})
    code, _, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
    assert code == 1, err
    database = tmp_path / "monitor.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock…
    try:
        # …for longer than the writer is willing to wait (1 s here; 30 s by default).
        with_storage(config, lock_timeout_seconds=1)
        started = time.monotonic()
        code, _, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
        assert code == 3, err
        assert f"database {database} is locked" in one_line_error(err)
        assert time.monotonic() - started < 20
        # Readers open the file read-only: they answer while the writer holds the lock, however long
        # the configured wait.
        with_storage(config, lock_timeout_seconds=600)
        code, out, err = await monitor_cli("--config", str(config), "findings", "list", cwd=tmp_path)
        assert code == 0 and "共1条" in out, err
        code, out, err = await monitor_cli("--lang", "en", "--config", str(config), "status", cwd=tmp_path)
        assert code == 0 and "open findings:" in out, err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(r["status"] != "running" for r in runs(database))


async def test_a_database_that_is_not_one_is_status_3_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", 1, duties={})
    (tmp_path / "monitor.db").write_bytes(b"this is a text file, not SQLite\n" * 200)
    code, _, err = await monitor_cli("--config", str(config), "status", cwd=tmp_path)
    assert code == 3
    assert "file is not a database" in one_line_error(err)
    code, _, err = await monitor_cli("--config", str(config), "--debug", "status", cwd=tmp_path)
    assert code == 3 and "Traceback" in err


async def test_a_full_disk_mid_run_is_status_3_and_the_run_does_not_stay_running(
    sites: LocalSites, tmp_path: Path
) -> None:
    with tiny_tmpfs(tmp_path / "disk", "1m") as disk:
        database = disk / "monitor.db"
        sites.html(HOST, "/", page("首页", links=["/a.html"]))
        sites.html(HOST, "/a.html", page("A"))
        config = write_config(tmp_path / "config.yaml", sites.port, duties={})
        db = ("--db", str(database))
        code, _, err = await monitor_cli("--config", str(config), *db, "run", "links", cwd=tmp_path)
        assert code == 0, err

        # The next run is slow and finds 30 dead links; the disk fills up while it crawls.
        links = [f"/gone{i}.html" for i in range(30)] + ["/slow.html"]
        sites.html(HOST, "/", page("首页", links=links))
        sites.slow(HOST, "/slow.html", 2, page("慢页面"))
        task = asyncio.create_task(monitor_cli("--config", str(config), *db, "run", "links", cwd=tmp_path))
        deadline = time.monotonic() + 20
        while not sites.count(HOST, "/slow.html") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        (running,) = [r for r in runs(database) if r["status"] == "running"]
        filler = fill(disk)
        code, _, err = await task
        assert code == 3, err
        assert "disk full" in one_line_error(err)
        # The full disk could not even take the run's failure: it is recorded at the next open.
        filler.unlink()
        code, out, err = await monitor_cli(
            "--lang", "en", "--config", str(config), *db, "status", cwd=tmp_path
        )
        assert code == 0, err
        assert f"run #{running['id']} since" in out and "is gone" in out
        code, _, err = await monitor_cli("--config", str(config), *db, "run", "links", cwd=tmp_path)
        assert code == 1, err
        with Store(database) as store:
            assert store.integrity_ok()
            run = store.get_run(running["id"])
            assert run["status"] in ("failed", "interrupted") and run["finished_at"]
            assert not store.running_runs()


def test_a_run_cut_off_by_the_store_is_recorded_as_failed(tmp_path: Path) -> None:
    """Store level: the write lock held past the timeout fails finish_run; once the lock is free,
    fail_unfinished records the run as failed with the reason."""
    clock = FixedClock(datetime(2026, 11, 26, 9, 30), SHANGHAI)
    database = tmp_path / "monitor.db"
    with Store(database, lock_timeout=0.3) as store:
        run_id = store.start_run("links", "t", ("links",), clock.now())
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            try:
                store.finish_run(run_id, status="ok", now=clock.now())
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
            else:
                raise AssertionError("finish_run did not wait for the lock")
            assert store.fail_unfinished(clock.now(), "database locked") == []  # still held
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.fail_unfinished(clock.now(), "database locked") == [run_id]
        run = store.get_run(run_id)
        assert run["status"] == "failed" and run["error"] == "database locked"


async def start_cli(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    """``python -m monitor …`` left running (stdin a pipe we keep open)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MONITOR_DB", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def reading_stdin(pid: int, timeout: float = 30) -> None:
    """Wait until the process is blocked reading fd 0 (its /proc syscall line: read, fd 0)."""
    read = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())
    assert read is not None, f"no read syscall number known for {platform.machine()}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fields = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            fields = []
        if fields[:2] == [read, "0x0"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the command never got to reading its input")


async def test_ctrl_c_is_status_130_never_1(sites: LocalSites, tmp_path: Path) -> None:
    # A command waiting on its input (a draft piped from another program that has not finished).
    config = write_config(tmp_path / "config.yaml", sites.port, duties={})
    proc = await start_cli("--config", str(config), "check", "text", "-", cwd=tmp_path)
    await reading_stdin(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode() and "Aborted" not in err.decode()

    # A run mid-crawl: recorded as interrupted.
    sites.html(HOST, "/", page("首页", links=["/slow.html"]))
    sites.slow(HOST, "/slow.html", 10, page("慢页面"))
    proc = await start_cli("--config", str(config), "run", "links", cwd=tmp_path)
    deadline = time.monotonic() + 20
    while not sites.count(HOST, "/slow.html") and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert runs(tmp_path / "monitor.db", "links")[-1]["status"] == "interrupted"


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; return it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def test_a_full_reports_or_outbox_disk_is_status_3_in_one_line(
    sites: LocalSites, tmp_path: Path
) -> None:
    sites.html(HOST, "/", page("首页", links=["/gone.html"]))
    config = write_config(tmp_path / "config.yaml", sites.port, duties={})
    code, _, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
    assert code == 1, err
    with tiny_tmpfs(tmp_path / "disk", "256k") as disk:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["bulletin"] = {
            "recipients": ["网站办 <wzb@example.gov.cn>"],
            "smtp": {"host": "127.0.0.1", "port": 9, "security": "none", "retries": 0},
            "reports_dir": str(disk / "reports"),
            "outbox_dir": str(disk / "outbox"),
        }
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        week = ("report", "weekly", "--week", "2026-W48")
        filler = fill(disk)
        code, _, err = await monitor_cli("--config", str(config), *week, cwd=tmp_path)
        assert code == 3, err
        assert "disk full" in one_line_error(err) and str(disk) in err
        # Room for the bulletin, not for the outbox: --send fails with the same one line.
        filler.unlink()
        code, _, err = await monitor_cli("--config", str(config), *week, cwd=tmp_path)
        assert code == 0, err
        fill(disk)
        # (--force: the links run above is not in 2026-W48, and a week without runs is never sent otherwise)
        code, _, err = await monitor_cli("--config", str(config), *week, "--send", "--force", cwd=tmp_path)
        assert code == 3, err
        assert "disk full" in one_line_error(err)


def test_logged_exceptions_are_one_line_unless_debugging() -> None:
    from monitor.app.cli import SafeFormatter

    try:
        raise OSError(28, "No space left on device")
    except OSError:
        record = logging.getLogger("monitor").makeRecord(
            "monitor", logging.ERROR, __file__, 1, "run %d (%s) failed", (7, "links"), sys.exc_info()
        )
    line = SafeFormatter("%(levelname)s %(name)s: %(message)s", tracebacks=False).format(record)
    assert line == "ERROR monitor: run 7 (links) failed: OSError: [Errno 28] No space left on device"
    full = SafeFormatter("%(levelname)s %(name)s: %(message)s", tracebacks=True).format(record)
    assert full.startswith("ERROR monitor: run 7 (links) failed\nTraceback (most recent call last):")
