"""What ``monitor status`` and ``monitor outbox status`` print, in the user's language
(:mod:`monitor.app.lang`: Chinese unless ``--lang en``, ``MONITOR_LANG=en`` or an English locale).

The ``--json`` forms stay as they are: machine-readable, English keys. Schedules (``every 1s``, cron
expressions), times and outbox keys are printed as stored: they are what the user types or greps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from monitor.app.lang import status_label, t
from monitor.bulletin.outbox import Outbox, OutboxEntry
from monitor.bulletin.vocabulary import duty_label
from monitor.core.findings import Severity
from monitor.core.report import load_report
from monitor.core.textsafe import inert
from monitor.store.database import Store

#: Outbox entry statuses in Chinese (the outbox keeps the English ones).
OUTBOX_STATUS_ZH = {
    "queued": "待发送",
    "held": "暂缓",
    "sending": "发送中",
    "failed": "发送失败",
    "sent": "已发送",
}


def run_figures(run: Mapping[str, Any]) -> str:
    """The bracketed figures after a run line: pages and links crawled, findings, backup size, why a run
    was degraded or failed ("" when there is nothing to say)."""
    report = load_report(run.get("counts") or {}, f"run {run.get('id')}")
    bits = []
    crawl = report.crawl
    if crawl is not None and crawl.pages_crawled is not None:
        links, broken = crawl.links_checked or 0, crawl.broken or 0
        bits.append(
            t(
                f"抓取{crawl.pages_crawled}个页面，检查{links}个链接，失效{broken}个",
                f"{crawl.pages_crawled} pages, {links} links, {broken} broken",
            )
        )
    if report.findings is not None:
        bits.append(t(f"问题{report.findings}条", f"{report.findings} findings"))
    size = report.number("bytes")
    if run.get("duty") == "backup" and size is not None:
        bits.append(t(f"{size}字节", f"{size} bytes"))
    if run.get("status") == "degraded":
        reason = inert(str(report.degraded_reason or run.get("error")))
        bits.append(t(f"降级运行，不作整改判定：{reason}", f"degraded, nothing resolved: {reason}"))
    elif run.get("error"):
        error = inert(str(run["error"]))
        bits.append(t(f"错误：{error}", f"error: {error}"))
    if not bits:
        return ""
    return t(f"（{'；'.join(bits)}）", f" ({'; '.join(bits)})")


def _duty_name(duty: str) -> str:
    label = duty_label(duty)
    return t(f"{label}（{duty}）" if label != duty else duty, duty)


def print_status(
    duties: Iterable[str],
    runs: list[dict[str, Any]],
    in_progress: list[dict[str, Any]],
    open_counts: Mapping[str, int],
    state: Mapping[str, Any] | None,
) -> None:
    """The daemon, each duty's schedule, runs in progress and last runs, and open findings by severity."""
    jobs = (state or {}).get("jobs", {})
    if state:
        pid, since = state.get("pid"), state.get("started_at", "?")
        click.echo(
            t(f"守护进程：运行中（pid {pid}，{since}启动）", f"daemon: running (pid {pid}, since {since})")
        )
    else:
        click.echo(t("守护进程：未运行", "daemon: not running"))
    duties = list(duties)
    if not duties:
        click.echo(t("尚无运行记录", "no runs recorded yet"))
    for duty in duties:
        job = jobs.get(duty, {})
        line = f"\n{_duty_name(duty)}"
        if job:
            schedule, upcoming = job.get("schedule"), job.get("next_run")
            line += t(
                f" — 计划 {schedule}，下次 {upcoming or '已暂停'}",
                f" — {schedule}, next {upcoming or 'paused'}",
            )
        click.echo(line)
        for r in in_progress:
            if r["duty"] == duty:
                click.echo(_running_line(r, duty))
        duty_runs = [r for r in runs if r["duty"] == duty]
        if not duty_runs:
            click.echo(t("  尚无已结束的运行", "  no finished run yet"))
        for r in duty_runs:
            where = "" if r["site"] == duty else f"{inert(r['site'])}: "
            click.echo(
                t(
                    f"  {where}最近一次：第{r['id']}次运行 {r['started_at']} {status_label(r['status'])}"
                    f"{run_figures(r)}",
                    f"  {where}last run #{r['id']} {r['started_at']} {r['status']}{run_figures(r)}",
                )
            )
    total = sum(open_counts.values())
    click.echo(
        t(
            "\n待整改问题："
            + "，".join(f"{s.label_zh}{open_counts.get(s.value, 0)}" for s in Severity)
            + f"（共{total}条）",
            "\nopen findings: "
            + ", ".join(f"{s.label_zh} {open_counts.get(s.value, 0)}" for s in Severity)
            + f" (total {total})",
        )
    )


def _running_line(r: Mapping[str, Any], duty: str) -> str:
    where = "" if r["site"] == duty else f"{inert(r['site'])}: "
    if Store.process_gone(r):
        return t(
            f"  {where}第{r['id']}次运行（{r['started_at']}开始）：其进程（pid {r['pid']}）已不存在，"
            "下次运行时记为已中断",
            f"  {where}run #{r['id']} since {r['started_at']}: its process (pid {r['pid']}) is "
            "gone; the next run records it as interrupted",
        )
    return t(
        f"  {where}正在运行：第{r['id']}次运行，{r['started_at']}开始（pid {r['pid']}）",
        f"  {where}running now: run #{r['id']} since {r['started_at']} (pid {r['pid']})",
    )


def _outbox_status(status: str) -> str:
    return t(OUTBOX_STATUS_ZH.get(status, status), status)


def _entry_lines(e: OutboxEntry) -> list[str]:
    if e.status == "sent":
        when = t(f"已于{e.sent_at}发送", f"sent {e.sent_at}")
    elif e.permanent:
        when = t("不再重试（永久失败）", "not retried (permanent failure)")
    elif e.status == "sending":
        when = t(f"{e.last_attempt_at}开始发送", f"attempt started {e.last_attempt_at}")
    else:
        upcoming = e.next_attempt_at
        when = t(f"下次尝试 {upcoming or '立即'}", f"next try {upcoming or 'now'}")
    unconfirmed = t(f"  未确认{e.unconfirmed}次", f"  unconfirmed {e.unconfirmed}") if e.unconfirmed else ""
    if e.channel == "mail":
        what = t("邮件", "mail")
        who = t(f"{len(e.recipients)}个收件人", f"{len(e.recipients)} recipient(s)")
    else:
        what = t(f"告警 → {e.channel}", f"alert → {e.channel}")
        who = inert(e.subject)[:60]
    attempts = t(f"已尝试{e.attempts}次", f"attempts {e.attempts}")
    status = _outbox_status(e.status)
    lines = [f"  {e.key}  {what}  {status:<7}  {attempts}{unconfirmed}  {who}  {when}"]
    if e.last_error:
        error = inert(e.last_error)
        lines.append(t(f"      最近一次错误：{error}", f"      last error: {error}"))
    return lines


def print_outbox_status(outbox: Outbox) -> None:
    """Every message in the outbox (mails and alerts), then how many of each per status."""
    entries = outbox.entries()
    click.echo(t(f"发件箱：{outbox.folder}", f"outbox: {outbox.folder}"))
    for e in entries:
        for line in _entry_lines(e):
            click.echo(line)
    statuses = ("queued", "held", "sending", "failed", "sent")
    for label, group in (
        (t("邮件", "mail"), [e for e in entries if e.channel == "mail"]),
        (t("告警", "alerts"), [e for e in entries if e.channel != "mail"]),
    ):
        counts = {s: sum(1 for e in group if e.status == s) for s in statuses}
        shown = [(s, n) for s, n in counts.items() if n or s in ("queued", "failed", "sent")]
        given_up = sum(1 for e in group if e.permanent)
        click.echo(
            t(
                f"{label}："
                + "，".join(f"{OUTBOX_STATUS_ZH[s]}{n}" for s, n in shown)
                + (f"（{given_up}条不再重试）" if given_up else ""),
                f"{label}: "
                + ", ".join(f"{n} {s}" for s, n in shown)
                + (f" ({given_up} not retried)" if given_up else ""),
            )
        )
