"""A throw-away PostgreSQL cluster for the tests: Debian's ``postgresql`` server binaries, run in a temporary
folder, on a free loopback port with its unix socket in that folder, torn down at the end of the session.

Why not a server the machine already runs: CI starts on a fresh machine where nothing runs, and a test
must never touch a database it did not make. Why not a Python package that ships a server: none installs
from the package registries alone; Debian's ``postgresql`` does (``.ci/run`` installs it).

``initdb`` refuses to run as root (CI runs as root), so there the server runs as the ``postgres`` user the
Debian package creates (through ``runuser``, or ``setpriv``), in a folder handed over to it. The test
process connects as the cluster's superuser, ``postgres``, with ``trust`` authentication: the cluster
listens on 127.0.0.1 and its own socket folder only, and lives as long as the test session.

Each test has its database to itself: the migrated one is made once per session as a copy of a template
(``CREATE DATABASE … TEMPLATE …``) and emptied before every test (:meth:`PgCluster.reused`: TRUNCATE …
RESTART IDENTITY, connections a previous test left open ended first), a blank one gets a new ``public``
schema (:meth:`PgCluster.blank`); :meth:`PgCluster.database` makes a fresh copy when a test needs several.
Tests of one session run one after the other, and under pytest-xdist every worker process has its own
session and so its own cluster (its own folder and port): nothing is shared between workers, so tests
stay isolated and may run in parallel.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: Where Debian's ``postgresql-NN`` packages put the server programs (newest version wins).
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The operating-system user that runs the server when the tests run as root (Debian creates it).
SERVER_USER = "postgres"
#: The cluster's superuser (``initdb -U``); the tests connect as this role.
SUPERUSER = "postgres"

# Settings for a disposable cluster: no durability (fsync off: a crash loses nothing we keep), small
# memory, quick checkpoints out of the way; enough connections for the multi-process tests.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "60",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


class ClusterUnavailable(Exception):
    """The PostgreSQL server programs are not installed here (the only reason a PostgreSQL test skips)."""


def find_bindir() -> Path | None:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``: Debian's newest version, else ``$PATH``."""

    def version(path: str) -> tuple[int, ...]:
        number = Path(path).parent.name
        return tuple(int(p) for p in re.findall(r"\d+", number)) or (0,)

    for folder in sorted(glob.glob(DEBIAN_BIN_GLOB), key=version, reverse=True):
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One running throw-away cluster: make databases in it, hand their URLs to the code under test.

    ``url(name)`` is an ordinary ``postgresql://`` URL over loopback TCP (what a user writes in
    ``storage.url``; subprocesses and other libraries take it as it is); ``socket_dir`` is the folder of
    the unix socket, for tests that connect through it (``?host=<socket_dir>``).
    """

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.datadir = root / "data"
        self.socket_dir = root / "socket"
        self.logfile = root / "server.log"
        self.port = 0
        self._as_server_user: list[str] = []
        self._templates: dict[str, str] = {}
        self._reused: dict[str, str] = {}
        self._lock = threading.Lock()
        self.started_in: float = 0.0
        self._watcher: subprocess.Popen[bytes] | None = None

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> PgCluster:
        """initdb + pg_ctl start (as the ``postgres`` user when we are root); returns self when ready."""
        began = time.monotonic()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            try:
                server = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL "
                    "(Debian's postgresql package creates it)"
                ) from None
            for path in (self.root, self.socket_dir):
                os.chown(path, server.pw_uid, server.pw_gid)
            self.root.chmod(0o700)
            if shutil.which("runuser"):
                self._as_server_user = ["runuser", "-u", SERVER_USER, "--"]
            else:
                self._as_server_user = [
                    "setpriv",
                    f"--reuid={server.pw_uid}",
                    f"--regid={server.pw_gid}",
                    "--init-groups",
                    "--",
                ]
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        # A port can be taken between finding it free and the server binding it: try a few.
        for attempt in range(5):
            self.port = _free_port()
            settings = {
                **_SETTINGS,
                "port": str(self.port),
                "unix_socket_directories": f"'{self.socket_dir}'",
            }
            conf = "".join(f"{k} = {v}\n" for k, v in settings.items())
            # initdb made this file as the server's user; rewriting it in place keeps its owner.
            (self.datadir / "postgresql.auto.conf").write_text(conf)
            done = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                check=False,
            )
            if done.returncode == 0:
                break
            if attempt == 4 or "already in use" not in self._log_tail():
                raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}{self._log_tail()}")
        self.started_in = time.monotonic() - began
        self._watch()
        return self

    def _watch(self) -> None:
        """A small shell loop that stops the server and removes its folder should the test process die
        without its teardown (killed, out of memory): a server never outlives the session."""
        stop = " ".join(
            shlex.quote(a)
            for a in [
                *self._as_server_user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-m",
                "immediate",
                "-w",
                "stop",
            ]
        )
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(self.root))}"
        )
        self._watcher = subprocess.Popen(
            ["sh", "-c", script],
            cwd="/",
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its folder."""
        if self.port:
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                check=False,
            )
            self.port = 0
        shutil.rmtree(self.root, ignore_errors=True)
        if self._watcher is not None:  # its job is done
            self._watcher.terminate()
            self._watcher.wait(timeout=10)
            self._watcher = None

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        done = subprocess.run(
            [*self._as_server_user, *argv],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- databases ----------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """A ``postgresql://`` URL of one database of this cluster (loopback TCP, superuser, no password)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def admin(self) -> Any:
        """An autocommit psycopg connection to the ``postgres`` database (through the unix socket)."""
        import psycopg

        return psycopg.connect(
            dbname="postgres", user=SUPERUSER, host=str(self.socket_dir), port=self.port, autocommit=True
        )

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        """A new database (empty, or a copy of ``template``); returns its name."""
        from psycopg import sql

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        with self._lock, self.admin() as conn:
            conn.execute(query)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connection still open to it (a subprocess's, a leaked one)."""
        from psycopg import sql

        if not self.port:
            return
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def template(self, key: str, setup: Callable[[str], None]) -> str:
        """A database prepared once per session by ``setup(url)`` (e.g. migrated), to copy per test.

        Returns its name; pass it as ``create_database(template=…)``. ``setup`` must close every
        connection it opened: PostgreSQL copies a template only while nobody is connected to it.
        """
        with self._lock:
            if key in self._templates:
                return self._templates[key]
        slug = re.sub(r"[^a-z0-9_]", "_", key.lower())
        name = self.create_database(name=f"tpl_{slug}_{uuid.uuid4().hex[:6]}")
        setup(self.url(name))
        with self._lock:
            self._templates.setdefault(key, name)
            return self._templates[key]

    def reused(self, key: str, setup: Callable[[str], None]) -> str:
        """The URL of a database prepared by ``setup`` (as :meth:`template`), kept from test to test and
        emptied before each: every table but the schema version truncated, ids numbered from 1 again, any
        connection a previous test left open ended first. A test sees it exactly as a fresh copy, for a
        TRUNCATE instead of a CREATE DATABASE (the one costs milliseconds, the other a second on a loaded
        machine). Tests of one session run one after the other, so one database serves them all."""
        name = self._reused.get(key)
        if name is None:
            name = self.create_database(self.template(key, setup))
            self._reused[key] = name
            return self.url(name)
        self.empty(name)
        return self.url(name)

    def blank(self) -> str:
        """The URL of a database with nothing in it, kept from test to test like :meth:`reused`: before
        each test its ``public`` schema is dropped and made again (and leftover connections ended)."""
        import psycopg

        name = self._reused.get("")
        if name is None:
            name = self.create_database()
            self._reused[""] = name
            return self.url(name)
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return self.url(name)

    def empty(self, name: str, keep: tuple[str, ...] = ("monitor_schema",)) -> None:
        """Truncate every table of a database but ``keep``, restarting its id sequences."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
            tables = sorted(r[0] for r in rows if r[0] not in keep)
            if tables:
                names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))

    @contextlib.contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A fresh database for one test; yields its URL and drops it afterwards."""
        name = self.create_database(template)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)


def start_cluster() -> PgCluster:
    """Start a cluster in a new temporary folder; :class:`ClusterUnavailable` without the server programs.

    The folder is made with :func:`tempfile.mkdtemp` (under ``/tmp``), not under pytest's own temporary
    root: that one is private to the user running the tests, and the server may run as another user.
    """
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailable(
            "PostgreSQL server programs (initdb, pg_ctl) not found under "
            f"{DEBIAN_BIN_GLOB} or on PATH: install Debian's postgresql package"
        )
    cluster = PgCluster(bindir, Path(tempfile.mkdtemp(prefix="govsite-pg-")))
    atexit.register(cluster.stop)  # a session that dies without its teardown still stops its server
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise
