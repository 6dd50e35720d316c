"""The weekly bulletin (通报): built from the store, rendered to HTML/text/XLSX, delivered by email."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.core.clock import Clock
    from monitor.store.database import Store

log = logging.getLogger(__name__)


async def weekly_job(config: Config, store: Store, clock: Clock) -> dict[str, Any]:
    """The daemon's ``report`` duty: render last week's bulletin and mail it through the outbox.

    The same functions as ``monitor report weekly --send``. Messages still waiting in the outbox from
    earlier weeks (SMTP was down) are retried too. Returns the figures recorded as the run's counts.
    """
    from monitor.bulletin.outbox import Outbox
    from monitor.bulletin.publish import render_report, send_report, week_without_data
    from monitor.core.isoweek import last_complete_week

    week = last_complete_week(clock.now())
    empty = week_without_data(store, config, week)
    if empty is not None:
        # First start on an empty database, or the monitor was down all week: an empty bulletin would tell
        # the units "no problems" about checks that never ran. Nothing is rendered or mailed.
        log.info("report: %s: %s; no bulletin rendered or mailed", week.label, empty)
        counts: dict[str, Any] = {"week": week.label, "skipped": empty}
        if config.bulletin.recipients:  # earlier weeks' messages still waiting are retried all the same
            retried = await Outbox(config.outbox_path(store.path)).flush(
                config.bulletin.smtp, clock, due_only=True, base_dir=Path(config.base_dir)
            )
            counts["outbox_retried"] = len(retried)
        return counts
    report = render_report(store, config, week, clock)
    counts = {
        "week": week.label,
        "open": report.bulletin.totals["open"],
        "html": str(report.html),
    }
    if not config.bulletin.recipients:
        log.info("report: %s rendered; bulletin.recipients is empty, nothing mailed", week.label)
        return counts
    outbox_dir = config.outbox_path(store.path)
    delivery = await send_report(report, config, clock, outbox_dir)
    counts["mail"] = delivery.entry.status
    retried = await Outbox(outbox_dir).flush(
        config.bulletin.smtp, clock, due_only=True, base_dir=Path(config.base_dir)
    )
    counts["outbox_retried"] = len(retried)
    if delivery.entry.status != "sent":
        # The message is safe in the outbox and is retried with backoff; the run itself did its job.
        log.warning("report: %s queued, not yet sent: %s", week.label, delivery.entry.last_error)
    return counts
