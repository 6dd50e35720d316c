"""The per-host work queue (``monitor.crawl.hostqueue``): limits, turn-taking, completion, failures."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from monitor.crawl.hostqueue import HostQueue, HostTurn


class Recorder:
    """Runs items ``(host, name)``; an item's host phase lasts until its gate opens."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.in_host: Counter[str] = Counter()
        self.max_in_host: Counter[str] = Counter()
        self.running = 0
        self.max_running = 0
        self.started: list[str] = []
        self.finished: list[str] = []

    def gate(self, name: str) -> asyncio.Event:
        return self.gates.setdefault(name, asyncio.Event())

    async def run(self, item: tuple[str, str], turn: HostTurn) -> None:
        host, name = item
        self.started.append(name)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.in_host[host] += 1
        self.max_in_host[host] = max(self.max_in_host[host], self.in_host[host])
        try:
            await self.gate(name).wait()
            self.in_host[host] -= 1
            turn.done()
            await asyncio.sleep(0)
        finally:
            self.running -= 1
            self.finished.append(name)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_full_host_never_holds_up_another_host() -> None:
    rec = Recorder()
    q: HostQueue[tuple[str, str]] = HostQueue(rec.run, total=4, per_host=2)
    for i in range(10):
        q.put("slow.example", ("slow.example", f"slow{i}"))
    for i in range(3):
        q.put("site.gov.cn", ("site.gov.cn", f"page{i}"))
    await settle()
    # Two slow items hold their host's limit; the site's items start with the permits left.
    assert rec.started == ["slow0", "slow1", "page0", "page1"]
    for name in ("page0", "page1", "page2"):
        rec.gate(name).set()
        await settle()
    assert {"page0", "page1", "page2"} <= set(rec.finished)
    assert not any(n.startswith("slow") for n in rec.finished)
    assert rec.max_in_host["slow.example"] == 2
    for i in range(10):
        rec.gate(f"slow{i}").set()
    await asyncio.wait_for(q.join(), 5)
    assert len(rec.finished) == 13
    assert rec.max_in_host["slow.example"] == 2 and rec.max_running <= 4


async def test_done_lets_the_next_item_of_the_host_start_while_this_one_goes_on() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def run(item: int, turn: HostTurn) -> None:
        started.append(item)
        turn.done()
        await release.wait()  # e.g. parsing and checking the page: no longer uses the host

    q: HostQueue[int] = HostQueue(run, total=3, per_host=1)
    for i in range(5):
        q.put("h", i)
    await settle()
    assert started == [0, 1, 2]  # per_host 1, but each left the host phase: only the total limits
    release.set()
    await asyncio.wait_for(q.join(), 5)
    assert started == [0, 1, 2, 3, 4] and q.qsize() == 0


async def test_an_item_away_on_a_backoff_leaves_room_for_its_host() -> None:
    events: list[str] = []

    async def run(item: str, turn: HostTurn) -> None:
        events.append(f"start {item}")
        if item == "limited":
            await turn.away(0.05)  # e.g. a 429's Retry-After
            events.append("retry limited")
        turn.done()

    q: HostQueue[str] = HostQueue(run, total=4, per_host=1)
    for item in ("limited", "a", "b"):
        q.put("h", item)
    await asyncio.wait_for(q.join(), 5)
    # With one request per host, a and b still went while "limited" waited out its backoff.
    assert events == ["start limited", "start a", "start b", "retry limited"]


async def test_hosts_take_turns() -> None:
    order: list[str] = []
    gate = asyncio.Event()

    async def run(item: str, turn: HostTurn) -> None:
        if item == "a0":
            await gate.wait()  # holds the only permit while both lanes fill
        order.append(item)

    q: HostQueue[str] = HostQueue(run, total=1, per_host=1)
    q.put("a", "a0")
    for i in range(1, 4):
        q.put("a", f"a{i}")
    for i in range(3):
        q.put("b", f"b{i}")
    gate.set()
    await asyncio.wait_for(q.join(), 5)
    # Lane a was busy with a0, so b was first in line; from then on the lanes alternate.
    assert order == ["a0", "b0", "a1", "b1", "a2", "b2", "a3"]


async def test_items_put_by_running_items_are_joined_and_a_failure_stops_nothing() -> None:
    done: list[int] = []

    async def run(item: int, turn: HostTurn) -> None:
        if item == 3:
            raise RuntimeError("a broken page")
        if item < 6:
            q.put(f"h{item % 2}", item + 1)
            q.put("other", 100 + item)
        done.append(item)

    q: HostQueue[int] = HostQueue(run, total=2, per_host=1)
    q.put("h0", 0)
    await asyncio.wait_for(q.join(), 5)
    # 3 raised, so 4..6 were never put; everything else ran.
    assert sorted(done) == [0, 1, 2, 100, 101, 102]


async def test_close_cancels_what_runs_and_starts_nothing_more() -> None:
    cancelled: list[int] = []

    async def run(item: int, turn: HostTurn) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    q: HostQueue[int] = HostQueue(run, total=2, per_host=2)
    for i in range(6):
        q.put("h", i)
    await settle()
    await asyncio.wait_for(q.close(), 5)
    assert sorted(cancelled) == [0, 1] and q.qsize() == 4


def test_limits_must_be_positive() -> None:
    async def run(item: int, turn: HostTurn) -> None:
        return None

    with pytest.raises(ValueError):
        HostQueue(run, total=0, per_host=1)
