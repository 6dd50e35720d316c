"""A store with four weeks of history for bulletin tests, written through the real run/finding lifecycle.

Timeline (2026-W48 is 23–29 November):
- Mon 2 Nov (W45): a patrol finds A (城关镇, still open at W48 → 逾期), B (县财政局, fixed in W48) and
  C (marked 误报 afterwards: never in a bulletin).
- Tue 24 Nov (W48): a patrol sees A again, finds D (homepage link with a hostile title and a
  ``javascript:`` URL) and E (a kind the bulletin does not know); B is gone → resolved. The run records
  veto statuses (W2 不合格, W3 合格).
- Wed 25 Nov (W48): the ``columns`` duty records a census and finds F (栏目不更新, 县教育局, with a
  formula-like message); a duty the bulletin has never heard of (``darkweb``) finds G.
The ``newmedia`` and ``availability`` duties never run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config import Config, config_from_mapping
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store

PORTAL = "http://www.shixian.gov.cn/"
HOSTILE_TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
FORMULA = '=HYPERLINK("http://evil.example/","点此")'


def bulletin_config(**bulletin: object) -> Config:
    """The demo county's sites and units with a bulletin section (extra keys override)."""
    return config_from_mapping(
        {
            "sites": [
                {"id": "portal", "name": "示例县人民政府门户网站", "homepage": PORTAL, "unit": "县政府办公室"}
            ],
            "units": [
                {"name": "县教育局", "kind": "department", "site": "portal", "paths": ["/zwgk/bm/jyj/"]},
                {"name": "县财政局", "kind": "department", "site": "portal", "paths": ["/zwgk/bm/czj/"]},
                {"name": "城关镇人民政府", "kind": "township", "site": "portal", "paths": ["/zwgk/xz/cgz/"]},
            ],
            "bulletin": {"issuer": "示例县人民政府办公室", "recipients": ["zwgk@shixian.gov.cn"], **bulletin},
        }
    )


def _f(
    identity: str, unit: str, message: str, *, kind: str = "dead_link", duty: str = "links", **kw
) -> Finding:
    return Finding(
        duty=duty,
        kind=kind,
        severity=kw.pop("severity", Severity.DEDUCTION),
        site="portal",
        identity=identity,
        url=kw.pop("url", f"{PORTAL}{identity}.html"),
        message=message,
        unit=unit,
        sources=kw.pop("sources", (f"{PORTAL}{identity}/index.html",)),
        evidence=kw.pop("evidence", {}),
    )


A = _f("zwgk/xz/cgz/old", "城关镇人民政府", "链接“城关镇旧通知”无法访问：HTTP 404")
B = _f("zwgk/bm/czj/budget", "县财政局", "链接“县级预算表”无法访问：HTTP 404")
C = _f("zwgk/internal", "县政府办公室", "链接“内网系统”无法访问：HTTP 403")
D = _f(
    "home",
    "县政府办公室",
    f"首页链接“{HOSTILE_TITLE}”无法访问：HTTP 404\x1b[31m",
    kind="homepage_dead_link",
    severity=Severity.VETO,
    url="javascript:alert(3)",
    sources=(PORTAL, PORTAL + "index.html"),
)
E = _f("weird", "县政府办公室", "一种新问题：示例", kind="weird_kind")
F = _f(
    "zwgk/bm/jyj/bmdt",
    "县教育局",
    FORMULA,
    kind="column_stale",
    duty="columns",
    severity=Severity.WARNING,
)
G = _f("dw", "县政府办公室", "未知检查发现的问题", kind="x", duty="darkweb")

INDICATORS = [
    {
        "indicator": "W2",
        "subject": "portal",
        "subject_name": "示例县人民政府门户网站",
        "verdict": "fail",
        "figure": "近7天失败率6.1%（672次中41次）",
        "threshold": "≥5% 不合格，≥3% 预警",
        "value": 6.1,
    },
    {
        "indicator": "W3",
        "subject": "portal",
        "subject_name": "示例县人民政府门户网站",
        "verdict": "pass",
        "figure": "首页最近更新于11月23日（1天前）",
        "threshold": "超过14天未更新 不合格，超过10天 预警",
        "value": 1,
    },
]
CENSUS = {
    "columns": [
        {
            "site": "示例县人民政府门户网站",
            "name": "部门动态",
            "unit": "县教育局",
            "type": "动态要闻类",
            "last_update": "2026-10-28",
            "items_week": 0,
            "items_month": 1,
            "url": PORTAL + "zwgk/bm/jyj/bmdt/",
        }
    ]
}


def _run(store: Store, clock: FixedClock, duty: str, findings: list[Finding], counts: dict) -> None:
    run_id = store.start_run(duty, "portal", ["links"] if duty == "patrol" else [duty], clock.now())
    checks = ("links",) if duty == "patrol" else (duty,)
    store.finish_run(
        run_id, status="ok", now=clock.now(), findings=findings, counts=counts, resolution=Resolution(checks)
    )


def fill_store(store: Store) -> FixedClock:
    """Write the timeline above; returns a clock at Monday 30 Nov 00:10 (W48 just complete)."""
    clock = FixedClock(datetime(2026, 11, 2, 10, 0), SHANGHAI)
    _run(store, clock, "patrol", [A, B, C], {"pages_crawled": 100, "links_checked": 700})
    store.ignore(C.fingerprint, "内网链接，属正常", clock.now())
    clock = FixedClock(datetime(2026, 11, 24, 10, 0), SHANGHAI)
    _run(
        store,
        clock,
        "patrol",
        [A, C, D, E],
        {"pages_crawled": 120, "links_checked": 900, "indicators": INDICATORS},
    )
    clock = FixedClock(datetime(2026, 11, 25, 10, 0), SHANGHAI)
    _run(store, clock, "columns", [F], {"columns_checked": 42, "census": CENSUS})
    _run(store, clock, "darkweb", [G], {})
    return FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI)


def problem_rows(wb: Any) -> list[tuple[Any, ...]]:
    """Every problem row of a bulletin workbook (2026-W48问题清单.xlsx): the rows of each per-duty sheet."""
    rows = []
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if len(header) > 14 and header[14] == "问题编号":  # 问题编号, then 截图
            rows.extend(r for r in ws.iter_rows(min_row=2, values_only=True) if r[14])
    return rows
