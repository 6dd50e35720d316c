"""Making untrusted text (from crawled pages) inert for terminals and log lines.

HTML output is escaped by Jinja's autoescape; this module covers the other sinks: control characters
(ANSI escapes, carriage returns that overwrite a line, bidi overrides) are shown as ``\\xNN`` / ``\\uNNNN``.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_NO_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str | None, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or direction-override character escaped."""
    if not text:
        return ""
    return (_UNSAFE if keep_newlines else _UNSAFE_NO_NEWLINES).sub(_escape, text)
