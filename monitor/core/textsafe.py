"""Making untrusted text (from crawled pages) inert in every output: the one place that knows how.

Crawled text reaches terminals, log lines, CSV and XLSX files opened in Excel/WPS, JSONL read by other
tools, and bulletin HTML/TXT read in mail clients. What it may carry there:

- control characters: ANSI/OSC escape sequences (ESC, the C1 CSI U+009B, OSC 8 hyperlinks), carriage
  returns that overwrite a line, NULs, DEL;
- direction overrides and isolates (U+202A–U+202E, U+2066–U+2069, the marks U+200E/U+200F/U+061C) that
  make text read differently from what it is ("Trojan Source"), and U+2028/U+2029 line separators that
  start a new line in some viewers but not in others (forged log lines);
- spreadsheet formulas: a CSV cell starting with ``= + - @`` (or a tab/CR before them) is run by Excel
  (``=HYPERLINK(…)``, DDE).

Each sink gets its function here: :func:`inert` for text (the character shown as ``\\xNN`` / ``\\uNNNN``),
:func:`inert_json` for JSON (the character as a JSON ``\\uNNNN`` escape: lossless, still inert),
:func:`csv_cell` for CSV cells (inert, then OWASP's rule: a leading single quote before a formula
trigger), :func:`inert_markup` for HTML template values (Jinja's autoescape does the rest). XLSX cells
are written as strings by :mod:`monitor.bulletin.xlsx` (never as formulas).
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup

_DIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNSAFE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_DIRECTIONAL}]")
_UNSAFE_NO_NEWLINES = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_DIRECTIONAL}]")
# In JSON text the C0 controls are escaped by json.dumps already; these are what it leaves raw.
_UNSAFE_IN_JSON = re.compile(f"[\\x7f-\\x9f{_DIRECTIONAL}]")

#: What makes a spreadsheet take a cell as a formula (OWASP CSV injection), including the full-width
#: forms some spreadsheet locales convert, and a leading tab or carriage return before them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group(0)):04x}"


def inert(text: str | None, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or direction-override character escaped.

    ``keep_newlines`` keeps ``\\n`` and ``\\t`` (multi-line text: messages, the bulletin's TXT)."""
    if not text:
        return ""
    return (_UNSAFE if keep_newlines else _UNSAFE_NO_NEWLINES).sub(_escape, text)


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` that :func:`inert` would escape (``\\n`` and ``\\t`` allowed)."""
    return _UNSAFE.findall(text)


def inert_json(value: Any, **dumps: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` with the C1 controls, DEL and direction overrides written
    as ``\\uNNNN`` escapes too: a reader gets the original text back, a terminal or editor shows nothing
    live. Extra keyword arguments go to :func:`json.dumps`."""
    dumps.setdefault("ensure_ascii", False)
    return _UNSAFE_IN_JSON.sub(_json_escape, json.dumps(value, **dumps))


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: text made inert, and a leading single quote when it would start a
    formula (OWASP: ``=``, ``+``, ``-``, ``@``, tab, CR). Numbers and None pass unchanged."""
    if not isinstance(value, str):
        return value
    text = inert(value, keep_newlines=True)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def inert_markup(value: Any) -> Any:
    """A template value made inert before HTML escaping: text escaped by :func:`inert`; markup already
    built by a filter keeps being markup (its text escaped the same way)."""
    if isinstance(value, Markup):
        return Markup(inert(str(value), keep_newlines=True))
    if isinstance(value, str):
        return inert(value, keep_newlines=True)
    return value
