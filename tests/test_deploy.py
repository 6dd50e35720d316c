"""Deployment as deploy/README.md describes it: the shipped config copied to /etc, the unit's environment,
a read-only config folder (``ProtectSystem=strict``) and the state folder as the only writable place.

The run happens in real subprocesses. As root (CI), the config folder is bind-mounted read-only in a private
mount namespace (``unshare -m``), exactly what ``ProtectSystem=strict`` does to /etc; otherwise the folder
is made read-only by its mode bits, which binds a non-root user just the same.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.core.atomicfile import current_umask, write_atomic
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.store.database import Store
from tests.bulletin_data import fill_store

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "monitor.service"
NOW = "2026-11-30T09:00:00+08:00"  # Monday: 2026-W48 has just ended


class Inbox:
    """aiosmtpd handler keeping every delivered message (no AUTH offered: an internal relay)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay() -> Iterator[tuple[int, Inbox]]:
    """A mail relay on loopback that accepts mail without authentication."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def unit_environment(state: Path, cache: Path) -> dict[str, str]:
    """The ``Environment=`` lines of the shipped unit, with its /var paths moved under the test's folder,
    plus what systemd sets itself for ``StateDirectory=``/``CacheDirectory=``."""
    unit = UNIT.read_text(encoding="utf-8")
    env: dict[str, str] = {}
    for line in unit.splitlines():
        if line.startswith("Environment="):
            key, _, value = line[len("Environment=") :].partition("=")
            env[key] = value
    assert "StateDirectory=govsite-monitor" in unit and "WorkingDirectory=/var/lib/govsite-monitor" in unit
    moved = {
        k: v.replace("/var/lib/govsite-monitor", str(state)).replace("/var/cache/govsite-monitor", str(cache))
        for k, v in env.items()
    }
    assert moved["MONITOR_DB"] == str(state / "monitor.db")
    moved["STATE_DIRECTORY"] = str(state)
    moved["CACHE_DIRECTORY"] = str(cache)
    return moved


def shipped_config_for_relay(port: int) -> str:
    """The repository's config.yaml as an administrator adapts it to a relay on ``port`` without TLS or
    login: only the smtp port and security lines change; the host comes from MONITOR_SMTP_HOST."""
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    smtp = text.index("  smtp:\n")
    head, tail = text[:smtp], text[smtp:]
    tail = re.sub(r"(?m)^    port: 587", f"    port: {port}", tail, count=1)
    tail = re.sub(r"(?m)^    security: starttls", "    security: none", tail, count=1)
    assert f"port: {port}" in tail and "security: none" in tail
    return head + tail


class Layout:
    """/etc/govsite-monitor (read-only), /var/lib/govsite-monitor and /var/cache/govsite-monitor in tmp."""

    def __init__(self, root: Path, config_text: str, env_file: str = "") -> None:
        self.etc = root / "etc" / "govsite-monitor"
        self.state = root / "var" / "lib" / "govsite-monitor"
        self.cache = root / "var" / "cache" / "govsite-monitor"
        for folder in (self.etc, self.state, self.cache):
            folder.mkdir(parents=True)
        self.config = self.etc / "config.yaml"
        self.config.write_text(config_text, encoding="utf-8")
        (self.etc / "env").write_text(env_file, encoding="utf-8")

    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """``monitor --config /etc/…/config.yaml ARGS`` with the config folder read-only, in the state
        folder (the unit's WorkingDirectory), with ``env`` (the unit's Environment= and the env file)."""
        command = [sys.executable, "-m", "monitor", "--config", str(self.config), *args]
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
        if os.geteuid() == 0 and shutil.which("unshare"):
            etc = shlex.quote(str(self.etc))
            script = (
                f"mount --bind {etc} {etc} && mount -o remount,ro,bind {etc} && "
                f"touch {etc}/probe 2>/dev/null && {{ echo 'config folder still writable' >&2; exit 99; }}; "
                f"exec {shlex.join(command)}"
            )
            command = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
            return subprocess.run(
                command, cwd=self.state, env=full_env, capture_output=True, text=True, timeout=120
            )
        self.etc.chmod(0o555)
        try:
            return subprocess.run(
                command, cwd=self.state, env=full_env, capture_output=True, text=True, timeout=120
            )
        finally:
            self.etc.chmod(0o755)


def _seed(state: Path) -> None:
    """A database with 2026-W48 history (patrol and columns runs, open problems)."""
    with Store(state / "monitor.db") as store:
        fill_store(store)


def test_shipped_config_passes_check_config_wherever_copied(tmp_path: Path) -> None:
    """deploy/README step 3: `install config.yaml /etc/govsite-monitor/config.yaml`, then check-config."""
    layout = Layout(tmp_path, (REPO / "config.yaml").read_text(encoding="utf-8"))
    env = unit_environment(layout.state, layout.cache)
    done = layout.run("check-config", env=env)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    assert f"reports:   {layout.state / 'reports'}" in done.stdout
    assert "no authentication" in done.stdout  # MONITOR_SMTP_USER not in the env file: a plain relay


def test_weekly_report_is_written_under_the_state_directory_and_mailed(
    tmp_path: Path, relay: tuple[int, Inbox]
) -> None:
    port, inbox = relay
    layout = Layout(tmp_path, shipped_config_for_relay(port), "MONITOR_SMTP_HOST=127.0.0.1\n")
    _seed(layout.state)
    env = {
        **unit_environment(layout.state, layout.cache),
        "MONITOR_SMTP_HOST": "127.0.0.1",
        "MONITOR_NOW": NOW,
    }
    done = layout.run("report", "weekly", "--send", env=env)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "待整改" in done.stdout and "本周已整改" in done.stdout
    week = layout.state / "reports" / "2026-W48"
    from monitor.bulletin.names import document_name, workbook_name
    from monitor.core.isoweek import IsoWeek

    w48 = IsoWeek.parse("2026-W48")
    for name in ("bulletin.html", "bulletin.txt", workbook_name(w48), document_name(w48), "bulletin.eml"):
        assert (week / name).is_file(), name
    assert not (layout.etc / "reports").exists()
    # Written with the unit's UMask=0027 semantics: whatever umask runs them (here the test's), not 0600.
    mask = current_umask()
    assert (week / "bulletin.html").stat().st_mode & 0o777 == 0o666 & ~mask
    assert len(inbox.messages) == 1
    _sender, rcpt, data = inbox.messages[0]
    assert rcpt == ["zwgk@shixian.gov.cn"]
    subject = str(make_header(decode_header(message_from_bytes(data)["Subject"])))
    assert "2026年第48周" in subject


def test_read_only_reports_folder_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """Without $STATE_DIRECTORY (a hand-run command) the relative reports_dir is next to the config: the
    read-only folder gives one clear line and exit status 3, never an OSError traceback."""
    layout = Layout(tmp_path, (REPO / "config.yaml").read_text(encoding="utf-8"))
    _seed(layout.state)
    env = unit_environment(layout.state, layout.cache)
    del env["STATE_DIRECTORY"]
    done = layout.run("report", "weekly", env={**env, "MONITOR_NOW": NOW})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert str(layout.etc / "reports") in errors[0]
    assert ("Read-only file system" if os.geteuid() == 0 else "Permission denied") in errors[0]


def test_send_refuses_a_week_in_which_no_duty_ran(tmp_path: Path, relay: tuple[int, Inbox]) -> None:
    port, inbox = relay
    layout = Layout(tmp_path, shipped_config_for_relay(port))
    with Store(layout.state / "monitor.db"):
        pass  # the daemon's first start: an empty database
    env = {
        **unit_environment(layout.state, layout.cache),
        "MONITOR_SMTP_HOST": "127.0.0.1",
        "MONITOR_NOW": NOW,
    }
    done = layout.run("report", "weekly", "--send", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no duty ran in 2026-W48" in done.stderr and "--force" in done.stderr
    assert inbox.messages == []
    forced = layout.run("report", "weekly", "--send", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert len(inbox.messages) == 1


def test_password_needed_only_with_a_username_and_its_variable_named(
    tmp_path: Path, relay: tuple[int, Inbox]
) -> None:
    port, inbox = relay
    layout = Layout(tmp_path, shipped_config_for_relay(port))
    _seed(layout.state)
    env = {
        **unit_environment(layout.state, layout.cache),
        "MONITOR_SMTP_HOST": "127.0.0.1",
        "MONITOR_SMTP_USER": "monitor@shixian.gov.cn",
        "MONITOR_NOW": NOW,
    }
    done = layout.run("report", "weekly", "--send", env=env)
    assert done.returncode == 3
    assert "MONITOR_SMTP_PASSWORD" in done.stderr and "Traceback" not in done.stderr
    assert inbox.messages == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_paths_agree_with_the_state_layout(tmp_path: Path) -> None:
    """The unit's writable folder is the one the config's relative paths land in; verify passes."""
    unit = UNIT.read_text(encoding="utf-8")
    assert "ProtectSystem=strict" in unit
    assert "ReadWritePaths" not in unit  # nothing but the state and cache folders is writable
    path = tmp_path / "govsite-monitor.service"
    path.write_text(
        unit.replace("/opt/govsite-monitor/venv/bin/monitor ", f"{sys.executable} -m monitor "),
        encoding="utf-8",
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_worker_unit_shares_the_daemons_layout_and_verifies(tmp_path: Path) -> None:
    """deploy/monitor-worker@.service (docs/scale-out.md): the daemon's environment, folders, user and
    hardening, `monitor worker` as the command; an instance of the template passes systemd-analyze."""
    worker = (REPO / "deploy" / "monitor-worker@.service").read_text(encoding="utf-8")
    daemon = UNIT.read_text(encoding="utf-8")

    def settings(text: str, keys: tuple[str, ...]) -> list[str]:
        return [line for line in text.splitlines() if line.split("=", 1)[0] in keys]

    shared = (
        "Environment", "EnvironmentFile", "StateDirectory", "CacheDirectory", "WorkingDirectory", "User",
        "Group", "ProtectSystem", "NoNewPrivileges", "SystemCallFilter", "RestrictAddressFamilies", "UMask",
    )  # fmt: skip
    assert settings(worker, shared) == settings(daemon, shared)
    assert "ReadWritePaths" not in worker
    (exec_start,) = [line for line in worker.splitlines() if line.startswith("ExecStart=")]
    assert exec_start.endswith("--config /etc/govsite-monitor/config.yaml worker --concurrency 1")
    template = tmp_path / "govsite-monitor-worker@.service"
    template.write_text(
        worker.replace("/opt/govsite-monitor/venv/bin/monitor ", f"{sys.executable} -m monitor "),
        encoding="utf-8",
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "govsite-monitor-worker@1.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_web_console_unit_verifies_and_shares_the_daemons_state(tmp_path: Path) -> None:
    """deploy/monitor-web.service: verify passes; same user, database and state folder as the daemon; it
    listens where the config says (loopback by default), never on an address written into the unit."""
    web_unit = (REPO / "deploy" / "monitor-web.service").read_text(encoding="utf-8")
    daemon_unit = UNIT.read_text(encoding="utf-8")
    for line in ("StateDirectory=govsite-monitor", "User=govsite-monitor", "ProtectSystem=strict",
                 "Environment=MONITOR_DB=/var/lib/govsite-monitor/monitor.db"):  # fmt: skip
        assert line in web_unit and line in daemon_unit, line
    assert "ReadWritePaths" not in web_unit and "--host" not in web_unit
    path = tmp_path / "govsite-monitor-web.service"
    path.write_text(
        web_unit.replace("/opt/govsite-monitor/venv/bin/monitor ", f"{sys.executable} -m monitor "),
        encoding="utf-8",
    )
    verify = ["systemd-analyze", "verify", str(path)]
    done = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_files_honour_the_umask_and_private_ones_stay_private(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "bulletin.html", "<p>通报</p>")
        write_atomic(tmp_path / "mail.eml", b"secret", private=True)
        assert current_umask() == 0o027
    finally:
        os.umask(old)
    assert (tmp_path / "bulletin.html").stat().st_mode & 0o777 == 0o640  # the group (office) may read it
    assert (tmp_path / "mail.eml").stat().st_mode & 0o777 == 0o600


async def test_daemon_first_start_on_an_empty_database_sends_nothing(
    tmp_path: Path, relay: tuple[int, Inbox]
) -> None:
    """The ``report`` duty on an empty database: nothing rendered, nothing mailed, a reason recorded."""
    from monitor.bulletin import weekly_job
    from tests.bulletin_data import bulletin_config

    port, inbox = relay
    config = bulletin_config(
        reports_dir=str(tmp_path / "reports"),
        smtp={"host": "127.0.0.1", "port": port, "security": "none"},
    )
    clock = FixedClock(datetime(2026, 11, 30, 8, 30), SHANGHAI)
    with Store(tmp_path / "monitor.db") as store:
        counts = await weekly_job(config, store, clock)
        assert counts["skipped"] == "no duty ran in 2026-W48"
        assert not (tmp_path / "reports").exists() and inbox.messages == []
        # A week with data that has ended is sent.
        fill_store(store)
        counts = await weekly_job(config, store, clock)
    assert counts["mail"] == "sent" and len(inbox.messages) == 1


async def test_newmedia_without_accounts_is_skipped_not_failed(tmp_path: Path) -> None:
    from monitor.config import config_from_mapping
    from monitor.runner import run_duty

    clock = FixedClock(datetime(2026, 12, 1, 9, 0), SHANGHAI)
    with Store(tmp_path / "monitor.db") as store:
        (result,) = await run_duty("newmedia", config_from_mapping({}), store, clock)
        assert result.status == "skipped"
        assert store.get_run(result.run_id)["status"] == "skipped"
        assert store.last_success("newmedia") is not None  # the daemon's catch-up does not repeat it


def test_wrapper_runs_monitor_with_the_service_environment(tmp_path: Path) -> None:
    """deploy/govsite-monitor: the env file read as systemd reads it (no shell expansion), the unit's
    database, state and cache folders; its defaults are the unit's paths."""
    wrapper = REPO / "deploy" / "govsite-monitor"
    text = wrapper.read_text(encoding="utf-8")
    unit = UNIT.read_text(encoding="utf-8")
    assert (
        "GOVSITE_MONITOR_STATE:-/var/lib/govsite-monitor}" in text
        and "StateDirectory=govsite-monitor" in unit
    )
    assert (
        "GOVSITE_MONITOR_CACHE:-/var/cache/govsite-monitor}" in text
        and "CacheDirectory=govsite-monitor" in unit
    )
    assert "GOVSITE_MONITOR_CONFIG:-/etc/govsite-monitor/config.yaml}" in text
    assert "--config /etc/govsite-monitor/config.yaml daemon" in unit
    layout = Layout(
        tmp_path,
        (REPO / "config.yaml").read_text(encoding="utf-8"),
        "# secrets\nMONITOR_SMTP_USER=monitor@shixian.gov.cn\nMONITOR_SMTP_PASSWORD=p$ss word\n",
    )
    import pwd

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GOVSITE_MONITOR_USER": pwd.getpwuid(os.geteuid()).pw_name,
        "GOVSITE_MONITOR_BIN": str(Path(sys.executable).parent / "monitor"),
        "GOVSITE_MONITOR_CONFIG": str(layout.config),
        "GOVSITE_MONITOR_ENV_FILE": str(layout.etc / "env"),
        "GOVSITE_MONITOR_STATE": str(layout.state),
        "GOVSITE_MONITOR_CACHE": str(layout.cache),
    }
    done = subprocess.run(
        ["sh", str(wrapper), "check-config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"database:  {layout.state / 'monitor.db'}" in done.stdout
    assert f"reports:   {layout.state / 'reports'}" in done.stdout
    assert "login monitor@shixian.gov.cn, password from $MONITOR_SMTP_PASSWORD (set here)" in done.stdout
