"""The network egress policy (issue 20, item 6): a defaced page cannot make the monitor probe its network.

Real servers on 127.0.0.1: the configured site on one port, "intranet" listeners on another port of
127.0.0.1 and on 127.0.0.2 that must receive nothing. Addresses off loopback (169.254.169.254, 10.x) are
never contacted: the tests assert the fetcher refused them before any connection (its recorded refusals,
the finding, and a run far quicker than a connect timeout).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from checks.darklinks.resources import EXTERNAL_TITLE_CHARS, scan_external
from monitor.config import ConfigError, Crawl, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.egress import EgressDenied, EgressPolicy, GuardedResolver, internal_address, literal_address
from monitor.web.fetch import ErrorKind, Fetcher, OverrideResolver


@dataclass
class Recorder:
    """A real aiohttp server on a loopback address that records every request it receives."""

    host: str = "127.0.0.1"
    pages: dict[str, web.StreamResponse | str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> Recorder:
        async def handler(request: web.Request) -> web.StreamResponse:
            self.requests.append((request.path_qs, dict(request.headers)))
            answer = self.pages.get(request.path_qs)
            if answer is None:
                return web.Response(status=404, text="not found")
            if isinstance(answer, str):
                return web.Response(text=answer, content_type="text/html", charset="utf-8")
            return answer

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Recorder, Recorder, Recorder]]:
    """The configured site (127.0.0.1:A), an intranet service (127.0.0.1:B) and a host at 127.0.0.2."""
    started = [await Recorder().start(), await Recorder().start(), await Recorder(host="127.0.0.2").start()]
    try:
        yield started[0], started[1], started[2]
    finally:
        for server in started:
            await server.close()


def html(title: str, links: list[str]) -> str:
    items = "".join(f'<li><a href="{u}">链接{i}</a></li>' for i, u in enumerate(links))
    return f"<html><head><title>{title}</title></head><body><ul>{items}</ul><p>正文内容</p></body></html>"


def config_for(site: Recorder, *, top: dict[str, Any] | None = None, **crawl: Any) -> Any:
    return config_from_mapping(
        {
            **(top or {}),
            "sites": [
                {
                    "id": "test",
                    "name": "测试县政府网站",
                    "homepage": site.origin + "/",
                    "unit": "县政府办公室",
                }
            ],
            "crawl": {
                "timeout_seconds": 5,
                "retries": 0,
                "confirm_delay_seconds": 0.05,
                "analysis_workers": 0,
                **crawl,
            },
            "darklinks": {"browser": {"enabled": False}},
        }
    )


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


async def test_links_into_the_network_are_not_requested(
    servers: tuple[Recorder, Recorder, Recorder], store: Store, clock: FixedClock
) -> None:
    site, intranet, other_loopback = servers
    b = intranet.port
    links = [
        f"http://127.0.0.1:{b}/secret",  # another port of the site's own host
        f"{other_loopback.origin}/admin",  # another loopback address
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",  # cloud metadata
        "http://10.1.2.3/oa/",  # a private address
        f"http://2130706433:{b}/decimal",  # 127.0.0.1 written as one decimal number
        f"http://0x7f.1:{b}/hex",  # ... in hex, short form
        f"http://0177.0.0.1:{b}/octal",  # ... in octal
        f"http://[::ffff:127.0.0.1]:{b}/mapped",  # IPv4-mapped IPv6
        f"http://[::1]:{b}/v6",  # IPv6 loopback
        "http://[fe80::1]/link-local",
        "http://metadata.test/latest/meta-data/",  # a name resolving to 169.254.169.254
        "http://oa.intranet.test/",  # a name resolving to 10.0.0.1
        "/go-intranet",  # the site's own page redirecting into the network
        "/go-metadata",
        "/ok.html",
    ]
    site.pages["/"] = html("首页", links)
    site.pages["/ok.html"] = html("正常页面", ["/"])
    site.pages["/go-intranet"] = redirect(f"http://127.0.0.1:{b}/after-redirect")  # type: ignore[assignment]
    site.pages["/go-metadata"] = redirect("http://metadata.test/latest/")  # type: ignore[assignment]
    config = config_for(
        site,
        host_overrides={"metadata.test": "169.254.169.254:80", "oa.intranet.test": "10.0.0.1:80"},
    )
    started = time.monotonic()
    (result,) = await run_duty("links", config, store, clock)
    elapsed = time.monotonic() - started

    # Nothing reached the intranet listeners, and nothing waited on a connection off loopback.
    assert intranet.requests == [] and other_loopback.requests == []
    assert elapsed < 4, "a refused address must not be connected to (it would wait for the timeout)"
    assert result.status == "ok"
    open_ = {f["url"]: f for f in store.findings(status="open")}
    private = {u for u, f in open_.items() if f["kind"] == "private_address_link"}
    expected_private = {
        f"http://127.0.0.1:{b}/secret",
        f"{other_loopback.origin}/admin",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.1.2.3/oa/",
        "http://metadata.test/latest/meta-data/",
        "http://oa.intranet.test/",
        f"{site.origin}/go-intranet",
        f"{site.origin}/go-metadata",
    }
    assert expected_private <= private
    # Every written form of an internal address is caught, whatever the URL parser made of it.
    assert len(private) == len(links) - 1, sorted(private)
    assert all(f["severity"] == "info" for u, f in open_.items() if u in private)
    assert all(
        _label(f) == "链接指向内网地址" and "内网地址" in f["message"]
        for u, f in open_.items()
        if u in private
    )
    # Not dead links: the dead-link count is zero and no dead-link finding names them.
    assert not [f for f in open_.values() if f["kind"] in ("dead_link", "homepage_dead_link")]
    assert result.counts["broken"] == 0
    assert result.counts["private_address_links"] == len(private)
    redirected = open_[f"{site.origin}/go-intranet"]
    assert "重定向" in redirected["message"]
    # The fetch layer's own record: refused before any connection, never retried or re-checked.
    for url in (
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://oa.intranet.test/",
    ):
        fetch = open_[url]["evidence"]["fetch"]
        assert fetch["error"] == "private_address" and fetch["attempts"] == 1, fetch
        assert "internal address" in fetch["detail"]
    assert "169.254.169.254" in open_["http://metadata.test/latest/meta-data/"]["evidence"]["fetch"]["detail"]


def _label(finding: dict[str, Any]) -> str:
    from checks.kinds import kind_label

    return kind_label(finding["duty"], finding["kind"]) or ""


async def test_allow_private_lets_listed_origins_and_networks_through(
    servers: tuple[Recorder, Recorder, Recorder], store: Store, clock: FixedClock
) -> None:
    site, intranet, other_loopback = servers
    intranet.pages["/notice.html"] = html("内网通知", [])
    other_loopback.pages["/admin"] = html("管理", [])
    site.pages["/"] = html("首页", [f"{intranet.origin}/notice.html", f"{other_loopback.origin}/admin"])
    config = config_for(site, allow_private=[intranet.origin])
    await run_duty("links", config, store, clock)
    assert [p for p, _ in intranet.requests] == ["/notice.html"]
    assert other_loopback.requests == []  # only the listed origin, not the whole of loopback

    store2 = Store(store.path.parent / "second.db")
    try:
        config = config_for(site, allow_private=["127.0.0.0/8"])
        await run_duty("links", config, store2, clock)
    finally:
        store2.close()
    assert [p for p, _ in other_loopback.requests] == ["/admin"]


async def test_credentials_in_links_are_never_sent(
    servers: tuple[Recorder, Recorder, Recorder], store: Store, clock: FixedClock
) -> None:
    site, _, _ = servers
    site.pages["/"] = html("首页", [f"http://admin:s3cret@127.0.0.1:{site.port}/login.html", "/hop"])
    site.pages["/login.html"] = html("登录", [])
    site.pages["/hop"] = redirect(f"http://user:pw@127.0.0.1:{site.port}/login.html?via=redirect")  # type: ignore[assignment]
    site.pages["/login.html?via=redirect"] = html("登录", [])
    await run_duty("links", config_for(site), store, clock)
    paths = [p for p, _ in site.requests]
    assert "/login.html" in paths and "/login.html?via=redirect" in paths
    for _, headers in site.requests:
        assert "Authorization" not in headers, headers


async def test_another_port_of_the_site_host_is_not_crawled_as_the_site(
    servers: tuple[Recorder, Recorder, Recorder], store: Store, clock: FixedClock
) -> None:
    site, other_port, _ = servers
    site.pages["/"] = redirect(f"{other_port.origin}/")  # type: ignore[assignment]
    other_port.pages["/"] = html("另一服务", ["/internal-a.html", "/internal-b.html"])
    other_port.pages["/internal-a.html"] = html("内部页面", [])
    # Even where the operator allows that port, it stays outside the site: only the homepage hop is read.
    await run_duty("links", config_for(site, allow_private=[other_port.origin]), store, clock)
    assert [p for p, _ in other_port.requests] == ["/"]


async def test_dns_answers_are_checked_in_the_resolver() -> None:
    policy = EgressPolicy.build(["http://www.site.test:8080"])
    overrides = {
        "meta.test": "169.254.169.254:80",
        "www.site.test": "10.0.0.8:8080",
        "v6.test": "[fd00::1]:80",
    }
    resolver = GuardedResolver(OverrideResolver(overrides), policy)
    for host, port in (("meta.test", 80), ("v6.test", 80), ("www.site.test", 9090)):
        with pytest.raises(EgressDenied):
            await resolver.resolve(host, port)
    # The configured site's own origin resolves wherever the operator's DNS sends it.
    assert (await resolver.resolve("www.site.test", 8080))[0]["host"] == "10.0.0.8"
    assert [h for h, _, _ in resolver.refused] == ["meta.test", "v6.test", "www.site.test"]


class ScriptedResolver(AbstractResolver):
    """A DNS server under the test's control: answers each lookup from a script (rebinding, mixed
    answers). Only the resolver is exercised: nothing connects to these addresses."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
            for a in self.answers.pop(0)
        ]

    async def close(self) -> None:
        pass


async def test_every_lookup_is_filtered_rebinding_and_mixed_answers() -> None:
    resolver = GuardedResolver(
        ScriptedResolver([["202.96.134.133"], ["10.0.0.1"], ["10.0.0.1", "202.96.134.133", "127.0.0.1"]]),
        EgressPolicy.build(()),
    )
    assert [r["host"] for r in await resolver.resolve("rebind.test", 80)] == ["202.96.134.133"]
    with pytest.raises(EgressDenied):  # the same name, now pointing inside: refused on this lookup
        await resolver.resolve("rebind.test", 80)
    # Mixed answers: only the public address is left to connect to.
    assert [r["host"] for r in await resolver.resolve("mixed.test", 80)] == ["202.96.134.133"]


async def test_fetcher_records_refusals_without_connecting() -> None:
    options = Crawl(timeout_seconds=5, retries=2, host_overrides={"meta.test": "169.254.169.254:80"})
    async with Fetcher(options) as fetcher:
        started = time.monotonic()
        results = [
            await fetcher.fetch(u)
            for u in (
                "http://169.254.169.254/",
                "http://meta.test/",
                "http://0x0a.1/",
                "http://[::ffff:a00:1]/",
            )
        ]
        assert time.monotonic() - started < 2
    assert [r.error for r in results] == [ErrorKind.PRIVATE_ADDRESS] * 4
    assert all(r.attempts == 1 for r in results)  # never retried
    assert len(fetcher.refused) == 4


def test_written_forms_of_internal_addresses() -> None:
    for host in ("2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001", "::ffff:7f00:1", "[::1]"):
        address = literal_address(host)
        assert address is not None and internal_address(address), host
    for text in (
        "169.254.169.254",
        "10.0.0.1",
        "172.16.3.4",
        "192.168.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "fe80::1",
        "fc00::1",
        "::",
        "2002:a00:1::",
        "64:ff9b::a00:1",
        "224.0.0.1",
        "240.0.0.1",
    ):
        assert internal_address(ipaddress.ip_address(text)), text
    for text in ("202.96.134.133", "2400:da00::6666"):
        assert not internal_address(ipaddress.ip_address(text)), text
    assert literal_address("www.gov.cn") is None and literal_address("cafe.be") is None


def test_allow_private_is_validated_at_load() -> None:
    crawl = Crawl(allow_private=["10.1.0.0/16", "HTTP://OA.X.GOV.CN:8080/", "fd00::/8", "192.168.3.4"])
    assert crawl.allow_private == ("10.1.0.0/16", "http://oa.x.gov.cn:8080", "fd00::/8", "192.168.3.4/32")
    for bad in ("10.1.0.1/16", "http://oa.x.gov.cn/path", "ftp://oa", "intranet", "http://u:p@oa/"):
        with pytest.raises(ConfigError) as info:
            config_from_mapping({"crawl": {"allow_private": [bad]}})
        assert "crawl.allow_private[0]" in str(info.value)


def test_outside_page_titles_are_quoted_short() -> None:
    from monitor.web.fetch import FetchResult

    secret = "内部系统登录 token=9f8e7d6c5b4a39281706f5e4d3c2b1a0 会话密钥 请勿外传 管理后台"
    body = html(secret, []).encode("utf-8")
    result = FetchResult(
        "http://oa.example/", "GET", "http://oa.example/", 200, "text/html", "text/html", body
    )
    from checks.darklinks.engine import DarkLinkOptions

    verdict = scan_external(result, DarkLinkOptions(site_domains=("x.gov.cn",)))
    assert len(verdict.title) <= EXTERNAL_TITLE_CHARS == 40


async def test_outside_soft_404_titles_are_quoted_short(store: Store, clock: FixedClock) -> None:
    from tests.sites import LocalSites, fast_config, page

    sites = await LocalSites().start()
    try:
        secret = "页面不存在 内部系统 token=9f8e7d6c5b4a39281706f5e4d3c2b1a0 会话密钥请勿外传"
        sites.html("www.test.gov.cn", "/", page("首页", links=["http://oa.partner.cn/x"]))
        sites.html("oa.partner.cn", "/x", f"<html><head><title>{secret}</title></head><body>x</body></html>")
        config = fast_config(sites, ["www.test.gov.cn", "oa.partner.cn"], "http://www.test.gov.cn/")
        await run_duty("links", config, store, clock)
    finally:
        await sites.close()
    (finding,) = store.findings(status="open")
    assert "软404" in finding["message"]
    assert secret[:40] in finding["message"] and secret[:41] not in finding["message"]


@pytest.mark.parametrize("duty", ["patrol", "darklinks"])
async def test_every_crawl_duty_keeps_out_of_the_network(
    duty: str, servers: tuple[Recorder, Recorder, Recorder], store: Store, clock: FixedClock
) -> None:
    """The dark-link check reads outside pages (spam words) and stylesheets itself: those reads go
    through the same fetcher, so a hidden link or a stylesheet into the network is never read either."""
    site, intranet, other_loopback = servers
    b = intranet.port
    site.pages["/"] = (
        f'<html><head><title>首页</title><link rel="stylesheet" href="http://127.0.0.1:{b}/site.css">'
        f'</head><body><div style="display:none"><a href="http://127.0.0.1:{b}/bet">百家乐 澳门赌场</a>'
        f'<a href="{other_loopback.origin}/x">时时彩</a></div><p>正文</p></body></html>'
    )
    # The same run with the intranet allowed reads both (the test would prove nothing otherwise).
    allowed = config_for(site, top={"links": {"check_external": False}}, allow_private=["127.0.0.0/8"])
    await run_duty(duty, allowed, store, clock)
    assert intranet.requests and other_loopback.requests
    intranet.requests.clear()
    other_loopback.requests.clear()
    await run_duty(duty, config_for(site, top={"links": {"check_external": False}}), store, clock)
    assert intranet.requests == [] and other_loopback.requests == []
