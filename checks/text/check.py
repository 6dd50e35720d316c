"""The text checks on crawled pages: 严重表述错误 / 错别字 / 规范表述 (``typos``), 敏感词 (``sensitive``) and
隐私泄露 (``privacy``).

The three page checks share one analysis per page: each hands the runner the same
:class:`TextAnalyzer` (visible text with offsets, then one scan with the
:class:`~checks.text.textscan.TextScanner` built from the config by :func:`text_scan_options`, the same
function ``monitor check text`` uses), which runs it once, in an analysis worker process
(:mod:`monitor.crawl.analysis`), and gives the result to each. Each check keeps the hits of its own kinds and
makes one finding per (page, rule, wrong text), with the number of occurrences and a snippet of the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from checks.base import CheckContext, PageCheck
from checks.text import typolm
from checks.text.sensitive import read_word_categories
from checks.text.textscan import (
    SiteTerm,
    TextHit,
    TextScanner,
    TextScanOptions,
    WordList,
    cached_scanner,
    sample_word_list,
    snippet,
)
from monitor.config import Config, TextChecks
from monitor.core.figures import FigureGroup, TypoModelFigures
from monitor.core.findings import Finding, Severity
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.report import CheckReport
from monitor.crawl.analysis import AnalysisRequest, PageAnalyzer
from monitor.web.visible_text import BLOCK_SEPARATOR, BODY, WHERE_ZH

if TYPE_CHECKING:
    from monitor.crawl.crawler import CrawlReport
    from monitor.web.fetch import Fetcher
    from monitor.web.page import Page

SERIOUS, TYPO, PHRASING, SENSITIVE, PRIVACY, SUSPECT = (
    "serious_expression",
    "typo",
    "nonstandard_phrasing",
    "sensitive_word",
    "privacy_id_number",
    "suspected_typo",
)
#: Finding kinds each text page check reports.
CHECK_KINDS = {
    "typos": (SERIOUS, TYPO, PHRASING, SUSPECT),
    "sensitive": (SENSITIVE,),
    "privacy": (PRIVACY,),
}
KIND_ZH = {
    SERIOUS: "严重表述错误",
    TYPO: "错别字",
    PHRASING: "不规范表述",
    SENSITIVE: "敏感词",
    PRIVACY: "隐私泄露",
    SUSPECT: "疑似错别字",
}
# The scanner must not join words across blocks: scan with a separator that is neither a word
# character nor an interference character (which the scanner skips), same length as the original.
_SCAN_SEPARATOR = "\x1f"


def finding_kind(rule: str) -> str:
    """The finding kind of a scanner rule."""
    if rule == "protected_term":
        return SERIOUS
    if rule == "standard_phrasing":
        return PHRASING
    if rule.startswith("sensitive:"):
        return SENSITIVE
    if rule.startswith("privacy:"):
        return PRIVACY
    if rule == typolm.RULE:
        return SUSPECT
    return TYPO  # common_typo, official_term


# -- options from config -----------------------------------------------------------------------------


def site_terms(config: Config) -> tuple[SiteTerm, ...]:
    """The site's own protected terms: county and its organs, townships, departments, names, leaders."""
    t = config.text
    out: list[SiteTerm] = []
    if t.county:
        c = t.county
        for term in (c, f"{c}人民政府", f"中共{c}委员会", f"{c}人民代表大会常务委员会"):
            out.append(SiteTerm(term, category="本县名称"))
    out.extend(SiteTerm(name, category="乡镇名称") for name in t.townships)
    out.extend(SiteTerm(name, category="部门名称") for name in t.departments)
    if t.protect_unit_names:
        listed = {st.term for st in out}
        out.extend(
            SiteTerm(u.name, category="单位名称")
            for u in config.units
            if u.name not in listed and len(u.name) >= 3
        )
    for n in t.names:
        out.append(
            SiteTerm(
                n.term,
                category=n.category,
                wrong=n.wrong,
                effective_from=n.effective_from,
                effective_to=n.effective_to,
            )
        )
    for leader in t.leaders:
        out.append(
            SiteTerm(
                leader.name,
                kind="leader",
                titles=leader.titles,
                category="本地领导姓名职务",
                effective_from=leader.effective_from,
                effective_to=leader.effective_to,
            )
        )
    return tuple(dict.fromkeys(out))


def word_list_file(
    path: str | Path,
    category: str,
    severity: str = "warning",
    allow: Iterable[str] = (),
    name: str | None = None,
) -> WordList:
    """A sensitive-word list read NOW from ``path`` (so a changed file makes a new scanner).

    Each word keeps the category its line names (``word<TAB>category``); ``category`` is the default.
    Raises :class:`monitor.core.wordlists.WordListError` naming the file and line of an unreadable entry.
    """
    p = Path(path)
    return WordList(
        category=category,
        word_categories=tuple(read_word_categories(p)),
        severity=severity,
        allow=tuple(allow),
        name=name or p.stem,
    )


def text_scan_options(
    config: Config, on_date: dt.date | None, extra_lists: Iterable[WordList] = ()
) -> TextScanOptions:
    """The scanner options for a config: THE one place the crawl and ``monitor check text`` build them."""
    t: TextChecks = config.text
    lists: list[WordList] = [sample_word_list()] if t.sample_word_list else []
    for wl in t.word_lists:
        path = config.resolve_path(wl.path)
        lists.append(word_list_file(path, wl.category, wl.severity, wl.allow, wl.name))
    lists.extend(extra_lists)
    return TextScanOptions(
        site_terms=site_terms(config),
        word_lists=tuple(lists),
        allow_phrases=tuple(t.allow_phrases),
        on_date=on_date,
        fixed_phrases=t.fixed_phrases,
    )


def scanner_for(config: Config, on_date: dt.date | None, extra_lists: Iterable[WordList] = ()) -> TextScanner:
    """The process-wide scanner for these options (built once: construction takes about 2 s)."""
    return cached_scanner(text_scan_options(config, on_date, extra_lists))


def scan_line(scanner: TextScanner, text: str) -> list[TextHit]:
    """Scan text whose newlines separate blocks: no word is matched across a block boundary."""
    return scanner.scan(text.replace(BLOCK_SEPARATOR, _SCAN_SEPARATOR))


def page_hits(page: Page, scanner: TextScanner) -> list[TextHit]:
    """The scanner's hits on a page's visible text, computed once per page and scanner."""
    return page.memo(f"text_hits:{id(scanner)}", lambda: scan_line(scanner, page.text.text))


# -- stage 1: the language model's suggestions (疑似错别字) ---------------------------------------------


@dataclass(frozen=True)
class TypoModelOptions:
    """What the language-model stage needs: picklable, so an analysis worker can run it.

    ``protect``: phrases never flagged inside (the site's names and leaders, the allow list).
    """

    threshold: float = typolm.DEFAULT_THRESHOLD
    model_path: str | None = None
    protect: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Changes whenever a page's suggestions could change: settings, model file, this code."""
        h = hashlib.blake2b(digest_size=8)
        h.update(repr((self.threshold, self.model_path, sorted(self.protect), typolm.VERSION)).encode())
        return h.hexdigest()


def typo_model_options(config: Config) -> TypoModelOptions | None:
    """The stage's options from config (None when ``text.typo_model`` is off)."""
    t = config.text
    if not t.typo_model:
        return None
    names = [st.term for st in site_terms(config)]
    return TypoModelOptions(
        threshold=t.typo_model_threshold,
        model_path=str(config.resolve_path(t.typo_model_path)) if t.typo_model_path else None,
        protect=tuple(dict.fromkeys([*names, *t.allow_phrases])),
    )


def suggestion_hits(text: str, options: TypoModelOptions) -> list[TextHit] | None:
    """The model's suggestions in ``text`` as hits (rule ``typo_lm``); None when the model is missing."""
    model = typolm.shared_model(options.model_path)
    if model is None:
        return None
    return [
        TextHit(
            s.start,
            s.end,
            s.wrong,
            s.fix,
            typolm.RULE,
            "warning",
            "疑似错别字",
            f"“{s.context}”中的“{s.wrong}”疑为“{s.fix}”（疑似错别字，请核对）",
            s.context,
        )
        # Runs of Chinese characters never span a block separator, so the text is scored as it is.
        for s in model.suggest(text, options.threshold, options.protect)
    ]


def text_digest(text: str) -> str:
    """A short digest of a page's visible text (unchanged text is not scored again)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


@dataclass(frozen=True)
class PageTextHit:
    """A hit with what the checks report about it: where on the page, and the text around it."""

    hit: TextHit
    where: str
    snippet: str


@dataclass(frozen=True)
class PageTextResult:
    """The text analysis of one page (what crosses back from an analysis worker)."""

    title: str
    chars: int
    hits: tuple[PageTextHit, ...]
    #: The language-model stage: ``off``, ``scored``, ``unchanged`` (text as last run: not scored) or
    #: ``unavailable``; its suggestions; the digest of the visible text.
    lm_state: str = "off"
    suggestions: tuple[PageTextHit, ...] = ()
    text_hash: str = ""


@dataclass(frozen=True)
class TextAnalyzer(PageAnalyzer):
    """Visible text and the scan of one page: the pure, CPU-heavy part of the three text checks.

    Picklable (options only); the scanner is built once per process on first use.
    """

    options: TextScanOptions
    key: str = "text"

    def scanner(self) -> TextScanner:
        """This process's scanner for the options (about 2 s to build the first time)."""
        return cached_scanner(self.options)

    def analyze(self, page: Page, inputs: Any, shared: Mapping[str, str]) -> PageTextResult:
        """Scan the page's visible text."""
        vt = page.text
        hits = page_hits(page, self.scanner())
        return PageTextResult(
            page.title,
            len(vt.text),
            tuple(PageTextHit(h, vt.where(h.start), snippet(vt.text, h)) for h in hits),
        )


@dataclass(frozen=True)
class TypoAnalyzer(TextAnalyzer):
    """The text scan plus the language model's suggestions: the typos check's analysis of a page.

    ``inputs`` is the digest of the page's text when it was last scored: the same text is not scored
    again (the check reuses the suggestions it remembers). The scan itself is shared with the other text
    checks' analysis of the same page (memoised on the page).
    """

    lm: TypoModelOptions | None = None
    key: str = "text+typo_lm"

    def analyze(self, page: Page, inputs: Any, shared: Mapping[str, str]) -> PageTextResult:
        """Scan the page's visible text, and score it with the model if it changed."""
        result = super().analyze(page, inputs, shared)
        if self.lm is None:
            return result
        vt = page.text
        digest = text_digest(vt.text)
        if inputs == digest:
            return replace(result, lm_state="unchanged", text_hash=digest)
        hits = suggestion_hits(vt.text, self.lm)
        if hits is None:
            return replace(result, lm_state="unavailable", text_hash=digest)
        # Stage 0 wins: no suggestion on a character a list rule already reported.
        taken = {i for f in result.hits for i in range(f.hit.start, f.hit.end)}
        found = tuple(
            PageTextHit(h, vt.where(h.start), snippet(vt.text, h)) for h in hits if h.start not in taken
        )
        return replace(result, lm_state="scored", suggestions=found, text_hash=digest)


# -- the page checks ---------------------------------------------------------------------------------


@dataclass
class _Seen:
    """One (page, rule, wrong text) with every place it occurs."""

    page_url: str
    page_title: str
    hit: TextHit
    snippet: str
    where: str
    offsets: list[tuple[int, int]] = field(default_factory=list)


_DIGIT_RUN = re.compile(r"[0-9]{8,}[0-9Xx]?")


def _mask_digit_runs(text: str) -> str:
    """Mask long digit runs in a privacy finding's snippet: the neighbouring rows of a 公示 table (or an
    ID number cut by the snippet's edge) must not be leaked by the report itself."""
    return _DIGIT_RUN.sub(lambda m: m.group()[:6] + "*" * (len(m.group()) - 6), text)


def _quoted(text: str) -> str:
    return text if text.startswith("“") else f"“{text}”"


def message_zh(kind: str, seen: _Seen) -> str:
    """The Chinese message of a text finding: page, what is wrong, what it should be, where, how often."""
    h = seen.hit
    page = f"页面“{seen.page_title}”" if seen.page_title else f"页面{seen.page_url}"
    right = _quoted(h.suggestion or "")
    if kind == SERIOUS:
        what = f"出现严重表述错误：“{h.wrong}”应为{right}" + (f"（{h.note}）" if h.note else "")
    elif kind == TYPO:
        what = f"出现错别字：“{h.wrong}”应为{right}"
    elif kind == SUSPECT:
        what = f"疑似错别字：“{h.note}”中的“{h.wrong}”疑为{right}（语言模型建议，请核对）"
    elif kind == PHRASING:
        what = f"表述不规范：“{h.wrong}”应规范表述为{right}" + (f"（{h.note}）" if h.note else "")
    elif kind == SENSITIVE:
        what = f"出现敏感词“{h.wrong}”（{h.category.removeprefix('敏感词:')}）"
    else:
        what = f"公开了居民身份证号码“{h.wrong}”，存在个人隐私泄露"
    if seen.where != BODY:
        what += f"，位于{WHERE_ZH[seen.where]}"
    if len(seen.offsets) > 1:
        what += f"，共{len(seen.offsets)}处"
    return page + what


class TextPageCheck(PageCheck):
    """Base of the text page checks: scan each page once, keep this check's kinds."""

    kinds: ClassVar[tuple[str, ...]] = ()
    analyses_pages = True
    MAX_OFFSETS: ClassVar[int] = 50

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__(ctx)
        self.analyzer = TextAnalyzer(text_scan_options(ctx.config, ctx.clock.now().date()))
        if ctx.config.crawl.analysis_workers == 0:
            # Analysed in this process: build the scanner now, not on the first page (a 2 s loop stall).
            self.analyzer.scanner()
        self._seen: dict[str, _Seen] = {}
        self.pages = 0
        self.chars = 0
        self.unreachable = False

    async def visit(self, page: Page, fetcher: Fetcher) -> AnalysisRequest:
        """Hand the page's text scan over (one scan for all text checks, off the event loop)."""
        url = page.url
        return AnalysisRequest(self.analyzer, lambda result: self.accept(url, result))

    def accept(self, page_url: str, result: PageTextResult) -> None:
        """Remember this check's hits on one page."""
        self.pages += 1
        self.chars += result.chars
        title = result.title
        for found in result.hits:
            hit = found.hit
            kind = finding_kind(hit.rule)
            if kind not in self.kinds:
                continue
            identity = f"{page_url}#{hit.rule}:{hit.wrong}"
            seen = self._seen.get(identity)
            if seen is None:
                snip = _mask_digit_runs(found.snippet) if kind == PRIVACY else found.snippet
                seen = self._seen[identity] = _Seen(
                    page_url, title[:60] + ("…" if len(title) > 60 else ""), hit, snip, found.where
                )
            if len(seen.offsets) < self.MAX_OFFSETS:
                seen.offsets.append((hit.start, hit.end))
            else:
                seen.offsets.append(seen.offsets[-1])  # counted, not stored in full

    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """One finding per (page, rule, wrong text)."""
        self.unreachable = report.unreachable is not None
        return [self._finding(identity, seen) for identity, seen in self._seen.items()]

    def _finding(self, identity: str, seen: _Seen) -> Finding:
        h = seen.hit
        kind = finding_kind(h.rule)
        distinct = list(dict.fromkeys(seen.offsets))
        return Finding(
            duty=self.name,
            kind=kind,
            severity=Severity(h.severity),
            site=self.ctx.site.id,
            identity=identity,
            url=seen.page_url,
            message=message_zh(kind, seen),
            unit=self.ctx.units.unit_for(seen.page_url),
            evidence={
                "rule": h.rule,
                "category": h.category,
                "note": h.note,
                "wrong": h.wrong,
                "suggestion": h.suggestion,
                "snippet": seen.snippet,
                "where": seen.where,
                "page_title": seen.page_title,
                "occurrences": len(seen.offsets),
                "offsets": [list(o) for o in distinct],
            },
        )

    def _kind_counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {"text_pages": self.pages, "text_chars": self.chars}
        for kind in self.kinds:
            counts[kind] = sum(1 for s in self._seen.values() if finding_kind(s.hit.rule) == kind)
        return counts

    def report_part(self) -> CheckReport:
        """Pages and characters scanned, and findings per kind."""
        return CheckReport(figures=self._kind_counts())


#: SiteMemory kind of the language-model stage: per page the text digest and the suggestions, and the
#: contexts the site has taught.
LM_MEMORY = "typo_lm"
#: A suggestion context seen in this many different sentences on this many pages is the site's own usage.
LEARN_SENTENCES = 3
LEARN_PAGES = 2
MAX_LEARNED = 5000


def _hit_record(found: PageTextHit) -> list[Any]:
    h = found.hit
    return [h.start, h.wrong, h.suggestion, h.note, found.where, found.snippet]


def _hit_from_record(rec: list[Any]) -> PageTextHit:
    start, wrong, fix, context, where, snip = rec
    hit = TextHit(
        start,
        start + len(wrong),
        wrong,
        fix,
        typolm.RULE,
        "warning",
        "疑似错别字",
        f"“{context}”中的“{wrong}”疑为“{fix}”（疑似错别字，请核对）",
        context,
    )
    return PageTextHit(hit, where, snip)


class TyposCheck(TextPageCheck):
    """严重表述错误, 错别字, 规范表述 and the language model's 疑似错别字 in the visible text of every page;
    measures indicator W1.

    The model scores only pages whose visible text changed since the last successful run (their
    suggestions are remembered in the site's memory), and learns the site: a suggestion context that
    recurs in different sentences across pages, or that an operator ignored as 误报, is not reported
    again on this site.
    """

    name = "typos"
    kinds = CHECK_KINDS["typos"]

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__(ctx)
        self.lm = typo_model_options(ctx.config)
        self.lm_skipped: str | None = None
        self.lm_scored = self.lm_unchanged = 0
        self._lm_pages: dict[str, tuple[str, list[PageTextHit], str]] = {}
        remembered = ctx.memory.get(LM_MEMORY) or {}
        self._learned: set[str] = set(remembered.get("learned") or ())
        self._previous: dict[str, Any] = {}
        self._ignored: set[str] = set()
        if self.lm is not None:
            self.lm_skipped = typolm.availability(self.lm.model_path)
            if self.lm_skipped is not None:
                self.lm = None
        if self.lm is not None:
            if remembered.get("settings") == self.lm.fingerprint():
                self._previous = remembered.get("pages") or {}
            self._ignored = self._ignored_contexts()
            if ctx.config.crawl.analysis_workers == 0:
                typolm.shared_model(self.lm.model_path)  # load now, not on the first page
        if self.lm is not None:  # else the plain scan, shared with the other text checks
            self.analyzer = TypoAnalyzer(self.analyzer.options, lm=self.lm)

    def _ignored_contexts(self) -> set[str]:
        """Contexts of this site's suggestions an operator marked 误报 (``monitor findings ignore``)."""
        store = self.ctx.store
        if store is None:
            return set()
        rows = store.findings(duty=self.name, status="ignored", site=self.ctx.site.id, kind=SUSPECT)
        return {str((row.get("evidence") or {}).get("note") or "") for row in rows} - {""}

    async def visit(self, page: Page, fetcher: Fetcher) -> AnalysisRequest:
        """The scan and, when the page's text changed, the model's suggestions (off the event loop)."""
        url = page.url
        previous = self._previous.get(url)
        return AnalysisRequest(
            self.analyzer, lambda result: self.accept(url, result), inputs=previous[0] if previous else None
        )

    def accept(self, page_url: str, result: PageTextResult) -> None:
        """The scan's hits, and this page's suggestions: new ones, or those remembered for its text."""
        super().accept(page_url, result)
        if result.lm_state == "scored":
            self.lm_scored += 1
            found = list(result.suggestions)
        elif result.lm_state == "unchanged":
            self.lm_unchanged += 1
            found = [_hit_from_record(r) for r in self._previous[page_url][1]]
        else:
            if result.lm_state == "unavailable":
                self.lm_skipped = typolm.unavailable_reason(self.lm.model_path if self.lm else None)
            return
        self._lm_pages[page_url] = (result.text_hash, found, result.title)

    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """Findings of every kind; the suggestions minus what the site has taught."""
        if self._lm_pages:
            self._learn()
            for url, (_digest, found, title) in self._lm_pages.items():
                for f in found:
                    if f.hit.note in self._learned or f.hit.note in self._ignored:
                        continue
                    identity = f"{url}#{typolm.RULE}:{f.hit.note}"
                    seen = self._seen.get(identity)
                    if seen is None:
                        short = title[:60] + ("…" if len(title) > 60 else "")
                        seen = self._seen[identity] = _Seen(url, short, f.hit, f.snippet, f.where)
                    if len(seen.offsets) < self.MAX_OFFSETS:
                        seen.offsets.append((f.hit.start, f.hit.end))
            if self.lm is not None:
                self.ctx.memory.put(
                    LM_MEMORY,
                    {
                        "settings": self.lm.fingerprint(),
                        "pages": {
                            url: [digest, [_hit_record(f) for f in found]]
                            for url, (digest, found, _title) in self._lm_pages.items()
                        },
                        "learned": sorted(self._learned)[:MAX_LEARNED],
                    },
                )
        return await super().finish(report, fetcher)

    def _learn(self) -> None:
        """Contexts suggested in LEARN_SENTENCES different sentences on LEARN_PAGES pages: site usage."""
        sentences: dict[str, set[str]] = {}
        pages: dict[str, set[str]] = {}
        for url, (_digest, found, _title) in self._lm_pages.items():
            for f in found:
                sentences.setdefault(f.hit.note, set()).add(f.snippet)
                pages.setdefault(f.hit.note, set()).add(url)
        for context, snippets in sentences.items():
            if len(snippets) >= LEARN_SENTENCES and len(pages[context]) >= LEARN_PAGES:
                self._learned.add(context)

    def report_part(self) -> CheckReport:
        """Kind counts, the language model's work, and the W1 indicator status (one serious
        expression error is a veto)."""
        counts = self._kind_counts()
        groups: list[FigureGroup] = []
        if self.lm_skipped is not None:
            groups.append(TypoModelFigures(skipped=self.lm_skipped))
        elif self.lm is not None:
            groups.append(
                TypoModelFigures(
                    pages_scored=self.lm_scored, pages_unchanged=self.lm_unchanged, learned=len(self._learned)
                )
            )
        serious = [s for s in self._seen.values() if finding_kind(s.hit.rule) == SERIOUS]
        pages = len({s.page_url for s in serious})
        site = self.ctx.site
        if self.unreachable:
            verdict, figure = Verdict.UNKNOWN, "网站无法访问，未能检查页面文字"
        elif serious:
            occurrences = sum(len(s.offsets) for s in serious)
            verdict = Verdict.FAIL
            figure = (
                f"检查{self.pages}个页面，发现严重表述错误{len(serious)}处"
                f"（{pages}个页面，共出现{occurrences}次）"
            )
        else:
            verdict, figure = Verdict.PASS, f"检查{self.pages}个页面，未发现严重表述错误"
        status = IndicatorStatus(
            indicator=Indicator.SERIOUS_ERRORS,
            subject=site.id,
            subject_name=site.name,
            verdict=verdict,
            figure=figure,
            threshold="出现1处严重表述错误即单项否决",
            value=float(len(serious)),
            rule_id=RuleId.TEXT_SERIOUS_ERRORS,
        )
        return CheckReport(figures=counts, groups=groups, indicators=[status])


class SensitiveCheck(TextPageCheck):
    """Sensitive words (敏感词: the shipped spam list and the configured lists) in every page's text."""

    name = "sensitive"
    kinds = CHECK_KINDS["sensitive"]


class PrivacyCheck(TextPageCheck):
    """Resident identity numbers with a valid check digit published in page text (隐私泄露)."""

    name = "privacy"
    kinds = CHECK_KINDS["privacy"]


# -- proofreading before publishing (monitor check text) ---------------------------------------------


def typo_model_note(config: Config) -> str | None:
    """The one line telling why the language-model stage is skipped (None when it runs or is off)."""
    lm = typo_model_options(config)
    if lm is None:
        return None
    reason = typolm.availability(lm.model_path) or typolm.unavailable_reason(lm.model_path)
    return f"typo suggestions (language model) skipped: {reason}" if reason else None


def proofread(text: str, config: Config, on_date: dt.date | None) -> list[dict[str, Any]]:
    """Check plain text line by line (one sentence or paragraph per line) with the crawl's scanner.

    Returns one row per hit: ``line`` (1-based), ``start`` / ``end`` (0-based character offsets in the
    line, end exclusive), ``wrong``, ``suggestion``, ``rule``, ``severity``, ``kind``, ``category``,
    ``note``, ``message`` and ``snippet``.
    """
    scanner = scanner_for(config, on_date)
    lm = typo_model_options(config)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        hits = scanner.scan(line)
        if lm is not None:
            # Stage 0 wins: no suggestion where a list rule already reported this character.
            taken = {i for h in hits for i in range(h.start, h.end)}
            hits += [h for h in suggestion_hits(line, lm) or () if h.start not in taken]
            hits.sort(key=lambda h: (h.start, h.end))
        for h in hits:
            kind = finding_kind(h.rule)
            rows.append(
                {
                    "line": number,
                    "start": h.start,
                    "end": h.end,
                    "wrong": h.wrong,
                    "suggestion": h.suggestion,
                    "rule": h.rule,
                    "severity": h.severity,
                    "kind": kind,
                    "kind_zh": KIND_ZH[kind],
                    "category": h.category,
                    "note": h.note,
                    "message": (
                        f"文本含有居民身份证号码“{h.wrong}”，公开发布将泄露个人隐私"
                        if kind == PRIVACY
                        else h.message
                    ),
                    "snippet": _mask_digit_runs(snippet(line, h)) if kind == PRIVACY else snippet(line, h),
                }
            )
    return rows
