"""Rendering a week's bulletin to ``reports/<year>-W<week>/`` and handing it to the outbox.

The files (bulletin.html, bulletin.txt, the workbook ``2026-W48问题清单.xlsx``, the Word document
``2026-W48监测通报.docx``, and bulletin.eml when sent) are each replaced atomically, so an office
colleague opening bulletin.html mid-render never sees half a file. The workbook and the document carry the
names the bulletin's text and the mail give them (:mod:`monitor.bulletin.names`). The evidence
screenshots of the week's problems are copied from beside the database into ``evidence/`` next to them,
so the folder is complete on its own (bulletin.html shows them, the workbook names them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.bulletin.outbox import Outbox, OutboxEntry, idempotency_key
from monitor.config import Config
from monitor.core.atomicfile import replace_atomic, write_atomic
from monitor.core.clock import Clock
from monitor.core.duties import SPECIAL_DUTIES
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store
from monitor.store.evidence import is_evidence_name

from .docx import write_document
from .mail import MAIL_IMAGE_MAX_BYTES, MAIL_IMAGES_MAX_BYTES, build_message, image_cid
from .model import Bulletin, Problem, build_bulletin
from .names import document_name, workbook_name
from .render import SHOT_NOTE_MAIL, inline_css, render_html, render_text, trim_sections
from .scope import TenantScope
from .xlsx import write_workbook

log = logging.getLogger(__name__)


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
        """The workbook (附件1, 附件2) attached to the mail, named as the text names it."""
        return self.folder / workbook_name(self.bulletin.week)

    @property
    def docx(self) -> Path:
        """The Word document of the 通报 (for 盖章印发), attached to the mail."""
        return self.folder / document_name(self.bulletin.week)

    @property
    def evidence(self) -> Path:
        """The copies of the problems' evidence screenshots (``<sha256>.png``)."""
        return self.folder / "evidence"

    @property
    def eml(self) -> Path:
        """The message as sent (only with --send)."""
        return self.folder / "bulletin.eml"


def week_without_data(
    store: Store, config: Config, week: IsoWeek, scope: TenantScope | None = None
) -> str | None:
    """Why ``week`` has nothing to report — no duty completed a run in it — or None when one did.

    A bulletin for such a week would read "已开展的检查未发现待整改问题" while every check says 本周未开展
    (a daemon's first start on an empty database): it is never sent (the daemon skips it, ``--send``
    refuses it unless ``--force``).
    """
    tz = config.tz
    runs = store.runs_between(week.start(tz), week.end(tz))
    if scope is not None:  # a tenant's week: only runs of its own sites (and whole-config duties) count
        runs = scope.runs(runs)
    if any(r["status"] == "ok" and r["duty"] not in SPECIAL_DUTIES for r in runs):
        return None
    tried = [r for r in runs if r["duty"] not in SPECIAL_DUTIES and r["status"] != "skipped"]
    if tried:
        return f"no duty completed a run in {week.label} ({len(tried)} run(s), none successful)"
    return f"no duty ran in {week.label}"


def render_report(
    store: Store,
    config: Config,
    week: IsoWeek,
    clock: Clock,
    reports_dir: Path | None = None,
    scope: TenantScope | None = None,
) -> Report:
    """Build the bulletin for ``week`` and write its files; returns where they are.

    For a tenant, ``config`` is narrowed to it (``Config.for_tenant``: its reports folder is
    ``reports/<tenant id>/``) and ``scope`` says which rows of the store are its own.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    b = build_bulletin(store, config, week, clock, scope)
    timings["model"] = time.perf_counter() - t0
    folder = (reports_dir or config.reports_path) / week.label
    report = Report(b, folder, timings)
    t0 = time.perf_counter()
    copied = copy_screenshots(b, store.evidence_dir, folder / "evidence")
    timings["screenshots"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    images = {name: f"evidence/{name}" for name in copied}
    write_atomic(report.html, render_html(b, images=images))
    timings["html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_atomic(report.text, render_text(b))
    timings["text"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    replace_atomic(report.xlsx, lambda tmp: write_workbook(b, tmp))
    timings["xlsx"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    replace_atomic(report.docx, lambda tmp: write_document(b, tmp))
    timings["docx"] = time.perf_counter() - t0
    return report


def copy_screenshots(b: Bulletin, source: Path | None, target: Path) -> set[str]:
    """Copy the screenshots of the bulletin's problems from the store's folder into ``target``.

    Returns the names available in ``target``. A file missing at the source (removed by hand, or never
    written: the disk was full) is left out and the bulletin names it as not available.
    """
    names = {s.file for p in b.problems for s in p.screenshots}
    available: set[str] = set()
    for name in sorted(names):
        if not is_evidence_name(name):  # only our sha256 names are ever joined to a path
            continue
        copy = target / name
        try:
            if not copy.is_file():
                if source is None:
                    continue
                data = (source / name).read_bytes()
                write_atomic(copy, data)
            available.add(name)
        except OSError as exc:
            log.warning("bulletin: screenshot %s not copied: %s", name, exc)
    return available


def mail_images(report: Report, listed: list[Problem]) -> list[tuple[str, bytes]]:
    """The screenshots embedded in the mail as ``(file name, PNG)``, in the order they are shown.

    Each is at most MAIL_IMAGE_MAX_BYTES and all together at most MAIL_IMAGES_MAX_BYTES (mail servers
    commonly refuse messages over 10–20 MB, and the XLSX rides along); the rest are named in the text.
    """
    chosen: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    total = 0
    for p in listed:
        for s in p.screenshots:
            if s.file in seen or not is_evidence_name(s.file):
                continue
            seen.add(s.file)
            path = report.evidence / s.file
            try:
                size = path.stat().st_size
                if size > MAIL_IMAGE_MAX_BYTES or total + size > MAIL_IMAGES_MAX_BYTES:
                    continue
                chosen.append((s.file, path.read_bytes()))
            except OSError:
                continue
            total += size
    return chosen


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
    key = idempotency_key(b.week.label, opts.recipients, b.tenant)
    outbox = Outbox(outbox_dir)
    entry = outbox.get(key)
    queued_now = False
    if entry is None:
        # The mail body is the summary and the top problems of each type; the attachments hold them all.
        per_type = opts.mail_listed_per_type
        # Screenshots shown in the mail: those of the problems listed in section 二, as inline CID parts.
        listed = [
            p for section in trim_sections(b.sections, per_type) for u in section.units for p in u.problems
        ]
        images = mail_images(report, listed)
        cids = {name: image_cid(name, b.week.label) for name, _ in images}
        html = render_html(
            b,
            row_limit=opts.mail_list_limit,
            images={name: f"cid:{cid}" for name, cid in cids.items()},
            shot_note=SHOT_NOTE_MAIL,
            mail=True,
            listed_per_type=per_type,
        )
        text = render_text(b, row_limit=opts.mail_list_limit, mail=True, listed_per_type=per_type)
        msg = build_message(
            b,
            config,
            text=text,
            html=inline_css(html),
            xlsx=report.xlsx.read_bytes(),
            docx=report.docx.read_bytes(),
            now=clock.now(),
            key=key,
            images=[(cids[name], data) for name, data in images],
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
