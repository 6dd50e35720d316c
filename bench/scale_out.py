"""Scale-out of the task queue (docs/scale-out.md): N synthetic sites patrolled by 1, 2 and 4 workers.

Everything is real and on this machine: a throw-away PostgreSQL cluster (tests/pgcluster.py: Debian's
server programs; the store *and* the queue live in it), ``monitor daemon`` deferring one ``patrol`` task
per site, and ``monitor worker`` processes (``--concurrency 1`` each, as deploy/monitor-worker@.service
ships) crawling a loopback aiohttp server that answers every page of every site after a fixed latency.
The sites are distinct hosts (``s{i}.bench.gov.cn`` through ``crawl.host_overrides``), so per-host
politeness applies per site as in production.

For each worker count, on a fresh database: the daemon defers the tasks (catch-up at start), then the
workers start and the clock runs until every task has ended. Reported: wall time, pages per second, the
speed-up against one worker and its ratio to the ideal (speed-up / workers), the database's size, and its
write rate (WAL bytes, commits and rows written per second, from ``pg_stat_database`` and the WAL
position).

Usage (one run at a time on a shared machine; note its load)::

    .venv/bin/python bench/scale_out.py --sites 200 --pages 50 --latency 0.05 --workers 1,2,4
    .venv/bin/python bench/scale_out.py serve --sites 200 --pages 50 --latency 0.05 --port 8090  # alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HOST = "s{}.bench.gov.cn"
TEXT = (
    "为深入贯彻落实党中央、国务院决策部署，进一步优化政务服务，提升行政效能，现将有关事项通知如下。"
    "各乡镇人民政府、县政府各部门要高度重视，明确责任分工，认真抓好落实，确保各项工作取得实效。"
)


# -- the sites -----------------------------------------------------------------------------------------
def page_html(site: int, number: int, pages: int) -> str:
    """One page of a synthetic county site: navigation, a list of related articles, two paragraphs."""
    title = "首页" if number == 0 else f"关于第{number}项重点工作的通知"
    if number == 0:
        links = [f"/art/{k}.html" for k in range(1, pages)]
    else:
        links = ["/"] + [f"/art/{(number + d - 1) % (pages - 1) + 1}.html" for d in (1, 2, 3)]
    items = "".join(f'<li><a href="{href}">第{i}条信息</a></li>' for i, href in enumerate(links))
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title} - 示例{site}县人民政府'
        f'</title></head><body><div class="nav"><a href="/">首页</a></div><h1>{title}</h1>'
        f'<div class="content"><p>{TEXT}</p><p>{TEXT}</p></div><ul class="list">{items}</ul>'
        f'<div class="footer">示例{site}县人民政府办公室 主办</div></body></html>'
    )


def serve(sites: int, pages: int, latency: float, port: int) -> None:
    """The loopback server of every site; ``/__stats`` counts requests and pages served (a GET of one of a
    site's pages; ``?reset=1`` zeroes them)."""
    from aiohttp import web

    counts = {"requests": 0, "pages": 0}

    async def handle(request: web.Request) -> web.Response:
        if request.path == "/__stats":
            body = json.dumps(counts)
            if request.query.get("reset"):
                counts.update(requests=0, pages=0)
            return web.Response(text=body, content_type="application/json")
        host = (request.host or "").split(":")[0]
        try:
            site = int(host.split(".")[0][1:])
        except ValueError:
            return web.Response(status=404, text="no such site")
        path = request.path
        if path == "/":
            number = 0
        elif path.startswith("/art/") and path.endswith(".html"):
            number = int(path[5:-5]) if path[5:-5].isdigit() else -1
        else:
            number = -1
        counts["requests"] += 1
        await asyncio.sleep(latency)
        if not 0 <= number < pages or site >= sites:
            return web.Response(
                status=404, text="<html><body>Not Found</body></html>", content_type="text/html"
            )
        if request.method == "GET":
            counts["pages"] += 1
        return web.Response(text=page_html(site, number, pages), content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    app.router.add_route("HEAD", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- one measurement -------------------------------------------------------------------------------
@dataclass
class Measure:
    """What one worker count did."""

    workers: int
    sites: int
    tasks_ok: int
    tasks_failed: int
    runs_ok: int
    wall_s: float
    requests: int
    pages: int
    pages_per_s: float
    db_bytes: int
    wal_bytes: int
    commits: int
    rows_written: int
    load_before: float
    load_after: float
    cpu_s: float = 0.0  # user + system of the daemon, the workers and their analysis processes

    @property
    def cpu_per_site(self) -> float:
        """CPU seconds one site's patrol took (everything the cluster's processes used, per task)."""
        return self.cpu_s / self.sites

    @property
    def wal_per_s(self) -> float:
        """WAL bytes written per second of the run."""
        return self.wal_bytes / self.wall_s

    @property
    def rows_per_s(self) -> float:
        """Rows inserted, updated or deleted per second of the run."""
        return self.rows_written / self.wall_s


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stats(port: int, reset: bool = False) -> dict[str, int]:
    """The server's request count."""
    import urllib.request

    url = f"http://127.0.0.1:{port}/__stats" + ("?reset=1" if reset else "")
    with urllib.request.urlopen(url, timeout=10) as answer:  # loopback only
        return dict(json.loads(answer.read()))


def write_config(folder: Path, url: str, sites: int, port: int) -> Path:
    """The config: ``sites`` sites on the loopback server, patrol through the queue, product defaults."""
    import yaml

    hosts = [HOST.format(i) for i in range(sites)]
    config = {
        "sites": [
            {"id": f"s{i}", "name": f"示例{i}县人民政府", "homepage": f"http://{h}/"}
            for i, h in enumerate(hosts)
        ],
        "crawl": {
            "host_overrides": {h: f"127.0.0.1:{port}" for h in hosts},
            "allow_private": [f"http://{h}" for h in hosts],
        },
        "darklinks": {"browser": {"enabled": False}},  # no Chromium: the bench measures the queue
        "storage": {"database": "monitor.db", "url": url},
        "schedule": {"defaults": False, "duties": {"patrol": "0 2 * * *"}, "catch_up": True},
        "queue": {"backend": "procrastinate"},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def spawn(config: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """``monitor --config CONFIG ARGS`` with its stderr in ``log``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("NOTIFY_SOCKET", None)
    env.pop("MONITOR_DB", None)
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=config.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def query(url: str, sql: str) -> Any:
    """One value from the database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]  # the bench's own constant SQL
        return row[0] if row else None


def db_counters(url: str) -> tuple[int, int, int]:
    """(WAL position in bytes, commits, rows written) of the database now."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").fetchone()
        row = conn.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    assert wal is not None and row is not None
    return int(wal[0]), int(row[0]), int(row[1])


def wait_for(what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
    """Poll ``check()`` until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def job_counts(url: str) -> dict[str, int]:
    """Tasks per status."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
            return {}
        rows = conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1").fetchall()
    return {str(status): int(n) for status, n in rows}


def measure(cluster: Any, work: Path, workers: int, args: argparse.Namespace, port: int) -> Measure:
    """One worker count on a fresh database."""
    folder = work / f"w{workers}"
    folder.mkdir(parents=True, exist_ok=True)
    url = cluster.url(cluster.create_database())
    config = write_config(folder, url, args.sites, port)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = used.ru_utime + used.ru_stime
    daemon = spawn(config, "daemon", log=folder / "daemon.log")
    procs: list[subprocess.Popen[bytes]] = [daemon]
    try:
        wait_for("the tasks deferred", lambda: job_counts(url).get("todo", 0) >= args.sites, 300)
        stats(port, reset=True)
        wal0, commits0, rows0 = db_counters(url)
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        for n in range(workers):
            procs.append(spawn(config, "worker", "--concurrency", "1", log=folder / f"worker{n}.log"))

        def finished() -> dict[str, int] | None:
            counts = job_counts(url)
            ended = counts.get("succeeded", 0) + counts.get("failed", 0)
            return counts if ended >= args.sites else None

        counts = wait_for("every task ended", finished, args.timeout)
        wall = time.monotonic() - began
        load_after = os.getloadavg()[0]
        wal1, commits1, rows1 = db_counters(url)
        served = stats(port)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process above has been waited for
    cpu = used.ru_utime + used.ru_stime - cpu0
    runs_ok = int(query(url, "SELECT count(*) FROM runs WHERE status = 'ok'"))
    size = int(query(url, "SELECT pg_database_size(current_database())"))
    return Measure(
        workers=workers,
        sites=args.sites,
        tasks_ok=counts.get("succeeded", 0),
        tasks_failed=counts.get("failed", 0),
        runs_ok=runs_ok,
        wall_s=wall,
        requests=served["requests"],
        pages=served["pages"],
        pages_per_s=served["pages"] / wall,
        db_bytes=size,
        wal_bytes=wal1 - wal0,
        commits=commits1 - commits0,
        rows_written=rows1 - rows0,
        load_before=load_before,
        load_after=load_after,
        cpu_s=cpu,
    )


def report(results: list[Measure], args: argparse.Namespace) -> str:
    """The markdown table of bench/README.md."""
    base = results[0].pages_per_s / results[0].workers
    lines = [
        f"{args.sites} sites × {args.pages} pages, {args.latency * 1000:.0f} ms latency, duty patrol, "
        f"{os.cpu_count()} cores",
        "",
        "| workers | tasks ok | wall | pages/s | speed-up | of ideal | CPU per site | DB size | WAL/s "
        "| rows/s | commits/s | load 1 min |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        speed_up = r.pages_per_s / base
        lines.append(
            f"| {r.workers} | {r.tasks_ok}/{r.sites} | {r.wall_s:.1f} s | {r.pages_per_s:.1f} | "
            f"{speed_up:.2f}× | {speed_up / r.workers:.0%} | {r.cpu_per_site:.1f} s | "
            f"{r.db_bytes / 1e6:.1f} MB | "
            f"{r.wal_per_s / 1e3:.0f} kB/s | {r.rows_per_s:.0f} | {r.commits / r.wall_s:.1f} | "
            f"{r.load_before:.1f} → {r.load_after:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run the measurement (or the server alone: ``serve``)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", nargs="?", default="bench", choices=("bench", "serve"))
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=3600.0, help="per worker count, seconds")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--work", type=Path, default=None, help="keep configs and logs here")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.sites, args.pages, args.latency, args.port or 8090)
        return 0

    import tempfile

    from tests.pgcluster import start_cluster

    port = args.port or free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--sites", str(args.sites), "--pages", str(args.pages),
         "--latency", str(args.latency), "--port", str(port)],
    )  # fmt: skip
    cluster = start_cluster()
    work = args.work or Path(tempfile.mkdtemp(prefix="scale-out-"))
    results: list[Measure] = []
    try:
        wait_for("the site server", lambda: _listening(port), 30, 0.1)
        for count in (int(n) for n in args.workers.split(",")):
            result = measure(cluster, work, count, args, port)
            results.append(result)
            print(f"{count} worker(s): {result.wall_s:.1f} s, {result.pages_per_s:.1f} pages/s", flush=True)
    finally:
        cluster.stop()
        server.terminate()
        server.wait(timeout=10)
    print(report(results, args))
    if args.out:
        payload = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "results": [asdict(r) for r in results],
        }
        args.out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    print(f"logs and configs: {work}")
    return 0


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    raise SystemExit(main())
