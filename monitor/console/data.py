"""The console's connections to the store, off the event loop.

Reads go through :class:`Reader`: a few threads, each with its own read-only connection (WAL: a reader
sees the last commit and never waits for the daemon's write transaction). Actions go through
:class:`Writer`: one thread with one writable connection, so a write that waits for the daemon's lock
(up to ``storage.lock_timeout_seconds``) holds up neither the pages nor the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from monitor.config import Storage
from monitor.store.database import Store, open_store

T = TypeVar("T")


class Reader:
    """Read-only store access from a few threads of its own, each with its own connection (SQLite
    connections belong to the thread that made them, so each thread also closes its own)."""

    def __init__(self, database: Path, storage: Storage, threads: int = 4) -> None:
        self.database = database
        self.storage = storage
        self._jobs: queue.SimpleQueue[tuple[Callable[[Store], Any], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"console-read-{i}", daemon=True) for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        store: Store | None = None
        try:
            while (job := self._jobs.get()) is not None:
                fn, future = job
                try:
                    if store is None:
                        store = open_store(self.storage, self.database, readonly=True)
                    result, error = fn(store), None
                except BaseException as exc:  # handed to the awaiting handler
                    result, error = None, exc
                future.get_loop().call_soon_threadsafe(_settle, future, result, error)
        finally:
            if store is not None:
                store.close()

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(store, *args, **kwargs)`` on a reader thread."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((lambda store: fn(store, *args, **kwargs), future))
        return await future

    def close(self) -> None:
        """Stop the threads (each closes its connection)."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=30)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Writer:
    """Writes on one thread with one writable connection, in the order they come."""

    def __init__(self, database: Path, storage: Storage) -> None:
        self.database = database
        self.storage = storage
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-write")
        self._store: Store | None = None

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(store, *args, **kwargs)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._run, fn, *args, **kwargs))

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._store is None:
            self._store = open_store(self.storage, self.database)
        return fn(self._store, *args, **kwargs)

    def close(self) -> None:
        """Stop the thread and close its connection."""

        def _close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)
