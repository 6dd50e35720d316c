"""The availability duty against real local servers: probes, self-check, ratio, flapping, TLS, IPv6."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.config import ConfigError, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.core.indicators import IndicatorStatus, Verdict
from monitor.runner import run_duty
from monitor.store.database import Probe, Store
from tests.sites import LocalSites, fast_config, page
from tests.tlsutil import LocalCA, TLSSite

HOME = "http://www.test.gov.cn/"
HOSTS = ["www.test.gov.cn", "bs.test.gov.cn", "ref.test.cn"]


def avail_config(
    sites: LocalSites,
    *,
    homepage: str = HOME,
    targets: list[dict[str, str]] | None = None,
    special: dict[str, str] | None = None,
    site: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """One test site, quick probes, a local reference URL for the self-check."""
    availability = {
        "timeout_seconds": 0.8,
        "reference_urls": ["http://ref.test.cn/"],
        "min_probes": 20,
        "down_after": 2,
        "up_after": 2,
        "sites": {"test": {"targets": targets or [], **(site or {})}},
        **options,
    }
    return fast_config(sites, HOSTS, homepage, special=special, availability=availability)


def serve_basics(sites: LocalSites) -> None:
    sites.html("www.test.gov.cn", "/", page("测试县人民政府"))
    sites.html("ref.test.cn", "/", page("参照网站"))


async def test_probes_classify_slow_error_refused_and_dns(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.slow("www.test.gov.cn", "/", 0.2, page("测试县人民政府"))  # slow but under the limit
    sites.slow("bs.test.gov.cn", "/query", 1.5, page("查询系统"))  # over the 0.8 s limit
    sites.status("bs.test.gov.cn", "/apply", 503)
    sites.html("ref.test.cn", "/", page("参照网站"))
    config = avail_config(
        sites,
        targets=[
            {"name": "查询系统", "url": "http://bs.test.gov.cn/query", "kind": "system"},
            {"name": "在线办事", "url": "http://bs.test.gov.cn/apply", "kind": "system"},
            {"name": "办事大厅", "url": "http://hall.test.gov.cn/"},
            {"name": "旧系统", "url": "http://old.test.gov.cn/"},
        ],
        special={"hall.test.gov.cn": "127.0.0.1:1", "old.test.gov.cn": "nxdomain"},
    )
    (result,) = await run_duty("availability", config, store, clock)
    assert result.status == "ok"
    probes = {p.name: p for p in store.probes("test")}
    assert probes["首页"].ok and probes["首页"].status == 200 and probes["首页"].latency_ms >= 200
    assert (probes["查询系统"].ok, probes["查询系统"].error) == (False, "timeout")
    apply = probes["在线办事"]
    assert (apply.ok, apply.status, apply.error) == (False, 503, "http")
    assert probes["办事大厅"].error == "refused"
    assert probes["旧系统"].error == "dns"
    assert all(p.ip_version == 0 and not p.monitor_offline for p in probes.values())
    assert sites.count("bs.test.gov.cn", "/apply") == 1  # a probe is a sample: a 503 is not retried
    assert result.counts["self_check"].startswith("正常")
    rows = {r["name"]: r for r in result.counts["targets"]}
    assert rows["查询系统"]["error"] == "timeout" and rows["首页"]["ok"] is True
    # One probe is not a week: the ratio is not judged, the W2 indicator says so.
    (w2,) = [IndicatorStatus.from_dict(d) for d in result.counts["indicators"]]
    assert w2.verdict == Verdict.UNKNOWN and "样本不足" in w2.figure
    assert result.findings == []  # one failure is neither a ratio nor "down"


async def test_body_must_be_complete_within_the_limit(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    """Headers arrive at once, the body drips for longer than the limit: that page has not loaded."""

    async def drip(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        await resp.prepare(request)
        for _ in range(8):
            await resp.write("<p>正在加载……</p>".encode() * 50)
            await asyncio.sleep(0.2)
        await resp.write_eof()
        return resp

    serve_basics(sites)
    sites.route("bs.test.gov.cn", "/drip", drip)
    config = avail_config(sites, targets=[{"name": "慢速页面", "url": "http://bs.test.gov.cn/drip"}])
    await run_duty("availability", config, store, clock)
    probe = next(p for p in store.probes("test") if p.name == "慢速页面")
    assert (probe.ok, probe.error) == (False, "timeout")
    assert probe.status == 200  # the status line came in time; the page did not


async def test_monitor_offline_probes_are_stored_but_never_counted(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    network = {"up": True}

    async def maybe(request: web.Request) -> web.Response:
        if not network["up"]:
            return web.Response(status=503, text="gateway down")
        return web.Response(text=page("正常"), content_type="text/html")

    sites.route("www.test.gov.cn", "/", maybe)
    sites.route("ref.test.cn", "/", maybe)
    config = avail_config(sites, min_probes=3)
    for _ in range(3):
        await run_duty("availability", config, store, clock)
        clock.advance(minutes=15)
    homepage = store.probes("test")[0].target
    state_before = store.target_state("test", homepage)
    network["up"] = False  # the monitor's own line is down: every site and every reference fails
    for _ in range(3):
        (offline,) = await run_duty("availability", config, store, clock)
        clock.advance(minutes=15)
    assert offline.status == "failed" and "monitor offline" in (offline.error or "")
    # A failed run moves no state (the check hands it to the runner, which saves it only on success) …
    assert state_before is not None and store.target_state("test", homepage) == state_before
    assert offline.counts["monitor_offline"] is True
    probes = store.probes("test")
    assert sum(p.monitor_offline for p in probes) == 3 and all(p.ok for p in probes if not p.monitor_offline)
    home = offline.counts["targets"][0]
    assert (home["window_probes"], home["window_failures"], home["window_offline"]) == (3, 0, 3)
    assert home["state"] == "up"  # offline probes never move the state: no "down" alert
    assert offline.findings == []
    assert store.count_open("test") == 0


async def test_a_failing_site_with_the_monitor_online_is_counted(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.status("www.test.gov.cn", "/", 502)
    sites.html("ref.test.cn", "/", page("参照网站"))
    (result,) = await run_duty("availability", avail_config(sites), store, clock)
    (probe,) = store.probes("test")
    assert (probe.ok, probe.monitor_offline, probe.status) == (False, False, 502)
    assert result.counts["self_check"] == "正常（1/1个参照网址可访问）"


def _seed(store: Store, clock: FixedClock, ok: int, failed: int, *, offline: int = 0, old: int = 0) -> None:
    """Probe history: spread over the last six days, plus ``old`` failures from before the window."""
    now = clock.now()
    rows = []
    for i in range(ok + failed + offline):
        rows.append(
            Probe(
                site="test",
                target=HOME,
                name="首页",
                at=now - timedelta(days=6, minutes=-i),
                ok=i < ok,
                status=200 if i < ok else 500,
                latency_ms=100 + i % 7,
                error=None if i < ok else "http",
                monitor_offline=i >= ok + failed,
            )
        )
    rows += [
        Probe(site="test", target=HOME, name="首页", at=now - timedelta(days=8), ok=False, error="timeout")
        for _ in range(old)
    ]
    store.add_probes(rows)


async def test_ratio_warning_then_veto_from_the_stored_week(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.status("www.test.gov.cn", "/", 500)
    sites.html("ref.test.cn", "/", page("参照网站"))
    config = avail_config(sites)
    # 94 ok + 2 failed in the window, 10 offline failures and 30 failures from 8 days ago: none count.
    _seed(store, clock, 94, 2, offline=10, old=30)
    (first,) = await run_duty("availability", config, store, clock)  # 97 probes, 3 failures: 3.09 %
    (ratio,) = [f for f in first.findings if f.kind == "availability_ratio"]
    assert ratio.severity.value == "warning"
    assert ratio.message.startswith(
        "首页（http://www.test.gov.cn/）近7天探测97次，失败3次，失败率3.0%（另有10次探测时监测端自身断网，未计入）"
    )
    w2 = IndicatorStatus.from_dict(first.counts["indicators"][0])
    assert (w2.verdict, w2.subject) == (Verdict.WARN, "test")
    assert first.counts["availability_percent"] == pytest.approx(96.91, abs=0.01)
    assert first.counts["median_latency_ms"] == 103
    _seed(store, clock, 0, 1)
    clock.advance(minutes=15)
    (second,) = await run_duty("availability", config, store, clock)  # 99 probes, 5 failures: 5.05 %
    (ratio,) = [f for f in second.findings if f.kind == "availability_ratio"]
    assert ratio.severity.value == "veto" and "失败5次" in ratio.message and "单项否决" in ratio.message
    assert IndicatorStatus.from_dict(second.counts["indicators"][0]).verdict == Verdict.FAIL
    (stored,) = store.findings(kind="availability_ratio")
    assert stored["severity"] == "veto" and stored["times_seen"] == 2  # one finding, its severity moved


async def test_ratio_just_under_the_warning_line_is_silent(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    serve_basics(sites)
    _seed(store, clock, 970, 29)  # with this run's success: 1000 probes, 29 failures = 2.9 %
    (result,) = await run_duty("availability", avail_config(sites), store, clock)
    assert result.findings == []
    assert IndicatorStatus.from_dict(result.counts["indicators"][0]).verdict == Verdict.PASS
    assert result.counts["targets"][0]["summary"] == "近7天探测1000次，失败29次，失败率2.9%"


async def test_one_blip_does_not_flap_and_down_needs_consecutive_failures(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    health = {"status": 200}

    async def home(request: web.Request) -> web.Response:
        return web.Response(status=health["status"], text=page("首页"), content_type="text/html")

    sites.route("www.test.gov.cn", "/", home)
    sites.html("ref.test.cn", "/", page("参照网站"))
    config = avail_config(sites, min_probes=1000)  # the ratio stays unjudged: only the state speaks
    timeline = [200, 500, 200, 500, 500, 200, 200]
    downs, messages = [], []
    for status in timeline:
        health["status"] = status
        (result,) = await run_duty("availability", config, store, clock)
        downs.append(store.count_open("test"))
        messages.append([f.message for f in result.findings])
        clock.advance(minutes=15)
    assert downs == [0, 0, 0, 0, 1, 1, 0]
    assert messages[4] == [
        "首页（http://www.test.gov.cn/）自2026-11-26 10:15起无法访问：连续2次探测失败（HTTP 500）"
    ]
    assert messages[5] == [
        "首页（http://www.test.gov.cn/）自2026-11-26 10:15起无法访问："
        "最近一次探测已恢复，连续2次成功后确认恢复"
    ]
    (f,) = store.findings(kind="target_down")
    assert f["status"] == "resolved"
    state = store.target_state("test", HOME)
    assert state is not None and state["state"] == "up"


async def test_config_errors_name_the_key_path() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_mapping(
            {
                "sites": [{"id": "portal", "name": "门户", "homepage": HOME}],
                "availability": {"sites": {"portal": {"targets": [{"name": "在线办事", "url": "ftp://x/"}]}}},
            }
        )
    assert err.value.problems[0][0] == "availability.sites.portal.targets[0].url"
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"availability": {"sites": {"nosuch": {}}}})
    assert err.value.problems == [("availability.sites.nosuch", "no site with id 'nosuch'")]
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"availability": {"warn_percent": 6, "fail_percent": 5}})
    assert err.value.problems[0][0] == "availability.warn_percent"


# ----------------------------------------------------------------------------------------- TLS


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA.create(tmp_path)


async def _tls_run(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    *,
    names: list[str],
    days: tuple[float, float] = (-30, 200),
    self_signed: bool = False,
    http: str = "redirect",
    **site: Any,
) -> Any:
    """Serve https://www.test.gov.cn/ with a certificate; http://www.test.gov.cn/ redirects or not."""
    now = clock.now()
    cert, key = ca.issue(
        tmp_path,
        names,
        not_before=now + timedelta(days=days[0]),
        not_after=now + timedelta(days=days[1]),
        self_signed=self_signed,
    )
    server = await TLSSite(cert, key).start()
    try:
        if http == "redirect":
            sites.redirect("www.test.gov.cn", "/", "https://www.test.gov.cn/", 301)
        else:
            sites.html("www.test.gov.cn", "/", page("http首页"))
        sites.html("ref.test.cn", "/", page("参照网站"))
        config = avail_config(
            sites,
            homepage="https://www.test.gov.cn/",
            special={"www.test.gov.cn:443": f"127.0.0.1:{server.port}"},
            site=site,
        )
        (result,) = await run_duty("availability", config, store, clock)
    finally:
        await server.close()
    return result


def _kinds(result: Any) -> dict[str, Any]:
    return {f.kind: f for f in result.findings}


async def test_valid_certificate_and_https_redirect_are_silent(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))  # the fetcher and the verifier trust the test CA
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"])
    assert result.findings == []
    assert result.counts["http_redirects_to_https"] is True
    assert result.counts["tls"]["days_left"] == 200
    assert store.probes("test")[0].ok  # the https homepage loaded


async def test_expiring_certificate_warns_at_the_14_day_step(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"], days=(-300, 10.5))
    f = _kinds(result)["tls_cert_expiring"]
    assert f.severity.value == "warning"
    assert f.message == (
        "网站www.test.gov.cn的HTTPS证书将于2026-12-06到期，剩余10天（提前14天预警），请及时续期"
    )
    assert set(_kinds(result)) == {"tls_cert_expiring"}


async def test_expired_certificate_is_veto_level_and_the_probe_fails(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"], days=(-400, -3))
    f = _kinds(result)["tls_cert_expired"]
    assert f.severity.value == "veto" and "已过期3天" in f.message
    (probe,) = store.probes("test")
    assert (probe.ok, probe.error) == (False, "tls")  # a browser cannot open it either


async def test_certificate_for_another_name_is_a_mismatch(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.other.gov.cn", "other.gov.cn"])
    f = _kinds(result)["tls_hostname_mismatch"]
    assert f.message == (
        "网站www.test.gov.cn的HTTPS证书与域名不符：证书颁发给www.other.gov.cn、other.gov.cn，浏览器将提示不安全"
    )
    assert set(_kinds(result)) == {"tls_hostname_mismatch"}  # trusted chain: no "untrusted" on top


async def test_untrusted_chain_then_trusted_with_ca_file(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty.pem"))  # trust nothing
    (tmp_path / "empty.pem").write_text("")
    untrusted = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"])
    assert set(_kinds(untrusted)) == {"tls_untrusted"}
    assert "不受信任" in _kinds(untrusted)["tls_untrusted"].message
    config_ca = await _tls_run_with_ca(sites, store, clock, tmp_path, ca)
    assert "tls_untrusted" not in _kinds(config_ca)


async def _tls_run_with_ca(
    sites: LocalSites, store: Store, clock: FixedClock, tmp_path: Path, ca: LocalCA
) -> Any:
    now = clock.now()
    cert, key = ca.issue(
        tmp_path, ["www.test.gov.cn"], not_before=now - timedelta(days=1), not_after=now + timedelta(days=200)
    )
    server = await TLSSite(cert, key).start()
    try:
        config = avail_config(
            sites,
            homepage="https://www.test.gov.cn/",
            special={"www.test.gov.cn:443": f"127.0.0.1:{server.port}"},
            ca_file=str(ca.path),
        )
        (result,) = await run_duty("availability", config, store, clock)
    finally:
        await server.close()
    return result


async def test_self_signed_certificate_is_untrusted(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"], self_signed=True)
    assert set(_kinds(result)) == {"tls_untrusted"}


async def test_plain_http_that_does_not_redirect_is_reported(
    sites: LocalSites,
    store: Store,
    clock: FixedClock,
    tmp_path: Path,
    ca: LocalCA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))
    result = await _tls_run(sites, store, clock, tmp_path, ca, names=["www.test.gov.cn"], http="page")
    f = _kinds(result)["http_not_redirected"]
    assert f.severity.value == "warning" and f.url == "http://www.test.gov.cn/"
    assert f.message.startswith("使用http://www.test.gov.cn/访问时未跳转到HTTPS")
    assert result.counts["http_redirects_to_https"] is False


async def test_https_required_on_an_http_site(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    serve_basics(sites)
    (auto,) = await run_duty("availability", avail_config(sites), store, clock)
    assert auto.findings == [] and auto.counts["tls"] == "首页未使用HTTPS"
    (required,) = await run_duty("availability", avail_config(sites, site={"tls": "required"}), store, clock)
    assert [f.kind for f in required.findings] == ["https_missing"]


# ----------------------------------------------------------------------------------------- IPv6


async def _v6_server(sites: LocalSites) -> web.AppRunner:
    runner = web.AppRunner(web.Application(), access_log=None, shutdown_timeout=0.5)
    runner.app.router.add_route("*", "/{tail:.*}", sites._dispatch)
    await runner.setup()
    return runner


async def test_ipv6_answering_over_ipv6(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    serve_basics(sites)
    runner = await _v6_server(sites)
    site6 = web.TCPSite(runner, "::1", 0)
    await site6.start()
    port6 = site6._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        config = avail_config(sites, special={"www.test.gov.cn": f"[::1]:{port6}"})
        (result,) = await run_duty("availability", config, store, clock)
    finally:
        await runner.cleanup()
    assert result.counts["ipv6"] == "支持IPv6访问"
    v6 = store.probes("test", ip_version=6)
    assert len(v6) == 1 and v6[0].ok
    assert result.findings == []


async def test_ipv6_address_that_does_not_answer(sites: LocalSites, store: Store, clock: FixedClock) -> None:
    serve_basics(sites)
    with socket.socket(socket.AF_INET6) as s:  # a port nobody listens on
        s.bind(("::1", 0))
        closed = s.getsockname()[1]
    config = avail_config(sites, special={"www.test.gov.cn": f"[::1]:{closed}"})
    (result,) = await run_duty("availability", config, store, clock)
    (f,) = [f for f in result.findings if f.kind == "ipv6_unreachable"]
    assert f.message == "网站www.test.gov.cn有IPv6解析记录，但通过IPv6访问首页失败（连接被拒绝）"


async def test_ipv6_is_not_judged_when_it_cannot_be(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    serve_basics(sites)
    (result,) = await run_duty("availability", avail_config(sites), store, clock)
    assert result.counts["ipv6"].startswith("未检测")  # pinned to 127.0.0.1: no false failure
    assert store.probes("test", ip_version=6) == []
    (off,) = await run_duty("availability", avail_config(sites, site={"ipv6": False}), store, clock)
    assert off.counts["ipv6"] == "未检测（已关闭）"
