"""Façade of the pure text engine: one scanner running typo, sensitive-word and privacy checks.

Build a :class:`TextScanner` once (expansion of protected terms and automaton construction take a
second or two) and reuse it for every page; :meth:`TextScanner.scan` is read-only and thread-safe.

Hot path per page: fold (one regex substitution, one-to-one), drop interference characters (one regex
substitution), one Aho-Corasick pass over the UTF-8 bytes of the result (pyahocorasick; matching bytes
seen as Latin-1 keeps trie nodes small, which makes it an order of magnitude faster than matching
code points), one regex pass for ID numbers. Offsets are mapped back only for matches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from checks.text import privacy
from checks.text.sensitive import SAMPLE_LIST, WordList, allow_entries, sensitive_entries
from checks.text.textnorm import (
    KIND_ALLOW,
    KIND_SENSITIVE,
    Entry,
    common_words,
    compact,
    fold,
    glued_at_edge,
    splits_words,
)
from checks.text.typos import (
    FIXED_PHRASE,
    ProtectedTerm,
    leader_terms,
    load_common_typos,
    load_phrasing_rules,
    load_protected_terms,
    protected_entries,
)

__all__ = [
    "SAMPLE_LIST",
    "SiteTerm",
    "TextHit",
    "TextScanOptions",
    "TextScanner",
    "WordList",
    "cached_scanner",
    "sample_word_list",
    "scan_text",
    "snippet",
]

SEVERITY_RANK = {"veto": 0, "deduction": 1, "warning": 2, "info": 3}
_ERROR_RULES = ("protected_term", "official_term", "common_typo", "standard_phrasing")


@dataclass(frozen=True)
class TextHit:
    """One finding in a text. ``start``/``end`` are offsets in the ORIGINAL text.

    ``wrong`` is ``text[start:end]``, except for privacy hits where it is masked
    (110105********1234) so that reports never carry the full number.
    """

    start: int
    end: int
    wrong: str
    suggestion: str | None
    rule: str
    severity: str
    category: str
    message: str
    #: Sub-category or explanation: the protected term's group (国名…) or the phrasing rule's note.
    note: str = ""


@dataclass(frozen=True)
class SiteTerm:
    """A site-specific protected term: county, township, department, or a leader ("name+title").

    ``kind="name"``: ``term`` is a proper name (e.g. 汤阴县人民政府); names of five or more characters
    also get deletion / transposition variants. ``kind="leader"``: ``term`` is the person's name and
    ``titles`` their titles (县长, 县委书记); the name's variants match only next to a title (both
    orders), and names of three or more characters also match alone. ``wrong``: known wrong spellings
    flagged verbatim. ``effective_from`` / ``effective_to`` bound the dates on which the term is in
    force (compared with ``TextScanOptions.on_date``).
    """

    term: str
    kind: str = "name"
    titles: tuple[str, ...] = ()
    category: str = "本地名称"
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    wrong: tuple[str, ...] = ()
    severity: str = "veto"

    def protected_terms(self) -> list[ProtectedTerm]:
        """The protected forms this site term expands to."""
        if self.kind == "leader":
            if not self.titles:
                raise ValueError(f"SiteTerm leader {self.term!r} needs at least one title")
            return leader_terms(
                self.term,
                self.titles,
                category=self.category,
                severity=self.severity,
                effective_from=self.effective_from,
                effective_to=self.effective_to,
            )
        if self.kind != "name":
            raise ValueError(f"SiteTerm {self.term!r}: unknown kind {self.kind!r}")
        term = fold(self.term)
        return [
            ProtectedTerm(
                term=term,
                category=self.category,
                severity=self.severity,
                edits=len(term) >= 5,
                wrong=tuple(fold(w) for w in self.wrong),
                effective_from=self.effective_from,
                effective_to=self.effective_to,
            )
        ]


@dataclass(frozen=True)
class TextScanOptions:
    """What a :class:`TextScanner` checks.

    ``site_terms``: local protected terms; ``word_lists``: sensitive-word lists; ``allow_phrases``:
    user 误报加白 phrases (any hit inside one is dropped); ``on_date``: date for dated terms (None: all
    terms active; privacy checks then use today's date). ``shipped_terms`` / ``typos`` / ``phrasing`` /
    ``privacy`` switch the shipped checks off for callers that do not want them; ``fixed_phrases`` the
    常用词语 tier of the shipped terms (about 1.9k frequent four-character phrases: more recall, about
    a quarter slower matching).
    """

    site_terms: tuple[SiteTerm, ...] = ()
    word_lists: tuple[WordList, ...] = ()
    allow_phrases: tuple[str, ...] = ()
    on_date: dt.date | None = None
    shipped_terms: bool = True
    fixed_phrases: bool = False
    typos: bool = True
    phrasing: bool = True
    privacy: bool = True


def snippet(text: str, hit: TextHit, width: int = 20) -> str:
    """About ``width`` characters each side of the hit, the hit marked 【…】; newlines flattened."""
    before = text[max(0, hit.start - width) : hit.start]
    after = text[hit.end : hit.end + width]
    middle = hit.wrong if hit.rule.startswith("privacy:") else text[hit.start : hit.end]
    out = f"{before}【{middle}】{after}"
    return " ".join(out.split()) if any(c in out for c in "\r\n\t") else out


class TextScanner:
    """All text checks compiled into one automaton. Build once, call :meth:`scan` per page."""

    def __init__(self, options: TextScanOptions | None = None) -> None:
        self.options = options or TextScanOptions()
        opts = self.options
        terms: list[ProtectedTerm] = load_protected_terms() if opts.shipped_terms else []
        if not opts.fixed_phrases:
            terms = [t for t in terms if t.category != FIXED_PHRASE]
        local = [pt for st in opts.site_terms for pt in st.protected_terms()]
        # The shipped terms' expansion is cached per process: another site's scanner pays only for its
        # own terms and the automaton.
        entries: list[Entry] = protected_entries(terms, opts.on_date, local)
        if opts.typos:
            entries.extend(load_common_typos())
        if opts.phrasing:
            entries.extend(load_phrasing_rules())
        entries.extend(sensitive_entries(opts.word_lists))
        entries.extend(allow_entries(opts.allow_phrases))
        self._words = common_words()
        grouped: dict[str, list[Entry]] = {}
        for e in entries:
            grouped.setdefault(e.key, []).append(e)
        auto = ahocorasick.Automaton()
        # Sorted insertion keeps trie children in byte order, measurably faster in pyahocorasick.
        for key, group in sorted(grouped.items(), key=lambda kv: kv[0].encode("utf-8")):
            auto.add_word(key.encode("utf-8").decode("latin-1"), (len(key), tuple(group)))
        if len(auto) == 0:
            auto.add_word("\x00\x00never", (0, ()))
        auto.make_automaton()
        self._auto = auto
        self.n_keys = len(grouped)
        self.n_entries = len(entries)

    # -- hot path --------------------------------------------------------------------------------

    def scan(self, text: str) -> list[TextHit]:
        """Return the findings in ``text``, sorted by position."""
        folded = fold(text)
        hits: list[TextHit] = []
        comp = compact(folded)
        data = comp.data
        if self.options.privacy and privacy.may_contain_id(data):
            # Compaction only joins characters, so a digit run in the source is also one in ``data``.
            for s, e, number in privacy.find_ids(folded, self.options.on_date):
                masked = privacy.mask_id(number)
                hits.append(
                    TextHit(
                        s,
                        e,
                        masked,
                        None,
                        "privacy:id_number",
                        "deduction",
                        "隐私泄露",
                        f"页面公开了居民身份证号码“{masked}”（隐私泄露）",
                    )
                )
        matches = self._auto.iter(data.decode("latin-1"))
        allows: list[tuple[str, int, int]] = []
        found: list[TextHit] = []
        char_pos = 0
        prev = 0
        for end_byte, (klen, group) in matches:
            if end_byte + 1 > prev:
                char_pos += len(data[prev : end_byte + 1].decode("utf-8"))
                prev = end_byte + 1
            cend = char_pos
            cstart = cend - klen
            for entry in group:
                if entry.kind == KIND_ALLOW:
                    s, e = comp.span_to_source(cstart, cend)
                    allows.append((entry.scope, s, e))
                elif entry.kind == KIND_SENSITIVE:
                    if entry.word_guard and glued_at_edge(comp.text, cstart, cend, self._words):
                        continue
                    s, e = comp.span_to_source(cstart, cend)
                    found.append(self._hit(text, s, e, entry, entry.suggestion))
                else:
                    hit = self._error_hit(text, folded, comp.span_to_source(cstart, cend), klen, entry)
                    if hit is not None:
                        found.append(hit)
        if found:
            hits.extend(self._dedupe(found, allows))
        hits.sort(key=lambda h: (h.start, h.end, SEVERITY_RANK.get(h.severity, 9)))
        return hits

    @staticmethod
    def _hit(text: str, s: int, e: int, entry: Entry, suggestion: str | None) -> TextHit:
        wrong = text[s:e]
        msg = entry.message.replace("{wrong}", wrong).replace("{right}", suggestion or "")
        return TextHit(s, e, wrong, suggestion, entry.rule, entry.severity, entry.category, msg, entry.note)

    def _error_hit(
        self, text: str, folded: str, span: tuple[int, int], klen: int, entry: Entry
    ) -> TextHit | None:
        s, e = span
        if e - s != klen and not entry.allow_gaps:
            return None  # the match straddles whitespace / symbols: not contiguous writing
        if entry.not_before and s > 0 and folded[s - 1] in entry.not_before:
            return None
        if entry.not_after and e < len(folded) and folded[e] in entry.not_after:
            return None
        if entry.word_guard and splits_words(folded, s, e, self._words):
            return None
        suggestion = entry.suggestion
        if entry.pattern is not None:
            lo = max(0, s - 16)
            for m in entry.pattern.finditer(folded, lo, min(len(folded), e + 4)):
                if m.start() <= s and m.end() >= e:
                    s, e = m.start(), m.end()
                    suggestion = m.expand(entry.template or "")
                    break
            else:
                return None
        return self._hit(text, s, e, entry, suggestion)

    @staticmethod
    def _dedupe(found: list[TextHit], allows: list[tuple[str, int, int]]) -> list[TextHit]:
        if allows:
            found = [
                h
                for h in found
                if not any(
                    (scope == "*" or scope == h.rule) and s <= h.start and h.end <= e
                    for scope, s, e in allows
                )
            ]
        found.sort(key=lambda h: (h.start, -h.end, SEVERITY_RANK.get(h.severity, 9)))
        kept: list[TextHit] = []
        for h in found:
            family = "error" if h.rule in _ERROR_RULES else h.rule
            # One finding per place: an error overlapping an already kept error (汤阴县人民攻府 /
            # 攻府办公室) is the same mistake; other rules drop only hits nested in a kept one.
            if any(
                ("error" if k.rule in _ERROR_RULES else k.rule) == family
                and (h.start < k.end if family == "error" else h.end <= k.end)
                for k in kept[-8:]
            ):
                continue
            kept.append(h)
        return kept


@lru_cache(maxsize=4)
def cached_scanner(options: TextScanOptions | None = None) -> TextScanner:
    """A shared scanner per (hashable, frozen) options value: build once per process.

    A scanner holds about 75 MB (its automaton), so only the four most recently used are kept: a
    daemon's options change with the date (dated terms) and per site (local terms)."""
    return TextScanner(options)


def scan_text(text: str, options: TextScanOptions | None = None) -> list[TextHit]:
    """Convenience one-off scan (builds a scanner; do not use in loops)."""
    return TextScanner(options).scan(text)


def sample_word_list(category: str = "赌博色情", severity: str = "veto") -> WordList:
    """The shipped sample sensitive list (gambling / porn spam vocabulary)."""
    return WordList(category=category, path=SAMPLE_LIST, severity=severity, name="sample")
