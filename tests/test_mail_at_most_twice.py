"""Mail delivery on a bad night (issue 20, item 7): at most two copies, one Message-ID, no burst.

Real parts: an aiosmtpd server on loopback whose handler misbehaves on purpose (drops the connection
after the final dot, stalls before its 250, refuses with a 5xx), the outbox on disk, and for the crash
case a real ``monitor mail flush`` subprocess killed with SIGKILL while it waits for the server's reply.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.bulletin.mail import message_id
from monitor.bulletin.outbox import Outbox
from monitor.config import Smtp
from monitor.core.clock import FixedClock

REPO = Path(__file__).resolve().parents[1]
KEY = "2026-W48-0123456789ab"


class Misbehaving:
    """aiosmtpd handler: every DATA is recorded (the server has the message), then answered per ``mode``:
    ``ok`` (250), ``drop`` (connection closed before the reply), ``stall`` (no reply until the mode
    changes), ``reject`` (554)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.copies: list[tuple[float, bytes]] = []
        self.stalled = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.copies.append((time.monotonic(), envelope.original_content))
        if self.mode == "drop":
            server.transport.abort()
            return "250 OK"
        if self.mode == "reject":
            return "554 5.7.1 Message rejected: policy violation"
        while self.mode == "stall":
            self.stalled = True
            await asyncio.sleep(0.05)
        return "250 OK"

    def message_ids(self) -> set[str]:
        return {str(message_from_bytes(raw, policy=policy.default)["Message-ID"]) for _, raw in self.copies}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(mode: str) -> tuple[Controller, Misbehaving, int]:
    port = free_port()
    handler = Misbehaving(mode)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler, port


def smtp(port: int, **extra: Any) -> Smtp:
    return Smtp(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="示例县政府网站监测 <monitor@shixian.gov.cn>",
        **{"timeout_seconds": 5, "retries": 3, "retry_backoff_seconds": 0.3, **extra},
    )


def queue_message(folder: Path) -> Outbox:
    outbox = Outbox(folder)
    msg = EmailMessage()
    msg["Subject"] = "2026年第48周监测通报"
    msg["From"] = "monitor@shixian.gov.cn"
    msg["To"] = "zwgk@shixian.gov.cn"
    msg["Message-ID"] = message_id(KEY, "shixian.gov.cn")
    msg["X-Monitor-Week"] = "2026-W48"
    msg.set_content("本周监测情况见附件。")
    outbox.enqueue(
        msg,
        key=KEY,
        week="2026-W48",
        recipients=["zwgk@shixian.gov.cn"],
        now=datetime(2026, 11, 30, tzinfo=UTC),
    )
    return outbox


CLOCK = FixedClock(datetime(2026, 11, 30, 0, 10, tzinfo=UTC))


def test_a_server_dropping_after_the_final_dot_gets_at_most_two_copies_after_a_pause(tmp_path: Path) -> None:
    controller, server, port = serve("drop")
    try:
        outbox = queue_message(tmp_path / "outbox")
        entry = asyncio.run(outbox.deliver(KEY, smtp(port), CLOCK, retries=3))
        # Later flushes (the daemon retries due messages) send nothing more.
        assert asyncio.run(outbox.flush(smtp(port), CLOCK)) == []
    finally:
        controller.stop()
    assert len(server.copies) == 2  # was 4: one try and three immediate retries
    assert server.copies[1][0] - server.copies[0][0] >= 0.3  # the retry came after a pause
    assert server.message_ids() == {message_id(KEY, "shixian.gov.cn")}  # receivers can de-duplicate
    assert entry.status == "failed" and entry.permanent and entry.unconfirmed == 2
    assert entry.next_attempt_at is None and "unconfirmed" in (entry.last_error or "")
    state = json.loads((tmp_path / "outbox" / f"{KEY}.json").read_text(encoding="utf-8"))
    assert state["status"] == "failed" and state["permanent"] is True and state["attempts"] == 2


def test_a_permanent_refusal_is_not_retried_and_its_reply_is_shown(tmp_path: Path) -> None:
    controller, server, port = serve("reject")
    try:
        outbox = queue_message(tmp_path / "outbox")
        entry = asyncio.run(outbox.deliver(KEY, smtp(port), CLOCK, retries=3))
        assert asyncio.run(outbox.flush(smtp(port), CLOCK)) == []
    finally:
        controller.stop()
    assert len(server.copies) == 1
    assert entry.status == "failed" and entry.permanent and entry.attempts == 1
    assert "554" in (entry.last_error or "") and "policy violation" in (entry.last_error or "")

    config = {
        "sites": [
            {"id": "portal", "name": "示例县人民政府门户网站", "homepage": "http://www.shixian.gov.cn/"}
        ],
        "bulletin": {"recipients": ["zwgk@shixian.gov.cn"], "outbox_dir": str(tmp_path / "outbox")},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = (
        CliRunner()
        .invoke(
            main,
            [
                "--lang",
                "en",
                "--config",
                str(tmp_path / "config.yaml"),
                "--db",
                str(tmp_path / "m.db"),
                "mail",
                "status",
            ],
        )
        .output
    )
    assert "failed" in out and "not retried" in out and "554 5.7.1 Message rejected" in out


def test_a_transient_refusal_is_retried_and_delivered_once(tmp_path: Path) -> None:
    controller, server, port = serve("ok")
    calls = {"n": 0}
    original = server.handle_DATA

    async def first_busy(srv: Any, session: Any, envelope: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            return "451 4.3.0 Try again later"
        return await original(srv, session, envelope)

    server.handle_DATA = first_busy  # type: ignore[method-assign]
    try:
        outbox = queue_message(tmp_path / "outbox")
        entry = asyncio.run(outbox.deliver(KEY, smtp(port, retry_backoff_seconds=0.01), CLOCK, retries=2))
    finally:
        controller.stop()
    assert entry.status == "sent" and entry.attempts == 2 and entry.unconfirmed == 0
    assert len(server.copies) == 1


def test_a_client_killed_before_the_servers_reply_sends_at_most_one_more_copy(tmp_path: Path) -> None:
    controller, server, port = serve("stall")
    try:
        queue_message(tmp_path / "outbox")
        config = {
            "sites": [
                {"id": "portal", "name": "示例县人民政府门户网站", "homepage": "http://www.shixian.gov.cn/"}
            ],
            "bulletin": {
                "recipients": ["zwgk@shixian.gov.cn"],
                "outbox_dir": str(tmp_path / "outbox"),
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout_seconds": 60},
            },
        }
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(tmp_path / "config.yaml"),
            "--db",
            str(tmp_path / "m.db"),
            "mail",
            "flush",
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not server.stalled and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert server.stalled, proc.communicate()
        # The attempt was on disk before the message went out.
        state = json.loads((tmp_path / "outbox" / f"{KEY}.json").read_text(encoding="utf-8"))
        assert state["status"] == "sending" and state["attempts"] == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

        server.mode = "ok"
        second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        third = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert third.returncode == 0 and "0 sent, 0 still in the outbox" in third.stdout
    finally:
        server.mode = "ok"
        controller.stop()
    assert len(server.copies) == 2  # the killed attempt's copy and one more, never a third
    assert server.message_ids() == {message_id(KEY, "shixian.gov.cn")}
    state = json.loads((tmp_path / "outbox" / f"{KEY}.json").read_text(encoding="utf-8"))
    assert state["status"] == "sent" and state["unconfirmed"] == 1 and state["attempts"] == 2
