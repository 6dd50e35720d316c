"""Alerts: transitions only (never the same open problem twice), damping, grouping, routing, quiet hours,
and the messages themselves — on a real SQLite store and a real outbox folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitor.alerts.compose import defang
from monitor.alerts.queue import queue_alerts
from monitor.alerts.rules import unknown_kinds
from monitor.alerts.transitions import HEARTBEAT_STATE, heartbeat
from monitor.bulletin.outbox import Outbox
from monitor.config import ConfigError, load_config
from monitor.store.database import Store
from tests.alerts_data import alert_config, at, clock_at, dark_link, dead_link, down, record_run
from tests.conftest import open_test_store
from tests.webhooks import loopback_only

# The store tests run on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_stores

JSON = {"url": "json://127.0.0.1:9/hook"}  # never contacted here: nothing is delivered in this module


def queued(outbox: Outbox) -> list[dict]:
    """The alert payloads in the outbox, oldest first, with their state."""
    out = []
    for e in outbox.entries():
        if e.channel == "mail":
            continue
        payload = json.loads(outbox.payload_bytes(e.key))
        out.append({**payload, "status": e.status, "next": e.next_attempt_at, "key": e.key})
    return out


@pytest.fixture(autouse=True)
def _nothing_off_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is delivered here; should anything try, it may not leave 127.0.0.1."""
    loopback_only(monkeypatch)


@pytest.fixture
def county(store_url: str, tmp_path: Path) -> tuple[Store, Outbox]:
    store = open_test_store(store_url, tmp_path)
    yield store, Outbox(tmp_path / "outbox")
    store.close()


def test_a_finding_alerts_when_it_opens_and_never_again_while_open(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON})
    queue_alerts(config, store, outbox, clock_at("2026-12-03 02:30"))  # first look: the starting point
    record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:10"))
    report = queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11"))
    assert (report.transitions, report.queued) == (1, 1)
    [alert] = queued(outbox)
    assert alert["event"] == "finding" and alert["severity"] == "veto" and alert["status"] == "queued"
    assert alert["title"] == "【单项否决】示例县人民政府网：新发现暗链1处"
    # Seen again the next nights: the same open problem, no new alert.
    for day in (5, 6, 7):
        record_run(store, "darklinks", [dark_link(1)], at(f"2026-12-0{day} 02:10"))
        assert queue_alerts(config, store, outbox, clock_at(f"2026-12-0{day} 02:11")).queued == 0
    assert len(queued(outbox)) == 1


def test_looking_twice_never_queues_twice(tmp_path: Path, county) -> None:
    """A crash between queueing and moving the cursor looks again: same keys, nothing queued twice."""
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON})
    queue_alerts(config, store, outbox, clock_at("2026-12-03 02:30"))
    cursor = store.get_state("alerts.cursor")
    record_run(store, "darklinks", [dark_link(1), dark_link(2)], at("2026-12-04 02:10"))
    assert queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11")).queued == 1
    store.put_state("alerts.cursor", cursor, at("2026-12-04 02:11"))  # as if the cursor was never saved
    assert queue_alerts(config, store, outbox, clock_at("2026-12-04 02:12")).queued == 0
    assert len(queued(outbox)) == 1


def test_alerts_start_from_now_not_from_history(tmp_path: Path, county) -> None:
    store, outbox = county
    record_run(store, "darklinks", [dark_link(n) for n in range(5)], at("2026-12-04 02:10"))
    config = alert_config(tmp_path, {"ops": JSON})
    assert queue_alerts(config, store, outbox, clock_at("2026-12-04 03:00")).queued == 0
    assert queued(outbox) == []


def test_a_reopening_within_the_damping_window_is_a_flap(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, reopen_damping="2d")
    queue_alerts(config, store, outbox, clock_at("2026-12-01 00:00"))
    nights = [
        ("2026-12-01", [dark_link(1)]),  # opens: alert
        ("2026-12-02", []),  # resolved
        ("2026-12-03", [dark_link(1)]),  # back within 2 days of its resolution: a flap, no alert
        ("2026-12-04", []),  # resolved again
    ]
    for day, findings in nights:
        record_run(store, "darklinks", findings, at(f"{day} 02:00"))
        queue_alerts(config, store, outbox, clock_at(f"{day} 02:01"))
    assert len(queued(outbox)) == 1
    record_run(store, "darklinks", [dark_link(1)], at("2026-12-07 02:00"))  # back after 3 days
    queue_alerts(config, store, outbox, clock_at("2026-12-07 02:01"))
    alerts = queued(outbox)
    assert len(alerts) == 2 and "其中1处为整改后再次出现" in alerts[1]["body"]


def test_many_new_findings_of_one_kind_are_one_grouped_message(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(
        tmp_path, {"ops": JSON}, console_url="https://jiankong.shixian.gov.cn/findings", group_top=5
    )
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    units = ["县教育局"] * 5 + ["县卫健委"] * 4 + ["城关镇"] * 3
    findings = [dark_link(n, unit) for n, unit in enumerate(units)] + [dead_link(1), dead_link(2)]
    record_run(store, "darklinks", findings[:12], at("2026-12-04 02:10"))
    record_run(store, "links", findings[12:], at("2026-12-04 02:20"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:30"))
    alerts = queued(outbox)
    assert [a["title"] for a in alerts] == [
        "【单项否决】示例县人民政府网：新发现暗链12处",
        "【扣分】示例县人民政府网：新发现链接不可用（死链）2处",
    ]
    body = alerts[0]["body"]
    assert "涉及3个单位：县教育局5处、县卫健委4处、城关镇3处" in body
    assert body.count("整改时限：2026-12-18前（10个工作日）") == 5  # the top 5 items, each with its deadline
    assert "另有7处未列出" in body and "https://jiankong.shixian.gov.cn/findings" in body
    assert "页面：http://www.shixian.gov.cn/xxgk/" in body  # the unit's page, readable
    assert "1. 单位：县教育局；" in body and "5. 单位：县教育局；" in body  # the unit with most items first


def test_crawled_text_stays_inert_in_markdown_and_text(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(
        tmp_path, {"ding": {"url": "dingtalk://0123456789abcdef0123456789abcdef"}, "wecom": JSON}
    )
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    hostile = dark_link(1, unit="县教育局", target="https://bet.example/x")
    hostile = type(hostile)(
        **{
            **hostile.__dict__,
            "message": "[点此领奖](https://evil.example/p) **急** \x1b[31m红\u202e反转 <img src=x>",
        }
    )
    record_run(store, "darklinks", [hostile], at("2026-12-04 02:10"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11"))
    by_channel = {a["channel"]: a for a in queued(outbox)}
    md = by_channel["ding"]
    assert md["format"] == "markdown"
    assert "](https://evil" not in md["body"] and "［点此领奖］" in md["body"]
    assert "hxxps://evil［.］example/p" in md["body"] and "hxxps://bet［.］example/x" in md["body"]
    assert "\x1b" not in md["body"] and "\u202e" not in md["body"] and "<img" not in md["body"]
    # Our own emphasis stays Markdown; the crawled ** does not.
    assert "**新发现暗链1处**" in md["body"] and "＊＊急＊＊" in md["body"]
    text = by_channel["wecom"]
    assert text["format"] == "text" and "**" not in text["body"].replace("**急**", "")
    assert "hxxps://evil[.]example/p" in text["body"] and "\x1b" not in text["body"]


def test_wecom_messages_fit_its_2048_byte_limit(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"wecom": {"url": "wecombot://abcDEF123"}}, group_top=20)
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    long = [dark_link(n, target=f"http://b{n}.example/" + "x" * 150) for n in range(40)]
    record_run(store, "darklinks", long, at("2026-12-04 02:10"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11"))
    [alert] = queued(outbox)
    assert len((alert["title"] + "\r\n" + alert["body"]).encode("utf-8")) <= 2048
    assert "另有" in alert["body"] and "处未列出" in alert["body"]


def test_site_down_and_back_up_with_the_outage_length(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON})
    queue_alerts(config, store, outbox, clock_at("2026-12-04 00:00"))
    record_run(store, "availability", [down("2026-12-04 01:00")], at("2026-12-04 01:30"))
    record_run(store, "availability", [down("2026-12-04 01:00")], at("2026-12-04 01:45"))  # still down
    queue_alerts(config, store, outbox, clock_at("2026-12-04 01:46"))
    record_run(store, "availability", [], at("2026-12-04 03:15"))  # up again (availability's up_after)
    queue_alerts(config, store, outbox, clock_at("2026-12-04 03:16"))
    alerts = queued(outbox)
    assert [a["event"] for a in alerts] == ["site_down", "site_up"]
    assert alerts[0]["title"] == "【告警】示例县人民政府网首页无法访问"
    assert "连续3次探测失败（HTTP 502）" in alerts[0]["body"]
    assert alerts[1]["title"] == "【恢复】示例县人民政府网首页已恢复访问，中断2小时15分钟"
    assert "2026-12-04 01:00至2026-12-04 03:15" in alerts[1]["body"]


def test_a_duty_failing_three_nights_alerts_once_and_its_recovery_once(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, failing_nights=3)
    queue_alerts(config, store, outbox, clock_at("2026-12-01 00:00"))
    for day in (1, 2):
        record_run(store, "links", [], at(f"2026-12-0{day} 02:00"), status="failed", error="site unreachable")
        queue_alerts(config, store, outbox, clock_at(f"2026-12-0{day} 03:00"))
    assert queued(outbox) == []  # two nights: not yet
    for day in (3, 4, 5):
        record_run(store, "links", [], at(f"2026-12-0{day} 02:00"), status="failed", error="site unreachable")
        queue_alerts(config, store, outbox, clock_at(f"2026-12-0{day} 03:00"))
    [failing] = queued(outbox)  # once for the streak, not each night after the third
    assert failing["title"] == "【告警】链接可用性检测（死链）连续3晚运行失败：示例县人民政府网"
    assert "site unreachable" in failing["body"]
    record_run(store, "links", [], at("2026-12-06 02:00"))
    queue_alerts(config, store, outbox, clock_at("2026-12-06 03:00"))
    alerts = queued(outbox)
    assert [a["event"] for a in alerts] == ["duty_failing", "duty_recovered"]
    assert "连续5晚共5次运行失败" in alerts[1]["body"]


def test_monitor_offline_alert_at_daemon_start(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, offline_after="2h")
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    heartbeat(store, at("2026-12-03 23:00"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 00:30"), at_start=True)  # 1.5 h: fine
    assert queued(outbox) == []
    heartbeat(store, at("2026-12-04 00:30"))
    queue_alerts(config, store, outbox, clock_at("2026-12-05 02:40"), at_start=True)
    [alert] = queued(outbox)
    assert alert["title"] == "【告警】监测服务离线26小时"
    assert "2026-12-04 00:30至2026-12-05 02:40" in alert["body"]
    assert store.get_state(HEARTBEAT_STATE)["at"].startswith("2026-12-04T00:30")


def test_quiet_hours_hold_all_but_veto_and_release_them_at_the_end(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, quiet_hours={"start": "22:00", "end": "07:30"})
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:10"))
    record_run(store, "links", [dead_link(1)], at("2026-12-04 02:20"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:30"))
    veto, deduction = queued(outbox)
    assert veto["severity"] == "veto" and veto["status"] == "queued" and veto["next"] is None
    assert deduction["status"] == "held" and deduction["next"] == "2026-12-04T07:30:00+08:00"
    from monitor.alerts.send import due

    entries = {e.key: e for e in outbox.entries()}
    assert not due(entries[deduction["key"]], at("2026-12-04 07:29"))
    assert due(entries[deduction["key"]], at("2026-12-04 07:30"))


def test_rules_route_by_severity_kind_label_site_and_unit(tmp_path: Path, county) -> None:
    store, outbox = county
    rules = [
        {"channels": ["leaders"], "severities": ["veto"]},
        {"channels": ["education"], "units": ["县教育局"], "kinds": ["暗链"]},
        {"channels": ["ops"], "events": ["site_down", "site_up", "duty_failing", "monitor_offline"]},
    ]
    config = alert_config(tmp_path, {"leaders": JSON, "education": JSON, "ops": JSON}, rules=rules)
    assert unknown_kinds(config.alerts) == []
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    record_run(
        store, "darklinks", [dark_link(1, "县教育局"), dark_link(2, "县卫健委")], at("2026-12-04 02:10")
    )
    record_run(store, "links", [dead_link(1)], at("2026-12-04 02:20"))
    record_run(store, "availability", [down()], at("2026-12-04 02:30"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:40"))
    got = {(a["channel"], a["title"]) for a in queued(outbox)}
    assert got == {
        ("leaders", "【单项否决】示例县人民政府网：新发现暗链2处"),
        ("education", "【单项否决】示例县人民政府网：新发现暗链1处"),
        ("ops", "【告警】示例县人民政府网首页无法访问"),
    }


def test_config_reference_errors_name_their_key(tmp_path: Path) -> None:
    def problems(alerts: dict) -> list[tuple[str, str]]:
        path = tmp_path / "config.yaml"
        data = {"sites": [{"id": "county", "name": "县", "homepage": "http://www.shixian.gov.cn/"}]}
        path.write_text(yaml.safe_dump({**data, "alerts": alerts}, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(path, env={})
        return err.value.problems

    assert problems({"channels": {"a": {"url": "nonsense"}}})[0][0] == "alerts.channels.a"
    assert "Apprise cannot load" in problems({"channels": {"a": {"url": "bogus://x"}}})[0][1]
    assert problems({"channels": {"a": {"url": "json://h/p", "url_env": "X"}}})[0][1].startswith(
        "give exactly one"
    )
    assert problems({"channels": {"a": {"url": "json://h/p"}}, "rules": [{"channels": ["b"]}]}) == [
        ("alerts.rules[0].channels[0]", "no channel named 'b'")
    ]
    assert problems(
        {"channels": {"a": {"url": "json://h/p"}}, "rules": [{"channels": ["a"], "sites": ["nope"]}]}
    ) == [("alerts.rules[0].sites[0]", "no site with id 'nope'")]
    assert problems({"enabled": True}) == [
        ("alerts.rules", "alerts are enabled but no rule sends anything to a channel")
    ]
    assert (
        problems(
            {"channels": {"a": {"url": "json://h/p"}}, "quiet_hours": {"start": "22:00", "end": "22:00"}}
        )[0][0]
        == "alerts.quiet_hours"
    )
    # ${VAR} expansion of a secret in the URL, and an unquoted 22:00 (YAML 1.1 reads it as 1320).
    path = tmp_path / "config.yaml"
    path.write_text(
        "alerts:\n  enabled: true\n  channels:\n    wecom: {url: 'wecombot://${MONITOR_ALERT_WECOM}'}\n"
        "  rules: [{channels: [wecom], kinds: [暗链, dead_link, 不存在的类型]}]\n"
        "  quiet_hours: {start: 22:00, end: 7:30}\n",
        encoding="utf-8",
    )
    config = load_config(path, env={"MONITOR_ALERT_WECOM": "abcDEF123"})
    assert config.alerts.channels["wecom"].url == "wecombot://abcDEF123"
    assert (
        str(config.alerts.quiet_hours.start) == "22:00:00"
        and str(config.alerts.quiet_hours.end) == "07:30:00"
    )
    assert unknown_kinds(config.alerts) == [
        ("alerts.rules[0].kinds[2]", "unknown finding kind or 问题类型 '不存在的类型'")
    ]


def test_defang_keeps_foreign_addresses_readable_but_never_tappable() -> None:
    assert defang("https://bet.example.com/x?a=1") == "hxxps://bet[.]example[.]com/x?a=1"
    assert defang("www.bet.example/x") == "www[.]bet.example/x"


async def test_the_outbox_keeps_mails_and_alerts_apart(tmp_path: Path, county) -> None:
    """A mail state file written before alerts existed reads as mail; mail flush never sends an alert; an
    alert whose state file was never written (killed between the two writes) is queued again."""
    import socket
    from email.message import EmailMessage

    from monitor.config import Smtp

    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON})
    msg = EmailMessage()
    msg["Subject"], msg["To"] = "通报", "zwgk@shixian.gov.cn"
    msg.set_content("正文")
    outbox.enqueue(
        msg,
        key="2026-W49-abc",
        week="2026-W49",
        recipients=["zwgk@shixian.gov.cn"],
        now=at("2026-12-04 08:00"),
    )
    state = tmp_path / "outbox" / "2026-W49-abc.json"
    old = json.loads(state.read_text(encoding="utf-8"))
    del old["channel"]  # as the outbox wrote it before alerts
    state.write_text(json.dumps(old), encoding="utf-8")
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:10"))
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:11"))
    [alert] = queued(outbox)
    (tmp_path / "outbox" / f"{alert['key']}.json").unlink()  # only the .alert made it to disk
    entries = {e.key: e for e in outbox.entries()}
    assert entries["2026-W49-abc"].channel == "mail" and entries[alert["key"]].channel == "ops"
    assert entries[alert["key"]].status == "queued" and entries[alert["key"]].subject == alert["title"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: the mail attempt fails fast
    smtp = Smtp(host="127.0.0.1", port=port, security="none", timeout_seconds=2)
    tried = await outbox.flush(smtp, clock_at("2026-12-04 08:01"))
    assert [e.key for e in tried] == ["2026-W49-abc"]  # the alert is left to monitor.alerts
    assert outbox.get(alert["key"]).status == "queued"


def test_a_run_still_running_at_a_look_is_judged_when_it_finishes(tmp_path: Path, county) -> None:
    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, failing_nights=2)
    record_run(store, "links", [], at("2026-12-03 02:00"), status="failed", error="site unreachable")
    queue_alerts(config, store, outbox, clock_at("2026-12-04 01:00"))  # the first look
    long_run = store.start_run("links", "county", ("links",), at("2026-12-04 02:00"))
    record_run(store, "darklinks", [dark_link(1)], at("2026-12-04 02:30"))  # a later run ends first
    queue_alerts(config, store, outbox, clock_at("2026-12-04 02:31"))
    assert [a["event"] for a in queued(outbox)] == ["finding"]
    store.finish_run(long_run, status="failed", now=at("2026-12-04 05:00"), error="site unreachable")
    queue_alerts(config, store, outbox, clock_at("2026-12-04 05:01"))
    assert [a["event"] for a in queued(outbox)] == ["finding", "duty_failing"]


def test_new_media_alerts_name_the_account_never_an_internal_id(tmp_path: Path, county) -> None:
    from monitor.config import config_from_mapping
    from monitor.core.findings import Finding, Severity

    store, outbox = county
    base = alert_config(tmp_path, {"ops": JSON})
    data = base.model_dump(exclude={"base_dir"})
    data["newmedia"] = {
        "accounts": [
            {
                "id": "wx-fabu",
                "name": "示例县发布",
                "platform": "wechat",
                "source": {"type": "manual", "path": "x.csv"},
            }
        ]
    }
    config = config_from_mapping(data, base_dir=tmp_path)
    queue_alerts(config, store, outbox, clock_at("2026-12-03 00:00"))
    stale = Finding(
        duty="newmedia",
        kind="stale",
        severity=Severity.VETO,
        site="newmedia",
        identity="wx-fabu",
        url="https://mp.weixin.qq.com/profile?wx-fabu",
        message="示例县发布（微信公众号）已16天未更新，超过15天的期限",
        evidence={"account": "wx-fabu", "platform": "wechat"},
    )
    run_id = store.start_run("newmedia", "newmedia", ("newmedia",), at("2026-12-04 06:00"))
    store.finish_run(run_id, status="ok", now=at("2026-12-04 06:00"), findings=[stale])
    queue_alerts(config, store, outbox, clock_at("2026-12-04 06:01"))
    [alert] = queued(outbox)
    assert alert["title"] == "【单项否决】示例县发布：新发现新媒体不更新1处"
    assert "对象：示例县发布" in alert["body"] and "newmedia" not in alert["title"]


def test_a_long_failing_streak_of_a_frequent_duty_alerts_once(tmp_path: Path, county) -> None:
    """600 failed availability rounds over four days (every 10 minutes): one alert, not one per round."""
    from datetime import timedelta

    store, outbox = county
    config = alert_config(tmp_path, {"ops": JSON}, failing_nights=3)
    queue_alerts(config, store, outbox, clock_at("2026-11-30 23:00"))
    start = at("2026-12-01 00:00")
    for n in range(600):
        moment = start + timedelta(minutes=10 * n)
        record_run(store, "availability", [], moment, status="failed", error="monitor offline")
        if n % 50 == 49:
            queue_alerts(config, store, outbox, clock_at(moment.strftime("%Y-%m-%d %H:%M")))
    [alert] = queued(outbox)
    assert alert["event"] == "duty_failing" and "连续3晚运行失败" in alert["title"]
