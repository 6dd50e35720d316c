"""The console's connections to the store, off the event loop.

Reads go through :class:`Reader`: a few threads, each with its own read-only connection (WAL: a reader
sees the last commit and never waits for the daemon's write transaction). Actions go through
:class:`Writer`: one thread with one writable connection, so a write that waits for the daemon's lock
(up to ``storage.lock_timeout_seconds``) holds up neither the pages nor the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from monitor.store.database import Store

T = TypeVar("T")


class Reader:
    """Read-only store access from a small thread pool (one connection per thread)."""

    def __init__(self, database: Path, lock_timeout: float, threads: int = 4) -> None:
        self.database = database
        self.lock_timeout = lock_timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="console-read")
        self._local = threading.local()
        self._stores: list[Store] = []
        self._lock = threading.Lock()

    def _store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open_readonly(self.database, lock_timeout=self.lock_timeout)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(store, *args, **kwargs)`` on a reader thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, call)

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self._store(), *args, **kwargs)

    def close(self) -> None:
        """Stop the threads and close their connections."""
        self._pool.shutdown(wait=True)
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()


class Writer:
    """Writes on one thread with one writable connection, in the order they come."""

    def __init__(self, database: Path, lock_timeout: float) -> None:
        self.database = database
        self.lock_timeout = lock_timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-write")
        self._store: Store | None = None

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(store, *args, **kwargs)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._run, fn, *args, **kwargs))

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._store is None:
            self._store = Store(self.database, lock_timeout=self.lock_timeout)
        return fn(self._store, *args, **kwargs)

    def close(self) -> None:
        """Stop the thread and close its connection."""

        def _close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)
