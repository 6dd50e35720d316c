"""CSRF protection: every form carries the session's token, and every POST without it is refused.

The token lives in the signed session cookie (SameSite=Lax already keeps it off cross-site POSTs; the
token covers older browsers and same-site attackers). Login forms have one too: an anonymous session is
made for them, so nobody can log a victim into the attacker's account.
"""

from __future__ import annotations

import secrets

from monitor.console.session import Session

FIELD = "csrf_token"


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    """True when the form's token is the session's (compared in constant time)."""
    if session is None or not submitted:
        return False
    return secrets.compare_digest(session.csrf.encode(), submitted.encode())
