"""The mail outbox on disk: a bulletin is persisted before it is sent, and is never dropped.

Each message is two files named by its idempotency key (hash of the ISO week and the sorted recipients):
``<key>.eml`` (the exact bytes to send) and ``<key>.json`` (status, attempts, last error, next attempt).
Both are written atomically (temp + fsync + rename), the .eml first, so a crash leaves either nothing or
a message that is picked up again (an .eml without its .json is treated as queued).

Re-rendering the same week for the same recipients finds the existing key and does not queue it again,
so a re-run never sends a second copy. Delivery holds a per-message lock file (``flock``), so a CLI
``--send`` and a ``mail flush`` running at the same time cannot both send one message.

Statuses: ``queued`` (not tried yet), ``sending`` (an attempt is under way: written, fsync'd, *before* the
first byte goes to the server), ``failed`` (tried; retried at ``next_attempt_at`` unless ``permanent``),
``sent``.

At-most-twice delivery (issue 20). SMTP cannot be exactly-once: when the connection is lost after the
message's final dot, or the process dies while waiting for the server's 250, the server may well have
accepted the message. Such an attempt is *unconfirmed*. The state written before every attempt makes a
killed process's attempt visible to the next one (a ``sending`` entry nobody holds the lock of is an
unconfirmed attempt). An unconfirmed attempt is retried once, after a pause (never at once); a second one
ends the message as ``failed`` and ``permanent`` — at most two copies ever reach the server, and both carry
the same Message-ID (the message bytes are persisted once, the Message-ID derived from the outbox key), so
receivers can drop the duplicate. A permanent refusal (a 5xx reply) is not retried either: the server's
reply is kept as ``last_error`` and shown by ``monitor mail status``.

Instant alerts (:mod:`monitor.alerts`) share the folder: ``<key>.alert`` holds the composed alert (JSON) in
place of the ``.eml``, and the entry's ``channel`` names the alert channel (``mail`` for bulletins; state
files written before alerts existed have no ``channel`` and read as mail). The alert sender delivers them
with :meth:`Outbox.claim` and :meth:`Outbox.save`; :meth:`Outbox.flush` sends mail only.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import os
import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import aiosmtplib

from monitor.config import Smtp
from monitor.core.atomicfile import write_atomic
from monitor.core.clock import Clock, iso

log = logging.getLogger(__name__)


#: Attempts whose outcome is unknown (the server may have the message) before the outbox gives up on a
#: message: the first, and one retry after a pause. At most this many copies ever reach a server.
MAX_UNCONFIRMED = 2


#: The ``channel`` of a bulletin mail in the outbox.
MAIL_CHANNEL = "mail"
#: File suffix of an alert's composed message (the ``.eml`` of a mail).
ALERT_SUFFIX = ".alert"


class MailError(Exception):
    """Sending cannot even be attempted (e.g. the password's environment variable is not set)."""


class UnconfirmedDelivery(Exception):
    """The message was (or may have been) handed over, but the server's verdict never arrived: the
    connection was lost or timed out during DATA. The server may have accepted it."""


class PermanentRefusal(Exception):
    """The server refused the message with a permanent (5xx) reply: sending it again cannot help."""


def idempotency_key(week: str, recipients: Iterable[str], tenant: str | None = None) -> str:
    """One message per week and recipient list, whatever order the recipients are configured in.

    With ``tenant`` (a city's or county's bulletin, or ``province`` for the summary; issue 24) the key is
    that tenant's own, ``<tenant>-<week>-<hash>``: two tenants sharing an address still get one message
    each, and each at most once.
    """
    people = sorted({r.strip().lower() for r in recipients})
    if tenant is None:
        raw = "\n".join([week, *people]).encode("utf-8")
        return f"{week}-{hashlib.sha256(raw).hexdigest()[:12]}"
    raw = "\n".join([f"tenant:{tenant}", week, *people]).encode("utf-8")
    return f"{tenant}-{week}-{hashlib.sha256(raw).hexdigest()[:12]}"


@dataclass
class OutboxEntry:
    """The state of one message in the outbox."""

    key: str
    week: str
    subject: str
    recipients: list[str]
    status: str = "queued"
    attempts: int = 0
    created_at: str = ""
    last_attempt_at: str | None = None
    next_attempt_at: str | None = None
    sent_at: str | None = None
    last_error: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Attempts whose outcome is unknown (see MAX_UNCONFIRMED).
    unconfirmed: int = 0
    #: Not retried any more (a 5xx refusal, or MAX_UNCONFIRMED unconfirmed attempts).
    permanent: bool = False
    #: ``mail`` (a bulletin), or the name of the alert channel an alert goes to.
    channel: str = MAIL_CHANNEL

    def mark_sent(self, at: str) -> None:
        """Record a delivery the server confirmed at ``at`` (ISO time); nothing is due any more."""
        self.status, self.sent_at, self.last_error, self.next_attempt_at = "sent", at, None, None
        self.history.append({"at": at, "result": "sent"})


class Outbox:
    """A folder of messages waiting to be (or already) sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _eml(self, key: str) -> Path:
        return self.folder / f"{key}.eml"

    def _state(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def message_bytes(self, key: str) -> bytes:
        """The persisted message exactly as it is sent."""
        return self._eml(key).read_bytes()

    def get(self, key: str) -> OutboxEntry | None:
        """The entry for ``key``, if any (an orphan .eml reads as queued)."""
        state = self._state(key)
        if state.exists():
            return OutboxEntry(**json.loads(state.read_text(encoding="utf-8")))
        if self._eml(key).exists():
            return self._recover(key)
        if self._payload(key, ALERT_SUFFIX).exists():
            with self._folder_lock():  # an enqueue under way finishes writing the state first
                return self._alert_entry(key)
        return None

    def _alert_entry(self, key: str) -> OutboxEntry:
        """An alert's entry (the folder lock held): its state, or the payload alone recovered as queued."""
        state = self._state(key)
        if state.exists():
            return OutboxEntry(**json.loads(state.read_text(encoding="utf-8")))
        return self._recover_alert(key)

    def _payload(self, key: str, suffix: str) -> Path:
        return self.folder / f"{key}{suffix}"

    def payload_bytes(self, key: str, suffix: str = ALERT_SUFFIX) -> bytes:
        """The persisted payload of a non-mail entry (an alert's composed message), exactly as queued."""
        return self._payload(key, suffix).read_bytes()

    def _recover_alert(self, key: str) -> OutboxEntry:
        """An alert whose state file was never written (killed between the two writes): queued again."""
        payload = json.loads(self.payload_bytes(key))
        entry = OutboxEntry(
            key=key,
            week="",
            subject=str(payload.get("title", "")),
            recipients=[str(payload.get("channel", ""))],
            created_at=str(payload.get("created_at", "")),
            channel=str(payload.get("channel", "")),
        )
        self._save(entry)
        return entry

    def _recover(self, key: str) -> OutboxEntry:
        from email import message_from_bytes

        msg = message_from_bytes(self.message_bytes(key), policy=SMTP)
        entry = OutboxEntry(
            key=key,
            week=str(msg.get("X-Monitor-Week", "")),
            subject=str(msg.get("Subject", "")),
            recipients=[a.strip() for a in str(msg.get("To", "")).split(",") if a.strip()],
            created_at=datetime.fromtimestamp(self._eml(key).stat().st_mtime).astimezone().isoformat(),
        )
        self._save(entry)
        return entry

    def entries(self) -> list[OutboxEntry]:
        """Every message, oldest first."""
        if not self.folder.is_dir():
            return []
        keys = {p.stem for p in self.folder.glob("*.eml")} | {
            p.name.removesuffix(ALERT_SUFFIX) for p in self.folder.glob(f"*{ALERT_SUFFIX}")
        }
        found = [e for e in (self.get(k) for k in keys) if e is not None]
        return sorted(found, key=lambda e: (e.created_at, e.key))

    def _save(self, entry: OutboxEntry) -> None:
        write_atomic(
            self._state(entry.key), json.dumps(asdict(entry), ensure_ascii=False, indent=2), private=True
        )

    def save(self, entry: OutboxEntry) -> None:
        """Write an entry's state atomically (the alert sender records each attempt before making it)."""
        self._save(entry)

    def enqueue_payload(self, entry: OutboxEntry, payload: bytes, suffix: str = ALERT_SUFFIX) -> tuple[
        OutboxEntry, bool
    ]:
        """Persist a non-mail message (payload first, then its state) unless its key is already queued.

        Returns (entry, new): an entry already in the outbox, whatever its status, is never queued twice.
        """
        with self._folder_lock():
            if self._payload(entry.key, suffix).exists():
                return self._alert_entry(entry.key), False
            write_atomic(self._payload(entry.key, suffix), payload)
            self._save(entry)
            return entry, True

    def discard(self, key: str, suffix: str = ALERT_SUFFIX) -> None:
        """Remove a delivered non-mail entry for good (old sent alerts; mails are never removed).

        The payload goes first: a state file left alone by a crash lists nothing and is sent by nobody.
        """
        with self._folder_lock():
            self._payload(key, suffix).unlink(missing_ok=True)
            self._state(key).unlink(missing_ok=True)
            (self.folder / f".{key}.lock").unlink(missing_ok=True)

    @contextmanager
    def claim(self, key: str) -> Iterator[bool]:
        """The per-message lock, non-blocking: yields False when another process is sending it."""
        with self._message_lock(key) as mine:
            yield mine

    def enqueue(
        self, msg: EmailMessage, *, key: str, week: str, recipients: list[str], now: datetime
    ) -> tuple[OutboxEntry, bool]:
        """Persist ``msg`` under ``key`` unless that key is already in the outbox. Returns (entry, new)."""
        with self._folder_lock():
            existing = self.get(key)
            if existing is not None:
                return existing, False
            write_atomic(self._eml(key), msg.as_bytes(policy=SMTP), private=True)
            entry = OutboxEntry(
                key=key, week=week, subject=str(msg["Subject"]), recipients=recipients, created_at=iso(now)
            )
            self._save(entry)
            return entry, True

    @contextmanager
    def _folder_lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def _message_lock(self, key: str) -> Iterator[bool]:
        """Non-blocking per-message lock: yields False when another process is sending it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f".{key}.lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    async def deliver(
        self,
        key: str,
        smtp: Smtp,
        clock: Clock,
        *,
        env: Mapping[str, str] | None = None,
        retries: int = 0,
        base_dir: Path | None = None,
    ) -> OutboxEntry:
        """Try to send one message now, retrying ``retries`` times with doubling backoff.

        A message already sent, or failed for good (``permanent``), is not sent again. The entry is saved
        as ``sending`` before every attempt; one found ``sending`` here belonged to a process that died
        mid-attempt and counts as unconfirmed. On failure the entry stays in the outbox as ``failed`` with
        its error and the time a scheduler should try again; nothing is ever removed.
        """
        with self._message_lock(key) as mine:
            entry = self.get(key)
            if entry is None:
                raise KeyError(key)
            if entry.status == "sent" or not mine:
                return entry
            if entry.status == "sending":
                # We hold the lock, so the process that wrote "sending" is gone: killed while the server
                # may already have accepted the message.
                self._unconfirmed(
                    entry,
                    smtp,
                    datetime.fromisoformat(entry.last_attempt_at) if entry.last_attempt_at else clock.now(),
                    "the process sending it ended before the server's reply (it may have been delivered)",
                )
            if entry.permanent:
                return entry
            data = self.message_bytes(key)
            for attempt in range(retries + 1):
                now = clock.now()
                entry.attempts += 1
                entry.status, entry.last_attempt_at, entry.next_attempt_at = "sending", iso(now), None
                self._save(entry)  # durable before the first byte is sent (atomic write + fsync)
                try:
                    await send_bytes(data, entry.recipients, smtp, env=env, base_dir=base_dir)
                except MailError as exc:
                    self._failed(entry, smtp, now, str(exc))
                    return entry  # a setup problem: retrying now cannot help
                except PermanentRefusal as exc:
                    self._failed(entry, smtp, now, str(exc), permanent=True)
                    return entry
                except UnconfirmedDelivery as exc:
                    self._unconfirmed(entry, smtp, now, str(exc))
                    if entry.permanent:
                        return entry
                except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as exc:
                    self._failed(entry, smtp, now, f"{type(exc).__name__}: {exc}")
                else:
                    entry.mark_sent(iso(now))
                    self._save(entry)
                    log.info("sent %s to %d recipient(s)", key, len(entry.recipients))
                    return entry
                if attempt < retries:
                    # A pause before every retry, an unconfirmed one included: never at once.
                    await asyncio.sleep(smtp.retry_backoff_seconds * 2**attempt)
            return entry

    def _failed(
        self, entry: OutboxEntry, smtp: Smtp, now: datetime, error: str, *, permanent: bool = False
    ) -> None:
        wait = min(smtp.retry_backoff_seconds * 2 ** max(entry.attempts - 1, 0), smtp.max_backoff_seconds)
        entry.status, entry.last_error, entry.permanent = "failed", error, entry.permanent or permanent
        entry.next_attempt_at = None if entry.permanent else iso(now + timedelta(seconds=wait))
        entry.history.append(
            {"at": iso(now), "result": "failed", "error": error, **({"permanent": True} if permanent else {})}
        )
        self._save(entry)
        log.warning(
            "sending %s failed (attempt %d)%s: %s",
            entry.key,
            entry.attempts,
            ", not retried" if entry.permanent else "",
            error,
        )

    def _unconfirmed(self, entry: OutboxEntry, smtp: Smtp, now: datetime, error: str) -> None:
        """An attempt whose outcome is unknown: retried once after a pause, then never again."""
        entry.unconfirmed += 1
        if entry.unconfirmed >= MAX_UNCONFIRMED:
            error = (
                f"{error}; {entry.unconfirmed} attempts ended without the server's reply, "
                "not retried so that no third copy is sent (check the recipients' inboxes)"
            )
        self._failed(
            entry, smtp, now, f"unconfirmed: {error}", permanent=entry.unconfirmed >= MAX_UNCONFIRMED
        )

    async def flush(
        self,
        smtp: Smtp,
        clock: Clock,
        *,
        env: Mapping[str, str] | None = None,
        due_only: bool = False,
        base_dir: Path | None = None,
    ) -> list[OutboxEntry]:
        """Try every message not yet sent (``due_only``: only those whose retry time has come)."""
        out = []
        for entry in self.entries():
            if entry.status == "sent" or entry.permanent or entry.channel != MAIL_CHANNEL:
                continue  # alerts are delivered by monitor.alerts
            if (
                due_only
                and entry.next_attempt_at
                and datetime.fromisoformat(entry.next_attempt_at) > clock.now()
            ):
                continue
            out.append(await self.deliver(entry.key, smtp, clock, env=env, base_dir=base_dir))
        return out


async def send_bytes(
    data: bytes,
    recipients: list[str],
    smtp: Smtp,
    *,
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> None:
    """Submit a persisted message over SMTP (STARTTLS, implicit TLS or plain, as configured)."""
    env = os.environ if env is None else env
    password = None
    if smtp.username:  # no username: a relay without authentication, no AUTH and no password needed
        password = env.get(smtp.password_env) if smtp.password_env else None
        if password is None:
            raise MailError(
                f"bulletin.smtp.username is {smtp.username!r}, so the SMTP password is needed: environment "
                f"variable {smtp.password_env} (bulletin.smtp.password_env) is not set — put "
                f"{smtp.password_env}=… in the service's env file, or leave username empty for a relay "
                "without authentication"
            )
    context = None
    if smtp.security != "none":
        cafile = None
        if smtp.ca_file:
            cafile = Path(smtp.ca_file)
            if not cafile.is_absolute() and base_dir is not None:
                cafile = base_dir / cafile
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    from email.utils import parseaddr

    # The conversation is driven step by step (not aiosmtplib.send) to tell an error before DATA — the
    # server has nothing, safe to retry — from one during it, after which the server may have the message.
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=password,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        tls_context=context,
        timeout=smtp.timeout_seconds,
    )
    accepted = False
    try:
        async with client:
            try:
                await client.mail(parseaddr(smtp.sender)[1])
                refused = []
                for rcpt in recipients:
                    try:
                        await client.rcpt(rcpt)
                    except aiosmtplib.SMTPRecipientRefused as exc:
                        refused.append(exc)
                if len(refused) == len(recipients):
                    raise aiosmtplib.SMTPRecipientsRefused(refused)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = {e.code for e in exc.recipients}
                if all(500 <= c < 600 for c in codes):
                    raise PermanentRefusal(
                        "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients)
                    ) from exc
                raise
            except aiosmtplib.SMTPResponseException as exc:
                if 500 <= exc.code < 600:
                    raise PermanentRefusal(f"{exc.code} {exc.message}") from exc
                raise
            try:
                await client.data(data)
                accepted = True
            except aiosmtplib.SMTPResponseException as exc:
                # A reply to DATA or to the final dot: the server's verdict, not a lost one.
                if 500 <= exc.code < 600:
                    raise PermanentRefusal(f"{exc.code} {exc.message}") from exc
                raise
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise UnconfirmedDelivery(f"{type(exc).__name__}: {exc}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        # Closing (QUIT) failed after the server accepted the message: the delivery itself is done.
        if not accepted:
            raise
