"""``monitor demo``: serve the bundled demo county site on 127.0.0.1 and run the duties against it.

The demo uses the same config, store and runner as production. Only three things differ, and all are
printed: the demo hosts resolve to the local server (``crawl.host_overrides``), the timeouts and
confirmation pause are shortened so the planted slow page does not keep a newcomer waiting, and the
availability self-check asks demo neighbours instead of the internet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from monitor.bulletin.publish import render_report
from monitor.config import Config, config_from_mapping
from monitor.core.clock import Clock
from monitor.core.isoweek import current_week
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import open_store

if TYPE_CHECKING:
    from monitor.app.demo.server import DemoServer
    from monitor.console.serve import RunningConsole
    from monitor.crawl.progress import Progress


class DemoApp(Protocol):
    """What the demo needs from the command line's context (the CLI's ``AppContext`` is one)."""

    @property
    def config(self) -> Config:
        """The validated config the demo starts from."""
        ...

    @property
    def database(self) -> Path:
        """The database the demo's runs are recorded in."""
        ...

    def clock(self) -> Clock:
        """The run's clock."""
        ...

    def progress_factory(self) -> Callable[[], Progress]:
        """Live progress for each run."""
        ...


#: Prints what the runs found (the CLI's ``print_run_summary``): the demo reports like ``monitor run``.
Summary = Callable[[list[SiteRunResult]], None]

DEMO_TIMEOUT_SECONDS = 4.0
DEMO_CONFIRM_DELAY_SECONDS = 1.0
#: Duties ``monitor demo`` runs, in order: the crawl with every page check, the column audits, the
#: availability probe and site identity; new-media accounts follow when the config has any.
DEMO_DUTIES = ("patrol", "columns", "units", "availability", "identity")
#: The availability self-check must not leave the machine: demo neighbours stand in for the internet.
DEMO_REFERENCE_URLS = ("http://www.shishi.gov.cn/", "http://www.xianwenlv.cn/")


def demo_config(base: Config | None, server: DemoServer) -> Config:
    """The user's config (or a minimal one for the demo portal) pointed at the running demo server."""
    if base is None or not base.sites:
        base = config_from_mapping(
            {
                "sites": [
                    {
                        "id": "portal",
                        "name": "示例县人民政府门户网站",
                        "homepage": server.base_url,
                        "unit": "县政府办公室",
                    }
                ],
            }
        )
    overrides = {**base.crawl.host_overrides, **server.host_overrides()}
    # The demo hosts stand in for public sites, so the egress policy lets them through although they
    # resolve to this machine's loopback server.
    stand_ins = tuple(f"http://{name}" for name in server.host_overrides() if name != "*")
    crawl = base.crawl.model_copy(
        update={
            "host_overrides": overrides,
            "allow_private": tuple(dict.fromkeys((*base.crawl.allow_private, *stand_ins))),
            "timeout_seconds": min(base.crawl.timeout_seconds, DEMO_TIMEOUT_SECONDS),
            "confirm_delay_seconds": min(base.crawl.confirm_delay_seconds, DEMO_CONFIRM_DELAY_SECONDS),
            "retry_backoff_seconds": min(base.crawl.retry_backoff_seconds, 0.5),
        }
    )
    availability = base.availability.model_copy(
        update={
            "timeout_seconds": min(base.availability.timeout_seconds, DEMO_TIMEOUT_SECONDS),
            "reference_urls": DEMO_REFERENCE_URLS,
        }
    )
    return base.model_copy(update={"crawl": crawl, "availability": availability})


#: The demo console's account (an administrator: every page and action).
DEMO_USER = "demo"


async def _demo_console(app: DemoApp, config: Config) -> RunningConsole:
    """The web console over the demo's database on a free loopback port, with a ``demo`` account whose
    new random password is printed (made again at every start)."""
    import secrets

    from monitor.console.accounts import create_account
    from monitor.console.auth import hash_password
    from monitor.console.serve import start_console
    from monitor.store import triage

    password = secrets.token_urlsafe(12)
    with open_store(config.storage, app.database) as store:
        if triage.get_user(store, DEMO_USER) is None:
            create_account(store, DEMO_USER, "admin", None, password, app.clock().now())
        else:
            triage.set_password_hash(store, DEMO_USER, hash_password(password), app.clock().now())
    console = await start_console(config, app.database, app.clock(), host="127.0.0.1", port=0)
    click.echo(f"web console (整改台): {console.url}  user {DEMO_USER}  password {password}")
    return console


def run_demo(app: DemoApp, *, port: int, serve: bool, summary: Summary) -> int:
    """Run the demo; returns the exit status."""
    return asyncio.run(_demo(app, port, serve, summary))


async def _demo(app: DemoApp, port: int, serve: bool, print_run_summary: Summary) -> int:
    from monitor.app.demo.server import start_demo_server

    base = app.config
    server = await start_demo_server(port=port)
    try:
        config = demo_config(base, server)
        click.echo(f"demo county site: {server.base_url} served on 127.0.0.1:{server.port}")
        click.echo(
            f"demo settings: timeout {config.crawl.timeout_seconds:g}s, "
            f"confirmation pause {config.crawl.confirm_delay_seconds:g}s; database {app.database}"
        )
        click.echo(
            f"availability: probe timeout {config.availability.timeout_seconds:g}s, "
            f"self-check against {', '.join(config.availability.reference_urls)}"
        )
        with open_store(config.storage, app.database) as store:
            clock = app.clock()
            store.recover_interrupted(clock.now())
            results = []
            for duty in DEMO_DUTIES:
                results += await run_duty(duty, config, store, clock, progress=app.progress_factory())
            if config.newmedia.accounts:  # the demo county's 15 new-media accounts (rss.shixian.gov.cn)
                results += await run_duty("newmedia", config, store, clock)
            # The bulletin for the week of this run (an incomplete week, and the bulletin says so).
            report = render_report(store, config, current_week(clock.now()), clock)
        print_run_summary(results)
        click.echo(f"\nfindings are in {app.database}: monitor --db {app.database} findings list")
        click.echo(f"weekly bulletin (通报) for {report.bulletin.week}, this week so far: {report.html}")
        if serve:
            console = await _demo_console(app, config)
            click.echo(f"serving the demo site on 127.0.0.1:{server.port}; Ctrl-C to stop")
            try:
                await asyncio.Event().wait()
            finally:
                await console.close()
        # The demo exists to show findings: success means every run completed.
        return 3 if any(r.status != "ok" for r in results) else 0
    finally:
        await server.close()
