"""The PostgreSQL task queue (``queue.backend: procrastinate``): what the scheduler defers, what a worker
takes, and how the cluster gets over a dead worker. docs/scale-out.md tells the whole story.

- **One task per duty and site** (``monitor.duty``, kwargs ``duty``, ``site``, ``timestamp``): the daemon
  (:func:`defer_duty`) defers it when the duty's schedule fires; a ``monitor worker`` runs it through
  ``monitor.runner.run_duty`` (``monitor.app.worker``). A duty without sites (``report``, ``backup``,
  global checks) is one task with ``site`` empty.
- **Deferred once across schedulers**: the deferral goes through procrastinate's periodic-defer table,
  unique on (task, ``duty@site``, scheduled time), so any number of schedulers firing for the same
  scheduled time make one task. Interval schedules are aligned to a fixed epoch in queue mode
  (``monitor.app.schedule.make_trigger(aligned=True)``) so their fire times agree between machines.
- **No duplicate queued task** (``queueing_lock`` ``duty@site``): while one waits, no second is queued.
- **One crawl of a site at a time** (``lock`` ``site:<id>``): procrastinate starts a job only when no job
  with its lock is running, whatever worker holds it, so per-host politeness holds across the cluster.
- **A dead worker**: workers write a heartbeat; a worker silent for ``queue.stalled_after_seconds`` is
  taken for dead. :func:`stalled_jobs` finds its tasks, and :func:`retry_stalled` puts a task back once
  (``attempts`` 0 → 1) or fails it when it already was retried, so a duty that kills its worker (a page
  that exhausts memory) cannot take the cluster down night after night.

Why not procrastinate's own periodic decorator: its cron runs in UTC with no time zone, has no intervals
and no catch-up after downtime; the daemon's schedule (``monitor.app.schedule``) has all three, so the
daemon keeps timing and hands procrastinate only the once-only deferral.

procrastinate >= 3.4 (worker heartbeats arrived in 3.1, ``procrastinate_retry_job_v2`` in 3.4); the pin
is in pyproject. Its tables live in the store's own PostgreSQL database (``storage.url``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate import exceptions as pq_exceptions
from procrastinate.schema import SchemaManager

from monitor.config import Config

log = logging.getLogger("monitor.queue")

#: The one task name every duty runs under.
TASK = "monitor.duty"
#: Serialises schema creation between processes starting at once (an arbitrary constant of ours).
SCHEMA_LOCK_KEY = 7_240_024


def make_app(config: Config) -> procrastinate.App:
    """A procrastinate app on the configured queue database (not opened yet).

    A small pool: a worker needs a connection for LISTEN, one for its heartbeat and one per running job's
    bookkeeping; a database shared by dozens of workers must not run out of connections.
    """
    url, password = connection(config)
    connector = procrastinate.PsycopgConnector(
        conninfo=url, kwargs={"password": password} if password else None, min_size=1, max_size=4
    )
    return procrastinate.App(connector=connector)


def connection(config: Config) -> tuple[str, str | None]:
    """The queue's database: the store's ``storage.url`` and its password (``storage.password_env``)."""
    url = config.storage.url
    if not url:
        raise ValueError("queue.backend procrastinate needs the store on PostgreSQL (storage.url)")
    return url, config.storage.password()


def connect_kwargs(config: Config) -> dict[str, Any]:
    """psycopg ``connect`` arguments for the queue's database."""
    url, password = connection(config)
    return {"conninfo": url, **({"password": password} if password else {})}


def apply_schema(config: Config) -> bool:
    """Create procrastinate's tables in the database unless they exist; True when it did.

    Run by ``monitor daemon`` and ``monitor worker`` at start, under an advisory lock so two processes
    starting together do not both try.
    """
    import psycopg

    with psycopg.connect(**connect_kwargs(config), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is not None and row[0] is not None:
                return False
            with conn.transaction():
                conn.execute(SchemaManager.get_schema())
            log.info("task queue: procrastinate schema created")
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def site_lock(duty: str, site: str | None) -> str:
    """The lock of a task: its site (one crawl of a site at a time), or the duty for a site-less duty."""
    return f"site:{site}" if site else f"duty:{duty}"


def periodic_id(duty: str, site: str | None) -> str:
    """The identity of one duty on one site in the deferral table and the queueing lock."""
    return f"{duty}@{site or '-'}"


async def defer_duty(
    app: procrastinate.App, config: Config, duty: str, site: str | None, scheduled: datetime
) -> str:
    """Defer the task of ``duty`` on ``site`` for the schedule's fire time ``scheduled``.

    Returns ``deferred`` (this call queued it), ``already`` (another scheduler did, for the same fire
    time) or ``waiting`` (the previous task of this duty and site has not started yet).
    """
    stamp = int(scheduled.timestamp())
    deferrer = app.configure_task(
        TASK,
        queue=config.queue.name,
        lock=site_lock(duty, site),
        queueing_lock=periodic_id(duty, site),
        task_kwargs={"duty": duty, "site": site or "", "timestamp": stamp},
    )
    try:
        job_id = await deferrer.job_manager.defer_periodic_job(
            job=deferrer.job, periodic_id=periodic_id(duty, site), defer_timestamp=stamp
        )
    except pq_exceptions.AlreadyEnqueued:
        return "waiting"
    return "deferred" if job_id else "already"


@dataclass(frozen=True)
class StalledTask:
    """A task left ``doing`` by a worker that stopped sending heartbeats."""

    job_id: int
    duty: str
    site: str
    attempts: int


async def stalled_jobs(app: procrastinate.App, config: Config) -> list[StalledTask]:
    """Tasks of our queue whose worker is silent for longer than ``queue.stalled_after_seconds``."""
    jobs = await app.job_manager.get_stalled_jobs(
        queue=config.queue.name,
        task_name=TASK,
        seconds_since_heartbeat=config.queue.stalled_after_seconds,
    )
    return [
        StalledTask(
            job_id=int(job.id or 0),
            duty=str(job.task_kwargs.get("duty", "")),
            site=str(job.task_kwargs.get("site", "")),
            attempts=job.attempts,
        )
        for job in jobs
    ]


# The stall is checked again under the row lock: two workers sweeping at once, or a task another worker
# has just taken, must not be put back twice (READ COMMITTED re-reads the locked row).
_CLAIM_STALLED = """
SELECT id FROM procrastinate_jobs
 WHERE id = %(job_id)s AND status = 'doing'
   AND (worker_id IS NULL OR worker_id IN (
        SELECT id FROM procrastinate_workers
         WHERE last_heartbeat < NOW() - (%(seconds)s || ' SECOND')::INTERVAL))
   FOR UPDATE
"""


async def retry_stalled(
    app: procrastinate.App,
    config: Config,
    task: StalledTask,
    claimed_first: Callable[[StalledTask], Awaitable[object]] | None = None,
) -> str | None:
    """Put a stalled task back in the queue once (``retried``) or, when it was retried already, mark it
    failed (``failed``); None when another worker dealt with it first.

    ``claimed_first`` runs while the task's row is locked and before it goes back to the queue (the worker
    records the lost run as interrupted there): no other worker can have started it again yet, so only the
    lost attempt's run can be touched.
    """
    import psycopg

    async with await psycopg.AsyncConnection.connect(**connect_kwargs(config)) as conn, conn.transaction():
        params: dict[str, Any] = {"job_id": task.job_id, "seconds": config.queue.stalled_after_seconds}
        claimed = await (await conn.execute(_CLAIM_STALLED, params)).fetchone()
        if claimed is None:
            return None
        if claimed_first is not None:
            await claimed_first(task)
        if task.attempts < 1:
            await conn.execute(
                "SELECT procrastinate_retry_job_v2(%s, NOW(), NULL, NULL, NULL)", (task.job_id,)
            )
            return "retried"
        await conn.execute(
            "SELECT procrastinate_finish_job_v1(%s, 'failed'::procrastinate_job_status, false)",
            (task.job_id,),
        )
        return "failed"


def task_sites(duty: str, config: Config) -> list[str | None]:
    """The sites a duty's tasks are for: one task per configured site, or one site-less task for the
    bulletin, the backup and global checks."""
    from checks import SITE_CHECKS

    if duty in ("report", "backup") or (duty in SITE_CHECKS and SITE_CHECKS[duty].scope == "global"):
        return [None]
    return [site.id for site in config.sites]
