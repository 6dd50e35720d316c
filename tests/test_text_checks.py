"""The text page checks on a real local site: findings, units, counts, allow-lists, ignores, word lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.config import ConfigError, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import crawl_duties, run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config, page

HOST = "www.test.gov.cn"
HOME = f"http://{HOST}/"


def serve(sites: LocalSites) -> None:
    sites.html(
        HOST,
        "/",
        page(
            "示例县人民政府",
            "<p>会议对全年工作进行了布署，要求各单位按照布署抓好落实。</p>"
            '<p style="display:none">中华人民共合国</p>',
            links=["/zwgk/a.html", "/zwgk/jyj/b.html"],
        ),
    )
    sites.html(
        HOST,
        "/zwgk/a.html",
        page(
            "纪念中华人民共合国成立77周年",
            "<p>县长张为民出席。联系电话0371-12345678。</p><p>上级拨付体育彩票公益金50万元。</p>",
        ),
    )
    sites.html(
        HOST,
        "/zwgk/jyj/b.html",
        page(
            "教育局公示",
            "<p>经审核，现将工作布署情况公示如下。学生张某某，身份证号410523198507150011，监护人410523196203081522。</p>"
            '<p>网页底部：<img src="/x.gif" alt="澳门赌场 官方网站"></p><p>要坚决反对台独分裂活动。</p>',
        ),
    )
    sites.html(HOST, "/x.gif", "GIF89a", content_type="image/gif")


def config(sites: LocalSites, tmp_path: Path, **text: object):
    words = tmp_path / "politics.txt"
    words.write_text("# 政治\n台独\n", encoding="utf-8")
    return fast_config(
        sites,
        [HOST],
        HOME,
        units=[{"name": "县教育局", "site": "test", "paths": ["/zwgk/jyj/"]}],
        text={
            "county": "示例县",
            "leaders": [{"name": "张卫民", "titles": ["县长"], "effective_from": "2022-01-01"}],
            "word_lists": [
                {"path": str(words), "category": "政治敏感", "severity": "veto", "allow": ["反对台独"]}
            ],
            **text,
        },
    )


def by_key(findings) -> dict[tuple[str, str, str], object]:
    return {(f.url.removeprefix(HOME), f.kind, f.evidence["wrong"]): f for f in findings}


async def test_text_duty_findings(sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock) -> None:
    serve(sites)
    (result,) = await run_duty("text", config(sites, tmp_path), store, clock)
    assert result.status == "ok"
    found = by_key(result.findings)
    assert set(found) == {
        ("", "typo", "布署"),
        ("zwgk/a.html", "serious_expression", "中华人民共合国"),
        ("zwgk/a.html", "serious_expression", "县长张为民"),
        ("zwgk/jyj/b.html", "typo", "布署"),
        ("zwgk/jyj/b.html", "privacy_id_number", "410523********0011"),
        ("zwgk/jyj/b.html", "sensitive_word", "澳门赌场"),
    }  # hidden text, 体育彩票公益金 and the allowed 反对台独 stay silent
    home_typo = found[("", "typo", "布署")]
    assert home_typo.duty == "typos" and home_typo.severity == "deduction"
    assert home_typo.evidence["occurrences"] == 2 and len(home_typo.evidence["offsets"]) == 2
    assert home_typo.message == "页面“示例县人民政府”出现错别字：“布署”应为“部署”，共2处"
    assert home_typo.identity == f"{HOME}#common_typo:布署"
    assert "【布署】" in home_typo.evidence["snippet"]
    title_error = found[("zwgk/a.html", "serious_expression", "中华人民共合国")]
    assert title_error.severity == "veto" and title_error.evidence["where"] == "title"
    assert title_error.message.endswith("“中华人民共合国”应为“中华人民共和国”（国名），位于标题")
    leader = found[("zwgk/a.html", "serious_expression", "县长张为民")]
    assert leader.evidence["suggestion"] == "县长张卫民"
    spam = found[("zwgk/jyj/b.html", "sensitive_word", "澳门赌场")]
    assert (spam.duty, spam.severity, spam.evidence["where"]) == ("sensitive", "veto", "alt")
    assert spam.unit == "县教育局" and home_typo.unit == "县政府办公室"
    leak = found[("zwgk/jyj/b.html", "privacy_id_number", "410523********0011")]
    assert (leak.duty, leak.severity) == ("privacy", "deduction")
    assert "410523198507150011" not in leak.message + leak.evidence["snippet"]
    # The neighbouring number (wrong check digit: no finding of its own) is not leaked by the snippet.
    assert "监护人410523******" in leak.evidence["snippet"]

    counts = result.counts
    assert counts["text_pages"] == 3
    assert (counts["serious_expression"], counts["typo"], counts["sensitive_word"]) == (2, 2, 1)
    (w1,) = counts["indicators"]
    assert (w1["indicator"], w1["verdict"], w1["value"]) == ("W1", "fail", 2.0)
    assert w1["figure"] == "检查3个页面，发现严重表述错误2处（1个页面，共出现2次）"


async def test_each_text_check_runs_alone(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    serve(sites)
    assert crawl_duties()["text"] == ("typos", "sensitive", "privacy")
    assert {"typos", "sensitive", "privacy", "links"} <= set(crawl_duties()["patrol"])
    (result,) = await run_duty("privacy", config(sites, tmp_path), store, clock)
    assert [f.kind for f in result.findings] == ["privacy_id_number"]
    assert "indicators" not in result.counts  # only the typos check measures W1


async def test_clean_site_passes_w1(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    sites.html(HOST, "/", page("首页", "<p>县政府召开常务会议，研究部署冬季安全生产工作。</p>"))
    (result,) = await run_duty("typos", config(sites, tmp_path), store, clock)
    assert result.findings == []
    (w1,) = result.counts["indicators"]
    assert (w1["verdict"], w1["figure"]) == ("pass", "检查1个页面，未发现严重表述错误")


async def test_ignored_and_allow_listed_findings_stay_silent(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    serve(sites)
    cfg = config(sites, tmp_path)
    (first,) = await run_duty("text", cfg, store, clock)
    typo = next(f for f in first.findings if f.kind == "typo" and f.url == HOME)
    store.ignore(typo.fingerprint, "领导要求保留原文", clock.now())

    (second,) = await run_duty("text", cfg, store, clock)
    assert second.outcome.ignored_seen == 1 and second.outcome.new == 0
    assert store.finding(typo.fingerprint)["status"] == "ignored"
    assert second.open_findings == len(first.findings) - 1

    # 误报加白 in config: the allow-listed phrase silences the leader finding; it is then fixed.
    leader = next(f for f in first.findings if f.evidence["wrong"] == "县长张为民")
    allowed = config(sites, tmp_path, allow_phrases=["县长张为民"])
    (third,) = await run_duty("text", allowed, store, clock)
    assert leader.fingerprint not in {f.fingerprint for f in third.findings}
    assert store.finding(leader.fingerprint)["status"] == "resolved"
    assert store.finding(typo.fingerprint)["status"] == "ignored"


async def test_leader_out_of_office_is_not_protected(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    serve(sites)
    cfg = config(sites, tmp_path)
    text = cfg.text.model_copy(
        update={"leaders": (cfg.text.leaders[0].model_copy(update={"effective_to": dt.date(2025, 12, 31)}),)}
    )
    (result,) = await run_duty("typos", cfg.model_copy(update={"text": text}), store, clock)
    assert "县长张为民" not in {f.evidence["wrong"] for f in result.findings}


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (
            {"word_lists": [{"path": "nope.txt", "category": "x"}]},
            "text.word_lists[0].path",
            "file not found",
        ),
        (
            {"word_lists": [{"path": "w.txt", "category": "x", "severity": "fatal"}]},
            "text.word_lists[0].severity",
            "",
        ),
        ({"leaders": [{"name": "张三", "titles": []}]}, "text.leaders[0].titles", ""),
        (
            {"names": [{"term": "某某", "effective_from": "2026-01-01", "effective_to": "2025-01-01"}]},
            "text.names[0]",
            "before",
        ),
        ({"allow_phrase": ["x"]}, "text.allow_phrase", "unknown key"),
    ],
)
def test_bad_text_config_names_the_key(tmp_path: Path, text: dict, path: str, message: str) -> None:
    (tmp_path / "w.txt").write_text("词\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"text": text}, base_dir=tmp_path)
    assert [p for p, _ in err.value.problems] == [path]
    assert message in str(err.value)


async def test_word_list_gone_after_load_fails_the_run_cleanly(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    serve(sites)
    cfg = config(sites, tmp_path)
    (tmp_path / "politics.txt").unlink()  # deleted between config load and the run
    (result,) = await run_duty("text", cfg, store, clock)
    assert result.status == "failed" and "politics.txt" in (result.error or "")
    assert store.count_open() == 0
    assert [r["status"] for r in store.runs(duty="text")] == ["failed"]
    assert sites.count(HOST, "/") == 0  # nothing was crawled
