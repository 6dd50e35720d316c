"""The ``monitor`` command: a thin click layer over the same functions the daemon calls.

Exit status: 0 no open findings, 1 open findings, 2 usage or configuration error, 3 a run failed,
4 busy: the duty is already running (its lock is held by the daemon or another ``monitor run``), or
another daemon already uses the database.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from checks import SITE_CHECKS
from checks.kinds import kind_label
from monitor import __version__
from monitor.app.locks import Busy, DutyLock
from monitor.config import DEFAULT_CONFIG_NAME, Config, ConfigError, WordListFile, load_config
from monitor.core.clock import Clock, clock_from_env
from monitor.core.findings import Severity
from monitor.core.textsafe import inert
from monitor.crawl.progress import LogProgress, Progress, RichProgress
from monitor.runner import DutyError, SiteRunResult, crawl_duties, run_duty
from monitor.store.database import Store

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED, EXIT_BUSY = 0, 1, 2, 3, 4
EXPORT_FIELDS = (
    "fingerprint",
    "duty",
    "kind",
    "kind_zh",
    "severity",
    "status",
    "site",
    "unit",
    "url",
    "source_urls",
    "message",
    "evidence",
    "first_seen",
    "last_seen",
)
log = logging.getLogger("monitor")


class AppContext:
    """Global options, resolved lazily so that ``--help`` never needs a config file."""

    def __init__(self, config_path: str | None, db_path: str | None, verbose: int, quiet: bool) -> None:
        self.config_path = config_path
        self.db_path = db_path
        self.verbose = verbose
        self.quiet = quiet
        self._config: Config | None = None

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
            return load_config(path)
        except ConfigError as exc:
            fail_usage(str(exc))
            raise  # unreachable

    @property
    def database(self) -> Path:
        """``--db``, then ``MONITOR_DB``, then the config's storage path."""
        chosen = self.db_path or os.environ.get("MONITOR_DB")
        return Path(chosen) if chosen else self.config.database_path

    def store(self) -> Store:
        """Open the store (migrations run) and mark runs of dead processes as interrupted."""
        store = Store(self.database)
        store.recover_interrupted(self.clock().now())
        return store

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


def fail_usage(message: str) -> None:
    """Print an error and exit with status 2."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_USAGE)


def setup_logging(verbose: int, quiet: bool) -> None:
    """Log lines go to stderr with their level (journald keeps them as they are)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


class SafeFormatter(logging.Formatter):
    """Escapes control characters so crawled text can never forge log lines or terminal output."""

    def format(self, record: logging.LogRecord) -> str:
        """Format, then make the line inert."""
        return inert(super().format(record), keep_newlines=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: int, quiet: bool) -> None:
    """Monitor government websites and new-media accounts (政府网站与政务新媒体监测)."""
    setup_logging(verbose, quiet)
    ctx.obj = AppContext(config_path, db_path, verbose, quiet)


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
    click.echo(f"  database:  {app.database}")
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
    c = config.crawl
    click.echo(
        f"  crawl:     max {c.max_pages} pages, depth {c.max_depth}, timeout {c.timeout_seconds:g}s, "
        f"{c.concurrency} concurrent ({c.per_host_concurrency} per host, delay {c.per_host_delay_seconds:g}s)"
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
            print_run_summary(results)
            raise SystemExit(exit_status(results))

        return text_command

    @click.command(duty, help=help_text)
    @click.argument("url", required=False)
    @click.pass_obj
    def command(app: AppContext, url: str | None) -> None:
        results = execute_duty(app, duty, url)
        print_run_summary(results)
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
            return asyncio.run(
                run_duty(duty, config, store, app.clock(), url=url, progress=app.progress_factory())
            )
        except DutyError as exc:
            fail_usage(str(exc))
            raise  # unreachable
        except KeyboardInterrupt:
            click.echo("interrupted; the run is recorded as interrupted", err=True)
            raise SystemExit(130) from None


def exit_status(results: Iterable[SiteRunResult]) -> int:
    """3 if a run failed, else 1 with open findings, else 0 (a skipped run had nothing to do: no failure)."""
    results = list(results)
    if any(r.status not in ("ok", "skipped") for r in results):
        return EXIT_FAILED
    return EXIT_FINDINGS if any(r.open_findings for r in results) else EXIT_OK


def print_run_summary(results: Iterable[SiteRunResult]) -> None:
    """One paragraph per site run: counts, lifecycle changes, and the run's findings."""
    for r in results:
        c = r.counts
        click.echo(
            f"\n{r.duty} — run #{r.run_id} {r.status}"
            if r.site.id == r.duty  # a global duty (new-media accounts): no site to name
            else f"\n{r.duty} · {inert(r.site.name)} <{inert(r.site.homepage)}> — run #{r.run_id} {r.status}"
        )
        if "pages_crawled" in c:
            click.echo(
                f"  {c['pages_crawled']} pages crawled, {c['links_checked']} links checked, "
                f"{c['broken']} broken ({c.get('recovered_on_recheck', 0)} recovered on re-check)"
            )
        verdicts = c.get("verdicts")
        if verdicts is not None:  # newmedia
            n = len(c.get("accounts", []))
            click.echo(
                f"  {n} accounts: {verdicts['fresh']} fresh, {verdicts['stale']} stale, {verdicts['zombie']} "
                f"zombie, {verdicts['unknown']} unknown ({c.get('manual', 0)} 人工填报)"
            )
        for t in c.get("targets") or []:  # availability
            state = "正常" if t["ok"] else f"失败（{inert(str(t['error'] or t['status']))}）"
            note = "（样本不足，未判定）" if t.get("level") == "unknown" else ""
            click.echo(f"  {inert(t['name'])}: {state} {t['latency_ms']} ms · {inert(t['summary'])}{note}")
        if "text_pages" in c:
            parts = [
                f"{c[kind]} {label}"
                for kind, label in (
                    ("serious_expression", "serious expression errors"),
                    ("typo", "typos"),
                    ("nonstandard_phrasing", "non-standard phrasings"),
                    ("sensitive_word", "sensitive words"),
                    ("privacy_id_number", "ID numbers"),
                    ("suspected_typo", "typo suggestions"),
                )
                if kind in c
            ]
            click.echo(f"  text of {c['text_pages']} pages checked: " + ", ".join(parts))
        dl = c.get("darklinks")
        if dl:
            click.echo(
                f"  dark links: {dl['pages_analysed']} pages analysed, {dl['dark_links']} dark links; "
                f"{dl.get('candidates', 0)} concealed outside links without spam evidence (not reported); "
                f"{dl.get('spider_pages_compared', 0)} pages compared as a spider"
                + (f" ({dl['spider_over_budget']} over budget)" if dl.get("spider_over_budget") else "")
            )
            browser = dl.get("browser")
            if browser:
                click.echo(f"  browser confirmation: {inert(str(browser))}")
        model = c.get("typo_model")
        if model:
            if "skipped" in model:
                click.echo(f"  typo suggestions (language model) skipped: {inert(model['skipped'])}")
            else:
                click.echo(
                    f"  typo suggestions (language model): {model['pages_scored']} pages scored, "
                    f"{model['pages_unchanged']} unchanged pages not re-scored"
                )
        skipped = c.get("skipped") or {}
        if skipped:
            click.echo("  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
        if c.get("complete") is False and verdicts is not None:
            click.echo("  some sources could not be read: those accounts' findings were left as they were")
        elif c.get("complete") is False:
            if "pages_crawled" in c:
                what = "crawl incomplete"
            elif "unreadable" in c:
                what = f"{len(c.get('unreadable') or {})} page(s) unreadable"
            else:
                what = "run incomplete"
            click.echo(f"  {what}: only findings re-checked as fixed were resolved")
        o = r.outcome
        click.echo(
            f"  findings: {o.new} new, {o.seen_again} still open, {o.reopened} reopened, {o.resolved} fixed, "
            f"{o.ignored_seen} ignored; open now: {r.open_findings}"
        )
        if r.error:
            click.echo(f"  error: {inert(r.error)}")
        for f in sorted(r.findings, key=lambda f: (f.severity.rank, f.kind, f.url))[:40]:
            click.echo(f"  [{f.severity.label_zh}] {f.fingerprint[:8]} {inert(f.message)}")
        if len(r.findings) > 40:
            click.echo(f"  … and {len(r.findings) - 40} more: monitor findings list")


# -- findings ---------------------------------------------------------------------------------------
@main.group("findings")
def findings_group() -> None:
    """List, export and triage findings."""


def _filters(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--duty", help="Only this duty (links, …).")(func)
    func = click.option(
        "--status", type=click.Choice(["open", "resolved", "ignored"]), help="Only this status."
    )(func)
    func = click.option("--site", help="Only this site id.")(func)
    func = click.option(
        "--severity", type=click.Choice([s.value for s in Severity]), help="Only this severity."
    )(func)
    return func


@findings_group.command("list")
@_filters
@click.pass_obj
def findings_list(app: AppContext, **filters: str | None) -> None:
    """Show findings as a readable table (open ones by default)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if filters.get("status") is None:
        filters["status"] = "open"
    with app.store() as store:
        rows = list(store.findings(**filters))
    table = Table(show_lines=False, header_style="bold")
    for name in ("id", "severity", "type", "kind", "unit", "first seen", "message"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(
            Text(row["fingerprint"][:8]),
            Text(Severity(row["severity"]).label_zh),
            Text(kind_label(row["duty"], row["kind"])),
            Text(row["kind"]),
            Text(inert(row["unit"] or "")),
            Text(row["first_seen"][:10]),
            Text(inert(row["message"])),
        )
    console = Console(width=None if sys.stdout.isatty() else 200, markup=False)
    console.print(table)
    console.print(f"{len(rows)} finding(s)")


@findings_group.command("export")
@_filters
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.pass_obj
def findings_export(app: AppContext, fmt: str, output: str | None, **filters: str | None) -> None:
    """Export findings with stable fields (all statuses unless --status)."""
    with app.store() as store:
        rows = [
            {k: kind_label(row["duty"], row["kind"]) if k == "kind_zh" else row[k] for k in EXPORT_FIELDS}
            for row in store.findings(**filters)
        ]
    buf = io.StringIO()
    if fmt == "jsonl":
        for row in rows:
            buf.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            flat = dict(row)
            flat["source_urls"] = json.dumps(row["source_urls"], ensure_ascii=False)
            flat["evidence"] = json.dumps(row["evidence"], ensure_ascii=False)
            writer.writerow(flat)
    if output:
        # Excel opens UTF-8 CSV correctly only with a byte-order mark.
        Path(output).write_text(buf.getvalue(), encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        click.echo(f"wrote {len(rows)} finding(s) to {output}", err=True)
    else:
        click.echo(buf.getvalue(), nl=False)


@findings_group.command("ignore")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why this is a false positive (误报).")
@click.pass_obj
def findings_ignore(app: AppContext, fingerprint: str, reason: str) -> None:
    """Mark a finding as a false positive (误报): it stays silent when seen again."""
    with app.store() as store:
        try:
            row = store.ignore(fingerprint, reason, app.clock().now())
        except KeyError:
            fail_usage(f"no single finding matches {fingerprint!r}")
            return
    click.echo(f"ignored {row['fingerprint']}: {inert(row['message'])}")


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
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@_words_options
@click.pass_obj
def check_text(
    app: AppContext, file: io.BufferedReader, fmt: str, words: tuple[str, ...], words_severity: str
) -> None:
    """Proofread a draft: .docx, .pdf (text layer) or UTF-8/GBK text (FILE, or - for stdin).

    Text files: one sentence or paragraph per line; Word files: one line per paragraph.

    Prints one JSON line per finding (line number, character offsets in the line, wrong text,
    suggestion, rule, severity), or a table with --format table. Exit status 1 when anything is
    found, 0 when the text is clean.
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
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        _print_proofread_table(rows)
    raise SystemExit(EXIT_FINDINGS if rows else EXIT_OK)


def _print_proofread_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    for name in ("line", "chars", "severity", "kind", "wrong", "suggestion", "context"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["line"]),
            f"{r['start'] + 1}-{r['end']}",
            Severity(r["severity"]).label_zh,
            Text(r["kind_zh"]),
            Text(inert(r["wrong"])),
            Text(inert(r["suggestion"] or "")),
            Text(inert(r["snippet"])),
        )
    console = Console(width=None if sys.stdout.isatty() else 200, markup=False)
    console.print(table)
    console.print(f"{len(rows)} finding(s)" if rows else "no findings: the text is clean")


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
@click.pass_obj
def report_weekly(
    app: AppContext, week_text: str | None, send: bool, output_dir: str | None, force: bool
) -> None:
    """Render the bulletin for an ISO week into reports/<year>-W<week>/ (and send it with --send).

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
            click.echo(
                f"error: cannot write the bulletin to {where}: {exc.strerror or exc} "
                "(set bulletin.reports_dir to a writable folder, or use --output-dir)",
                err=True,
            )
            raise SystemExit(EXIT_FAILED) from None
    if empty is not None:
        click.echo(f"note: {empty}: the bulletin has no data (every check reads 本周未开展)", err=True)
    b = report.bulletin
    state = "（本周尚未结束）" if b.incomplete else ""
    click.echo(f"{b.title}{state}")
    click.echo(
        f"  {b.totals['open']} open ({b.totals['new']} new, {b.totals['overdue']} overdue), "
        f"{b.totals['fixed']} fixed this week"
    )
    for path in (report.html, report.text, report.xlsx):
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


@main.group("mail")
def mail_group() -> None:
    """The outbox of bulletin emails."""


def _outbox(app: AppContext) -> Any:
    from monitor.bulletin.outbox import Outbox

    return Outbox(app.config.outbox_path(app.database))


@mail_group.command("status")
@click.pass_obj
def mail_status(app: AppContext) -> None:
    """Show every message in the outbox: queued, sent or failed, with attempts and the last error."""
    outbox = _outbox(app)
    entries = outbox.entries()
    click.echo(f"outbox: {outbox.folder}")
    for e in entries:
        when = f"sent {e.sent_at}" if e.status == "sent" else f"next try {e.next_attempt_at or 'now'}"
        click.echo(
            f"  {e.key}  {e.status:<6}  attempts {e.attempts}  {len(e.recipients)} recipient(s)  {when}"
        )
        if e.last_error:
            click.echo(f"      last error: {inert(e.last_error)}")
    counts = {s: sum(1 for e in entries if e.status == s) for s in ("queued", "failed", "sent")}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))


@mail_group.command("flush")
@click.pass_obj
def mail_flush(app: AppContext) -> None:
    """Try to send every queued or failed message now (exit 3 if any is still unsent)."""
    config, clock = app.config, app.clock()
    outbox = _outbox(app)
    results = asyncio.run(outbox.flush(config.bulletin.smtp, clock, base_dir=Path(config.base_dir)))
    for e in results:
        click.echo(f"  {e.key}: {e.status}" + (f" ({inert(e.last_error)})" if e.last_error else ""))
    unsent = [e for e in results if e.status != "sent"]
    click.echo(f"{len(results) - len(unsent)} sent, {len(unsent)} still in the outbox")
    raise SystemExit(EXIT_FAILED if unsent else EXIT_OK)


# -- daemon, backup, status -------------------------------------------------------------------------
@main.command("daemon")
@click.pass_obj
def daemon(app: AppContext) -> None:
    """Run every duty on the config's schedule until SIGTERM (SIGHUP reloads the config).

    Meant for systemd (deploy/monitor.service): it reports readiness, status and watchdog pings over
    $NOTIFY_SOCKET. Exits 0 after a clean stop, 2 on a bad config, 4 when another daemon uses the database.
    """
    from monitor.app.daemon import Daemon

    path = app.config_path or (DEFAULT_CONFIG_NAME if Path(DEFAULT_CONFIG_NAME).is_file() else None)
    if path is None or not Path(path).is_file():
        fail_usage(f"the daemon needs a config file: {path or '--config FILE or ./config.yaml'} not found")
    config = app.config
    raise SystemExit(asyncio.run(Daemon(Path(path).resolve(), config, app.database.resolve()).main()))


@main.command("backup")
@click.option("--directory", type=click.Path(file_okay=False), help="Folder of the copies (default: config).")
@click.option("--keep", type=click.IntRange(min=1), help="Copies to keep (default: config backup.keep).")
@click.pass_obj
def backup(app: AppContext, directory: str | None, keep: int | None) -> None:
    """Copy the database online (consistent while duties run), verify it, and rotate old copies."""
    from monitor.store.backup import BackupError, run_backup

    config = app.config
    if directory or keep:
        changes = {**({"directory": str(Path(directory).resolve())} if directory else {})}
        changes.update({"keep": keep} if keep else {})
        config = config.model_copy(update={"backup": config.backup.model_copy(update=changes)})
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
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_FAILED) from None
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
    if not app.database.exists():
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

    with app.store() as store:
        runs = store.latest_runs()
        in_progress = store.running_runs()
        open_counts = store.open_by_severity()
    state = read_state(app.database)
    jobs = (state or {}).get("jobs", {})
    duties = sorted({r["duty"] for r in runs} | {r["duty"] for r in in_progress} | set(jobs))
    if as_json:
        click.echo(
            json.dumps(
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
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    if state:
        click.echo(f"daemon: running (pid {state.get('pid')}, since {state.get('started_at', '?')})")
    else:
        click.echo("daemon: not running")
    if not duties:
        click.echo("no runs recorded yet")
    for duty in duties:
        job = jobs.get(duty, {})
        line = f"\n{duty}"
        if job:
            line += f" — {job.get('schedule')}, next {job.get('next_run') or 'paused'}"
        click.echo(line)
        for r in in_progress:
            if r["duty"] == duty:
                where = "" if r["site"] == duty else f"{inert(r['site'])}: "
                click.echo(f"  {where}running now: run #{r['id']} since {r['started_at']} (pid {r['pid']})")
        duty_runs = [r for r in runs if r["duty"] == duty]
        if not duty_runs:
            click.echo("  no finished run yet")
        for r in duty_runs:
            where = "" if r["site"] == duty else f"{inert(r['site'])}: "
            click.echo(f"  {where}last run #{r['id']} {r['started_at']} {r['status']}{_counts_text(r)}")
    click.echo(
        "\nopen findings: "
        + ", ".join(f"{s.label_zh} {open_counts.get(s.value, 0)}" for s in Severity)
        + f" (total {sum(open_counts.values())})"
    )


def _run_json(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "site", "started_at", "finished_at", "status", "counts", "error")
    return {k: run[k] for k in keys}


def _counts_text(run: dict[str, Any]) -> str:
    c = run["counts"]
    bits = []
    if "pages_crawled" in c:
        bits.append(
            f"{c['pages_crawled']} pages, {c.get('links_checked', 0)} links, {c.get('broken', 0)} broken"
        )
    if "findings" in c:
        bits.append(f"{c['findings']} findings")
    if run["duty"] == "backup" and "bytes" in c:
        bits.append(f"{c['bytes']} bytes")
    if run.get("error"):
        bits.append(f"error: {inert(str(run['error']))}")
    return f" ({'; '.join(bits)})" if bits else ""
