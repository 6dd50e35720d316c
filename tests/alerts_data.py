"""Shared pieces of the alert tests: a county config with alerts, and runs recorded in a real store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config import Config, config_from_mapping
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store

SITE = {"id": "county", "name": "示例县人民政府网", "homepage": "http://www.shixian.gov.cn/"}
UNITS = [
    {"name": "县教育局", "kind": "department", "site": "county"},
    {"name": "县卫健委", "kind": "department", "site": "county"},
    {"name": "城关镇", "kind": "township", "site": "county"},
]


def alert_config(tmp_path: Path, channels: dict[str, Any], **alerts: Any) -> Config:
    """The county with alerts on; every alert goes to every channel unless ``rules`` say otherwise."""
    alerts.setdefault("rules", [{"channels": list(channels)}])
    data = {
        "sites": [SITE],
        "units": UNITS,
        "storage": {"database": str(tmp_path / "monitor.db")},
        "alerts": {"enabled": True, "channels": channels, "retry_backoff_seconds": 0, **alerts},
    }
    return config_from_mapping(data, base_dir=tmp_path)


def dark_link(n: int, unit: str | None = "县教育局", target: str | None = None) -> Finding:
    """A dark link on page ``n`` of the county site."""
    page = f"http://www.shixian.gov.cn/xxgk/{n}.html"
    target = target or f"http://bet{n}.example/casino"
    return Finding(
        duty="darklinks",
        kind="dark_link",
        severity=Severity.VETO,
        site="county",
        identity=target,
        url=target,
        message=f"隐藏链接指向 {target}（锚文本“线上娱乐{n}”）",
        unit=unit,
        sources=(page,),
    )


def dead_link(n: int, unit: str | None = "城关镇") -> Finding:
    """A dead link (a deduction) on the county site."""
    url = f"http://www.shixian.gov.cn/old/{n}.html"
    return Finding(
        duty="links",
        kind="dead_link",
        severity=Severity.DEDUCTION,
        site="county",
        identity=url,
        url=url,
        message=f"链接无法访问（HTTP 404）：{url}",
        unit=unit,
        sources=("http://www.shixian.gov.cn/",),
    )


def down(since: str = "2026-12-04 01:00", name: str = "首页") -> Finding:
    """Availability's debounced down state of the homepage."""
    url = "http://www.shixian.gov.cn/"
    return Finding(
        duty="availability",
        kind="target_down",
        severity=Severity.WARNING,
        site="county",
        identity=f"down|{url}",
        url=url,
        message=f"{name}（{url}）自{since}起无法访问：连续3次探测失败（HTTP 502）",
        unit="县人民政府办公室",
        evidence={"since": since, "fail_streak": 3},
    )


def record_run(
    store: Store,
    duty: str,
    findings: list[Finding],
    at: datetime,
    *,
    status: str = "ok",
    error: str | None = None,
) -> int:
    """One finished run of ``duty`` on the county site at ``at`` (complete: unseen findings resolve)."""
    run_id = store.start_run(duty, "county", (duty,), at)
    store.finish_run(
        run_id,
        status=status,
        now=at,
        findings=findings,
        resolution=Resolution((duty,)),
        error=error,
    )
    return run_id


def at(text: str) -> datetime:
    """A moment in Shanghai: ``"2026-12-04 02:10"``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def clock_at(text: str) -> FixedClock:
    """The run's clock pinned at ``text`` (Shanghai)."""
    return FixedClock(at(text), SHANGHAI)
