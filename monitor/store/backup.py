"""Consistent online copies of the SQLite database, verified and rotated (``monitor backup``, daemon
monthly). A store on PostgreSQL is backed up with the server's ``pg_dump`` instead (docs/postgresql.md).

SQLite's online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while the CLI
or the daemon keep writing; the copy is checked with ``PRAGMA integrity_check`` before it gets its final
name, and only then are the oldest copies beyond ``backup.keep`` deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.config import Config
from monitor.core.clock import Clock
from monitor.store.database import Store

PREFIX = "monitor-"
SUFFIX = ".db"
_NAME = re.compile(r"monitor-(\d{8}-\d{6})(?:-(\d+))?\.db")


class BackupError(Exception):
    """The copy could not be made or did not verify; nothing was rotated."""


@dataclass(frozen=True)
class BackupResult:
    """A verified copy and what rotation removed."""

    path: Path
    bytes: int
    kept: int
    removed: tuple[Path, ...]

    def counts(self) -> dict[str, object]:
        """The run's counts."""
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "kept": self.kept,
            "removed": [p.name for p in self.removed],
        }


def backup_database(database: Path, directory: Path, keep: int, now: datetime) -> BackupResult:
    """Copy ``database`` into ``directory`` as ``monitor-YYYYmmdd-HHMMSS.db``, verify, then rotate."""
    if not database.exists():
        raise BackupError(f"no database at {database}")
    directory.mkdir(parents=True, exist_ok=True)
    final = _free_name(directory, f"{now:%Y%m%d-%H%M%S}")
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(database, timeout=30.0)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)  # one step: a single consistent read snapshot
                # The source is in WAL mode; a lone copy is easier to move around as a rollback journal.
                target.execute("PRAGMA journal_mode = DELETE")
                verdict = [row[0] for row in target.execute("PRAGMA integrity_check")]
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup of {database} failed: {exc}") from exc
    if verdict != ["ok"]:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy of {database} failed integrity_check: {'; '.join(verdict[:5])}")
    os.replace(partial, final)
    size = final.stat().st_size
    removed = rotate(directory, keep)
    return BackupResult(final, size, len(list_backups(directory)), removed)


def list_backups(directory: Path) -> list[Path]:
    """Our copies in a folder, oldest first (other files are never touched)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        m = _NAME.fullmatch(path.name)
        if m and path.is_file():
            found.append(((m.group(1), int(m.group(2) or 1)), path))
    return [path for _, path in sorted(found)]


def rotate(directory: Path, keep: int) -> tuple[Path, ...]:
    """Delete the oldest copies beyond ``keep``; leftovers of interrupted copies go too."""
    for stale in directory.glob(f"{PREFIX}*{SUFFIX}.partial"):
        with contextlib.suppress(OSError):
            stale.unlink()
    copies = list_backups(directory)
    doomed = tuple(copies[: max(0, len(copies) - keep)])
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _free_name(directory: Path, stamp: str) -> Path:
    """``monitor-<stamp>.db``, or ``-N`` numbered after every copy of that second, so it sorts newest."""
    counters = [
        int(m.group(2) or 1)
        for p in directory.iterdir()
        if (m := _NAME.fullmatch(p.name)) and m.group(1) == stamp
    ]
    suffix = f"-{max(counters) + 1}" if counters else ""
    return directory / f"{PREFIX}{stamp}{suffix}{SUFFIX}"


def backup_directory(config: Config, database: Path) -> Path:
    """``backup.directory``; a relative one lives next to the database (systemd's StateDirectory)."""
    path = Path(config.backup.directory)
    return path if path.is_absolute() else database.parent / path


#: Why the ``backup`` duty copies nothing on PostgreSQL (recorded as the skipped run's reason).
NOT_ON_POSTGRESQL = (
    "the store is on PostgreSQL: back it up with pg_dump on the database server (docs/postgresql.md)"
)


def run_backup(config: Config, database: Path, store: Store, clock: Clock) -> BackupResult | None:
    """The ``backup`` duty: make a copy and record it as a run (so catch-up and status see it).

    The run is recorded after the copy is made, so the copy never contains its own ``running`` row.
    A store on PostgreSQL is not copied here (the server's own tools do it, consistently and without
    stopping anyone): the run is recorded as ``skipped`` with the reason, and None is returned.
    """
    started = clock.now()
    if store.postgresql:
        run_id = store.start_run("backup", "backup", ("backup",), started)
        store.finish_run(run_id, status="skipped", now=clock.now(), counts={"reason": NOT_ON_POSTGRESQL})
        return None
    try:
        result = backup_database(database, backup_directory(config, database), config.backup.keep, started)
    except BackupError as exc:
        run_id = store.start_run("backup", "backup", ("backup",), started)
        store.finish_run(run_id, status="failed", now=clock.now(), error=str(exc))
        raise
    run_id = store.start_run("backup", "backup", ("backup",), started)
    store.finish_run(run_id, status="ok", now=clock.now(), counts=result.counts())
    return result
