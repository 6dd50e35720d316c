"""Progress reporting for long runs: live on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("monitor.progress")


class Progress:
    """Receives crawl counters. The base class ignores them (used by the daemon and tests)."""

    def start(self, label: str) -> None:
        """A new crawl begins."""

    def update(self, *, pages: int, queued: int, checked: int, broken: int) -> None:
        """Counters changed."""

    def stop(self) -> None:
        """The crawl ended."""


class LogProgress(Progress):
    """Logs the counters at most every ``interval`` seconds (for pipes, files and journald)."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last = 0.0
        self._label = ""

    def start(self, label: str) -> None:
        """Log the start."""
        self._label = label
        log.info("crawl started: %s", label)

    def update(self, *, pages: int, queued: int, checked: int, broken: int) -> None:
        """Log a line when the interval has passed."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            log.info(
                "%s: %d pages crawled, %d queued, %d links checked, %d broken so far",
                self._label,
                pages,
                queued,
                checked,
                broken,
            )


class RichProgress(Progress):
    """A live status line on a terminal (rich)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self._live: Live | None = None
        self._label = ""
        self._Live = Live

    def start(self, label: str) -> None:
        """Open the live display."""
        from rich.markup import escape

        self._label = escape(label)
        self._live = self._Live("", console=self.console, refresh_per_second=8, transient=True)
        self._live.start()

    def update(self, *, pages: int, queued: int, checked: int, broken: int) -> None:
        """Redraw the status line."""
        if self._live is not None:
            self._live.update(
                f"[bold]{self._label}[/bold]  pages crawled [cyan]{pages}[/cyan]  queued {queued}  "
                f"links checked [cyan]{checked}[/cyan]  broken [red]{broken}[/red]"
            )

    def stop(self) -> None:
        """Close the live display."""
        if self._live is not None:
            self._live.stop()
            self._live = None
