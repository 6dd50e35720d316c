"""Alerts delivered through Apprise to real webhook receivers on loopback, in every format the rules use,
including receivers that fail, time out and answer 429; and the outbox killed mid-send (SIGKILL).

WeCom, DingTalk and Feishu/Lark robots are reached through Apprise's own plugins: their fixed public
hosts are tunnelled by a loopback CONNECT proxy to a local HTTPS receiver (tests/webhooks.py). No test
traffic leaves 127.0.0.1: the proxy refuses every other destination, and this process refuses every
non-loopback connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from monitor.alerts.queue import queue_alerts
from monitor.alerts.send import drain
from monitor.app.cli import main
from monitor.bulletin.outbox import Outbox
from monitor.config import Config
from monitor.store.database import Store
from tests.alerts_data import SITE, UNITS, alert_config, at, clock_at, dark_link, dead_link, record_run
from tests.webhooks import Webhooks

REPO = Path(__file__).resolve().parents[1]


def one_dark_link(config: Config, tmp_path: Path) -> Outbox:
    """A dark link found at 02:10 and queued for every channel."""
    outbox = Outbox(tmp_path / "outbox")
    with Store(tmp_path / "monitor.db") as store:
        queue_alerts(config, store, outbox, clock_at("2026-12-04 02:00"))
        record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:10"))
        queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11"))
    return outbox


async def test_every_format_reaches_its_receiver(hooks: Webhooks, tmp_path: Path) -> None:
    channels = {
        "wecom": {"url": "wecombot://abcDEF123"},
        "ding": {"url": "dingtalk://0123456789abcdef0123456789abcdef"},
        "feishu": {"url": "feishu://feishuTOKEN-1"},
        "lark": {"url_env": "MONITOR_ALERT_LARK"},
        "json": {"url": hooks.json_url("/json")},
        "jsons": {"url": f"jsons://localhost:{hooks.https_port}/jsons"},
        "form": {"url": f"form://127.0.0.1:{hooks.http_port}/form"},
    }
    os.environ["MONITOR_ALERT_LARK"] = "lark://larkTOKEN2"
    config = alert_config(tmp_path, channels)
    outbox = one_dark_link(config, tmp_path)
    results = await drain(outbox, config, clock_at("2026-12-04 02:11"))
    assert sorted(e.channel for e in results) == sorted(channels)
    assert all(e.status == "sent" and e.attempts == 1 for e in results), [e.last_error for e in results]
    title = "【单项否决】示例县人民政府网：新发现暗链1处"

    [wecom] = hooks.requests_to("/cgi-bin/webhook/send")
    assert wecom.host == "qyapi.weixin.qq.com" and wecom.query == {"key": "abcDEF123"}
    assert wecom.json["msgtype"] == "text"  # Apprise's WeCom robot sends text: the plain rendering
    content = wecom.json["text"]["content"]
    assert content.startswith(title) and "单位：县教育局" in content and "**" not in content

    [ding] = hooks.requests_to("/robot/send")
    assert ding.host == "oapi.dingtalk.com" and ding.query["access_token"].startswith("0123")
    assert ding.json["msgtype"] == "markdown" and ding.json["markdown"]["title"] == title
    assert "**新发现暗链1处**" in ding.json["markdown"]["text"]
    assert "hxxp://bet1［.］example/casino" in ding.json["markdown"]["text"]

    [feishu] = hooks.requests_to("/open-apis/bot/v2/hook/feishuTOKEN-1/")
    assert feishu.host == "open.feishu.cn" and feishu.json["msg_type"] == "interactive"
    assert feishu.json["card"]["header"]["title"]["content"] == title
    [lark] = hooks.requests_to("/open-apis/bot/v2/hook/larkTOKEN2")
    assert lark.host == "open.larksuite.com" and lark.json["msg_type"] == "interactive"

    [plain] = hooks.requests_to("/json")
    assert plain.json["title"] == title and "整改时限：2026-12-18前" in plain.json["message"]
    [tls] = hooks.requests_to("/jsons")
    assert tls.host.startswith("localhost:") and tls.json["title"] == title
    [form] = hooks.requests_to("/form")
    assert form.content_type.startswith("application/x-www-form-urlencoded") and form.form["title"] == title
    # Sent is sent: another round sends nothing.
    assert await drain(outbox, config, clock_at("2026-12-04 02:20")) == []
    assert len(hooks.received) == len(channels)
    # No webhook token is kept in the outbox: the URL is read from the config when sending.
    stored = b"".join(p.read_bytes() for p in (tmp_path / "outbox").iterdir() if p.is_file())
    assert b"abcDEF123" not in stored and b"0123456789abcdef" not in stored and b"larkTOKEN2" not in stored
    del os.environ["MONITOR_ALERT_LARK"]


async def test_a_500_is_retried_and_delivered_once(hooks: Webhooks, tmp_path: Path) -> None:
    config = alert_config(tmp_path, {"ops": {"url": hooks.json_url()}})
    outbox = one_dark_link(config, tmp_path)
    hooks.plan.extend(["500"])
    [first] = await drain(outbox, config, clock_at("2026-12-04 02:11"))
    assert first.status == "failed" and "HTTP 500" in (first.last_error or "") and first.unconfirmed == 0
    [second] = await drain(outbox, config, clock_at("2026-12-04 02:12"))
    assert second.status == "sent" and second.attempts == 2
    assert len(hooks.requests_to("/hook")) == 2  # the refused one and the delivered one


async def test_429_waits_with_doubling_backoff_and_is_not_lost(hooks: Webhooks, tmp_path: Path) -> None:
    config = alert_config(
        tmp_path, {"ops": {"url": hooks.json_url()}}, retry_backoff_seconds=60, max_backoff_seconds=600
    )
    outbox = one_dark_link(config, tmp_path)
    hooks.plan.extend(["429", "429"])
    clock = clock_at("2026-12-04 02:11")
    [e] = await drain(outbox, config, clock)
    assert e.status == "failed" and "HTTP 429" in (e.last_error or "")
    assert e.next_attempt_at == "2026-12-04T02:12:00+08:00"
    clock.advance(seconds=30)
    assert await drain(outbox, config, clock) == []  # not before its time
    clock.advance(seconds=30)
    [e] = await drain(outbox, config, clock)
    assert e.status == "failed" and e.next_attempt_at == "2026-12-04T02:14:00+08:00"  # 120 s now
    clock.advance(seconds=120)
    [e] = await drain(outbox, config, clock)
    assert e.status == "sent" and e.attempts == 3 and e.unconfirmed == 0
    assert len(hooks.requests_to("/hook")) == 3


async def test_a_receiver_that_times_out_gets_the_alert_at_most_twice(
    hooks: Webhooks, tmp_path: Path
) -> None:
    config = alert_config(tmp_path, {"ops": {"url": hooks.json_url(), "timeout_seconds": 1.5}})
    outbox = one_dark_link(config, tmp_path)
    hooks.hang_seconds = 5  # no answer within the channel's 1.5 s
    hooks.plan.extend(["hang", "hang", "hang"])
    [e] = await drain(outbox, config, clock_at("2026-12-04 02:11"))
    assert e.status == "failed" and e.unconfirmed == 1 and "no confirmation" in (e.last_error or "")
    [e] = await drain(outbox, config, clock_at("2026-12-04 02:12"))
    assert (
        e.status == "failed"
        and e.permanent
        and e.unconfirmed == 2
        and "may have arrived twice" in (e.last_error or "")
    )
    assert await drain(outbox, config, clock_at("2026-12-04 03:00")) == []
    assert len(hooks.requests_to("/hook")) == 2


async def test_one_timeout_then_delivered(hooks: Webhooks, tmp_path: Path) -> None:
    config = alert_config(tmp_path, {"ops": {"url": hooks.json_url(), "timeout_seconds": 1.5}})
    outbox = one_dark_link(config, tmp_path)
    hooks.hang_seconds = 5
    hooks.plan.extend(["hang"])
    await drain(outbox, config, clock_at("2026-12-04 02:11"))
    [e] = await drain(outbox, config, clock_at("2026-12-04 02:12"))  # answered at once now
    assert e.status == "sent" and e.unconfirmed == 1
    assert len(hooks.requests_to("/hook")) == 2


async def test_a_permanent_refusal_is_not_retried_and_a_closed_port_is(
    hooks: Webhooks, tmp_path: Path
) -> None:
    closed = f"json://127.0.0.1:{free_port()}/hook"
    config = alert_config(tmp_path, {"wrong": {"url": hooks.json_url("/wrong")}, "down": {"url": closed}})
    outbox = one_dark_link(config, tmp_path)
    hooks.plan.extend(["400"])
    results = {e.channel: e for e in await drain(outbox, config, clock_at("2026-12-04 02:11"))}
    wrong = results["wrong"]
    assert (
        wrong.status == "failed"
        and wrong.permanent
        and "refused for good: HTTP 400" in (wrong.last_error or "")
    )
    assert results["down"].status == "failed" and results["down"].unconfirmed == 0
    assert "not delivered" in (results["down"].last_error or "")
    again = {e.channel: e for e in await drain(outbox, config, clock_at("2026-12-04 02:12"))}
    assert set(again) == {"down"} and again["down"].attempts == 2
    assert len(hooks.requests_to("/wrong")) == 1


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, channels: dict, **alerts: object) -> Path:
    path = tmp_path / "config.yaml"
    data = {
        "sites": [SITE],
        "units": UNITS,
        "storage": {"database": "monitor.db"},
        "alerts": {"enabled": True, "channels": channels, "rules": [{"channels": list(channels)}], **alerts},
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def flush_process(config_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config_path), "outbox", "flush"],
        cwd=config_path.parent,
        env={**os.environ, **env, "PYTHONPATH": str(REPO), "MONITOR_NOW": "2026-12-04T02:11:00+08:00"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_sigkill_mid_send_never_loses_an_alert_nor_sends_it_more_than_twice(
    hooks: Webhooks, tmp_path: Path
) -> None:
    config_path = write_config(
        tmp_path, {"ops": {"url": hooks.json_url(), "timeout_seconds": 30}}, retry_backoff_seconds=0
    )
    from monitor.config import load_config

    config = load_config(config_path)
    outbox = one_dark_link(config, tmp_path)
    [entry] = outbox.entries()
    hooks.hang_seconds = 60  # the receiver holds every request: the sender is killed while waiting

    for round_number in (1, 2):
        hooks.plan.append("hang")
        proc = flush_process(config_path, hooks.env())
        wait_for(lambda n=round_number: len(hooks.requests_to("/hook")) == n)
        state = outbox.get(entry.key)
        assert state is not None and state.status == "sending"  # recorded before the attempt
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL

    # Two attempts may both have arrived: the next process gives up on it instead of sending a third.
    proc = flush_process(config_path, hooks.env())
    assert proc.wait(60) == 3, proc.stderr.read().decode() if proc.stderr else ""
    final = outbox.get(entry.key)
    assert final is not None and final.permanent and final.unconfirmed == 2
    assert final.attempts == 2 and len(hooks.requests_to("/hook")) == 2


def test_sigkill_once_then_delivered_exactly_by_the_next_process(hooks: Webhooks, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, {"ops": {"url": hooks.json_url(), "timeout_seconds": 30}})
    from monitor.config import load_config

    config = load_config(config_path)
    outbox = one_dark_link(config, tmp_path)
    [entry] = outbox.entries()
    hooks.hang_seconds = 60
    hooks.plan.append("hang")
    proc = flush_process(config_path, hooks.env())
    wait_for(lambda: len(hooks.requests_to("/hook")) == 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc = flush_process(config_path, hooks.env())  # the receiver answers at once now
    assert proc.wait(60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    final = outbox.get(entry.key)
    assert final is not None and final.status == "sent" and final.unconfirmed == 1
    assert [h["result"] for h in final.history] == ["interrupted", "sent"]
    assert len(hooks.requests_to("/hook")) == 2


def test_cli_alerts_test_and_outbox_status(hooks: Webhooks, tmp_path: Path) -> None:
    config_path = write_config(
        tmp_path,
        {"ops": {"url": hooks.json_url("/ops")}, "broken": {"url": hooks.json_url("/broken")}},
    )
    runner = CliRunner()
    args = ["--config", str(config_path)]
    env = {"MONITOR_NOW": "2026-12-04T09:00:00+08:00", "MONITOR_DB": ""}
    result = runner.invoke(main, [*args, "alerts", "test", "ops"], env=env)
    assert result.exit_code == 0, result.output
    [test] = hooks.requests_to("/ops")
    assert test.json["title"] == "【测试】政府网站监测告警通道测试"
    assert "告警通道「ops」配置正确" in test.json["message"] and "2026-12-04 09:00" in test.json["message"]
    hooks.plan.append("500")
    result = runner.invoke(main, [*args, "alerts", "test", "broken"], env=env)
    assert result.exit_code == 3 and "HTTP 500" in result.output
    result = runner.invoke(main, [*args, "alerts", "test", "nope"], env=env)
    assert result.exit_code == 2 and "no alert channel named 'nope'" in result.output

    from monitor.config import load_config

    one_dark_link(load_config(config_path), tmp_path)
    for command in (["outbox", "status"], ["mail", "status"]):
        result = runner.invoke(main, ["--lang", "en", *args, *command], env=env)
        assert result.exit_code == 0, result.output
        assert "alert → ops  queued" in result.output and "alert → broken  queued" in result.output
        assert "mail: 0 queued, 0 failed, 0 sent" in result.output
        assert "alerts: 2 queued, 0 failed, 0 sent" in result.output
    result = runner.invoke(main, [*args, "outbox", "flush"], env=env)
    assert result.exit_code == 0 and "2 sent, 0 still in the outbox" in result.output
    assert (
        "alerts: 0 queued, 0 failed, 2 sent"
        in runner.invoke(main, ["--lang", "en", *args, "outbox", "status"], env=env).output
    )
    payloads = [r.json for r in hooks.requests_to("/ops")]
    assert payloads[-1]["title"] == "【单项否决】示例县人民政府网：新发现暗链1处"
    assert [p["title"] for p in payloads].count("【单项否决】示例县人民政府网：新发现暗链1处") == 1


def test_a_rejected_alert_is_kept_and_can_be_queued_again(hooks: Webhooks, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, {"ops": {"url": hooks.json_url("/ops")}})
    from monitor.config import load_config

    outbox = one_dark_link(load_config(config_path), tmp_path)
    [entry] = outbox.entries()
    runner = CliRunner()
    args = ["--config", str(config_path)]
    env = {"MONITOR_NOW": "2026-12-04T09:00:00+08:00", "MONITOR_DB": ""}
    hooks.plan.append("400")
    result = runner.invoke(main, [*args, "outbox", "flush"], env=env)
    assert result.exit_code == 3 and f"{entry.key}: failed (refused for good: HTTP 400" in result.output
    status = runner.invoke(main, ["--lang", "en", *args, "outbox", "status"], env=env).output
    assert (
        "not retried (permanent failure)" in status
        and "not retried" in status
        and "alerts: 0 queued, 1 failed, 0 sent (1 not retried)" in status
    )
    assert runner.invoke(main, [*args, "outbox", "flush"], env=env).exit_code == 0  # nothing due
    result = runner.invoke(main, [*args, "outbox", "retry", entry.key], env=env)
    assert result.exit_code == 0 and "queued again" in result.output
    result = runner.invoke(main, [*args, "outbox", "flush"], env=env)
    assert result.exit_code == 0 and "1 sent" in result.output
    assert len(hooks.requests_to("/ops")) == 2
    assert runner.invoke(main, [*args, "outbox", "retry", "alert-nope"], env=env).exit_code == 2


def test_alerts_send_without_the_daemon_and_check_config(hooks: Webhooks, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, {"ops": {"url": hooks.json_url("/ops")}})
    runner = CliRunner()
    args = ["--config", str(config_path)]
    env = {"MONITOR_NOW": "2026-12-04T02:00:00+08:00", "MONITOR_DB": ""}
    result = runner.invoke(main, [*args, "check-config"], env=env)
    assert result.exit_code == 0 and "alerts:    on, 1 channel(s) (ops), 1 rule(s)" in result.output
    result = runner.invoke(main, [*args, "alerts", "send"], env=env)  # the first look: from now on
    assert result.exit_code == 0 and "0 change(s)" in result.output
    with Store(tmp_path / "monitor.db") as store:
        record_run(store, "darklinks", [dark_link(1), dark_link(2)], at("2026-12-04 02:10"))
    env["MONITOR_NOW"] = "2026-12-04T02:15:00+08:00"
    result = runner.invoke(main, [*args, "alerts", "send"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 change(s), 1 alert(s) queued (0 held)" in result.output and "→ ops: sent" in result.output
    [got] = hooks.requests_to("/ops")
    assert got.json["title"] == "【单项否决】示例县人民政府网：新发现暗链2处"
    result = runner.invoke(main, [*args, "alerts", "send"], env=env)
    assert "0 change(s)" in result.output and len(hooks.requests_to("/ops")) == 1

    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["alerts"]["rules"][0]["kinds"] = ["暗链", "no_such_kind"]
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(main, [*args, "check-config"], env=env)
    assert result.exit_code == 2
    assert "alerts.rules[0].kinds[1]: unknown finding kind or 问题类型 'no_such_kind'" in result.output


async def test_held_alerts_go_out_when_quiet_hours_end(hooks: Webhooks, tmp_path: Path) -> None:
    config = alert_config(
        tmp_path, {"ops": {"url": hooks.json_url()}}, quiet_hours={"start": "22:00", "end": "07:30"}
    )
    outbox = Outbox(tmp_path / "outbox")
    with Store(tmp_path / "monitor.db") as store:
        queue_alerts(config, store, outbox, clock_at("2026-12-04 01:00"))
        record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:10"))
        record_run(store, "links", [dead_link(1)], at("2026-12-04 02:20"))
        queue_alerts(config, store, outbox, clock_at("2026-12-04 02:30"))
    clock = clock_at("2026-12-04 02:30")
    [veto] = await drain(outbox, config, clock)  # 单项否决 at once, at night
    assert veto.status == "sent" and veto.subject.startswith("【单项否决】")
    clock.advance(hours=4, minutes=59)  # 07:29: still quiet
    assert await drain(outbox, config, clock) == []
    clock.advance(minutes=1)
    [held] = await drain(outbox, config, clock)
    assert (
        held.status == "sent"
        and held.subject.startswith("【扣分】")
        and held.sent_at == "2026-12-04T07:30:00+08:00"
    )
    assert [r.json["title"][:6] for r in hooks.requests_to("/hook")] == ["【单项否决】", "【扣分】示例"]


async def test_sent_alerts_are_pruned_after_keep_days_unsent_ones_never(
    hooks: Webhooks, tmp_path: Path
) -> None:
    from monitor.alerts.send import prune

    config = alert_config(
        tmp_path, {"ops": {"url": hooks.json_url()}, "down": {"url": "json://127.0.0.1:1/x"}}
    )
    outbox = one_dark_link(config, tmp_path)
    results = {e.channel: e.status for e in await drain(outbox, config, clock_at("2026-12-04 02:11"))}
    assert results == {"ops": "sent", "down": "failed"}
    assert prune(outbox, at("2026-12-20 00:00"), 30) == 0
    assert prune(outbox, at("2027-01-04 02:12"), 30) == 1
    assert [e.channel for e in outbox.entries()] == ["down"]  # never delivered: kept
    assert sorted(p.suffix for p in (tmp_path / "outbox").iterdir() if not p.name.startswith(".")) == [
        ".alert",
        ".json",
    ]


async def test_mail_channel_reaches_a_real_smtp_server(hooks: Webhooks, tmp_path: Path) -> None:
    from email import message_from_bytes
    from email.header import decode_header, make_header
    from email.policy import default

    from tests.test_bulletin_mail import smtp_server

    port = free_port()
    url = f"mailto://127.0.0.1:{port}?from=monitor@shixian.gov.cn&to=duty@shixian.gov.cn&mode=insecure"
    config = alert_config(tmp_path, {"duty-mail": {"url": url}})
    outbox = one_dark_link(config, tmp_path)
    [down] = await drain(outbox, config, clock_at("2026-12-04 02:11"))  # no server yet: not delivered
    assert down.status == "failed" and down.unconfirmed == 0 and not down.permanent
    controller, inbox = smtp_server(port)
    try:
        [sent] = await drain(outbox, config, clock_at("2026-12-04 02:12"))
    finally:
        controller.stop()
    assert sent.status == "sent"
    [(sender, rcpts, raw)] = inbox.messages
    assert sender == "monitor@shixian.gov.cn" and rcpts == ["duty@shixian.gov.cn"]
    msg = message_from_bytes(raw, policy=default)
    assert str(make_header(decode_header(msg["Subject"]))) == "【单项否决】示例县人民政府网：新发现暗链1处"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "单位：县教育局" in text and "整改时限：2026-12-18前" in text and "hxxp://bet1[.]example" in text
