"""Delivery: a real SMTP server (aiosmtpd) on loopback, the outbox on disk, STARTTLS with a test certificate.

These tests are synchronous on purpose: the SMTP server runs in its own thread (aiosmtpd's Controller),
and the code under test runs its own event loop like the CLI does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import ipaddress
import json
import socket
import ssl
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitor.app.cli import main
from monitor.bulletin.outbox import Outbox
from monitor.bulletin.publish import render_report, send_report
from monitor.config import Config
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store
from tests.bulletin_data import A, B, D, E, F, G, bulletin_config, fill_store, problem_rows

W48 = IsoWeek(2026, 48)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Inbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_server(port: int, **kwargs: Any) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, inbox


def mail_config(port: int, **smtp: Any) -> Config:
    return bulletin_config(
        recipients=["zwgk@shixian.gov.cn", "xxzx@shixian.gov.cn"],
        smtp={
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "示例县政府网站监测 <monitor@shixian.gov.cn>",
            "timeout_seconds": 2,
            "retries": 1,
            "retry_backoff_seconds": 0.01,
            **smtp,
        },
    )


def rendered(tmp_path: Path, config: Config) -> tuple[Any, Any]:
    store = Store(tmp_path / "monitor.db")
    clock = fill_store(store)
    report = render_report(store, config, W48, clock, tmp_path / "reports")
    store.close()
    return report, clock


def test_bulletin_arrives_as_multipart_with_chinese_names_and_the_full_workbook(tmp_path: Path) -> None:
    port = free_port()
    controller, inbox = smtp_server(port)
    try:
        config = mail_config(port)
        report, clock = rendered(tmp_path, config)
        delivery = asyncio.run(send_report(report, config, clock, tmp_path / "outbox"))
    finally:
        controller.stop()
    assert delivery.entry.status == "sent" and delivery.queued_now
    ((sender, rcpts, raw),) = inbox.messages
    assert sender == "monitor@shixian.gov.cn"
    assert sorted(rcpts) == ["xxzx@shixian.gov.cn", "zwgk@shixian.gov.cn"]
    assert raw.isascii()  # every header and body is encoded: no 8-bit data on the wire
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "示例县人民政府办公室关于2026年第48周政府网站与政务新媒体监测情况的通报"
    assert msg["From"].addresses[0].display_name == "示例县政府网站监测"
    tree = [part.get_content_type() for part in msg.walk()]
    assert tree == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", XLSX, DOCX]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "一、总体情况" in text and "城关镇旧通知" in text
    assert "二、存在的问题" in html and "<style" not in html and 'bgcolor="#' in html
    assert "<script" not in html
    attachment, document = list(msg.iter_attachments())
    # Named as the files beside bulletin.html and as the bulletin's text names them …
    assert attachment.get_filename() == report.xlsx.name == "2026-W48问题清单.xlsx"  # RFC 2231 …
    assert document.get_filename() == report.docx.name == "2026-W48监测通报.docx"
    assert "附件1、附件2的电子表格为 2026-W48问题清单.xlsx" in text
    assert (
        b"filename*=utf-8''2026-W48%E9%97%AE" in raw and b"filename*0" not in raw
    )  # … without continuations
    assert document.get_content() == report.docx.read_bytes()
    assert attachment.get_content_type() == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    listed = {row[14] for row in problem_rows(wb)}
    assert listed == {f.fingerprint for f in (A, B, D, E, F, G)}
    assert report.eml.read_bytes() == raw.replace(b"\r\n", b"\r\n")  # the .eml is what was sent
    assert (
        message_from_bytes(report.eml.read_bytes(), policy=policy.default)["Message-ID"] == msg["Message-ID"]
    )


def test_outbox_keeps_the_message_while_smtp_is_down_and_delivers_it_once_later(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    config = mail_config(port)
    report, clock = rendered(tmp_path, config)
    outbox_dir = tmp_path / "outbox"
    first = asyncio.run(send_report(report, config, clock, outbox_dir))
    assert first.entry.status == "failed" and first.entry.attempts == 2  # one try + one retry
    assert "Connect" in (first.entry.last_error or "") or "refused" in (first.entry.last_error or "").lower()
    (eml,) = outbox_dir.glob("*.eml")
    state = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
    assert state["status"] == "failed" and state["next_attempt_at"]

    # Re-running the report while the server is still down queues nothing new.
    again = asyncio.run(send_report(report, config, clock, outbox_dir))
    assert not again.queued_now and again.entry.attempts == 4
    assert len(list(outbox_dir.glob("*.eml"))) == 1

    controller, inbox = smtp_server(port)
    try:
        (flushed,) = asyncio.run(Outbox(outbox_dir).flush(config.bulletin.smtp, clock))
        assert flushed.status == "sent"
        # Neither a re-run of the report (recipients in another order) nor another flush sends it again.
        reordered = config.model_copy(
            update={
                "bulletin": config.bulletin.model_copy(
                    update={"recipients": tuple(reversed(config.bulletin.recipients))}
                )
            }
        )
        assert asyncio.run(send_report(report, reordered, clock, outbox_dir)).entry.status == "sent"
        assert asyncio.run(Outbox(outbox_dir).flush(config.bulletin.smtp, clock)) == []
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert eml.read_bytes() == inbox.messages[0][2]  # delivered byte for byte as persisted


def test_a_message_persisted_before_a_crash_is_still_sent(tmp_path: Path) -> None:
    """An .eml whose state file was never written (crash between the two writes) is picked up."""
    port = free_port()
    config = mail_config(port)
    report, clock = rendered(tmp_path, config)
    outbox_dir = tmp_path / "outbox"
    asyncio.run(send_report(report, config, clock, outbox_dir))  # fails: no server
    for state in outbox_dir.glob("*.json"):
        state.unlink()
    controller, inbox = smtp_server(port)
    try:
        (entry,) = asyncio.run(Outbox(outbox_dir).flush(config.bulletin.smtp, clock))
    finally:
        controller.stop()
    assert entry.status == "sent" and entry.week == "2026-W48" and len(inbox.messages) == 1


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = auth_data.login == b"monitor@shixian.gov.cn" and auth_data.password == b"s3cret-from-env"
    return AuthResult(success=ok)


def test_starttls_with_login_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    port = free_port()
    controller, inbox = smtp_server(
        port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    try:
        config = mail_config(
            port,
            security="starttls",
            username="monitor@shixian.gov.cn",
            password_env="TEST_SMTP_PASSWORD",
            ca_file=str(cert),
        )
        report, clock = rendered(tmp_path, config)
        # Without the variable nothing is sent and the error names it; the message waits in the outbox.
        monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
        failed = asyncio.run(send_report(report, config, clock, tmp_path / "outbox"))
        assert failed.entry.status == "failed" and "TEST_SMTP_PASSWORD" in (failed.entry.last_error or "")
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret-from-env")
        sent = asyncio.run(send_report(report, config, clock, tmp_path / "outbox"))
        assert sent.entry.status == "sent"
        # A client that does not trust the certificate refuses to send (no silent downgrade).
        untrusted = mail_config(
            port, security="starttls", username="monitor@shixian.gov.cn", password_env="TEST_SMTP_PASSWORD"
        )
        untrusted = untrusted.model_copy(
            update={
                "bulletin": untrusted.bulletin.model_copy(update={"recipients": ("other@shixian.gov.cn",)})
            }
        )
        refused = asyncio.run(send_report(report, untrusted, clock, tmp_path / "outbox"))
        assert refused.entry.status == "failed" and "CERTIFICATE" in (refused.entry.last_error or "").upper()
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_implicit_tls(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    port = free_port()
    controller, inbox = smtp_server(port, ssl_context=server_tls)
    try:
        config = mail_config(port, security="tls", ca_file=str(cert))
        report, clock = rendered(tmp_path, config)
        assert asyncio.run(send_report(report, config, clock, tmp_path / "outbox")).entry.status == "sent"
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_cli_report_send_status_and_flush(tmp_path: Path) -> None:
    port = free_port()
    with Store(tmp_path / "monitor.db") as store:
        fill_store(store)
    config = {
        "sites": [
            {"id": "portal", "name": "示例县人民政府门户网站", "homepage": "http://www.shixian.gov.cn/"}
        ],
        "bulletin": {
            "issuer": "示例县人民政府办公室",
            "recipients": ["zwgk@shixian.gov.cn"],
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "retries": 0,
                "timeout_seconds": 2,
            },
        },
        "storage": {"database": "monitor.db"},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    env = {"MONITOR_NOW": "2026-11-30T00:10:00+08:00", "MONITOR_DB": ""}
    args = ["--config", str(tmp_path / "config.yaml"), "--db", str(tmp_path / "monitor.db")]

    result = runner.invoke(main, [*args, "report", "weekly"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "2026年第48周" in result.output
        and str(tmp_path / "reports" / "2026-W48" / "bulletin.html") in result.output
    )
    # Every file is named, the workbook and the Word document as the bulletin's text names them.
    for name in ("2026-W48问题清单.xlsx", "2026-W48监测通报.docx"):
        assert str(tmp_path / "reports" / "2026-W48" / name) in result.output

    result = runner.invoke(main, [*args, "report", "weekly", "--week", "2026-W48", "--send"], env=env)
    assert result.exit_code == 3 and "stays in the outbox" in result.output
    result = runner.invoke(main, ["--lang", "en", *args, "mail", "status"], env=env)
    assert "failed" in result.output and "attempts 1" in result.output and "last error" in result.output
    assert str(tmp_path / "outbox") in result.output  # next to the database

    controller, inbox = smtp_server(port)
    try:
        result = runner.invoke(main, [*args, "mail", "flush"], env=env)
        assert result.exit_code == 0 and "1 sent, 0 still in the outbox" in result.output
        result = runner.invoke(main, [*args, "report", "weekly", "--week", "2026-W48", "--send"], env=env)
        assert result.exit_code == 0, result.output
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert "1 sent" in runner.invoke(main, ["--lang", "en", *args, "mail", "status"], env=env).output

    result = runner.invoke(main, [*args, "report", "weekly", "--week", "2026-W99"], env=env)
    assert result.exit_code == 2 and "2026-W99" in result.output
    result = runner.invoke(main, [*args, "report", "weekly", "--week", "2026-W50"], env=env)
    assert result.exit_code == 2 and "not started" in result.output


def test_daemon_report_duty_renders_last_week_and_mails_it_once(tmp_path: Path) -> None:
    """The daemon's `report` duty (monitor.app.daemon.run_report → monitor.bulletin.weekly_job), for real."""
    from monitor.app.daemon import run_report
    from monitor.core.clock import FixedClock

    port = free_port()
    controller, inbox = smtp_server(port)
    try:
        config = mail_config(port)
        config = config.model_copy(
            update={"bulletin": config.bulletin.model_copy(update={"reports_dir": str(tmp_path / "reports")})}
        )
        db = tmp_path / "monitor.db"
        with Store(db) as store:
            filled = fill_store(store)
        monday = FixedClock(dt.datetime(2026, 11, 30, 8, 30), filled.tz)  # Monday morning: W48 is complete
        assert asyncio.run(run_report(config, db, monday)) is True
        assert asyncio.run(run_report(config, db, monday)) is True  # a re-run never mails twice
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert (tmp_path / "reports" / "2026-W48" / "bulletin.html").is_file()
    with Store(db) as store:
        (run,) = [r for r in store.runs(duty="report") if r["status"] == "ok"][:1]
        assert run["counts"]["week"] == "2026-W48" and run["counts"]["mail"] == "sent"
