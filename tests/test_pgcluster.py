"""The throw-away PostgreSQL cluster the PostgreSQL tests run on (tests/pgcluster.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests import pgcluster
from tests.pgcluster import PgCluster


def test_each_test_gets_its_own_empty_database(pg_cluster: PgCluster, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
    with pg_cluster.database() as other, psycopg.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone() == (0,)


def test_template_databases_are_copied(pg_cluster: PgCluster) -> None:
    def setup(url: str) -> None:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE seeded (x int)")
            conn.execute("INSERT INTO seeded VALUES (42)")

    template = pg_cluster.template("seeded", setup)
    assert pg_cluster.template("seeded", setup) == template  # prepared once
    with pg_cluster.database(template) as url, psycopg.connect(url) as conn:
        assert conn.execute("SELECT x FROM seeded").fetchone() == (42,)


def test_unix_socket_in_the_cluster_folder(pg_cluster: PgCluster) -> None:
    assert pg_cluster.socket_dir.is_relative_to(pg_cluster.root)
    with psycopg.connect(
        host=str(pg_cluster.socket_dir), port=pg_cluster.port, user="postgres", dbname="postgres"
    ) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_without_the_server_programs_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pgcluster, "DEBIAN_BIN_GLOB", str(tmp_path / "*" / "bin"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pgcluster.find_bindir() is None
    with pytest.raises(pgcluster.ClusterUnavailable, match="install Debian's postgresql package"):
        pgcluster.start_cluster()
