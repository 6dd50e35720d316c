"""How long ``Store.finish_run`` takes to apply N findings (all new, then all seen again).

Findings are written in one transaction at the end of a run; this checks that the per-finding cost
stays small for the thousands of findings a big site can have.

Usage: ``PYTHONPATH=$PWD .venv/bin/python bench/store_bench.py [--n 1000 5000 20000]`` (SQLite);
``--postgresql`` runs the same on a throw-away PostgreSQL cluster (tests/pgcluster.py: Debian's
``postgresql`` server programs), ``--url postgresql://…`` on an existing, empty database.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.core.clock import SHANGHAI
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store


def findings(n: int) -> list[Finding]:
    """N dead-link findings shaped like the links check's."""
    return [
        Finding(
            duty="links",
            kind="dead_link",
            severity=Severity.WARNING,
            site="bench",
            identity=f"http://www.test.gov.cn/content/missing-{i}.html",
            url=f"http://www.test.gov.cn/content/missing-{i}.html",
            message=f"链接“已撤稿文章{i}”无法访问：HTTP 404（页面不存在）。",
            unit="县政府办公室",
            sources=tuple(f"http://www.test.gov.cn/content/{j}.html" for j in range(i, i + 3)),
            evidence={"failure": "http", "status": 404, "sources": [{"url": "x", "text": "y"}] * 3},
        )
        for i in range(n)
    ]


def main() -> None:
    """Print ms per run and µs per finding."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--url", help="an empty PostgreSQL database to run on (postgresql://…; one --n)")
    ap.add_argument("--postgresql", action="store_true", help="run on a throw-away PostgreSQL cluster")
    args = ap.parse_args()
    cluster = None
    if args.postgresql:
        from tests.pgcluster import start_cluster

        cluster = start_cluster()
        print(f"throw-away PostgreSQL cluster started in {cluster.started_in:.2f} s")
    try:
        run_all(args.n, args.url, cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def run_all(sizes: list[int], url: str | None, cluster: Any) -> None:
    """Apply each batch twice (new, seen again) on a fresh store."""
    now = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
    for n in sizes:
        batch = findings(n)
        with tempfile.TemporaryDirectory() as tmp:
            where = url or (cluster.url(cluster.create_database()) if cluster else Path(tmp) / "bench.db")
            store = Store(where)
            for label in ("all new", "seen again"):
                run = store.start_run("links", "bench", ("links",), now)
                t = time.perf_counter()
                store.finish_run(
                    run, status="ok", now=now, findings=batch, resolution=Resolution(("links",), None)
                )
                secs = time.perf_counter() - t
                print(
                    f"{n:>6} findings, {label:<10}: {secs * 1000:8.0f} ms  ({secs / n * 1e6:6.0f} µs/finding)"
                )
            store.close()


if __name__ == "__main__":
    main()
