"""The run report: what one run of a duty measured, typed, and how it is stored.

Checks hand the runner their part (:class:`CheckReport`: figures, indicator statuses, census rows); the
crawl adds its :class:`CrawlFigures`; the runner assembles one :class:`RunReport` per run and the store
keeps it as JSON. Reading it back (:func:`load_report`) is the one place that knows the stored shapes,
including the rows older versions wrote (schema 1, the "counts" blob), so nothing above it guesses:

* schema 1 wrote census tables either top-level (``"columns"``, ``"accounts"``) or under ``"census"``;
  both are read here, once.
* schema 1 indicator records carry no ``rule_id``; :func:`monitor.core.indicators.legacy_rule_id` gives
  them theirs. A record that cannot be read is logged with the run it came from, never dropped silently.
* schemas 1 and 2 kept every structured figure (the dark-links figures, the typo model's, the
  availability targets, the columns duty's homepage…) as an untyped object among the figures. Schema 3
  declares each of them as a :class:`~monitor.core.figures.FigureGroup` dataclass; the stored shape of
  each group is unchanged, so rows of every schema read back into the same dataclasses (fields a row of
  an older version lacks are None), and a group that cannot be read is logged with its run.

The stored JSON is flat (``{"schema": 3, "pages_crawled": …, "darklinks": {…}, "indicators": […]}``):
the same keys ``monitor status --json`` has always shown, plus the schema version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from monitor.core.figures import FIGURE_GROUPS, FigureGroup, NightFigures
from monitor.core.indicators import IndicatorStatus

log = logging.getLogger(__name__)

#: Version of the stored form. 1: the untyped counts blob (no ``"schema"`` key); 2: typed indicators
#: and census rows; 3: typed figure groups (:mod:`monitor.core.figures`).
REPORT_SCHEMA = 3

_Row = TypeVar("_Row", "ColumnCensusRow", "AccountCensusRow")
_Group = TypeVar("_Group", bound=FigureGroup)


def _row_from_dict(cls: type[_Row], data: Mapping[str, Any]) -> _Row:
    """A census row from its stored dict: known keys taken, missing ones None (rows of older versions
    and rows recorded by hand carry fewer fields)."""
    return cls(**{f.name: data.get(f.name) for f in fields(cls)})


def _row_as_dict(row: ColumnCensusRow | AccountCensusRow) -> dict[str, Any]:
    """Stored form of a census row: every field, in declaration order; None for ``site`` left out."""
    out = {f.name: getattr(row, f.name) for f in fields(row)}
    if out.get("site") is None:
        out.pop("site", None)
    return out


@dataclass(frozen=True)
class ColumnCensusRow:
    """One column of the 网站普查信息统计表, as the columns (or units) duty measured it."""

    name: str | None = None
    url: str | None = None
    unit: str | None = None
    type: str | None = None  # column type id (dynamic, notice…); a row recorded by hand may hold Chinese
    type_zh: str | None = None
    top_level: bool | None = None
    last_update: str | None = None  # ISO date
    last_update_zh: str | None = None
    days_since: int | None = None
    items_on_page: int | None = None
    items_week: int | None = None
    items_month: int | None = None
    status: str | None = None
    verdict: str | None = None  # 合格 / 预警 / 不合格 / 未检测
    message: str | None = None
    latest_title: str | None = None
    latest_url: str | None = None
    source: str | None = None  # how the column was found (configured, discovered…)
    site: str | None = None  # the site as a hand-recorded row names it; measured rows leave it out

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form stored in the run report."""
        return _row_as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnCensusRow:
        """Inverse of :meth:`as_dict`, tolerant of rows written by older versions."""
        return _row_from_dict(cls, data)


@dataclass(frozen=True)
class AccountCensusRow:
    """One account of the new-media census, as the newmedia duty measured it. Post counts are None
    for accounts kept in a manual ledger."""

    id: str | None = None
    name: str | None = None
    platform: str | None = None
    platform_zh: str | None = None
    unit: str | None = None
    source: str | None = None
    source_label: str | None = None
    verdict: str | None = None  # fresh / stale / zombie / unknown
    verdict_zh: str | None = None
    warn: bool | None = None
    threshold_days: int | None = None
    last_post: str | None = None  # ISO datetime
    last_post_title: str | None = None
    last_post_url: str | None = None
    days_since: int | None = None
    reason: str | None = None
    reported_by: str | None = None
    posts_week: int | None = None
    posts_month: int | None = None
    originals_month: int | None = None
    trend_8w: list[dict[str, Any]] | None = None  # [{"week": "2026-W48", "posts": 3}, …]
    quality: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form stored in the run report."""
        return _row_as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccountCensusRow:
        """Inverse of :meth:`as_dict`, tolerant of rows written by older versions."""
        return _row_from_dict(cls, data)


@dataclass(frozen=True)
class CrawlFigures:
    """What the site crawl did (crawl duties only). None: not recorded (a row of an older version)."""

    pages_crawled: int | None = None
    links_checked: int | None = None
    broken: int | None = None
    #: Links into the internal network, not requested (monitor.web.egress): not counted in ``broken``.
    private_address_links: int | None = None
    recovered_on_recheck: int | None = None
    skipped: dict[str, int] | None = None  # why URLs were not requested → how many
    skipped_examples: dict[str, list[str]] | None = None
    requests: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The recorded figures, JSON-able (unrecorded ones left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass
class CheckReport:
    """What one check hands the runner besides its findings.

    ``figures``: the check's plain figures (``{"columns_checked": 42, "typo": 3}``: numbers, flags and
    short labels); ``groups``: its structured figures, one typed :class:`FigureGroup` each
    (:class:`~monitor.core.figures.DarkLinksFigures`, :class:`~monitor.core.figures.TypoModelFigures`…);
    ``indicators``: the veto indicators it measured; ``columns`` / ``accounts``: its census rows (None:
    it keeps no census).
    """

    figures: dict[str, Any] = field(default_factory=dict)
    groups: list[FigureGroup] = field(default_factory=list)
    indicators: list[IndicatorStatus] = field(default_factory=list)
    columns: list[ColumnCensusRow] | None = None
    accounts: list[AccountCensusRow] | None = None


_TOP_KEYS = ("findings", "complete", "check_errors", "posts_new")
_CRAWL_KEYS = tuple(f.name for f in fields(CrawlFigures))


@dataclass
class RunReport:
    """Everything one run recorded besides its findings: typed figures, indicator statuses, census rows.

    ``findings``: how many findings the run reported; ``complete``: it observed everything it is
    responsible for; ``check_errors``: checks that failed during the run; ``posts_new``: new-media posts
    stored for the first time. None (or empty) means not recorded: duties without checks (backups, the
    bulletin) record only ``figures``.
    """

    findings: int | None = None
    complete: bool | None = None
    check_errors: tuple[str, ...] = ()
    posts_new: int | None = None
    crawl: CrawlFigures | None = None
    #: Plain figures (numbers, flags, short labels) by their stored key, and figures of duties without
    #: checks (``{"bulletins": 1}``, a backup's ``bytes``).
    figures: dict[str, Any] = field(default_factory=dict)
    #: The structured figures, one typed group per class (read them with :meth:`group`).
    groups: dict[type[FigureGroup], FigureGroup] = field(default_factory=dict)
    indicators: list[IndicatorStatus] = field(default_factory=list)
    columns: list[ColumnCensusRow] | None = None
    accounts: list[AccountCensusRow] | None = None
    #: The sanity gate (monitor.crawl.credibility, issue 20): the night's figures as it judged them (pages
    #: read, failed, distinct bodies, truncated…; None: not judged), why it found the run not credible
    #: (None: credible; the run is then ``degraded``), the rules that fired, how many findings the
    #: degraded run did not record, and its note on a credible run it let through.
    credibility: NightFigures | None = None
    degraded_reason: str | None = None
    degraded_rules: tuple[str, ...] = ()
    findings_withheld: int | None = None
    credibility_note: str | None = None
    #: Why the duty did not run on this site (a run of status ``skipped``: nothing configured for it).
    skipped_reason: str | None = None
    #: The stored form this report was read from (REPORT_SCHEMA for a report built in this run).
    schema: int = REPORT_SCHEMA

    def __post_init__(self) -> None:
        # A group's keys never stay among the plain figures: given in their stored shape (a report
        # built by hand, a duty's plain figures), they are read into their dataclass here. A copy: the
        # caller's dict stays as it was.
        self.figures = dict(self.figures)
        self.groups.update(_groups(self.figures, "run report"))

    def add(self, part: CheckReport) -> None:
        """Take one check's part: its figures and figure groups (a later check's wins, as before), its
        indicators (appended) and census rows (appended)."""
        plain = dict(part.figures)
        self.groups.update(_groups(plain, "check report"))
        self.figures.update(plain)
        for group in part.groups:
            self.groups[type(group)] = group
        self.indicators.extend(part.indicators)
        if part.columns is not None:
            self.columns = [*(self.columns or []), *part.columns]
        if part.accounts is not None:
            self.accounts = [*(self.accounts or []), *part.accounts]

    def group(self, cls: type[_Group]) -> _Group | None:
        """The run's figure group of type ``cls`` (None: no check of the run recorded it)."""
        group = self.groups.get(cls)
        return group if isinstance(group, cls) else None

    @property
    def pages_crawled(self) -> int | None:
        """Pages the crawl fetched and parsed (None: not a crawl duty)."""
        return self.crawl.pages_crawled if self.crawl is not None else None

    def number(self, key: str) -> int | float | None:
        """A numeric figure by its stored key (``pages_crawled``, ``columns_checked``, ``probes``…);
        None when the run did not record it as a number."""
        if key in _TOP_KEYS:
            value = getattr(self, key)
        elif key in self.figures:
            value = self.figures[key]
        elif self.crawl is not None and key in _CRAWL_KEYS:
            value = getattr(self.crawl, key)
        else:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    def as_json(self) -> dict[str, Any]:
        """The stored form without its schema version: the flat JSON object ``monitor status --json``
        exports (the run's "counts"). Only the store and that export need it; code reads the fields."""
        out: dict[str, Any] = {}
        if self.crawl is not None:
            out.update(self.crawl.as_dict())
        if self.complete is not None:
            out["complete"] = self.complete
        out.update(self.figures)
        for group in self.groups.values():
            out.update(group.to_json())
        if self.columns is not None:
            out["columns"] = [r.as_dict() for r in self.columns]
        if self.accounts is not None:
            out["accounts"] = [r.as_dict() for r in self.accounts]
        if self.indicators:
            out["indicators"] = [s.as_dict() for s in self.indicators]
        if self.findings is not None:
            out["findings"] = self.findings
        if self.check_errors:
            out["check_errors"] = list(self.check_errors)
        if self.posts_new is not None:
            out["posts_new"] = self.posts_new
        if self.credibility is not None:
            out["credibility"] = self.credibility.as_counts()
        if self.degraded_reason is not None:
            out["degraded_reason"] = self.degraded_reason
        if self.degraded_rules:
            out["degraded_rules"] = list(self.degraded_rules)
        if self.findings_withheld is not None:
            out["findings_withheld"] = self.findings_withheld
        if self.credibility_note is not None:
            out["credibility_note"] = self.credibility_note
        if self.skipped_reason is not None:
            out["skipped_reason"] = self.skipped_reason
        return out


def dump_report(report: RunReport) -> str:
    """The stored JSON of a run report (always the current schema)."""
    return json.dumps({"schema": REPORT_SCHEMA, **report.as_json()}, ensure_ascii=False)


def load_report(stored: str | Mapping[str, Any] | None, where: str = "run") -> RunReport:
    """A run report from its stored JSON (or already decoded dict), of any schema.

    Never raises for a readable JSON object: what cannot be read is logged (naming ``where``, e.g.
    ``run 12``) and left out. Raises ValueError only for text that is not JSON at all.
    """
    if stored is None or stored == "":
        return RunReport(schema=1)
    data = json.loads(stored) if isinstance(stored, str) else stored
    if not isinstance(data, Mapping):
        log.warning("%s: run report is not a JSON object (%s); read as empty", where, type(data).__name__)
        return RunReport(schema=1)
    return report_from_counts(data, where)


def report_from_counts(data: Mapping[str, Any], where: str = "run") -> RunReport:
    """A run report from its flat form: a stored row of either schema, or the plain figures of a duty
    without checks (``{"bulletins": 1}``)."""
    rest = dict(data)
    schema = rest.pop("schema", 1)
    report = RunReport(schema=schema if isinstance(schema, int) else 1)
    findings = rest.pop("findings", None)
    if isinstance(findings, int) and not isinstance(findings, bool):
        report.findings = findings
    elif findings is not None:
        log.warning("%s: findings figure %r is not a number; left out", where, findings)
    complete = rest.pop("complete", None)
    if isinstance(complete, bool):
        report.complete = complete
    errors = rest.pop("check_errors", None)
    if isinstance(errors, list):
        report.check_errors = tuple(str(e) for e in errors)
    posts_new = rest.pop("posts_new", None)
    if isinstance(posts_new, int) and not isinstance(posts_new, bool):
        report.posts_new = posts_new
    credibility = rest.pop("credibility", None)
    if credibility is not None:
        report.credibility = NightFigures.from_counts(credibility)
        if report.credibility is None:
            log.warning("%s: sanity-gate figures unreadable; left out: %.200r", where, credibility)
    for key in ("degraded_reason", "credibility_note", "skipped_reason"):
        value = rest.pop(key, None)
        if isinstance(value, str):
            setattr(report, key, value)
    rules = rest.pop("degraded_rules", None)
    if isinstance(rules, list):
        report.degraded_rules = tuple(str(r) for r in rules)
    withheld = rest.pop("findings_withheld", None)
    if isinstance(withheld, int) and not isinstance(withheld, bool):
        report.findings_withheld = withheld
    if any(k in rest for k in _CRAWL_KEYS):
        report.crawl = CrawlFigures(**{k: rest.pop(k) for k in _CRAWL_KEYS if k in rest})
    report.indicators = list(_indicators(rest.pop("indicators", None), where))
    # Schema 1 kept census tables in two places: top-level lists, or a "census" object (hand-recorded).
    census = rest.pop("census", None)
    if census is not None and not isinstance(census, Mapping):
        log.warning("%s: census is not an object (%s); left out", where, type(census).__name__)
        census = None
    report.columns = _census_rows(ColumnCensusRow, "columns", rest, census, where)
    report.accounts = _census_rows(AccountCensusRow, "accounts", rest, census, where)
    report.groups = _groups(rest, where)
    report.figures = rest
    return report


def _groups(rest: dict[str, Any], where: str) -> dict[type[FigureGroup], FigureGroup]:
    """The figure groups among ``rest`` (their keys popped from it). A group whose stored values do not
    have its shape is logged and stays in ``rest`` as it was: nothing read is lost, and it is written
    back unchanged."""
    out: dict[type[FigureGroup], FigureGroup] = {}
    for cls in FIGURE_GROUPS:
        values = {k: rest[k] for k in cls.KEYS if k in rest}
        if not values:
            continue
        group = cls.from_json(values)
        if group is None:
            keys = "/".join(values)
            log.warning("%s: figures %s not of their shape; kept untyped: %.200r", where, keys, values)
            continue
        for k in values:
            del rest[k]
        out[cls] = group
    return out


def _census_rows(
    cls: type[_Row], key: str, rest: dict[str, Any], census: Mapping[str, Any] | None, where: str
) -> list[_Row] | None:
    """The census rows under ``key``: a top-level list (popped from ``rest``), else ``census[key]``."""
    rows = rest.pop(key) if isinstance(rest.get(key), list) else None
    if rows is None and census is not None and key in census:
        rows = census[key]
    if rows is None:
        return None
    if not isinstance(rows, list):
        log.warning("%s: census %s is not a list; left out", where, key)
        return None
    return list(_rows(cls, rows, key, where))


def _indicators(records: Any, where: str) -> Iterable[IndicatorStatus]:
    if records is None:
        return
    if not isinstance(records, list):
        log.warning("%s: indicator records are not a list; left out of the veto table", where)
        return
    for i, record in enumerate(records):
        try:
            yield IndicatorStatus.from_dict(record)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning(
                "%s: indicator record %d unreadable (%s: %s); left out of the veto table: %.200r",
                where,
                i,
                type(exc).__name__,
                exc,
                record,
            )


def _rows(cls: type[_Row], rows: list[Any], key: str, where: str) -> Iterable[_Row]:
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            yield cls.from_dict(row)
        else:
            log.warning("%s: census %s row %d is not an object; left out: %.200r", where, key, i, row)
