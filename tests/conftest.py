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


#: The store's engines. A test module marked ``both_stores`` (``pytestmark = pytest.mark.both_stores``)
#: runs each of its tests that use ``store``/``store_url`` once per engine; the others use SQLite.
STORE_BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the ``both_stores`` tests on SQLite and on PostgreSQL."""
    if "store_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store_backend", STORE_BACKENDS, indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """The store's engine for this test: ``sqlite`` unless the test is parametrized over both."""
    return str(getattr(request, "param", "sqlite"))


def _migrate(url: str) -> None:
    Store(url).close()


@pytest.fixture
def store_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the test's store is: a SQLite file path, or the URL of a migrated PostgreSQL database that
    is the test's alone while it runs (emptied before each test: ``PgCluster.reused``)."""
    if store_backend == "sqlite":
        yield str(tmp_path / "monitor.db")
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    yield cluster.reused("migrated", _migrate)


def open_test_store(url: str, tmp_path: Path, **kwargs: Any) -> Store:
    """A Store at ``store_url`` (a PostgreSQL one keeps its evidence files in ``tmp_path``, named after
    ``monitor.db`` like a SQLite store's)."""
    files = tmp_path / "monitor.db" if url.startswith("postgresql://") else None
    return Store(url, files=files, **kwargs)


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """A real store: a SQLite database file, or (``both_stores`` tests) also a PostgreSQL database."""
    s = open_test_store(store_url, tmp_path)
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
    _PG_STARTS.append(cluster.started_in)
    try:
        yield cluster
    finally:
        cluster.stop()


#: Start-up times of this session's PostgreSQL clusters (seconds), for the summary line.
_PG_STARTS: list[float] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what the throw-away PostgreSQL cluster cost (issue 19 keeps an eye on the suite's time)."""
    if _PG_STARTS:
        terminalreporter.write_line(
            f"PostgreSQL test cluster (tests/pgcluster.py): started in {max(_PG_STARTS):.2f} s"
        )


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The ``postgresql://`` URL of an empty PostgreSQL database, the test's alone while it runs (made
    blank again before each test: ``PgCluster.blank``; ``pg_cluster.database()`` makes more)."""
    return pg_cluster.blank()


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Webhook receivers on loopback for the alert tests (tests/webhooks.py), nothing off loopback."""
    from tests.webhooks import serve_webhooks

    yield from serve_webhooks(tmp_path, monkeypatch)


#: End-to-end test modules: the demo county through ``monitor demo`` / ``run_duty``, the daemon as a real
#: subprocess, the real browser, and a whole duty over the saved real pages (tests/README.md).
#: ``pytest -m "not e2e"`` is the quick loop; CI runs everything. A single end-to-end test in another module
#: carries ``@pytest.mark.e2e`` itself.
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
        "test_recheck",
        "test_darklinks_browser",
        "test_darklinks_browser_pass",
        "test_links_browser",
        "test_bulletin_browser",
        "test_darklinks_realworld",
    }
)


# The longest modules, longest first (module wall time in a full run, `--durations`). The suite runs on two
# xdist workers with `--dist loadscope` (a module stays on one worker); handing the long modules out first
# keeps one worker from starting a 70-second module while the other has nothing left to do (longest
# processing time first). A module missing here only runs later, never differently.
LONG_MODULES_FIRST = (
    "test_demo_run",
    "test_queue",
    "test_text_typolm",
    "test_darklinks_browser",
    "test_demo_darklinks",
    "test_demo_text",
    "test_daemon_stop",
    "test_daemon",
    "test_console_browser",
    "test_cli",
    "test_exit_codes",
    "test_console",
    "test_tenants",
    "test_store_postgresql",
    "test_recheck",
)


def _module_name(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    return module.__name__.rsplit(".", 1)[-1] if module is not None else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end modules' tests ``e2e`` and hand the longest modules out first."""
    for item in items:
        if _module_name(item) in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)
    rank = {name: i for i, name in enumerate(LONG_MODULES_FIRST)}
    items[:] = sorted(items, key=lambda item: rank.get(_module_name(item), len(rank)))  # stable sort


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
