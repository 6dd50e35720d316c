"""TLS certificate of a site: read it ourselves, then judge expiry, hostname and trust.

Two handshakes: one without verification, to read the certificate even when it is expired or issued for
another name (a verifying client would hang up before we could say *why*), and one verifying the chain
(hostname and time checks off: those are judged here with the run's clock, not the machine's).
Both honour ``crawl.host_overrides`` like the fetcher does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import ip_address

from cryptography import x509
from cryptography.x509.oid import NameOID

from monitor.web.fetch import override_for

# OpenSSL verify codes judged elsewhere: 9 not yet valid, 10 expired (by the run's clock, below),
# 62 hostname mismatch (by :func:`hostname_matches`).
_JUDGED_HERE = frozenset({9, 10, 62})


@dataclass(frozen=True)
class CertInfo:
    """The fields of a server certificate the checks need."""

    subject_cn: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...]
    ip_names: tuple[str, ...] = ()


@dataclass
class TlsObservation:
    """What one host:port answered. ``error``: no TLS handshake at all; ``untrusted``: chain problem."""

    host: str
    port: int
    cert: CertInfo | None = None
    error: str | None = None
    untrusted: str | None = None
    evidence: dict[str, object] = field(default_factory=dict)


def parse_certificate(der: bytes) -> CertInfo:
    """Read subject CN, issuer, validity and subjectAltName from a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(a) for a in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    return CertInfo(
        subject_cn=str(cns[0].value) if cns else "",
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=dns,
        ip_names=ips,
    )


def hostname_matches(host: str, cert: CertInfo) -> bool:
    """RFC 6125 matching on SAN DNS names (CN only without SAN); ``*`` only as the whole leftmost label.

    Hand-written because ``ssl.match_hostname`` is gone since Python 3.12 and OpenSSL's own check only
    runs inside a verifying handshake, which would also fail on expiry and hide the cause.
    """
    host = host.lower().rstrip(".")
    try:
        ip = ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip) in cert.ip_names
    names = cert.dns_names or ((cert.subject_cn,) if cert.subject_cn else ())
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "*" not in name[2:]:
            head, _, rest = host.partition(".")
            if head and rest == name[2:] and rest.count(".") >= 1:
                return True
    return False


async def _handshake(
    host: str, port: int, address: tuple[str, int], context: ssl.SSLContext, timeout: float
) -> bytes:
    """Open a TLS connection, return the peer's DER certificate and close."""
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(address[0], address[1], ssl=context, server_hostname=host), timeout
    )
    try:
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        return der or b""
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def observe_tls(
    host: str,
    port: int,
    *,
    overrides: dict[str, str],
    timeout: float,
    ca_file: str | None = None,
) -> TlsObservation:
    """Read the certificate of ``host:port`` and whether its chain is trusted."""
    obs = TlsObservation(host, port)
    target = override_for(overrides, host, port)
    if target == "nxdomain":
        obs.error = "域名无法解析"
        return obs
    if target is not None:
        ip, _, to_port = target.rpartition(":")
        address = (ip.strip("[]"), int(to_port))
    else:
        address = (host, port)
    reader = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    reader.check_hostname = False
    reader.verify_mode = ssl.CERT_NONE
    try:
        der = await _handshake(host, port, address, reader, timeout)
        obs.cert = parse_certificate(der) if der else None
    except (OSError, TimeoutError, ssl.SSLError, ValueError) as exc:
        obs.error = _brief(exc)
        return obs
    verifier = ssl.create_default_context()
    verifier.check_hostname = False
    if ca_file:
        verifier.load_verify_locations(cafile=ca_file)
    try:
        await _handshake(host, port, address, verifier, timeout)
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code not in _JUDGED_HERE:
            obs.untrusted = exc.verify_message or _brief(exc)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        obs.untrusted = _brief(exc)
    return obs


@dataclass(frozen=True)
class TlsProblem:
    """A judged certificate problem: kind, severity value, Chinese message, identity suffix."""

    kind: str
    severity: str
    message: str
    identity: str
    evidence: dict[str, object]


def evaluate_certificate(
    host: str, port: int, cert: CertInfo, now: datetime, warn_days: tuple[int, ...]
) -> list[TlsProblem]:
    """Expiry (expired → veto; within the largest warn step → warning) and hostname mismatch."""
    problems: list[TlsProblem] = []
    where = host if port == 443 else f"{host}:{port}"
    evidence: dict[str, object] = {
        "not_after": cert.not_after.isoformat(),
        "not_before": cert.not_before.isoformat(),
        "dns_names": list(cert.dns_names),
        "issuer": cert.issuer,
    }
    now_utc = now.astimezone(UTC)
    expires_local = cert.not_after.astimezone(now.tzinfo).strftime("%Y-%m-%d")
    if cert.not_after <= now_utc:
        days = (now_utc - cert.not_after).days
        problems.append(
            TlsProblem(
                "tls_cert_expired",
                "veto",
                f"网站{where}的HTTPS证书已于{expires_local}过期（已过期{days}天），浏览器将提示不安全、无法正常访问",
                f"{host}:{port}",
                evidence,
            )
        )
    elif cert.not_before > now_utc:
        problems.append(
            TlsProblem(
                "tls_cert_not_yet_valid",
                "deduction",
                f"网站{where}的HTTPS证书尚未生效（生效时间{cert.not_before.isoformat()}）",
                f"{host}:{port}",
                evidence,
            )
        )
    else:
        left = (cert.not_after - now_utc).days
        steps = sorted(d for d in warn_days if left <= d)
        if steps:
            step = steps[0]
            problems.append(
                TlsProblem(
                    "tls_cert_expiring",
                    "warning",
                    f"网站{where}的HTTPS证书将于{expires_local}到期，剩余{left}天（提前{step}天预警），请及时续期",
                    f"{host}:{port}#{step}d",
                    {**evidence, "days_left": left, "warn_step": step},
                )
            )
    if not hostname_matches(host, cert):
        names = "、".join(cert.dns_names) or cert.subject_cn or "（无）"
        problems.append(
            TlsProblem(
                "tls_hostname_mismatch",
                "deduction",
                f"网站{where}的HTTPS证书与域名不符：证书颁发给{names}，浏览器将提示不安全",
                f"{host}:{port}",
                evidence,
            )
        )
    return problems


def _brief(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
