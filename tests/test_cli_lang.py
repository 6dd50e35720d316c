"""The CLI's language choice and the run summary's wording (issue 21): Chinese for the ops staff by default,
English on request; an ok run that could not observe everything says "partial", never "ok" + "incomplete"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.app.lang import parse_severity, resolve_lang, set_lang
from monitor.app.summary import MARK_NEW, MARK_OPEN, print_run_summary
from monitor.config import Site
from monitor.core.findings import Finding, Severity
from monitor.core.report import RunReport
from monitor.runner import SiteRunResult
from monitor.store.database import RunOutcome

SITE = Site(id="portal", name="示例县人民政府门户网站", homepage="http://www.shixian.gov.cn/")


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    yield
    set_lang("zh")


@pytest.mark.parametrize(
    ("option", "env", "expected"),
    [
        (None, {}, "zh"),
        (None, {"LANG": "C.UTF-8"}, "zh"),  # servers and systemd units: still the users' language
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"MONITOR_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ("zh", {"MONITOR_LANG": "en"}, "zh"),
    ],
)
def test_language_choice(option: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_lang(option, env) == expected


def test_chinese_severity_names_are_accepted() -> None:
    assert parse_severity("扣分") == "deduction" and parse_severity("veto") == "veto"
    assert parse_severity(None) is None
    with pytest.raises(ValueError, match="单项否决"):
        parse_severity("严重")


def _availability_run(status: str = "ok") -> SiteRunResult:
    finding = Finding(
        duty="availability",
        kind="site_unreachable",
        severity=Severity.VETO,
        site="portal",
        identity="home",
        url=SITE.homepage,
        message="首页近7天失败率6.1%",
    )
    report = RunReport(
        complete=False,
        figures={
            "targets": [
                {
                    "name": "首页",
                    "ok": True,
                    "latency_ms": 120,
                    "summary": "近7天可用率93.9%",
                    "level": "unknown",
                }
            ]
        },
    )
    return SiteRunResult(
        7,
        "availability",
        SITE,
        status,
        report=report,
        outcome=RunOutcome(1, 0, 0, 0, 0),
        open_findings=1,
        findings=[finding],
    )


def test_partial_ok_run_is_worded_consistently(capsys: pytest.CaptureFixture[str]) -> None:
    set_lang("zh")
    run = _availability_run()
    print_run_summary([run], {7: {run.findings[0].fingerprint: MARK_NEW}})
    out = capsys.readouterr().out
    assert "第7次运行 完成（部分未检测）" in out and "站点 portal: 示例县人民政府门户网站" in out
    assert "部分目标样本不足或IPv6无法测试，尚未判定" in out and "run incomplete" not in out
    assert "  [单项否决] 新 " in out

    set_lang("en")
    print_run_summary([run], {7: {run.findings[0].fingerprint: MARK_OPEN}})
    out = capsys.readouterr().out
    assert "run #7 ok, partial" in out and "run incomplete" not in out
    assert "some targets not judged yet" in out and "  [veto] still open " in out
