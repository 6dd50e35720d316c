"""The network egress policy: which addresses a fetch may connect to.

A defaced page can carry links into the network the monitor sits in (cloud metadata at 169.254.169.254,
an intranet OA system, another port of the site's own host). Following them would make the monitor a
probe of that network (SSRF) and quote what it finds into findings and mail. So a link target whose
address is loopback, link-local, private, shared, reserved, multicast or unspecified is not requested,
unless its origin is one the operator configured (a site, a column, a new-media source…) or is covered by
``crawl.allow_private`` (CIDRs or origins).

The check is made on the addresses a name actually resolves to, inside the resolver the connection uses
(:class:`GuardedResolver`), so a name that answers a public address to a first lookup and a private one
to the connect (DNS rebinding) cannot slip through: the addresses checked are the addresses connected to.
Addresses written into the URL itself (``http://10.0.0.1/``, ``http://[::ffff:127.0.0.1]/`` and the
legacy forms ``http://2130706433/``, ``http://0x7f.1/``, ``http://0177.0.0.1/``) never reach a resolver
in aiohttp, so :meth:`EgressPolicy.refusal` judges them before the request. Redirects are followed by the
fetcher one hop at a time, each hop through the same two checks.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

if TYPE_CHECKING:
    from monitor.config import Config, Crawl, Site

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
# What inet_aton accepts besides dotted quads: decimal, hex and octal parts (2130706433, 0x7f.1, 0177.1).
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressDenied(OSError):
    """A connection the egress policy refuses: every address of the host is internal."""

    def __init__(self, host: str, port: int, addresses: Iterable[str]) -> None:
        shown = ", ".join(sorted(set(addresses))) or host
        super().__init__(f"{host}:{port} resolves to internal address {shown} (not in crawl.allow_private)")
        self.host = host
        self.port = port
        self.addresses = tuple(addresses)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names by itself, or None for a name.

    Besides ``10.0.0.1`` and ``[::1]`` this reads the legacy IPv4 forms every resolver still accepts
    (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``).
    """
    text = host.strip().strip("[]").rstrip(".") if host else ""
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def internal_address(address: IPAddress) -> bool:
    """The address is not a public unicast one: loopback, link-local, private, shared (100.64/10),
    reserved, documentation, multicast or unspecified — also when carried inside an IPv6 address
    (IPv4-mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: list[IPAddress] = []
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(internal_address(e) for e in embedded):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
    )


def _host_port(origin: str) -> tuple[str, int] | None:
    try:
        u = URL(origin)
    except ValueError:
        return None
    if not u.raw_host or u.scheme not in _DEFAULT_PORTS:
        return None
    return u.raw_host.lower().strip("[]"), u.port or _DEFAULT_PORTS[u.scheme]


@dataclass(frozen=True)
class EgressPolicy:
    """Which internal addresses may be connected to.

    ``trusted`` are the (host, port) pairs of origins the operator configured (connections to them are
    never filtered); ``allowed`` are the ``crawl.allow_private`` origins, ``networks`` its CIDRs.
    """

    trusted: frozenset[tuple[str, int]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    #: Human-readable list of what is allowed, for messages.
    described: tuple[str, ...] = field(default=(), compare=False)
    #: Decisions by (host, port): a crawl asks about the same few hosts for every request.
    _decided: dict[tuple[str, int], str | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def build(cls, origins: Iterable[str], allow_private: Iterable[str] = ()) -> EgressPolicy:
        """A policy trusting ``origins`` and the ``allow_private`` entries (CIDRs or origins).

        A trusted origin on a default port trusts its host on both default ports: the usual http → https
        move of a configured site stays the site's.
        """
        trusted: set[tuple[str, int]] = set()
        networks: list[IPNetwork] = []
        origins = list(origins)
        for entry in allow_private:
            if "://" in entry:
                origins.append(entry)
            else:
                networks.append(ipaddress.ip_network(entry, strict=False))
        for origin in origins:
            pair = _host_port(origin)
            if pair is None:
                continue
            trusted.add(pair)
            if pair[1] in (80, 443):
                trusted.update({(pair[0], 80), (pair[0], 443)})
        return cls(frozenset(trusted), tuple(networks), tuple(allow_private))

    @classmethod
    def for_config(cls, config: Config, site: Site | None = None) -> EgressPolicy:
        """The policy of a configuration: its configured origins and ``crawl.allow_private``, and the
        origins of ``site`` (an ad hoc site, ``monitor run links URL``, is not in the configuration)."""
        own = (*site.crawl_origins, site.homepage) if site is not None else ()
        return cls.build((*config.configured_origins, *own), config.crawl.allow_private)

    @classmethod
    def for_crawl(cls, options: Crawl) -> EgressPolicy:
        """The policy when only the crawl options are known: ``crawl.allow_private`` alone."""
        return cls.build((), options.allow_private)

    def trusts(self, host: str, port: int) -> bool:
        """Connections to ``host:port`` are the operator's own choice: not filtered."""
        return (host.lower().strip("[]").rstrip("."), port) in self.trusted

    def permits(self, address: IPAddress) -> bool:
        """An untrusted origin may connect to ``address``: public, or inside ``allow_private``."""
        if not internal_address(address):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            mapped: IPAddress = address.ipv4_mapped
            if any(mapped in n for n in self.networks):
                return True
        return any(address in n for n in self.networks)

    def refusal(self, url: URL) -> str | None:
        """Why a request to ``url`` is refused before any lookup (an internal address written into the
        URL itself), or None: names are judged by :class:`GuardedResolver` on what they resolve to."""
        host = url.raw_host or ""
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        key = (host, port)
        try:
            return self._decided[key]
        except KeyError:
            pass
        address = literal_address(host)
        if address is None or self.trusts(host, port) or self.permits(address):
            reason = None
        else:
            reason = f"{host}:{port} is internal address {address} (not in crawl.allow_private)"
        if len(self._decided) < 4096:  # bounded: a hostile page cannot grow it without end
            self._decided[key] = reason
        return reason


class GuardedResolver(AbstractResolver):
    """A resolver that drops the internal addresses an untrusted host resolves to.

    aiohttp connects only to what its resolver returns, so filtering here decides the connection itself
    (no window between a check and the connect). When nothing is left it raises :class:`EgressDenied`,
    which aiohttp reports as a DNS failure carrying it. Every refusal is also recorded in ``refused``.
    """

    def __init__(self, inner: AbstractResolver, policy: EgressPolicy) -> None:
        self.inner = inner
        self.policy = policy
        #: (host, port, addresses) of every refused lookup, for evidence and tests.
        self.refused: list[tuple[str, int, tuple[str, ...]]] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The inner resolver's answer without internal addresses (unless the origin is trusted)."""
        results = await self.inner.resolve(host, port, family)
        if self.policy.trusts(host, port):
            return results
        kept: list[ResolveResult] = []
        dropped: list[str] = []
        for result in results:
            address = literal_address(result["host"])
            if address is not None and self.policy.permits(address):
                kept.append(result)
            else:
                dropped.append(result["host"])
        if not kept:
            self.refused.append((host, port, tuple(dropped)))
            raise EgressDenied(host, port, dropped)
        return kept

    async def close(self) -> None:
        """Close the inner resolver."""
        await self.inner.close()
