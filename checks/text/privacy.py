"""Privacy leaks: 18-digit resident identity numbers (居民身份证号码, GB 11643-1999)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

# Province-level codes in use (first two digits), plus 71 台湾, 81 香港, 82 澳门, 83 (港澳台居民居住证).
_PROVINCES = frozenset(
    str(c)
    for c in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    )
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Runs on folded text (full-width digits already half-width). Not inside longer digit/letter runs.
ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}[01]\d[0-3]\d\d{3}[0-9Xx](?![0-9A-Za-z])")


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id(number: str, today: dt.date | None = None) -> bool:
    """True for a well-formed 18-character ID: known province, real birth date not in the future,
    correct check character."""
    if len(number) != 18 or not number[:17].isdigit() or number[:2] not in _PROVINCES:
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > (today or dt.date.today()):
        return False
    return check_digit(number[:17]) == number[17].upper()


def mask_id(number: str) -> str:
    """Mask an ID number for reports: 110105********1234."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_DIGITS = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_RUN = b"0" * 17


def may_contain_id(utf8: bytes) -> bool:
    """Cheap prefilter: True when the UTF-8 text has a run of at least 17 ASCII digits."""
    return _RUN in utf8.translate(_DIGITS)


def find_ids(folded: str, today: dt.date | None = None) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, end, number)`` for valid ID numbers in already folded text."""
    for m in ID_RE.finditer(folded):
        number = m.group()
        if is_valid_id(number, today):
            yield m.start(), m.end(), number.upper()
