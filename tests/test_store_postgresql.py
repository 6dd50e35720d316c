"""The store on PostgreSQL (``storage.url``): migrations from an empty database, the config, the CLI end
to end, the bulletin read from it, and several processes writing at once.

A real throw-away PostgreSQL cluster (tests/pgcluster.py), real ``python -m monitor`` subprocesses, real
sites on 127.0.0.1. The tests that hold for both engines are the ``both_stores`` modules (test_store,
test_alerts_rules, test_bulletin_content…); this module is what only PostgreSQL needs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import yaml

from monitor.bulletin.model import build_bulletin
from monitor.bulletin.render import render_html
from monitor.config import ConfigError, config_from_mapping
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.isoweek import IsoWeek
from monitor.store.backend import StoreMissing
from monitor.store.backend.postgresql import LOCK_PREFIX, redact, translate
from monitor.store.backup import run_backup
from monitor.store.database import MIGRATIONS, Store, open_store
from tests.bulletin_data import bulletin_config, fill_store
from tests.daemon_harness import REPO, Daemon, monitor_cli, write_config
from tests.pgcluster import PgCluster
from tests.sites import LocalSites, page

HOST = "www.t.cn"
TABLES = {"runs", "findings", "events", "posts", "probes", "target_state", "signatures", "monitor_state"}


def pg_config(config: Path, url: str, **storage: object) -> Path:
    """Point a test config's store at PostgreSQL."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["storage"].update({"url": url, **storage})
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


# -- migrations and opening ----------------------------------------------------------------------------


def test_migrations_from_an_empty_database(pg_url: str) -> None:
    with Store(pg_url) as store:
        assert store.postgresql and store.schema_version == len(MIGRATIONS)
        assert store.backend.table_names() >= TABLES
    with psycopg.connect(pg_url) as conn:  # nothing left half-done, the version recorded once
        assert conn.execute("SELECT version FROM monitor_schema").fetchall() == [(len(MIGRATIONS),)]
        # Text compares byte by byte, as SQLite does, whatever the database's own collation.
        collations = conn.execute(
            "SELECT DISTINCT collation_name FROM information_schema.columns "
            "WHERE table_name = 'findings' AND data_type = 'text'"
        ).fetchall()
        assert collations == [("C",)]
    with Store(pg_url) as again:  # a second open finds it up to date
        assert again.schema_version == len(MIGRATIONS)


def test_two_processes_migrate_a_new_database_at_once(pg_url: str) -> None:
    code = "import sys; from monitor.store.database import Store; Store(sys.argv[1]).close(); print('ok')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and out.strip() == "ok", err
    with Store(pg_url) as store:
        assert store.schema_version == len(MIGRATIONS)


def test_a_read_only_open_never_creates_anything(pg_url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreMissing, match="nothing recorded yet"):
        Store.open_readonly(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
    Store(pg_url).close()
    with Store.open_readonly(pg_url) as reader, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        reader.start_run("links", "t", ["links"], datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI))


def test_a_connection_dropped_during_a_long_crawl_is_made_again(pg_url: str) -> None:
    """A crawl holds its connection idle for hours; when the server ends it meanwhile (a restart, a
    firewall), the run's transaction starts on a new one instead of failing the night."""
    clock = FixedClock(datetime(2026, 11, 26, 2, 0), SHANGHAI)
    with Store(pg_url) as store:
        run_id = store.start_run("links", "portal", ["links"], clock.now())
        pid = store.backend.scalar("SELECT pg_backend_pid()")
        with psycopg.connect(pg_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        store.finish_run(run_id, status="ok", now=clock.now())
        assert store.get_run(run_id)["status"] == "ok"
        assert store.backend.scalar("SELECT pg_backend_pid()") != pid


def test_placeholders_and_percent_signs_are_translated_outside_quoted_text() -> None:
    assert translate("SELECT * FROM f WHERE a = ? AND b LIKE '%?%' AND c LIKE ?") == (
        "SELECT * FROM f WHERE a = %s AND b LIKE '%%?%%' AND c LIKE %s"
    )
    assert redact("postgresql://monitor:s3cret@db:5432/monitor") == "postgresql://monitor@db:5432/monitor"


# -- the config ----------------------------------------------------------------------------------------


def test_storage_url_is_validated_at_load_and_never_holds_a_password() -> None:
    ok = config_from_mapping({"storage": {"url": "postgresql://monitor@db.example:5432/monitor"}})
    assert ok.storage.url == "postgresql://monitor@db.example:5432/monitor"
    assert config_from_mapping({"storage": {"url": ""}}).storage.url is None  # ${VAR:-} left empty
    with pytest.raises(ConfigError, match=r"storage\.url.*must be a PostgreSQL URL"):
        config_from_mapping({"storage": {"url": "mysql://db/monitor"}})
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"storage": {"url": "postgresql://monitor:s3cret@db/monitor"}})
    assert "password_env" in str(caught.value) and "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"storage": {"url": "postgresql://db/monitor?password=s3cret"}})
    assert "s3cret" not in str(caught.value)


def test_the_password_comes_from_the_environment(pg_cluster: PgCluster, pg_url: str, tmp_path: Path) -> None:
    role = f"monitor_{os.getpid()}_{time.monotonic_ns()}"  # roles belong to the whole cluster
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-from-env'")
        conn.execute(f"GRANT ALL ON SCHEMA public TO {role}")
    # The cluster trusts every local connection; this database asks the role for its password.
    hba = pg_cluster.datadir / "pg_hba.conf"
    original = hba.read_text()
    try:
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + original)
        with pg_cluster.admin() as admin:
            admin.execute("SELECT pg_reload_conf()")
        url = pg_url.replace("postgresql://postgres@", f"postgresql://{role}@")
        storage = config_from_mapping({"storage": {"url": url, "password_env": "TEST_PG_PASSWORD"}}).storage
        with pytest.raises(ConfigError, match="TEST_PG_PASSWORD is not set"):
            open_store(storage, tmp_path / "monitor.db", env={})
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            open_store(storage, tmp_path / "monitor.db", env={"TEST_PG_PASSWORD": "wrong"})
        with open_store(storage, tmp_path / "monitor.db", env={"TEST_PG_PASSWORD": "pw-from-env"}) as store:
            assert store.schema_version == len(MIGRATIONS) and store.location == url
    finally:
        hba.write_text(original)
        with pg_cluster.admin() as admin:
            admin.execute("SELECT pg_reload_conf()")


# -- the command line end to end -----------------------------------------------------------------------


async def test_a_duty_run_through_the_cli_on_postgresql(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    sites.html(HOST, "/", page("首页", links=["/a.html", "/gone.html"]))
    sites.html(HOST, "/a.html", page("A"))
    config = pg_config(write_config(tmp_path / "config.yaml", sites.port, duties={}), pg_url)
    code, out, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
    assert code == 1, err  # open findings
    assert not (tmp_path / "monitor.db").exists()  # nothing went to a SQLite file
    with Store(pg_url) as store:
        (run,) = store.runs()
        assert (run["duty"], run["status"]) == ("links", "ok")
        (finding,) = store.findings(status="open")
        assert finding["url"] == "http://www.t.cn/gone.html" and finding["kind"] == "homepage_dead_link"
    # Read-only commands read it back from PostgreSQL.
    code, out, err = await monitor_cli("--config", str(config), "findings", "list", cwd=tmp_path)
    assert code == 0 and "gone.html" in out and "共1条" in out, err
    # Fixed: the next run resolves it, in the same database.
    sites.html(HOST, "/gone.html", page("回来了"))
    code, out, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
    assert code == 0, err
    with Store(pg_url) as store:
        assert [e["event"] for e in store.events(finding["fingerprint"])] == ["opened", "resolved"]


async def test_db_on_the_command_line_wins_over_storage_url(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    sites.html(HOST, "/", page("首页"))
    config = pg_config(write_config(tmp_path / "config.yaml", sites.port, duties={}), pg_url)
    local = tmp_path / "local.db"
    code, _, err = await monitor_cli(
        "--config", str(config), "--db", str(local), "run", "links", cwd=tmp_path
    )
    assert code == 0, err
    assert local.is_file()
    with psycopg.connect(pg_url) as conn:  # the PostgreSQL database was never touched
        assert conn.execute("SELECT to_regclass('runs')").fetchone() == (None,)


async def test_a_lock_held_too_long_is_status_3_and_an_unreachable_server_too(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    sites.html(HOST, "/", page("首页", links=["/gone.html"]))
    config = pg_config(write_config(tmp_path / "config.yaml", sites.port, duties={}), pg_url)
    Store(pg_url).close()
    with psycopg.connect(pg_url) as holder:  # another worker is numbering a run and does not finish
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK_PREFIX + "runs"])
        pg_config(config, pg_url, lock_timeout_seconds=1)
        started = time.monotonic()
        code, _, err = await monitor_cli("--config", str(config), "run", "links", cwd=tmp_path)
        assert code == 3, err
        assert f"database {pg_url} is locked" in err and "Traceback" not in err
        assert time.monotonic() - started < 20
        # Readers never wait for writers.
        code, _, err = await monitor_cli("--config", str(config), "status", cwd=tmp_path)
        assert code == 0, err
    # A server that is not there: status 3, one line naming the database, never a password.
    with socket_closed_port() as port:
        url = f"postgresql://monitor@127.0.0.1:{port}/monitor"
        pg_config(config, url, password_env="TEST_PG_PASSWORD")
        code, _, err = await monitor_cli(
            "--config", str(config), "status", cwd=tmp_path, env={"TEST_PG_PASSWORD": "s3cret"}
        )
    assert code == 3, err
    assert f"cannot reach the database {url}" in err and "s3cret" not in err and "Traceback" not in err


class socket_closed_port:
    """A loopback port nobody listens on (bound, never listening, for the block)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


async def test_backups_on_postgresql_are_pg_dumps(sites: LocalSites, pg_url: str, tmp_path: Path) -> None:
    config = pg_config(write_config(tmp_path / "config.yaml", sites.port, duties={}), pg_url)
    Store(pg_url).close()
    code, _, err = await monitor_cli("--config", str(config), "backup", cwd=tmp_path)
    assert code == 2 and "pg_dump" in err and "Traceback" not in err
    # The daemon's monthly duty records itself as skipped, with the reason, and copies nothing.
    clock = FixedClock(datetime(2026, 12, 1, 3, 0), SHANGHAI)
    with Store(pg_url, files=tmp_path / "monitor.db") as store:
        assert run_backup(config_from_mapping({}), tmp_path / "monitor.db", store, clock) is None
        (run,) = store.runs(duty="backup")
        assert run["status"] == "skipped" and "pg_dump" in run["counts"]["reason"]
    assert not (tmp_path / "backups").exists()


@pytest.mark.e2e
async def test_the_daemon_on_postgresql(sites: LocalSites, pg_url: str, tmp_path: Path) -> None:
    """The daemon opens the PostgreSQL store, runs its duties into it, writes its heartbeat there, and
    records the monthly backup as pg_dump's job."""
    sites.html(HOST, "/", page("首页", links=["/gone.html"]))
    config = pg_config(
        write_config(
            tmp_path / "config.yaml", sites.port, duties={"links": "every 1s", "backup": "every 1s"}
        ),
        pg_url,
    )

    def runs(duty: str) -> list[dict]:
        with Store(pg_url) as store:
            return [r for r in store.runs(duty=duty) if r["status"] != "running"]

    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: len(runs("links")) >= 2, what="two links runs in PostgreSQL")
        await daemon.until(lambda: runs("backup"), what="a backup run")
        assert f"opening the database {pg_url}" in daemon.stderr
        assert all(r["status"] == "ok" for r in runs("links"))
        (backup, *_) = runs("backup")
        assert backup["status"] == "skipped" and "pg_dump" in backup["counts"]["reason"]
        with Store(pg_url) as store:
            assert store.get_state("daemon.heartbeat") is not None
            assert [f["url"] for f in store.findings(status="open")] == ["http://www.t.cn/gone.html"]
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait() == 0
    finally:
        await daemon.close()
    assert not (tmp_path / "monitor.db").exists() and not (tmp_path / "backups").exists()


# -- the bulletin --------------------------------------------------------------------------------------


def test_the_bulletin_from_postgresql_is_the_one_from_sqlite(pg_url: str, tmp_path: Path) -> None:
    week = IsoWeek(2026, 48)
    pages = []
    for where in (tmp_path / "monitor.db", pg_url):
        with Store(where, files=tmp_path / "monitor.db") as store:
            clock = fill_store(store)
            pages.append(
                render_html(build_bulletin(store, bulletin_config(), week, clock), xlsx_name="x.xlsx")
            )
    assert "示例县" in pages[0]
    assert pages[1] == pages[0]


# -- several processes writing at once ------------------------------------------------------------------

WRITER = """
import random, sys, time
from datetime import datetime, timedelta
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store

url, seed, rounds, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
while time.time() < start:  # both writers begin together
    time.sleep(0.005)
store = Store(url)
now = datetime(2026, 11, 26, 2, 0).astimezone()
seen = 0
for n in range(rounds):
    links = sorted(rng.sample(range(12), rng.randint(0, 8)))
    findings = [
        Finding(duty="links", kind="dead_link", severity=Severity.WARNING, site="portal",
                identity=f"http://p/{i}", url=f"http://p/{i}", message=f"死链 {i}")
        for i in links
    ]
    run_id = store.start_run("links", "portal", ["links"], now + timedelta(minutes=n))
    store.finish_run(run_id, status="ok", now=now + timedelta(minutes=n), findings=findings,
                     resolution=Resolution(("links",)))
    store.save_posts([], now)
    seen += len(findings)
store.close()
print(seen)
"""


def test_two_processes_writing_at_once_keep_the_lifecycle_whole(pg_url: str) -> None:
    """Two workers apply runs of the same site at the same time: every finding is opened once, its events
    alternate (opened, resolved, reopened…), every sighting is counted, and a reader following the events
    by id (the alerts' cursor) never sees an id appear below one it has already passed."""
    Store(pg_url).close()
    start = time.time() + 1.5
    rounds = 25
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg_url, str(seed), str(rounds), str(start)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    passed = 0  # the highest event id this reader has gone past
    seen_ids: set[int] = set()
    late: list[int] = []
    with Store(pg_url) as reader:
        while any(w.poll() is None for w in writers):
            ids = [int(r[0]) for r in reader.backend.execute("SELECT id FROM events ORDER BY id")]
            late += [i for i in ids if i <= passed and i not in seen_ids]
            seen_ids = set(ids)
            passed = max(ids, default=0)
            time.sleep(0.01)
        sightings = 0
        for w in writers:
            out, err = w.communicate(timeout=60)
            assert w.returncode == 0, err
            sightings += int(out.strip())
        assert late == []
        assert len(reader.runs(limit=1000)) == 2 * rounds
        assert all(r["status"] == "ok" for r in reader.runs(limit=1000))
        findings = list(reader.findings())
        assert sum(f["times_seen"] for f in findings) == sightings
        for f in findings:
            events = [e["event"] for e in reader.events(f["fingerprint"])]
            assert events[0] == "opened" and events.count("opened") == 1, events
            expected = ["opened"] + [("resolved", "reopened")[i % 2] for i in range(len(events) - 1)]
            assert events == expected, events
            assert (f["status"] == "open") == (events[-1] in ("opened", "reopened"))
        # Event ids were handed out and became visible in order: no gaps.
        ids = [int(r[0]) for r in reader.backend.execute("SELECT id FROM events ORDER BY id")]
        assert ids == list(range(1, len(ids) + 1))
