"""The task-queue cluster for the tests: ``monitor daemon`` and ``monitor worker`` as real subprocesses on a
real PostgreSQL database (tests/pgcluster.py), crawling virtual hosts on a loopback server that records
when each request was in flight."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from tests.daemon_harness import REPO, Daemon
from tests.sites import LocalSites, page


@dataclass
class Timeline:
    """When each request to a host was in flight: (host, start, end) on the monotonic clock."""

    spans: list[tuple[str, float, float]] = field(default_factory=list)

    def count(self, host: str) -> int:
        """Requests a host has answered."""
        return sum(1 for h, _, _ in self.spans if h == host)

    def peak(self, hosts: set[str]) -> int:
        """The most requests to any of ``hosts`` in flight at one moment."""
        events = sorted(
            [(s, 1) for h, s, _ in self.spans if h in hosts]
            + [(e, -1) for h, _, e in self.spans if h in hosts],
            key=lambda ev: (ev[0], ev[1]),  # an end before a start at the same instant
        )
        level = best = 0
        for _, step in events:
            level += step
            best = max(best, level)
        return best


def serve_site(sites: LocalSites, timeline: Timeline, host: str, pages: int, latency: float) -> None:
    """A site of ``pages`` pages (the homepage links to all of them), each answered after ``latency`` s."""

    def answer(body: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            start = time.monotonic()
            await asyncio.sleep(latency)
            timeline.spans.append((host, start, time.monotonic()))
            return web.Response(text=body, content_type="text/html", charset="utf-8")

        return handler

    links = [f"/art/{i}.html" for i in range(pages)]
    sites.route(host, "/", answer(page("首页", links=links)))
    for i, link in enumerate(links):
        sites.route(host, link, answer(page(f"第{i}篇", f"关于做好第{i}项工作的通知，请各单位认真落实。")))


def write_queue_config(
    folder: Path,
    sites: LocalSites,
    hosts: dict[str, str],
    store_url: str,
    *,
    duties: dict[str, Any],
    catch_up: bool = True,
    per_host: int = 2,
    queue: dict[str, Any] | None = None,
) -> Path:
    """A config in ``folder`` for the sites ``{id: host}`` on the loopback server, duties queued."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sites": [
                    {"id": sid, "name": f"测试网站{sid}", "homepage": f"http://{h}/"}
                    for sid, h in hosts.items()
                ],
                "crawl": {
                    "host_overrides": sites.overrides(*hosts.values()),
                    "allow_private": [f"http://{h}" for h in hosts.values()],
                    "timeout_seconds": 6,
                    "retries": 0,
                    "confirm_delay_seconds": 0.05,
                    "per_host_concurrency": per_host,
                    "analysis_workers": 0,
                },
                "darklinks": {"browser": {"enabled": False}},
                "storage": {"database": "monitor.db", "url": store_url},
                "schedule": {"defaults": False, "duties": duties, "catch_up": catch_up, "grace_seconds": 2},
                "queue": {
                    "backend": "procrastinate",
                    # Quick enough for a test, slow enough that a worker busy building the text scanner
                    # (C code holding the GIL for a second or two on a loaded machine) is not taken for
                    # dead.
                    "heartbeat_seconds": 1,
                    "stalled_after_seconds": 6,
                    **(queue or {}),
                },
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


class Process(Daemon):
    """``python -m monitor --config … <args>`` as systemd would run it (the daemon harness, any command)."""

    def __init__(self, config: Path, *args: str, database: Path | None = None) -> None:
        super().__init__(config, abstract=True, database=database)
        self.args = args

    async def start(self) -> Process:
        """Start the process with its notify socket and stderr reader."""
        import socket

        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"govsite-test-{os.getpid()}-{time.monotonic_ns()}"
        self.sock.bind("\0" + name)
        self.sock.setblocking(False)
        env = {**os.environ, "PYTHONPATH": str(REPO), "NOTIFY_SOCKET": "@" + name}
        env.pop("MONITOR_NOW", None)
        env.pop("MONITOR_DB", None)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(self.config),
            *self.args,
            cwd=self.config.parent,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._stderr_reader = asyncio.create_task(self._read_stderr())
        self._tasks = [asyncio.create_task(self._read_notify()), self._stderr_reader]
        return self


def queue_jobs(url: str) -> list[dict[str, Any]]:
    """The task queue's jobs (id, status, attempts, kwargs, worker), oldest first."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()["t"] is None:  # type: ignore[index]
            return []
        return list(
            conn.execute(
                "SELECT id, status::text AS status, attempts, args, lock, queueing_lock "
                "FROM procrastinate_jobs ORDER BY id"
            ).fetchall()
        )


def store_runs(url: str) -> list[dict[str, Any]]:
    """The runs the store on PostgreSQL recorded, oldest first (a fresh connection each time)."""
    from monitor.store.database import Store

    with Store(url) as store:
        return list(reversed(store.runs(limit=1000)))
