"""Who may do what in the console: roles, password hashes (Argon2id) and the login rate limit.

Roles (docs/console.md): ``admin`` does everything and manages accounts; ``office`` triages every unit;
``department`` sees and acts on its own unit only; ``readonly`` sees everything and changes nothing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("admin", "office", "department", "readonly")
ROLE_LABELS = {
    "admin": "系统管理员",
    "office": "办公室（全部单位）",
    "department": "部门",
    "readonly": "只读",
}

#: argon2-cffi's defaults are RFC 9106's "second recommended" Argon2id parameters (64 MiB, t=3).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted, parameters encoded in the string)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; a malformed hash never matches."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at the next login)."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


#: A hash verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def verify_or_waste(stored_hash: str | None, password: str) -> bool:
    """Verify against ``stored_hash``, or spend the same time when there is none (no user enumeration)."""
    if stored_hash is None:
        verify_password(_DUMMY_HASH, password)
        return False
    return verify_password(stored_hash, password)


@dataclass(frozen=True)
class Principal:
    """The logged-in account as the console sees it."""

    username: str
    role: str
    unit: str | None = None

    @property
    def can_act(self) -> bool:
        """May change findings (mark 误报, assign, deadlines, request a re-check)."""
        return self.role in ("admin", "office", "department")

    @property
    def can_assign(self) -> bool:
        """May hand a finding to another unit (a department may not move its problems elsewhere)."""
        return self.role in ("admin", "office")

    @property
    def is_admin(self) -> bool:
        """May manage accounts."""
        return self.role == "admin"

    @property
    def scope(self) -> frozenset[str] | None:
        """The units this account may see (None: every unit)."""
        if self.role == "department":
            return frozenset({self.unit or ""})
        return None

    def sees_unit(self, unit: str | None) -> bool:
        """True when a finding of ``unit`` (its effective unit) is within this account's scope."""
        scope = self.scope
        return scope is None or (unit or "") in scope

    @property
    def role_label(self) -> str:
        """The role in Chinese."""
        return ROLE_LABELS.get(self.role, self.role)


class LoginLimiter:
    """Failed logins per user name and per client address in a sliding window; past the limit, that
    name or address must wait until its oldest failure leaves the window. Kept in memory: a restart
    forgets it, which costs an attacker a restart they cannot cause."""

    def __init__(self, max_failures: int, window_seconds: float, now: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self._now = now
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        cutoff = self._now() - self.window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def wait_seconds(self, username: str, address: str) -> float:
        """Seconds until a login for this name from this address may be tried (0: now)."""
        wait = 0.0
        for key in (f"user:{username.casefold()}", f"addr:{address}"):
            stamps = self._recent(key)
            if len(stamps) >= self.max_failures:
                wait = max(wait, stamps[0] + self.window - self._now())
        return max(wait, 0.0)

    def failed(self, username: str, address: str) -> None:
        """Count one failed login against the name and the address."""
        at = self._now()
        for key in (f"user:{username.casefold()}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(at)
            if len(self._failures) > 100_000:  # bounded memory under a flood of invented names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, username: str) -> None:
        """A successful login clears the name's failures (the address keeps its count)."""
        self._failures.pop(f"user:{username.casefold()}", None)
