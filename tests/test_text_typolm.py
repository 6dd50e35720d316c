"""Stage 1 of the typo check: the language model's suggestions (疑似错别字) — what it finds, what it
never flags, clean text (5,000 correct sentences and the real government pages), and how the crawl uses
it: unchanged pages are not scored again, the site's recurring usage and 误报 are learned, a missing model
is one line in the run summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks.text import typolm
from checks.text.check import TypoModelOptions, suggestion_hits
from monitor.app.cli import main
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.decode import decode_body
from monitor.web.page import Page
from tests.sites import LocalSites, fast_config, page

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HOST = "www.test.gov.cn"
HOME = f"http://{HOST}/"


@pytest.fixture(scope="module")
def model() -> typolm.TypoModel:
    loaded = typolm.shared_model()
    assert loaded is not None, typolm.unavailable_reason()
    return loaded


@pytest.mark.parametrize(
    ("text", "wrong", "fix"),
    [
        ("中国人民很行发布了新的货币政策。", "很", "银"),
        ("提高浓业社会化服务水平。", "浓", "农"),
        ("加强多式联云公共信息交换共享。", "云", "运"),
        ("对依法应当通过法定途径解决的信防事项，依照有关法律、法规的规定管辖和处理。", "防", "访"),
        ("完善监管体惜和监管模式。", "惜", "系"),
    ],
)
def test_suggests_the_fix(model: typolm.TypoModel, text: str, wrong: str, fix: str) -> None:
    (s,) = model.suggest(text)
    assert (text[s.start], s.wrong, s.fix) == (wrong, wrong, fix)
    assert s.gain >= typolm.DEFAULT_THRESHOLD and wrong in s.context


@pytest.mark.parametrize(
    "text",
    [
        "会议由设计师李效华主持，郑栅洁同志出席。",  # person names next to titles
        "“提高浓业社会化服务水平”是他的原话。",  # inside a quotation
        "《提高浓业社会化服务水平》读后感",  # inside a book or document title
        "市国动办、自治区国动办、银保监部门负责同志参加。",  # organisation abbreviations
        "成都刻丽缇美企业管理有限公司执行董事",  # trade names
        "横州市人民政府 宾阳县人民政府",  # place names
        "中墨两国友好合作，愿同葡方加强交流。",  # one-character country names
        "切換到繁體 色彩構圖筆調上的表現清新可喜",  # traditional script
        "Wi-Fi 6 与 5G 基站 2026 年覆盖 98% 的行政村",  # English and numbers
        "坚持精准施策，全力做好抗疫工作。",  # words the model does not know but word lists do
        "脱贫攻坚到了最吃劲的阶段，越要咬紧牙关。",  # 吃 shares only a rare reading (qi) with 起
    ],
)
def test_never_flagged(model: typolm.TypoModel, text: str) -> None:
    assert model.suggest(text) == []


def test_sound_alikes_follow_the_written_characters_main_reading() -> None:
    """An input method offers a character under its common reading: 吃 (chi) is no slip of 起 (qi) by
    sound, while 起 is one of 启 and 汽 one of 气; sharing a rare reading only makes a look-alike."""
    assert typolm.main_reading("吃") == "chi"
    assert "起" not in typolm.sound_alikes("吃") and "痴" in typolm.sound_alikes("吃")
    assert "启" in typolm.sound_alikes("起") and "气" in typolm.sound_alikes("汽")


def test_protected_phrases_are_never_flagged(model: typolm.TypoModel) -> None:
    text = "提高浓业社会化服务水平。"
    assert model.suggest(text, protect=("浓业社",)) == []


def test_clean_sentences_stay_below_one_in_a_thousand(model: typolm.TypoModel) -> None:
    rows = [r["original_text"] for r in json.loads((SHARED / "data" / "acc_xxqg.json").read_text("utf-8"))]
    flagged = [(t, [(s.wrong, s.fix) for s in model.suggest(t)]) for t in rows]
    flagged = [f for f in flagged if f[1]]
    assert len(flagged) / len(rows) <= 0.001, flagged


def test_real_government_pages_get_no_suggestion() -> None:
    """The saved pages of 32 real government sites are clean: a suggestion on them is a false alarm."""
    realworld = SHARED / "realworld"
    options = TypoModelOptions()
    found = []
    for rec in json.loads((realworld / "manifest.json").read_text("utf-8")):
        html, encoding = decode_body((realworld / "sites" / rec["served_path"].lstrip("/")).read_bytes())
        url = rec["original_url"]
        text = Page(url=url, final_url=url, status=200, depth=0, html=html, encoding=encoding).text.text
        hits = suggestion_hits(text, options)
        assert hits is not None
        found += [(rec["site"], h.note, h.suggestion) for h in hits]
    assert found == []


# -- in the crawl ------------------------------------------------------------------------------------


def _config(sites: LocalSites, **text: object):
    return fast_config(sites, [HOST], HOME, text={"sample_word_list": False, **text})


def _serve(sites: LocalSites, a_body: str) -> None:
    sites.html(HOST, "/", page("示例县人民政府", "<p>县政府召开常务会议。</p>", links=["/a.html", "/b.html"]))
    sites.html(HOST, "/a.html", page("农业农村", a_body))
    sites.html(HOST, "/b.html", page("政务公开", "<p>完善监管体惜和监管模式。</p>"))


def suggestions(findings) -> dict[str, tuple[str, str, str]]:
    return {
        f.url.removeprefix(HOME): (f.evidence["note"], f.evidence["wrong"], f.evidence["suggestion"])
        for f in findings
        if f.kind == "suspected_typo"
    }


async def test_suggestions_in_the_crawl_and_unchanged_pages_not_rescored(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    _serve(sites, "<p>提高浓业社会化服务水平。</p>")
    cfg = _config(sites)
    (first,) = await run_duty("typos", cfg, store, clock)
    assert first.status == "ok"
    assert suggestions(first.findings) == {"a.html": ("浓业", "浓", "农"), "b.html": ("体惜", "惜", "系")}
    f = next(f for f in first.findings if f.kind == "suspected_typo" and f.url.endswith("a.html"))
    assert f.severity.value == "warning"
    assert f.message == "页面“农业农村”疑似错别字：“浓业”中的“浓”疑为“农”（语言模型建议，请核对）"
    assert f.evidence["snippet"].endswith("提高【浓】业社会化服务水平。")
    assert first.counts["typo_model"] == {"pages_scored": 3, "pages_unchanged": 0, "learned": 0}
    assert first.counts["suspected_typo"] == 2

    # Nothing changed: nothing is scored again, and the suggestions stay open.
    (second,) = await run_duty("typos", cfg, store, clock)
    assert second.counts["typo_model"] == {"pages_scored": 0, "pages_unchanged": 3, "learned": 0}
    assert suggestions(second.findings) == suggestions(first.findings)
    assert second.outcome.new == 0 and second.open_findings == 2

    # The page is corrected: only it is scored, and its suggestion resolves.
    _serve(sites, "<p>提高农业社会化服务水平。</p>")
    (third,) = await run_duty("typos", cfg, store, clock)
    assert third.counts["typo_model"]["pages_scored"] == 1
    assert suggestions(third.findings) == {"b.html": ("体惜", "惜", "系")}
    assert store.finding(f.fingerprint)["status"] == "resolved"


async def test_the_site_teaches_recurring_usage_and_false_alarms(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    # A local usage in different sentences on several pages is the site's own: never flagged.
    sites.html(HOST, "/", page("首页", "<p>提高浓业社会化服务水平。</p>", links=["/a.html", "/b.html"]))
    sites.html(HOST, "/a.html", page("一", "<p>推进浓业社会化服务体系建设。</p>"))
    sites.html(
        HOST, "/b.html", page("二", "<p>加快浓业社会化服务组织发展。</p><p>完善监管体惜和监管模式。</p>")
    )
    cfg = _config(sites)
    (first,) = await run_duty("typos", cfg, store, clock)
    assert suggestions(first.findings) == {"b.html": ("体惜", "惜", "系")}
    assert first.counts["typo_model"]["learned"] == 1

    # An operator marks the other one 误报: it is not flagged on any page of the site again.
    (f,) = [f for f in first.findings if f.kind == "suspected_typo"]
    store.ignore(f.fingerprint, "本地用语", clock.now())
    sites.html(HOST, "/c.html", page("三", "<p>要求进一步完善监管体惜。</p>"))
    links = ["/a.html", "/b.html", "/c.html"]
    sites.html(HOST, "/", page("首页", "<p>提高浓业社会化服务水平。</p>", links=links))
    (second,) = await run_duty("typos", cfg, store, clock)
    assert suggestions(second.findings) == {}
    assert second.counts["typo_model"]["learned"] == 1  # remembered from the first run


async def test_allow_phrases_and_model_switch(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    _serve(sites, "<p>提高浓业社会化服务水平。</p>")
    (allowed,) = await run_duty("typos", _config(sites, allow_phrases=["监管体惜"]), store, clock)
    assert set(suggestions(allowed.findings)) == {"a.html"}
    (off,) = await run_duty("typos", _config(sites, typo_model=False), store, clock)
    assert suggestions(off.findings) == {} and "typo_model" not in off.counts


async def test_unloadable_model_is_one_line_in_the_summary(sites: LocalSites, tmp_path: Path) -> None:
    from tests.test_cli import monitor

    _serve(sites, "<p>提高浓业社会化服务水平。</p>")
    (tmp_path / "broken.lm").write_bytes(b"not a language model")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "sites: [{id: test, name: 测试, homepage: 'http://" + HOST + "/'}]\n"
        "crawl: {analysis_workers: 0, host_overrides: {" + HOST + ": '127.0.0.1:" + str(sites.port) + "'}}\n"
        "text: {typo_model_path: broken.lm}\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "m.db")
    code, out, err = await monitor("--config", str(cfg), "--db", db, "run", "typos", cwd=tmp_path)
    assert code == 0, err
    assert "错别字建议（语言模型）未运行：cannot load the language model" in out
    assert "Traceback" not in out + err


def test_check_text_suggests_with_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MONITOR_NOW", "2026-11-26T09:30:00+08:00")
    draft = "自中华人民共合国成立以来，浓业生产稳步发展。\n"
    res = CliRunner().invoke(main, ["check", "text", "--format", "json", "-"], input=draft)
    assert res.exit_code == 1, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["wrong"], r["suggestion"], r["kind"], r["severity"]) for r in rows] == [
        ("中华人民共合国", "中华人民共和国", "serious_expression", "veto"),
        ("浓", "农", "suspected_typo", "warning"),
    ]
