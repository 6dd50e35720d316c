"""Typo-type text checks: protected terms (严重表述错误), 规范表述 rules and common 错别字.

Everything here runs at construction time and produces :class:`~checks.text.textnorm.Entry` objects that
:class:`checks.text.textscan.TextScanner` compiles into its single automaton.

Protected terms are expanded into one-character variants:

* homophones (never for the first character of a term): characters of the common-character set
  (GB2312 level 1, 3,755 characters) with the same toneless pinyin as the term's character in
  context (pypinyin);
* look-alikes: members of the same group in ``data/lookalike_chars.tsv``;
* for proper names (``edits``): interior deletions (齐齐哈尔市 → 齐齐哈市) and adjacent transpositions.

Variants are dropped when they are real words, occur inside a common word or inside any correct
term, or change an edge character in a way that makes natural text likely (see :func:`_edge_ok`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

import ahocorasick
import yaml

from checks.text.textnorm import (
    DATA_DIR,
    KIND_ERROR,
    Entry,
    common_words,
    fold,
    strip_interference,
)
from monitor.core import diskcache

SERIOUS = "严重表述错误"
TYPO = "错别字"
PHRASING = "规范表述"
FIXED_PHRASE = "常用词语"

# Characters never deleted when generating deletion variants: dropping them gives accepted
# alternative forms (国家发展和改革委员会 / 国家发展改革委员会).
_NO_DELETE = set("和与及、的之")


@dataclass(frozen=True)
class ProtectedTerm:
    """A correct form to protect, with how to expand it."""

    term: str
    category: str
    severity: str = "veto"
    edits: bool = False
    wrong: tuple[str, ...] = ()
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    # Positions that may be varied (None: all, subject to the edge rule).
    positions: tuple[int, ...] | None = None
    # Correct form shown in the message when ``term`` carries context (e.g. a title).
    display: str | None = None

    def active(self, on_date: dt.date | None) -> bool:
        """True when the term is in force on ``on_date`` (always when no date is given)."""
        if on_date is None:
            return True
        if self.effective_from and on_date < self.effective_from:
            return False
        return not (self.effective_to and on_date > self.effective_to)


def _date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# --- character tables -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def common_chars() -> str:
    """The common-character set: GB2312 level 1 (rows 16-55), 3,755 characters."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(out)


@lru_cache(maxsize=1)
def _homophone_index() -> dict[str, tuple[str, ...]]:
    from pypinyin import Style, pinyin

    index: dict[str, list[str]] = {}
    for ch in common_chars():
        for reading in set(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]):
            index.setdefault(reading, []).append(ch)
    return {k: tuple(v) for k, v in index.items()}


def homophones(ch: str, reading: str) -> tuple[str, ...]:
    """Common characters read ``reading`` (toneless), excluding ``ch``."""
    return tuple(c for c in _homophone_index().get(reading, ()) if c != ch)


@lru_cache(maxsize=1)
def lookalike_table() -> dict[str, tuple[str, ...]]:
    """Character -> look-alike characters, from ``data/lookalike_chars.tsv``."""
    table: dict[str, set[str]] = {}
    for line in (DATA_DIR / "lookalike_chars.tsv").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for ch in line:
            table.setdefault(ch, set()).update(c for c in line if c != ch)
    return {k: tuple(sorted(v)) for k, v in table.items()}


def _unknown_readings(chars: str) -> list[str]:
    """One "?" reading per character pypinyin has no reading for."""
    return ["?"] * len(chars)


def _contextual_pinyin(term: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    # pypinyin's stub types the errors callback as returning str; its documentation and code also take a
    # list, one reading per character, which is what keeps the readings aligned with the term.
    readings = lazy_pinyin(term, style=Style.NORMAL, errors=_unknown_readings)  # type: ignore[arg-type]
    if len(readings) != len(term):  # defensive: pypinyin keeps one reading per Han character
        readings = [lazy_pinyin(ch, style=Style.NORMAL)[0] for ch in term]
    return readings


# --- variant expansion ----------------------------------------------------------------------------


def _edge_ok(term: str, variant: str, i: int, lookalike: bool, words: frozenset[str]) -> bool:
    """Whether changing the edge character ``i`` of ``term`` is safe.

    An edge change is only kept when the rest of the term is not a word on its own (so 交通运输部 →
    交通运输不 is dropped: "交通运输不断…") and the edge character is bound to its neighbour by a word
    (政府 in 政府工作报告) or, for the last character, is a single-character word after three or more
    characters (全面从严治党 → 全面从严治档, 中国之治 → 中国之制 unless that is a word). Homophone edges
    that form a new common word are dropped too (四个意识 →
    四个意思); look-alike edges are kept (领导小组 → 领导小姐).
    """
    n = len(term)
    if 0 < i < n - 1:
        return True
    if i == n - 1:
        rest, bound, new = term[:-1], term[-2:], variant[-2:]
    else:
        rest, bound, new = term[1:], term[:2], variant[:2]
    if rest in words:
        return False
    if bound not in words:
        if i == 0 or term[-3:] in words:  # 现代化: the last character is bound by a longer word
            return False
        # The last character is a word of its own (全面从严治党, 中国之治): the rest of the term (three
        # characters or more) is the context that makes a changed last character an error, unless the
        # change forms a common word with its neighbour. A first character is never alone like this.
        return n >= 4 and new not in words
    return lookalike or new not in words


def expand_term(pt: ProtectedTerm, words: frozenset[str] | None = None) -> dict[str, str]:
    """Return ``{variant: how}`` for one protected term, before global filtering.

    ``how`` is ``homophone``, ``lookalike``, ``deletion``, ``transposition`` or ``explicit``.
    """
    w = common_words() if words is None else words
    term = pt.term
    n = len(term)
    out: dict[str, str] = {}
    if n >= 3 or pt.positions is not None:
        readings = _contextual_pinyin(term)
        looks = lookalike_table()
        positions = pt.positions if pt.positions is not None else range(n)
        for i in positions:
            ch = term[i]
            if not ("\u4e00" <= ch <= "\u9fff"):
                continue
            edge_checked = pt.positions is None
            # No homophones for the first character of a term: they are the riskiest edge changes and
            # they multiply the automaton's distinct first characters, which is what slows matching.
            sounds = homophones(ch, readings[i]) if i > 0 or not edge_checked else ()
            for how, cands in (("lookalike", looks.get(ch, ())), ("homophone", sounds)):
                for c in cands:
                    v = term[:i] + c + term[i + 1 :]
                    if edge_checked and not _edge_ok(term, v, i, how == "lookalike", w):
                        continue
                    out.setdefault(v, how)
    if pt.edits and n >= 5:
        for i in range(1, n - 1):
            if term[i] in _NO_DELETE:
                continue
            # Deleting next to an edge leaves the edge character dangling when it was bound to the
            # deleted one (全国人民代表大会 → 全人民代表大会 occurs in "健全人民代表大会制度").
            if (i == 1 and term[:2] in w) or (i == n - 2 and term[-2:] in w):
                continue
            out.setdefault(term[:i] + term[i + 1 :], "deletion")
        for i in range(1, n - 2):
            a, b = term[i], term[i + 1]
            if a != b and a not in _NO_DELETE and b not in _NO_DELETE:
                out.setdefault(term[:i] + b + a + term[i + 2 :], "transposition")
    return out


def filter_variants(
    candidates: dict[str, list[tuple[str, ProtectedTerm]]], correct: Iterable[str]
) -> set[str]:
    """Return the variants to drop: real words, substrings of common words or of correct terms."""
    words = common_words()
    drop = {v for v in candidates if v in words}
    auto = ahocorasick.Automaton()
    for v in candidates:
        if v not in drop:
            auto.add_word(v, v)
    if len(auto) == 0:
        return drop
    auto.make_automaton()
    haystack = "\n".join(sorted(words)) + "\n" + "\n".join(sorted(set(correct)))
    for _end, v in auto.iter(haystack):
        drop.add(v)
    return drop


# --- loading --------------------------------------------------------------------------------------


def load_protected_terms(path: Path | None = None) -> list[ProtectedTerm]:
    """Load the shipped protected terms: ``data/protected_terms.yaml`` plus, for the default path, the
    frequent four-character phrases of ``data/fixed_phrases.txt`` (常用词语 tier, deduction)."""
    return list(_load_protected_terms(path))


@lru_cache(maxsize=4)
def _load_protected_terms(path: Path | None) -> tuple[ProtectedTerm, ...]:
    doc = yaml.safe_load((path or DATA_DIR / "protected_terms.yaml").read_text(encoding="utf-8"))
    terms: list[ProtectedTerm] = []
    for group in doc.get("groups", []):
        gfrom, gto = _date(group.get("effective_from")), _date(group.get("effective_to"))
        for item in group["terms"]:
            if isinstance(item, str):
                item = {"term": item}
            terms.append(
                ProtectedTerm(
                    term=fold(str(item["term"])),
                    category=group["category"],
                    severity=group.get("severity", "veto"),
                    edits=bool(group.get("edits", False)),
                    wrong=tuple(fold(str(x)) for x in item.get("wrong", ())),
                    effective_from=_date(item.get("effective_from")) or gfrom,
                    effective_to=_date(item.get("effective_to")) or gto,
                )
            )
    for leader in doc.get("leaders", []):
        terms.extend(
            leader_terms(
                str(leader["name"]),
                tuple(leader.get("titles", ())),
                category="党和国家领导人姓名",
                effective_from=_date(leader.get("effective_from")),
                effective_to=_date(leader.get("effective_to")),
            )
        )
    if path is None:
        known = {t.term for t in terms}
        terms.extend(
            ProtectedTerm(term=p, category=FIXED_PHRASE, severity="deduction")
            for p in load_fixed_phrases()
            if p not in known
        )
    return tuple(terms)


def load_fixed_phrases(path: Path | None = None) -> list[str]:
    """Frequent four-character words (``data/fixed_phrases.txt``), protected at the 常用词语 tier."""
    text = (path or DATA_DIR / "fixed_phrases.txt").read_text(encoding="utf-8")
    return [fold(w) for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#")]


def leader_terms(
    name: str,
    titles: Iterable[str],
    category: str,
    severity: str = "veto",
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
) -> list[ProtectedTerm]:
    """Protected forms for a person: name next to each title (both orders), name alone if ≥ 3 chars.

    Only the name's characters are varied; a two-character name never matches without its title.
    """
    name = fold(name)
    out: list[ProtectedTerm] = []
    n = len(name)
    for title in titles:
        title = fold(title)
        for form, positions in (
            (title + name, tuple(range(len(title), len(title) + n))),
            (name + title, tuple(range(n))),
        ):
            out.append(
                ProtectedTerm(
                    term=form,
                    category=category,
                    severity=severity,
                    positions=positions,
                    effective_from=effective_from,
                    effective_to=effective_to,
                )
            )
    if n >= 3:
        out.append(
            ProtectedTerm(
                term=name,
                category=category,
                severity=severity,
                positions=tuple(range(1, n - 1)),
                effective_from=effective_from,
                effective_to=effective_to,
            )
        )
    return out


def protected_entries(
    terms: Iterable[ProtectedTerm], on_date: dt.date | None, local: Iterable[ProtectedTerm] = ()
) -> list[Entry]:
    """Expand and filter the active protected terms into automaton entries.

    ``terms`` (the shipped list: hundreds of terms, about a second of expansion) are expanded once per
    process and date range and cached; ``local`` terms (a site's own names) are expanded on every call.
    The result is the same as expanding both together: variants found inside any correct term of either
    list are dropped.
    """
    terms, local = tuple(terms), tuple(local)
    base = _expanded(tuple(t for t in terms if t.active(on_date)), frozenset(t.term for t in terms))
    if not local:
        return list(base)
    local_correct = frozenset(t.term for t in local)
    inside_local = {c[i:j] for c in local_correct for i in range(len(c)) for j in range(i + 1, len(c) + 1)}
    kept = [e for e in base if e.allow_gaps or e.key not in inside_local]
    own = _expanded(
        tuple(t for t in local if t.active(on_date)), frozenset(t.term for t in terms) | local_correct
    )
    return kept + list(own)


# Fields an expanded entry carries (everything else keeps Entry's default).
_EXPANDED_FIELDS = ("kind", "rule", "severity", "category", "suggestion", "message", "note")


@lru_cache(maxsize=16)
def _expanded(active: tuple[ProtectedTerm, ...], correct: frozenset[str]) -> tuple[Entry, ...]:
    """Entries of the ``active`` terms' variants, minus real words and variants inside ``correct``.

    Cached in the process and on disk (:mod:`monitor.core.diskcache`): expanding the shipped terms takes
    about 1.4 s, which every crawl's analysis worker would pay; loading the result takes ~0.1 s. The
    key covers the terms, this code and the data files, so any change recomputes.
    """
    key = diskcache.content_key(
        repr(active),
        repr(sorted(correct)),
        Path(__file__).read_bytes(),
        (Path(__file__).parent / "textnorm.py").read_bytes(),
        *(p.read_bytes() for p in sorted(DATA_DIR.iterdir()) if p.is_file()),
    )
    cached = diskcache.load("expanded-terms", key)
    if cached is not None:
        try:
            return _entries_from_columns(cached)
        except (TypeError, ValueError, IndexError):
            pass  # an entry written by something else: recompute
    entries = _expand(active, correct)
    diskcache.store("expanded-terms", key, _entries_to_columns(entries))
    return entries


def _entries_to_columns(entries: tuple[Entry, ...]) -> tuple[list[str], list[int], list[tuple[Any, ...]]]:
    """Keys, an index into the shared field tuples (low bit: allow_gaps), the field tuples."""
    commons: dict[tuple[Any, ...], int] = {}
    index: list[int] = []
    for e in entries:
        fields = tuple(getattr(e, name) for name in _EXPANDED_FIELDS)
        i = commons.setdefault(fields, len(commons))
        index.append(i * 2 + int(e.allow_gaps))
    return [e.key for e in entries], index, list(commons)


def _entries_from_columns(data: tuple[list[str], list[int], list[tuple[Any, ...]]]) -> tuple[Entry, ...]:
    keys, index, commons = data
    shared = [dict(zip(_EXPANDED_FIELDS, fields, strict=True)) for fields in commons]
    return tuple(
        Entry(key=k, allow_gaps=bool(i & 1), **shared[i >> 1]) for k, i in zip(keys, index, strict=True)
    )


def _expand(active: tuple[ProtectedTerm, ...], correct: frozenset[str]) -> tuple[Entry, ...]:
    words = common_words()
    candidates: dict[str, list[tuple[str, ProtectedTerm]]] = {}
    for pt in active:
        for v, how in expand_term(pt, words).items():
            candidates.setdefault(v, []).append((how, pt))
    drop = filter_variants(candidates, correct)
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    fields: dict[ProtectedTerm, dict[str, object]] = {}

    def add(variant: str, pt: ProtectedTerm, explicit: bool) -> None:
        key = variant if variant.isalpha() else strip_interference(variant)
        if (key, pt.term) in seen or not key:
            return
        seen.add((key, pt.term))
        common = fields.get(pt)
        if common is None:  # built once per term: most terms have dozens of variants
            right = pt.display or pt.term
            serious = pt.severity == "veto"
            cat = SERIOUS if serious else TYPO
            common = fields[pt] = {
                "kind": KIND_ERROR,
                "rule": "protected_term" if serious else "official_term",
                "severity": pt.severity,
                "category": cat,
                "suggestion": right,
                "message": "“{wrong}”疑为“" + right + f"”的错误写法（{cat}：{pt.category}）",
                "note": pt.category,
            }
        entries.append(Entry(key=key, allow_gaps=explicit, **common))  # type: ignore[arg-type]

    for v, sources in candidates.items():
        if v in drop:
            continue
        for _how, pt in sources:
            add(v, pt, explicit=False)
    for pt in active:
        for wrong in pt.wrong:
            add(wrong, pt, explicit=True)
    return tuple(entries)


def load_common_typos(path: Path | None = None) -> list[Entry]:
    """Load the vetted wrong→right list (``data/common_typos.tsv``) as automaton entries."""
    entries: list[Entry] = []
    text = (path or DATA_DIR / "common_typos.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = [*line.split("\t"), "", ""]
        wrong, right, not_before, not_after = (fold(f.strip()) for f in fields[:4])
        entries.append(
            Entry(
                key=wrong,
                kind=KIND_ERROR,
                rule="common_typo",
                severity="deduction",
                category=TYPO,
                suggestion=right,
                message="“{wrong}”应为“" + right + "”（错别字）",
                not_before=not_before,
                not_after=not_after,
                word_guard=len(wrong) == 2,
            )
        )
    return entries


class _PhrasingFields(TypedDict):
    """The fields every automaton entry of one 规范表述 rule shares."""

    kind: int
    rule: str
    severity: str
    category: str
    not_before: str
    not_after: str
    note: str


def load_phrasing_rules(path: Path | None = None) -> list[Entry]:
    """Load the 规范表述 rules (``data/standard_phrasing.yaml``) as automaton entries."""
    doc = yaml.safe_load((path or DATA_DIR / "standard_phrasing.yaml").read_text(encoding="utf-8"))
    entries: list[Entry] = []
    for rule in doc["rules"]:
        note = str(rule.get("note", ""))
        common: _PhrasingFields = {
            "kind": KIND_ERROR,
            "rule": "standard_phrasing",
            "severity": "warning",
            "category": PHRASING,
            "not_before": fold(str(rule.get("not_before", ""))),
            "not_after": fold(str(rule.get("not_after", ""))),
            "note": note,
        }
        suffix = f"：{note}（规范表述）" if note else "（规范表述）"
        if "pattern" in rule:
            pattern = re.compile(str(rule["pattern"]))
            for trig in rule["triggers"]:
                entries.append(
                    Entry(
                        key=fold(str(trig)),
                        pattern=pattern,
                        template=str(rule["right"]),
                        message="“{wrong}”应规范表述为“{right}”" + suffix,
                        **common,
                    )
                )
            continue
        right = str(rule["right"])
        shown = right if right.startswith("“") else f"“{right}”"
        for wrong in rule["wrong"]:
            entries.append(
                Entry(
                    key=strip_interference(fold(str(wrong))),
                    suggestion=right,
                    message="“{wrong}”应规范表述为" + shown + suffix,
                    **common,
                )
            )
    return entries


def iter_all_typo_rows(path: Path | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``(wrong, right)`` pairs of the common-typo list (for tests and benchmarks)."""
    for e in load_common_typos(path):
        assert e.suggestion is not None
        yield e.key, e.suggestion
