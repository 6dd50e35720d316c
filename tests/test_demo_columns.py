"""The demo county site: the column audits report exactly the planted column problems."""

from __future__ import annotations

from pathlib import Path

import yaml

from monitor.app.demo.runner import DEMO_DUTIES, demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "tests/demo_expected/expected_columns.yaml").read_text(encoding="utf-8"))


def _matches(spec: dict, finding: dict) -> bool:
    if "identity_prefix" in spec:
        return finding["identity"].startswith(spec["identity_prefix"]) and finding["kind"] == spec["kind"]
    return (finding["kind"], finding["identity"]) == (spec["kind"], spec["identity"])


async def test_demo_column_audits_report_exactly_the_planted_problems(
    tmp_path: Path, clock: FixedClock
) -> None:
    assert {"columns", "units"} <= set(DEMO_DUTIES)
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        with Store(tmp_path / "demo.db") as store:
            columns_runs = await run_duty("columns", config, store, clock)
            units_runs = await run_duty("units", config, store, clock)
            (columns,) = [r for r in columns_runs if r.site.id == "portal"]
            (units,) = [r for r in units_runs if r.site.id == "portal"]
            # The two small demo sites (for the identity check) have no column problems.
            others = [r for r in columns_runs + units_runs if r.site.id != "portal"]
            assert len(others) == 4 and all(r.status == "ok" and not r.findings for r in others)
            stored = list(store.findings(status="open"))
            # One finding per problem across duties (issue 21): the monthly unit inspection re-reports the
            # column audit's problems under the same id, so the store holds each once.
            assert len(stored) == len({(f["kind"], f["identity"]) for f in stored})
            assert len(stored) == len({(f.kind, f.identity) for f in columns.findings + units.findings})
            found = {
                "columns": [f for f in stored if f["duty"] == "columns"],
                "units": [
                    {
                        "kind": f.kind,
                        "identity": f.identity,
                        "severity": f.severity.value,
                        "unit": f.unit,
                        "url": f.url,
                        "message": f.message,
                        "evidence": f.evidence,
                    }
                    for f in units.findings
                ],
            }
    finally:
        await server.close()
    assert columns.status == "ok" and units.status == "ok"
    for duty in ("columns", "units"):
        expected = EXPECTED[duty]
        # Every finding is planted, and every planted problem is found once.
        assert len(found[duty]) == len(expected), "\n".join(
            f"{f['kind']} {f['url']} {f['message']}" for f in found[duty]
        )
        for spec in expected:
            hits = [f for f in found[duty] if _matches(spec, f)]
            assert len(hits) == 1, (duty, spec)
            (hit,) = hits
            assert hit["severity"] == spec["severity"], spec
            assert hit["unit"] == spec["unit"], spec
            if "days_since" in spec:
                assert hit["evidence"]["days_since"] == spec["days_since"], spec
            if "relations" in spec:
                relations = [p["relation"] for p in hit["evidence"]["problems"]]
                assert relations == spec["relations"]
    census = {row["url"]: row for row in columns.counts["columns"]}
    for url in EXPECTED["decoys"]:
        assert census[url]["verdict"] == "合格", census[url]
    assert census["http://www.shixian.gov.cn/zwgk/xz/cgz/gzdt/"]["last_update"] == "2026-11-23"
    indicators = {i["indicator"]: i["verdict"] for i in columns.counts["indicators"]}
    assert indicators == EXPECTED["indicators"]
    results = {u["unit"]: u["result"] for u in units.counts["units"]}
    for unit, result in EXPECTED["unit_results"].items():
        assert results[unit] == result, unit
    # The message in the bulletin's words.
    stale = next(f for f in found["columns"] if f["url"].endswith("/jyj/gzdt/"))
    assert stale["message"].startswith(
        "县教育局·工作动态栏目更新至2026年11月2日，已24天未更新（动态类要求14天内）"
    )
