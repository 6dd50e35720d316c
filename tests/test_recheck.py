"""Re-checks (已整改，申请复核) end to end: a real loopback site that first has a dead link and then is
fixed, the CLI ``monitor recheck`` as a subprocess, the daemon as a subprocess picking up a re-check the
console queued, the duty lock keeping a re-check from running beside the same duty."""

from __future__ import annotations

import getpass
from pathlib import Path

import yaml

from monitor.app.locks import DutyLock
from monitor.app.recheck import perform_recheck
from monitor.config import load_config
from monitor.core.clock import SystemClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.store.triage import (
    FindingQuery,
    claim_recheck,
    finding_detail,
    get_recheck,
    list_findings,
    request_recheck,
)
from tests.daemon_harness import Daemon, monitor_cli, write_config
from tests.sites import LocalSites, page

HOST = "www.t.cn"


def serve(sites: LocalSites, *, fixed: bool) -> None:
    """The county site: its homepage links to /gone.html, dead until the unit fixes it."""
    sites.html(HOST, "/", page("首页", links=["/a.html", "/gone.html"]))
    sites.html(HOST, "/a.html", page("A"))
    if fixed:
        sites.html(HOST, "/gone.html", page("已恢复的页面"))
    else:
        sites.status(HOST, "/gone.html", 404)


def config_file(tmp_path: Path, port: int, **console: float) -> Path:
    path = write_config(tmp_path / "config.yaml", port, duties={})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["console"] = {"recheck_poll_seconds": 0.2, **console}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def first_run(config: Path) -> str:
    """Record the nightly run that finds the dead link; its fingerprint."""
    cfg = load_config(config)
    with Store(config.parent / "monitor.db") as store:
        (result,) = await run_duty("links", cfg, store, SystemClock(cfg.tz))
        assert result.status == "ok" and len(result.findings) == 1
        return result.findings[0].fingerprint


async def test_cli_recheck_queues_then_runs_still_present_then_closed(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites, fixed=False)
    config = config_file(tmp_path, sites.port)
    fp = await first_run(config)
    base = ("--config", str(config))

    code, out, err = await monitor_cli(*base, "recheck", fp[:8], "--reason", "已删除失效链接", cwd=tmp_path)
    assert code == 0, err
    assert "已申请复核 #1" in out and "守护进程将在 0.2 秒内执行" in out
    # Asked again while queued: refused, says which request waits.
    code, _, err = await monitor_cli(*base, "recheck", fp[:8], "--reason", "再次申请", cwd=tmp_path)
    assert code == 2 and "已有复核申请 #1" in err

    # Still dead: --run takes the queued request, the run sees the link again.
    code, out, err = await monitor_cli(*base, "recheck", fp[:8], "--reason", "x", "--run", cwd=tmp_path)
    assert code == 1, err
    assert "复核未通过（复核 #1）" in out and "仍发现该问题" in out

    # Fixed: a new request, run at once; the run no longer sees it and the finding closes.
    serve(sites, fixed=True)
    code, out, err = await monitor_cli(*base, "recheck", fp, "--reason", "链接已恢复", "--run", cwd=tmp_path)
    assert code == 0, err
    assert "已申请复核 #2" in out and "复核通过（复核 #2）" in out and "问题已关闭" in out
    with Store(tmp_path / "monitor.db") as store:
        detail = finding_detail(store, fp, SystemClock().now())
    assert detail is not None and detail.row.status == "resolved"
    history = [(e.event, e.actor, e.note) for e in detail.events]
    user = getpass.getuser()
    assert history[0] == ("opened", None, None)
    assert ("rectified", user, "已删除失效链接") in history and ("rectified", user, "链接已恢复") in history
    assert [e for e, _, _ in history][-4:] == ["recheck_failed", "rectified", "resolved", "recheck_closed"]
    assert [r.outcome for r in detail.rechecks] == ["closed", "still_present"]

    # A closed finding takes no new request.
    code, _, err = await monitor_cli(*base, "recheck", fp, "--reason", "x", cwd=tmp_path)
    assert code == 2 and "已整改关闭" in err


async def test_unreachable_site_is_not_credible_and_retried_then_given_up(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites, fixed=False)
    config_path = config_file(tmp_path, sites.port, recheck_attempts=2)
    fp = await first_run(config_path)
    config = load_config(config_path)
    # The site goes away (nothing listens on its address any more).
    await sites.close()
    clock = SystemClock(config.tz)
    with Store(tmp_path / "monitor.db") as store:
        recheck = request_recheck(store, fp, "已整改", "jyj", clock.now())
        first = await perform_recheck(recheck.id, config, store, clock)
        assert first.state == "pending" and first.attempts == 1 and "失败" in (first.note or "")
        second = await perform_recheck(recheck.id, config, store, clock)
        assert second.state == "done" and second.outcome == "not_credible"
        assert "已尝试 2 次" in (second.note or "")
        row = list_findings(store, FindingQuery(), clock.now()).rows[0]
        assert row.status == "open" and not row.recheck_pending  # a failed run resolves nothing


async def test_daemon_runs_a_queued_recheck_but_never_beside_its_duty(
    sites: LocalSites, tmp_path: Path
) -> None:
    serve(sites, fixed=False)
    config = config_file(tmp_path, sites.port)
    fp = await first_run(config)
    database = tmp_path / "monitor.db"
    serve(sites, fixed=True)
    # A scheduled links run holds the duty now (as another process would).
    held = DutyLock(database, "links").acquire(SystemClock().now())
    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: daemon.sent("READY", "1"), what="READY=1")
        with Store(database) as store:  # the console queues the request
            recheck = request_recheck(store, fp, "链接已恢复", "jyj", SystemClock().now())
        await daemon.until_log(rf"re-check #{recheck.id} waits: links is running now")
        with Store(database) as store:
            waiting = get_recheck(store, recheck.id)
            assert waiting is not None and waiting.state == "pending" and waiting.attempts == 0
        held.release()

        def done() -> bool:
            with Store(database) as store:
                current = get_recheck(store, recheck.id)
                return current is not None and current.state == "done"

        await daemon.until(done, what="the re-check done")
        with Store(database) as store:
            finished = get_recheck(store, recheck.id)
            detail = finding_detail(store, fp, SystemClock().now())
            # Claiming twice is impossible: the daemon took it once.
            assert claim_recheck(store, recheck.id, SystemClock().now()) is None
        assert finished is not None and finished.outcome == "closed" and finished.attempts == 1
        assert detail is not None and detail.row.status == "resolved"
        assert [e.event for e in detail.events][-3:] == ["rectified", "resolved", "recheck_closed"]
        await daemon.until_log(rf"re-check #{recheck.id}: 复核通过")
    finally:
        held.release()
        await daemon.close()
