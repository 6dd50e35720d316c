"""The console as users meet it, for the browser tests, the screenshots and the benchmark: a filled store
with accounts, ``monitor web`` as a real subprocess on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from monitor.core.clock import FixedClock
from monitor.core.findings import EvidenceImage, Finding, Severity
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Resolution, Store
from tests.console_data import NOW, SITES, console_config_mapping, fill_console_store

CHROMIUM = "/usr/bin/chromium"
#: Headless Chromium as the issue asks: no sandbox (root in CI), nothing fetched from the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
PASSWORDS = {"admin": "admin-password-23", "office": "office-password-23", "jyj": "jyj-password-23"}


def png(width: int = 320, height: int = 180, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A plain PNG (one colour), made by hand so the tests need no imaging library."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def monitor_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``monitor`` subprocess: the clock pinned to the filled store's ``NOW``."""
    env = {**os.environ, "MONITOR_NOW": NOW.isoformat(), "MONITOR_LANG": "en", "PYTHONUNBUFFERED": "1"}
    env.pop("MONITOR_DB", None)
    env.update(extra or {})
    return env


def write_config(folder: Path, mapping: dict[str, Any]) -> Path:
    """``config.yaml`` in ``folder``."""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    return path


def add_account(
    folder: Path, name: str, role: str, unit: str | None = None, password: str | None = None
) -> None:
    """``monitor web adduser`` as an operator runs it (password on stdin)."""
    args = [sys.executable, "-m", "monitor", "--config", str(folder / "config.yaml"), "web", "adduser", name]
    args += ["--role", role] + (["--unit", unit] if unit else [])
    done = subprocess.run(
        args,
        input=(password or PASSWORDS[name]) + "\n",
        capture_output=True,
        text=True,
        env=monitor_env(),
        cwd=folder,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def filled_console(folder: Path, total: int, *, screenshot: bool = False, bulletin: bool = False) -> str:
    """A config, a store with ``total`` findings and the accounts admin, office and jyj (县教育局);
    returns the fingerprint of a 县教育局 finding (with a screenshot when asked)."""
    write_config(folder, console_config_mapping("monitor.db"))
    with Store(folder / "monitor.db") as store:
        fill_console_store(store, total)
        when = NOW - timedelta(hours=2)
        run = store.start_run("darklinks", "portal", ("darklinks",), when)
        home = SITES["portal"][1]
        finding = Finding(
            duty="darklinks",
            kind="dark_link",
            severity=Severity.VETO,
            site="portal",
            identity=f"{home}index.html#hidden",
            url=f"{home}index.html",
            message="首页存在隐藏链接，指向博彩网站",
            unit="县教育局",
            sources=(f"{home}index.html",),
            evidence={"snippet": '<div style="display:none"><a href="http://bad.example/">彩票</a></div>'},
            images=(EvidenceImage("浏览器视图", png()),) if screenshot else (),
        )
        store.finish_run(
            run,
            status="ok",
            now=when,
            findings=[finding],
            resolution=Resolution(("darklinks",), lambda _i: False),
        )
        if bulletin:
            from monitor.bulletin.publish import render_report
            from monitor.config import config_from_mapping

            config = config_from_mapping(console_config_mapping("monitor.db"), base_dir=folder)
            render_report(
                store,
                config,
                IsoWeek.of(NOW.date()).shift(-1),
                FixedClock(NOW.replace(tzinfo=None), NOW.tzinfo),
            )  # type: ignore[arg-type]
    for name, role, unit in (
        ("admin", "admin", None),
        ("office", "office", None),
        ("jyj", "department", "县教育局"),
    ):
        add_account(folder, name, role, unit)
    return finding.fingerprint


class ConsoleServer:
    """``monitor web`` on a free loopback port (port 0: the OS picks; the console prints its address)."""

    def __init__(
        self, folder: Path, *, env: Mapping[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.folder = folder
        self.env = monitor_env(env)
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.log: list[str] = []

    def __enter__(self) -> ConsoleServer:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(self.folder / "config.yaml"),
                "web",
                "--port",
                "0",
                *self.args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=self.folder,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks until the console says where it listens (or exits)
            self.log.append(line)
            if line.startswith("console: "):
                self.url = line.split()[1].rstrip("/")
                break
        if not self.url:
            self.proc.wait(timeout=10)
            raise RuntimeError("monitor web did not start:\n" + "".join(self.log))
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def login(self, page: Any, username: str, password: str | None = None) -> None:
        """Log in through the form in a Playwright page."""
        page.goto(self.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password or PASSWORDS[username])
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
