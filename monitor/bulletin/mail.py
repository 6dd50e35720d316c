"""The bulletin as an email: multipart/mixed [alternative [text, related [html, PNG…]], XLSX, DOCX].

The evidence screenshots shown in the HTML travel as inline parts of a multipart/related (``cid:``
references, RFC 2392), capped per image and per message; without screenshots the HTML part is plain.

Built with the stdlib's EmailMessage and policy SMTP (CRLF line ends, RFC 2047 encoded Chinese subject
and sender name, RFC 2231 encoded attachment name). The attachment name is kept short enough
(``2026-W48问题清单.xlsx``, ``2026-W48监测通报.docx``: :mod:`monitor.bulletin.names`) for a
single ``filename*=utf-8''…`` parameter: RFC 2231 *continuations*
(``filename*0*=…; filename*1*=…``), which the stdlib emits for longer names, are where older Outlook and
Foxmail versions show a garbled name. (Adding an RFC 2047 ``name=`` to Content-Type is not possible with
this policy: the stdlib refolds that header and breaks the long XLSX media type.) Bodies are base64 so no
server or relay has to handle 8-bit text or over-long lines of inlined CSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from monitor.config import Config

from .model import Bulletin
from .names import document_name, workbook_name

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
#: Added to the subject of a bulletin rendered before its week is over (``monitor demo``, a manual run).
INCOMPLETE_MARK = "（本周尚未结束）"
#: Caps on the screenshots embedded in one mail (each, and all together); the rest are named in the text.
MAIL_IMAGE_MAX_BYTES = 400_000
MAIL_IMAGES_MAX_BYTES = 3_000_000


def image_cid(file_name: str, week: str) -> str:
    """Content-ID of an embedded screenshot (no angle brackets): ``<sha prefix>.<week>@govsite-monitor``."""
    return f"{file_name.removesuffix('.png')[:32]}.{week}@govsite-monitor"


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the outbox message ``key``: derived from the key, not random, so every copy a
    retry may send (and a re-render for the same week and recipients) carries the same one and receivers
    can drop duplicates (issue 20)."""
    return f"<{key}.bulletin@{domain}>"


def attachment_name(b: Bulletin) -> str:
    """Chinese file name of the workbook, the same in the mail, on disk and in the bulletin's text."""
    return workbook_name(b.week)


def mail_subject(b: Bulletin) -> str:
    """The title, marked （本周尚未结束） when the week is still running (figures are partial)."""
    return f"{b.title}{INCOMPLETE_MARK}" if b.incomplete else b.title


def build_message(
    b: Bulletin,
    config: Config,
    *,
    text: str,
    html: str,
    xlsx: bytes,
    docx: bytes | None = None,
    now: datetime,
    key: str,
    images: Sequence[tuple[str, bytes]] = (),
) -> EmailMessage:
    """The complete message for ``config.bulletin.recipients``; ``images`` are ``(content id, PNG)``.

    Attached: the workbook (附件1 and 附件2) and, when given, the Word document of the 通报.
    """
    opts = config.bulletin
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = mail_subject(b)
    msg["From"] = opts.smtp.sender
    msg["To"] = ", ".join(opts.recipients)
    msg["Date"] = format_datetime(now)
    domain = parseaddr(opts.smtp.sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = message_id(key, domain)
    msg["X-Monitor-Week"] = b.week.label
    msg["X-Monitor-Key"] = key
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if images:
        html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
        for cid, png in images:
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline")
    msg.add_attachment(xlsx, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=attachment_name(b))
    if docx is not None:
        msg.add_attachment(docx, maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=document_name(b.week))
    return msg
