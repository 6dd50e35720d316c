"""The demo county's 15 new-media accounts: the newmedia duty concludes exactly expected_newmedia.yaml."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import yaml

from checks.newmedia.rules import date_zh
from monitor.app.demo.runner import demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "tests/demo_expected/expected_newmedia.yaml").read_text(encoding="utf-8"))


async def test_demo_accounts_get_exactly_the_expected_verdicts(tmp_path: Path, clock: FixedClock) -> None:
    today = clock.now().date()
    server = await start_demo_server(port=0, today=today)
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        with Store(tmp_path / "demo.db") as store:
            (result,) = await run_duty("newmedia", config, store, clock)
            stored = {a: len(store.posts(a)) for a in EXPECTED["verdicts"]}
    finally:
        await server.close()
    assert result.status == "ok"
    rows = {r["id"]: r for r in result.counts["accounts"]}
    assert len(rows) == 15
    assert {
        p: sum(1 for r in rows.values() if r["platform"] == p) for p in ("wechat", "weibo", "douyin", "app")
    } == {"wechat": 10, "weibo": 2, "douyin": 2, "app": 1}
    assert {k: r["verdict"] for k, r in rows.items()} == EXPECTED["verdicts"]
    assert {k: rows[k]["days_since"] for k in EXPECTED["days_since"]} == EXPECTED["days_since"]

    found: dict[str, list[str]] = defaultdict(list)
    for f in result.findings:
        found[f.kind].append(f.identity.split("/")[0])
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in EXPECTED["findings"].items()}
    by_account = {(f.kind, f.identity): f for f in result.findings}
    for account, template in EXPECTED["messages"].items():
        last = today - timedelta(days=EXPECTED["days_since"][account])
        assert by_account[("stale", account)].message == template.format(date=date_zh(last))
    assert by_account[("source_error", "dy-wenlv")].severity.value == "warning"

    # Census, indicators and stored posts for the bulletin.
    assert rows["wx-xlx"]["source_label"] == "人工填报" and stored["wx-xlx"] == 0
    assert rows["app-shixian"]["source_label"] == "JSON接口" and stored["app-shixian"] == 4
    assert rows["wx-cgz"]["quality"]["judged"] is True
    m1 = {i["subject"]: i["verdict"] for i in result.counts["indicators"]}
    assert m1["wx-jyj"] == "fail" and m1["wx-sqz"] == "warn" and m1["dy-wenlv"] == "unknown"
    assert m1["wx-fabu"] == "pass"
    assert result.counts["verdicts"] == {"fresh": 11, "stale": 2, "zombie": 1, "unknown": 1}
