"""How long rendering a weekly bulletin takes for a big county: ``--findings`` findings (default 20,000)
in a real SQLite store, written through the real run lifecycle over two weeks (first week: all found;
second week: 90 % seen again, 10 % resolved, 5 % new), with veto indicators in the run counts.

Timed (best of ``--repeat``): building the bulletin from the store (model), the HTML file (every
problem listed), the text file, the XLSX workbook (every problem twice: the full list and per-duty
sheets), and the mail body (HTML with the list capped at ``bulletin.mail_list_limit`` rows, CSS inlined).
Peers for scale: reading every finding row from the store (``Store.findings``), and openpyxl write-only
writing one sheet of the same number of rows of plain strings.

Usage: ``PYTHONPATH=. python bench/bulletin_render.py [--findings 20000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from monitor.bulletin.docx import write_document
from monitor.bulletin.mail import attachment_name
from monitor.bulletin.model import build_bulletin
from monitor.bulletin.render import inline_css, render_html, render_text
from monitor.bulletin.xlsx import write_workbook
from monitor.config import config_from_mapping
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Resolution, Store

UNITS = [
    ("县教育局", "department", "jyj"),
    ("县财政局", "department", "czj"),
    ("城关镇人民政府", "township", "cgz"),
]
UNITS += [(f"第{i}乡人民政府", "township", f"x{i}") for i in range(20)]
UNITS += [(f"县第{i}局", "department", f"b{i}") for i in range(30)]


def make_config():
    return config_from_mapping(
        {
            "sites": [
                {"id": "portal", "name": "示例县人民政府门户网站", "homepage": "http://www.shixian.gov.cn/"}
            ],
            "units": [
                {"name": n, "kind": k, "site": "portal", "paths": [f"/zwgk/{p}/"]} for n, k, p in UNITS
            ],
        }
    )


def finding(i: int) -> Finding:
    name, _, path = UNITS[i % len(UNITS)]
    duty, kind = [("links", "dead_link"), ("links", "homepage_dead_link"), ("columns", "column_stale")][i % 3]
    url = f"http://www.shixian.gov.cn/zwgk/{path}/art_{i}.html"
    return Finding(
        duty=duty,
        kind=kind,
        severity=Severity.DEDUCTION,
        site="portal",
        identity=url,
        url=url,
        message=f"链接“关于做好第{i}项重点工作的通知”无法访问：HTTP 404（页面不存在）。链接地址：{url}",
        unit=name,
        sources=tuple(f"http://www.shixian.gov.cn/zwgk/{path}/list_{j}.html" for j in range(i % 4 + 1)),
        evidence={"failure": "http", "status": 404},
    )


def fill(store: Store, n: int) -> FixedClock:
    indicators = [
        {
            "indicator": "W2",
            "subject": "portal",
            "subject_name": "示例县人民政府门户网站",
            "verdict": "warn",
            "figure": "近7天失败率3.2%",
            "threshold": "≥5% 不合格，≥3% 预警",
            "value": 3.2,
        },
    ]
    for when, items in (
        (datetime(2026, 11, 17, 2, 0), [finding(i) for i in range(n)]),
        (datetime(2026, 11, 24, 2, 0), [finding(i) for i in range(n // 10, n + n // 20)]),
    ):
        clock = FixedClock(when, SHANGHAI)
        for duty in ("links", "columns"):
            run = store.start_run(duty, "portal", [duty], clock.now())
            store.finish_run(
                run,
                status="ok",
                now=clock.now(),
                findings=[f for f in items if f.duty == duty],
                counts={"pages_crawled": 5000, "links_checked": 60000, "indicators": indicators},
                resolution=Resolution((duty,)),
            )
    return FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI)


def best(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = make_config()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        t0 = time.perf_counter()
        clock = fill(store, args.findings)
        print(f"filled store with {args.findings:,} findings in {time.perf_counter() - t0:.1f}s")
        week = IsoWeek(2026, 48)
        t_model, b = best(args.repeat, lambda: build_bulletin(store, config, week, clock))
        name = attachment_name(b)
        t_html, html = best(args.repeat, lambda: render_html(b, xlsx_name=name))
        t_text, _ = best(args.repeat, lambda: render_text(b, xlsx_name=name))
        t_xlsx, _ = best(args.repeat, lambda: write_workbook(b, Path(tmp) / "f.xlsx"))
        t_docx, _ = best(args.repeat, lambda: write_document(b, Path(tmp) / "f.docx"))
        limit = config.bulletin.mail_list_limit
        per_type = config.bulletin.mail_listed_per_type
        t_mail, mail = best(
            args.repeat,
            lambda: inline_css(render_html(b, row_limit=limit, mail=True, listed_per_type=per_type)),
        )
        t_read, rows = best(args.repeat, lambda: list(store.findings()))

        def plain_xlsx() -> None:
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("x")
            for r in rows:
                ws.append([r["unit"], r["kind"], r["message"], r["url"], r["first_seen"], r["status"]])
            wb.save(Path(tmp) / "plain.xlsx")

        t_plain, _ = best(args.repeat, plain_xlsx)
        xlsx_size = (Path(tmp) / "f.xlsx").stat().st_size
        docx_size = (Path(tmp) / "f.docx").stat().st_size
    total = t_model + t_html + t_text + t_xlsx + t_docx
    print(
        f"bulletin: {len(b.problems):,} problems listed "
        f"({b.totals['open']:,} open, {b.totals['fixed']:,} fixed)"
    )
    print(f"  model (store → bulletin)   {t_model:6.2f}s")
    print(f"  bulletin.html              {t_html:6.2f}s  ({len(html) / 1e6:.1f} MB)")
    print(f"  bulletin.txt               {t_text:6.2f}s")
    print(f"  workbook (.xlsx)           {t_xlsx:6.2f}s  ({xlsx_size / 1e6:.1f} MB)")
    print(f"  Word document (.docx)      {t_docx:6.2f}s  ({docx_size / 1e6:.1f} MB)")
    print(f"  render total (html+txt+xlsx+docx+model) {total:6.2f}s")
    print(
        f"  mail body ({per_type} per type, {limit} 附件1 rows, CSS inlined) {t_mail:6.2f}s  "
        f"({len(mail) / 1e6:.2f} MB)"
    )
    print("peers:")
    print(
        f"  Store.findings() read of {len(rows):,} rows   {t_read:6.2f}s  "
        f"(model is {t_model / t_read:.1f}× this)"
    )
    print(
        f"  openpyxl write-only, 1 sheet × 6 plain columns   {t_plain:6.2f}s  "
        f"(our workbook is {t_xlsx / t_plain:.1f}× this; it writes 15 columns per row)"
    )


if __name__ == "__main__":
    main()
