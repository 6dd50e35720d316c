"""IPv6 support of a site: an AAAA record, and an answer over IPv6 — judged only when we can tell.

A monitor without IPv6 connectivity cannot say anything about a site's IPv6: the verdict is then 未检测,
never a failure. Likewise a host pinned by ``crawl.host_overrides`` to an IPv4 address says nothing about
its AAAA records (the demo, tests); one pinned to an IPv6 address is probed there.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from enum import StrEnum

from monitor.web.fetch import override_for


class V6(StrEnum):
    """IPv6 verdict of one site."""

    OK = "ok"  # AAAA present and the homepage answered over IPv6
    NO_AAAA = "no_aaaa"
    UNREACHABLE = "unreachable"  # AAAA present, but no answer over IPv6
    UNKNOWN = "unknown"  # 未检测

    @property
    def label_zh(self) -> str:
        """Chinese wording for counts and the bulletin."""
        return {
            "ok": "支持IPv6访问",
            "no_aaaa": "未配置IPv6解析（无AAAA记录）",
            "unreachable": "有IPv6解析但IPv6访问失败",
            "unknown": "未检测",
        }[self.value]


@dataclass(frozen=True)
class V6Plan:
    """What to do for a host: probe (``addresses`` known or to be resolved), or give ``unknown`` and why."""

    probe: bool
    reason: str = ""
    pinned: str | None = None  # an override's IPv6 address, when pinned


def machine_has_ipv6(route_probe: str) -> bool:
    """Whether this machine has a route to the global IPv6 internet.

    ``connect`` on a UDP socket only asks the kernel for a route: no packet leaves the machine.
    """
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.connect((route_probe, 53))
            local = sock.getsockname()[0]
    except OSError:
        return False
    return not local.startswith("fe80") and local != "::1"


def plan_ipv6(host: str, port: int, overrides: dict[str, str], machine_v6: bool) -> V6Plan:
    """Decide whether an IPv6 verdict is possible for ``host`` (pure, table-tested)."""
    target = override_for(overrides, host, port)
    if target == "nxdomain":
        return V6Plan(False, "域名无法解析")
    if target is not None:
        ip = target.rpartition(":")[0]
        if ip.startswith("[") or ip.count(":") > 1:
            return V6Plan(True, pinned=ip.strip("[]"))
        return V6Plan(False, "该主机被固定到IPv4地址（host_overrides），无法判断IPv6")
    if not machine_v6:
        return V6Plan(False, "监测端本机无IPv6网络")
    return V6Plan(True)


async def has_aaaa(host: str, port: int) -> bool:
    """Whether DNS gives ``host`` an IPv6 address."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, family=socket.AF_INET6, type=socket.SOCK_STREAM)
    except (socket.gaierror, OSError, UnicodeError):
        return False
    return bool(infos)


def judge_ipv6(plan: V6Plan, aaaa: bool | None, answered: bool | None) -> V6:
    """The verdict from the plan, the AAAA lookup and the IPv6 probe (pure)."""
    if not plan.probe:
        return V6.UNKNOWN
    if not aaaa:
        return V6.NO_AAAA
    return V6.OK if answered else V6.UNREACHABLE
