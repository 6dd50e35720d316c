"""Pure availability rules: ratio boundaries, flap suppression, certificate and IPv6 judgements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checks.availability.ipv6 import V6, V6Plan, judge_ipv6, plan_ipv6
from checks.availability.tlscheck import CertInfo, evaluate_certificate, hostname_matches
from checks.availability.uptime import RatioLevel, State, TargetState, advance, failure_ratio, median_ms

PINNED_V4 = V6Plan(False, "该主机被固定到IPv4地址（host_overrides），无法判断IPv6")
BOTH = {"www.x.gov.cn:443": "[::1]:8443", "www.x.gov.cn": "127.0.0.1:1"}
RULE = {"warn_percent": 3.0, "fail_percent": 5.0, "min_probes": 20}


@pytest.mark.parametrize(
    ("total", "failures", "level"),
    [
        (100, 2, RatioLevel.OK),
        (100, 3, RatioLevel.WARNING),  # exactly 3 %
        (100, 4, RatioLevel.WARNING),
        (100, 5, RatioLevel.VETO),  # exactly 5 %
        (1000, 29, RatioLevel.OK),  # 2.9 %
        (1000, 30, RatioLevel.WARNING),
        (1000, 49, RatioLevel.WARNING),  # 4.9 %
        (1000, 50, RatioLevel.VETO),
        (672, 20, RatioLevel.OK),  # 2.976 %
        (672, 21, RatioLevel.WARNING),  # 3.125 %
        (672, 33, RatioLevel.WARNING),  # 4.91 %
        (672, 34, RatioLevel.VETO),  # 5.06 %
        (700, 21, RatioLevel.WARNING),  # 3 % exactly
        (700, 35, RatioLevel.VETO),  # 5 % exactly
        (140, 7, RatioLevel.VETO),  # 20 a day for a week, 7 failures = 5 %
        (19, 19, RatioLevel.UNKNOWN),  # below min_probes: not judged, however bad
        (0, 0, RatioLevel.UNKNOWN),
        (20, 0, RatioLevel.OK),
    ],
)
def test_failure_ratio_levels_at_the_boundaries(total: int, failures: int, level: RatioLevel) -> None:
    assert failure_ratio(total, failures, **RULE).level == level


def test_configured_thresholds_compare_exactly() -> None:
    # In floats 0.07 * 100 is 7.000000000000001, so 7 failures in 100 would miss a 7 % line.
    assert failure_ratio(100, 7, warn_percent=3.5, fail_percent=7.0, min_probes=1).level == RatioLevel.VETO
    assert failure_ratio(200, 7, warn_percent=3.5, fail_percent=7.0, min_probes=1).level == RatioLevel.WARNING


def test_ratio_summary_is_the_bulletin_sentence() -> None:
    v = failure_ratio(672, 41, **RULE)
    assert v.level == RatioLevel.VETO
    assert v.summary_zh == "近7天探测672次，失败41次，失败率6.1%"
    assert v.availability_text == "93.8%"
    # Rounded down: 4.96 % is never printed as "5.0%" next to a mere warning.
    just_under = failure_ratio(1000, 49, **RULE)
    assert just_under.percent_text == "4.9%"
    assert failure_ratio(100, 3, **RULE).percent_text == "3.0%"
    offline = failure_ratio(96, 1, **RULE, offline=8)
    assert offline.summary_zh == "近7天探测96次，失败1次，失败率1.0%（另有8次探测时监测端自身断网，未计入）"


def test_ratio_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        failure_ratio(10, 11, **RULE)


T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _run(outcomes: list[bool | None], down_after: int = 3, up_after: int = 2) -> list[TargetState]:
    state, out = TargetState(), []
    for i, ok in enumerate(outcomes):
        state = advance(state, ok, T0 + timedelta(minutes=15 * i), down_after=down_after, up_after=up_after)
        out.append(state)
    return out


@pytest.mark.parametrize(
    ("outcomes", "states"),
    [
        # one blip never flaps
        ([True, False, True, False, False, True], "UUUUUU"),
        # three in a row: down; one success is not enough to come back
        ([True, False, False, False, True, False, True, True], "UUUDDDDU"),
        # monitor offline (None) neither breaks nor extends a streak
        ([True, False, None, False, None, False], "UUUUUD"),
        ([True, False, False, None, True, None, True], "UUUUUUU"),
        # a fresh target is unknown until its first success, and can go straight down
        ([False, False, False], "??D"),
    ],
)
def test_state_machine_needs_consecutive_results(outcomes: list[bool | None], states: str) -> None:
    code = {State.UP: "U", State.DOWN: "D", State.UNKNOWN: "?"}
    assert "".join(code[s.state] for s in _run(outcomes)) == states


def test_down_since_is_the_first_failure_of_the_streak() -> None:
    states = _run([True, True, False, False, False])
    assert states[-1].state == State.DOWN
    assert states[-1].since == T0 + timedelta(minutes=30)
    back = _run([True, False, False, False, True, True])
    assert back[-1].state == State.UP and back[-1].since == T0 + timedelta(minutes=75)


def test_median_latency() -> None:
    assert median_ms([300, 100, 200]) == 200
    assert median_ms([]) is None


def _cert(names: tuple[str, ...], cn: str = "", days_left: float = 200) -> CertInfo:
    return CertInfo(cn, "CN=Test CA", T0 - timedelta(days=100), T0 + timedelta(days=days_left), names)


@pytest.mark.parametrize(
    ("host", "names", "cn", "match"),
    [
        ("www.shixian.gov.cn", ("www.shixian.gov.cn",), "", True),
        ("WWW.Shixian.gov.cn.", ("www.shixian.gov.cn",), "", True),
        ("www.shixian.gov.cn", ("*.shixian.gov.cn",), "", True),
        ("a.b.shixian.gov.cn", ("*.shixian.gov.cn",), "", False),  # * covers one label only
        ("shixian.gov.cn", ("*.shixian.gov.cn",), "", False),
        ("www.shixian.gov.cn", ("*.gov.cn",), "", False),
        ("www.shixian.gov.cn", ("www.other.gov.cn",), "www.shixian.gov.cn", False),  # CN ignored with SAN
        ("www.shixian.gov.cn", (), "www.shixian.gov.cn", True),  # CN only without SAN
        ("www.shixian.gov.cn", ("w*.shixian.gov.cn",), "", False),  # partial wildcards not honoured
    ],
)
def test_hostname_matching(host: str, names: tuple[str, ...], cn: str, match: bool) -> None:
    assert hostname_matches(host, _cert(names, cn)) is match


@pytest.mark.parametrize(
    ("days_left", "kind", "step"),
    [
        (200, None, None),
        (31, None, None),
        (30.5, "tls_cert_expiring", 30),
        (20, "tls_cert_expiring", 30),
        (14.5, "tls_cert_expiring", 14),
        (10, "tls_cert_expiring", 14),
        (7.2, "tls_cert_expiring", 7),
        (0.5, "tls_cert_expiring", 7),
        (-1, "tls_cert_expired", None),
    ],
)
def test_certificate_expiry_steps(days_left: float, kind: str | None, step: int | None) -> None:
    problems = evaluate_certificate(
        "www.shixian.gov.cn", 443, _cert(("www.shixian.gov.cn",), days_left=days_left), T0, (30, 14, 7)
    )
    assert [p.kind for p in problems] == ([kind] if kind else [])
    if kind == "tls_cert_expiring":
        assert problems[0].severity == "warning"
        assert problems[0].identity.endswith(f"#{step}d")
        assert f"提前{step}天预警" in problems[0].message
    if kind == "tls_cert_expired":
        assert problems[0].severity == "veto" and "已于" in problems[0].message


@pytest.mark.parametrize(
    ("overrides", "machine", "plan"),
    [
        ({}, True, V6Plan(True)),
        ({}, False, V6Plan(False, "监测端本机无IPv6网络")),
        ({"www.x.gov.cn": "127.0.0.1:8080"}, True, PINNED_V4),
        ({"www.x.gov.cn": "[::1]:8080"}, False, V6Plan(True, pinned="::1")),
        (BOTH, False, V6Plan(True, pinned="::1")),  # the host:port key wins
        ({"www.x.gov.cn": "nxdomain"}, True, V6Plan(False, "域名无法解析")),
    ],
)
def test_ipv6_plan(overrides: dict[str, str], machine: bool, plan: V6Plan) -> None:
    assert plan_ipv6("www.x.gov.cn", 443, overrides, machine) == plan


@pytest.mark.parametrize(
    ("plan", "aaaa", "answered", "verdict"),
    [
        (V6Plan(False, "监测端本机无IPv6网络"), None, None, V6.UNKNOWN),  # never a false failure
        (V6Plan(True), False, None, V6.NO_AAAA),
        (V6Plan(True), True, False, V6.UNREACHABLE),
        (V6Plan(True), True, True, V6.OK),
    ],
)
def test_ipv6_verdict(plan: V6Plan, aaaa: bool | None, answered: bool | None, verdict: V6) -> None:
    assert judge_ipv6(plan, aaaa, answered) == verdict
    assert V6.UNKNOWN.label_zh == "未检测"
