"""``monitor prune --older-than 180d``: remove what a long-running installation no longer needs.

What goes, when older than the cutoff:

- weekly report folders ``<reports_dir>/<year>-W<week>/`` of weeks that ended before it (with tenants also
  ``<reports_dir>/<tenant id>/<year>-W<week>/`` and ``<reports_dir>/province/<year>-W<week>/``);
- outbox messages already **sent** before it (queued or failed ones always stay: they are still owed);
- evidence screenshots (``monitor.db.evidence/<sha256>.png``) last written before it that no open
  finding refers to;
- the details of old runs (their figures; each duty's and site's latest run keeps them) and
  availability probes taken before it.

Never touched: findings of any status and their history (an open finding is never pruned, an ignored one
keeps silencing), the runs' rows, backups (``backup.keep`` rotates those).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.bulletin.outbox import ALERT_SUFFIX, MAIL_CHANNEL, Outbox
from monitor.config import PROVINCE_ID, Config
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store
from monitor.store.evidence import is_evidence_name

_WEEK_FOLDER = re.compile(r"\d{4}-W\d{2}")


@dataclass
class PruneResult:
    """What ``prune`` removed (or, with ``dry_run``, would remove)."""

    cutoff: datetime
    dry_run: bool
    report_folders: list[Path] = field(default_factory=list)
    mails: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    screenshots_kept: int = 0
    runs: int = 0
    probes: int = 0
    freed_bytes: int = 0
    errors: list[str] = field(default_factory=list)


def prune(
    store: Store, config: Config, outbox_dir: Path, now: datetime, older_than: timedelta, *, dry_run: bool
) -> PruneResult:
    """Remove reports, sent mail, unreferenced screenshots and run details older than ``older_than``."""
    if older_than < timedelta(days=config.availability.window_days + 1):
        raise ValueError(
            f"--older-than must be longer than the availability window ({config.availability.window_days} "
            "days): the probes inside it are still judged"
        )
    cutoff = now - older_than
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    _prune_reports(config, cutoff, result)
    _prune_outbox(outbox_dir, cutoff, result)
    _prune_screenshots(store, cutoff, result)
    details = store.prune_details(cutoff, dry_run=dry_run)
    result.runs, result.probes = details["runs"], details["probes"]
    return result


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _report_folders(config: Config) -> list[Path]:
    """Where week folders are: the reports folder, and with tenants each tenant's and the province's."""
    top = config.reports_path
    if not config.tenants:
        return [top]
    return [top, *(top / t.id for t in config.tenants), top / PROVINCE_ID]


def _prune_reports(config: Config, cutoff: datetime, result: PruneResult) -> None:
    for folder in _report_folders(config):
        if folder.is_dir():
            _prune_week_folders(folder, config, cutoff, result)


def _prune_week_folders(folder: Path, config: Config, cutoff: datetime, result: PruneResult) -> None:
    for child in sorted(folder.iterdir()):
        if not (child.is_dir() and _WEEK_FOLDER.fullmatch(child.name)):
            continue  # only our own week folders; anything else an office put there stays
        try:
            week = IsoWeek.parse(child.name)
        except ValueError:
            continue
        if week.end(config.tz) > cutoff:
            continue
        result.freed_bytes += _size(child)
        result.report_folders.append(child)
        if not result.dry_run:
            try:
                shutil.rmtree(child)
            except OSError as exc:
                result.errors.append(f"{child}: {exc.strerror or exc}")


def _prune_outbox(outbox_dir: Path, cutoff: datetime, result: PruneResult) -> None:
    outbox = Outbox(outbox_dir)
    for entry in outbox.entries():
        if entry.status != "sent" or not entry.sent_at:
            continue
        try:
            sent = datetime.fromisoformat(entry.sent_at)
        except ValueError:
            continue
        if sent >= cutoff:
            continue
        suffix = ".eml" if entry.channel == MAIL_CHANNEL else ALERT_SUFFIX
        files = [outbox_dir / f"{entry.key}{suffix}", outbox_dir / f"{entry.key}.json"]
        result.mails.append(entry.key)
        result.freed_bytes += sum(f.stat().st_size for f in files if f.is_file())
        if not result.dry_run:
            # Outbox.discard removes the payload before its state: a payload left without a state would
            # read as a crash mid-queue and be queued and sent again.
            try:
                outbox.discard(entry.key, suffix)
            except OSError as exc:
                result.errors.append(f"{outbox_dir / entry.key}: {exc.strerror or exc}")


def _prune_screenshots(store: Store, cutoff: datetime, result: PruneResult) -> None:
    folder = store.evidence_dir
    if folder is None or not folder.is_dir():
        return
    in_use = store.screenshots_in_use()
    limit = cutoff.timestamp()
    for path in sorted(folder.iterdir()):
        if not is_evidence_name(path.name) or not path.is_file():
            continue
        # A screenshot seen again is not rewritten (same content, same name), so its mtime is when it was
        # first taken; what still matters is whether an open finding shows it.
        if path.name in in_use:
            result.screenshots_kept += 1
            continue
        if path.stat().st_mtime >= limit:
            continue
        result.freed_bytes += path.stat().st_size
        result.screenshots.append(path)
        if not result.dry_run:
            try:
                path.unlink()
            except OSError as exc:
                result.errors.append(f"{path}: {exc.strerror or exc}")
