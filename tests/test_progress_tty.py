"""On a terminal, `monitor run links` shows live progress; the summary follows."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
from pathlib import Path

from tests.sites import LocalSites, page

REPO = Path(__file__).resolve().parents[1]


async def test_live_progress_on_a_terminal(sites: LocalSites, tmp_path: Path) -> None:
    sites.html("127.0.0.1", "/", page("首页", links=[f"/p{i}.html" for i in range(30)]))
    for i in range(30):
        sites.slow("127.0.0.1", f"/p{i}.html", 0.1, page(f"页面{i}"))
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--db",
        str(tmp_path / "m.db"),
        "run",
        "links",
        f"http://127.0.0.1:{sites.port}/",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160", "TERM": "xterm"},
        stdin=slave,
        stdout=asyncio.subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    loop = asyncio.get_running_loop()

    def read() -> None:
        try:
            while data := os.read(master, 65536):
                chunks.append(data)
        except OSError:
            pass

    reader = loop.run_in_executor(None, read)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    await asyncio.wait_for(reader, 10)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "pages crawled" in screen and "links checked" in screen
    assert "抓取31个页面" in out.decode()


async def test_site_level_duties_show_progress_on_a_terminal(sites: LocalSites, tmp_path: Path) -> None:
    """Columns, availability and new media show a live line too, not nothing until they finish."""
    sites.slow("127.0.0.1", "/", 1.5, page("首页", links=["/a.html"]))
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--db",
        str(tmp_path / "m.db"),
        "run",
        "availability",
        f"http://127.0.0.1:{sites.port}/",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160", "TERM": "xterm"},
        stdin=slave,
        stdout=asyncio.subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    loop = asyncio.get_running_loop()

    def read() -> None:
        try:
            while data := os.read(master, 65536):
                chunks.append(data)
        except OSError:
            pass

    reader = loop.run_in_executor(None, read)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    await asyncio.wait_for(reader, 10)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode in (0, 1), screen[-2000:]
    assert "availability" in screen and "requests" in screen and "elapsed" in screen
    assert "站点可用性监测" in out.decode()
