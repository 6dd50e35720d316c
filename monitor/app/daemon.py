"""``monitor daemon``: every duty on its schedule, under systemd.

- Scheduling: APScheduler 3 ``AsyncIOScheduler`` with the in-memory job store; triggers come from
  ``config.schedule`` (see ``monitor.app.schedule``). At start, duties whose last successful run (the store's
  ``runs`` table) is older than their period run once (coalesced).
- Every run goes through ``monitor.runner.run_duty`` — the CLI's code path — under the duty's
  cross-process lock (``monitor.app.locks``), so a duty never overlaps itself, whoever started it.
- Nothing that can block runs on the daemon's event loop: each duty runs in a thread of its own with its
  own event loop (:class:`DutyThread`), and the store is read at start in a thread too. A duty stuck on
  the database lock, on DNS or in a synchronous SQLite call can delay only itself; the loop keeps
  handling signals, reloads and watchdog pings.
- Signals: SIGTERM/SIGINT stop scheduling, give running duties ``schedule.grace_seconds`` to finish, then
  cancel them (the runner records them as interrupted) and exit 0 — within ``grace_seconds`` +
  :data:`CANCEL_WAIT` seconds in every state: a duty that does not end by then (blocked in a system call)
  is left behind, and the next start records its run as interrupted. A second SIGTERM cancels at once.
  SIGHUP reloads the config: validated first (in a thread), swapped in only when valid; every reload ends
  in READY=1, with a ``reload rejected (…)`` STATUS when the file was refused.
- systemd: READY=1, STATUS=, WATCHDOG=1 (from an event-loop task, so a stuck loop stops the pings),
  RELOADING=1/READY=1 around a reload, STOPPING=1 (``monitor.app.sdnotify``).
- ``<database>.daemon.json`` holds the daemon's pid and each job's next run for ``monitor status``.
- Task queue (``queue.backend: procrastinate``, docs/scale-out.md): the daemon only schedules. When a
  duty's time comes it defers one task per site to PostgreSQL (``monitor.app.queue``), deferred once
  whatever the number of daemons, and ``monitor worker`` processes run them; alerts are then queued from
  what the workers recorded on every alert tick.
- Alerts (``alerts.enabled``): when a duty finishes, what changed is queued in the outbox
  (``monitor.alerts.queue.queue_alerts``, in a thread) and an alert task delivers it; at start, a gap in the
  daemon's heartbeat (written every minute) longer than ``alerts.offline_after`` is alerted as 监测服务离线.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_ALL, EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app.locks import Busy, DutyLock, held_by
from monitor.app.recheck import describe as describe_recheck
from monitor.app.recheck import perform_recheck
from monitor.app.schedule import catch_up, describe, effective_schedule, make_trigger
from monitor.app.sdnotify import Notifier
from monitor.bulletin.outbox import Outbox
from monitor.config import Config, ConfigError, DutySchedule, Storage, load_config
from monitor.core.clock import Clock, clock_from_env, iso
from monitor.crawl.progress import LogProgress
from monitor.runner import DutyError, run_duty
from monitor.store.backup import NOT_ON_POSTGRESQL, run_backup
from monitor.store.database import Store, open_store
from monitor.store.triage import Recheck, pending_rechecks, requeue_stale_rechecks

log = logging.getLogger("monitor.daemon")

EXIT_FAILED, EXIT_BUSY = 3, 4
#: After the grace period, how long cancelled duties get to record their runs as interrupted and end.
CANCEL_WAIT = 3.0
#: How often the alert task writes the heartbeat and tries alerts whose time has come (seconds).
ALERT_TICK = 30.0


def state_path(database: Path) -> Path:
    """The daemon's state file next to the database."""
    return database.parent / f"{database.name}.daemon.json"


def read_state(database: Path) -> dict[str, Any] | None:
    """The running daemon's state (pid, next runs), or None when no daemon holds this database."""
    holder = held_by(database, "daemon")
    if holder is None:
        return None
    try:
        state = json.loads(state_path(database).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"pid": holder.pid, "jobs": {}, "running": {}}
    if holder.pid is not None and state.get("pid") != holder.pid:
        return {"pid": holder.pid, "jobs": {}, "running": {}}
    return state


def _settle(future: asyncio.Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    """Complete ``future`` unless it already is (the waiter may have given up)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _post(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this any more
        loop.call_soon_threadsafe(_settle, future, *args)


async def off_loop(func: Callable[..., Any], *args: Any, name: str = "monitor-worker") -> Any:
    """``func(*args)`` in a daemon thread of its own, awaited without blocking the loop.

    Not ``asyncio.to_thread``: its executor is joined when the loop closes and again at interpreter exit,
    so a call stuck on a database lock would hold up the daemon's stop. A daemon thread never does.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def work() -> None:
        try:
            result = func(*args)
        except BaseException as exc:  # handed to the awaiting task, which decides
            _post(loop, future, None, exc)
        else:
            _post(loop, future, result)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


class DutyThread:
    """One duty run in a daemon thread with its own event loop, so it can never block the daemon's loop.

    ``start()`` returns a future of the daemon's loop that completes when the duty's coroutine has ended;
    ``cancel()`` cancels the coroutine inside its own loop (the runner then records the run as
    interrupted). A thread stuck in a system call cannot be cancelled: :meth:`alive` tells the daemon,
    which then exits without it.
    """

    def __init__(self, name: str, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._make = make
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._main, name=f"duty-{name}", daemon=True)
        self.done: asyncio.Future[None] | None = None

    def start(self) -> asyncio.Future[None]:
        """Start the thread; the returned future completes when the duty has ended."""
        self._owner = asyncio.get_running_loop()
        self.done = self._owner.create_future()
        self._thread.start()
        return self.done

    def _main(self) -> None:
        assert self.done is not None
        try:
            asyncio.run(self._body())
        except BaseException as exc:
            _post(self._owner, self.done, None, exc)
        else:
            _post(self._owner, self.done)

    async def _body(self) -> None:
        assert self.done is not None
        with self._guard:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            cancelled = self._cancelled
        try:
            if not cancelled:
                await self._make()
        except BaseException as exc:
            _post(self._owner, self.done, None, exc)
            raise
        # Done as soon as the duty is: closing this loop afterwards joins its executor, where a DNS
        # lookup (aiohttp's threaded resolver) may still be blocked in getaddrinfo.
        _post(self._owner, self.done)

    def cancel(self) -> None:
        """Cancel the duty inside its own loop (thread-safe, idempotent)."""
        with self._guard:
            self._cancelled = True
            if self._loop is not None and self._task is not None:
                with contextlib.suppress(RuntimeError):  # its loop has just closed
                    self._loop.call_soon_threadsafe(self._task.cancel)

    def alive(self) -> bool:
        """Whether the thread is still running."""
        return self._thread.is_alive()


@dataclass
class _Running:
    runner: DutyThread
    started: datetime


class Daemon:
    """One scheduler process for one database."""

    def __init__(
        self,
        config_path: Path,
        config: Config,
        database: Path,
        *,
        notifier: Notifier | None = None,
        clock: Callable[[Config], Clock] | None = None,
    ) -> None:
        self.config_path = config_path
        self.config = config
        self.database = database
        #: Where the store is, as the daemon started: a reload never moves it (a restart does).
        self.storage = config.storage
        self.notifier = notifier or Notifier()
        self._clock = clock or (lambda cfg: clock_from_env(cfg.tz))
        self.scheduler = AsyncIOScheduler(timezone=config.tz)
        self.specs: dict[str, DutySchedule] = {}
        self.running: dict[str, _Running] = {}
        self.started_at = datetime.now(config.tz)
        self._stop = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[None]] = set()
        self._stop_requests = 0
        self._stopping = False
        self._alerts_wake = asyncio.Event()
        self._alerts_lock = asyncio.Lock()
        #: Queue mode: the procrastinate app (open while the daemon runs) and each job's last fire time.
        self.queued = config.queue.backend == "procrastinate"
        self._queue_app: Any = None
        self._fired: dict[str, datetime] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    async def main(self) -> int:
        """Run until SIGTERM/SIGINT; 0 on a clean stop, 3 when the database cannot be opened, 4 when another
        daemon holds the database."""
        try:
            lock = DutyLock(self.database, "daemon").acquire(self.now())
        except Busy as exc:
            log.error("another daemon already uses %s (%s)", self.database, exc.holder.describe(self.now()))
            return EXIT_BUSY
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            # Our own lines say what runs and how it went; APScheduler's per-job lines only repeat them.
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        watchdog: asyncio.Task[None] | None = None
        alerts: asyncio.Task[None] | None = None
        rechecks: asyncio.Task[None] | None = None
        try:
            self._install_signals()
            log.info("daemon starting (pid %d): opening the database %s", os.getpid(), self._database_label)
            # The store is read off the loop: a database locked by another process must not keep the
            # daemon from answering a SIGTERM.
            opening = asyncio.ensure_future(off_loop(self._recover, name="monitor-recover"))
            stopping = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({opening, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not opening.done():
                opening.cancel()
                log.info("stopped before the database could be opened")
                return 0
            try:
                due = opening.result()
            except Exception as exc:
                log.error("cannot open the database %s: %s", self._database_label, _reason(exc))
                log.debug("opening the database failed", exc_info=True)
                return EXIT_FAILED
            if self.queued:
                try:
                    await self._open_queue()
                except Exception as exc:
                    log.error("cannot open the task queue: %s", _reason(exc))
                    log.debug("opening the task queue failed", exc_info=True)
                    return EXIT_FAILED
                self.scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
            self.scheduler.add_listener(lambda _event: self._publish_soon(), EVENT_ALL)
            self._sync_jobs(due=due)
            self.scheduler.start()
            if self.notifier.watchdog_interval:
                watchdog = asyncio.create_task(self._watchdog(self.notifier.watchdog_interval))
            self._publish()
            self.notifier.ready(self._status_text())
            jobs = len(self.scheduler.get_jobs())
            log.info("daemon started (pid %d, %d duties scheduled)", os.getpid(), jobs)
            # After READY, in a task of its own (a stop never waits for it): the offline look reads the
            # last heartbeat before the alert task writes a new one.
            alerts = asyncio.create_task(self._alert_loop())
            rechecks = asyncio.create_task(self._recheck_loop())
            await self._stop.wait()
            await self._shutdown()
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if rechecks is not None:
                rechecks.cancel()
                await asyncio.gather(rechecks, return_exceptions=True)
            if alerts is not None:
                alerts.cancel()
                # No last heartbeat: a stop never waits for the database, and the one written at most
                # ALERT_TICK ago is accurate enough for an alert about hours offline.
                await asyncio.gather(alerts, return_exceptions=True)
            if self._queue_app is not None:
                with contextlib.suppress(Exception):  # the database may be gone: nothing to keep
                    await self._queue_app.close_async()
            state_path(self.database).unlink(missing_ok=True)
            lock.release()
        log.info("daemon stopped")
        return 0

    def now(self) -> datetime:
        """Wall-clock time in the configured zone (scheduling is always real time)."""
        return datetime.now(self.config.tz)

    def _recover(self) -> dict[str, str]:
        """At start (in a thread): record runs of dead processes as interrupted, check the file, and say
        which duties are due to catch up (duty → why)."""
        config = self.config
        with self._store(config) as store:
            for run_id in store.recover_interrupted(self._clock(config).now()):
                log.warning("run #%d was cut off by the end of its process; recorded as interrupted", run_id)
            for recheck_id in requeue_stale_rechecks(store, at_startup=True):
                log.warning("re-check #%d was cut off by the end of its process; queued again", recheck_id)
            verdict = store.quick_check()
            if verdict != "ok":
                log.error(
                    "database %s fails quick_check: %s (restore a backup)", self._database_label, verdict
                )
            due: dict[str, str] = {}
            if config.schedule.catch_up:
                now = self.now()
                for duty, entry in effective_schedule(config.schedule).items():
                    verdict_ = catch_up(entry, store.last_success(duty), now, config.tz)
                    if verdict_.due:
                        due[duty] = verdict_.reason
        return due

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    def request_stop(self, why: str = "stop") -> None:
        """First call: graceful stop. A second one cancels running duties at once."""
        self._stop_requests += 1
        if self._stop_requests == 1:
            log.info("%s received: stopping", why)
            self._stop.set()
        else:
            log.warning("%s received again: cancelling running duties now", why)
            for entry in list(self.running.values()):
                entry.runner.cancel()

    async def _shutdown(self) -> None:
        self._stopping = True
        self.scheduler.pause()
        grace = self.config.schedule.grace_seconds
        running = {
            name: entry.runner for name, entry in self.running.items() if entry.runner.done is not None
        }
        self.notifier.stopping(
            f"stopping: waiting up to {grace:g}s for {', '.join(running)}" if running else "stopping"
        )
        if running:
            log.info("waiting up to %gs for %s to finish", grace, ", ".join(running))
            done = {name: r.done for name, r in running.items() if r.done is not None}
            _, pending = await asyncio.wait(done.values(), timeout=grace)
            if pending:
                names = [n for n, f in done.items() if f in pending]
                log.warning("grace period over: cancelling %s", ", ".join(names))
                for name in names:
                    running[name].cancel()
                _, stuck = await asyncio.wait(pending, timeout=CANCEL_WAIT)
                if stuck:
                    names = [n for n, f in done.items() if f in stuck]
                    log.error(
                        "%s did not end %gs after being cancelled (blocked in a system call: a database "
                        "lock or DNS); stopping without it, its run is recorded as interrupted at the next "
                        "start",
                        ", ".join(names),
                        CANCEL_WAIT,
                    )
        self.scheduler.shutdown(wait=False)

    def left_behind(self) -> list[str]:
        """Duties whose threads are still running after the stop (stuck in a system call)."""
        return [name for name, entry in self.running.items() if entry.runner.alive()]

    async def _watchdog(self, interval: float) -> None:
        # An event-loop task: if the loop stalls, the pings stop and systemd restarts the service.
        while True:
            if self.scheduler.running:
                self.notifier.watchdog()
            await asyncio.sleep(interval)

    # -- schedule ---------------------------------------------------------------------------------
    def _sync_jobs(self, *, due: dict[str, str] | None = None) -> None:
        """Make the scheduler's jobs match the config; unchanged jobs keep their next run time.

        ``due``: duties to run now to catch up (at start, from :meth:`_recover`), with the reason.
        """
        wanted = effective_schedule(self.config.schedule)
        for duty in list(self.specs):
            if wanted.get(duty) != self.specs[duty]:
                self.scheduler.remove_job(duty)
                del self.specs[duty]
                log.info("unscheduled %s", duty)
        due = due or {}
        for duty, entry in wanted.items():
            if duty in self.specs:
                continue
            extra: dict[str, Any] = {}
            if duty in due:
                extra["next_run_time"] = self.now()
                log.info("%s runs now to catch up: %s", duty, due[duty])
            self.scheduler.add_job(
                self._job,
                make_trigger(entry, self.config.tz, aligned=self.queued),
                args=[duty],
                id=duty,
                name=duty,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                **extra,
            )
            self.specs[duty] = entry
            log.info("scheduled %s: %s", duty, describe(entry))

    def reload(self) -> None:
        """SIGHUP: load and validate the config (in a thread); swap it in only when valid."""
        if self._stop.is_set():
            log.info("reload ignored: stopping")
            return
        task = asyncio.get_running_loop().create_task(self._reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload(self) -> None:
        async with self._reload_lock:  # one reload at a time, in the order the signals came
            self.notifier.reloading()
            try:
                new = await off_loop(load_config, self.config_path, name="monitor-reload")
            except ConfigError as exc:
                log.error("reload rejected; the running configuration stays: %s", exc)
                first = exc.problems[0] if exc.problems else ("", str(exc))
                self._reload_rejected(f"{first[0] or 'config'}: {first[1]}")
                return
            except Exception as exc:  # an unreadable file, or a bug: the running config stays either way
                log.error("reload rejected; the running configuration stays: %s", _reason(exc))
                log.debug("reload failed", exc_info=True)
                self._reload_rejected(_reason(exc))
                return
            if self._stop.is_set():
                self.notifier.ready(self._status_text())
                return
            self._swap(new)

    def _reload_rejected(self, why: str) -> None:
        self.notifier.ready(f"reload rejected ({why}); {self._status_text()}")

    def _swap(self, new: Config) -> None:
        if new.database_path != self.config.database_path:
            log.warning("storage.database changed: restart the daemon to use the new database")
        if new.storage.url != self.storage.url:
            log.warning("storage.url changed: restart the daemon to use the new database")
        if new.timezone != self.config.timezone:
            log.warning("timezone changed: new schedules use %s; restart to apply it fully", new.timezone)
        self.config = new
        self._sync_jobs()
        log.info("configuration reloaded from %s", self.config_path)
        self._publish()
        self.notifier.ready(self._status_text())

    # -- running duties ---------------------------------------------------------------------------
    async def _job(self, duty: str) -> None:
        """One scheduled run: take the duty lock, run it in its thread, never let an error reach the
        scheduler."""
        if self._stop.is_set():
            return
        if self.queued:
            await self._defer(duty)
            return
        started = self.now()
        try:
            lock = DutyLock(self.database, duty).acquire(started)
        except Busy as exc:
            log.warning("%s", exc)
            return
        config = self.config
        runner = DutyThread(duty, lambda: self._guarded(duty, config))
        self.running[duty] = _Running(runner, started)
        self._publish()
        cancelled = False
        try:
            with lock:
                try:
                    await asyncio.shield(runner.start())
                except asyncio.CancelledError:
                    # The loop is closing (after the stop gave up on this duty): top of the job's task,
                    # end quietly — APScheduler would log a cancelled job as an error.
                    runner.cancel()
                    cancelled = True
        except Exception:
            log.exception("%s failed", duty)
        finally:
            if runner.done is not None and runner.done.done():
                self.running.pop(duty, None)  # else it is stuck and left behind at the stop
            self._publish()
        # What the run changed (or its failure) becomes alerts; not while stopping (the next start looks
        # again from the stored cursor, so nothing is missed).
        if not cancelled and not self._stop.is_set():
            await self._queue_alerts()

    async def _guarded(self, duty: str, config: Config) -> None:
        """The duty, in its own thread and loop, with every outcome logged."""
        try:
            await self._execute(duty, config)
        except asyncio.CancelledError:
            # Top of the duty's task: the runner has recorded the run as interrupted; end quietly.
            log.warning("%s cancelled at shutdown; its run is recorded as interrupted", duty)
        except DutyError as exc:
            log.error("%s not run: %s", duty, exc)
        except Exception as exc:
            log.error("%s failed: %s", duty, _reason(exc))
            log.debug("%s failed", duty, exc_info=True)

    async def _execute(self, duty: str, config: Config) -> None:
        clock = self._clock(config)
        if duty == "backup":
            result = await asyncio.to_thread(self._backup, config, clock)
            if result is None:
                log.warning("backup: %s", NOT_ON_POSTGRESQL)
                return
            log.info("backup written to %s (%d bytes, %d kept)", result.path, result.bytes, result.kept)
            return
        if duty == "report":
            await run_report(config, self.database, clock, self.storage)
            return
        log.info("%s starting", duty)
        with self._store(config) as store:
            try:
                results = await run_duty(duty, config, store, clock, progress=lambda: LogProgress(60.0))
            except Exception as exc:
                # The store failed (disk full, the write lock held too long): the run must not stay
                # "running". When even that write fails, the daemon's next start records it as interrupted.
                store.fail_unfinished(clock.now(), _reason(exc))
                raise
        log_results(duty, results)

    # -- task queue ---------------------------------------------------------------------------------
    async def _open_queue(self) -> None:
        from monitor.app.queue import apply_schema, make_app

        await off_loop(apply_schema, self.config, name="monitor-queue-schema")
        app = make_app(self.config)
        await app.open_async()
        self._queue_app = app
        log.info("task queue %r open: duties go to monitor worker processes", self.config.queue.name)

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        # Called by APScheduler as it submits a job, before the job's coroutine starts: the fire time it
        # was scheduled for, the same on every scheduler (a catch-up run's is the daemon's start).
        if event.scheduled_run_times:
            self._fired[event.job_id] = max(event.scheduled_run_times)

    async def _defer(self, duty: str) -> None:
        """Queue mode: defer one task per site of ``duty`` for this fire time; never raises."""
        from monitor.app.queue import defer_duty, task_sites

        scheduled = self._fired.pop(duty, None) or self.now()
        config = self.config
        outcomes: dict[str, list[str]] = {}
        try:
            for site in task_sites(duty, config):
                outcome = await defer_duty(self._queue_app, config, duty, site, scheduled)
                outcomes.setdefault(outcome, []).append(site or duty)
        except Exception as exc:
            log.error("%s: deferring its tasks failed (the next fire time retries): %s", duty, _reason(exc))
            log.debug("%s: deferral failed", duty, exc_info=True)
        finally:  # what was deferred is said even when a stop cut the round short
            words = {
                "deferred": "deferred",
                "already": "already deferred by another scheduler",
                "waiting": "previous task still queued",
            }
            for outcome, sites in outcomes.items():
                log.info(
                    "%s for %s: %d task(s) %s (%s)",
                    duty,
                    iso(scheduled),
                    len(sites),
                    words[outcome],
                    ", ".join(sites[:8]) + ("…" if len(sites) > 8 else ""),
                )

    # -- re-checks (复核) ---------------------------------------------------------------------------------
    async def _recheck_loop(self) -> None:
        """Run the queued re-checks (console, ``monitor recheck``) every ``console.recheck_poll_seconds``,
        one at a time, each under its duty's lock; one whose duty is running now waits for the next poll."""
        while not self._stop.is_set():
            try:
                queued = await off_loop(self._queued_rechecks, name="monitor-rechecks")
            except Exception as exc:  # a locked or broken database: the next poll tries again
                log.warning("re-checks: cannot read the queue: %s", _reason(exc))
                queued = []
            for recheck in queued:
                if self._stop.is_set():
                    return
                await self._recheck(recheck)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.config.console.recheck_poll_seconds)

    def _queued_rechecks(self) -> list[Recheck]:
        with self._store(self.config) as store:
            # A `monitor recheck --run` killed mid-run leaves its request running: queue it again.
            for recheck_id in requeue_stale_rechecks(store):
                log.warning("re-check #%d was cut off by the end of its process; queued again", recheck_id)
            return pending_rechecks(store)

    async def _recheck(self, recheck: Recheck) -> None:
        """One re-check in a duty thread under the duty's lock (never beside a run of the same duty)."""
        started = self.now()
        try:
            lock = DutyLock(self.database, recheck.duty).acquire(started)
        except Busy:
            log.info("re-check #%d waits: %s is running now", recheck.id, recheck.duty)
            return
        config = self.config
        name = f"recheck #{recheck.id}"
        runner = DutyThread(name, lambda: self._run_recheck(recheck, config))
        self.running[name] = _Running(runner, started)
        self._publish()
        cancelled = False
        try:
            with lock:
                try:
                    await asyncio.shield(runner.start())
                except asyncio.CancelledError:
                    runner.cancel()
                    cancelled = True
        except Exception:
            log.exception("re-check #%d failed", recheck.id)
        finally:
            if runner.done is not None and runner.done.done():
                self.running.pop(name, None)
            self._publish()
        if not cancelled and not self._stop.is_set():
            await self._queue_alerts()

    async def _run_recheck(self, recheck: Recheck, config: Config) -> None:
        """The re-check, in its own thread and loop, with its outcome logged."""
        clock = self._clock(config)
        log.info(
            "re-check #%d starting: %s on %s (finding %s)",
            recheck.id,
            recheck.duty,
            recheck.site,
            recheck.fingerprint,
        )
        try:
            with self._store(config) as store:
                done = await perform_recheck(
                    recheck.id, config, store, clock, progress=lambda: LogProgress(60.0)
                )
        except asyncio.CancelledError:
            log.warning("re-check #%d cancelled at shutdown; it stays queued", recheck.id)
            return
        except Exception as exc:
            log.error("re-check #%d failed: %s", recheck.id, _reason(exc))
            log.debug("re-check #%d failed", recheck.id, exc_info=True)
            return
        log.info("re-check #%d: %s", recheck.id, describe_recheck(done))

    # -- alerts -----------------------------------------------------------------------------------------
    async def _queue_alerts(self, *, at_start: bool = False) -> None:
        """Queue the alerts of what changed since the last look (SQLite work in a thread), then wake the
        alert task. Never raises: an alert problem must not stop a duty or the daemon."""
        config = self.config
        if not config.alerts.enabled:
            if at_start:
                await off_loop(self._heartbeat, name="monitor-heartbeat")
            return
        from monitor.alerts.queue import queue_alerts
        from monitor.alerts.rules import unknown_kinds
        from monitor.alerts.transitions import heartbeat

        clock = self._clock(config)

        def work() -> None:
            with self._store(config) as store:
                outbox = Outbox(config.outbox_path(self.database))
                queue_alerts(config, store, outbox, clock, at_start=at_start)
                if at_start:
                    heartbeat(store, clock.now())

        async with self._alerts_lock:
            try:
                if at_start:
                    for where, problem in unknown_kinds(config.alerts):
                        log.error("alerts: %s: %s (this rule matches no finding)", where, problem)
                await off_loop(work, name="monitor-alerts")
            except Exception as exc:
                log.error("alerts: could not queue the alerts (queued at the next look): %s", _reason(exc))
                log.debug("alerts: queueing failed", exc_info=True)
        self._alerts_wake.set()

    async def _alert_loop(self) -> None:
        """Deliver alerts as they are queued and when their retry or quiet-hours time comes; heartbeat."""
        from monitor.alerts import send

        await self._queue_alerts(at_start=True)
        pruned_on = None
        while True:
            config = self.config
            self._alerts_wake.clear()  # before the round: a wake during it starts another at once
            await off_loop(self._heartbeat, name="monitor-heartbeat")
            if self.queued:
                # The duties ran on workers: what they recorded becomes alerts here, every tick.
                await self._queue_alerts()
                self._alerts_wake.clear()
            if config.alerts.enabled:
                clock = self._clock(config)
                try:
                    outbox = Outbox(config.outbox_path(self.database))
                    await send.drain(outbox, config, clock)
                    today = clock.now().date()
                    if pruned_on != today:  # once a day: sent alerts older than alerts.keep_days go
                        pruned_on = today
                        await send.in_daemon_thread(send.prune, outbox, clock.now(), config.alerts.keep_days)
                except Exception as exc:
                    log.error("alerts: delivery round failed, the outbox keeps every alert: %s", _reason(exc))
                    log.debug("alerts: delivery round failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._alerts_wake.wait(), ALERT_TICK)

    def _heartbeat(self) -> None:
        """Record that the daemon is alive (``monitor_offline`` is a gap in these; written with alerts off
        too, so switching them on later does not mistake the time they were off for an outage)."""
        from monitor.alerts.transitions import heartbeat

        config = self.config
        try:
            with self._store(config) as store:
                heartbeat(store, self._clock(config).now())
        except Exception as exc:  # a locked or full database: the next beat tries again
            log.warning("alerts: cannot write the heartbeat: %s", exc)

    def _backup(self, config: Config, clock: Clock) -> Any:
        with self._store(config) as store:
            return run_backup(config, self.database, store, clock)

    @property
    def _database_label(self) -> str:
        """The database for log lines: the SQLite path, or the PostgreSQL URL (never with a password)."""
        return self.storage.url or str(self.database)

    def _store(self, config: Config) -> Store:
        """Open the store the daemon started with (the reloaded config's lock timeout)."""
        timeout = config.storage.lock_timeout_seconds
        storage = self.storage.model_copy(update={"lock_timeout_seconds": timeout})
        return open_store(storage, self.database)

    # -- state ------------------------------------------------------------------------------------
    def _publish_soon(self) -> None:
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_soon(self._publish)

    def _publish(self) -> None:
        """Write the state file and tell systemd what we are doing."""
        if self._stopping:
            return
        jobs = {}
        for job in self.scheduler.get_jobs():
            spec = self.specs.get(job.id)
            jobs[job.id] = {
                "schedule": describe(spec) if spec else "",
                "next_run": iso(job.next_run_time) if job.next_run_time else None,
            }
        state = {
            "pid": os.getpid(),
            "started_at": iso(self.started_at),
            "config": str(self.config_path),
            "jobs": jobs,
            "running": {duty: iso(entry.started) for duty, entry in self.running.items()},
        }
        path = state_path(self.database)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc)
        self.notifier.status(self._status_text())

    def _status_text(self) -> str:
        parts = []
        if self.running:
            parts.append(
                "running "
                + ", ".join(f"{duty} (since {e.started:%H:%M:%S})" for duty, e in self.running.items())
            )
        else:
            parts.append("idle")
        upcoming = [j for j in self.scheduler.get_jobs() if j.next_run_time is not None]
        if upcoming:
            job = min(upcoming, key=lambda j: j.next_run_time)
            parts.append(f"next: {job.id} at {job.next_run_time:%Y-%m-%d %H:%M:%S}")
        return "; ".join(parts)



def log_results(duty: str, results: Iterable[Any], logger: logging.Logger = log) -> None:
    """One log line per site run of a duty (the daemon's and the worker's journal read the same)."""
    for r in results:
        logger.info(
            "%s on %s: run #%d %s, %d findings, %d open%s",
            duty,
            r.site.id,
            r.run_id,
            r.status,
            len(r.findings),
            r.open_findings,
            f" ({r.error})" if r.error else "",
        )

def _reason(exc: BaseException) -> str:
    """One line naming an error (its type when the message is empty)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_daemon(config_path: Path, config: Config, database: Path) -> int:
    """Run the daemon until it stops; the exit status (0 after a clean stop).

    A duty thread stuck in a system call after the stop (see :meth:`Daemon.left_behind`) would keep the
    interpreter from exiting (it joins executor threads at exit), so the process then ends at once.
    """
    daemon = Daemon(config_path, config, database)
    code = asyncio.run(daemon.main())
    if daemon.left_behind():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


async def run_report(config: Config, database: Path, clock: Clock, storage: Storage | None = None) -> bool:
    """The ``report`` duty: ``monitor.bulletin.weekly_job(config, store, clock)`` when installed.

    Imported lazily: the bulletin is an optional part of an installation. The call is recorded as a run
    of ``report`` (so catch-up and ``monitor status`` see it); a dict it returns becomes the run's counts.
    """
    try:
        module = importlib.import_module("monitor.bulletin")
    except ModuleNotFoundError as exc:
        if exc.name != "monitor.bulletin":
            raise
        log.info("report: monitor.bulletin is not part of this installation; no weekly bulletin")
        return False
    job = getattr(module, "weekly_job", None)
    if job is None:
        log.warning("report: monitor.bulletin has no weekly_job(config, store, clock); no weekly bulletin")
        return False
    storage = storage or config.storage
    if inspect.iscoroutinefunction(job):
        with open_store(storage, database) as store:
            await _recorded(store, clock, job(config, store, clock))
    else:
        # A blocking bulletin build runs in a thread with its own connection, so the loop stays alive.
        def call() -> None:
            with open_store(storage, database) as store:
                result: Any = None
                run_id = store.start_run("report", "report", ("report",), clock.now())
                try:
                    result = job(config, store, clock)
                except BaseException as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    store.finish_run(run_id, status="failed", now=clock.now(), error=error)
                    raise
                store.finish_run(run_id, status="ok", now=clock.now(), counts=_counts(result))

        await asyncio.to_thread(call)
    log.info("report: weekly bulletin done")
    return True


async def _recorded(store: Store, clock: Clock, work: Any) -> None:
    run_id = store.start_run("report", "report", ("report",), clock.now())
    try:
        result = await work
    except asyncio.CancelledError:
        store.mark_interrupted(run_id, clock.now())
        raise
    except Exception as exc:
        store.finish_run(run_id, status="failed", now=clock.now(), error=f"{type(exc).__name__}: {exc}")
        raise
    store.finish_run(run_id, status="ok", now=clock.now(), counts=_counts(result))


def _counts(result: Any) -> dict[str, Any]:
    return dict(result) if isinstance(result, dict) else {}
