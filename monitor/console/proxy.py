"""The client's address and scheme, believing X-Forwarded-* only from configured reverse proxies.

A request straight from a browser is taken as it came (its peer address, http unless TLS). A request
from an address in ``console.trusted_proxies`` gives the client as the right-most X-Forwarded-For entry
that is not itself a trusted proxy, and the scheme from X-Forwarded-Proto: that is what a proxy chain
appends, and everything left of it may be invented by the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as far as the console may believe."""

    address: str
    https: bool


class TrustedProxies:
    """The configured reverse proxies."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def trusted(self, address: str | None) -> bool:
        """True when ``address`` is one of the proxies."""
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def origin(
        self, peer: str | None, tls: bool, forwarded_for: str | None, forwarded_proto: str | None
    ) -> Origin:
        """The client address and whether it used https."""
        peer = peer or "unknown"
        if not self.trusted(peer):
            return Origin(peer, tls)
        client = peer
        for hop in reversed([h.strip() for h in (forwarded_for or "").split(",") if h.strip()]):
            client = hop
            if not self.trusted(hop):
                break
        proto = (forwarded_proto or "").split(",")[0].strip().lower()
        return Origin(client, proto == "https" if proto else tls)
