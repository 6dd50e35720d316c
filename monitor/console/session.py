"""Signed session cookies: the secret, the cookie's content and its attributes.

The cookie holds the user name, a CSRF token and a stamp of the password hash (changing a password or
disabling an account ends its sessions), signed with itsdangerous (HMAC-SHA1 over a key derived from the
secret, with a timestamp checked against ``console.session_hours``). Nothing secret is in the cookie; the
signature only stops it being forged or altered.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "gsm_session"
SECRET_ENV = "MONITOR_CONSOLE_SECRET"


def load_secret(path: Path, env: dict[str, str] | None = None) -> bytes:
    """The signing secret: ``$MONITOR_CONSOLE_SECRET``, else the file at ``path``, created with 64 random
    bytes (hex) and mode 0600 on first start. A secret file readable by others is refused."""
    env = dict(os.environ) if env is None else env
    if env.get(SECRET_ENV):
        return env[SECRET_ENV].encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(
                f"{path} is readable by others (mode {mode:o}); chmod 600 it, it signs console logins"
            ) from None
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise ValueError(f"{path} holds fewer than 32 bytes; delete it to have a new one made") from None
        return secret
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(64) + "\n")
    return path.read_bytes().strip()


def password_stamp(password_hash: str) -> str:
    """A short digest of the stored hash: a session made before a password change no longer matches."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    """What a session cookie carries: ``user`` is empty before login (the login form's CSRF token)."""

    csrf: str
    user: str = ""
    stamp: str = ""


class SessionCodec:
    """Signs and reads session cookies."""

    def __init__(self, secret: bytes, max_age_seconds: float) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="govsite-monitor console session")
        self.max_age = int(max_age_seconds)

    def dumps(self, session: Session) -> str:
        """The cookie value."""
        return self._serializer.dumps({"c": session.csrf, "u": session.user, "s": session.stamp})

    def loads(self, value: str | None) -> Session | None:
        """The session of a cookie value; None when missing, forged, altered or expired."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str) or len(data["c"]) < 32:
            return None
        return Session(csrf=data["c"], user=str(data.get("u") or ""), stamp=str(data.get("s") or ""))


def new_session(user: str = "", stamp: str = "") -> Session:
    """A session with a fresh CSRF token (a new one at every login: no fixation)."""
    return Session(csrf=secrets.token_urlsafe(32), user=user, stamp=stamp)
