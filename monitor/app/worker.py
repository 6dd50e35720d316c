"""``monitor worker``: runs the duties the daemon defers to the PostgreSQL task queue (docs/scale-out.md).

- Each task (``monitor.app.queue.TASK``: one duty on one site) runs through ``monitor.runner.run_duty`` —
  the code path of the CLI and the local daemon — in a thread with its own event loop
  (``monitor.app.daemon.DutyThread``), so a store call or a DNS lookup blocking one task never stops the
  worker's heartbeat or its other tasks (``--concurrency N``).
- procrastinate starts a task only when no task with its lock runs anywhere: one crawl per site across
  the cluster (``monitor.app.queue``).
- Every ``queue.heartbeat_seconds`` the worker writes its heartbeat and looks for tasks of workers silent
  for ``queue.stalled_after_seconds``: their runs are recorded as ``interrupted`` and the task is put back
  once (it fails the second time). The run rows carry the pid and host of the process that made them.
- A task running longer than ``queue.task_timeout`` is cancelled: its run is recorded as interrupted and it
  is not retried (a site that hangs every night would otherwise hold two workers).
- SIGTERM/SIGINT: no new task; running ones get ``schedule.grace_seconds`` to finish, then are cancelled
  (runs recorded as interrupted) and put back in the queue once, for another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate import BaseRetryStrategy, JobContext, RetryDecision

from monitor.app.daemon import (
    CANCEL_WAIT,
    EXIT_FAILED,
    DutyThread,
    _reason,
    log_results,
    off_loop,
    run_report,
)
from monitor.app.queue import TASK, StalledTask, apply_schema, make_app, retry_stalled, stalled_jobs
from monitor.app.sdnotify import Notifier
from monitor.config import Config
from monitor.core.clock import Clock, clock_from_env
from monitor.crawl.progress import LogProgress
from monitor.runner import DutyError, run_duty
from monitor.store.backup import NOT_ON_POSTGRESQL, run_backup
from monitor.store.database import Store, open_store

log = logging.getLogger("monitor.worker")
#: How often a worker deletes old finished tasks (seconds).
PRUNE_EVERY = 3600.0


class TaskTimedOut(Exception):
    """A task ran longer than ``queue.task_timeout`` and was cancelled (never retried)."""


class TaskRetry(BaseRetryStrategy):
    """Put a task back once: at once after its worker stopped (it was cancelled at the end of the grace
    period), after 30 s after an error (the database away for a moment); never after a timeout or a duty
    that cannot start (an unknown site: the same config would refuse it again)."""

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        """Once, and only for what a second attempt can mend."""
        if job.attempts >= 1 or isinstance(exception, (TaskTimedOut, DutyError)):
            return None
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_in={"seconds": 0})
        return RetryDecision(retry_in={"seconds": 30})


class QueueWorker:
    """One worker process: takes tasks of ``queue.name`` and runs them through the runner."""

    def __init__(
        self,
        config: Config,
        database: Path,
        *,
        concurrency: int = 1,
        clock: Callable[[Config], Clock] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.database = database
        self.concurrency = concurrency
        self._clock = clock or (lambda cfg: clock_from_env(cfg.tz))
        self.notifier = notifier or Notifier()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.running: dict[str, DutyThread] = {}
        self._stop_requests = 0

    def app(self) -> procrastinate.App:
        """The procrastinate app with the duty task registered."""
        app = make_app(self.config)
        app.task(name=TASK, pass_context=True, retry=TaskRetry())(self._task)
        return app

    async def main(self) -> int:
        """Work until SIGTERM/SIGINT; 0 after a clean stop, 3 when the queue database cannot be used."""
        config = self.config
        try:
            await off_loop(apply_schema, config, name="monitor-queue-schema")
            app = self.app()
            await app.open_async()
        except Exception as exc:
            log.error("cannot open the task queue: %s", _reason(exc))
            log.debug("opening the task queue failed", exc_info=True)
            return EXIT_FAILED
        sweeper = asyncio.create_task(self._sweep(app))
        work = asyncio.ensure_future(
            app.run_worker_async(
                queues=[config.queue.name],
                name=self.name,
                concurrency=self.concurrency,
                wait=True,
                # Our own handlers: a stop we asked for is told apart from a worker that ended by itself.
                install_signal_handlers=False,
                shutdown_graceful_timeout=config.schedule.grace_seconds,
                update_heartbeat_interval=config.queue.heartbeat_seconds,
                stalled_worker_timeout=config.queue.stalled_after_seconds,
                # LISTEN/NOTIFY wakes the worker at once; polling is the fallback.
                fetch_job_polling_interval=min(5.0, config.queue.heartbeat_seconds),
                abort_job_polling_interval=min(5.0, config.queue.heartbeat_seconds),
                listen_notify=True,
            )
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, work, sig.name)
        code = 0
        try:
            log.info(
                "worker %s started on queue %r (concurrency %d)",
                self.name,
                config.queue.name,
                self.concurrency,
            )
            self.notifier.ready(f"worker on queue {config.queue.name}, concurrency {self.concurrency}")
            try:
                await work
            except asyncio.CancelledError:
                if not self._stop_requests:
                    raise
            except Exception as exc:
                log.error("worker failed (systemd restarts it): %s", _reason(exc))
                log.debug("worker failed", exc_info=True)
                code = EXIT_FAILED
            else:
                if not self._stop_requests:
                    # procrastinate stops a worker whose heartbeat or listener lost the database.
                    log.error(
                        "worker stopped by itself (the database went away?); exit 3 so systemd restarts it"
                    )
                    code = EXIT_FAILED
        finally:
            self.notifier.stopping("stopping")
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            with contextlib.suppress(Exception):
                await app.close_async()
        log.info("worker %s stopped", self.name)
        return code

    def _request_stop(self, work: asyncio.Future[None], why: str) -> None:
        """SIGTERM/SIGINT: no new task, running ones get ``schedule.grace_seconds``; a second one cancels
        them at once (runs recorded as interrupted, tasks queued again once)."""
        self._stop_requests += 1
        if self._stop_requests == 1:
            log.info(
                "%s received: stopping; running tasks get %gs to finish",
                why,
                self.config.schedule.grace_seconds,
            )
            work.cancel()  # procrastinate's graceful stop
        else:
            log.warning("%s received again: cancelling running tasks now", why)
            for runner in list(self.running.values()):
                runner.cancel()

    # -- a task ------------------------------------------------------------------------------------------
    async def _task(self, context: JobContext, duty: str, site: str = "", timestamp: int = 0) -> str:
        """Run one duty on one site in its own thread; wait for it at most ``queue.task_timeout``."""
        config = self.config
        label = f"{duty} on {site}" if site else duty
        job_id = context.job.id
        log.info("task #%s: %s starting (attempt %d)", job_id, label, context.job.attempts + 1)
        runner = DutyThread(label, lambda: self._execute(duty, site or None, config))
        done = runner.start()
        self.running[label] = runner
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout=config.queue.task_timeout)
        except TimeoutError:
            runner.cancel()
            await asyncio.wait({done}, timeout=CANCEL_WAIT)
            log.error(
                "task #%s: %s still running after %gs (queue.task_timeout): cancelled, its run recorded as "
                "interrupted, not retried",
                job_id,
                label,
                config.queue.task_timeout,
            )
            raise TaskTimedOut(f"{label}: over {config.queue.task_timeout:g}s") from None
        except asyncio.CancelledError:
            # The worker is stopping (its grace is over) or the task was aborted: the runner records the run
            # as interrupted in its own thread; procrastinate puts the task back once.
            runner.cancel()
            await asyncio.wait({done}, timeout=CANCEL_WAIT)
            log.warning("task #%s: %s cancelled; its run is recorded as interrupted", job_id, label)
            raise
        finally:
            self.running.pop(label, None)
        log.info("task #%s: %s done", job_id, label)
        return "done"

    async def _execute(self, duty: str, site: str | None, config: Config) -> None:
        """In the task's thread and loop: the duty through the runner (the daemon's own code path)."""
        clock = self._clock(config)
        if duty == "backup":
            result = await asyncio.to_thread(self._backup, config, clock)
            if result is None:
                log.warning("backup: %s", NOT_ON_POSTGRESQL)
            return
        if duty == "report":
            await run_report(config, self.database, clock, config.storage)
            return
        with open_store(config.storage, self.database) as store:
            # Runs of processes on this machine that died (a killed worker restarted here) end first.
            for run_id in store.recover_interrupted(clock.now(), at_startup=False):
                log.warning("run #%d was cut off by the end of its process; recorded as interrupted", run_id)
            try:
                results = await run_duty(
                    duty,
                    config,
                    store,
                    clock,
                    site_ids=[site] if site else None,
                    progress=lambda: LogProgress(60.0),
                )
            except Exception as exc:
                store.fail_unfinished(clock.now(), _reason(exc))
                raise
        log_results(duty, results, log)

    def _backup(self, config: Config, clock: Clock) -> Any:
        with open_store(config.storage, self.database) as store:
            return run_backup(config, self.database, store, clock)

    # -- dead workers ------------------------------------------------------------------------------------
    async def _sweep(self, app: procrastinate.App) -> None:
        """Every heartbeat: tasks of dead workers get their runs interrupted and are put back once."""
        every = self.config.queue.heartbeat_seconds
        pruned = 0.0
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep_once(app)
                if time.monotonic() - pruned > PRUNE_EVERY:
                    pruned = time.monotonic()
                    await self.prune(app)
            except Exception as exc:  # the database away for a moment: the next beat looks again
                log.warning("looking for tasks of lost workers failed: %s", _reason(exc))
                log.debug("stalled-task sweep failed", exc_info=True)

    async def prune(self, app: procrastinate.App) -> None:
        """Delete the queue's tasks that ended more than ``queue.keep_days`` ago (every worker may; the
        deletion is idempotent)."""
        queue = self.config.queue
        await app.job_manager.delete_old_jobs(
            nb_hours=queue.keep_days * 24,
            queue=queue.name,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    async def sweep_once(self, app: procrastinate.App) -> list[tuple[int, str]]:
        """One look for stalled tasks; what was done with each (job id, ``retried``/``failed``)."""
        config = self.config
        done: list[tuple[int, str]] = []
        async def interrupt(task: StalledTask) -> object:
            return await off_loop(self._interrupt_runs, task.duty, task.site, name="monitor-stalled")

        for task in await stalled_jobs(app, config):
            outcome = await retry_stalled(app, config, task, interrupt)
            if outcome is None:
                continue
            label = f"{task.duty} on {task.site}" if task.site else task.duty
            if outcome == "retried":
                log.warning(
                    "task #%d (%s): its worker stopped answering for %gs; run recorded as interrupted, task "
                    "queued again for another worker",
                    task.job_id,
                    label,
                    config.queue.stalled_after_seconds,
                )
            else:
                log.error(
                    "task #%d (%s): its worker was lost again on the retry; task failed (not retried twice)",
                    task.job_id,
                    label,
                )
            done.append((task.job_id, outcome))
        return done

    def _interrupt_runs(self, duty: str, site: str) -> list[int]:
        """Record the ``running`` runs of a lost worker's task as interrupted.

        The site's lock means no other task of that site runs anywhere, so a run of this duty and site
        still ``running`` belongs to the lost worker — on whatever machine it was (pid and host are on the
        run; a run of a process still alive on this machine is left alone).
        """
        config = self.config
        clock = self._clock(config)
        marked: list[int] = []
        with open_store(config.storage, self.database) as store:
            for run in store.running_runs():
                if run["duty"] != duty or run["site"] != (site or duty):
                    continue
                if run.get("host") == socket.gethostname() and not Store.process_gone(run):
                    continue
                store.mark_interrupted(
                    run["id"], clock.now(), f"worker lost (pid {run.get('pid')} on {run.get('host')})"
                )
                marked.append(run["id"])
        return marked


def run_worker(config: Config, database: Path, *, concurrency: int = 1) -> int:
    """Run a worker until it stops; the exit status."""
    worker = QueueWorker(config, database, concurrency=concurrency)
    return asyncio.run(worker.main())
