"""Sensitive-word lists (敏感词): loading and compilation into automaton entries.

A list file has one word per line; ``#`` starts a comment. Words are folded (width, case, traditional
characters) and stripped of interference characters, exactly like the scanned text, so one simplified
spelling per word catches ``博*彩``, ``六 合 彩``, ``賭博`` and ``ＡＶ女优``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checks.text.textnorm import DATA_DIR, KIND_ALLOW, KIND_SENSITIVE, Entry, fold, strip_interference

SAMPLE_LIST = DATA_DIR / "sensitive_sample.txt"
_SEVERITIES = ("veto", "deduction", "warning", "info")


@dataclass(frozen=True)
class WordList:
    """A sensitive-word list supplied by the caller.

    ``path``: a text file (one word per line, ``#`` comments); ``words``: extra inline words;
    ``category``: shown in findings as ``敏感词:<category>``; ``severity``: one of veto / deduction /
    warning / info; ``allow``: phrases inside which this list's hits are dropped (e.g. 反对赌博 if the
    list should not fire on it); ``name``: rule suffix (``sensitive:<name>``), defaults to the file
    stem or the category.
    """

    category: str
    path: Path | str | None = None
    severity: str = "warning"
    words: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    name: str | None = None
    # Words of this list that must match only as a whole "word" are always boundary-guarded; set
    # False to match inside any text (useful for long spam phrases).
    word_guard: bool = field(default=True)

    @property
    def rule_name(self) -> str:
        """The suffix used in ``TextHit.rule``."""
        if self.name:
            return self.name
        if self.path:
            return Path(self.path).stem
        return self.category


def read_words(path: Path | str) -> list[str]:
    """Read a word-list file: one word per line, ``#`` comments and blank lines ignored."""
    out: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            out.append(word)
    return out


def normalise_word(word: str) -> str:
    """Fold and strip interference characters, as the scanner does with page text."""
    return strip_interference(fold(word))


def sensitive_entries(lists: Iterable[WordList]) -> list[Entry]:
    """Compile the word lists (and their allow phrases) into automaton entries."""
    entries: list[Entry] = []
    for wl in lists:
        if wl.severity not in _SEVERITIES:
            raise ValueError(f"WordList {wl.rule_name!r}: unknown severity {wl.severity!r}")
        words = list(wl.words)
        if wl.path:
            words.extend(read_words(wl.path))
        category = f"敏感词:{wl.category}"
        seen: set[str] = set()
        for raw in words:
            key = normalise_word(raw)
            if not key or key in seen:
                continue
            seen.add(key)
            entries.append(
                Entry(
                    key=key,
                    kind=KIND_SENSITIVE,
                    rule=f"sensitive:{wl.rule_name}",
                    severity=wl.severity,
                    category=category,
                    message="发现敏感词“{wrong}”（" + category + "）",
                    scope=wl.rule_name,
                    word_guard=wl.word_guard,
                )
            )
        for phrase in wl.allow:
            key = normalise_word(phrase)
            if key:
                entries.append(Entry(key=key, kind=KIND_ALLOW, scope=f"sensitive:{wl.rule_name}"))
    return entries


def allow_entries(phrases: Iterable[str]) -> list[Entry]:
    """Global allow phrases (误报加白): any hit inside one is dropped, whatever its rule."""
    return [Entry(key=k, kind=KIND_ALLOW, scope="*") for k in {normalise_word(p) for p in phrases} if k]
