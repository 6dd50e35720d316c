"""How fast the console's store reads answer (issue 23): ``list_findings`` for each filter and sort, and
``overview``, over a real SQLite store of 20,000 findings.

The store is filled the way the monitor fills it: 13 weekly rounds of runs (40 sites, their duties) through
``Store.finish_run`` — findings open, are seen again, resolve, reopen, so the ``events`` table carries
12 weeks of lifecycle history — then the console's actions (assignments, deadlines, some overdue, 误报,
re-check requests) through ``monitor.store.triage``. 30 units share the findings. Timings are the median
and the slowest of ``--repeat`` warm calls on one connection (the console keeps its connection open).

Usage: ``PYTHONPATH=$PWD .venv/bin/python bench/triage_queries.py [--findings 20000] [--repeat 15]
[--keep DB]``. One process, as every benchmark here.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.core.clock import SHANGHAI
from monitor.core.findings import Finding, Severity
from monitor.store.database import Resolution, Store
from monitor.store.triage import (
    SORTS,
    FindingQuery,
    assign_unit,
    finding_detail,
    list_findings,
    mark_false_positive,
    overview,
    request_recheck,
    set_deadline,
)

SITES = 40
UNITS = [
    f"{name}"
    for name in (
        "县政府办公室 教育局 卫生健康委 公安局 民政局 财政局 人社局 自然资源局 生态环境局 住建局 交通运输局 "
        "水利局 农业农村局 商务局 文旅局 应急管理局 审计局 市场监管局 统计局 医保局 林业局 城管局 信访局 "
        "退役军人事务局 司法局 发改局 工信局 科技局 乡村振兴局 行政审批局"
    ).split()
]
#: (duty, kind, severity, share of the findings): a county's usual mix — mostly dead links and columns.
KINDS: list[tuple[str, str, Severity, float]] = [
    ("links", "dead_link", Severity.WARNING, 0.55),
    ("links", "homepage_dead_link", Severity.DEDUCTION, 0.03),
    ("typos", "typo", Severity.DEDUCTION, 0.12),
    ("sensitive", "sensitive_word", Severity.WARNING, 0.05),
    ("privacy", "privacy_id_number", Severity.VETO, 0.01),
    ("darklinks", "dark_link", Severity.VETO, 0.01),
    ("columns", "column_stale", Severity.DEDUCTION, 0.13),
    ("columns", "column_blank", Severity.DEDUCTION, 0.06),
    ("identity", "site_identity_icp", Severity.DEDUCTION, 0.02),
    ("availability", "tls_cert_expiring", Severity.WARNING, 0.02),
]
WEEKS = 12
START = datetime(2026, 9, 3, 2, 0, tzinfo=SHANGHAI)  # 13 Thursdays at 02:00 up to 2026-11-26


def make_finding(rng: random.Random, site: int, serial: int) -> Finding:
    """One finding shaped like its check's (URL, message, source pages, evidence)."""
    duty, kind, severity, _ = rng.choices(KINDS, weights=[k[3] for k in KINDS])[0]
    host = f"www.site{site:02d}.gov.cn"
    path = f"/col{rng.randrange(60)}/{2024 + rng.randrange(3)}{rng.randrange(1, 13):02d}/t{serial}.html"
    url = f"http://{host}{path}"
    unit = UNITS[(site + rng.randrange(4)) % len(UNITS)] if rng.random() > 0.04 else None
    return Finding(
        duty=duty,
        kind=kind,
        severity=severity,
        site=f"site{site:02d}",
        identity=url,
        url=url,
        message=f"“关于做好{serial}号工作的通知”：{kind}（{url}）",
        unit=unit,
        sources=tuple(
            f"http://{host}/col{rng.randrange(60)}/index_{j}.html" for j in range(rng.randint(1, 4))
        ),
        evidence={"status": 404, "sources": [{"url": f"http://{host}/", "text": "相关链接"}]},
    )


def fill(store: Store, total: int, rng: random.Random) -> None:
    """13 weekly rounds of runs: ~9% of the present findings disappear, a few return, new ones arrive."""
    present: dict[tuple[str, str], dict[str, Finding]] = {}
    gone: list[Finding] = []
    initial = total * 2 // 5
    per_week = (total - initial) // WEEKS
    serial = 0
    for week in range(WEEKS + 1):
        now = START + timedelta(weeks=week)
        arriving = (
            initial if week == 0 else per_week + (total - initial - per_week * WEEKS if week == WEEKS else 0)
        )
        if week:
            for findings in present.values():
                for identity in [i for i in findings if rng.random() < 0.09]:
                    gone.append(findings.pop(identity))
            for f in rng.sample(gone, min(len(gone) // 20, len(gone))):  # reopened
                present.setdefault((f.site, f.duty), {})[f.identity] = f
        for _ in range(arriving):
            f = make_finding(rng, rng.randrange(SITES), serial)
            serial += 1
            present.setdefault((f.site, f.duty), {})[f.identity] = f
        for site in range(SITES):
            for duty in sorted({k[0] for k in KINDS}):
                name = f"site{site:02d}"
                run_id = store.start_run(duty, name, (duty,), now)
                store.finish_run(
                    run_id,
                    status="ok",
                    now=now + timedelta(minutes=5),
                    findings=list(present.get((name, duty), {}).values()),
                    resolution=Resolution((duty,)),
                )


def triage(store: Store, rng: random.Random, now: datetime) -> None:
    """What offices and departments did in the console over the weeks."""
    rows = store.backend.execute(
        "SELECT fingerprint FROM findings WHERE status = 'open' ORDER BY fingerprint"
    ).fetchall()
    fps = [r[0] for r in rows]
    rng.shuffle(fps)
    n = len(fps)
    units = dict(store.backend.execute("SELECT fingerprint, unit FROM findings").fetchall())
    for fp in fps[: n // 10]:
        unit = rng.choice([u for u in UNITS if u != units[fp]])
        assign_unit(store, fp, unit, "栏目归属调整", "office", now - timedelta(days=rng.randrange(60)))
    for fp in fps[n // 10 : n // 10 + n // 5]:
        when = now - timedelta(days=rng.randrange(30))
        set_deadline(
            store, fp, when.date() + timedelta(days=rng.randrange(1, 40)), "按通报要求", "office", when
        )
    for fp in fps[n // 3 : n // 3 + n // 30]:
        mark_false_positive(store, fp, "内网链接，外网无法访问属正常", "office", now)
    for fp in fps[n // 2 : n // 2 + n // 50]:
        request_recheck(store, fp, "已整改，申请复核", "department", now)


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """Fastest, median and slowest of ``repeat`` warm calls, in ms (after one call to warm the page cache).
    On a shared machine the fastest is the query's own cost; the median and the slowest add the load."""
    result = call()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - t) * 1000)
    return min(times), statistics.median(times), max(times), result


def main() -> None:
    """Fill a store and print the timings as a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--keep", type=Path, help="Write the filled database here (kept) instead of a temp dir.")
    args = ap.parse_args()
    rng = random.Random(23)
    now = START + timedelta(weeks=WEEKS, hours=8)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "triage.db"
        t = time.perf_counter()
        with Store(path) as store:
            fill(store, args.findings, rng)
            triage(store, rng, now)
            counts = dict(
                store.backend.execute("SELECT status, count(*) FROM findings GROUP BY status").fetchall()
            )
            events = store.backend.execute("SELECT count(*) FROM events").fetchone()[0]
            runs = store.backend.execute("SELECT count(*) FROM runs").fetchone()[0]
        print(
            f"filled in {time.perf_counter() - t:.0f} s: {sum(counts.values())} findings {counts}, "
            f"{events} events, {runs} runs, {SITES} sites, {len(UNITS)} units\n"
        )
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores before the queries\n")
        with Store.open_readonly(path) as store:
            one_unit = frozenset({UNITS[3]})
            sample = store.backend.execute(
                "SELECT fingerprint, site FROM findings ORDER BY fingerprint LIMIT 1"
            ).fetchone()
            cases: list[tuple[str, FindingQuery]] = [
                ("all (default: severity)", FindingQuery()),
                ("status=open", FindingQuery(status="open")),
                ("status=resolved", FindingQuery(status="resolved")),
                ("status=ignored", FindingQuery(status="ignored")),
                ("status=recheck", FindingQuery(status="recheck")),
                ("overdue", FindingQuery(overdue=True)),
                ("site", FindingQuery(site=sample[1])),
                ("unit", FindingQuery(unit=UNITS[5])),
                ("duty", FindingQuery(duty="typos")),
                ("kind", FindingQuery(duty="links", kind="dead_link")),
                ("severity=veto", FindingQuery(severity="veto")),
                ("text (URL part)", FindingQuery(text="/col17/2025")),
                ("text (message, Chinese)", FindingQuery(text="关于做好123")),
                ("department scope", FindingQuery(units=one_unit)),
                ("department scope, open, text", FindingQuery(units=one_unit, status="open", text="col1")),
                ("open, page 40 of 50", FindingQuery(status="open", page=40)),
                ("all, 200 per page", FindingQuery(per_page=200)),
            ]
            cases += [(f"open, sort={s} ↓", FindingQuery(status="open", sort=s)) for s in SORTS]
            cases += [(f"all, sort={s} ↑", FindingQuery(sort=s, descending=False)) for s in SORTS]
            print("| list_findings query | fastest ms | median ms | slowest ms | matching |")
            print("|---|---:|---:|---:|---:|")
            for label, q in cases:
                best, med, worst, page = timed(lambda q=q: list_findings(store, q, now), args.repeat)
                print(f"| {label} | {best:.1f} | {med:.1f} | {worst:.1f} | {page.total} |")
            print("\n| other read | fastest ms | median ms | slowest ms |")
            print("|---|---:|---:|---:|")
            others: list[tuple[str, Callable[[], Any]]] = [
                ("overview (all units)", lambda: overview(store, now)),
                ("overview (department scope)", lambda: overview(store, now, one_unit)),
                ("finding_detail", lambda: finding_detail(store, sample[0], now)),
            ]
            for label, call in others:
                best, med, worst, _ = timed(call, args.repeat)
                print(f"| {label} | {best:.1f} | {med:.1f} | {worst:.1f} |")
        print(f"\nload average {os.getloadavg()[0]:.1f} after the queries")


if __name__ == "__main__":
    main()
