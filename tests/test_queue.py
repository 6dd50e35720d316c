"""The task queue end to end (docs/scale-out.md): a real PostgreSQL cluster, ``monitor daemon`` and
``monitor worker`` processes as real subprocesses, sites on a loopback server.

- two workers, two duties on each of two sites: a site is crawled by one worker at a time (its politeness
  holds across the cluster) while the two sites are crawled at once;
- a worker killed mid-crawl: its run ends ``interrupted`` and the task is run once more, by the other worker;
- two schedulers: each fire time of a duty is one task, whichever scheduler got there first.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests.queue_harness import Process, Timeline, queue_jobs, serve_site, store_runs, write_queue_config
from tests.sites import LocalSites

pytestmark = pytest.mark.e2e


async def _stop(*procs: Process) -> list[int | None]:
    """SIGTERM to each process still running; their exit statuses."""
    for proc in procs:
        if proc.proc is not None and proc.proc.returncode is None:
            proc.signal(signal.SIGTERM)
    codes: list[int | None] = []
    for proc in procs:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.wait(timeout=30)
        codes.append(proc.proc.returncode if proc.proc is not None else None)
        await proc.close()
    return codes


async def test_a_site_is_crawled_by_one_worker_at_a_time_and_sites_in_parallel(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    """patrol and links of sites a and b: four tasks, two workers of concurrency 2 — the two tasks of a site
    never overlap (at most per_host_concurrency requests in flight per host), those of a and b do."""
    timeline = Timeline()
    hosts = {"a": "www.a.gov.cn", "b": "www.b.gov.cn"}
    for host in hosts.values():
        serve_site(sites, timeline, host, pages=12, latency=0.12)
    config = write_queue_config(
        tmp_path, sites, hosts, pg_url, duties={"patrol": "every 1h", "links": "every 1h"}, per_host=2
    )
    daemon = await Process(config, "daemon").start()
    workers = [await Process(config, "worker", "--concurrency", "2").start() for _ in range(2)]
    try:
        await daemon.until_log(r"patrol for .*: 2 task\(s\) deferred", timeout=60)
        await daemon.until_log(r"links for .*: 2 task\(s\) deferred", timeout=60)
        await workers[0].until(
            lambda: len([r for r in store_runs(pg_url) if r["status"] == "ok"]) == 4,
            timeout=120,
            what="four runs ok\n" + "".join(w.stderr for w in workers),
        )
    finally:
        codes = await _stop(daemon, *workers)
    assert codes == [0, 0, 0]  # a clean stop on SIGTERM
    done = store_runs(pg_url)
    log = "".join(w.stderr for w in (daemon, *workers))
    assert sorted((r["duty"], r["site"], r["status"]) for r in done) == [
        ("links", "a", "ok"),
        ("links", "b", "ok"),
        ("patrol", "a", "ok"),
        ("patrol", "b", "ok"),
    ], log
    for sid, host in hosts.items():
        # Both crawls of the site fetched every page; never more than the per-host limit at once.
        assert timeline.count(host) >= 2 * 13
        assert timeline.peak({host}) <= 2, f"site {sid}: two crawls overlapped"
        first, second = sorted((r for r in done if r["site"] == sid), key=lambda r: r["started_at"])
        assert second["started_at"] >= first["finished_at"]
    # The workers did run in parallel: requests to a and b were in flight together.
    assert timeline.peak(set(hosts.values())) > 2
    jobs = queue_jobs(pg_url)
    assert len(jobs) == 4 and {j["status"] for j in jobs} == {"succeeded"}
    assert {j["lock"] for j in jobs} == {"site:a", "site:b"}


async def test_a_killed_worker_leaves_its_run_interrupted_and_the_other_worker_retries_once(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    timeline = Timeline()
    serve_site(sites, timeline, "www.s.gov.cn", pages=15, latency=0.2)
    config = write_queue_config(
        tmp_path, sites, {"s": "www.s.gov.cn"}, pg_url, duties={"patrol": "every 1h"}, per_host=1
    )
    daemon = await Process(config, "daemon").start()
    first = await Process(config, "worker").start()
    second: Process | None = None
    try:
        await daemon.until_log(r"patrol for .*: 1 task\(s\) deferred", timeout=60)
        await first.until(lambda: timeline.count("www.s.gov.cn") >= 4, timeout=60, what="the crawl under way")
        crawling = [r for r in store_runs(pg_url) if r["status"] == "running"]
        assert len(crawling) == 1 and crawling[0]["pid"] == first.pid
        first.signal(signal.SIGKILL)
        assert await first.wait(timeout=10) == -signal.SIGKILL
        second = await Process(config, "worker").start()
        await second.until(
            lambda: [r["status"] for r in store_runs(pg_url)] == ["interrupted", "ok"],
            timeout=90,
            what="the run interrupted, then the retry ok",
        )
        await second.until_log(r"queued again for another worker")
    finally:
        await _stop(daemon, first, *([second] if second else []))
    interrupted, retried = store_runs(pg_url)
    assert interrupted["pid"] == first.pid and "worker lost" in (interrupted["error"] or "")
    assert retried["pid"] == second.pid
    (job,) = queue_jobs(pg_url)
    # procrastinate counts attempts as they end: the lost one (put back by the sweep) and the retry.
    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert second.stderr.count("queued again for another worker") == 1
    assert f"task #{job['id']}" in second.stderr


async def test_a_stopped_worker_hands_its_task_back_after_the_grace(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    """SIGTERM mid-crawl: the worker waits schedule.grace_seconds (2 s), cancels the crawl — its run
    interrupted — exits 0, and the task is queued again at once; the next worker runs it to the end."""
    timeline = Timeline()
    serve_site(sites, timeline, "www.s.gov.cn", pages=20, latency=0.2)
    config = write_queue_config(
        tmp_path, sites, {"s": "www.s.gov.cn"}, pg_url, duties={"patrol": "every 1h"}, per_host=1
    )
    daemon = await Process(config, "daemon").start()
    first = await Process(config, "worker").start()
    second: Process | None = None
    try:
        await first.until(lambda: timeline.count("www.s.gov.cn") >= 4, timeout=60, what="the crawl under way")
        first.signal(signal.SIGTERM)
        assert await first.wait(timeout=30) == 0
        assert [r["status"] for r in store_runs(pg_url)] == ["interrupted"]
        (job,) = queue_jobs(pg_url)
        assert job["status"] == "todo"  # back in the queue, for whichever worker comes next
        second = await Process(config, "worker").start()
        await second.until(
            lambda: [r["status"] for r in store_runs(pg_url)] == ["interrupted", "ok"],
            timeout=90,
            what="the retry ok",
        )
    finally:
        await _stop(daemon, first, *([second] if second else []))
    assert "received: stopping; running tasks get 2s to finish" in first.stderr
    (job,) = queue_jobs(pg_url)
    assert job["status"] == "succeeded" and job["attempts"] == 2


async def test_each_fire_time_is_deferred_once_with_two_schedulers(
    sites: LocalSites, pg_url: str, tmp_path: Path
) -> None:
    """Two daemons (two machines: each its own folder) on one queue, identity every 2 s, one worker: every
    fire time became one task per site, and both daemons took part."""
    timeline = Timeline()
    hosts = {"a": "www.a.gov.cn", "b": "www.b.gov.cn"}
    for host in hosts.values():
        serve_site(sites, timeline, host, pages=1, latency=0.0)
    configs = [
        write_queue_config(
            tmp_path / name, sites, hosts, pg_url, duties={"identity": "every 2s"}, catch_up=False
        )
        for name in ("one", "two")
    ]
    daemons = [await Process(c, "daemon").start() for c in configs]
    worker = await Process(configs[0], "worker", "--concurrency", "2").start()
    try:

        def fire_times() -> set[int]:
            return {j["args"]["timestamp"] for j in queue_jobs(pg_url) if j["status"] == "succeeded"}

        await worker.until(lambda: len(fire_times()) >= 4, timeout=90, what="four fire times done")
    finally:
        await _stop(*daemons, worker)
    jobs = queue_jobs(pg_url)
    per_time: dict[tuple[int, str], int] = {}
    for job in jobs:
        key = (job["args"]["timestamp"], job["args"]["site"])
        per_time[key] = per_time.get(key, 0) + 1
    assert per_time and set(per_time.values()) == {1}, per_time
    # Every task was deferred by one daemon, which said so (a fire time cut short by the stop may lack
    # its line: at most one task per site).
    deferred = sum(int(n) for d in daemons for n in re.findall(r"(\d+) task\(s\) deferred", d.stderr))
    assert len(jobs) - len(hosts) <= deferred <= len(jobs)
    # The deduplication was exercised: a daemon came second for some fire time and deferred nothing.
    assert any("already deferred by another scheduler" in d.stderr for d in daemons)
    assert all("task(s) deferred" in d.stderr or "already deferred" in d.stderr for d in daemons)
