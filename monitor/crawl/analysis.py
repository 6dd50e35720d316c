"""Page analysis off the event loop: the CPU-heavy, pure part of the page checks in worker processes.

The crawl's event loop fetches pages and registers their links; the page checks' heavy part (dark-link
analysis of every element, visible text and the text scan) is a pure function of the page. A check
hands that part over as an :class:`AnalysisRequest`; the :class:`AnalysisPool` runs it

* in ``crawl.analysis_workers`` worker processes (``python -m monitor.crawl.analysis_worker``), so the crawl
  and the analysis use two cores and the loop never stalls on a page, or
* inline, in the crawl's own process, when ``analysis_workers`` is 0 (or no worker could be started).

Either way the same analyzer code runs on the same page and the result comes back to the check's
callback on the event loop, so findings do not depend on where the work ran.

The protocol is length-prefixed pickle frames over the worker's stdin / stdout pipes: the worker is our
own child process, so nothing untrusted is unpickled. Backpressure: at most ``buffer_bytes`` of frames
wait for a worker's pipe; when a worker falls behind, ``submit`` waits, which slows the crawl to the
analysis rate instead of letting page bodies pile up in memory.

A worker that dies loses only the pages it had not answered: their checks are marked failed for the run
(so they resolve nothing), and later pages go to the remaining workers, or are analysed inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import struct
import sys
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.web.page import Page

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
#: Shared resources (stylesheets, scripts) a worker keeps per run before the pool asks it to forget them.
SHARED_BYTES_PER_WORKER = 64 * 1024 * 1024
DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024


class PageAnalyzer(ABC):
    """The pure part of a page check: picklable, run in a worker process or inline.

    Analyzers with the same ``key`` compute the same thing, so a page is analysed once for all of them
    (the three text checks share one scan).
    """

    key: str

    @abstractmethod
    def analyze(self, page: Page, inputs: Any, shared: Mapping[str, str]) -> Any:
        """The analysis of one page. ``shared``: the request's shared resources (stylesheets…)."""


@dataclass(frozen=True, slots=True)
class PageSnapshot:
    """What a worker needs to rebuild a :class:`Page`: the decoded HTML and where it came from."""

    url: str
    final_url: str
    status: int
    depth: int
    html: str
    encoding: str
    is_homepage: bool
    truncated: bool
    utf8: bool  # the body was clean UTF-8: parse the encoded bytes (faster, the same tree)

    @classmethod
    def of(cls, page: Page) -> PageSnapshot:
        """The snapshot of a crawled page."""
        return cls(
            page.url,
            page.final_url,
            page.status,
            page.depth,
            page.html,
            page.encoding,
            page.is_homepage,
            page.truncated,
            page.utf8_body is not None,
        )

    def to_page(self) -> Page:
        """A fresh page with the same content."""
        return Page(
            url=self.url,
            final_url=self.final_url,
            status=self.status,
            depth=self.depth,
            html=self.html,
            encoding=self.encoding,
            is_homepage=self.is_homepage,
            truncated=self.truncated,
            utf8_body=self.html.encode("utf-8") if self.utf8 else None,
        )


@dataclass
class AnalysisRequest:
    """A check's request to analyse one page; ``on_result`` gets the analyzer's result on the loop.

    ``on_result`` must not hold on to the page (it is released before the result may arrive): capture
    the URL and whatever else the check needs.
    """

    analyzer: PageAnalyzer
    on_result: Callable[[Any], None]
    inputs: Any = None
    shared: Mapping[str, str] = field(default_factory=dict)


def encode_frame(message: object) -> bytes:
    """One protocol frame: 4-byte big-endian length, then the pickle."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


@dataclass
class _Job:
    on_result: Callable[[Any], None]
    on_error: Callable[[str], None]


#: One page's analyses: each request with the callback for its failure.
PageJobs = Sequence[tuple[AnalysisRequest, Callable[[str], None]]]


class _Worker:
    """One worker process and the jobs it has not answered yet."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.writer = proc.stdin
        self.reader = proc.stdout
        self.pending: dict[int, list[_Job]] = {}
        self.analyzers: set[str] = set()
        self.shared: set[str] = set()
        self.shared_bytes = 0
        self.alive = True
        # Frames waiting for the pipe, in a deque written by one task: asyncio's own transport buffer is
        # a bytearray that is shifted after every pipe write, which made a 32 MB backlog cost the loop
        # ~5 ms per 64 KB sent (a 1 s stall and a third of the CPU on a 100,000-page patrol).
        self.outbox: deque[bytes | None] = deque()
        self.outbox_bytes = 0
        self.has_frames = asyncio.Event()
        self.has_room = asyncio.Event()
        self.has_room.set()
        self.reader_task: asyncio.Task[None] | None = None
        self.writer_task: asyncio.Task[None] | None = None


class AnalysisPool:
    """Runs :class:`AnalysisRequest` s in worker processes, or inline when ``workers`` is 0."""

    def __init__(self, workers: int, buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> None:
        self.size = max(0, workers)
        self.buffer_bytes = buffer_bytes
        self._workers: list[_Worker] = []
        self._next_id = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.inline_pages = 0
        self.worker_pages = 0
        self.worker_deaths = 0

    # -- lifecycle --------------------------------------------------------------------------------
    async def __aenter__(self) -> AnalysisPool:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.close(kill=exc_type is not None)

    async def start(self) -> None:
        """Start the worker processes (they import and get ready while the crawl begins)."""
        for _ in range(self.size):
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "monitor.crawl.analysis_worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                log.warning("could not start an analysis worker (%s); analysing pages inline", exc)
                break
            worker = _Worker(proc)
            worker.reader_task = asyncio.create_task(self._read(worker))
            worker.writer_task = asyncio.create_task(self._write(worker))
            self._workers.append(worker)

    async def drain(self) -> None:
        """Wait until every submitted page has been answered (or its worker died)."""
        await self._idle.wait()

    async def close(self, *, kill: bool = False) -> None:
        """Stop the workers: let them finish (``drain`` first) or, with ``kill``, stop them now."""
        for worker in self._workers:
            if kill and worker.proc.returncode is None:
                worker.proc.kill()
            elif worker.alive:
                worker.outbox.append(None)  # the writer sends what is queued, then closes the input
                worker.has_frames.set()
        for worker in self._workers:
            try:
                await asyncio.wait_for(worker.proc.wait(), timeout=10)
            except TimeoutError:
                worker.proc.kill()
                await worker.proc.wait()
            for task in (worker.reader_task, worker.writer_task):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            self._fail_pending(worker, "analysis worker stopped")
        self._workers.clear()

    # -- work -------------------------------------------------------------------------------------
    async def submit(self, request: AnalysisRequest, page: Page, on_error: Callable[[str], None]) -> None:
        """Analyse ``page``; the result goes to ``request.on_result``, a failure to ``on_error``.

        Inline, this returns after the callback ran; with workers, once the page is handed over (it may
        wait while the workers are behind).
        """
        await self.submit_page(page, [(request, on_error)])

    async def submit_page(self, page: Page, jobs: PageJobs) -> None:
        """Every analysis ``page`` needs, handed over together: the page crosses to a worker once and is
        parsed there once for all of them. Each result goes to its request's ``on_result``, each failure
        to its own ``on_error`` (one analyzer failing does not fail the others).
        """
        if not jobs:
            return
        worker = self._pick()
        if worker is None:
            self.inline_pages += 1
            for request, on_error in jobs:
                try:
                    result = request.analyzer.analyze(page, request.inputs, request.shared)
                except Exception as exc:  # a page must never stop the crawl; the check is marked failed
                    log.debug("analysis of %s failed", page.url, exc_info=True)
                    on_error(f"{type(exc).__name__}: {exc}")
                    continue
                request.on_result(result)
            return
        frames: list[bytes] = []
        shared: dict[str, str] = {}
        for request, _ in jobs:
            key = request.analyzer.key
            if key not in worker.analyzers:
                frames.append(encode_frame(("analyzer", key, request.analyzer)))
                worker.analyzers.add(key)
            shared.update(request.shared)
        new_shared = {k: v for k, v in shared.items() if k not in worker.shared}
        new_bytes = sum(len(v) for v in new_shared.values())
        if worker.shared_bytes + new_bytes > SHARED_BYTES_PER_WORKER:
            frames.append(encode_frame(("forget",)))
            worker.shared.clear()
            worker.shared_bytes = 0
            new_shared = shared
            new_bytes = sum(len(v) for v in new_shared.values())
        worker.shared.update(new_shared)
        worker.shared_bytes += new_bytes
        self._next_id += 1
        job_id = self._next_id
        analyses = tuple((r.analyzer.key, r.inputs, tuple(r.shared)) for r, _ in jobs)
        frames.append(encode_frame(("job", job_id, PageSnapshot.of(page), analyses, new_shared)))
        worker.pending[job_id] = [_Job(r.on_result, on_error) for r, on_error in jobs]
        self._idle.clear()
        self.worker_pages += 1
        for frame in frames:
            worker.outbox.append(frame)
            worker.outbox_bytes += len(frame)
        worker.has_frames.set()
        if worker.outbox_bytes > self.buffer_bytes:
            worker.has_room.clear()
            await worker.has_room.wait()  # set again by the writer, or when the worker dies

    async def _write(self, worker: _Worker) -> None:
        """Send the worker's queued frames in order; ``None`` closes its input (end of work)."""
        try:
            while True:
                while not worker.outbox:
                    worker.has_frames.clear()
                    await worker.has_frames.wait()
                frame = worker.outbox.popleft()
                if frame is None:
                    worker.writer.close()
                    return
                worker.outbox_bytes -= len(frame)
                if worker.outbox_bytes <= self.buffer_bytes:
                    worker.has_room.set()
                worker.writer.write(frame)
                await worker.writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._died(worker, f"analysis worker died ({exc})")

    def _pick(self) -> _Worker | None:
        alive = [w for w in self._workers if w.alive]
        return min(alive, key=lambda w: len(w.pending)) if alive else None

    async def _read(self, worker: _Worker) -> None:
        try:
            while True:
                header = await worker.reader.readexactly(_HEADER.size)
                (size,) = _HEADER.unpack(header)
                kind, job_id, payload = pickle.loads(await worker.reader.readexactly(size))
                jobs = worker.pending.pop(job_id, None)
                if jobs is not None:
                    if kind == "done":
                        for job, (ok, value) in zip(jobs, payload, strict=True):
                            _deliver(job, ok, value)
                    else:  # the page itself could not be analysed: every analysis of it failed
                        for job in jobs:
                            job.on_error(str(payload))
                self._check_idle()
        except (asyncio.IncompleteReadError, ConnectionError):
            # The end of its output comes before the child is reaped: wait briefly for the exit code,
            # which says why it died (-9: killed, e.g. by the OOM killer; 1: a crash with a traceback).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.proc.wait(), timeout=2)
            self._died(worker, f"analysis worker exited (code {worker.proc.returncode})")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an unreadable answer: stop using this worker, never leave drain() hanging
            log.exception("unreadable answer from an analysis worker")
            if worker.proc.returncode is None:
                worker.proc.kill()
            self._died(worker, f"analysis worker answered garbage ({type(exc).__name__})")

    def _died(self, worker: _Worker, why: str) -> None:
        worker.outbox.clear()
        worker.outbox_bytes = 0
        worker.has_room.set()  # nobody waits for room in a dead worker's pipe
        if worker.alive:
            worker.alive = False
            if worker.pending:
                self.worker_deaths += 1
                log.error(
                    "%s with %d pages unanswered; their checks resolve nothing this run",
                    why,
                    len(worker.pending),
                )
        self._fail_pending(worker, why)

    def _fail_pending(self, worker: _Worker, why: str) -> None:
        pending, worker.pending = worker.pending, {}
        for jobs in pending.values():
            for job in jobs:
                job.on_error(why)
        self._check_idle()

    def _check_idle(self) -> None:
        if not any(w.pending for w in self._workers):
            self._idle.set()


def _deliver(job: _Job, ok: bool, value: Any) -> None:
    if not ok:
        job.on_error(str(value))
        return
    try:
        job.on_result(value)
    except Exception as exc:  # the check's own bookkeeping failed on this page
        log.debug("analysis callback failed", exc_info=True)
        job.on_error(f"{type(exc).__name__}: {exc}")
