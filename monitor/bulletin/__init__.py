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
    if config.tenants:
        return await tenants_job(config, store, clock, week)
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


async def tenants_job(config: Config, store: Store, clock: Clock, week: Any) -> dict[str, Any]:
    """The ``report`` duty with tenants (issue 24): every tenant's bulletin to its own recipients, then the
    province summary to ``province.recipients``.

    A tenant whose week has no data is skipped like a single county's (nothing rendered or mailed); one
    tenant's failure to send never stops the others (its message stays in the outbox and is retried).
    """
    from monitor.bulletin.outbox import Outbox
    from monitor.bulletin.province_publish import render_summary, send_summary
    from monitor.bulletin.publish import send_report
    from monitor.bulletin.tenants import render_tenant, tenant_week_without_data

    outbox_dir = config.outbox_path(store.path)
    counts: dict[str, Any] = {"week": week.label, "tenants": {}}
    with_data = 0
    failed: list[str] = []
    for tenant in config.tenants:
        mine: dict[str, Any] = {}
        counts["tenants"][tenant.id] = mine
        empty = tenant_week_without_data(store, config, tenant.id, week)
        if empty is not None:
            log.info("report: %s %s: %s; no bulletin rendered or mailed", tenant.id, week.label, empty)
            mine["skipped"] = empty
            continue
        with_data += 1
        try:
            done = render_tenant(store, config, tenant.id, week, clock)
        except OSError as exc:  # one tenant's unwritable folder must not stop the others' bulletins
            log.error("report: %s %s not rendered: %s", tenant.id, week.label, exc)
            mine["error"] = str(exc)
            failed.append(tenant.id)
            continue
        mine.update(open=done.report.bulletin.totals["open"], html=str(done.report.html))
        if not done.config.bulletin.recipients:
            log.info("report: %s %s rendered; it has no recipients, nothing mailed", tenant.id, week.label)
            continue
        delivery = await send_report(done.report, done.config, clock, outbox_dir)
        mine["mail"] = delivery.entry.status
        if delivery.entry.status != "sent":
            log.warning(
                "report: %s %s queued, not yet sent: %s", tenant.id, week.label, delivery.entry.last_error
            )
    if with_data:
        summary = render_summary(store, config, week, clock)
        counts["province"] = {"html": str(summary.html)}
        if config.province is not None and config.province.recipients:
            delivery = await send_summary(summary, config, clock, outbox_dir)
            counts["province"]["mail"] = delivery.entry.status
            if delivery.entry.status != "sent":
                log.warning("report: province summary %s queued, not yet sent", week.label)
    retried = await Outbox(outbox_dir).flush(
        config.bulletin.smtp, clock, due_only=True, base_dir=Path(config.base_dir)
    )
    counts["outbox_retried"] = len(retried)
    if failed:  # the run is recorded as failed, naming them; every other tenant's bulletin went out
        raise RuntimeError(f"bulletins of tenant(s) {', '.join(failed)} could not be written (see the log)")
    return counts
