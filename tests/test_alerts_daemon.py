"""The daemon sends alerts as duties finish: a real daemon subprocess, a real site going down and coming
back, a real webhook receiver on loopback; and the 监测服务离线 alert after a gap in its heartbeat."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from monitor.core.clock import SHANGHAI, iso
from monitor.store.database import Store
from tests.daemon_harness import Daemon
from tests.sites import LocalSites, page
from tests.webhooks import Webhooks

HOST = "www.t.cn"


def write_config(path: Path, sites: LocalSites, hooks: Webhooks) -> Path:
    port = sites.port
    data = {
        "sites": [{"id": "t", "name": "测试县政府网站", "homepage": f"http://{HOST}/"}],
        "crawl": {
            "host_overrides": {HOST: f"127.0.0.1:{port}", "ref.t.cn": f"127.0.0.1:{port}"},
            "retries": 0,
        },
        "availability": {
            "timeout_seconds": 0.8,
            "reference_urls": ["http://ref.t.cn/"],
            "down_after": 2,
            "up_after": 1,
            "sites": {"t": {"ipv6": False}},
        },
        "storage": {"database": "monitor.db"},
        "schedule": {"defaults": False, "duties": {"availability": "every 1s"}},
        "alerts": {
            "enabled": True,
            "channels": {"ops": {"url": hooks.json_url("/ops")}},
            "rules": [{"channels": ["ops"], "events": ["site_down", "site_up", "monitor_offline"]}],
            "offline_after": "2h",
            "retry_backoff_seconds": 0,
        },
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def test_daemon_alerts_offline_then_down_then_up_each_once(
    sites: LocalSites, hooks: Webhooks, tmp_path: Path
) -> None:
    sites.status(HOST, "/", 502)
    sites.html("ref.t.cn", "/", page("参照网站"))
    config = write_config(tmp_path / "config.yaml", sites, hooks)
    # The daemon last lived five hours ago.
    with Store(tmp_path / "monitor.db") as store:
        store.put_state(
            "daemon.heartbeat",
            {"at": iso(datetime.now(SHANGHAI) - timedelta(hours=5))},
            datetime.now(SHANGHAI),
        )

    def titles() -> list[str]:
        return [r.json["title"] for r in hooks.requests_to("/ops")]

    daemon = await Daemon(config).start()
    try:
        await daemon.until(lambda: "【告警】监测服务离线5小时" in titles(), timeout=60, what="offline alert")
        await daemon.until(
            lambda: "【告警】测试县政府网站首页无法访问" in titles(), timeout=60, what="site down alert"
        )
        [down] = [r.json for r in hooks.requests_to("/ops") if "无法访问" in r.json["title"]]
        assert "连续2次探测失败（HTTP 502）" in down["message"]
        sites.html(HOST, "/", page("测试县人民政府"))
        await daemon.until(lambda: any("已恢复访问" in t for t in titles()), timeout=60, what="site up alert")
        runs_before_stop = len(titles())
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait(20) == 0
    finally:
        await daemon.close()
    # Many availability runs, each transition alerted exactly once.
    got = titles()
    assert len(got) == runs_before_stop == 3, got
    assert got[0] == "【告警】监测服务离线5小时"
    assert got[2].startswith("【恢复】测试县政府网站首页已恢复访问，中断")
    with Store(tmp_path / "monitor.db") as store:
        assert store.get_state("daemon.heartbeat") is not None
        assert len([r for r in store.runs("availability", limit=1000) if r["status"] == "ok"]) >= 3
