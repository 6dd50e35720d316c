"""Event-loop lag sampling for benchmarks (off unless ``MONITOR_LOOP_LAG_FILE`` names a file).

A task sleeps ``interval`` seconds in a loop and records how late it wakes up: that lateness is how long
some callback held the loop (a page check hogging the CPU stalls every fetch in flight). When the
crawl ends, one JSON line with the percentiles is appended to the file. Nothing runs when the variable
is unset, so the product pays nothing for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

ENV = "MONITOR_LOOP_LAG_FILE"


class LoopLag:
    """Async context manager sampling event-loop lag while the body runs."""

    def __init__(self, path: str | None = None, interval: float = 0.01) -> None:
        self.path = path if path is not None else os.environ.get(ENV)
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopLag:
        if self.path:
            self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        assert self.path is not None
        with Path(self.path).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(self.summary()) + "\n")

    async def _sample(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, time.perf_counter() - start - self.interval))

    def summary(self) -> dict[str, float | int]:
        """Sample count and lag percentiles in milliseconds."""
        s = sorted(self.samples)
        if not s:
            return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}

        def pct(p: float) -> float:
            return round(s[min(len(s) - 1, int(p * len(s)))] * 1000, 2)

        return {"samples": len(s), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(s[-1] * 1000, 2)}
