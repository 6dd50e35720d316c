"""A real ``python -m monitor daemon`` subprocess with a real $NOTIFY_SOCKET, for the daemon tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]
#: nanosleep and clock_nanosleep, as /proc/PID/task/TID/syscall numbers them.
_SLEEP_SYSCALLS = {"x86_64": {"35", "230"}, "aarch64": {"101", "115"}}


def write_config(
    path: Path, port: int, *, duties: dict[str, Any], crawl: dict[str, Any] | None = None, **schedule: Any
) -> Path:
    """A config for host www.t.cn on the local server, with only ``duties`` scheduled (and ``crawl``
    settings over the quick defaults)."""
    path.write_text(
        yaml.safe_dump(
            {
                "sites": [{"id": "t", "name": "测试县政府网站", "homepage": "http://www.t.cn/"}],
                "crawl": {
                    "host_overrides": {"www.t.cn": f"127.0.0.1:{port}"},
                    "timeout_seconds": 6,
                    "retries": 0,
                    "confirm_delay_seconds": 0.05,
                    **(crawl or {}),
                },
                "storage": {"database": "monitor.db"},
                "schedule": {"defaults": False, "duties": duties, **schedule},
                "backup": {"directory": "backups", "keep": 3},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


class Daemon:
    """The daemon as systemd runs it: a subprocess, a notify socket, stderr collected as it comes."""

    def __init__(
        self,
        config: Path,
        *,
        abstract: bool = False,
        watchdog_usec: int | None = None,
        database: Path | None = None,
    ) -> None:
        self.config = config
        self.database = database or config.parent / "monitor.db"
        self.notifications: list[dict[str, str]] = []
        self.stderr = ""
        self.stderr_at: list[tuple[float, str]] = []  # (monotonic time, line) as each line arrived
        self._abstract = abstract
        self._watchdog_usec = watchdog_usec
        self.proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Daemon:
        """Start the process with a notify socket of our own."""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if self._abstract:
            name = f"govsite-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            address = "@" + name
        else:
            address = str(self.config.parent / "notify.sock")
            Path(address).unlink(missing_ok=True)  # left by an earlier daemon of the same test
            self.sock.bind(address)
        self.sock.setblocking(False)
        env = {**os.environ, "PYTHONPATH": str(REPO), "NOTIFY_SOCKET": address}
        env.pop("MONITOR_NOW", None)
        env.pop("MONITOR_DB", None)
        if self._watchdog_usec:
            env["WATCHDOG_USEC"] = str(self._watchdog_usec)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(self.config),
            "daemon",
            cwd=self.config.parent,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._stderr_reader = asyncio.create_task(self._read_stderr())
        self._tasks = [asyncio.create_task(self._read_notify()), self._stderr_reader]
        return self

    def _record(self, data: bytes) -> None:
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        fields["_at"] = str(time.monotonic())
        self.notifications.append(fields)

    async def _read_notify(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._record(await loop.sock_recv(self.sock, 65536))

    def _drain_notify(self) -> None:
        """Record the datagrams already queued on the socket (the reader task may not have run yet)."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            self._record(data)

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr += line.decode(errors="replace")
            self.stderr_at.append((time.monotonic(), line.decode(errors="replace")))

    @property
    def pid(self) -> int:
        """The daemon's pid."""
        assert self.proc is not None
        return self.proc.pid

    def sleeping_threads(self) -> int:
        """Threads of the daemon blocked in a sleep system call right now (read from /proc).

        SQLite's busy handler waits for a lock held by another process in short sleeps, so a thread
        found sleeping there is a thread waiting for the database lock: an event to wait on instead of a
        fixed pause. (The event loop waits in epoll, idle pool threads on a futex: neither counts.)"""
        sleeps = _SLEEP_SYSCALLS.get(platform.machine())
        assert sleeps is not None, f"no sleep syscall numbers known for {platform.machine()}"
        count = 0
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                number = (task / "syscall").read_text().split()[0]
            except (OSError, IndexError):
                continue
            count += number in sleeps
        return count

    def sent(self, key: str, value: str | None = None) -> list[dict[str, str]]:
        """Notifications carrying ``key`` (with ``value``, when given)."""
        return [n for n in self.notifications if key in n and (value is None or n[key] == value)]

    async def until(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
        """Poll until ``predicate()`` is truthy; fail with the daemon's stderr otherwise.

        The deadline is for an event that must come, not a speed bound: on a loaded 2-core CI machine a
        reload (a config validated in a thread) has been seen to take longer than 6 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.proc is not None and self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or predicate}\n--- stderr ---\n{self.stderr}")

    async def until_log(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait for a stderr line matching ``pattern``."""
        return await self.until(lambda: re.search(pattern, self.stderr), timeout, f"log {pattern!r}")

    def signal(self, sig: signal.Signals) -> None:
        """Send a signal."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 6.0) -> int:
        """Wait for exit; return the exit status."""
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        # Everything the daemon said is in once its stderr reader reaches EOF: the pipe closes with the
        # process and the children that inherited it (analysis workers, the browser driver end with their
        # parent). Every notification it sent is already queued on our socket.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_reader), timeout)
        self._drain_notify()
        return code

    async def close(self) -> None:
        """Kill if still running; stop the readers; close the socket."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.sock.close()


def runs(database: Path, duty: str | None = None) -> list[dict[str, Any]]:
    """Runs recorded in the database, oldest first (a fresh connection each time)."""
    if not database.exists():
        return []
    with Store(database) as store:
        return list(reversed(store.runs(duty=duty, limit=1000)))


async def monitor_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``python -m monitor …`` as a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("MONITOR_DB", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(), err.decode()
