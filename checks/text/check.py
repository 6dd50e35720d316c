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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from checks.base import CheckContext, PageCheck
from checks.text.sensitive import read_words
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
from monitor.core.findings import Finding, Severity
from monitor.core.indicators import Indicator, IndicatorStatus, Verdict
from monitor.crawl.analysis import AnalysisRequest, PageAnalyzer
from monitor.web.visible_text import BLOCK_SEPARATOR, BODY, WHERE_ZH

if TYPE_CHECKING:
    from monitor.crawl.crawler import CrawlReport
    from monitor.web.fetch import Fetcher
    from monitor.web.page import Page

SERIOUS, TYPO, PHRASING, SENSITIVE, PRIVACY = (
    "serious_expression",
    "typo",
    "nonstandard_phrasing",
    "sensitive_word",
    "privacy_id_number",
)
#: Finding kinds each text page check reports.
CHECK_KINDS = {"typos": (SERIOUS, TYPO, PHRASING), "sensitive": (SENSITIVE,), "privacy": (PRIVACY,)}
KIND_ZH = {
    SERIOUS: "严重表述错误",
    TYPO: "错别字",
    PHRASING: "不规范表述",
    SENSITIVE: "敏感词",
    PRIVACY: "隐私泄露",
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
    """A sensitive-word list read NOW from ``path`` (so a changed file makes a new scanner)."""
    p = Path(path)
    return WordList(
        category=category,
        words=tuple(read_words(p)),
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

    def counts(self) -> dict[str, Any]:
        """Pages and characters scanned, and findings per kind."""
        return self._kind_counts()


class TyposCheck(TextPageCheck):
    """严重表述错误, 错别字 and 规范表述 in the visible text of every page; measures indicator W1."""

    name = "typos"
    kinds = CHECK_KINDS["typos"]

    def counts(self) -> dict[str, Any]:
        """Kind counts plus the W1 indicator status (one serious expression error is a veto)."""
        counts = self._kind_counts()
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
        )
        counts["indicators"] = [status.as_dict()]
        return counts


class SensitiveCheck(TextPageCheck):
    """Sensitive words (敏感词: the shipped spam list and the configured lists) in every page's text."""

    name = "sensitive"
    kinds = CHECK_KINDS["sensitive"]


class PrivacyCheck(TextPageCheck):
    """Resident identity numbers with a valid check digit published in page text (隐私泄露)."""

    name = "privacy"
    kinds = CHECK_KINDS["privacy"]


# -- proofreading before publishing (monitor check text) ---------------------------------------------


def proofread(text: str, config: Config, on_date: dt.date | None) -> list[dict[str, Any]]:
    """Check plain text line by line (one sentence or paragraph per line) with the crawl's scanner.

    Returns one row per hit: ``line`` (1-based), ``start`` / ``end`` (0-based character offsets in the
    line, end exclusive), ``wrong``, ``suggestion``, ``rule``, ``severity``, ``kind``, ``category``,
    ``note``, ``message`` and ``snippet``.
    """
    scanner = scanner_for(config, on_date)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        for h in scanner.scan(line):
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
