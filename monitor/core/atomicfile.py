"""Durable file replacement: write a temporary file, fsync it, rename it over the target, fsync the folder.

A reader (or a process restarted after a crash) sees either the old file or the complete new one, never
a torn one — the outbox relies on this to never lose or half-write a message.

The new file gets the permissions an ordinary ``open()`` would give it (0666 minus the process umask), so
an office that shares the reports folder through its group (``UMask=0027`` in the unit) can read the
bulletins; ``private=True`` keeps a file to its owner (0600) — the outbox's mail does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename itself is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process umask, read without changing it where Linux tells it (/proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (a short window other threads could observe)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str, *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically and durably (0600 with ``private``, else per umask)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(payload)

    replace_atomic(path, write, private=private)


def replace_atomic(path: Path, produce: Callable[[Path], None], *, private: bool = False) -> None:
    """Let ``produce`` write a temporary file next to ``path``, then fsync and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if not private:  # mkstemp creates 0600; give the file what open() would have
            os.chmod(tmp, 0o666 & ~current_umask())
        produce(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:
            # A failed write (disk full) names no file; say which one, for the one-line error.
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
