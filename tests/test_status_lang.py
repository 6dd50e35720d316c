"""``monitor status`` and ``monitor outbox status`` speak the user's language like the rest of the CLI:
Chinese by default, English with ``--lang en`` or ``MONITOR_LANG=en`` (monitor/app/lang.py)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.app.lang import set_lang
from monitor.bulletin.outbox import Outbox, OutboxEntry
from monitor.core.clock import SHANGHAI
from monitor.core.findings import Finding, Severity
from monitor.store.database import Store

NOW = datetime(2026, 11, 26, 2, 0, 3, tzinfo=SHANGHAI)
#: No language asked for, no locale: the Chinese default (a systemd unit's environment).
NO_LANG: dict[str, str | None] = {"MONITOR_LANG": None, "LANG": None, "LC_ALL": None, "LC_MESSAGES": None}


@pytest.fixture(autouse=True)
def chinese_afterwards() -> object:
    yield
    set_lang("zh")


def _store_with_runs(db: Path) -> None:
    with Store(db) as store:
        run = store.start_run("links", "portal", ["links"], NOW)
        findings = [
            Finding("links", "dead_link", Severity.DEDUCTION, "portal", f"u{i}", f"http://x/{i}", "死链")
            for i in range(2)
        ]
        counts = {"pages_crawled": 120, "links_checked": 900, "broken": 2, "findings": 2}
        store.finish_run(run, status="ok", now=NOW, findings=findings, counts=counts)
        failed = store.start_run("backup", "backup", ["backup"], NOW)
        store.finish_run(failed, status="failed", now=NOW, error="disk full")
        live = store.start_run("links", "portal", ["links"], NOW + timedelta(days=1))
        store.backend.execute("UPDATE runs SET pid = ? WHERE id = ?", [os.getppid(), live])


def test_status_is_chinese_by_default(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _store_with_runs(db)
    result = CliRunner().invoke(main, ["--db", str(db), "status"], env=NO_LANG)
    out = result.output
    assert result.exit_code == 0, out
    assert "守护进程：未运行" in out
    assert "链接可用性检测（死链）（links）" in out
    assert (
        "portal: 最近一次：第1次运行 2026-11-26T02:00:03+08:00 完成"
        "（抓取120个页面，检查900个链接，失效2个；问题2条）" in out
    )
    assert f"portal: 正在运行：第3次运行，2026-11-27T02:00:03+08:00开始（pid {os.getppid()}）" in out
    assert "最近一次：第2次运行 2026-11-26T02:00:03+08:00 失败（错误：disk full）" in out
    assert "待整改问题：单项否决0，扣分2，预警0，提示0（共2条）" in out
    for english in ("daemon", "last run", "running now", "open findings", "pages", "error:", "total"):
        assert english not in out


def test_status_follows_monitor_lang_and_the_option(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    _store_with_runs(db)
    by_env = CliRunner().invoke(main, ["--db", str(db), "status"], env={**NO_LANG, "MONITOR_LANG": "en"})
    assert "daemon: not running" in by_env.output
    assert (
        "portal: last run #1 2026-11-26T02:00:03+08:00 ok (120 pages, 900 links, 2 broken; 2 findings)"
        in (by_env.output)
    )
    # The option wins over the environment, both ways.
    by_option = CliRunner().invoke(
        main, ["--lang", "zh", "--db", str(db), "status"], env={"MONITOR_LANG": "en"}
    )
    assert "守护进程：未运行" in by_option.output and "daemon" not in by_option.output
    # The JSON form stays machine-readable whatever the language.
    as_json = CliRunner().invoke(main, ["--db", str(db), "status", "--json"], env=NO_LANG)
    assert '"open_findings"' in as_json.output and "待整改" not in as_json.output


def _outbox_with_a_mail_and_a_refused_alert(folder: Path) -> Outbox:
    outbox = Outbox(folder)
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "示例县政府网站监测通报（2026年第48周）", "a@b.cn", "c@d.cn"
    msg.set_content("正文")
    outbox.enqueue(msg, key="2026-W48", week="2026-W48", recipients=["c@d.cn"], now=NOW)
    alert = OutboxEntry(
        key="alert-1",
        week="2026-W48",
        subject="【单项否决】示例县人民政府网：新发现暗链1处",
        recipients=[],
        status="failed",
        attempts=2,
        last_error="refused for good: HTTP 400",
        permanent=True,
        channel="ops",
    )
    outbox.enqueue_payload(alert, b"{}")
    return outbox


def test_outbox_status_is_chinese_by_default_and_english_on_request(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    Store(db).close()
    _outbox_with_a_mail_and_a_refused_alert(tmp_path / "outbox")
    for command in (["outbox", "status"], ["mail", "status"]):
        out = CliRunner().invoke(main, ["--db", str(db), *command], env=NO_LANG).output
        assert f"发件箱：{tmp_path / 'outbox'}" in out
        assert "2026-W48  邮件  待发送" in out and "已尝试0次" in out and "1个收件人" in out
        assert "alert-1  告警 → ops  发送失败" in out and "已尝试2次" in out and "不再重试（永久失败）" in out
        assert "最近一次错误：refused for good: HTTP 400" in out
        assert "邮件：待发送1，发送失败0，已发送0" in out
        assert "告警：待发送0，发送失败1，已发送0（1条不再重试）" in out
        for english in ("outbox:", "queued", "attempts", "recipient", "last error", "not retried"):
            assert english not in out
    out = CliRunner().invoke(
        main, ["--db", str(db), "outbox", "status"], env={**NO_LANG, "LANG": "en_US.UTF-8"}
    )
    assert "alerts: 0 queued, 1 failed, 0 sent (1 not retried)" in out.output
    assert "mail: 1 queued, 0 failed, 0 sent" in out.output
