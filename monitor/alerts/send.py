"""Alerts into the outbox, and out of it through Apprise: durable, retried, sent at most twice.

An alert is queued in the bulletin's outbox (:class:`monitor.bulletin.outbox.Outbox`): its composed message
as ``<key>.alert`` and its state as ``<key>.json``, both written atomically before anything is sent. The
channel's URL is *not* stored: it is read from the config (or its environment variable) when sending, so
no webhook token ever sits in the outbox.

Each attempt is recorded as ``sending`` before the request is made. The outcome decides what follows:

- accepted → ``sent``, never sent again;
- refused with an HTTP status (429, 5xx…) or the connection could not be made → not delivered:
  ``failed``, retried with doubling backoff (``alerts.retry_backoff_seconds`` … ``max_backoff_seconds``);
- refused for good (another 4xx: a wrong token or path) → ``failed`` and ``permanent``: not retried;
- no answer after the request went out (a read timeout, a dropped connection), or a process found the
  entry still ``sending`` (it was killed mid-send) → *unconfirmed*: it may have arrived. It is retried
  once, after a pause; a second unconfirmed attempt makes it ``permanent``, so no alert is ever delivered
  more than twice (the mail outbox's rule, ``MAX_UNCONFIRMED``). ``monitor outbox status`` shows it all.

Apprise reports only success or failure; the kind of failure is read from what it logs (the HTTP status
``error=NNN``, or the connection error's text). Anything not recognised counts as unconfirmed, the safe side
of "at most twice".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from monitor.bulletin.outbox import ALERT_SUFFIX, MAX_UNCONFIRMED, Outbox, OutboxEntry
from monitor.config import AlertChannel, Config
from monitor.core.clock import Clock, iso
from monitor.core.urls import percent_encode

from .compose import Message

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Statuses of an alert still to be sent (``failed`` and ``held`` wait for ``next_attempt_at``); a
#: ``failed`` one marked ``permanent`` is not tried again.
PENDING = ("queued", "held", "failed", "sending")

_HTTP_STATUS = re.compile(r"error=(\d{3})")
#: The request never reached the receiver: safe to retry as often as needed.
_NOT_SENT = re.compile(
    r"NewConnectionError|Connection refused|ConnectTimeout|Failed to resolve|Name or service not known|"
    r"No route to host|Network is unreachable|ProxyError|nodename nor servname|Temporary failure in name"
)


class ChannelError(Exception):
    """A channel cannot be used (not configured, its environment variable unset, an URL Apprise rejects)."""


@dataclass(frozen=True)
class Outcome:
    """What one attempt did: ``result`` is sent / retry / unconfirmed / rejected, with Apprise's reason."""

    result: str
    error: str = ""


def alert_key(channel: str, identity: str) -> str:
    """The outbox key of one alert to one channel: stable for the same transitions."""
    digest = hashlib.sha256(f"{channel}\n{identity}".encode()).hexdigest()[:16]
    return f"alert-{channel}-{digest}"


def channel_url(channel: AlertChannel, env: Mapping[str, str] | None = None) -> str:
    """The channel's Apprise URL, from the config or its environment variable."""
    if channel.url is not None:
        return channel.url
    env = os.environ if env is None else env
    value = env.get(channel.url_env or "")
    if not value:
        raise ChannelError(f"environment variable {channel.url_env} (the channel's url_env) is not set")
    return value


def url_scheme(url: str | None) -> str | None:
    """``wecombot`` of ``wecombot://KEY``."""
    if not url or "://" not in url:
        return None
    return url.split("://", 1)[0].lower()


def enqueue(
    outbox: Outbox,
    *,
    channel: str,
    identity: str,
    message: Message,
    event: str,
    severity: str,
    now: datetime,
    hold_until: datetime | None = None,
) -> tuple[OutboxEntry, bool]:
    """Queue one alert for one channel (once: the same ``identity`` is never queued twice)."""
    key = alert_key(channel, identity)
    payload = {
        "channel": channel,
        "event": event,
        "severity": severity,
        "title": message.title,
        "body": message.body,
        "format": message.format,
        "created_at": iso(now),
        "identity": identity,
    }
    entry = OutboxEntry(
        key=key,
        week="",
        subject=message.title,
        recipients=[channel],
        created_at=iso(now),
        channel=channel,
        status="held" if hold_until is not None else "queued",
        next_attempt_at=iso(hold_until) if hold_until is not None else None,
    )
    data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    return outbox.enqueue_payload(entry, data, ALERT_SUFFIX)


def alert_entries(outbox: Outbox) -> list[OutboxEntry]:
    """The alerts in the outbox (not the bulletin mails), oldest first."""
    return [e for e in outbox.entries() if e.channel != "mail"]


def prune(outbox: Outbox, now: datetime, keep_days: int) -> int:
    """Remove alerts sent more than ``keep_days`` ago; returns how many. Alerts not sent stay forever.

    Safe for the never-twice rule: a transition older than two days is never queued again, and
    ``keep_days`` is at least 7.
    """
    cutoff = now - timedelta(days=keep_days)
    removed = 0
    for entry in alert_entries(outbox):
        if entry.status == "sent" and entry.sent_at and datetime.fromisoformat(entry.sent_at) < cutoff:
            with outbox.claim(entry.key) as mine:
                if mine:
                    outbox.discard(entry.key, ALERT_SUFFIX)
                    removed += 1
    return removed


def due(entry: OutboxEntry, now: datetime) -> bool:
    """Whether an alert should be tried now."""
    if entry.status not in PENDING or entry.permanent:
        return False
    return not entry.next_attempt_at or datetime.fromisoformat(entry.next_attempt_at) <= now


async def drain(
    outbox: Outbox, config: Config, clock: Clock, *, env: Mapping[str, str] | None = None
) -> list[OutboxEntry]:
    """Try every alert whose time has come (held ones once the quiet hours end); oldest first.

    Every file and network operation runs in a thread: the event loop never waits for the disk or a
    webhook."""
    out = []
    for entry in await in_daemon_thread(alert_entries, outbox):
        if due(entry, clock.now()):
            out.append(await deliver(outbox, entry.key, config, clock, env=env))
    return out


async def deliver(
    outbox: Outbox, key: str, config: Config, clock: Clock, *, env: Mapping[str, str] | None = None
) -> OutboxEntry:
    """One attempt at one alert (:func:`deliver_now`), in a thread of its own."""
    return await in_daemon_thread(deliver_now, outbox, key, config, clock, env)


def deliver_now(
    outbox: Outbox, key: str, config: Config, clock: Clock, env: Mapping[str, str] | None = None
) -> OutboxEntry:
    """One attempt at one alert, recorded before it is made (see the module docstring). Blocking."""
    with outbox.claim(key) as mine:
        entry = outbox.get(key)
        if entry is None:
            raise KeyError(key)
        if not mine or entry.status == "sent" or entry.permanent:
            return entry
        now = clock.now()
        if entry.status == "sending":
            # The process that was sending it died before recording the outcome: it may have arrived.
            entry.unconfirmed += 1
            entry.history.append({"at": iso(now), "result": "interrupted"})
        if entry.unconfirmed >= MAX_UNCONFIRMED:
            return _final(
                outbox, entry, now, f"{MAX_UNCONFIRMED} attempts unconfirmed: may have arrived twice"
            )
        payload = json.loads(outbox.payload_bytes(key, ALERT_SUFFIX))
        try:
            channel = config.alerts.channels.get(entry.channel)
            if channel is None:
                raise ChannelError(f"channel {entry.channel!r} is no longer in alerts.channels")
            url = channel_url(channel, env)
        except ChannelError as exc:
            return _failed(outbox, entry, config, now, str(exc), unconfirmed=False)
        entry.status, entry.last_attempt_at = "sending", iso(now)
        entry.attempts += 1
        outbox.save(entry)  # written before the attempt: a kill from here on is counted as unconfirmed
        outcome = notify(url, payload, channel)
        now = clock.now()
        if outcome.result == "sent":
            entry.mark_sent(iso(now))
            outbox.save(entry)
            log.info("alert %s sent to %s", key, entry.channel)
            return entry
        if outcome.result == "rejected":
            return _final(outbox, entry, now, f"refused for good: {outcome.error}")
        return _failed(outbox, entry, config, now, outcome.error, unconfirmed=outcome.result == "unconfirmed")


async def in_daemon_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a daemon thread: the loop stays free, and a stopping process never waits for a
    slow webhook (``asyncio.to_thread``'s pool is joined at exit). A thread cut off by the exit leaves its
    alert ``sending``, which the next process counts as unconfirmed — the safe side."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result, error = func(*args), None
        except BaseException as exc:  # handed to the awaiting task, raised there
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: the process is ending
            loop.call_soon_threadsafe(_settle, future, result, error)

    threading.Thread(target=run, name="alert-send", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled (the daemon is stopping)
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _final(outbox: Outbox, entry: OutboxEntry, now: datetime, error: str) -> OutboxEntry:
    """Not tried again (``monitor outbox retry KEY`` queues it anew)."""
    entry.status, entry.permanent, entry.last_error, entry.next_attempt_at = "failed", True, error, None
    entry.history.append({"at": iso(now), "result": "failed", "error": error, "permanent": True})
    outbox.save(entry)
    log.error("alert %s to %s not retried: %s", entry.key, entry.channel, error)
    return entry


def _failed(
    outbox: Outbox, entry: OutboxEntry, config: Config, now: datetime, error: str, *, unconfirmed: bool
) -> OutboxEntry:
    opts = config.alerts
    if unconfirmed:
        entry.unconfirmed += 1
        error = f"unconfirmed: {error}"
        if entry.unconfirmed >= MAX_UNCONFIRMED:
            return _final(
                outbox, entry, now, f"{error}; {MAX_UNCONFIRMED} attempts unconfirmed: may have arrived twice"
            )
    failures = sum(1 for h in entry.history if h.get("result") == "failed") + 1
    wait = min(opts.retry_backoff_seconds * 2 ** (failures - 1), opts.max_backoff_seconds)
    entry.status, entry.last_error = "failed", error
    entry.next_attempt_at = iso(now + timedelta(seconds=wait))
    entry.history.append({"at": iso(now), "result": "failed", "error": error, "unconfirmed": unconfirmed})
    outbox.save(entry)
    log.warning("alert %s to %s failed (attempt %d): %s", entry.key, entry.channel, entry.attempts, error)
    return entry


def with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with Apprise options set (``format``, timeouts, no retries of its own): appended after the
    channel's own, so ours win (Apprise keeps the last value of a repeated option)."""
    extra = "&".join(f"{k}={percent_encode(v, safe='')}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def notify(url: str, payload: Mapping[str, str], channel: AlertChannel) -> Outcome:
    """Send one composed alert with Apprise (blocking: called in a thread) and classify the outcome."""
    import apprise

    fmt = str(payload.get("format") or "text")
    timeout = f"{channel.timeout_seconds:g}"
    # Our own retries and outbox decide about repeats: Apprise retries nothing, and never splits a message
    # into several (``overflow=truncate``: a message is composed to fit, this is only the last guard).
    full = with_params(
        url, {"format": fmt, "rto": timeout, "cto": timeout, "retry": "0", "overflow": "truncate"}
    )
    sender = apprise.Apprise()
    if not sender.add(full):
        return Outcome("rejected", "Apprise cannot load the channel's URL")
    with apprise.LogCapture(level=logging.DEBUG) as logs:
        ok = sender.notify(
            body=str(payload.get("body", "")),
            title=str(payload.get("title", "")),
            body_format=apprise.NotifyFormat.MARKDOWN if fmt == "markdown" else apprise.NotifyFormat.TEXT,
        )
        text = logs.getvalue()
    if ok:
        return Outcome("sent")
    return classify(text)


def classify(apprise_log: str) -> Outcome:
    """The kind of failure from Apprise's log of one attempt (see the module docstring)."""
    reason = _reason(apprise_log)
    status = _HTTP_STATUS.search(apprise_log)
    if status:
        code = int(status.group(1))
        if code in (408, 425, 429) or code >= 500:
            return Outcome("retry", f"HTTP {code}: {reason}")
        return Outcome("rejected", f"HTTP {code}: {reason}")
    if _NOT_SENT.search(apprise_log):
        return Outcome("retry", f"not delivered: {reason}")
    return Outcome("unconfirmed", f"no confirmation: {reason}")


def _reason(apprise_log: str) -> str:
    lines = [
        line.split(" - ", 2)[-1].strip()
        for line in apprise_log.splitlines()
        if " - WARNING - " in line or "Socket Exception" in line or " - ERROR - " in line
    ]
    return "; ".join(lines)[:300] or "Apprise reported a failure"
