"""Text normalisation for the text checks, with exact offset mapping back to the original text.

Two steps, both cheap and precomputed:

* :func:`fold` maps characters ONE-TO-ONE (the result has the same length as the input): full-width
  ASCII to half-width, the ideographic space to a space, upper to lower case, traditional to simplified
  characters (single-character table, see ``data/t2s_chars.tsv``). Offsets therefore stay valid.
* :func:`compact` removes interference characters (whitespace, zero-width characters and symbols
  spammers put between characters: ``博*彩``, ``六 合 彩``). It returns a :class:`Compacted` object
  that maps offsets in the compacted text back to the folded (= original) text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

# Characters removed before sensitive-word matching. Deliberately excludes CJK sentence punctuation
# (，。、；：？！“”) so that words are not joined across clauses.
INTERFERENCE_CHARS = (
    " \t\r\n\f\v\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\u00ad"
    "*#@&^%$~`|\\\\/_+=.\\-'<>"
    "·•・∙⋅°★☆●○◆◇■□▲△▼▽♥♡♦♣♠※→←↑↓√×÷∞§¤"
)
_INTERFERENCE_RE = re.compile(f"[{INTERFERENCE_CHARS}]+")


def _load_t2s() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in (DATA_DIR / "t2s_chars.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        trad, simp = line.split("\t")
        table[trad] = simp
    return table


@lru_cache(maxsize=1)
def fold_map() -> dict[str, str]:
    """Return the one-to-one character folding map (character -> character)."""
    table = _load_t2s()
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[chr(cp)] = chr(cp - 0xFEE0)
    table["\u3000"] = " "
    for cp in range(ord("A"), ord("Z") + 1):
        table[chr(cp)] = chr(cp + 32)
    # Full-width capitals fold straight to lower-case ASCII.
    for cp in range(0xFF21, 0xFF3B):
        table[chr(cp)] = chr(cp - 0xFEE0 + 32)
    # Non-ASCII interference characters (zero-width, no-break spaces, decorative symbols) fold to a
    # space, so that compaction only has to delete ASCII bytes.
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if _INTERFERENCE_RE.fullmatch(ch):
            table[ch] = " "
    for ch, target in list(table.items()):
        if _INTERFERENCE_RE.fullmatch(target):
            table[ch] = " " if ord(target) >= 0x80 else target
    return table


@lru_cache(maxsize=1)
def _fold_re() -> re.Pattern[str]:
    chars = "".join(sorted(fold_map()))
    return re.compile("[" + re.escape(chars) + "]")


def fold(text: str) -> str:
    """Fold width, case and traditional characters; the result has exactly ``len(text)`` characters."""
    table = fold_map()
    return _fold_re().sub(lambda m: table[m.group()], text)


def strip_interference(text: str) -> str:
    """Remove interference characters (used when compiling word lists)."""
    return _INTERFERENCE_RE.sub("", text)


_ASCII_INTERFERENCE = bytes(c for c in range(128) if _INTERFERENCE_RE.fullmatch(chr(c)))


@dataclass
class Compacted:
    """Text with interference characters removed, plus the map back to the source offsets.

    ``data`` is the compacted text as UTF-8 bytes (what the automaton scans); ``text`` decodes it on
    first use.
    """

    source: str
    data: bytes
    changed: bool
    _text: str | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)
    _shift: list[int] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The compacted text."""
        if self._text is None:
            self._text = self.source if not self.changed else self.data.decode("utf-8")
        return self._text

    def _build(self) -> None:
        starts: list[int] = []
        shift: list[int] = []
        removed = 0
        for m in _INTERFERENCE_RE.finditer(self.source):
            removed += m.end() - m.start()
            # Compacted position of the first character after this run.
            starts.append(m.end() - removed)
            shift.append(removed)
        self._starts, self._shift = starts, shift

    def to_source(self, pos: int) -> int:
        """Map the compacted offset of a character to its offset in the source text."""
        if not self.changed:
            return pos
        if self._starts is None:
            self._build()
        assert self._starts is not None and self._shift is not None
        i = bisect.bisect_right(self._starts, pos) - 1
        return pos + (self._shift[i] if i >= 0 else 0)

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map a compacted ``[start, end)`` span to the source span covering the same characters."""
        if not self.changed:
            return start, end
        return self.to_source(start), self.to_source(end - 1) + 1


def compact(folded: str) -> Compacted:
    """Remove interference characters from already folded text.

    :func:`fold` has turned the non-ASCII interference characters into spaces, so deleting ASCII
    bytes from the UTF-8 encoding (``bytes.translate``) is enough.
    """
    raw = folded.encode("utf-8")
    data = raw.translate(None, _ASCII_INTERFERENCE)
    return Compacted(folded, data, len(data) != len(raw))


# --- Compiled match entries shared by the check modules -------------------------------------------

KIND_ERROR = 0  # typo / protected term / phrasing: must be contiguous in the source text
KIND_SENSITIVE = 1  # sensitive word: may straddle interference characters
KIND_ALLOW = 2  # allow phrase: hits inside it are dropped


@dataclass(frozen=True, slots=True)
class Entry:
    """One key of the shared automaton and what a match of it means.

    ``key`` is in folded, compacted form. ``not_before`` / ``not_after`` are characters that cancel the
    match when found right before / after it; ``word_guard`` drops the match when both its first and
    its last character form common words with their outer neighbours (平台独立 for 台独).
    ``pattern`` / ``template`` (phrasing rules) validate the match with a regular expression searched
    around it and build the suggestion.
    """

    key: str
    kind: int
    rule: str = ""
    severity: str = "warning"
    category: str = ""
    suggestion: str | None = None
    message: str = ""
    scope: str = ""
    not_before: str = ""
    not_after: str = ""
    word_guard: bool = False
    allow_gaps: bool = False
    pattern: re.Pattern[str] | None = None
    template: str | None = None
    note: str = ""


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Common Chinese words (2-4 characters) from ``data/words_zh.txt``."""
    words = (DATA_DIR / "words_zh.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in words if w and not w.startswith("#"))


def splits_words(text: str, start: int, end: int, words: frozenset[str] | None = None) -> bool:
    """True when ``text[start:end]`` is glued to both neighbours by common two-character words.

    E.g. 台独 in 平台独立: 平台 and 独立 are words, so 台独 is an accident of juxtaposition.
    """
    if start <= 0 or end >= len(text):
        return False
    w = common_words() if words is None else words
    return text[start - 1 : start + 1] in w and text[end - 1 : end + 1] in w


def glued_at_edge(text: str, start: int, end: int, words: frozenset[str] | None = None) -> bool:
    """True when an edge character of ``text[start:end]`` forms a common word with the character outside
    it, and that character has no word of its own on its other side.

    The sensitive-word guard: 大麻 in 一个大麻烦 (麻烦, and 烦 is alone after it), 一夜情 in 那一夜情况紧急,
    台独 in 平台独立 are accidents of juxtaposition even when the other edge sits on a word boundary; 法轮功
    in 邪教法轮功 is kept (教法 is a word, but 教 already belongs to 邪教). Two- and three-character words
    are looked at on each side.
    """
    w = common_words() if words is None else words
    n = len(text)
    after = end < n and (text[end - 1 : end + 1] in w or (end + 1 < n and text[end - 1 : end + 2] in w))
    if after and text[end : end + 2] not in w:
        return True
    before = start > 0 and (
        text[start - 1 : start + 1] in w or (start > 1 and text[start - 2 : start + 1] in w)
    )
    return before and (start < 2 or text[start - 2 : start] not in w)
