"""Shared fixtures: real local servers, real SQLite files, a pinned clock."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.core.clock import SHANGHAI, FixedClock
from monitor.store.database import Store
from tests.pgcluster import ClusterUnavailable, PgCluster, start_cluster
from tests.sites import LocalSites

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Derived-data cache (monitor.core.diskcache) in a per-session folder, never the user's ~/.cache;
    inherited by the subprocesses the tests start (CLI, daemon, analysis workers)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MONITOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture
async def sites() -> AsyncIterator[LocalSites]:
    """Virtual hosts on a real aiohttp server on 127.0.0.1."""
    server = await LocalSites().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def clock() -> FixedClock:
    """The run's clock pinned to a Thursday morning in Shanghai."""
    return FixedClock(datetime(2026, 11, 26, 9, 30), SHANGHAI)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite database file."""
    s = Store(tmp_path / "monitor.db")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throw-away PostgreSQL cluster for the whole session (tests/pgcluster.py): started on first use,
    stopped and removed at the end. Skips only where Debian's PostgreSQL server programs are missing."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own for one test: its ``postgresql://`` URL."""
    with pg_cluster.database() as url:
        yield url


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Webhook receivers on loopback for the alert tests (tests/webhooks.py), nothing off loopback."""
    from tests.webhooks import serve_webhooks

    yield from serve_webhooks(tmp_path, monkeypatch)


#: End-to-end test modules: the demo county through ``monitor demo`` / ``run_duty``, the daemon as a real
#: subprocess, and the real browser. ``pytest -m "not e2e"`` is the quick loop; CI runs everything. A single
#: end-to-end test in another module carries ``@pytest.mark.e2e`` itself.
E2E_MODULES = frozenset(
    {
        "test_demo_run",
        "test_demo_columns",
        "test_demo_darklinks",
        "test_demo_newmedia",
        "test_demo_text",
        "test_demo_availability",
        "test_daemon",
        "test_alerts_daemon",
        "test_daemon_stop",
        "test_darklinks_browser",
        "test_darklinks_browser_pass",
        "test_links_browser",
        "test_bulletin_browser",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end modules' tests ``e2e``."""
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rsplit(".", 1)[-1] in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)


@contextlib.contextmanager
def tiny_tmpfs(mount: Path, size: str = "64k") -> Iterator[Path]:
    """A real size-capped tmpfs at ``mount`` (CI runs as root): a disk that fills up for real.

    Skips the calling test where mounting is not permitted.
    """
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
