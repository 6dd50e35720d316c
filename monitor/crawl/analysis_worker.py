"""An analysis worker process: ``python -m monitor.crawl.analysis_worker``
(started by :mod:`monitor.crawl.analysis`).

Reads frames from stdin — ``("analyzer", key, analyzer)``, ``("job", id, snapshot, analyses, new_shared)``
with ``analyses`` a tuple of ``(key, inputs, shared_keys)``, ``("forget",)`` — and answers each job on
stdout, in order, with ``("done", id, outcomes)``: one ``(True, result)`` or ``(False, message)`` per
analysis, all run on one rebuilt page (parsed once for all of them); or ``("error", id, message)`` when
the page itself could not be rebuilt. Ends at end of input. The real stdout is kept for the frames and
fd 1 is pointed at stderr, so a stray print from a library cannot corrupt the protocol.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from typing import Any, BinaryIO

from monitor.crawl.analysis import _HEADER, PageAnalyzer, PageSnapshot, encode_frame

#: The messages the parent sends, and their lengths.
_ARITY = {"analyzer": 3, "forget": 1, "job": 5}


def _read_frame(stream: BinaryIO) -> Any | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    try:
        message = pickle.loads(body)
    except Exception as exc:  # not our parent's frame: the stream is out of step, nothing after it is either
        print(f"analysis worker: unreadable frame ({type(exc).__name__}: {exc}); stopping", file=sys.stderr)
        return None
    if not (
        isinstance(message, tuple) and message and message[0] in _ARITY and len(message) == _ARITY[message[0]]
    ):
        print(f"analysis worker: unknown message {str(message)[:80]!r}; stopping", file=sys.stderr)
        return None
    return message


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer jobs until the input ends."""
    analyzers: dict[str, PageAnalyzer] = {}
    shared: dict[str, str] = {}
    while True:
        message = _read_frame(inp)
        if message is None:
            return
        if message[0] == "analyzer":
            analyzers[message[1]] = message[2]
            continue
        if message[0] == "forget":
            shared.clear()
            continue
        _, job_id, snapshot, analyses, new_shared = message
        shared.update(new_shared)
        assert isinstance(snapshot, PageSnapshot)
        try:
            page = snapshot.to_page()
        except Exception as exc:
            frame = encode_frame(("error", job_id, f"{type(exc).__name__}: {exc}"))
        else:
            outcomes: list[tuple[bool, Any]] = []
            for key, inputs, shared_keys in analyses:
                try:
                    used = {k: shared[k] for k in shared_keys if k in shared}
                    outcomes.append((True, analyzers[key].analyze(page, inputs, used)))
                except Exception as exc:  # one analysis failing is reported, the others and the worker go on
                    outcomes.append((False, f"{type(exc).__name__}: {exc}"))
            frame = encode_frame(("done", job_id, tuple(outcomes)))
        out.write(frame)
        out.flush()


def main() -> None:
    """Entry point of the worker process."""
    # The parent handles Ctrl-C and SIGTERM and closes our input; do not die halfway through a frame.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with contextlib.suppress(BrokenPipeError):  # the parent went away
        serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
