"""The demo county: availability probes and site-identity findings are exactly the planted ones."""

from __future__ import annotations

from pathlib import Path

import yaml

from checks.identity.check import ITEMS
from monitor.app.demo.runner import DEMO_DUTIES, DEMO_REFERENCE_URLS, demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load(
    (REPO / "tests/demo_expected/expected_availability.yaml").read_text(encoding="utf-8")
)


async def test_demo_identity_each_item_missing_exactly_once(tmp_path: Path, clock: FixedClock) -> None:
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        with Store(tmp_path / "demo.db") as store:
            results = await run_duty("identity", config, store, clock)
            found = sorted((f["site"], f["kind"]) for f in store.findings(status="open"))
    finally:
        await server.close()
    assert all(r.status == "ok" for r in results)
    expected = sorted(
        (site, f"site_identity_{item}")
        for site, items in EXPECTED["identity_missing"].items()
        for item in items
    )
    assert found == expected
    missing = [item for items in EXPECTED["identity_missing"].values() for item in items]
    assert sorted(missing) == sorted(ITEMS)  # each item missing exactly once across the demo sites


async def test_demo_availability_probes_and_down_state(tmp_path: Path, clock: FixedClock) -> None:
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        assert config.availability.reference_urls == DEMO_REFERENCE_URLS  # the demo never leaves the machine
        # A 2.5 s limit keeps this test quick: the 2 s page still passes, the 30 s one still fails.
        availability = config.availability.model_copy(update={"timeout_seconds": 2.5, "down_after": 2})
        config = config.model_copy(update={"availability": availability})
        with Store(tmp_path / "demo.db") as store:
            first = await run_duty("availability", config, store, clock)
            outcomes = {
                r.site.id: {t["name"]: (t["ok"], t["error"]) for t in r.counts["targets"]} for r in first
            }
            after_one = list(store.findings(status="open"))
            clock.advance(minutes=15)
            await run_duty("availability", config, store, clock)
            after_two = [(f["site"], f["kind"], f["url"]) for f in store.findings(status="open")]
    finally:
        await server.close()
    assert all(r.status == "ok" for r in first)
    for site, targets in EXPECTED["probes"].items():
        assert set(outcomes[site]) == set(targets), site
        for name, spec in targets.items():
            assert outcomes[site][name] == (spec["ok"], spec.get("error")), (site, name)
    assert first[0].counts["self_check"].startswith("正常")
    assert after_one == []  # one failed probe is neither "down" nor a ratio
    assert sorted(after_two) == sorted((d["site"], d["kind"], d["url"]) for d in EXPECTED["down_after_runs"])


def test_demo_runs_availability_and_identity() -> None:
    assert "availability" in DEMO_DUTIES and "identity" in DEMO_DUTIES
