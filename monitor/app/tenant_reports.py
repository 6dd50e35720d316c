"""``monitor report weekly --tenant ID | --all-tenants``: the tenants' bulletins and the province summary.

Kept out of ``cli`` so the command line stays a table of commands. Messages are English (CLI), the
figures Chinese as in the bulletin; every problem is a usage error (status 2) or a failure (status 3),
never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from pathlib import Path

import click

from monitor.app.lang import t
from monitor.config import Config
from monitor.core.clock import Clock
from monitor.core.isoweek import IsoWeek
from monitor.core.textsafe import inert
from monitor.store.database import Store

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3


class TenantUsageError(Exception):
    """The command cannot run as asked (unknown tenant, no recipients…): exit status 2."""


def _write_error(exc: OSError, where: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full: cannot write the bulletin to {exc.filename or where}"
    return (
        f"cannot write the bulletin to {exc.filename or where}: {exc.strerror or exc} "
        "(set bulletin.reports_dir to a writable folder, or use --output-dir)"
    )


def report_tenants(
    config: Config,
    clock: Clock,
    open_store: Callable[[], Store],
    outbox_dir: Path,
    week: IsoWeek,
    *,
    tenant_id: str | None,
    send: bool,
    output_dir: Path | None,
    force: bool,
) -> int:
    """Render (and with ``send`` mail) one tenant's bulletin, or every tenant's and the province summary
    (``tenant_id`` None). Returns the exit status; raises TenantUsageError for a usage error."""
    from monitor.bulletin.province_publish import render_summary, send_summary
    from monitor.bulletin.publish import send_report
    from monitor.bulletin.tenants import render_tenant, tenant_week_without_data

    if not config.tenants:
        raise TenantUsageError(
            "this configuration has no tenants: run `monitor report weekly` without --tenant"
        )
    ids = [t.id for t in config.tenants]
    if tenant_id is not None and tenant_id not in ids:
        raise TenantUsageError(f"no tenant {tenant_id!r}; tenants: {', '.join(ids)}")
    chosen = [tenant_id] if tenant_id is not None else ids
    if send:
        missing = [tid for tid in chosen if not config.for_tenant(tid).bulletin.recipients]
        if missing:
            raise TenantUsageError(
                f"tenant(s) {', '.join(missing)} have no recipients: add tenants[N].bulletin.recipients"
            )
    status = EXIT_OK
    with open_store() as store:
        if send and not force:
            for tid in chosen:
                empty = tenant_week_without_data(store, config, tid, week)
                if empty is not None:
                    raise TenantUsageError(
                        f"not sending tenant {tid}'s bulletin: {empty}, so every check would read "
                        "本周未开展; run the duties first, or add --force to send it anyway"
                    )
        for tid in chosen:
            try:
                done = render_tenant(store, config, tid, week, clock, output_dir)
            except OSError as exc:
                click.echo(f"error: {inert(_write_error(exc, output_dir or config.reports_path))}", err=True)
                return EXIT_FAILED
            b = done.report.bulletin
            if done.empty is not None:
                click.echo(f"note: {tid}: {done.empty}: the bulletin has no data", err=True)
            click.echo(f"[{tid}] {b.title}{'（本周尚未结束）' if b.incomplete else ''}")
            totals = b.totals
            click.echo(
                t(
                    f"  待整改{totals['open']}个（本周新发现{totals['new']}个，逾期{totals['overdue']}个），"
                    f"本周已整改{totals['fixed']}个",
                    f"  {totals['open']} open ({totals['new']} new, {totals['overdue']} overdue), "
                    f"{totals['fixed']} fixed this week",
                )
            )
            for path in (done.report.html, done.report.text, done.report.xlsx, done.report.docx):
                click.echo(f"  {path}")
            if send:
                delivery = asyncio.run(send_report(done.report, done.config, clock, outbox_dir))
                click.echo(f"  {done.report.eml}")
                entry = delivery.entry
                if entry.status != "sent":
                    click.echo(
                        f"mail {entry.key}: {entry.status}: {inert(entry.last_error)}; "
                        "it stays in the outbox (monitor outbox flush)",
                        err=True,
                    )
                    status = EXIT_FAILED
        if tenant_id is not None:
            return status
        try:
            summary = render_summary(store, config, week, clock, output_dir)
        except OSError as exc:
            click.echo(f"error: {inert(_write_error(exc, output_dir or config.reports_path))}", err=True)
            return EXIT_FAILED
    s = summary.summary
    click.echo(f"[province] {s.title}")
    for r in s.rows:
        rank = t(f"第{r.rank}名", f"#{r.rank}") if r.rank is not None else t("未排名", "not ranked")
        click.echo(
            t(
                f"  {rank} {r.name}：单项否决{r.veto}个，待整改{r.open}个，"
                f"整改率{r.rate_zh}，逾期{r.overdue}个",
                f"  {rank} {r.name}: {r.veto} veto, {r.open} open, fixed {r.rate_zh}, {r.overdue} overdue",
            )
        )
    for path in (summary.html, summary.text, summary.xlsx, summary.docx):
        click.echo(f"  {path}")
    if send:
        if config.province is None or not config.province.recipients:
            click.echo("note: province.recipients is empty: the province summary was not mailed", err=True)
            return status
        delivery = asyncio.run(send_summary(summary, config, clock, outbox_dir))
        click.echo(f"  {summary.eml}")
        if delivery.entry.status != "sent":
            click.echo(
                f"mail {delivery.entry.key}: {delivery.entry.status}: {inert(delivery.entry.last_error)}; "
                "it stays in the outbox (monitor outbox flush)",
                err=True,
            )
            status = EXIT_FAILED
    return status
