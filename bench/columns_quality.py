"""Zero-config column audit quality (issue 17): precision and recall of stale and blank columns.

Runs ``monitor run columns`` with **no column registry** (``columns.sites`` emptied, discovery on) on a
county site served on 127.0.0.1 and compares the findings with the site's ground truth:

* ``demo``: the demo county (``monitor/app/demo``), truth in ``tests/demo_expected/expected_columns.yaml``
  (``zero_config``);
* ``county2``: the second county layout (``tests/county2.py``: Hanweb-style ``/col/col…`` sections,
  departments and townships three levels deep under ``/xxgk/bm/<unit>/<column>/``, pagers, headline links,
  year-less dates, header clocks, GBK township pages), truth in the generator.

A column counts as *stale* when the audit reports ``column_stale`` or ``column_undated`` (an undated
column counts as not updated), as *blank* for ``column_blank``. Usage::

    .venv/bin/python bench/columns_quality.py [demo|county2|all]

Prints one line per site and class (``precision recall tp fp fn``) and the misses, and exits 1 when a
figure is below 0.95.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.config import Config, load_config  # noqa: E402
from monitor.core.clock import FixedClock  # noqa: E402
from monitor.runner import run_duty  # noqa: E402
from monitor.store.database import Store  # noqa: E402

SHANGHAI_NOW = datetime(2026, 11, 26, 9, 30)
STALE_KINDS = {"column_stale", "column_undated"}
BLANK_KINDS = {"column_blank"}


def zero_config(config: Config) -> Config:
    """The same config without any column registry (discovery on)."""
    columns = config.columns.model_copy(update={"sites": {}, "discover": True})
    return config.model_copy(update={"columns": columns})


def score(found: set[str], truth: set[str]) -> tuple[float, float, int, int, int]:
    """Precision, recall, true positives, false positives, false negatives."""
    tp, fp, fn = len(found & truth), len(found - truth), len(truth - found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


async def audit(config: Config, site_id: str, clock: FixedClock) -> tuple[set[str], set[str], dict]:
    """Run the columns duty zero-config; the stale and blank column identities, and the run counts."""
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "q.db") as store:
        runs = await run_duty("columns", zero_config(config), store, clock)
        (run,) = [r for r in runs if r.site.id == site_id]
        findings = list(store.findings(status="open", duty="columns"))
    stale = {f["identity"] for f in findings if f["kind"] in STALE_KINDS and f["site"] == site_id}
    blank = {f["identity"] for f in findings if f["kind"] in BLANK_KINDS and f["site"] == site_id}
    return stale, blank, run.counts


async def measure_demo(clock: FixedClock) -> dict[str, tuple[set[str], set[str]]]:
    """The demo county: (found, truth) per class."""
    from monitor.app.demo.runner import demo_config
    from monitor.app.demo.server import start_demo_server

    truth = yaml.safe_load((REPO / "tests/demo_expected/expected_columns.yaml").read_text(encoding="utf-8"))
    server = await start_demo_server(port=0, today=clock.now().date())
    try:
        config = demo_config(load_config(REPO / "config.yaml", env={}), server)
        stale, blank, counts = await audit(config, "portal", clock)
    finally:
        await server.close()
    zc = truth["zero_config"]
    return {"stale": (stale, set(zc["stale"])), "blank": (blank, set(zc["blank"]))}, counts


async def measure_county2(clock: FixedClock) -> dict[str, tuple[set[str], set[str]]]:
    """The second county layout (tests/county2.py)."""
    from tests.county2 import County2

    county = County2(clock.now().date())
    await county.start()
    try:
        stale, blank, counts = await audit(county.config(), county.SITE_ID, clock)
    finally:
        await county.close()
    return {"stale": (stale, county.truth_stale), "blank": (blank, county.truth_blank)}, counts


def report(name: str, result: dict[str, tuple[set[str], set[str]]], counts: dict) -> bool:
    """Print the figures of one site; True when every figure is at least 0.95."""
    ok = True
    disc = counts.get("discovery", {})
    print(f"{name}: {disc.get('columns_found')} columns found, {disc.get('pages_visited')} pages visited")
    for cls, (found, truth) in result.items():
        p, r, tp, fp, fn = score(found, truth)
        ok &= p >= 0.95 and r >= 0.95
        print(f"  {cls:5s} precision {p:.3f} recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn}, truth {len(truth)})")
        for url in sorted(found - truth):
            print(f"    false: {url}")
        for url in sorted(truth - found):
            print(f"    missed: {url}")
    return ok


if __name__ == "__main__":
    from checks.common.dates import SHANGHAI

    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    clock = FixedClock(SHANGHAI_NOW.replace(tzinfo=SHANGHAI), SHANGHAI)
    ok = True
    if which in ("demo", "all"):
        result, counts = asyncio.run(measure_demo(clock))
        ok &= report("demo county (www.shixian.gov.cn)", result, counts)
    if which in ("county2", "all"):
        result, counts = asyncio.run(measure_county2(clock))
        ok &= report("second county (www.dongxi.gov.cn)", result, counts)
    sys.exit(0 if ok else 1)
