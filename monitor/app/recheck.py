"""Running a re-check (复核): the finding's duty on the finding's site, through the one runner.

A re-check is queued by the console or ``monitor recheck ID`` (``monitor.store.triage.request_recheck``)
and run here by the daemon (every ``console.recheck_poll_seconds``) or at once by ``monitor recheck ID
--run``. The caller holds the duty's lock (``monitor.app.locks``), so a re-check never runs beside another
run of the same duty. The run is an ordinary run of the duty on that one site: its findings go through the
normal lifecycle, so the finding closes only when a complete, credible run no longer sees it; the re-check
records what the run showed (``finish_recheck``). See docs/findings.md, "Re-checks".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from checks import SITE_CHECKS
from monitor.config import Config
from monitor.core.clock import Clock
from monitor.crawl.progress import Progress
from monitor.runner import DutyError, run_duty
from monitor.store.database import Store
from monitor.store.triage import (
    Recheck,
    claim_recheck,
    finding_open,
    finish_recheck,
    get_recheck,
    release_recheck,
)


def site_config(config: Config, recheck: Recheck) -> Config:
    """``config`` narrowed to the re-check's site (a global check runs as configured); DutyError when the
    site is no longer configured."""
    if recheck.duty in SITE_CHECKS and SITE_CHECKS[recheck.duty].scope == "global":
        return config
    for site in config.sites:
        if site.id == recheck.site:
            return config.model_copy(update={"sites": (site,)})
    raise DutyError(f"站点“{recheck.site}”已不在配置中，无法复核")


async def perform_recheck(
    recheck_id: int,
    config: Config,
    store: Store,
    clock: Clock,
    *,
    progress: Callable[[], Progress] = Progress,
) -> Recheck:
    """Claim a pending re-check, run its duty on its site and record the outcome; the caller holds the
    duty's lock. Returns the re-check as it stands after (``pending`` again when the run could not tell
    and attempts remain). A stop (cancel, Ctrl-C) hands the request back to the queue uncounted."""
    recheck = claim_recheck(store, recheck_id, clock.now())
    if recheck is None:
        current = get_recheck(store, recheck_id)
        if current is None:
            raise KeyError(recheck_id)
        return current  # another process took it first, or it is done
    attempts = config.console.recheck_attempts
    if not finding_open(store, recheck.fingerprint):
        # Resolved by a scheduled run meanwhile, or marked 误报: no run needed.
        return finish_recheck(store, recheck.id, None, clock.now(), retry=False)
    try:
        narrowed = site_config(config, recheck)
        results = await run_duty(recheck.duty, narrowed, store, clock, progress=progress)
    except (asyncio.CancelledError, KeyboardInterrupt):
        release_recheck(store, recheck.id)
        raise
    except DutyError as exc:
        return finish_recheck(store, recheck.id, None, clock.now(), error=str(exc), retry=False)
    except Exception as exc:
        # The store itself failed (disk full, lock held too long): the run must not stay "running".
        reason = f"{type(exc).__name__}: {exc}"
        store.fail_unfinished(clock.now(), reason)
        return finish_recheck(store, recheck.id, None, clock.now(), error=reason, max_attempts=attempts)
    run_id = next((r.run_id for r in results if r.site.id == recheck.site), results[0].run_id)
    return finish_recheck(store, recheck.id, run_id, clock.now(), max_attempts=attempts)


def describe(recheck: Recheck) -> str:
    """The re-check's state in one Chinese sentence (the CLI prints it; the daemon logs it)."""
    if recheck.state == "pending" and recheck.attempts:
        return f"复核 #{recheck.id} 暂无结论：{recheck.note}"
    if recheck.state == "pending":
        return f"复核 #{recheck.id} 已排队，等待执行"
    if recheck.state == "running":
        return f"复核 #{recheck.id} 正在执行（{recheck.claimed_by}）"
    heading = {
        "closed": "复核通过",
        "still_present": "复核未通过",
        "not_credible": "复核无法判断",
        "cancelled": "复核已取消",
    }.get(recheck.outcome or "", "复核结束")
    return f"{heading}（复核 #{recheck.id}）：{recheck.note}"
