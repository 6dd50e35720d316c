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

    def activity(self, *, requests: int, elapsed: float) -> None:
        """A site-level duty (columns, availability, new media…) has made ``requests`` requests so far."""

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
        log.info("started: %s", label)

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

    def activity(self, *, requests: int, elapsed: float) -> None:
        """Log a line when the interval has passed."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            log.info("%s: %d requests so far (%.0f s)", self._label, requests, elapsed)

    def stop(self) -> None:
        """Nothing to close."""


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

    def activity(self, *, requests: int, elapsed: float) -> None:
        """Redraw the status line of a site-level duty."""
        if self._live is not None:
            self._live.update(
                f"[bold]{self._label}[/bold]  requests [cyan]{requests}[/cyan]  elapsed {elapsed:.0f} s"
            )

    def stop(self) -> None:
        """Close the live display."""
        if self._live is not None:
            self._live.stop()
            self._live = None
