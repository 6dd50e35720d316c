"""The store: runs, findings with their lifecycle, and an event per transition.

On SQLite (one file, WAL journal: the embedded default) or PostgreSQL (``storage.url``), through
:mod:`monitor.store.backend`: the SQL here is written once for both. Migrations run at every open.
A run's findings are written in one transaction at the end of the run, so a crash mid-run can never
leave half a result: the run row simply stays ``running`` and is marked ``interrupted`` by the next
process that opens the store (:meth:`Store.recover_interrupted`).

Lifecycle rules (see docs/findings.md):
- seen again → ``last_seen`` moves (an ignored finding stays ignored; a resolved one reopens);
- not seen by a complete, successful (``ok``) run of the same duty and site → ``resolved``;
- a failed, interrupted or degraded run resolves nothing (a degraded run — one the sanity gate,
  ``monitor.crawl.credibility``, judged a maintenance or firewall night — records no finding either);
- a finding on a page read only in part (cut at ``max_response_bytes``) is never resolved.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.config import Storage
from monitor.core.clock import iso
from monitor.core.findings import Finding, FindingStatus, fingerprint, identity_family
from monitor.core.posts import Post
from monitor.core.report import RunReport, dump_report, load_report, report_from_counts
from monitor.store.backend import Backend, StoreMissing, connect
from monitor.store.evidence import evidence_folder, save_images

__all__ = [
    "MIGRATIONS",
    "Probe",
    "Resolution",
    "RunOutcome",
    "Store",
    "StoreMissing",
    "StoreOutdated",
    "open_store",
]

# "skipped": the duty had nothing to do (e.g. no new-media accounts configured) — not a failure, no data.
RUN_STATUSES = ("running", "ok", "failed", "interrupted", "degraded", "skipped")


def _m1_initial(db: Backend) -> None:
    db.execute(
        db.ddl(
            "CREATE TABLE runs (id {pk_id}, duty {text}, site {text}, checks {text}, started_at {text}, "
            "finished_at {text}, status {text}, complete {int}, counts {text}, error {text}, pid {int}, "
            "host {text})"
        )
    )
    db.execute("CREATE INDEX idx_runs_duty_site_started_at ON runs (duty, site, started_at)")
    db.execute(
        db.ddl(
            "CREATE TABLE findings (fingerprint {text} PRIMARY KEY, duty {text} NOT NULL, "
            "kind {text} NOT NULL, severity {text} NOT NULL, site {text} NOT NULL, unit {text}, "
            "identity {text}, url {text}, "
            "source_urls {text}, message {text}, evidence {text}, first_seen {text} NOT NULL, "
            "last_seen {text} NOT NULL, status {text} NOT NULL, resolved_at {text}, ignored_reason {text}, "
            "first_run_id {int}, last_run_id {int}, times_seen {int})"
        )
    )
    db.execute("CREATE INDEX idx_findings_site_duty_status ON findings (site, duty, status)")
    db.execute(
        db.ddl(
            "CREATE TABLE events (id {pk_id}, "
            "fingerprint {text} REFERENCES findings (fingerprint){deferrable}, "
            "run_id {int}, at {text}, event {text}, note {text})"
        )
    )
    db.execute("CREATE INDEX idx_events_fingerprint ON events (fingerprint)")


def _m2_posts(db: Backend) -> None:
    """New-media posts (政务新媒体), one row per account and post id; ``published_ts`` for range queries."""
    db.execute(
        db.ddl(
            "CREATE TABLE IF NOT EXISTS posts (account {text} NOT NULL, post_id {text} NOT NULL, "
            "title {text}, url {text}, published_at {text} NOT NULL, published_ts {int} NOT NULL, "
            "pinned {int}, "
            "original {int}, first_seen {text} NOT NULL, last_seen {text} NOT NULL, "
            "PRIMARY KEY (account, post_id))"
        )
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_posts_account_published_ts ON posts (account, published_ts)")


def _m3_probes(db: Backend) -> None:
    """Availability probes (one row per request) and the debounced up/down state of each target.

    ``target``: the probed URL; ``name``: 首页 / 在线办事 …; ``error``: an ErrorKind value, None when ok;
    ``ip_version``: 0 for dual stack (the system chose, like a browser), 4 or 6 when forced;
    ``monitor_offline``: 1 when the self-check failed too (never counted in a ratio). A target's
    ``state``: up / down / unknown.
    """
    db.execute(
        db.ddl(
            "CREATE TABLE probes (id {pk_id}, site {text} NOT NULL, target {text} NOT NULL, name {text}, "
            "at {text} NOT NULL, ok {int} NOT NULL, status {int}, latency_ms {int}, error {text}, "
            "detail {text}, ip_version {int}, monitor_offline {int} NOT NULL)"
        )
    )
    db.execute("CREATE INDEX idx_probes_site_target_at ON probes (site, target, at)")
    db.execute(
        db.ddl(
            "CREATE TABLE target_state (site {text}, target {text}, state {text}, fail_streak {int}, "
            "ok_streak {int}, since {text}, first_failure_at {text}, last_probe_at {text}, "
            "PRIMARY KEY (site, target))"
        )
    )


def _m4_signatures(db: Backend) -> None:
    """Per-site records kept from run to run (the homepage head signature for defacement checks)."""
    db.execute(
        db.ddl(
            "CREATE TABLE signatures (site {text} NOT NULL, kind {text} NOT NULL, json {text} NOT NULL, "
            "updated_at {text} NOT NULL, PRIMARY KEY (site, kind))"
        )
    )


def _m5_shared_column_identity(db: Backend) -> None:
    """Issue 21: ``units`` findings take the ``columns`` identity (``IDENTITY_FAMILY``). A units finding
    the column audit also has is merged into it (its events move over); the others are renamed."""
    db.defer_foreign_keys()  # events are re-pointed before their finding is renamed
    rows = db.execute("SELECT fingerprint, duty, kind, site, identity FROM findings WHERE duty = 'units'")
    for old, duty, kind, site, identity in rows.fetchall():
        new = fingerprint(duty, kind, site, identity)
        if new == old:
            continue
        db.execute("UPDATE events SET fingerprint = ? WHERE fingerprint = ?", [new, old])
        if db.execute("SELECT 1 FROM findings WHERE fingerprint = ?", [new]).fetchone():
            db.execute("DELETE FROM findings WHERE fingerprint = ?", [old])
        else:
            db.execute("UPDATE findings SET fingerprint = ? WHERE fingerprint = ?", [new, old])


def _m6_monitor_state(db: Backend) -> None:
    """Small records the monitor keeps about itself (the alerts' cursor, the daemon's heartbeat)."""
    db.execute(
        db.ddl(
            "CREATE TABLE IF NOT EXISTS monitor_state (name {text} NOT NULL PRIMARY KEY, "
            "json {text} NOT NULL, updated_at {text} NOT NULL)"
        )
    )


def _m7_triage(db: Backend) -> None:
    """Issue 23, triage and rectification (整改闭环): who did what (``events.actor``, ``events.detail``),
    the unit a finding is assigned to and its 整改时限 (``findings.assigned_unit``, ``findings.deadline``),
    re-check requests (``rechecks``), the console's accounts (``users``), and the indexes of the console's
    lists.

    Plain SQL on purpose (``monitor.store.triage`` documents the queries these indexes serve): standard
    types and ``coalesce``, run on both engines (the engine's words for ``{pk_id}``, ``{text}``…, as in
    every migration). Dates are ISO text (``YYYY-MM-DD``), flags 0/1.
    """
    for statement in M7_STATEMENTS:
        words = statement.split()
        # Re-runnable like m6 (a database whose user_version was wound back): SQLite has no
        # ``ADD COLUMN IF NOT EXISTS``, so an existing column is skipped here.
        if words[:2] == ["ALTER", "TABLE"] and words[5] in db.columns(words[2]):
            continue
        db.execute(db.ddl(statement))


#: Migration 7's statements, in order, with the engine's words (:meth:`Backend.ddl`).
M7_STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE events ADD COLUMN actor {text}",  # who: a console user, the OS user of the CLI; NULL: a run
    "ALTER TABLE events ADD COLUMN detail {text}",  # what an action set: the unit assigned, the new deadline
    "ALTER TABLE findings ADD COLUMN assigned_unit {text}",
    "ALTER TABLE findings ADD COLUMN deadline {text}",
    "CREATE TABLE IF NOT EXISTS rechecks ("
    " id {pk_id},"
    " fingerprint {text} NOT NULL REFERENCES findings (fingerprint){deferrable},"
    " duty {text} NOT NULL,"
    " site {text} NOT NULL,"
    " reason {text} NOT NULL,"
    " requested_at {text} NOT NULL,"
    " requested_by {text} NOT NULL,"
    " state {text} NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " claimed_at {text},"
    " claimed_by {text},"
    " finished_at {text},"
    " run_id {int},"
    " outcome {text},"
    " note {text})",
    "CREATE INDEX IF NOT EXISTS rechecks_state ON rechecks (state, id)",
    "CREATE INDEX IF NOT EXISTS rechecks_fingerprint ON rechecks (fingerprint, state)",
    "CREATE TABLE IF NOT EXISTS users ("
    " username {text} PRIMARY KEY,"
    " role {text} NOT NULL,"
    " unit {text},"
    " password_hash {text} NOT NULL,"
    " created_at {text} NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " last_login_at {text},"
    " password_changed_at {text})",
    # The console's lists filter on status and sort on one column, ties broken by the id: one index per
    # sort, each holding the id too, so a page's sort reads the index alone (no row lookups).
    "CREATE INDEX IF NOT EXISTS findings_status_severity ON findings "
    "(status, severity, last_seen, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_status_first_seen ON findings (status, first_seen, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_status_last_seen ON findings (status, last_seen, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_status_deadline ON findings (status, deadline, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_status_site ON findings (status, site, fingerprint)",
    # These two also serve the overview's counts by kind and severity (all units, or one department's).
    "CREATE INDEX IF NOT EXISTS findings_status_kind ON findings (status, duty, kind, severity, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_status_unit ON findings "
    "(status, coalesce(assigned_unit, unit), duty, kind, severity, fingerprint)",
    "CREATE INDEX IF NOT EXISTS findings_unit_status ON findings (coalesce(assigned_unit, unit), status)",
    # Weekly trends count lifecycle events by time.
    "CREATE INDEX IF NOT EXISTS events_at ON events (at, event)",
)


# Hand-written on purpose: a schema version number is all the bookkeeping we need (SQLite's PRAGMA
# user_version, a one-row table on PostgreSQL), and the packaged alternatives are tied to one engine
# (sqlite-migrate, a beta) or to an ORM (Alembic). Written once in SQL both engines read. Append new
# steps; never edit a released one (databases made by earlier versions were created through sqlite-utils
# with the same tables, columns and index names).
MIGRATIONS: tuple[Callable[[Backend], None], ...] = (
    _m1_initial,
    _m2_posts,
    _m3_probes,
    _m4_signatures,
    _m5_shared_column_identity,
    _m6_monitor_state,
    _m7_triage,
)


class StoreOutdated(Exception):
    """A read-only open found a schema older than this version's (it needs one writable open)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"database schema version {version}, this version needs {len(MIGRATIONS)}")
        self.version = version


@dataclass(frozen=True)
class Resolution:
    """What a successful run may resolve: open findings of ``duties`` on the run's site it did not see.

    ``cleared`` narrows it: a partial crawl resolves only findings whose identity it positively re-checked
    as fixed (``cleared(identity)`` is true); without it, every unseen open finding is resolved.
    ``cleared_for`` narrows it for single duties (a check that could not observe everything this run),
    whatever ``cleared`` says for the others.
    ``partial_pages``: URLs of pages this run read only in part (cut at ``max_response_bytes``); a finding
    on one of them (its URL or one of its source pages) stays open whatever the rest says. With them comes
    ``whole_pages``, the pages read whole: the links in a cut page's unread tail were never followed, so a
    finding resolves only when its URL or one of its source pages was read whole this run.
    """

    duties: tuple[str, ...]
    cleared: Callable[[str], bool] | None = None
    cleared_for: Mapping[str, Callable[[str], bool]] = field(default_factory=dict)
    partial_pages: frozenset[str] = frozenset()
    whole_pages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunOutcome:
    """Counts of what ``finish_run`` changed."""

    new: int = 0
    seen_again: int = 0
    reopened: int = 0
    resolved: int = 0
    ignored_seen: int = 0


class Store:
    """Access to one monitor database. Cheap to open; open one per process (or per thread).

    ``location``: a SQLite file path (the embedded default; ``:memory:`` for a throw-away one) or a
    ``postgresql://`` URL (docs/postgresql.md), opened through :mod:`monitor.store.backend`.
    ``lock_timeout``: how long a writer waits for another process's lock before giving up ("database is
    locked"; the CLI turns that into exit status 3). ``readonly``: open as a reader only
    (:meth:`open_readonly`). ``password``: PostgreSQL's, from the environment (never in the URL).
    ``files``: where the files beside the database live on this machine (the evidence screenshots in
    ``<files>.evidence/``); a SQLite store's own path by default, none for a PostgreSQL store without it.
    """

    def __init__(
        self,
        location: str | Path,
        *,
        lock_timeout: float = 30.0,
        readonly: bool = False,
        password: str | None = None,
        files: Path | None = None,
    ) -> None:
        self.lock_timeout = lock_timeout
        self.readonly = readonly
        #: Runs started through this object and not finished yet (see :meth:`fail_unfinished`).
        self.unfinished: set[int] = set()
        self.backend: Backend = connect(
            location, lock_timeout=lock_timeout, readonly=readonly, password=password
        )
        #: The local path the files beside the database are named after: the SQLite file itself unless
        #: ``files`` says otherwise; ``:memory:`` (no files) for a PostgreSQL store without ``files``.
        if files is not None:
            self.path = files
        elif self.postgresql:
            self.path = Path(":memory:")
        else:
            self.path = Path(location)
        try:
            version = self.backend.schema_version()
            if readonly:
                if version == 0 and self.postgresql:
                    raise StoreMissing(
                        f"no monitor database at {self.backend.location}: nothing recorded yet"
                    )
                if version < len(MIGRATIONS):
                    raise StoreOutdated(version)
                return
            if version != len(MIGRATIONS):  # up to date: no write lock needed just to open
                self._migrate()
        except BaseException:
            self.backend.close()
            raise

    @classmethod
    def open_readonly(
        cls,
        location: str | Path,
        *,
        lock_timeout: float = 30.0,
        password: str | None = None,
        files: Path | None = None,
    ) -> Store:
        """Open for reading only: :class:`StoreMissing` when there is no database (nothing is created).

        A database whose schema is older than this version is upgraded once with a normal open first
        (that takes the write lock, once per upgrade).
        """
        kwargs: dict[str, Any] = {"lock_timeout": lock_timeout, "password": password, "files": files}
        try:
            return cls(location, readonly=True, **kwargs)
        except StoreOutdated:
            cls(location, **kwargs).close()
            return cls(location, readonly=True, **kwargs)

    @property
    def postgresql(self) -> bool:
        """Whether the store is on PostgreSQL."""
        return self.backend.dialect == "postgresql"

    @property
    def location(self) -> str:
        """The database, for messages: its file path, or its URL without a password."""
        return self.backend.location

    @property
    def evidence_dir(self) -> Path | None:
        """Folder of the evidence screenshots (``<database>.evidence/``); None for an in-memory database."""
        return None if str(self.path) == ":memory:" else evidence_folder(self.path)

    def close(self) -> None:
        """Close the connection."""
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------------
    def _migrate(self) -> None:
        db = self.backend
        with db.transaction():
            db.lock("migrate")  # two processes opening a new database at once: one migrates
            version = db.schema_version()
            for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
                step(db)
                db.set_schema_version(number)

    @property
    def schema_version(self) -> int:
        """Number of migrations applied."""
        return self.backend.schema_version()

    def _tx(self) -> Any:
        return self.backend.transaction()

    @contextlib.contextmanager
    def changing_findings(self) -> Iterator[None]:
        """A write transaction that changes findings or records their events (triage's actions): it
        holds the ``findings`` lock, like a run's, so events become visible in id order (PostgreSQL)."""
        with self._tx():
            self.backend.lock("findings")
            yield

    def _insert(self, table: str, values: Mapping[str, Any], returning: str | None = None) -> Any:
        """INSERT one row (column names are the code's own, never input); ``returning``: a column to give
        back (``id``, numbered by the database)."""
        columns = ", ".join(values)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in values)})"
        if returning is None:
            self.backend.execute(sql, list(values.values()))
            return None
        return self.backend.scalar(f"{sql} RETURNING {returning}", list(values.values()))

    def _upsert(self, table: str, rows: Iterable[Mapping[str, Any]], key: Sequence[str]) -> None:
        """Insert rows, or update the given columns of those whose ``key`` is already there."""
        for row in rows:
            names = list(row)
            if not all(n.isidentifier() for n in names):
                raise ValueError(f"bad column name in {names!r}")
            changes = ", ".join(f"{n} = excluded.{n}" for n in names if n not in key)
            action = f"DO UPDATE SET {changes}" if changes else "DO NOTHING"
            self.backend.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
                f"ON CONFLICT ({', '.join(key)}) {action}",
                list(row.values()),
            )

    def _row(self, table: str, key: str, value: Any) -> dict[str, Any]:
        rows = self.backend.query(f"SELECT * FROM {table} WHERE {key} = ?", [value])
        if not rows:
            raise KeyError(f"no {table} row {value!r}")
        return rows[0]

    # -- runs -------------------------------------------------------------------------------------
    def start_run(self, duty: str, site: str, checks: Iterable[str], now: datetime) -> int:
        """Record a run as ``running`` and return its id."""
        with self._tx():
            # Run ids become visible in the order they are handed out (the alerts' cursor reads them as
            # a high-water mark): on PostgreSQL, one numbering at a time.
            self.backend.lock("runs")
            run_id = int(
                self._insert(
                    "runs",
                    {
                        "duty": duty,
                        "site": site,
                        "checks": json.dumps(list(checks)),
                        "started_at": iso(now),
                        "status": "running",
                        "complete": 0,
                        "counts": "{}",
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                    },
                    returning="id",
                )
            )
        self.unfinished.add(run_id)
        return run_id

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        now: datetime,
        findings: Iterable[Finding] = (),
        report: RunReport | None = None,
        counts: Mapping[str, Any] | None = None,
        resolution: Resolution | None = None,
        complete: bool = True,
        error: str | None = None,
    ) -> RunOutcome:
        """Close a run and apply its findings to the lifecycle in one transaction.

        Findings of a failed run are still recorded (they were seen), but nothing is resolved unless the
        run is ``ok``. ``report`` is the run report the runner assembled; a duty without checks (backups,
        the bulletin) gives its plain figures as ``counts`` instead (read as a report's figures).
        """
        if report is None:
            report = report_from_counts(counts or {}, f"run {run_id}")
        if status not in RUN_STATUSES[1:]:
            raise ValueError(f"bad final run status {status!r}")
        stamp = iso(now)
        new = again = reopened = resolved = ignored_seen = 0
        unique: dict[str, Finding] = {}
        for f in findings:
            unique.setdefault(f.fingerprint, f)
        # Screenshots are files beside the database, written before the transaction (no disk I/O while
        # holding the write lock). Content-addressed, so a rolled-back transaction leaves at most a file
        # that the next run names again; a failed write only notes the missing image.
        shots = {fp: save_images(self.evidence_dir, f.images) for fp, f in unique.items() if f.images}
        with self._tx():
            # One writer of findings and events at a time (SQLite's write lock does this by itself): two
            # runs never both open the same finding, and event ids become visible in order (the alerts'
            # cursor reads them as a high-water mark).
            self.backend.lock("findings")
            run = self._row("runs", "id", run_id)
            # Batched: one lookup per 500 fingerprints and one executemany per statement. Row-at-a-time
            # sqlite-utils calls cost ~0.5 ms per finding (bench/store_bench.py), seconds on a big site.
            seen: set[str] = set(unique)
            existing = self._finding_states(list(unique))
            inserts: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            reopens: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            for fp, f in unique.items():
                state = existing.get(fp)
                evidence = f.evidence
                if fp in shots:
                    evidence = {**evidence, "screenshots": shots[fp]}
                elif state is not None and state[2] and "screenshots" not in evidence:
                    # Seen again without a new screenshot (the browser pass was skipped or over budget):
                    # the last screenshots stay the evidence.
                    evidence = {**evidence, "screenshots": json.loads(state[2])}
                common = (
                    f.severity.value,
                    f.unit,
                    f.url,
                    json.dumps(list(f.sources), ensure_ascii=False),
                    f.message,
                    json.dumps(evidence, ensure_ascii=False, default=str),
                    stamp,
                    run_id,
                )
                if state is None:
                    inserts.append(
                        (
                            fp,
                            f.duty,
                            f.kind,
                            f.site,
                            f.identity,
                            stamp,
                            FindingStatus.OPEN.value,
                            run_id,
                            1,
                            *common,
                        )
                    )
                    events.append((fp, run_id, stamp, "opened", None))
                    new += 1
                    continue
                row_status, times_seen, _shots = state
                # One finding, two duties (IDENTITY_FAMILY): the family's own duty (the weekly column
                # audit) takes the row once it sees it, so its next run resolves it when fixed.
                owner = f.duty if identity_family(f.duty) == f.duty else None
                updates.append((*common, (times_seen or 0) + 1, owner, fp))
                if row_status == FindingStatus.RESOLVED.value:
                    reopens.append((FindingStatus.OPEN.value, fp))
                    events.append((fp, run_id, stamp, "reopened", None))
                    reopened += 1
                elif row_status == FindingStatus.IGNORED.value:
                    ignored_seen += 1
                else:
                    again += 1
            conn = self.backend
            conn.executemany(
                "INSERT INTO findings (fingerprint, duty, kind, site, identity, first_seen, status, "
                "first_run_id, times_seen, severity, unit, url, source_urls, message, evidence, last_seen, "
                "last_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
            conn.executemany(
                "UPDATE findings SET severity = ?, unit = ?, url = ?, source_urls = ?, message = ?, "
                "evidence = ?, last_seen = ?, last_run_id = ?, times_seen = ?, duty = coalesce(?, duty) "
                "WHERE fingerprint = ?",
                updates,
            )
            conn.executemany(
                "UPDATE findings SET status = ?, resolved_at = NULL WHERE fingerprint = ?", reopens
            )
            conn.executemany(
                "INSERT INTO events (fingerprint, run_id, at, event, note) VALUES (?, ?, ?, ?, ?)", events
            )
            if status == "ok" and resolution is not None:
                resolved = self._resolve_unseen(run["site"], resolution, seen, run_id, stamp)
            self.backend.execute(
                "UPDATE runs SET status = ?, finished_at = ?, complete = ?, counts = ?, error = ? "
                "WHERE id = ?",
                [status, stamp, int(complete), dump_report(report), error, run_id],
            )
        self.unfinished.discard(run_id)
        return RunOutcome(new, again, reopened, resolved, ignored_seen)

    def _resolve_unseen(
        self, site: str, resolution: Resolution, seen: set[str], run_id: int, stamp: str
    ) -> int:
        marks = ",".join("?" for _ in resolution.duties)
        rows = self.backend.execute(
            "SELECT fingerprint, identity, duty, url, source_urls FROM findings "
            f"WHERE site = ? AND status = 'open' AND duty IN ({marks})",
            [site, *resolution.duties],
        ).fetchall()
        fixed = []
        partial = resolution.partial_pages
        for fp, identity, duty, url, sources in rows:
            if fp in seen:
                continue
            if partial:
                pages = {url, *json.loads(sources or "[]")}
                if not partial.isdisjoint(pages) or resolution.whole_pages.isdisjoint(pages):
                    continue  # its page was read only in part, or not reached: not seeing it proves nothing
            cleared = resolution.cleared_for.get(duty, resolution.cleared)
            if cleared is None or cleared(identity):
                fixed.append(fp)
        conn = self.backend
        conn.executemany(
            "UPDATE findings SET status = ?, resolved_at = ? WHERE fingerprint = ?",
            [(FindingStatus.RESOLVED.value, stamp, fp) for fp in fixed],
        )
        conn.executemany(
            "INSERT INTO events (fingerprint, run_id, at, event, note) VALUES (?, ?, ?, ?, ?)",
            [(fp, run_id, stamp, "resolved", None) for fp in fixed],
        )
        return len(fixed)

    def mark_interrupted(self, run_id: int, now: datetime, reason: str = "interrupted") -> None:
        """Mark a still-running run as interrupted (it resolves nothing and records nothing)."""
        with self._tx():
            self.backend.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? "
                "WHERE id = ? AND status = 'running'",
                [iso(now), reason, run_id],
            )
        self.unfinished.discard(run_id)

    def fail_unfinished(self, now: datetime, error: str) -> list[int]:
        """Record the runs this object started and never finished as ``failed`` with ``error``.

        For a run cut short by the store itself (disk full, the write lock held too long): tried once on
        a fresh connection, briefly. When that fails too (the disk is still full), the runs stay
        ``running`` and the next open by a live process records them as interrupted
        (:meth:`recover_interrupted`). Returns the ids recorded now.
        """
        ids = sorted(self.unfinished)
        if not ids or str(self.backend.location) == ":memory:":
            return []
        try:
            db = self.backend.reopen(min(self.lock_timeout, 2.0))
        except Exception:  # the database cannot be reached at all: the next open recovers the runs
            return []
        try:
            with db.transaction():
                db.executemany(
                    "UPDATE runs SET status = 'failed', finished_at = ?, error = ? "
                    "WHERE id = ? AND status = 'running'",
                    [(iso(now), error, run_id) for run_id in ids],
                )
        except Exception:  # still failing (the disk is still full): the next open recovers them
            return []
        finally:
            db.close()
        self.unfinished.difference_update(ids)
        return ids

    def recover_interrupted(self, now: datetime, *, at_startup: bool = True) -> list[int]:
        """Mark ``running`` runs whose process on this host is gone as interrupted; return their ids.

        At start-up a run carrying our own pid is stale too (a restarted service can get its old pid back).
        Runs recorded by another host are left alone: we cannot tell whether they are alive.
        """
        host = socket.gethostname()
        stale: list[int] = []
        for row in self.backend.query("SELECT id, pid, host FROM runs WHERE status = 'running'"):
            if row["host"] != host:
                continue
            own = row["pid"] == os.getpid()
            if (own and at_startup) or (not own and not _pid_alive(row["pid"] or 0)):
                stale.append(row["id"])
        for run_id in stale:
            self.mark_interrupted(run_id, now, "process ended before the run finished")
        return stale

    @staticmethod
    def process_gone(run: Mapping[str, Any]) -> bool:
        """Whether a ``running`` run's process is known to be gone (same host, pid not alive)."""
        return (
            run.get("status") == "running"
            and run.get("host") == socket.gethostname()
            and not _pid_alive(run.get("pid") or 0)
        )

    def get_run(self, run_id: int) -> dict[str, Any]:
        """One run row with JSON fields decoded."""
        return _decode_run(self._row("runs", "id", run_id))

    def run_report(self, run_id: int) -> RunReport:
        """One run's typed report (:func:`monitor.core.report.load_report`: rows of every version)."""
        return _decode_run(self._row("runs", "id", run_id), with_report=True)["report"]

    def runs(self, duty: str | None = None, site: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Most recent runs first."""
        where, args = _where({"duty": duty, "site": site})
        rows = self.backend.query(f"SELECT id FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit])
        return [self.get_run(r["id"]) for r in rows]

    def last_success(self, duty: str) -> datetime | None:
        """Start time of the latest ``ok`` (or ``skipped``: nothing to do) run of a duty (any site).

        None when it never succeeded.
        """
        rows = self.backend.execute(
            "SELECT started_at FROM runs WHERE duty = ? AND status IN ('ok', 'skipped')", [duty]
        )
        times = [datetime.fromisoformat(r[0]) for r in rows.fetchall() if r[0]]
        return max(times) if times else None

    def latest_runs(self) -> list[dict[str, Any]]:
        """The latest finished run of every (duty, site), by duty then site."""
        rows = self.backend.query(
            "SELECT max(id) AS id FROM runs WHERE status != 'running' GROUP BY duty, site ORDER BY duty, site"
        )
        return [self.get_run(r["id"]) for r in rows]

    # -- pruning (monitor prune) ----------------------------------------------------------------------
    def prune_details(self, cutoff: datetime, *, dry_run: bool = False) -> dict[str, int]:
        """Forget the details of history older than ``cutoff``: the counts (figures, per-page tallies) of
        runs started before it — except each duty's and site's latest run, which ``monitor status``
        shows — and availability probes taken before it. Findings, their events and the runs' rows
        (status, times) stay, so no finding changes state and every event keeps its run."""
        # Stamps carry their offset; a day of margin keeps the string comparison on the safe side.
        margin = iso(cutoff - timedelta(days=1))
        runs_sql = (
            "FROM runs WHERE started_at < ? AND counts IS NOT NULL AND counts != '{}' "
            "AND status != 'running' "
            "AND id NOT IN (SELECT max(id) FROM runs WHERE status != 'running' GROUP BY duty, site)"
        )
        runs = int(self.backend.execute(f"SELECT count(*) {runs_sql}", [margin]).fetchone()[0])
        probes = int(self.backend.execute("SELECT count(*) FROM probes WHERE at < ?", [margin]).fetchone()[0])
        if not dry_run:
            with self._tx():
                self.backend.execute(
                    f"UPDATE runs SET counts = '{{}}' WHERE id IN (SELECT id {runs_sql})", [margin]
                )
                self.backend.execute("DELETE FROM probes WHERE at < ?", [margin])
        return {"runs": runs, "probes": probes}

    def screenshots_in_use(self) -> set[str]:
        """Evidence file names referenced by open findings (their screenshots must never be pruned)."""
        names: set[str] = set()
        rows = self.backend.execute(
            "SELECT evidence FROM findings WHERE status = 'open' AND evidence LIKE '%\"screenshots\"%'"
        )
        for (evidence,) in rows.fetchall():
            for shot in _screenshots(evidence) or ():
                name = shot.get("file") if isinstance(shot, dict) else shot
                if isinstance(name, str):
                    names.add(name)
        return names

    def running_runs(self) -> list[dict[str, Any]]:
        """Runs in progress (as far as the store knows), oldest first."""
        return [
            self.get_run(r["id"]) for r in self.backend.query("SELECT id FROM runs WHERE status = 'running'")
        ]

    # -- findings ---------------------------------------------------------------------------------
    def _finding_states(self, fingerprints: list[str]) -> dict[str, tuple[str, int | None, str | None]]:
        """``fingerprint -> (status, times_seen, screenshots JSON or None)`` of the findings already stored,
        in chunks of 500 (``LIKE`` first: only evidence that has screenshots is parsed)."""
        out: dict[str, tuple[str, int | None, str | None]] = {}
        for i in range(0, len(fingerprints), 500):
            chunk = fingerprints[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            for fp, status, times_seen, evidence in self.backend.execute(
                "SELECT fingerprint, status, times_seen, CASE WHEN evidence LIKE '%\"screenshots\"%' "
                f"THEN evidence END FROM findings WHERE fingerprint IN ({marks})",
                chunk,
            ).fetchall():
                shots = _screenshots(evidence)
                out[fp] = (
                    status,
                    times_seen,
                    None if shots is None else json.dumps(shots, ensure_ascii=False),
                )
        return out

    def _event(self, fp: str, run_id: int | None, stamp: str, event: str, note: str | None = None) -> None:
        self._insert(
            "events", {"fingerprint": fp, "run_id": run_id, "at": stamp, "event": event, "note": note}
        )

    def finding(self, fp: str) -> dict[str, Any] | None:
        """One finding with JSON fields decoded, or None. Accepts a unique fingerprint prefix."""
        # Fingerprints are lower-case hex: a prefix typed in capitals finds them on either engine.
        rows = self.backend.query(
            "SELECT * FROM findings WHERE fingerprint LIKE ? LIMIT 2", [fp.lower() + "%"]
        )
        if len(rows) != 1:
            return None
        return _decode_finding(rows[0])

    def findings(
        self,
        *,
        duty: str | None = None,
        status: str | None = None,
        site: str | None = None,
        severity: str | None = None,
        kind: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Findings matching every given filter, most serious and newest first."""
        where, args = _where(
            {"duty": duty, "status": status, "site": site, "severity": severity, "kind": kind}
        )
        order = (
            "CASE severity WHEN 'veto' THEN 0 WHEN 'deduction' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END, "
            "first_seen DESC, url"
        )
        for row in self.backend.query(f"SELECT * FROM findings {where} ORDER BY {order}", args):
            yield _decode_finding(row)

    def events(self, fp: str) -> list[dict[str, Any]]:
        """Transitions of one finding, oldest first."""
        return list(self.backend.query("SELECT * FROM events WHERE fingerprint = ? ORDER BY id", [fp]))

    def ignore(self, fp: str, reason: str, now: datetime) -> dict[str, Any]:
        """Mark a finding as a false positive (误报): it stays ignored when seen again."""
        row = self.finding(fp)
        if row is None:
            raise KeyError(fp)
        with self._tx():
            self.backend.lock("findings")
            self.backend.execute(
                "UPDATE findings SET status = ?, ignored_reason = ? WHERE fingerprint = ?",
                [FindingStatus.IGNORED.value, reason, row["fingerprint"]],
            )
            self._event(row["fingerprint"], None, iso(now), "ignored", reason)
        return self.finding(row["fingerprint"]) or row

    def unignore(self, fp: str, reason: str, now: datetime) -> dict[str, Any]:
        """Undo ``ignore``: the finding is open again (the next run resolves it if the problem is gone);
        recorded as an ``unignored`` event with the reason."""
        row = self.finding(fp)
        if row is None:
            raise KeyError(fp)
        if row["status"] != FindingStatus.IGNORED.value:
            raise ValueError(f"finding {row['fingerprint']} is {row['status']}, not ignored")
        with self._tx():
            self.backend.lock("findings")
            self.backend.execute(
                "UPDATE findings SET status = ?, ignored_reason = NULL WHERE fingerprint = ?",
                [FindingStatus.OPEN.value, row["fingerprint"]],
            )
            self._event(row["fingerprint"], None, iso(now), "unignored", reason)
        return self.finding(row["fingerprint"]) or row

    def fingerprints_starting(self, prefix: str, limit: int = 6) -> list[str]:
        """Fingerprints that start with ``prefix`` (at most ``limit``), to tell a unique id from an
        ambiguous one."""
        rows = self.backend.execute(
            "SELECT fingerprint FROM findings WHERE substr(fingerprint, 1, ?) = ? "
            "ORDER BY fingerprint LIMIT ?",
            [len(prefix), prefix, limit],
        )
        return [r[0] for r in rows.fetchall()]

    def count_open(self, site: str | None = None, duties: Iterable[str] | None = None) -> int:
        """Open findings, optionally for one site and some duties."""
        sql, args = "SELECT count(*) FROM findings WHERE status = 'open'", []
        if site is not None:
            sql += " AND site = ?"
            args.append(site)
        if duties is not None:
            duties = list(duties)
            sql += f" AND duty IN ({','.join('?' for _ in duties)})"
            args.extend(duties)
        return int(self.backend.execute(sql, args).fetchone()[0])

    # -- new-media posts ---------------------------------------------------------------------------
    def save_posts(self, posts: Iterable[Post], now: datetime) -> int:
        """Insert or refresh posts (keyed by account + post id); ``first_seen`` never moves.

        Returns how many were new.
        """
        stamp = iso(now)
        new = 0
        posts = list(posts)
        with self._tx():
            # Two processes saving one account's posts: the second waits, then updates what the first
            # inserted (in a fixed order: no deadlock).
            for account in sorted({p.account for p in posts}):
                self.backend.lock(f"posts:{account}")
            for p in posts:
                values = {
                    "title": p.title,
                    "url": p.url,
                    "published_at": iso(p.published_at),
                    "published_ts": int(p.published_at.timestamp()),
                    "pinned": int(p.pinned),
                    "original": None if p.original is None else int(p.original),
                    "last_seen": stamp,
                }
                cur = self.backend.execute(
                    "UPDATE posts SET title = ?, url = ?, published_at = ?, published_ts = ?, pinned = ?, "
                    "original = ?, last_seen = ? WHERE account = ? AND post_id = ?",
                    [*values.values(), p.account, p.post_id],
                )
                if cur.rowcount == 0:
                    self._insert(
                        "posts", {"account": p.account, "post_id": p.post_id, "first_seen": stamp, **values}
                    )
                    new += 1
        return new

    def posts(self, account: str, since: datetime | None = None, until: datetime | None = None) -> list[Post]:
        """Stored posts of one account published in ``[since, until)``, newest first."""
        sql = "SELECT * FROM posts WHERE account = ?"
        args: list[str | int] = [account]
        if since is not None:
            sql += " AND published_ts >= ?"
            args.append(int(since.timestamp()))
        if until is not None:
            sql += " AND published_ts < ?"
            args.append(int(until.timestamp()))
        rows = self.backend.query(sql + " ORDER BY published_ts DESC, post_id", args)
        return [_post(row) for row in rows]

    def count_posts(self, account: str, since: datetime, until: datetime) -> int:
        """How many stored posts of one account were published in ``[since, until)``."""
        row = self.backend.execute(
            "SELECT count(*) FROM posts WHERE account = ? AND published_ts >= ? AND published_ts < ?",
            [account, int(since.timestamp()), int(until.timestamp())],
        ).fetchone()
        return int(row[0])

    def posts_since(self, accounts: Iterable[str], since: datetime) -> dict[str, list[Post]]:
        """Stored posts published since ``since`` for several accounts (newest first per account)."""
        return {a: self.posts(a, since) for a in accounts}

    # -- availability probes ----------------------------------------------------------------------
    def add_probes(self, probes: Iterable[Probe]) -> None:
        """Store probes in one transaction."""
        with self._tx():
            self.backend.executemany(
                "INSERT INTO probes (site, target, name, at, ok, status, latency_ms, error, detail, "
                "ip_version, monitor_offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        p.site,
                        p.target,
                        p.name,
                        iso(p.at),
                        int(p.ok),
                        p.status,
                        p.latency_ms,
                        p.error,
                        p.detail,
                        p.ip_version,
                        int(p.monitor_offline),
                    )
                    for p in probes
                ),
            )

    def probes(
        self,
        site: str,
        target: str | None = None,
        *,
        since: datetime | None = None,
        ip_version: int | None = None,
        limit: int | None = None,
    ) -> list[Probe]:
        """Probes of a site (one target, newer than ``since``, one IP version), newest first."""
        sql = "SELECT * FROM probes WHERE site = ?"
        args: list[str | int] = [site]
        if target is not None:
            sql += " AND target = ?"
            args.append(target)
        if since is not None:
            sql += " AND at > ?"
            args.append(iso(since))
        if ip_version is not None:
            sql += " AND ip_version = ?"
            args.append(ip_version)
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_probe(row) for row in self.backend.query(sql, args)]

    def target_state(self, site: str, target: str) -> dict[str, Any] | None:
        """The stored up/down state of one target, or None before its first probe."""
        rows = list(
            self.backend.query("SELECT * FROM target_state WHERE site = ? AND target = ?", [site, target])
        )
        return rows[0] if rows else None

    def save_target_state(self, row: dict[str, Any]) -> None:
        """Insert or replace one target's state (keys as in the ``target_state`` table)."""
        self.save_target_states([row])

    def save_target_states(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert or replace targets' states in one transaction (the runner, when a run succeeds)."""
        with self._tx():
            self._upsert("target_state", rows, ("site", "target"))

    # -- signatures -------------------------------------------------------------------------------
    def signatures(self, site: str) -> dict[str, Any]:
        """Every record kept for a site, by kind (JSON decoded)."""
        rows = self.backend.execute("SELECT kind, json FROM signatures WHERE site = ?", [site]).fetchall()
        return {kind: json.loads(data) for kind, data in rows}

    def put_signatures(self, site: str, records: Mapping[str, Any], now: datetime) -> None:
        """Replace the records of some kinds for a site, in one transaction."""
        if not records:
            return
        with self._tx():
            self._upsert(
                "signatures",
                [
                    {
                        "site": site,
                        "kind": kind,
                        "json": json.dumps(data, ensure_ascii=False, default=str),
                        "updated_at": iso(now),
                    }
                    for kind, data in records.items()
                ],
                ("site", "kind"),
            )

    # -- the monitor's own records --------------------------------------------------------------------
    def get_state(self, name: str) -> Any:
        """A record the monitor keeps about itself (JSON decoded), or None."""
        row = self.backend.execute("SELECT json FROM monitor_state WHERE name = ?", [name]).fetchone()
        return json.loads(row[0]) if row else None

    def put_state(self, name: str, value: Any, now: datetime) -> None:
        """Insert or replace one of the monitor's records."""
        with self._tx():
            self.backend.execute(
                "INSERT INTO monitor_state (name, json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
                [name, json.dumps(value, ensure_ascii=False, default=str), iso(now)],
            )

    def events_after(self, event_id: int, events: Iterable[str]) -> list[dict[str, Any]]:
        """Finding transitions recorded after ``event_id`` (oldest first), each with its finding's row
        (JSON decoded) under ``finding``."""
        kinds = list(events)
        marks = ",".join("?" for _ in kinds)
        rows = self.backend.query(
            "SELECT e.id AS event_id, e.run_id, e.at, e.event, f.* FROM events e "
            "JOIN findings f ON f.fingerprint = e.fingerprint "
            f"WHERE e.id > ? AND e.event IN ({marks}) ORDER BY e.id",
            [event_id, *kinds],
        )
        out = []
        for row in rows:
            row = dict(row)
            event = {k: row.pop(k) for k in ("event_id", "run_id", "at", "event")}
            event["finding"] = _decode_finding(row)
            out.append(event)
        return out

    def last_event_id(self) -> int:
        """The newest finding transition's id (0 without any)."""
        return int(self.backend.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

    def last_run_id(self) -> int:
        """The newest run's id (0 without any)."""
        return int(self.backend.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])

    # -- what the alerts and the run summary read ---------------------------------------------------------
    def running_run_ids(self) -> list[int]:
        """Ids of the runs recorded as ``running``."""
        return [int(r[0]) for r in self.backend.execute("SELECT id FROM runs WHERE status = 'running'")]

    def previous_event_at(self, fingerprint: str, event: str, before_event: int) -> str | None:
        """When the finding's last ``event`` before event id ``before_event`` happened (its stamp)."""
        return self.backend.scalar(
            "SELECT at FROM events WHERE fingerprint = ? AND event = ? AND id < ? ORDER BY id DESC LIMIT 1",
            [fingerprint, event, before_event],
        )

    def finished_pairs(self, after: int, upto: int, also: Iterable[int] = ()) -> list[tuple[str, str]]:
        """``(duty, site)`` of the finished runs with an id in ``(after, upto]`` or in ``also``."""
        ids = list(also)
        rows = self.backend.execute(
            "SELECT DISTINCT duty, site FROM runs WHERE status != 'running' "
            f"AND ((id > ? AND id <= ?) OR id IN ({','.join('?' for _ in ids) or 'NULL'}))",
            [after, upto, *ids],
        ).fetchall()
        return [(str(d), str(s)) for d, s in rows]

    def failing_streak(
        self, duty: str, site: str, failing: Sequence[str]
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]] | None:
        """The latest finished run of a duty on a site ``(id, status, started_at, finished_at)``, and the
        streak of ``failing`` runs ``(id, status, started_at, finished_at, error)`` that ends with it (or,
        when it did its job, just before it): every one since the last run that did its job, oldest
        first. None before the first finished run."""
        latest = self.backend.execute(
            "SELECT id, status, started_at, finished_at FROM runs WHERE duty = ? AND site = ? "
            "AND status NOT IN ('running', 'interrupted') ORDER BY id DESC LIMIT 1",
            [duty, site],
        ).fetchone()
        if latest is None:
            return None
        marks = ",".join("?" for _ in failing)
        upper = latest[0] if latest[1] not in failing else latest[0] + 1
        before = self.backend.scalar(
            "SELECT coalesce(max(id), 0) FROM runs WHERE duty = ? AND site = ? AND id < ? "
            f"AND status NOT IN ('running', 'interrupted', {marks})",
            [duty, site, upper, *failing],
        )
        streak = self.backend.execute(
            "SELECT id, status, started_at, finished_at, error FROM runs WHERE duty = ? AND site = ? "
            f"AND status IN ({marks}) AND id > ? AND id < ? ORDER BY id",
            [duty, site, *failing, before, upper],
        ).fetchall()
        return tuple(latest), [tuple(r) for r in streak]

    def run_findings(self, run_id: int) -> list[tuple[str, int | None, str]]:
        """``(fingerprint, first_run_id, status)`` of the findings a run saw last."""
        rows = self.backend.execute(
            "SELECT fingerprint, first_run_id, status FROM findings WHERE last_run_id = ?", [run_id]
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def run_events(self, run_id: int, event: str) -> set[str]:
        """Fingerprints of the findings that had ``event`` in a run."""
        rows = self.backend.execute(
            "SELECT fingerprint FROM events WHERE run_id = ? AND event = ?", [run_id, event]
        ).fetchall()
        return {r[0] for r in rows}

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """One process at a time, on every machine that shares the database, does the block's work
        (PostgreSQL: a session advisory lock). On SQLite nothing is taken: one machine, whose own files
        (the outbox's keys) keep the work safe."""
        with self.backend.exclusive(name):
            yield

    def quick_check(self) -> str:
        """``ok``, or what is wrong with the database (SQLite: ``PRAGMA quick_check``)."""
        return self.backend.quick_check()

    # -- reading history (the weekly bulletin) ---------------------------------------------------------
    def runs_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Finished runs (not ``running``) started in ``[start, end)``, oldest first, JSON decoded, each
        with its typed ``report``."""
        # Stored stamps carry their offset; compare as instants. The SQL range is only a coarse,
        # index-friendly prefilter (one day of margin covers any offset), the exact test is in Python.
        rows = self.backend.query(
            "SELECT * FROM runs WHERE started_at >= ? AND started_at < ? AND status != 'running' ORDER BY id",
            [iso(start - timedelta(days=1)), iso(end + timedelta(days=1))],
        )
        out = []
        for row in rows:
            if start <= datetime.fromisoformat(row["started_at"]) < end:
                out.append(_decode_run(dict(row), with_report=True))
        return out

    def history_since(self, since: datetime) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, str]]]]:
        """Findings that may have been open at or after ``since``, and their events ``(at, event)``.

        Ignored findings (误报) are left out entirely: a false positive never belongs in a bulletin.
        """
        margin = iso(since - timedelta(days=1))
        where = "{t}status = 'open' OR ({t}status = 'resolved' AND {t}resolved_at >= ?)"
        findings = [
            _decode_finding(r)
            for r in self.backend.query(f"SELECT * FROM findings WHERE {where.format(t='')}", [margin])
        ]
        events: dict[str, list[tuple[str, str]]] = {}
        for fp, at, event in self.backend.execute(
            "SELECT e.fingerprint, e.at, e.event FROM events e "
            f"JOIN findings f ON f.fingerprint = e.fingerprint WHERE {where.format(t='f.')} ORDER BY e.id",
            [margin],
        ):
            events.setdefault(fp, []).append((at, event))
        return findings, events

    def open_by_severity(self) -> dict[str, int]:
        """Open findings counted per severity value."""
        rows = self.backend.execute(
            "SELECT severity, count(*) FROM findings WHERE status = 'open' GROUP BY severity"
        )
        return {severity: int(n) for severity, n in rows.fetchall()}

    def integrity_ok(self) -> bool:
        """The database's integrity check says ok (SQLite: ``PRAGMA integrity_check``)."""
        return self.backend.integrity_check() == "ok"


@dataclass(frozen=True)
class Probe:
    """One availability probe of one target (see the ``probes`` table)."""

    site: str
    target: str
    name: str
    at: datetime
    ok: bool
    status: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    detail: str = ""
    ip_version: int = 0
    monitor_offline: bool = False


def _probe(row: dict[str, Any]) -> Probe:
    return Probe(
        site=row["site"],
        target=row["target"],
        name=row["name"] or "",
        at=datetime.fromisoformat(row["at"]),
        ok=bool(row["ok"]),
        status=row["status"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        detail=row["detail"] or "",
        ip_version=row["ip_version"],
        monitor_offline=bool(row["monitor_offline"]),
    )


def _where(filters: dict[str, str | None]) -> tuple[str, list[str]]:
    parts = [(k, v) for k, v in filters.items() if v is not None]
    if not parts:
        return "", []
    return "WHERE " + " AND ".join(f"{k} = ?" for k, _ in parts), [v for _, v in parts]


def _screenshots(evidence: str | None) -> Any:
    """The ``screenshots`` entry of a finding's evidence JSON (None without one)."""
    if not evidence:
        return None
    try:
        data = json.loads(evidence)
    except ValueError:
        return None
    return data.get("screenshots") if isinstance(data, dict) else None


def _decode_finding(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["source_urls"] = json.loads(row["source_urls"] or "[]")
    row["evidence"] = json.loads(row["evidence"] or "{}")
    return row


def _post(row: dict[str, Any]) -> Post:
    return Post(
        account=row["account"],
        post_id=row["post_id"],
        title=row["title"] or "",
        url=row["url"] or "",
        published_at=datetime.fromisoformat(row["published_at"]),
        pinned=bool(row["pinned"]),
        original=None if row["original"] is None else bool(row["original"]),
    )


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _decode_run(row: dict[str, Any], *, with_report: bool = False) -> dict[str, Any]:
    """A run row with its JSON fields decoded: ``checks`` and ``counts`` (the stored run report as a plain
    dict without its schema version, for display: ``monitor status --json``), so the row stays JSON-able;
    ``with_report`` adds ``report``, the typed :class:`~monitor.core.report.RunReport` (read from any
    schema)."""
    row["checks"] = json.loads(row["checks"] or "[]")
    stored = json.loads(row["counts"] or "{}")
    if with_report:
        row["report"] = load_report(stored, f"run {row['id']}")
    row["counts"] = {k: v for k, v in stored.items() if k != "schema"} if isinstance(stored, dict) else {}
    return row


def open_store(
    storage: Storage,
    database: Path,
    *,
    readonly: bool = False,
    env: Mapping[str, str] | None = None,
) -> Store:
    """The configured store: PostgreSQL at ``storage.url`` (its password from ``storage.password_env``),
    else the SQLite file ``database``. With a URL, ``database`` names the files kept beside the database
    on this machine (the evidence screenshots). ``readonly``: :meth:`Store.open_readonly`."""
    location: str | Path = database
    password = None
    files = None
    if storage.url:
        location, password, files = storage.url, storage.password(env), database
    opener = Store.open_readonly if readonly else Store
    return opener(location, lock_timeout=storage.lock_timeout_seconds, password=password, files=files)
