"""Rendering a week's bulletin to ``reports/<year>-W<week>/`` and handing it to the outbox.

The files (bulletin.html, bulletin.txt, findings.xlsx, and bulletin.eml when sent) are each replaced
atomically, so an office colleague opening bulletin.html mid-render never sees half a file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.atomicfile import replace_atomic, write_atomic
from monitor.clock import Clock
from monitor.config import Config
from monitor.isoweek import IsoWeek
from monitor.outbox import Outbox, OutboxEntry, idempotency_key
from monitor.store import Store

from .mail import attachment_name, build_message
from .model import Bulletin, build_bulletin
from .render import inline_css, render_html, render_text
from .xlsx import write_workbook


@dataclass
class Report:
    """A rendered bulletin on disk."""

    bulletin: Bulletin
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def html(self) -> Path:
        """The bulletin as a web page (full problem list)."""
        return self.folder / "bulletin.html"

    @property
    def text(self) -> Path:
        """The bulletin as plain text."""
        return self.folder / "bulletin.txt"

    @property
    def xlsx(self) -> Path:
        """The workbook attached to the mail."""
        return self.folder / "findings.xlsx"

    @property
    def eml(self) -> Path:
        """The message as sent (only with --send)."""
        return self.folder / "bulletin.eml"


def render_report(
    store: Store, config: Config, week: IsoWeek, clock: Clock, reports_dir: Path | None = None
) -> Report:
    """Build the bulletin for ``week`` and write its files; returns where they are."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    b = build_bulletin(store, config, week, clock)
    timings["model"] = time.perf_counter() - t0
    folder = (reports_dir or config.reports_path) / week.label
    xlsx_name = attachment_name(b)
    t0 = time.perf_counter()
    write_atomic(folder / "bulletin.html", render_html(b, xlsx_name=xlsx_name))
    timings["html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_atomic(folder / "bulletin.txt", render_text(b, xlsx_name=xlsx_name))
    timings["text"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    replace_atomic(folder / "findings.xlsx", lambda tmp: write_workbook(b, tmp))
    timings["xlsx"] = time.perf_counter() - t0
    return Report(b, folder, timings)


@dataclass
class Delivery:
    """What ``send_report`` did."""

    entry: OutboxEntry
    queued_now: bool


async def send_report(
    report: Report,
    config: Config,
    clock: Clock,
    outbox_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
) -> Delivery:
    """Persist the bulletin's message in the outbox (once per week and recipient list), then send it.

    The message is only built and queued when its key is new; a re-run for the same week and
    recipients finds it and at most retries the delivery of the queued copy — it never sends twice.
    """
    opts = config.bulletin
    if not opts.recipients:
        raise ValueError("bulletin.recipients is empty: add the addresses the bulletin goes to")
    b = report.bulletin
    key = idempotency_key(b.week.label, opts.recipients)
    outbox = Outbox(outbox_dir)
    entry = outbox.get(key)
    queued_now = False
    if entry is None:
        xlsx_name = attachment_name(b)
        msg = build_message(
            b,
            config,
            text=render_text(b, xlsx_name=xlsx_name, row_limit=opts.mail_list_limit),
            html=inline_css(render_html(b, xlsx_name=xlsx_name, row_limit=opts.mail_list_limit)),
            xlsx=report.xlsx.read_bytes(),
            now=clock.now(),
            key=key,
        )
        entry, queued_now = outbox.enqueue(
            msg, key=key, week=b.week.label, recipients=list(opts.recipients), now=clock.now()
        )
    write_atomic(report.eml, outbox.message_bytes(key))
    if entry.status != "sent":
        entry = await outbox.deliver(
            key, opts.smtp, clock, env=env, retries=opts.smtp.retries, base_dir=Path(config.base_dir)
        )
    return Delivery(entry, queued_now)
