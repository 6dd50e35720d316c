"""Console accounts from the command line (``monitor web adduser``) and the checks every way of adding
one shares (the admin page too)."""

from __future__ import annotations

import re
from datetime import datetime

from monitor.console.auth import ROLES, hash_password
from monitor.store import triage
from monitor.store.database import Store

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """An account that cannot be made as asked (the message says why, in English for the CLI)."""


def check_account(username: str, role: str, unit: str | None, password: str) -> None:
    """Raise :class:`AccountError` for a bad name, role, unit or password."""
    if not USERNAME.match(username):
        raise AccountError("user name: 2-64 letters, digits or . _ @ -, starting with a letter or digit")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "department" and not (unit or "").strip():
        raise AccountError("a department account needs --unit (the unit whose problems it handles)")
    if role != "department" and unit:
        raise AccountError("only a department account has a unit")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password too short: at least {MIN_PASSWORD} characters")


def create_account(
    store: Store, username: str, role: str, unit: str | None, password: str, now: datetime
) -> None:
    """Check and store a new account with an Argon2id hash of its password."""
    check_account(username, role, unit, password)
    if triage.get_user(store, username) is not None:
        raise AccountError(f"user {username!r} exists already")
    triage.add_user(
        store,
        triage.User(
            username=username,
            role=role,
            unit=(unit or "").strip() or None,
            password_hash=hash_password(password),
            created_at=now,
        ),
    )
