"""The typed figure groups of the run report: what a check measured beyond plain numbers.

A check hands the runner scalar figures (``columns_checked``, ``probes``, per-kind counts…) and, for
anything with structure, one of the frozen dataclasses below. They live in ``monitor.core`` rather than in
their check families because the store reads them back (:func:`monitor.core.report.load_report`) and the
store, the bulletin and the run summary may not import a family (``[tool.importlinter]``); the families
build them, everything above reads their fields.

Each group owns one or more top-level keys of the stored JSON (``KEYS``) and writes exactly the shape the
untyped blob had (schemas 1 and 2), so ``monitor status --json`` and exports show what they always
showed. ``from_json`` reads the shapes every version wrote: fields an older row lacks are None (or
empty), values of the wrong type are dropped field by field, and a group that is not even the right JSON
type returns None (the caller logs it with its run id).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Self

log = logging.getLogger(__name__)


# -- lenient readers of stored values (older rows, hand-edited rows) --------------------------------------


def _int(value: Any) -> int | None:
    """An int, or None (bools are not counts)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | int | None:
    """An int or a float, or None."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _strs(value: Any) -> tuple[str, ...]:
    """A list of strings (non-strings left out); anything else: empty."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _int_map(value: Any) -> dict[str, int]:
    """A {name: count} object (non-count values left out); anything else: empty."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if _int(v) is not None}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (anything else left out)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _rows(value: Any) -> list[Mapping[str, Any]] | None:
    """A JSON list of objects, or None when it is not one (the group is then kept untyped)."""
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        return None
    return value


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class FigureGroup:
    """A typed group of figures a check adds to its part of the run report.

    ``KEYS``: the top-level keys of the stored JSON the group owns; ``to_json`` gives their values,
    ``from_json`` reads them back (given only the keys of ``KEYS`` the row carries).
    """

    KEYS: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        """The group's top-level keys and their JSON-able values."""
        raise NotImplementedError

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> Self | None:
        """The group from its stored keys, of any schema; None when it cannot be read at all."""
        raise NotImplementedError


# -- dark links (checks.darklinks) -------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserFigures:
    """The dark-links browser pass: candidates it was given, pages loaded, verdicts. Only ``candidates``
    is recorded when there was nothing to confirm; nothing at all when the pass did not run."""

    candidates: int | None = None
    pages_loaded: int | None = None
    pages_over_budget: int | None = None
    confirmed: int | None = None
    refuted: int | None = None
    unknown: int | None = None
    shown_but_obfuscated: int | None = None
    skipped: str | None = None  # why confirmation did not run (no Chromium, disabled…)

    def as_dict(self) -> dict[str, Any]:
        """Stored form: the recorded values."""
        out = _without_none(
            {
                "candidates": self.candidates,
                "pages_loaded": self.pages_loaded,
                "pages_over_budget": self.pages_over_budget,
                "confirmed": self.confirmed,
                "refuted": self.refuted,
                "unknown": self.unknown,
                "shown_but_obfuscated": self.shown_but_obfuscated,
            }
        )
        if self.pages_loaded is not None:  # a pass that ran records "skipped" even when null
            out["skipped"] = self.skipped
        return out

    @classmethod
    def from_dict(cls, data: Any) -> BrowserFigures:
        """Inverse of :meth:`as_dict` (an older row without a browser pass: all None)."""
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            candidates=_int(data.get("candidates")),
            pages_loaded=_int(data.get("pages_loaded")),
            pages_over_budget=_int(data.get("pages_over_budget")),
            confirmed=_int(data.get("confirmed")),
            refuted=_int(data.get("refuted")),
            unknown=_int(data.get("unknown")),
            shown_but_obfuscated=_int(data.get("shown_but_obfuscated")),
            skipped=_str(data.get("skipped")),
        )


@dataclass(frozen=True)
class CandidateExample:
    """A concealed link to an outside site without spam evidence (information, not a finding)."""

    page: str
    target: str
    text: str

    def as_dict(self) -> dict[str, str]:
        """Stored form."""
        return {"page": self.page, "target": self.target, "text": self.text}


@dataclass(frozen=True)
class DarkLinksFigures(FigureGroup):
    """What the dark-links check analysed and found (stored under ``"darklinks"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("darklinks",)

    pages_analysed: int = 0
    dark_links: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    stylesheets_and_scripts_fetched: int | None = None
    resources_unavailable: tuple[str, ...] = ()
    resources_truncated: tuple[str, ...] = ()
    spider_fetches: int | None = None
    spider_pages_compared: int | None = None
    spider_over_budget: int | None = None
    spider_failed: tuple[str, ...] = ()
    outbound_targets: int | None = None
    outbound_scanned: int | None = None
    outbound_fetched_by_check: int | None = None
    outbound_over_cap: int | None = None
    browser: str | None = None  # one line about the browser pass (None: nothing to confirm)
    browser_figures: BrowserFigures = field(default_factory=BrowserFigures)
    candidates: int | None = None
    candidate_examples: tuple[CandidateExample, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"darklinks": {...}}`` as the check has always stored it."""
        return {
            "darklinks": {
                "pages_analysed": self.pages_analysed,
                "dark_links": self.dark_links,
                "by_kind": dict(self.by_kind),
                "stylesheets_and_scripts_fetched": self.stylesheets_and_scripts_fetched,
                "resources_unavailable": list(self.resources_unavailable),
                "resources_truncated": list(self.resources_truncated),
                "spider_fetches": self.spider_fetches,
                "spider_pages_compared": self.spider_pages_compared,
                "spider_over_budget": self.spider_over_budget,
                "spider_failed": list(self.spider_failed),
                "outbound_targets": self.outbound_targets,
                "outbound_scanned": self.outbound_scanned,
                "outbound_fetched_by_check": self.outbound_fetched_by_check,
                "outbound_over_cap": self.outbound_over_cap,
                "browser": self.browser,
                "browser_figures": self.browser_figures.as_dict(),
                "candidates": self.candidates,
                "candidate_examples": [c.as_dict() for c in self.candidate_examples],
            }
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> DarkLinksFigures | None:
        """Rows before the spider comparison, the outbound scan or the browser pass lack those keys:
        they read as None (not recorded)."""
        d = values.get("darklinks")
        if not isinstance(d, Mapping):
            return None
        return cls(
            pages_analysed=_int(d.get("pages_analysed")) or 0,
            dark_links=_int(d.get("dark_links")) or 0,
            by_kind=_int_map(d.get("by_kind")),
            stylesheets_and_scripts_fetched=_int(d.get("stylesheets_and_scripts_fetched")),
            resources_unavailable=_strs(d.get("resources_unavailable")),
            resources_truncated=_strs(d.get("resources_truncated")),
            spider_fetches=_int(d.get("spider_fetches")),
            spider_pages_compared=_int(d.get("spider_pages_compared")),
            spider_over_budget=_int(d.get("spider_over_budget")),
            spider_failed=_strs(d.get("spider_failed")),
            outbound_targets=_int(d.get("outbound_targets")),
            outbound_scanned=_int(d.get("outbound_scanned")),
            outbound_fetched_by_check=_int(d.get("outbound_fetched_by_check")),
            outbound_over_cap=_int(d.get("outbound_over_cap")),
            browser=_str(d.get("browser")),
            browser_figures=BrowserFigures.from_dict(d.get("browser_figures")),
            candidates=_int(d.get("candidates")),
            candidate_examples=tuple(
                CandidateExample(str(c.get("page", "")), str(c.get("target", "")), str(c.get("text", "")))
                for c in _objects(d.get("candidate_examples"))
            ),
        )


# -- the typo language model (checks.text) -----------------------------------------------------------------


@dataclass(frozen=True)
class TypoModelFigures(FigureGroup):
    """The language-model typo stage: pages scored and not re-scored, contexts learned; or why it did
    not run (``skipped``: then the counts are None)."""

    KEYS: ClassVar[tuple[str, ...]] = ("typo_model",)

    skipped: str | None = None
    pages_scored: int | None = None
    pages_unchanged: int | None = None
    learned: int | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"typo_model": {"skipped": why}}`` or ``{"typo_model": {"pages_scored": …}}``."""
        if self.skipped is not None:
            return {"typo_model": {"skipped": self.skipped}}
        return {
            "typo_model": {
                "pages_scored": self.pages_scored or 0,
                "pages_unchanged": self.pages_unchanged or 0,
                "learned": self.learned or 0,
            }
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> TypoModelFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("typo_model")
        if not isinstance(d, Mapping):
            return None
        skipped = d.get("skipped")
        if skipped is not None:
            return cls(skipped=str(skipped))
        return cls(
            pages_scored=_int(d.get("pages_scored")),
            pages_unchanged=_int(d.get("pages_unchanged")),
            learned=_int(d.get("learned")),
        )


# -- availability (checks.availability) -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetFigures:
    """One probed target (the homepage first): this probe and its window of probes."""

    name: str
    url: str
    kind: str | None = None
    ok: bool = False
    status: int | None = None  # HTTP status of this probe
    error: str | None = None  # the fetch error kind of this probe
    latency_ms: int | None = None
    state: str | None = None  # up / down (the target's state machine)
    fail_streak: int | None = None
    window_probes: int | None = None
    window_failures: int | None = None
    window_offline: int | None = None
    failure_percent: float | None = None
    availability_percent: float | None = None
    median_latency_ms: int | None = None
    level: str | None = None  # ok / warning / veto / unknown
    summary: str = ""  # 近7天探测…次，失败…次

    def as_dict(self) -> dict[str, Any]:
        """Stored form: every field, nulls included (as it always was)."""
        return {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "latency_ms": self.latency_ms,
            "state": self.state,
            "fail_streak": self.fail_streak,
            "window_probes": self.window_probes,
            "window_failures": self.window_failures,
            "window_offline": self.window_offline,
            "failure_percent": self.failure_percent,
            "availability_percent": self.availability_percent,
            "median_latency_ms": self.median_latency_ms,
            "level": self.level,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TargetFigures:
        """Inverse of :meth:`as_dict`."""
        return cls(
            name=str(d.get("name", "")),
            url=str(d.get("url", "")),
            kind=_str(d.get("kind")),
            ok=d.get("ok") is True,
            status=_int(d.get("status")),
            error=_str(d.get("error")),
            latency_ms=_int(d.get("latency_ms")),
            state=_str(d.get("state")),
            fail_streak=_int(d.get("fail_streak")),
            window_probes=_int(d.get("window_probes")),
            window_failures=_int(d.get("window_failures")),
            window_offline=_int(d.get("window_offline")),
            failure_percent=_num(d.get("failure_percent")),
            availability_percent=_num(d.get("availability_percent")),
            median_latency_ms=_int(d.get("median_latency_ms")),
            level=_str(d.get("level")),
            summary=str(d.get("summary") or ""),
        )


@dataclass(frozen=True)
class AvailabilityTargets(FigureGroup):
    """Every target the availability duty probed this run (stored under ``"targets"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("targets",)

    rows: tuple[TargetFigures, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"targets": [...]}``."""
        return {"targets": [r.as_dict() for r in self.rows]}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> AvailabilityTargets | None:
        """Inverse of :meth:`to_json`."""
        rows = _rows(values.get("targets"))
        if rows is None:
            return None
        return cls(tuple(TargetFigures.from_dict(r) for r in rows))

    @property
    def undecided(self) -> bool:
        """Some target has too few probes in its window to be judged."""
        return any(r.level == "unknown" for r in self.rows)


@dataclass(frozen=True)
class TlsFigures(FigureGroup):
    """The homepage's certificate; or, when it was not looked at, why (``note``: 未检测（已关闭）,
    首页未使用HTTPS) — stored then as that plain string."""

    KEYS: ClassVar[tuple[str, ...]] = ("tls",)

    note: str | None = None
    host: str | None = None
    port: int | None = None
    error: str | None = None  # the certificate could not be obtained
    not_after: str | None = None  # ISO datetime
    days_left: int | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"tls": note}`` or ``{"tls": {"host": …, "port": …, …}}``."""
        if self.note is not None:
            return {"tls": self.note}
        out: dict[str, Any] = {"host": self.host, "port": self.port}
        out.update(
            _without_none({"error": self.error, "not_after": self.not_after, "days_left": self.days_left})
        )
        return {"tls": out}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> TlsFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("tls")
        if isinstance(d, str):
            return cls(note=d)
        if not isinstance(d, Mapping):
            return None
        return cls(
            host=_str(d.get("host")),
            port=_int(d.get("port")),
            error=_str(d.get("error")),
            not_after=_str(d.get("not_after")),
            days_left=_int(d.get("days_left")),
        )


# -- columns and units (checks.columns) -------------------------------------------------------------------


@dataclass(frozen=True)
class HomepageFigures(FigureGroup):
    """The homepage's newest dated item (W3): when, what, how many days ago, the verdict, and the
    basis (None: the homepage itself; ``top_columns``: a navigation-only homepage judged by its columns)."""

    KEYS: ClassVar[tuple[str, ...]] = ("homepage",)

    latest: str | None = None  # ISO date
    latest_title: str | None = None
    latest_url: str | None = None
    days_since: int | None = None
    status: str | None = None  # fresh / warning / stale / unknown
    basis: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The stored object (also the evidence of the homepage finding)."""
        return {
            "latest": self.latest,
            "latest_title": self.latest_title,
            "latest_url": self.latest_url,
            "days_since": self.days_since,
            "status": self.status,
            "basis": self.basis,
        }

    def to_json(self) -> dict[str, Any]:
        """``{"homepage": {...}}``."""
        return {"homepage": self.as_dict()}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> HomepageFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("homepage")
        if not isinstance(d, Mapping):
            return None
        return cls(
            latest=_str(d.get("latest")),
            latest_title=_str(d.get("latest_title")),
            latest_url=_str(d.get("latest_url")),
            days_since=_int(d.get("days_since")),
            status=_str(d.get("status")),
            basis=_str(d.get("basis")),
        )


@dataclass(frozen=True)
class BoardFigures:
    """One message board (W5). A board that could not be read records only its name, URL, unit and
    ``status`` ``unknown``: its counts are None."""

    board: str
    url: str
    unit: str | None = None
    status: str | None = None
    total: int | None = None
    answered: int | None = None
    answer_rate: float | None = None
    median_reply_days: float | None = None
    last_reply: str | None = None  # ISO date
    unanswered_over_limit: int | None = None
    slow: int | None = None
    reply_stale: bool | None = None
    summary: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Stored form."""
        out: dict[str, Any] = {"board": self.board, "url": self.url, "unit": self.unit, "status": self.status}
        if self.total is not None:
            out.update(
                total=self.total,
                answered=self.answered,
                answer_rate=self.answer_rate,
                median_reply_days=self.median_reply_days,
                last_reply=self.last_reply,
                unanswered_over_limit=self.unanswered_over_limit,
                slow=self.slow,
                reply_stale=self.reply_stale,
                summary=list(self.summary),
            )
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BoardFigures:
        """Inverse of :meth:`as_dict`."""
        return cls(
            board=str(d.get("board", "")),
            url=str(d.get("url", "")),
            unit=_str(d.get("unit")),
            status=_str(d.get("status")),
            total=_int(d.get("total")),
            answered=_int(d.get("answered")),
            answer_rate=_num(d.get("answer_rate")),
            median_reply_days=_num(d.get("median_reply_days")),
            last_reply=_str(d.get("last_reply")),
            unanswered_over_limit=_int(d.get("unanswered_over_limit")),
            slow=_int(d.get("slow")),
            reply_stale=_bool(d.get("reply_stale")),
            summary=_strs(d.get("summary")),
        )


@dataclass(frozen=True)
class MessageBoards(FigureGroup):
    """The message boards the columns duty read (stored under ``"messages"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("messages",)

    boards: tuple[BoardFigures, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"messages": [...]}``."""
        return {"messages": [b.as_dict() for b in self.boards]}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> MessageBoards | None:
        """Inverse of :meth:`to_json`."""
        rows = _rows(values.get("messages"))
        if rows is None:
            return None
        return cls(tuple(BoardFigures.from_dict(r) for r in rows))


@dataclass(frozen=True)
class ReportProblem:
    """One problem of an annual report (numbers that do not add up, a missing row…)."""

    code: str
    relation: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Stored form."""
        return {"code": self.code, "relation": self.relation, "message": self.message}


@dataclass(frozen=True)
class AnnualReportEntry:
    """One 政府信息公开工作年度报告 as the audit read it."""

    url: str
    title: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date
    readable: bool | None = None
    problems: tuple[ReportProblem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Stored form."""
        return {
            "url": self.url,
            "title": self.title,
            "year": self.year,
            "published": self.published,
            "readable": self.readable,
            "problems": [p.as_dict() for p in self.problems],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnnualReportEntry:
        """Inverse of :meth:`as_dict`."""
        return cls(
            url=str(d.get("url", "")),
            title=_str(d.get("title")),
            year=_int(d.get("year")),
            published=_str(d.get("published")),
            readable=_bool(d.get("readable")),
            problems=tuple(
                ReportProblem(str(p.get("code", "")), _str(p.get("relation")), str(p.get("message", "")))
                for p in _objects(d.get("problems"))
            ),
        )


@dataclass(frozen=True)
class AnnualReportFigures(FigureGroup):
    """The annual-report audit: the index page read, the year due, the reports found."""

    KEYS: ClassVar[tuple[str, ...]] = ("annual_reports",)

    index: str | None = None
    due_year: int | None = None
    reports: tuple[AnnualReportEntry, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"annual_reports": {"index": …, "due_year": …, "reports": [...]}}``."""
        return {
            "annual_reports": {
                "index": self.index,
                "due_year": self.due_year,
                "reports": [r.as_dict() for r in self.reports],
            }
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> AnnualReportFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("annual_reports")
        if not isinstance(d, Mapping):
            return None
        return cls(
            index=_str(d.get("index")),
            due_year=_int(d.get("due_year")),
            reports=tuple(AnnualReportEntry.from_dict(r) for r in _objects(d.get("reports"))),
        )


@dataclass(frozen=True)
class UnreadablePages(FigureGroup):
    """Pages the columns or units duty could not read this run: URL → why (stored as ``"unreadable"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("unreadable",)

    pages: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"unreadable": {url: reason}}``, sorted by URL."""
        return {"unreadable": dict(sorted(self.pages.items()))}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> UnreadablePages | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("unreadable")
        if not isinstance(d, Mapping):
            return None
        return cls({str(k): str(v) for k, v in d.items()})


@dataclass(frozen=True)
class DiscoveryFigures(FigureGroup):
    """Column discovery from the homepage: pages visited, columns found, whether it hit its limit."""

    KEYS: ClassVar[tuple[str, ...]] = ("discovery",)

    pages_visited: int | None = None
    columns_found: int | None = None
    truncated: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"discovery": {...}}``."""
        return {
            "discovery": {
                "pages_visited": self.pages_visited,
                "columns_found": self.columns_found,
                "truncated": self.truncated,
            }
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> DiscoveryFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("discovery")
        if not isinstance(d, Mapping):
            return None
        return cls(_int(d.get("pages_visited")), _int(d.get("columns_found")), _bool(d.get("truncated")))


@dataclass(frozen=True)
class StatusTally:
    """How many columns were audited, and how many of them per status (fresh, stale, blank…)."""

    columns: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        """Stored form: ``{"columns": n, status: n, …}`` (statuses sorted)."""
        return {"columns": self.columns, **dict(sorted(self.by_status.items()))}

    @classmethod
    def from_dict(cls, d: Any) -> StatusTally:
        """Inverse of :meth:`as_dict`."""
        counts = _int_map(d)
        return cls(counts.pop("columns", 0), counts)


@dataclass(frozen=True)
class ColumnStatusFigures(FigureGroup):
    """The site's columns per status (stored under ``"column_status"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("column_status",)

    tally: StatusTally = field(default_factory=StatusTally)

    def to_json(self) -> dict[str, Any]:
        """``{"column_status": {"columns": n, …}}``."""
        return {"column_status": self.tally.as_dict()}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> ColumnStatusFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("column_status")
        return cls(StatusTally.from_dict(d)) if isinstance(d, Mapping) else None


@dataclass(frozen=True)
class UnitFigures:
    """One unit of the units duty: its result (合格 / 预警 / 不合格 / 未检测) and its columns per status."""

    unit: str
    kind: str | None = None
    result: str | None = None
    tally: StatusTally = field(default_factory=StatusTally)

    def as_dict(self) -> dict[str, Any]:
        """Stored form (the tally flattened in, as it always was)."""
        return {"unit": self.unit, "kind": self.kind, "result": self.result, **self.tally.as_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UnitFigures:
        """Inverse of :meth:`as_dict`."""
        rest = {k: v for k, v in d.items() if k not in ("unit", "kind", "result")}
        tally = StatusTally.from_dict(rest)
        return cls(str(d.get("unit", "")), _str(d.get("kind")), _str(d.get("result")), tally)


@dataclass(frozen=True)
class UnitsFigures(FigureGroup):
    """Every unit the units duty inspected (stored under ``"units"``)."""

    KEYS: ClassVar[tuple[str, ...]] = ("units",)

    units: tuple[UnitFigures, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"units": [...]}``."""
        return {"units": [u.as_dict() for u in self.units]}

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> UnitsFigures | None:
        """Inverse of :meth:`to_json`."""
        rows = _rows(values.get("units"))
        if rows is None:
            return None
        return cls(tuple(UnitFigures.from_dict(r) for r in rows))


# -- new media (checks.newmedia) --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountVerdicts(FigureGroup):
    """Accounts per verdict this run, and how many of them are kept in a manual ledger (人工填报)."""

    KEYS: ClassVar[tuple[str, ...]] = ("verdicts", "manual")

    fresh: int = 0
    stale: int = 0
    zombie: int = 0
    unknown: int = 0
    manual: int = 0

    def to_json(self) -> dict[str, Any]:
        """``{"verdicts": {...}, "manual": n}``."""
        return {
            "verdicts": {
                "fresh": self.fresh,
                "stale": self.stale,
                "zombie": self.zombie,
                "unknown": self.unknown,
            },
            "manual": self.manual,
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> AccountVerdicts | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("verdicts")
        if not isinstance(d, Mapping):
            return None
        counts = _int_map(d)
        return cls(
            fresh=counts.get("fresh", 0),
            stale=counts.get("stale", 0),
            zombie=counts.get("zombie", 0),
            unknown=counts.get("unknown", 0),
            manual=_int(values.get("manual")) or 0,
        )


# -- site identity (checks.identity) ----------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityFigures(FigureGroup):
    """Which identity marks the homepage carries (item → found) and which required ones are missing;
    which page was judged (``page``: ``homepage``, or ``article`` when the configured address is an
    article page and the site's root could not be read — then nothing was judged), its address and how
    many footer includes (scripts, frames) were read. Rows before issue 19 record only the marks."""

    KEYS: ClassVar[tuple[str, ...]] = ("identity", "identity_missing", "identity_page")

    found: dict[str, bool] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    page: str | None = None
    judged: str | None = None
    includes: int | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"identity": {item: bool}, "identity_missing": [item, …], "identity_page": {…}}``."""
        out: dict[str, Any] = {"identity": dict(self.found), "identity_missing": list(self.missing)}
        if self.page is not None:
            out["identity_page"] = {"page": self.page, "judged": self.judged, "includes": self.includes}
        return out

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> IdentityFigures | None:
        """Inverse of :meth:`to_json`."""
        d = values.get("identity")
        if not isinstance(d, Mapping):
            return None
        found = {str(k): v for k, v in d.items() if isinstance(v, bool)}
        page = values.get("identity_page")
        page = page if isinstance(page, Mapping) else {}
        return cls(
            found,
            _strs(values.get("identity_missing")),
            page=_str(page.get("page")),
            judged=_str(page.get("judged")),
            includes=_int(page.get("includes")),
        )


# -- the sanity gate (monitor.crawl.credibility) ----------------------------------------------------------


@dataclass(frozen=True)
class NightFigures:
    """What one run saw of the site's own pages (kept in the run's counts under ``"credibility"``;
    the sanity gate, monitor.crawl.credibility, judges them)."""

    pages: int = 0
    failed: int = 0
    distinct_bodies: int = 0
    top_body_pages: int = 0
    distinct_titles: int = 0
    maintenance_pages: int = 0
    homepage_maintenance: bool = False
    #: The homepage carries the most repeated body (every URL answers one page, the homepage included).
    homepage_repeated: bool = False
    truncated: int = 0

    @property
    def fetches(self) -> int:
        """Page fetches judged: pages read plus pages that failed."""
        return self.pages + self.failed

    @property
    def failed_share(self) -> float:
        """Share of page fetches that failed."""
        return self.failed / self.fetches if self.fetches else 0.0

    @property
    def top_body_share(self) -> float:
        """Share of pages carrying the most repeated body."""
        return self.top_body_pages / self.pages if self.pages else 0.0

    def as_counts(self) -> dict[str, Any]:
        """JSON-able figures for the run record."""
        return asdict(self)

    @classmethod
    def from_counts(cls, data: Mapping[str, Any] | None) -> NightFigures | None:
        """Figures read back from a run record (None when the run kept none)."""
        if not isinstance(data, Mapping):
            return None
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        try:
            return cls(**known)
        except TypeError:
            return None


#: Every group the stored report may carry, in the order they are written.
FIGURE_GROUPS: tuple[type[FigureGroup], ...] = (
    DarkLinksFigures,
    TypoModelFigures,
    AvailabilityTargets,
    TlsFigures,
    HomepageFigures,
    MessageBoards,
    AnnualReportFigures,
    DiscoveryFigures,
    ColumnStatusFigures,
    UnitsFigures,
    UnreadablePages,
    AccountVerdicts,
    IdentityFigures,
)
