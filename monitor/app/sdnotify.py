"""systemd's readiness protocol (sd_notify): datagrams of ``KEY=VALUE`` lines to ``$NOTIFY_SOCKET``.

Hand-written on purpose: the protocol is one ``sendto`` on a unix datagram socket (~20 lines), and the
packaged options either need libsystemd and a C build (systemd-python, cysystemd) or are unmaintained
wrappers of these same lines (sdnotify). Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class Notifier:
    """Sends notifications to the socket named by ``$NOTIFY_SOCKET`` (abstract when it starts with '@')."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # Linux abstract namespace
        self.address = address if address.startswith(("/", "\0")) else ""
        self.watchdog_interval = _watchdog_interval(env)

    @property
    def enabled(self) -> bool:
        """Whether a notification socket was given."""
        return bool(self.address)

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=VALUE`` lines (``notify(READY=1, STATUS="…")``); False when nothing could be sent."""
        if not self.address:
            return False
        payload = "\n".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8")
        try:
            # Non-blocking: called from the daemon's event loop, which must never wait on a receiver that
            # is not reading (a full queue drops this one notification instead).
            with socket.socket(
                socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
            ) as sock:
                sock.sendto(payload, self.address)
        except OSError as exc:
            log.debug("sd_notify failed: %s", exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        """Scheduling has started (or a reload is over)."""
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        """What the daemon is doing, for ``systemctl status``."""
        return self.send(STATUS=status)

    def reloading(self) -> bool:
        """A reload begins; systemd >= 253 expects the monotonic time with it."""
        return self.send(RELOADING=1, MONOTONIC_USEC=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def stopping(self, status: str) -> bool:
        """Shutdown has begun."""
        return self.send(STOPPING=1, STATUS=status)

    def watchdog(self) -> bool:
        """Still alive."""
        return self.send(WATCHDOG=1)


def _watchdog_interval(env: dict[str, str] | os._Environ[str]) -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds, when the watchdog is meant for this process."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2 / 1_000_000
