"""Real webhook receivers on loopback for the alert tests, and a proxy that keeps Apprise on loopback.

- :class:`Webhooks` runs, in a thread with its own event loop (so synchronous code such as Apprise or a
  ``CliRunner`` can talk to it), an aiohttp app on 127.0.0.1 over HTTP and HTTPS that records every request
  and answers as told: ``ok``, ``500``, ``429``, ``400`` or ``hang`` (no answer before the client's timeout).
- Apprise's WeCom, DingTalk and Feishu/Lark plugins post to fixed public hosts (qyapi.weixin.qq.com…).
  They are reached through a real HTTP CONNECT proxy on 127.0.0.1 (``HTTPS_PROXY``, which requests
  honours) that tunnels only those host names, and only to the local HTTPS receiver, whose certificate
  for them comes from a throw-away CA (``REQUESTS_CA_BUNDLE``). Any other destination is refused and
  recorded, so no test can reach a real service; :func:`loopback_only` also refuses every socket
  connection to a non-loopback address in the test process itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from tests.tlsutil import LocalCA

#: The public hosts Apprise's robot plugins post to; the proxy tunnels these (to loopback) and no other.
ROBOT_HOSTS = ("qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn", "open.larksuite.com")


@dataclass
class Received:
    """One request a receiver got."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    content_type: str
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        """The body as JSON (None when it is not)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        """The body as a form."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))


class Webhooks:
    """HTTP and HTTPS receivers and a CONNECT proxy on 127.0.0.1, in a thread of their own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.received: list[Received] = []
        self.plan: deque[str] = deque()  # behaviours for the next requests; "ok" when empty
        self.hang_seconds = 3.0
        self.connects: list[str] = []  # CONNECT targets the proxy tunnelled
        self.refused: list[str] = []  # what the proxy refused (anything off loopback but the robots)
        self.http_port = self.https_port = self.proxy_port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lock = threading.Lock()

    # -- life -------------------------------------------------------------------------------------
    def start(self) -> Webhooks:
        """Make the certificates and start everything."""
        self.ca = LocalCA.create(self.folder)
        now = datetime.now(UTC)
        self.cert, self.key = self.ca.issue(
            self.folder,
            ["localhost", *ROBOT_HOSTS],
            not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=30),
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        http = web.TCPSite(self._runner, "127.0.0.1", 0)
        await http.start()
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        https = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await https.start()
        self.http_port = http._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.https_port = https._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        self.proxy_port = self._proxy.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Stop everything."""

        async def close() -> None:
            self._proxy.close()
            await self._runner.cleanup()
            # Requests still held ("hang") and open tunnels end here, inside the loop that runs them.
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- what Apprise needs -----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for Apprise (this process or a subprocess): every non-loopback request goes to the
        proxy, which tunnels the robots' hosts to the local HTTPS receiver, trusted through the test CA."""
        proxy = f"http://127.0.0.1:{self.proxy_port}"
        return {
            "HTTPS_PROXY": proxy,
            "HTTP_PROXY": proxy,
            "https_proxy": proxy,
            "http_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": str(self.ca.path),
        }

    def json_url(self, path: str = "/hook") -> str:
        """An Apprise ``json://`` URL of the HTTP receiver."""
        return f"json://127.0.0.1:{self.http_port}{path}"

    def requests_to(self, path: str) -> list[Received]:
        """Requests received on one path."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    # -- serving ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            self.received.append(
                Received(
                    request.method,
                    request.headers.get("Host", ""),
                    request.path,
                    dict(request.query),
                    request.headers.get("Content-Type", ""),
                    body,
                )
            )
            behaviour = self.plan.popleft() if self.plan else "ok"
        if behaviour == "hang":
            await asyncio.sleep(self.hang_seconds)
            behaviour = "ok"
        if behaviour == "500":
            return web.Response(status=500, text="internal error")
        if behaviour == "429":
            return web.Response(status=429, text="too many requests", headers={"Retry-After": "1"})
        if behaviour == "400":
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"}, status=400)
        # What the robots answer on success (WeCom/DingTalk errcode, Feishu/Lark code).
        return web.json_response({"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"})

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, target, *_ = line.split(" ")
        host = target.rsplit(":", 1)[0]
        if method != "CONNECT" or host not in ROBOT_HOSTS:
            self.refused.append(line)
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        self.connects.append(target)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.https_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse, in this process, every socket connection to an address that is not loopback."""
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if not ipaddress.ip_address(host).is_loopback:
                raise AssertionError(f"a test tried to connect to {address!r}, off loopback")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def serve_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhooks]:
    """The ``hooks`` fixture (tests/conftest.py): receivers and proxy, Apprise's environment set (and
    inherited by subprocesses), nothing in this process may connect off loopback."""
    w = Webhooks(tmp_path).start()
    for key, value in w.env().items():
        monkeypatch.setenv(key, value)
    loopback_only(monkeypatch)
    try:
        yield w
    finally:
        w.stop()
    assert w.refused == [], "something tried to leave loopback"
    assert all(target.rsplit(":", 1)[0] in ROBOT_HOSTS for target in w.connects)
