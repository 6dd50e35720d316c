"""Crawl work queued per host, so a slow or busy host never holds up the others.

A single FIFO served by N workers has head-of-line blocking: a worker that takes a link to a host whose
politeness slots are all busy (a slow external site, a server answering 429) waits there, and once every
worker waits so, nothing else moves; links to that host discovered early also wait behind the whole crawl
frontier, so their slow answers all land after the crawl (bench/README.md, "the tail"). Here every host has
its own lane, and an item is started only when its host has room: at most ``per_host`` items of one host in
their host phase (the fetch) and at most ``total`` items in progress overall. Lanes with room take turns,
so external links are checked while the site is still being crawled.

The fetcher still enforces the politeness limits itself (redirects can reach other hosts); the lanes only
decide what to start, so no started item needs to wait for a host slot in the usual case.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Lane(Generic[T]):
    """The queued items of one host and how many of them are in their host phase."""

    __slots__ = ("active", "host", "items", "ready")

    def __init__(self, host: str) -> None:
        self.host = host
        self.items: deque[T] = deque()
        self.active = 0
        self.ready = False  # in HostQueue._ready


class HostTurn:
    """A running item's hold on its host's lane (see :class:`HostQueue`)."""

    __slots__ = ("_holding", "_lane", "_queue")

    def __init__(self, queue: HostQueue[Any], lane: _Lane[Any]) -> None:
        self._queue = queue
        self._lane = lane
        self._holding = True

    def done(self) -> None:
        """The item no longer uses its host (idempotent): the lane may start its next item."""
        if self._holding:
            self._holding = False
            self._queue._leave(self._lane)

    async def away(self, seconds: float) -> None:
        """Wait ``seconds`` without holding the lane — a retry's backoff (a 429's Retry-After): the
        host's other items may go meanwhile; the politeness slots still space the retry itself."""
        if not self._holding:
            await asyncio.sleep(seconds)
            return
        self.done()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._holding = True
            self._lane.active += 1


class HostQueue(Generic[T]):
    """Items keyed by host, each run by ``run(item, turn)`` in a task of its own.

    ``run`` calls ``turn.done()`` once it no longer uses the host (after the fetch; before parsing a
    page): the lane may then start its next item while this one goes on; ``turn.away(seconds)`` waits out
    a backoff without holding the lane. ``join()`` waits until every item put so far (and every item those
    put) has finished.
    """

    def __init__(self, run: Callable[[T, HostTurn], Awaitable[None]], *, total: int, per_host: int) -> None:
        if total < 1 or per_host < 1:
            raise ValueError("total and per_host must be at least 1")
        self._run = run
        self._free = total
        self._per_host = per_host
        self._lanes: dict[str, _Lane[T]] = {}
        self._ready: deque[_Lane[T]] = deque()  # lanes with queued items and room, in turn order
        self._queued = 0
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def qsize(self) -> int:
        """Items waiting to start."""
        return self._queued

    def put(self, host: str, item: T) -> None:
        """Queue ``item`` on its host's lane and start it at once if there is room."""
        lane = self._lanes.get(host)
        if lane is None:
            lane = self._lanes[host] = _Lane(host)
        lane.items.append(item)
        self._queued += 1
        self._unfinished += 1
        self._idle.clear()
        self._mark_ready(lane)
        self._dispatch()

    async def join(self) -> None:
        """Wait until every queued item has finished."""
        await self._idle.wait()

    async def close(self) -> None:
        """Cancel whatever is still running (the crawl was cancelled or failed) and wait for it."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _mark_ready(self, lane: _Lane[T]) -> None:
        if not lane.ready and lane.items and lane.active < self._per_host:
            lane.ready = True
            self._ready.append(lane)

    def _dispatch(self) -> None:
        while self._free and self._ready and not self._closed:
            lane = self._ready.popleft()
            lane.ready = False
            item = lane.items.popleft()
            self._queued -= 1
            self._free -= 1
            lane.active += 1
            self._mark_ready(lane)  # to the back of the turn order: hosts take turns
            task = asyncio.create_task(self._go(lane, item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _leave(self, lane: _Lane[T]) -> None:
        lane.active -= 1
        self._mark_ready(lane)
        self._dispatch()

    async def _go(self, lane: _Lane[T], item: T) -> None:
        turn = HostTurn(self, lane)
        try:
            await self._run(item, turn)
        except Exception:  # one item must never stop the queue; the caller logs its own failures
            log.exception("unhandled error in a queued item")
        finally:
            turn.done()
            self._free += 1
            self._unfinished -= 1
            if not lane.items and not lane.active and self._lanes.get(lane.host) is lane:
                # Forget idle lanes: a portal links to thousands of hosts, each seen a few times.
                del self._lanes[lane.host]
            if self._unfinished == 0:
                self._idle.set()
            self._dispatch()
