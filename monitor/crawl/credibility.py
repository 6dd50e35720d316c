"""The sanity gate: is tonight's run of a site credible enough to resolve findings?

A run that reached the site and ended ``ok`` used to resolve every open finding it did not see again.
On a maintenance night (every URL answers 200 with the same "系统维护中" page), behind a web application
firewall's challenge page, or when only the homepage answers and every other page resets, that resolved
everything — and the problems came back the next day as new, losing their first-seen dates and 整改
deadlines (issue 20). A run of a duty that judges site content therefore passes this gate first:

- :class:`SiteSample` collects what the run saw of the site's own pages — a fingerprint of each page's
  visible text (digits and whitespace dropped, so a counter or a date does not make two copies of one
  maintenance page differ; scripts are not visible text, so a challenge page's per-request token does
  not either), its title, the failed page fetches, and the pages cut at ``max_response_bytes``;
- :func:`judge` compares those figures (:class:`NightFigures`) with the site's recent credible runs of
  the same duty (complete ones when it has them) and says why the run is not credible, or nothing.

Absolute rules hold even without history (a site's first night): ≥ 80 % of ≥ 5 pages share one body and
the homepage is one of them (every URL answers one page: pages that merely look alike below a homepage
of their own are judged against history instead), ≥ 50 % of ≥ 4 page fetches failed (resets, timeouts,
5xx, 403, 429 — not 404/410, a working site's dead links), or the homepage is a short page saying
"maintenance" or "security check". Relative rules need at least 3 past credible runs: pages reached
below half their median (median ≥ 10), distinct bodies below half their median (median ≥ 10), or a share
of failed page fetches ≥ 25 % and three times the usual. A site that really shrank would stay degraded
for ever under the relative rules alone, so a third night in a row degraded by relative rules only is
accepted as the site's new shape (and said so); the absolute rules never expire.

A degraded run resolves nothing and records no finding (what a maintenance page "shows" — every column
stale, the identity code missing — is not the site's state); the runner records it as ``degraded`` with
the reason, shown by the run summary, ``monitor status`` and the bulletin.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.config import Crawl, Site
from monitor.core.figures import NightFigures
from monitor.core.report import RunReport, load_report
from monitor.core.urls import InvalidURL, normalize, origin_of
from monitor.web.decode import decode_body
from monitor.web.egress import EgressPolicy
from monitor.web.fetch import NOT_REQUESTED, ErrorKind, Fetcher, FetchResult
from monitor.web.page import Page

#: Absolute rules (no history needed).
SAME_BODY_SHARE = 0.8
SAME_BODY_MIN_PAGES = 5
FAILED_SHARE = 0.5
FAILED_MIN_FETCHES = 4
#: A maintenance or challenge page is short: a real page that merely mentions 系统维护 in a news list is not.
MAINTENANCE_MAX_CHARS = 600
#: Answers that say a page does not exist: a dead link on a working site, never a bad night's sign.
GONE_STATUSES = frozenset({404, 410})
#: Relative rules: how many past credible runs make a baseline, and the smallest baseline they judge.
BASELINE_RUNS = 5
BASELINE_MIN_RUNS = 3
BASELINE_MIN_PAGES = 10
DROP_RATIO = 0.5
FAILED_SHARE_RISE = 0.25
#: Nights in a row degraded by relative rules only, after which the new figures are accepted.
RELATIVE_PERSISTENCE = 3

_MAINTENANCE = re.compile(
    r"系统维护|网站维护|站点维护|维护升级|升级维护|系统升级|正在维护|维护中|暂停访问|暂停服务|暂时无法访问"
    r"|安全验证|人机验证|访问验证|滑动验证|请完成验证|正在验证|验证您的浏览器|浏览器安全检查"
    r"|访问被(?:拦截|阻断|拒绝)|请求被(?:拦截|阻断|拒绝)|已被拦截|防火墙|\bWAF\b|云防护|安全狗|创宇盾|知道创宇"
    r"|under maintenance|temporarily unavailable|checking your browser|just a moment|attention required"
    r"|access denied|request blocked",
    re.IGNORECASE,
)
#: Dropped before hashing: ASCII controls, whitespace, digits and punctuation (dates, counters, tokens).
_NOISE_BYTES = bytes(range(0x30)) + b"0123456789:;<=>?@[\\]^_`{|}~\x7f"


#: Below this many bytes of visible text (a page drawn by scripts, a frameset: under 4 Chinese characters)
#: the page's markup is fingerprinted instead: pages without visible text are not "the same page". A
#: challenge page's few words ("安全验证中") are enough to be judged by its text, whatever token its
#: script carries.
MIN_TEXT_BYTES = 12


def body_fingerprint(visible_text: str, html: str = "") -> str:
    """A short hash of a page's visible text with digits, ASCII punctuation and whitespace dropped (of its
    markup, likewise, when it has almost no visible text)."""
    # Bytes.translate and SHA-1 run in C: ~0.1 ms for a 13,000-character page, where a regex substitution
    # took ~2 ms — too much on the crawl's event loop for 20,000 pages.
    core = visible_text.encode("utf-8").translate(None, _NOISE_BYTES)
    if len(core) < MIN_TEXT_BYTES and html:
        core = b"html:" + html.encode("utf-8", "replace").translate(None, _NOISE_BYTES)
    return hashlib.sha1(core, usedforsecurity=False).hexdigest()[:16]


def looks_like_maintenance(title: str, visible_text: str) -> bool:
    """A short page whose title or text says the site is under maintenance or behind a security check."""
    if len(visible_text) > MAINTENANCE_MAX_CHARS:
        return False
    return bool(_MAINTENANCE.search(title) or _MAINTENANCE.search(visible_text))


@dataclass
class SiteSample:
    """Collects, during one run, what the gate judges: one entry per distinct page URL."""

    homepage: str = ""
    _bodies: dict[str, str] = field(default_factory=dict)
    _titles: set[str] = field(default_factory=set)
    _maintenance: set[str] = field(default_factory=set)
    _failed: set[str] = field(default_factory=set)
    #: Pages cut at ``max_response_bytes`` (their URLs, requested and final): partial, never "empty".
    truncated: set[str] = field(default_factory=set)
    _cut: set[str] = field(default_factory=set)
    _whole: set[str] = field(default_factory=set)

    def add_page(
        self,
        url: str,
        title: str,
        visible_text: str,
        *,
        html: str = "",
        truncated: bool = False,
        final_url: str = "",
    ) -> None:
        """A page of the site was read (HTML, success status)."""
        url = _key(url)
        self._failed.discard(url)
        self._bodies[url] = body_fingerprint(visible_text, html)
        self._titles.add(title)
        if looks_like_maintenance(title, visible_text):
            self._maintenance.add(url)
        if truncated:
            self._cut.add(url)
            self.truncated.update(u for u in (url, final_url) if u)
        else:
            self._whole.update(u for u in (url, final_url) if u)

    @property
    def whole_pages(self) -> frozenset[str]:
        """URLs of the pages read whole this run (requested and final URLs)."""
        return frozenset(self._whole)

    def add_crawled(self, page: Page) -> None:
        """A page the crawl parsed (its visible text is computed once and shared with the checks)."""
        self.add_page(
            page.url,
            page.title,
            page.visible_text(),
            html=page.html,
            truncated=page.truncated,
            final_url=page.final_url,
        )

    def add_failure(self, url: str, status: int | None = None, error: ErrorKind | None = None) -> None:
        """Fetching a page of the site failed (for good: after the crawl's confirmation).

        A 404 or 410 is the server's own word that a page does not exist — a working site's dead link,
        not a sign of a bad night — and is not counted; resets, timeouts, 5xx, 403 and 429 are. Nor is a
        failure the monitor decided without asking the site (an invalid URL, a file: link, a redirect
        into an internal address the egress policy refuses): it says nothing about the night."""
        if status in GONE_STATUSES or error in NOT_REQUESTED:
            return
        url = _key(url)
        if url not in self._bodies:
            self._failed.add(url)

    def figures(self) -> NightFigures:
        """The run's figures so far."""
        counts = Counter(self._bodies.values())
        top = counts.most_common(1)[0] if counts else ("", 0)
        home = self._bodies.get(_key(self.homepage)) if self.homepage else None
        return NightFigures(
            pages=len(self._bodies),
            failed=len(self._failed),
            distinct_bodies=len(counts),
            top_body_pages=max(counts.values(), default=0),
            distinct_titles=len(self._titles),
            maintenance_pages=len(self._maintenance),
            homepage_maintenance=bool(self.homepage) and _key(self.homepage) in self._maintenance,
            homepage_repeated=home is not None and top[1] > 1 and home == top[0],
            truncated=len(self._cut),
        )


def _key(url: str) -> str:
    try:
        return normalize(url)
    except InvalidURL:
        return url


@dataclass(frozen=True)
class PastNight:
    """One earlier finished run of the same duty on the same site, as the gate reads it."""

    status: str
    complete: bool
    figures: NightFigures | None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: ``reason`` (zh-CN, specific and numeric) is empty for a credible run."""

    reason: str = ""
    rules: tuple[str, ...] = ()
    #: Said about a credible run the gate let through only because its oddity persisted.
    note: str = ""

    @property
    def degraded(self) -> bool:
        """The run must not resolve anything."""
        return bool(self.rules)


def history_from_runs(runs: Iterable[Mapping[str, Any]]) -> list[PastNight]:
    """Past nights from run records (most recent first), as ``Store.runs`` returns them."""
    out = []
    for run in runs:
        if run.get("status") in ("running", None):
            continue
        report = run.get("report")
        if not isinstance(report, RunReport):
            report = load_report(run.get("counts") or {}, f"run {run.get('id')}")
        out.append(
            PastNight(
                status=str(run["status"]),
                complete=bool(run.get("complete")),
                figures=report.credibility,
                rules=report.degraded_rules,
            )
        )
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def judge(now: NightFigures, history: Sequence[PastNight]) -> Verdict:
    """Why this run is not credible (the rules that fired and a zh-CN reason), or a credible verdict.

    ``history``: earlier runs of the same duty on the same site, most recent first.
    """
    reasons: list[str] = []
    rules: list[str] = []
    if now.pages >= SAME_BODY_MIN_PAGES and now.top_body_share >= SAME_BODY_SHARE and now.homepage_repeated:
        rules.append("same_body")
        reasons.append(f"{now.pages}个页面中{now.top_body_pages}个内容完全相同，疑似维护页或防火墙拦截页")
    if now.fetches >= FAILED_MIN_FETCHES and now.failed_share >= FAILED_SHARE:
        rules.append("failed_share")
        reasons.append(f"{now.fetches}个本站页面中{now.failed}个无法访问（{_pct(now.failed_share)}）")
    if now.homepage_maintenance:
        # The homepage alone: an empty column's "本栏目维护中" or a notice about a service's 暂停服务
        # is a short page too, and a real maintenance night that spares the homepage is judged by history.
        rules.append("maintenance_page")
        reasons.append("首页为网站维护或安全验证提示页")
    absolute = bool(rules)

    credible = [p for p in history if p.status == "ok" and p.figures is not None]
    complete = [p for p in credible if p.complete]
    # Complete runs make the baseline; a site whose every crawl hits max_pages has only partial ones.
    chosen = complete if len(complete) >= BASELINE_MIN_RUNS else credible
    baseline = [p.figures for p in chosen if p.figures is not None][:BASELINE_RUNS]
    runs_zh = "完整运行" if chosen is complete else "正常运行"
    if len(baseline) >= BASELINE_MIN_RUNS:
        usual_pages = statistics.median(f.pages for f in baseline)
        usual_bodies = statistics.median(f.distinct_bodies for f in baseline)
        usual_failed = statistics.median(f.failed_share for f in baseline)
        if usual_pages >= BASELINE_MIN_PAGES and now.pages < usual_pages * DROP_RATIO:
            rules.append("pages_drop")
            reasons.append(
                f"仅读取到{now.pages}个页面，近{len(baseline)}次{runs_zh}的中位数为{usual_pages:g}个"
            )
        elif usual_bodies >= BASELINE_MIN_PAGES and now.distinct_bodies < usual_bodies * DROP_RATIO:
            rules.append("bodies_drop")
            reasons.append(
                f"不同内容的页面仅{now.distinct_bodies}种，近{len(baseline)}次{runs_zh}的中位数为{usual_bodies:g}种"
            )
        if (
            "failed_share" not in rules
            and now.failed >= FAILED_MIN_FETCHES
            and now.failed_share >= FAILED_SHARE_RISE
            and now.failed_share >= 3 * usual_failed
        ):
            rules.append("failed_rise")
            reasons.append(
                f"{now.fetches}个本站页面中{now.failed}个无法访问（{_pct(now.failed_share)}），"
                f"以往约{_pct(usual_failed)}"
            )
    if not rules:
        return Verdict()
    if not absolute:
        streak = 0
        for past in history:
            if past.status != "degraded" or not past.rules or not set(past.rules) <= RELATIVE_RULES:
                break
            streak += 1
        if streak + 1 >= RELATIVE_PERSISTENCE:
            return Verdict(
                note=f"连续{streak + 1}次运行与以往明显不同（{'；'.join(reasons)}），"
                "视为网站结构变化，恢复正常判定"
            )
    return Verdict(reason="；".join(reasons), rules=tuple(rules))


RELATIVE_RULES = frozenset({"pages_drop", "bodies_drop", "failed_rise"})


class SampledFetcher(Fetcher):
    """A :class:`Fetcher` that shows the site's own HTML pages it fetches to a :class:`SiteSample`: the
    gate's view of a site-level check (columns, units, identity), which fetches its pages itself."""

    def __init__(
        self, options: Crawl, sample: SiteSample, site: Site, *, egress: EgressPolicy | None = None
    ) -> None:
        super().__init__(options, egress=egress)
        self.sample = sample
        self._origins = frozenset(site.crawl_origins)

    async def fetch(self, url: str, **kwargs: Any) -> FetchResult:
        """Fetch as :meth:`Fetcher.fetch` does, and sample the answer when it is one of the site's pages."""
        result = await super().fetch(url, **kwargs)
        if kwargs.get("method", "GET") == "GET" and kwargs.get("read_body", True):
            self._observe(url, result)
        return result

    def _observe(self, url: str, result: FetchResult) -> None:
        try:
            if origin_of(url) not in self._origins:
                return
        except ValueError:
            return
        if not result.ok:
            self.sample.add_failure(url, result.status, result.error)
            return
        if result.body is None or not result.is_html:
            return
        text, encoding = decode_body(result.body, result.content_type_header)
        page = Page(
            url, result.final_url or url, result.status or 0, 0, text, encoding, truncated=result.truncated
        )
        try:
            self.sample.add_page(
                url,
                page.title,
                page.visible_text(),
                html=text,
                truncated=result.truncated,
                final_url=result.final_url,
            )
        finally:
            page.release()
