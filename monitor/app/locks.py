"""One run of a duty at a time per database, across processes (daemon and CLI alike).

Each duty has a lock file in ``<database>.locks/``; holding ``fcntl.flock`` on it is holding the duty.
The kernel releases a flock when its process dies, even by SIGKILL, so a crashed run never leaves a stale
lock behind. The holder writes its pid and start time into the file so a refused caller can say who holds
it. The daemon holds ``daemon.lock`` the same way: one daemon per database.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.core.clock import iso


def lock_dir(database: Path) -> Path:
    """The folder of lock files next to a database."""
    return database.parent / f"{database.name}.locks"


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as written by the holder (fields may be missing while it is being written)."""

    name: str
    pid: int | None
    started: datetime | None

    def describe(self, now: datetime | None = None) -> str:
        """``pid 1234, started 02:00:03`` (the date too when not today)."""
        parts = []
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        if self.started is not None:
            same_day = now is not None and self.started.date() == now.astimezone(self.started.tzinfo).date()
            shape = "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S"
            parts.append(f"started {self.started.strftime(shape)}")
        return ", ".join(parts) or "holder unknown"


class Busy(Exception):
    """The lock is held by another run; ``holder`` says by whom."""

    def __init__(self, holder: Holder, now: datetime | None = None) -> None:
        self.holder = holder
        super().__init__(f"{holder.name} is already running ({holder.describe(now)}); not starting another")


class DutyLock:
    """An exclusive, non-blocking, cross-process lock named after a duty (or ``daemon``)."""

    def __init__(self, database: Path, name: str) -> None:
        self.name = name
        self.path = lock_dir(database) / f"{name}.lock"
        self._fd: int | None = None

    def acquire(self, now: datetime) -> DutyLock:
        """Take the lock or raise :class:`Busy` at once (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(read_holder(self.path, self.name), now) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": iso(now)}).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DutyLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: Path, name: str) -> Holder:
    """What the holder wrote into a lock file (best effort)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    started = data.get("started")
    try:
        when = datetime.fromisoformat(started) if started else None
    except ValueError:
        when = None
    pid = data.get("pid")
    return Holder(name, pid if isinstance(pid, int) else None, when)


def held_by(database: Path, name: str) -> Holder | None:
    """The holder of a lock if someone holds it now, else None (probes without keeping it)."""
    path = lock_dir(database) / f"{name}.lock"
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path, name)
    finally:
        os.close(fd)
    return None
