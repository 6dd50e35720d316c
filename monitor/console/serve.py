"""Serving the console: ``monitor web`` (until SIGTERM or Ctrl-C) and the demo's console."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from monitor.config import Config
from monitor.console.app import create_app
from monitor.core.clock import Clock
from monitor.store.database import open_store

log = logging.getLogger(__name__)


@dataclass
class RunningConsole:
    """A console being served; :meth:`close` stops it."""

    runner: web.AppRunner
    url: str
    port: int

    async def close(self) -> None:
        """Stop serving and close the store connections."""
        await self.runner.cleanup()


async def start_console(
    config: Config, database: Path, clock: Clock, *, host: str | None = None, port: int | None = None
) -> RunningConsole:
    """Migrate the store once, then serve the console on ``host:port`` (the config's by default; port 0:
    any free port)."""
    open_store(config.storage, database).close()  # creates/migrates once
    app = create_app(config, database, clock)
    runner = web.AppRunner(app, access_log=logging.getLogger("monitor.console.access"))
    await runner.setup()
    host = config.console.host if host is None else host
    site = web.TCPSite(runner, host, config.console.port if port is None else port)
    await site.start()
    server = site._server  # aiohttp keeps the listening sockets here; the port chosen for port 0
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else int(port or config.console.port)
    shown = f"[{host}]" if ":" in host else host
    return RunningConsole(runner, f"http://{shown}:{bound}{config.console.base_path}/", bound)


def serve_forever(
    config: Config,
    database: Path,
    clock: Clock,
    *,
    host: str | None = None,
    port: int | None = None,
    announce: Callable[[str], None] = print,
) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status (0)."""

    async def main() -> int:
        console = await start_console(config, database, clock, host=host, port=port)
        announce(f"console: {console.url} (database {config.storage.url or database})")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await console.close()
        return 0

    return asyncio.run(main())
