"""A small on-disk cache for derived data that is slow to compute and cheap to load (text lexicons).

Entries are ``marshal`` blobs keyed by a content hash of everything they derive from, so a changed
data file or code version simply misses. The cache is an optimisation only: an unwritable or corrupt
cache is ignored (logged at debug level) and the value is computed as if there were none.

Location: ``$MONITOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/govsite-monitor``, else
``~/.cache/govsite-monitor``. (Hand-written instead of a caching library: one read, one atomic write.)
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where cached values live."""
    explicit = os.environ.get("MONITOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "govsite-monitor"


def content_key(*parts: bytes | str) -> str:
    """A hex digest of the parts (strings as UTF-8), in order."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def load(namespace: str, key: str) -> Any | None:
    """The cached value, or None when there is none (or it cannot be read)."""
    path = cache_dir() / namespace / f"{key}.marshal"
    try:
        return marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, TypeError) as exc:
        log.debug("ignoring unreadable cache entry %s: %s", path, exc)
        return None


def store(namespace: str, key: str, value: Any) -> None:
    """Keep ``value`` (marshal-able: str, int, tuples, lists, dicts…) under ``key``; never raises."""
    folder = cache_dir() / namespace
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(marshal.dumps(value))
            os.replace(tmp, folder / f"{key}.marshal")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError) as exc:
        log.debug("could not write cache entry in %s: %s", folder, exc)
