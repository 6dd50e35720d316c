"""Finding kinds: every kind a check can report is declared with a Chinese label, and no user-facing
document (bulletin HTML and TXT, the XLSX) carries an internal English identifier."""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import openpyxl

from checks.columns.rules import TYPE_LABELS
from checks.identity.check import ITEMS as IDENTITY_ITEMS
from checks.identity.kinds import ITEMS as DECLARED_IDENTITY_ITEMS
from checks.kinds import finding_kinds, kind_label
from checks.newmedia.rules import PLATFORM_LABELS
from checks.text.check import CHECK_KINDS as TEXT_KINDS
from monitor.bulletin.publish import render_report
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Resolution, Store
from tests.bulletin_data import PORTAL, bulletin_config
from tests.conftest import REPO

FAMILIES = ("links", "darklinks", "text", "columns", "newmedia", "availability", "identity")
#: ``units[].kind`` values: the columns check names a unit's kind ``kind`` too; they are not finding kinds.
UNIT_KINDS = {"department", "township", "office"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _is_severity(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Severity"
    )


def _strings(node: ast.AST | None) -> set[str]:
    """String constants an expression can evaluate to (a constant, or either branch of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def literal_kinds(family: str) -> set[str]:
    """Every kind a family's code names literally: ``Finding(kind=…)``, ``kind = …`` assignments, the
    argument before a ``Severity.X`` argument of a finding helper, and the strings of a (kind, Severity.X)
    tuple."""
    found: set[str] = set()
    for path in (REPO / "checks" / family).rglob("*.py"):
        if path.name == "kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                for kw in node.keywords:
                    if kw.arg == "kind" and name == "Finding":
                        found |= _strings(kw.value)
                if name == "TlsProblem" and node.args:
                    found |= _strings(node.args[0])
                for before, arg in zip(node.args, node.args[1:], strict=False):
                    if _is_severity(arg) or (isinstance(arg, ast.IfExp) and _is_severity(arg.body)):
                        found |= _strings(before)  # a finding helper's (…, kind, Severity.X, …)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "kind":
                        found |= _strings(node.value) - UNIT_KINDS
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for t, v in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(t, ast.Name) and t.id == "kind":
                                found |= _strings(v)
            elif isinstance(node, ast.Tuple) and any(_is_severity(e) for e in node.elts):
                for e in node.elts:
                    found |= _strings(e)
    return found


def declared(family: str) -> set[str]:
    """Kinds a family declares (for any of its duties)."""
    module = __import__(f"checks.{family}.kinds", fromlist=["KINDS"])
    return {k.name for kinds in module.KINDS.values() for k in kinds}


def test_every_kind_a_check_names_is_declared_with_a_chinese_label() -> None:
    for family in FAMILIES:
        named = literal_kinds(family)
        if family == "text":
            named |= {k for kinds in TEXT_KINDS.values() for k in kinds}
        # Identity names its kinds with f-strings over its items (compared below); every other family
        # names some literally, or the scan is broken.
        assert named or family == "identity", f"found no kind in checks/{family}/"
        assert named <= declared(family), (
            f"checks/{family}: undeclared kinds {sorted(named - declared(family))}"
        )
    assert set(IDENTITY_ITEMS) == set(DECLARED_IDENTITY_ITEMS)
    for duty, kinds in finding_kinds().items():
        for name, kind in kinds.items():
            assert _CJK.search(kind.label) and kind.name == name, (duty, name)
            assert kind_label(duty, name) == kind.label
    # The units duty audits columns too: what it reports is named like the columns duty's kinds.
    assert kind_label("units", "source_unreachable") == "监测源异常"


def test_user_facing_documents_carry_no_internal_identifier(tmp_path: Path) -> None:
    """One open finding of every declared kind, a census with every column type and platform: the
    bulletin (HTML, TXT) and the XLSX show Chinese labels only."""
    config = bulletin_config()
    clock = FixedClock(datetime(2026, 11, 24, 10, 0), SHANGHAI)
    identifiers = {"portal", "newmedia", *TYPE_LABELS, *PLATFORM_LABELS}
    with Store(tmp_path / "m.db") as store:
        for duty, kinds in finding_kinds().items():
            identifiers |= {duty, *kinds}
            findings = [
                Finding(
                    duty=duty,
                    kind=name,
                    severity=kind.severity,
                    # A check that runs once per config (new media) records its duty as the site.
                    site="newmedia" if duty == "newmedia" else "portal",
                    identity=f"{duty}-{name}",
                    url=f"{PORTAL}{duty}/{i}.html",
                    message=f"示例问题{i}",
                    unit="县政府办公室",
                )
                for i, (name, kind) in enumerate(kinds.items())
            ]
            counts: dict[str, object] = {}
            if duty == "columns":
                counts["census"] = {
                    "columns": [
                        {
                            "name": f"栏目{i}",
                            "unit": "县教育局",
                            "type": t,
                            "last_update": "2026-11-20",
                            "items_week": 1,
                            "items_month": 3,
                            "url": f"{PORTAL}c{i}/",
                        }
                        for i, t in enumerate(TYPE_LABELS)
                    ]
                }
            if duty == "newmedia":
                counts["census"] = {
                    "accounts": [
                        {
                            "name": f"示例县账号{i}",
                            "platform": p,
                            "unit": "县教育局",
                            "last_post": "2026-11-20",
                            "posts_week": 1,
                            "posts_month": 4,
                        }
                        for i, p in enumerate(PLATFORM_LABELS)
                    ]
                }
            run_id = store.start_run(duty, "portal", [duty], clock.now())
            store.finish_run(
                run_id,
                status="ok",
                now=clock.now(),
                findings=findings,
                counts=counts,
                resolution=Resolution((duty,)),
            )
        report = render_report(
            store,
            config,
            IsoWeek(2026, 48),
            FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI),
            tmp_path / "reports",
        )
    wb = openpyxl.load_workbook(report.xlsx)
    cells = [
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]
    documents = {
        "bulletin.html": re.sub(r"<[^>]+>", " ", report.html.read_text(encoding="utf-8")),
        "bulletin.txt": report.text.read_text(encoding="utf-8"),
        "findings.xlsx": "\n".join(cells),
    }
    word = re.compile(
        r"(?<![\w/.:-])("
        + "|".join(sorted(map(re.escape, identifiers), key=len, reverse=True))
        + r")(?![\w/.-])"
    )
    for name, text in documents.items():
        text = re.sub(r"https?://\S+", " ", text)  # addresses are data, not wording
        leaked = sorted(set(word.findall(text)))
        assert not leaked, f"{name} shows internal identifiers: {leaked}"
