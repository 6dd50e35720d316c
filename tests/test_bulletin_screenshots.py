"""Evidence screenshots in the weekly bulletin: beside bulletin.html, inline (CID) in the mail received by a
real SMTP server (aiosmtpd on loopback), and named in the XLSX."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import struct
import zlib
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import openpyxl

from monitor.bulletin.publish import render_report, send_report
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import EvidenceImage, Finding, Severity
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Resolution, Store
from tests.bulletin_data import PORTAL, fill_store, problem_rows
from tests.test_bulletin_mail import DOCX, XLSX, free_port, mail_config, smtp_server

W48 = IsoWeek(2026, 48)


def png(width: int, height: int, *, noisy: bool = False) -> bytes:
    """A real PNG: one colour, or incompressible noise (to exceed the per-image mail cap)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = (lambda: os.urandom(width * 3)) if noisy else (lambda: bytes((230, 240, 250)) * width)
    raw = b"".join(b"\x00" + row() for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


BROWSER = png(1200, 300)
SPIDER = png(600, 240)
HUGE = png(400, 400, noisy=True)  # ~480 KB: over the 400 KB per-image cap of the mail


def name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() + ".png"


def dark(
    identity: str, message: str, images: tuple[EvidenceImage, ...], evidence: dict | None = None
) -> Finding:
    return Finding(
        duty="darklinks",
        kind="dark_link",
        severity=Severity.VETO,
        site="portal",
        identity=identity,
        url=f"http://www.spam-example.com/{identity}",
        message=message,
        unit="县政府办公室",
        sources=(PORTAL,),
        evidence=evidence or {},
        images=images,
    )


HIDDEN = dark(
    "h",
    "首页存在隐藏链接（display:none）指向博彩网站",
    (EvidenceImage("浏览器视图", BROWSER), EvidenceImage("百度蜘蛛视图", SPIDER)),
)
CAMO = dark("i", "栏目页存在隐藏链接（文字颜色与背景相同）", (EvidenceImage("浏览器视图", HUGE),))
# A record that does not come from the store's writer: a path instead of our sha256 name.
FORGED = dark(
    "j",
    "伪造的截图记录",
    (),
    {"screenshots": [{"label": "<b>x</b>", "file": "../monitor.db", "width": 1, "height": 1, "bytes": 1}]},
)


def store_with_screenshots(tmp_path: Path) -> tuple[Store, FixedClock]:
    store = Store(tmp_path / "monitor.db")
    end = fill_store(store)
    clock = FixedClock(datetime(2026, 11, 26, 10, 0), SHANGHAI)
    run_id = store.start_run("darklinks", "portal", ["darklinks"], clock.now())
    store.finish_run(
        run_id,
        status="ok",
        now=clock.now(),
        findings=[HIDDEN, CAMO, FORGED],
        resolution=Resolution(("darklinks",)),
    )
    return store, end


def test_bulletin_html_shows_the_screenshots_copied_beside_it(tmp_path: Path) -> None:
    store, clock = store_with_screenshots(tmp_path)
    try:
        report = render_report(store, mail_config(free_port()), W48, clock, tmp_path / "reports")
    finally:
        store.close()
    html = report.html.read_text(encoding="utf-8")
    for data in (BROWSER, SPIDER, HUGE):
        assert f'src="evidence/{name(data)}"' in html
        assert (report.evidence / name(data)).read_bytes() == data
    assert "取证截图 · 百度蜘蛛视图（600×240像素）" in html
    assert 'width="800" height="200"' in html  # 1200×300 shown at 800 px wide, proportions kept
    # The forged record is neither copied nor shown, and its label never becomes markup.
    assert "monitor.db" not in html and "<b>x</b>" not in html
    assert sorted(p.name for p in report.evidence.iterdir()) == sorted(
        name(d) for d in (BROWSER, SPIDER, HUGE)
    )
    text = report.text.read_text(encoding="utf-8")
    assert f"取证截图（百度蜘蛛视图）：evidence/{name(SPIDER)}" in text
    wb = openpyxl.load_workbook(report.xlsx)
    rows = {r[14]: r for r in problem_rows(wb)}
    assert (
        rows[HIDDEN.fingerprint][15]
        == f"evidence/{name(BROWSER)}（浏览器视图）\nevidence/{name(SPIDER)}（百度蜘蛛视图）"
    )
    assert rows[FORGED.fingerprint][15] in (None, "")
    header = next(ws for ws in wb.worksheets if ws.title == "暗链检测")[1]
    assert header[15].value == "截图"


def _parts(msg: Any) -> list[str]:
    return [part.get_content_type() for part in msg.walk()]


def test_the_mail_carries_the_screenshots_as_inline_cid_images(tmp_path: Path) -> None:
    port = free_port()
    controller, inbox = smtp_server(port)
    store, clock = store_with_screenshots(tmp_path)
    try:
        config = mail_config(port)
        report = render_report(store, config, W48, clock, tmp_path / "reports")
        delivery = asyncio.run(send_report(report, config, clock, tmp_path / "outbox"))
    finally:
        store.close()
        controller.stop()
    assert delivery.entry.status == "sent"
    ((_sender, _rcpts, raw),) = inbox.messages
    assert raw.isascii()
    msg = message_from_bytes(raw, policy=policy.default)
    assert _parts(msg) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "image/png",
        XLSX,
        DOCX,
    ]
    html = msg.get_body(("html",)).get_content()
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert {p.get_content() for p in images} == {BROWSER, SPIDER}
    for part in images:
        cid = part["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        assert part.get_content_disposition() == "inline"
    # Over the per-image cap: named, not embedded.
    assert f"截图未随邮件发送（邮件图片数量或大小已达上限），见通报存档 evidence/{name(HUGE)}" in html
    assert "evidence/" + name(BROWSER) not in html  # shown inline, so not named as missing
    # The screenshots are inline parts, not attachments: the workbook and the Word document are.
    attachment, document = list(msg.iter_attachments())
    assert document.get_content_type() == DOCX
    assert attachment.get_content_type() == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert any(r[15] and name(HUGE) in r[15] for r in problem_rows(wb))
