"""The ``monitor`` command: a thin click layer over the same functions the daemon calls.

Exit status (README, "Exit status"): 0 no open findings, 1 open findings, 2 usage or configuration error
(also: no database yet for a read-only command), 3 a run or the command failed (the site could not be
reached, the disk is full, the database is locked by another process for longer than
``storage.lock_timeout_seconds``, or an internal error), 4 busy: the duty is already running (its lock is
held by the daemon or another ``monitor run``), or another daemon already uses the database; 130
interrupted (Ctrl-C). Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import asyncio
import errno
import io
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click
import psycopg

from checks import SITE_CHECKS
from monitor import __version__
from monitor.app.lang import LANGS, parse_severity, resolve_lang, set_lang, t
from monitor.app.locks import Busy, DutyLock
from monitor.app.summary import print_run_summary, run_marks
from monitor.app.tables import print_findings, print_proofread
from monitor.config import DEFAULT_CONFIG_NAME, Config, ConfigError, WordListFile, load_config
from monitor.core.clock import Clock, clock_from_env
from monitor.core.findings import Severity
from monitor.core.textsafe import inert, inert_json
from monitor.crawl.progress import LogProgress, Progress, RichProgress
from monitor.runner import DutyError, SiteRunResult, crawl_duties, run_duty
from monitor.store.database import Store, StoreMissing, open_store

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED, EXIT_BUSY = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
log = logging.getLogger("monitor")


class AppContext:
    """Global options, resolved lazily so that ``--help`` never needs a config file."""

    def __init__(
        self, config_path: str | None, db_path: str | None, verbose: int, quiet: bool, debug: bool = False
    ) -> None:
        self.config_path = config_path
        self.db_path = db_path
        self.verbose = verbose
        self.quiet = quiet
        self.debug = debug
        self._config: Config | None = None
        #: Run id → fingerprint → new/open/reopened/ignored, for the last ``execute_duty``.
        self.marks: dict[int, dict[str, str]] = {}

    @property
    def config(self) -> Config:
        """The validated config (exits 2 with the key path on error)."""
        if self._config is None:
            self._config = self.load()
        return self._config

    def load(self) -> Config:
        """Load ``--config``, or ./config.yaml when present, or an empty config."""
        path = self.config_path
        if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
            path = DEFAULT_CONFIG_NAME
        if path is None:
            return Config()
        try:
            config = load_config(path)
        except ConfigError as exc:
            fail_usage(str(exc))
            raise  # unreachable
        if self.db_path and config.storage.url:
            # --db names a SQLite file on the command line: it wins over storage.url ($MONITOR_DB, which
            # the service unit always sets, only moves the files kept beside the database).
            config = config.model_copy(update={"storage": config.storage.model_copy(update={"url": None})})
        return config

    @property
    def database(self) -> Path:
        """``--db``, then ``MONITOR_DB``, then the config's storage path: the SQLite file, or with
        ``storage.url`` the local path the files beside the database are named after."""
        chosen = self.db_path or os.environ.get("MONITOR_DB")
        return Path(chosen) if chosen else self.config.database_path

    @property
    def on_postgresql(self) -> bool:
        """Whether the store is on PostgreSQL (``storage.url``, no ``--db``)."""
        return bool(self.config.storage.url)

    @property
    def database_label(self) -> str:
        """The database for messages: the SQLite path, or the PostgreSQL URL (it never holds a password)."""
        return self.config.storage.url or str(self.database)

    def store(self) -> Store:
        """Open the store (migrations run) and mark runs of dead processes as interrupted."""
        store = open_store(self.config.storage, self.database)
        try:
            store.recover_interrupted(self.clock().now())
        except BaseException:
            store.close()
            raise
        return store

    def reader(self) -> Store:
        """Open the store read-only (never waits for a writer, never creates anything); exit 2 when there
        is no database yet."""
        try:
            return open_store(self.config.storage, self.database, readonly=True)
        except StoreMissing:
            fail_usage(
                f"no database at {self.database_label}: nothing has been recorded yet (a `monitor run …` or "
                "the daemon creates it), or --db / $MONITOR_DB / storage.database / storage.url points "
                "elsewhere"
            )
            raise  # unreachable

    def clock(self) -> Clock:
        """The run's clock in the configured zone (``MONITOR_NOW`` pins it)."""
        return clock_from_env(self.config.tz)

    def progress_factory(self) -> Callable[[], Progress]:
        """Live progress on a terminal, plain log lines otherwise."""
        if self.quiet:
            return Progress
        if sys.stderr.isatty():
            return RichProgress
        return LogProgress


def fail_usage(message: str) -> NoReturn:
    """Print an error and exit with status 2."""
    click.echo(f"error: {inert(message)}", err=True)  # may quote a URL or text given on the command line
    raise SystemExit(EXIT_USAGE)


def error_reason(exc: BaseException, database: Path | str | None = None) -> tuple[int, str]:
    """The exit status and the one-line reason for an error that ended a command.

    A full disk and a database locked past ``storage.lock_timeout_seconds`` are failures of the command
    (3), not findings; anything unforeseen is too, and says how to see the traceback.
    """
    where = f" {database}" if database is not None else ""
    if isinstance(exc, ConfigError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, sqlite3.Error):
        text = str(exc)
        if "locked" in text or "busy" in text:
            return EXIT_FAILED, (
                f"database{where} is locked: another process held its write lock for longer than "
                "storage.lock_timeout_seconds; try again when it has finished"
            )
        if "full" in text:
            return EXIT_FAILED, f"disk full: cannot write the database{where} ({text})"
        return EXIT_FAILED, f"database{where}: {text}"
    if isinstance(exc, psycopg.Error):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return EXIT_FAILED, (
                f"database{where} is locked: another process held a lock for longer than "
                "storage.lock_timeout_seconds; try again when it has finished"
            )
        if isinstance(exc, psycopg.errors.DiskFull):
            return EXIT_FAILED, f"disk full on the database server{where} ({text})"
        if isinstance(exc, psycopg.OperationalError):
            return EXIT_FAILED, f"cannot reach the database{where}: {text}"
        return EXIT_FAILED, f"database{where}: {text}"
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return EXIT_FAILED, f"disk full: cannot write{name} ({exc.strerror or 'no space left'})"
        return EXIT_FAILED, f"{exc.strerror or exc}{':' + name if name else ''}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return EXIT_FAILED, f"internal error: {type(exc).__name__}{': ' + text if text else ''}"


class MonitorGroup(click.Group):
    """The top-level group: an error no command handled becomes one line and a documented exit status.

    A user never sees a traceback (``--debug`` prints it; with ``-v`` it is logged at DEBUG).
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map what escapes it to an exit status."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            # click would turn it into "Aborted!" and status 1, which means "open findings".
            click.echo("interrupted", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            app = ctx.obj if isinstance(ctx.obj, AppContext) else None
            database: str | None = None
            if app is not None:
                try:
                    database = app.database_label
                except (SystemExit, Exception):
                    database = None
            code, reason = error_reason(exc, database)
            if app is not None and app.debug:
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
            else:
                log.debug("traceback of the error", exc_info=exc)
            click.echo(f"error: {inert(reason)}", err=True)
            raise SystemExit(code) from None


def setup_logging(verbose: int, quiet: bool, debug: bool = False) -> None:
    """Log lines go to stderr with their level (journald keeps them as they are).

    A logged exception is one line (its type and message) unless ``-v``/``--debug``: tracebacks are for
    whoever debugs, not for the operator reading the night's log.
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        SafeFormatter("%(levelname)s %(name)s: %(message)s", tracebacks=bool(verbose or debug))
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


class SafeFormatter(logging.Formatter):
    """Escapes control characters so crawled text can never forge log lines or terminal output.

    A message is one line: a newline in it (from a crawled title or URL) is escaped too, so nothing can
    start a line that looks like the monitor's own. A traceback keeps its lines, each made inert.
    Without ``tracebacks`` a record's exception is summarised on its line (``…: OSError: disk full``).
    """

    def __init__(self, fmt: str, *, tracebacks: bool = True) -> None:
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        """Format; every part is made inert by the methods below."""
        if record.exc_info and not self.tracebacks:
            exc = record.exc_info[1]
            record = logging.makeLogRecord(
                {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
            )
            if exc is not None:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                record.msg = f"{record.getMessage()}: {type(exc).__name__}{': ' + first if first else ''}"
                record.args = None
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line for the record's message, inert and on one line."""
        return inert(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        """The traceback, line by line inert."""
        return inert(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        """The stack, line by line inert."""
        return inert(super().formatStack(stack_info), keep_newlines=True)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Config file (default: ./config.yaml)."
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="SQLite database (default: $MONITOR_DB, then config).",
)
@click.option("-v", "--verbose", count=True, help="More log output.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors; no progress display.")
@click.option("--debug", is_flag=True, help="On an error, print the full traceback.")
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    help="Language of summaries and tables (default: zh; en with MONITOR_LANG=en or an English LANG).",
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def main(
    ctx: click.Context,
    config_path: str | None,
    db_path: str | None,
    verbose: int,
    quiet: bool,
    debug: bool,
    lang: str | None,
) -> None:
    """Monitor government websites and new-media accounts (政府网站与政务新媒体监测).

    \b
    Exit status: 0 no open findings, 1 open findings, 2 usage or configuration
    error (or no database yet for a read-only command), 3 a run or the command
    failed (site unreachable, disk full, database locked, internal error),
    4 the duty or the daemon is already running, 130 interrupted.
    """
    setup_logging(verbose, quiet, debug)
    set_lang(resolve_lang(lang))
    ctx.obj = AppContext(config_path, db_path, verbose, quiet, debug)


@main.command("check-config")
@click.pass_obj
def check_config(app: AppContext) -> None:
    """Validate the config file and print a short summary."""
    path = app.config_path or DEFAULT_CONFIG_NAME
    if not Path(path).is_file():
        fail_usage(f"config file not found: {path}")
    config = app.config
    click.echo(f"{path}: OK")
    click.echo(f"  time zone: {config.timezone}")
    click.echo(f"  database:  {app.database_label}")
    click.echo(f"  reports:   {config.reports_path}")
    smtp = config.bulletin.smtp
    if smtp.username:
        have = "set" if smtp.password_env and os.environ.get(smtp.password_env) is not None else "NOT SET"
        auth = f"login {smtp.username}, password from ${smtp.password_env} ({have} here)"
    else:
        auth = "no authentication (bulletin.smtp.username is empty)"
    click.echo(f"  mail:      {smtp.host}:{smtp.port} {smtp.security}, {auth}")
    click.echo(f"  sites:     {len(config.sites)}")
    for site in config.sites:
        click.echo(f"    - {site.id}: {site.name} <{site.homepage}> origins={','.join(site.crawl_origins)}")
    kinds = {"department": "县直部门", "township": "乡镇", "office": "办公室"}
    by_kind = {k: sum(1 for u in config.units if u.kind == k) for k in kinds}
    click.echo(
        "  units:     " + ", ".join(f"{n} {kinds[k]}" for k, n in by_kind.items() if n)
        if config.units
        else "  units:     0"
    )
    for tenant in config.tenants:  # issue 24: each tenant's share and who gets its bulletin
        narrowed = config.for_tenant(tenant.id)
        click.echo(
            f"  tenant {tenant.id}: {tenant.name}, {len(narrowed.sites)} site(s), "
            f"{len(narrowed.units)} unit(s), {len(narrowed.newmedia.accounts)} account(s), "
            f"bulletin to {len(narrowed.bulletin.recipients)} recipient(s) -> {narrowed.reports_path}"
        )
    if config.province is not None:
        click.echo(
            f"  province:  {config.province.name}, summary to {len(config.province.recipients)} recipient(s)"
        )
    c = config.crawl
    click.echo(
        f"  crawl:     max {c.max_pages} pages, depth {c.max_depth}, timeout {c.timeout_seconds:g}s, "
        f"{c.concurrency} concurrent ({c.per_host_concurrency} per host, delay {c.per_host_delay_seconds:g}s)"
    )
    alerts = config.alerts
    if alerts.channels or alerts.enabled:
        from monitor.alerts.rules import unknown_kinds

        problems = unknown_kinds(alerts)
        if problems:
            click.echo(str(ConfigError(problems, str(path))), err=True)
            raise SystemExit(EXIT_USAGE)
        state = "on" if alerts.enabled else "off"
        click.echo(
            f"  alerts:    {state}, {len(alerts.channels)} channel(s) ({', '.join(alerts.channels)}), "
            f"{len(alerts.rules)} rule(s)"
        )
    queue = config.queue
    if queue.backend == "procrastinate":
        click.echo(
            f"  queue:     procrastinate {queue.name!r} on the store's PostgreSQL: the daemon defers, "
            f"monitor worker runs (heartbeat {queue.heartbeat_seconds:g}s, lost after "
            f"{queue.stalled_after_seconds:g}s, task timeout {queue.task_timeout:g}s)"
        )


class _DutyGroup(click.Group):
    """``monitor run``: a site check's command is made when it is asked for, so running one duty does not
    import every other check (their help text comes from the check classes)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every duty, crawl duties and site checks, sorted."""
        return sorted({*self.commands, *SITE_CHECKS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The duty's command (a site check's is made on first use)."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in SITE_CHECKS:
            command = _site_check_command(cmd_name)
            self.add_command(command)
        return command


@main.group("run", cls=_DutyGroup)
def run_group() -> None:
    """Run a duty now (the same code the daemon schedules).

    Exit status: 0 no open findings, 1 open findings, 2 usage or config error, 3 a run failed,
    4 the duty is already running (started by the daemon or another monitor run).
    """


def _words_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--words FILE`` (repeatable) and ``--words-severity``: ad hoc sensitive-word lists."""
    func = click.option(
        "--words-severity",
        type=click.Choice([s.value for s in Severity]),
        default="warning",
        show_default=True,
        help="Severity of hits from --words lists.",
    )(func)
    func = click.option(
        "--words",
        "words",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra sensitive-word list (one word per line, # comments); repeatable.",
    )(func)
    return func


def with_word_files(config: Config, words: Iterable[str], severity: str) -> Config:
    """The config with ad hoc word-list files (``--words``) added to ``text.word_lists``."""
    words = list(words)
    if not words:
        return config
    extra = tuple(
        WordListFile(path=str(Path(w).resolve()), category="自定义词表", severity=severity)  # type: ignore[arg-type]
        for w in words
    )
    text = config.text.model_copy(update={"word_lists": (*config.text.word_lists, *extra)})
    return config.model_copy(update={"text": text})


def _make_duty_command(duty: str, help_text: str, checks: tuple[str, ...] = ()) -> click.Command:
    if "sensitive" in checks:

        @click.command(duty, help=help_text)
        @click.argument("url", required=False)
        @_words_options
        @click.pass_obj
        def text_command(
            app: AppContext, url: str | None, words: tuple[str, ...], words_severity: str
        ) -> None:
            config = with_word_files(app.config, words, words_severity)
            results = execute_duty(app, duty, url, config=config)
            print_run_summary(results, app.marks)
            raise SystemExit(exit_status(results))

        return text_command

    @click.command(duty, help=help_text)
    @click.argument("url", required=False)
    @click.pass_obj
    def command(app: AppContext, url: str | None) -> None:
        results = execute_duty(app, duty, url)
        print_run_summary(results, app.marks)
        raise SystemExit(exit_status(results))

    return command


for _duty, _checks in crawl_duties().items():
    if _duty == "patrol":
        _what = f"every page check ({', '.join(_checks)}) on one crawl"
    elif len(_checks) > 1:
        _what = f"the {', '.join(_checks)} checks on one crawl"
    else:
        _what = f"the {_duty} check"
    run_group.add_command(
        _make_duty_command(_duty, f"Crawl each configured site (or URL alone) and run {_what}.", _checks)
    )


def _site_check_command(duty: str) -> click.Command:
    check = SITE_CHECKS[duty]  # imports that check's module only now
    doc = (check.__doc__ or duty).strip().splitlines()[0].rstrip(".")
    where = (
        "once for the whole config" if check.scope == "global" else "on each configured site, or on URL alone"
    )
    return _make_duty_command(duty, f"{doc} ({where}).")


def execute_duty(
    app: AppContext, duty: str, url: str | None, *, config: Config | None = None
) -> list[SiteRunResult]:
    """Run a duty through the runner with the app's config (or ``config``), store and clock."""
    config = config or app.config
    if url:
        from monitor.core.urls import InvalidURL, normalize

        try:
            normalize(url)
        except InvalidURL:
            fail_usage(f"not an http(s) URL: {url}")
    try:
        lock = DutyLock(app.database, duty).acquire(app.clock().now())
    except Busy as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_BUSY) from None
    with lock, app.store() as store:
        try:
            results = asyncio.run(
                run_duty(duty, config, store, app.clock(), url=url, progress=app.progress_factory())
            )
            app.marks = run_marks(store, results)
            return results
        except DutyError as exc:
            fail_usage(str(exc))
            raise  # unreachable
        except KeyboardInterrupt:
            click.echo("interrupted; the run is recorded as interrupted", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            # The store itself failed (disk full, the write lock held too long) or a bug: the run must
            # not stay "running". Recorded as failed now when the database takes the write; otherwise
            # the next process that opens it records it as interrupted.
            _, reason = error_reason(exc, app.database)
            if not store.fail_unfinished(app.clock().now(), reason) and store.unfinished:
                log.warning(
                    "run %s could not be recorded as failed now; the next monitor command or the daemon "
                    "records it as interrupted",
                    ", ".join(f"#{n}" for n in sorted(store.unfinished)),
                )
            raise


def exit_status(results: Iterable[SiteRunResult]) -> int:
    """3 if a run failed, else 1 with open findings, else 0 (a skipped run had nothing to do: no failure)."""
    results = list(results)
    if any(r.status not in ("ok", "skipped") for r in results):
        return EXIT_FAILED
    return EXIT_FINDINGS if any(r.open_findings for r in results) else EXIT_OK


# -- findings ---------------------------------------------------------------------------------------
@main.group("findings")
def findings_group() -> None:
    """List, export and triage findings."""


def _severity_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return parse_severity(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _filters(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--duty", help="Only this duty (links, …).")(func)
    func = click.option(
        "--status", type=click.Choice(["open", "resolved", "ignored"]), help="Only this status."
    )(func)
    func = click.option("--site", help="Only this site id.")(func)
    func = click.option(
        "--severity",
        callback=_severity_option,
        help="Only this severity: veto/deduction/warning/info or 单项否决/扣分/预警/提示.",
    )(func)
    return func


@findings_group.command("list")
@_filters
@click.pass_obj
def findings_list(app: AppContext, **filters: str | None) -> None:
    """Show findings as a readable table (open ones by default; ignored ones with their reason)."""
    if filters.get("status") is None:
        filters["status"] = "open"
    with app.reader() as store:
        rows = list(store.findings(**filters))
    print_findings(rows, show_reason=filters["status"] == "ignored", show_status=False)


@findings_group.command("export")
@_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="csv: for people (Chinese headers, the bulletin's 附件1 columns); jsonl: stable fields for scripts "
    "(default: csv for an -o file ending in .csv, else jsonl).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.pass_obj
def findings_export(app: AppContext, fmt: str | None, output: str | None, **filters: str | None) -> None:
    """Export findings (all statuses unless --status), with the 误报 reason of ignored ones."""
    from monitor.app.exports import machine_rows, people_rows, to_csv, to_jsonl

    if fmt is None:
        fmt = "csv" if output and output.lower().endswith(".csv") else "jsonl"
    with app.reader() as store:
        rows = list(store.findings(**filters))
    if fmt == "jsonl":
        text = to_jsonl(machine_rows(rows))
    else:
        text = to_csv(people_rows(rows, app.config, app.clock().now().date()))
    if output:
        try:  # Excel opens UTF-8 CSV correctly only with a byte-order mark.
            Path(output).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
        except OSError as exc:
            click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
            raise SystemExit(EXIT_FAILED) from None
        click.echo(f"wrote {len(rows)} finding(s) to {output}", err=True)
    else:
        click.echo(text, nl=False)


#: Shortest id prefix ``ignore``/``unignore`` accept: the 8 characters every list shows.
MIN_ID_PREFIX = 8


def _one_finding(store: Store, prefix: str) -> str:
    """The fingerprint a user's id prefix names, or exit 2 with why not (too short, unknown, ambiguous)."""
    prefix = prefix.strip().lower()
    if len(prefix) < MIN_ID_PREFIX or any(ch not in "0123456789abcdef" for ch in prefix):
        fail_usage(
            f"give at least {MIN_ID_PREFIX} hex characters of the finding id (as monitor findings list "
            f"shows it), not {prefix!r}"
        )
    matches = store.fingerprints_starting(prefix)
    if not matches:
        fail_usage(f"no finding has an id starting with {prefix}")
    if len(matches) > 1:
        fail_usage(f"{prefix} is ambiguous: {', '.join(matches[:5])}; give more characters")
    return matches[0]


def cli_actor() -> str:
    """Who acts from the command line, for a finding's history: the OS user, else ``cli``."""
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):  # no user name for this uid (a container)
        return "cli"


@findings_group.command("ignore")
@click.argument("finding_id", metavar="ID")
@click.option("--reason", required=True, help="Why this is a false positive (误报); shown and exported.")
@click.pass_obj
def findings_ignore(app: AppContext, finding_id: str, reason: str) -> None:
    """Mark an open finding as a false positive (误报): it stays silent when seen again (undo: unignore)."""
    from monitor.store.triage import mark_false_positive

    if not reason.strip():
        fail_usage("--reason must say why this is a false positive")
    with app.store() as store:
        try:
            row = mark_false_positive(
                store, _one_finding(store, finding_id), reason, cli_actor(), app.clock().now()
            )
        except ValueError as exc:
            fail_usage(str(exc))
            return
    click.echo(
        t(
            f"已标记为误报 {row.fingerprint}：{inert(row.message)}",
            f"ignored {row.fingerprint}: {inert(row.message)}",
        )
    )


@findings_group.command("unignore")
@click.argument("finding_id", metavar="ID")
@click.option("--reason", required=True, help="Why the finding counts again (recorded in its history).")
@click.pass_obj
def findings_unignore(app: AppContext, finding_id: str, reason: str) -> None:
    """Undo ``ignore``: the finding is open again (the next run resolves it if the problem is gone)."""
    from monitor.store.triage import undo_false_positive

    if not reason.strip():
        fail_usage("--reason must say why the finding counts again")
    with app.store() as store:
        try:
            row = undo_false_positive(
                store, _one_finding(store, finding_id), reason, cli_actor(), app.clock().now()
            )
        except ValueError as exc:
            fail_usage(str(exc))
            return
    click.echo(
        t(
            f"已撤销误报标记 {row.fingerprint}（恢复为待整改）：{inert(row.message)}",
            f"unignored {row.fingerprint} (open again): {inert(row.message)}",
        )
    )


@main.command("recheck")
@click.argument("finding_id", metavar="ID")
@click.option("--reason", required=True, help="What was fixed (整改情况), recorded in the finding's history.")
@click.option(
    "--run",
    "run_now",
    is_flag=True,
    help="Run the re-check now, in the foreground (else the daemon runs it at its next poll).",
)
@click.pass_obj
def recheck_command(app: AppContext, finding_id: str, reason: str, run_now: bool) -> None:
    """Mark a finding fixed (已整改，申请复核) and queue a re-check of its duty on its site.

    The finding closes only when that run, complete and credible, no longer sees it. With --run (a queued
    request of the finding is taken as it is): exit 0 closed, 1 still present, 3 the run could not tell
    (retried by the daemon while attempts remain), 4 the duty is running now (the request stays queued).
    """
    from monitor.app.recheck import describe, perform_recheck
    from monitor.store.triage import RecheckPending, request_recheck, requeue_stale_rechecks

    if not reason.strip():
        fail_usage("--reason must say what was fixed")
    config = app.config
    with app.store() as store:
        requeue_stale_rechecks(store)
        fp = _one_finding(store, finding_id)
        try:
            recheck = request_recheck(store, fp, reason, cli_actor(), app.clock().now())
        except RecheckPending as exc:
            if not run_now or exc.recheck.state != "pending":
                fail_usage(str(exc))
            recheck = exc.recheck
            click.echo(f"该问题已有复核申请 #{recheck.id}，现在执行它")
        except ValueError as exc:
            fail_usage(str(exc))
            return
        else:
            click.echo(f"已申请复核 #{recheck.id}：{recheck.duty} · {inert(recheck.site)}（问题 {fp}）")
        if not run_now:
            click.echo(
                f"守护进程将在 {config.console.recheck_poll_seconds:g} 秒内执行；"
                f"立即执行：monitor recheck {fp[:MIN_ID_PREFIX]} --run --reason …"
            )
            return
        try:
            lock = DutyLock(app.database, recheck.duty).acquire(app.clock().now())
        except Busy as exc:
            click.echo(f"error: {exc}; 复核申请 #{recheck.id} 已排队，守护进程稍后执行", err=True)
            raise SystemExit(EXIT_BUSY) from None
        with lock:
            done = asyncio.run(
                perform_recheck(recheck.id, config, store, app.clock(), progress=app.progress_factory())
            )
    click.echo(inert(describe(done)))
    if done.state == "done" and done.outcome in ("closed", "cancelled"):
        raise SystemExit(EXIT_OK)
    raise SystemExit(EXIT_FINDINGS if done.outcome == "still_present" else EXIT_FAILED)


# -- columns ----------------------------------------------------------------------------------------
@main.group("columns")
def columns_group() -> None:
    """Column tools (栏目): discovery for the columns: section of config.yaml."""


@columns_group.command("discover")
@click.argument("url")
@click.option(
    "--write",
    "write_to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the columns: block to this file (to edit, then merge into config.yaml).",
)
@click.option("--force", is_flag=True, help="With --write: replace an existing file.")
@click.pass_obj
def columns_discover(app: AppContext, url: str, write_to: Path | None, force: bool) -> None:
    """Find a site's columns from its navigation and print (or --write) a YAML block for config.yaml."""
    from checks.columns.check import discover_snippet
    from monitor.core.atomicfile import write_atomic
    from monitor.core.urls import InvalidURL, normalize

    try:
        normalize(url)
    except InvalidURL:
        fail_usage(f"not an http(s) URL: {url}")
    if write_to is not None and write_to.exists() and not force:
        fail_usage(f"{write_to} exists; use --force to replace it")
    text, status = asyncio.run(discover_snippet(app.config, url, app.clock()))
    if write_to is None or status != 0:
        click.echo(inert(text, keep_newlines=True), nl=False)
        raise SystemExit(status)
    try:
        write_atomic(write_to, text)
    except OSError as exc:
        click.echo(f"error: cannot write {write_to}: {exc.strerror or exc}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    import yaml

    block = yaml.safe_load(text) or {}
    count = sum(len(s.get("columns") or ()) for s in block.get("columns", {}).get("sites", {}).values())
    units = f" and {len(block['units'])} units" if block.get("units") else ""
    click.echo(f"wrote {count} columns{units} to {write_to}; edit it, then merge its blocks into config.yaml")
    raise SystemExit(status)


# -- check (proofreading before publishing) -----------------------------------------------------------
@main.group("check")
def check_group() -> None:
    """Check material before publishing (三审三校) with the same rules as the crawl."""


@check_group.command("text")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl"]),
    default="table",
    show_default=True,
    help="table: for people; json (= jsonl): one JSON object per line, for scripts.",
)
@_words_options
@click.pass_obj
def check_text(
    app: AppContext, file: io.BufferedReader, fmt: str, words: tuple[str, ...], words_severity: str
) -> None:
    """Proofread a draft: .docx, .pdf (text layer) or UTF-8/GBK text (FILE, or - for stdin).

    Text files: one sentence or paragraph per line; Word files: one line per paragraph.

    Prints a table (line, characters, severity, type, wrong text, suggestion, context), or with
    --format json one JSON line per finding (line number, character offsets in the line, wrong text,
    suggestion, rule, severity). Exit status 1 when anything is found, 0 when the text is clean.
    """
    from checks.text.check import proofread, typo_model_note
    from checks.text.documents import DocumentError, read_document
    from monitor.core.wordlists import WordListError

    config = with_word_files(app.config, words, words_severity)
    try:
        text = read_document(file.read(), getattr(file, "name", "-"))
    except DocumentError as exc:  # never "clean" for a file that could not be read
        fail_usage(f"cannot check {exc}")
        return
    try:
        rows = proofread(text, config, app.clock().now().date())
    except (OSError, WordListError) as exc:  # a word list that vanished or has an unreadable line
        fail_usage(f"cannot read a word list: {exc}")
        return
    note = typo_model_note(config)
    if note:
        click.echo(f"note: {note}", err=True)
    if fmt in ("json", "jsonl"):
        for row in rows:
            click.echo(inert_json(row))
    elif rows or text.strip():
        print_proofread(rows)
    raise SystemExit(EXIT_FINDINGS if rows else EXIT_OK)


# -- demo -------------------------------------------------------------------------------------------
@main.command("demo")
@click.option(
    "--port", default=8765, show_default=True, help="Port of the demo site on 127.0.0.1 (0: any free)."
)
@click.option("--serve", is_flag=True, help="Keep serving the demo site after the run (Ctrl-C to stop).")
@click.pass_obj
def demo(app: AppContext, port: int, serve: bool) -> None:
    """Serve the bundled demo county site on 127.0.0.1 and run the duties against it."""
    from monitor.app.demo.runner import run_demo

    raise SystemExit(run_demo(app, port=port, serve=serve, summary=print_run_summary))


# -- the weekly bulletin and its mail -----------------------------------------------------------------
@main.group("report")
def report_group() -> None:
    """Render the weekly bulletin (通报)."""


@report_group.command("weekly")
@click.option("--week", "week_text", help="ISO week, e.g. 2026-W48 (default: the last complete week).")
@click.option("--send", is_flag=True, help="Queue the bulletin in the outbox and send it to the recipients.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Reports folder (default: bulletin.reports_dir: reports/ under $STATE_DIRECTORY, else next to "
    "config.yaml).",
)
@click.option("--force", is_flag=True, help="With --send: send even a week in which no duty ran.")
@click.option("--tenant", "tenant_id", metavar="ID", help="With tenants: this tenant's bulletin only.")
@click.option(
    "--all-tenants", is_flag=True, help="With tenants: every tenant's bulletin and the province summary."
)
@click.pass_obj
def report_weekly(
    app: AppContext,
    week_text: str | None,
    send: bool,
    output_dir: str | None,
    force: bool,
    tenant_id: str | None,
    all_tenants: bool,
) -> None:
    """Render the bulletin for an ISO week into reports/<year>-W<week>/ (and send it with --send).

    With tenants (docs/tenants.md): --tenant ID renders that tenant's bulletin into
    reports/<tenant id>/<year>-W<week>/, --all-tenants every tenant's and the province summary
    (reports/province/<year>-W<week>/).

    Exit status: 0 done, 2 usage error or --send refused (a week in which no duty ran, without --force),
    3 the files could not be written (e.g. a read-only reports folder) or the mail was not sent.
    """
    from monitor.bulletin.publish import render_report, send_report, week_without_data
    from monitor.core.isoweek import IsoWeek, last_complete_week

    config, clock = app.config, app.clock()
    try:
        week = IsoWeek.parse(week_text) if week_text else last_complete_week(clock.now())
    except ValueError as exc:
        fail_usage(str(exc))
        return
    if tenant_id is not None or all_tenants or config.tenants:
        from monitor.app.tenant_reports import TenantUsageError, report_tenants

        if tenant_id is not None and all_tenants:
            fail_usage("give either --tenant ID or --all-tenants, not both")
        if tenant_id is None and not all_tenants:
            fail_usage("this configuration has tenants: give --tenant ID or --all-tenants")
        try:
            code = report_tenants(
                config,
                clock,
                app.store,
                config.outbox_path(app.database),
                week,
                tenant_id=tenant_id,
                send=send,
                output_dir=Path(output_dir) if output_dir else None,
                force=force,
            )
        except TenantUsageError as exc:
            fail_usage(str(exc))
        except ValueError as exc:  # a week that has not started yet
            fail_usage(str(exc))
        raise SystemExit(code)
    if send and not config.bulletin.recipients:
        fail_usage("bulletin.recipients is empty: add the addresses the bulletin goes to in config.yaml")
    folder = (Path(output_dir) if output_dir else config.reports_path) / week.label
    with app.store() as store:
        empty = week_without_data(store, config, week)
        if empty is not None and send and not force:
            fail_usage(
                f"not sending the bulletin: {empty}, so every check would read 本周未开展; "
                "run the duties first, or add --force to send it anyway"
            )
        try:
            report = render_report(store, config, week, clock, Path(output_dir) if output_dir else None)
        except ValueError as exc:
            fail_usage(str(exc))
            return
        except OSError as exc:  # a read-only or full reports folder: one line, never a traceback
            where = exc.filename or folder
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                why = f"disk full: cannot write the bulletin to {where} ({exc.strerror or 'no space left'})"
            else:
                why = (
                    f"cannot write the bulletin to {where}: {exc.strerror or exc} "
                    "(set bulletin.reports_dir to a writable folder, or use --output-dir)"
                )
            click.echo(f"error: {inert(why)}", err=True)
            raise SystemExit(EXIT_FAILED) from None
    if empty is not None:
        click.echo(f"note: {empty}: the bulletin has no data (every check reads 本周未开展)", err=True)
    b = report.bulletin
    state = "（本周尚未结束）" if b.incomplete else ""
    click.echo(f"{b.title}{state}")
    click.echo(
        t(
            f"  待整改{b.totals['open']}个（本周新发现{b.totals['new']}个，逾期{b.totals['overdue']}个），"
            f"本周已整改{b.totals['fixed']}个",
            f"  {b.totals['open']} open ({b.totals['new']} new, {b.totals['overdue']} overdue), "
            f"{b.totals['fixed']} fixed this week",
        )
    )
    for path in (report.html, report.text, report.xlsx, report.docx):
        click.echo(f"  {path}")
    if not send:
        return
    delivery = asyncio.run(send_report(report, config, clock, config.outbox_path(app.database)))
    entry = delivery.entry
    click.echo(f"  {report.eml}")
    if entry.status == "sent" and not delivery.queued_now and entry.attempts and entry.sent_at:
        click.echo(f"mail {entry.key}: sent {entry.sent_at} to {len(entry.recipients)} recipient(s)")
    if entry.status != "sent":
        click.echo(
            f"mail {entry.key}: {entry.status} after {entry.attempts} attempt(s): {inert(entry.last_error)}; "
            "it stays in the outbox (monitor mail flush)",
            err=True,
        )
        raise SystemExit(EXIT_FAILED)


@main.group("outbox")
def outbox_group() -> None:
    """The outbox: bulletin emails and instant alerts, each kept until delivered."""


@main.group("mail")
def mail_group() -> None:
    """The outbox (old name of ``monitor outbox``; kept as an alias)."""


def _outbox(app: AppContext) -> Any:
    from monitor.bulletin.outbox import Outbox

    return Outbox(app.config.outbox_path(app.database))


@outbox_group.command("status")
@click.pass_obj
def outbox_status(app: AppContext) -> None:
    """Show every message in the outbox (mails and alerts): status, attempts, next try, last error."""
    from monitor.app.statusview import print_outbox_status

    print_outbox_status(_outbox(app))


@outbox_group.command("flush")
@click.pass_obj
def outbox_flush(app: AppContext) -> None:
    """Try to send every queued or failed mail and every due alert now (exit 3 if any is still unsent)."""
    from monitor.alerts import send as alert_send

    config, clock = app.config, app.clock()
    outbox = _outbox(app)
    results = asyncio.run(outbox.flush(config.bulletin.smtp, clock, base_dir=Path(config.base_dir)))
    results += asyncio.run(alert_send.drain(outbox, config, clock))
    for e in results:
        click.echo(f"  {e.key}: {e.status}" + (f" ({inert(e.last_error)})" if e.last_error else ""))
    unsent = [e for e in results if e.status != "sent"]
    click.echo(f"{len(results) - len(unsent)} sent, {len(unsent)} still in the outbox")
    raise SystemExit(EXIT_FAILED if unsent else EXIT_OK)


@outbox_group.command("retry")
@click.argument("keys", nargs=-1, required=True)
@click.pass_obj
def outbox_retry(app: AppContext, keys: tuple[str, ...]) -> None:
    """Queue alerts that are no longer retried (refused for good, or unconfirmed twice) again, by KEY.

    Fix the channel first; an alert unconfirmed twice may already have arrived: retrying it is the
    operator's decision.
    """
    from monitor.core.clock import iso

    outbox = _outbox(app)
    now = app.clock().now()
    for key in keys:
        entry = outbox.get(key)
        if entry is None or entry.channel == "mail":
            fail_usage(f"no alert with key {key!r} in {outbox.folder}")
            return
        if entry.status != "failed":
            click.echo(f"  {key}: {entry.status}, nothing to do")
            continue
        with outbox.claim(key):
            entry.history.append({"at": iso(now), "result": "requeued", "error": entry.last_error})
            entry.status, entry.next_attempt_at, entry.unconfirmed, entry.permanent = "queued", None, 0, False
            outbox.save(entry)
        click.echo(f"  {key}: queued again")


mail_group.add_command(outbox_status, "status")
mail_group.add_command(outbox_flush, "flush")


@main.group("alerts")
def alerts_group() -> None:
    """Instant alerts (即时告警) to WeCom, DingTalk, Feishu/Lark, mail or webhooks."""


@alerts_group.command("send")
@click.pass_obj
def alerts_send(app: AppContext) -> None:
    """Queue the alerts of what changed since the last look, and send every alert that is due.

    The daemon does this by itself as duties finish; this is for runs made without it (``monitor run``
    from a timer). Exit 3 when an alert is still unsent, 2 when alerts are not enabled.
    """
    from monitor.alerts import send as alert_send
    from monitor.alerts.queue import queue_alerts

    config, clock = app.config, app.clock()
    if not config.alerts.enabled:
        fail_usage("alerts are not enabled (alerts.enabled in the config)")
    outbox = _outbox(app)
    with app.store() as store:
        report = queue_alerts(config, store, outbox, clock)
    click.echo(f"{report.transitions} change(s), {report.queued} alert(s) queued ({report.held} held)")
    results = asyncio.run(alert_send.drain(outbox, config, clock))
    for e in results:
        click.echo(
            f"  {e.key} → {e.channel}: {e.status}" + (f" ({inert(e.last_error)})" if e.last_error else "")
        )
    unsent = [e for e in results if e.status != "sent"]
    raise SystemExit(EXIT_FAILED if unsent else EXIT_OK)


@alerts_group.command("test")
@click.argument("channel")
@click.pass_obj
def alerts_test(app: AppContext, channel: str) -> None:
    """Send a test message to CHANNEL now (exit 3 when it is not accepted, 2 when CHANNEL is unknown).

    The test goes straight to the channel, not through the outbox: it says at once whether the URL works.
    """
    from monitor.alerts import send as alert_send
    from monitor.alerts.compose import Composer, message_format

    config, clock = app.config, app.clock()
    spec = config.alerts.channels.get(channel)
    if spec is None:
        known = ", ".join(config.alerts.channels) or "none configured"
        fail_usage(f"no alert channel named {channel!r} (alerts.channels: {known})")
    assert spec is not None
    try:
        url = alert_send.channel_url(spec)
    except alert_send.ChannelError as exc:
        fail_usage(str(exc))
        return
    message = Composer(config).test(
        channel, clock.now(), message_format(alert_send.url_scheme(url), spec.format)
    )
    payload = {"title": message.title, "body": message.body, "format": message.format}
    outcome = alert_send.notify(url, payload, spec)
    if outcome.result == "sent":
        click.echo(f"test message sent to {channel} ({message.format})")
        raise SystemExit(EXIT_OK)
    click.echo(f"test message to {channel} not accepted: {inert(outcome.error)}", err=True)
    raise SystemExit(EXIT_FAILED)


# -- the web console (issue 23, docs/console.md) ----------------------------------------------------
@main.group("web", invoke_without_command=True)
@click.option("--host", help="Address to listen on (default: console.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: console.port; 0: any free).")
@click.pass_context
def web_group(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the triage console (until SIGTERM or Ctrl-C); `monitor web adduser` adds an account."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor.console.serve import serve_forever

    app: AppContext = ctx.obj
    database = app.database.resolve()
    status = serve_forever(app.config, database, app.clock(), host=host, port=port, announce=click.echo)
    raise SystemExit(status)


@web_group.command("adduser")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "office", "department", "readonly"]))
@click.option("--unit", help="The unit of a department account (its findings only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def web_adduser(app: AppContext, username: str, role: str, unit: str | None, password_stdin: bool) -> None:
    """Add a console account; the password comes from a prompt (or stdin), never the command line."""
    from monitor.console.accounts import AccountError, create_account

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with app.store() as store:
        try:
            create_account(store, username, role, unit, password, app.clock().now())
        except (AccountError, ValueError) as exc:
            fail_usage(str(exc))
    click.echo(f"added {role} account {username}" + (f" of {unit}" if unit else ""))


# -- daemon, backup, status -------------------------------------------------------------------------
@main.command("daemon")
@click.pass_obj
def daemon(app: AppContext) -> None:
    """Run every duty on the config's schedule until SIGTERM (SIGHUP reloads the config).

    Meant for systemd (deploy/monitor.service): it reports readiness, status and watchdog pings over
    $NOTIFY_SOCKET. Exits 0 after a clean stop, 2 on a bad config, 4 when another daemon uses the database.
    """
    from monitor.app.daemon import run_daemon

    path = app.config_path or (DEFAULT_CONFIG_NAME if Path(DEFAULT_CONFIG_NAME).is_file() else None)
    if path is None or not Path(path).is_file():
        fail_usage(f"the daemon needs a config file: {path or '--config FILE or ./config.yaml'} not found")
    config = app.config
    raise SystemExit(run_daemon(Path(path).resolve(), config, app.database.resolve()))


@main.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Tasks (a duty on one site) this process runs at once.",
)
@click.pass_obj
def worker(app: AppContext, concurrency: int) -> None:
    """Run the duties the daemon defers to the task queue (queue.backend: procrastinate) until SIGTERM.

    Start any number, on any number of machines sharing the config and the PostgreSQL database
    (deploy/monitor-worker@.service; docs/scale-out.md). Exits 0 after a clean stop, 2 on a bad config or
    without queue.backend procrastinate, 3 when the queue database cannot be used.
    """
    from monitor.app.worker import run_worker

    config = app.config
    if config.queue.backend != "procrastinate":
        fail_usage(
            "monitor worker needs the task queue: set queue.backend: procrastinate (and a postgresql:// "
            "storage.url) in the config; without it the daemon runs every duty itself"
        )
    raise SystemExit(run_worker(config, app.database.resolve(), concurrency=concurrency))


@main.command("backup")
@click.option("--directory", type=click.Path(file_okay=False), help="Folder of the copies (default: config).")
@click.option("--keep", type=click.IntRange(min=1), help="Copies to keep (default: config backup.keep).")
@click.pass_obj
def backup(app: AppContext, directory: str | None, keep: int | None) -> None:
    """Copy the database online (consistent while duties run), verify it, and rotate old copies."""
    from monitor.store.backup import NOT_ON_POSTGRESQL, BackupError, run_backup

    config = app.config
    if directory or keep:
        changes: dict[str, str | int] = {
            **({"directory": str(Path(directory).resolve())} if directory else {})
        }
        changes.update({"keep": keep} if keep else {})
        config = config.model_copy(update={"backup": config.backup.model_copy(update=changes)})
    if app.on_postgresql:
        fail_usage(f"{NOT_ON_POSTGRESQL}; monitor backup copies the SQLite file ({app.database_label})")
    if not app.database.exists():
        fail_usage(f"no database at {app.database}")
    try:
        lock = DutyLock(app.database, "backup").acquire(app.clock().now())
    except Busy as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_BUSY) from None
    with lock, app.store() as store:
        try:
            result = run_backup(config, app.database, store, app.clock())
        except BackupError as exc:
            click.echo(f"error: {inert(str(exc))}", err=True)
            raise SystemExit(EXIT_FAILED) from None
    if result is None:  # unreachable: a PostgreSQL store was refused above
        fail_usage(NOT_ON_POSTGRESQL)
    click.echo(f"backup: {result.path} ({result.bytes} bytes, integrity ok); {result.kept} kept")
    for path in result.removed:
        click.echo(f"  removed {path.name}")


@main.command("prune")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    help="Age of what goes: 180d (days); units d, h, m, s.",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.pass_obj
def prune_command(app: AppContext, older_than: str, dry_run: bool) -> None:
    """Remove old report folders, sent outbox mail, unreferenced evidence screenshots and old run details.

    Open findings, their screenshots and every finding's history are never removed. Take a backup
    first (monitor backup). Exit status: 0 done, 2 usage error, 3 something could not be removed.
    """
    from datetime import timedelta

    from monitor.app.prune import prune
    from monitor.core.timing import parse_duration

    try:
        age = timedelta(seconds=parse_duration(older_than))
    except ValueError as exc:
        fail_usage(f"--older-than: {exc}")
        return
    if not app.on_postgresql and not app.database.exists():
        fail_usage(f"no database at {app.database}")
    with app.store() as store:
        try:
            result = prune(
                store,
                app.config,
                app.config.outbox_path(app.database),
                app.clock().now(),
                age,
                dry_run=dry_run,
            )
        except ValueError as exc:
            fail_usage(str(exc))
            return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"prune: everything before {result.cutoff:%Y-%m-%d %H:%M}")
    click.echo(f"  {verb} {len(result.report_folders)} report folder(s)")
    for path in result.report_folders:
        click.echo(f"    {path}")
    click.echo(f"  {verb} {len(result.mails)} sent mail(s) from the outbox")
    click.echo(
        f"  {verb} {len(result.screenshots)} evidence screenshot(s); "
        f"{result.screenshots_kept} kept for open findings"
    )
    click.echo(f"  {verb} the details of {result.runs} old run(s) and {result.probes} availability probe(s)")
    click.echo(f"  {result.freed_bytes / 1e6:.1f} MB {'would be ' if dry_run else ''}freed on disk")
    for error in result.errors:
        click.echo(f"error: cannot remove {inert(error)}", err=True)
    raise SystemExit(EXIT_FAILED if result.errors else EXIT_OK)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(app: AppContext, as_json: bool) -> None:
    """Each duty's last run and next scheduled time, and open findings by severity."""
    from monitor.app.daemon import read_state

    with app.reader() as store:
        runs = store.latest_runs()
        in_progress = store.running_runs()
        open_counts = store.open_by_severity()
    state = read_state(app.database)
    jobs = (state or {}).get("jobs", {})
    duties = sorted({r["duty"] for r in runs} | {r["duty"] for r in in_progress} | set(jobs))
    if as_json:
        click.echo(
            inert_json(
                {
                    "daemon": (
                        {"pid": state.get("pid"), "started_at": state.get("started_at")} if state else None
                    ),
                    "duties": {
                        d: {
                            "runs": [_run_json(r) for r in runs if r["duty"] == d],
                            "next_run": jobs.get(d, {}).get("next_run"),
                            "schedule": jobs.get(d, {}).get("schedule"),
                            "running": [_run_json(r) for r in in_progress if r["duty"] == d],
                        }
                        for d in duties
                    },
                    "open_findings": {s.value: open_counts.get(s.value, 0) for s in Severity},
                },
                indent=1,
            )
        )
        return
    from monitor.app.statusview import print_status

    print_status(duties, runs, in_progress, open_counts, state)


def _run_json(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "site", "started_at", "finished_at", "status", "counts", "error")
    return {k: run[k] for k in keys}


