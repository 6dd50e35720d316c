"""The demo crawl's text checks report every planted text problem and nothing else (expected_text.yaml)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from monitor.app.demo.runner import demo_config
from monitor.app.demo.server import start_demo_server
from monitor.config import Config, load_config
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.fetch import Fetcher

REPO = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((REPO / "tests/demo_expected/expected_text.yaml").read_text(encoding="utf-8"))


def _fast(config: Config) -> Config:
    # The text duty does not check links; the slow-page and timeout traps only cost time here.
    site = config.sites[0]
    scope = site.scope.model_copy(update={"exclude": (*site.scope.exclude, r"/bsfw/slow-")})
    crawl = config.crawl.model_copy(update={"timeout_seconds": 2.0, "retries": 0, "confirm_delay_seconds": 0})
    return config.model_copy(
        update={"crawl": crawl, "sites": (site.model_copy(update={"scope": scope}), *config.sites[1:])}
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `text` run over the demo site: the result, the stored findings and the planted pages' HTML."""
    clock = FixedClock(datetime(2026, 11, 26, 9, 30), SHANGHAI)

    async def run() -> dict:
        server = await start_demo_server(port=0, today=clock.now().date())
        try:
            config = _fast(demo_config(load_config(REPO / "config.yaml", env={}), server))
            with Store(tmp_path_factory.mktemp("demo") / "text.db") as store:
                results = await run_duty("text", config, store, clock)
                (result,) = [r for r in results if r.site.id == "portal"]
                # The two small identity-fixture demo sites have no text problems.
                assert all(r.status == "ok" and not r.findings for r in results if r.site.id != "portal")
                rows = list(store.findings(status="open"))
            pages = {}
            async with Fetcher(config.crawl) as fetcher:
                for url in {**EXPECTED["decoys"], **EXPECTED["invisible"]}:
                    res = await fetcher.fetch(url)
                    pages[url] = res.body.decode("utf-8")
        finally:
            await server.close()
        return {"result": result, "rows": rows, "pages": pages}

    return asyncio.run(run())


def test_text_duty_reports_exactly_the_planted_problems(demo_run: dict) -> None:
    result, rows = demo_run["result"], demo_run["rows"]
    assert result.status == "ok"
    assert {r["duty"] for r in rows} <= {"typos", "sensitive", "privacy"}
    found = {(r["url"], r["duty"], r["kind"], r["evidence"]["wrong"]): r for r in rows}
    planted = {(f["url"], f["duty"], f["kind"], f["wrong"]): f for f in EXPECTED["findings"]}
    assert set(found) == set(planted)  # every planted problem, nothing on any other page
    for key, spec in planted.items():
        row = found[key]
        assert row["severity"] == spec["severity"], key
        assert row["evidence"]["suggestion"] == spec["suggestion"], key
        assert f"【{spec['wrong']}】" in row["evidence"]["snippet"], key
        assert row["evidence"]["occurrences"] == 1
        assert row["unit"] == "县政府办公室"
    serious = found[(EXPECTED["findings"][0]["url"], "typos", "serious_expression", "中华人民共合国")]
    assert serious["message"] == (
        "页面“西岭乡召开平安建设工作推进会_示例县人民政府”出现严重表述错误："
        "“中华人民共合国”应为“中华人民共和国”（国名）"
    )


def test_w1_indicator_in_run_counts(demo_run: dict) -> None:
    counts = demo_run["result"].counts
    (w1,) = [i for i in counts["indicators"] if i["indicator"] == "W1"]
    assert (w1["subject"], w1["verdict"], w1["value"]) == ("portal", "fail", EXPECTED["w1_serious_errors"])
    assert f"发现严重表述错误{EXPECTED['w1_serious_errors']}处" in w1["figure"]
    assert counts["serious_expression"] == EXPECTED["w1_serious_errors"]
    assert counts["text_pages"] >= 100  # every crawled page was read


def test_decoys_are_on_the_page_and_silent(demo_run: dict) -> None:
    rows, pages = demo_run["rows"], demo_run["pages"]
    for url, phrases in EXPECTED["decoys"].items():
        wrongs = [r["evidence"]["wrong"] for r in rows if r["url"] == url]
        for phrase in phrases:
            assert phrase in pages[url], (url, phrase)  # the decoy really is there
            assert not any(w in phrase or phrase in w for w in wrongs), (url, phrase)
    for url, phrases in EXPECTED["invisible"].items():
        for phrase in phrases:
            assert pages[url].count(phrase) == 3, phrase  # hidden <p>, <script>, <noscript>
            assert not any(phrase in r["evidence"]["wrong"] for r in rows)


def test_reports_never_carry_a_full_id_number(demo_run: dict) -> None:
    for r in demo_run["rows"]:
        stored = json.dumps(r, ensure_ascii=False, default=str)
        assert not re.search(r"\d{15}", stored), r
    assert "410523196203081522" in demo_run["pages"][EXPECTED["findings"][-1]["url"]]  # neighbour row
