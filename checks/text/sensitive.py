"""Sensitive-word lists (敏感词): loading and compilation into automaton entries.

List files are read by :mod:`monitor.core.wordlists` (one word per line, ``word<TAB>category``, CSV with a
header, ``#`` comments; UTF-8, UTF-8 with BOM or GBK); a word's own category overrides the list's.
Words are folded (width, case, traditional characters) and stripped of interference characters,
exactly like the scanned text, so one simplified spelling per word catches ``博*彩``, ``六 合 彩``,
``賭博`` and ``ＡＶ女优``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checks.text.textnorm import DATA_DIR, KIND_ALLOW, KIND_SENSITIVE, Entry, fold, strip_interference
from monitor.core.wordlists import read_list

SAMPLE_LIST = DATA_DIR / "sensitive_sample.txt"
_SEVERITIES = ("veto", "deduction", "warning", "info")


@dataclass(frozen=True)
class WordList:
    """A sensitive-word list supplied by the caller.

    ``path``: a list file (see :mod:`monitor.core.wordlists`); ``words``: extra inline words;
    ``word_categories``: ``(word, category)`` pairs whose category overrides the list's (what a
    ``word<TAB>category`` file holds); ``category``: shown in findings as ``敏感词:<category>``;
    ``severity``: one of veto / deduction / warning / info; ``allow``: phrases inside which this
    list's hits are dropped (e.g. 反对赌博 if the list should not fire on it); ``name``: rule suffix
    (``sensitive:<name>``), defaults to the file stem or the category.
    """

    category: str
    path: Path | str | None = None
    severity: str = "warning"
    words: tuple[str, ...] = ()
    word_categories: tuple[tuple[str, str], ...] = ()
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
    """The words of a list file (any form :mod:`monitor.core.wordlists` reads), without their categories."""
    return [w.word for w in read_list(path)]


def read_word_categories(path: Path | str) -> list[tuple[str, str]]:
    """``(word, category)`` pairs of a list file; the category is ``""`` where the line names none."""
    return [(w.word, w.category) for w in read_list(path)]


def normalise_word(word: str) -> str:
    """Fold and strip interference characters, as the scanner does with page text."""
    return strip_interference(fold(word))


def sensitive_entries(lists: Iterable[WordList]) -> list[Entry]:
    """Compile the word lists (and their allow phrases) into automaton entries."""
    entries: list[Entry] = []
    for wl in lists:
        if wl.severity not in _SEVERITIES:
            raise ValueError(f"WordList {wl.rule_name!r}: unknown severity {wl.severity!r}")
        words: list[tuple[str, str]] = [(w, "") for w in wl.words]
        words.extend(wl.word_categories)
        if wl.path:
            words.extend(read_word_categories(wl.path))
        seen: set[str] = set()
        for raw, own in words:
            key = normalise_word(raw)
            if not key or key in seen:
                continue
            seen.add(key)
            category = f"敏感词:{own or wl.category}"
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
