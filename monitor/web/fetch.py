"""The shared fetcher: one aiohttp session per run, per-host politeness, retries, redirects, size caps.

Fetch failures are data (:class:`FetchResult` with an :class:`ErrorKind`), never exceptions that kill a
run. Library errors are translated here, at the boundary.

Politeness follows scrapy's download slots: every host has its own slot with a concurrency limit and an
optional delay between request starts; a global semaphore caps requests in flight. Backoff sleeps happen
outside the slot so a slow host never holds capacity it is not using.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from monitor.config import Crawl
from monitor.core.urls import FETCHABLE_SCHEMES, host_of
from monitor.web.egress import EgressDenied, EgressPolicy, GuardedResolver

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HEAD_FALLBACK_STATUSES = frozenset({400, 403, 404, 405, 406, 409, 500, 501})


class ErrorKind(StrEnum):
    """Why a URL could not be fetched."""

    HTTP = "http"  # an error status (see FetchResult.status)
    TIMEOUT = "timeout"
    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    CONNECTION = "connection"  # reset, disconnected, malformed response
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    SOFT_404 = "soft_404"  # set by the link check, not by the fetcher
    INVALID_URL = "invalid_url"
    LOCAL_FILE = "local_file"  # a file: link: it names a file on the author's own computer
    # The target (or a redirect hop) is an internal address the egress policy refuses (monitor.web.egress).
    PRIVATE_ADDRESS = "private_address"


# Failures decided from the link itself, without a request (never re-checked).
NOT_REQUESTED = frozenset({ErrorKind.INVALID_URL, ErrorKind.LOCAL_FILE, ErrorKind.PRIVATE_ADDRESS})


RETRYABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.DNS, ErrorKind.REFUSED, ErrorKind.CONNECTION})


@dataclass
class FetchResult:
    """The outcome of fetching one URL (after redirects and retries)."""

    url: str
    method: str
    final_url: str = ""
    status: int | None = None
    content_type: str = ""
    content_type_header: str = ""
    body: bytes | None = None
    truncated: bool = False
    redirects: list[tuple[int, str]] = field(default_factory=list)
    error: ErrorKind | None = None
    detail: str = ""
    elapsed: float = 0.0
    attempts: int = 0
    retry_after: float | None = None
    #: A bot-protection answer's own mark (Cloudflare's ``cf-mitigated`` header), '' when none.
    challenge: str = ""

    @property
    def ok(self) -> bool:
        """Fetched with a success status (2xx, or 3xx without Location)."""
        return self.error is None and self.status is not None and self.status < 400

    @property
    def is_html(self) -> bool:
        """The response says it is HTML (or says nothing and looks like it)."""
        if self.content_type in ("text/html", "application/xhtml+xml"):
            return True
        if not self.content_type and self.body is not None:
            head = self.body[:512].lstrip().lower()
            return head.startswith((b"<!doctype html", b"<html", b"\xef\xbb\xbf<"))
        return False


def override_for(overrides: Mapping[str, str], host: str, port: int) -> str | None:
    """The override for ``host`` reached on ``port``: a ``host:port`` key wins over a bare ``host`` key.

    Like curl --resolve, which is keyed by host and port, so one name can send http (80) and https (443)
    to two different local servers. A ``*`` key answers for every other host: tests and the real-page
    measurements use ``{"*": "nxdomain"}`` so nothing but loopback is ever reached.
    """
    host = host.lower()
    return overrides.get(f"{host}:{port}") or overrides.get(host) or overrides.get("*")


_SSL_CONTEXTS: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def verified_context() -> ssl.SSLContext:
    """The default verified TLS context for the current ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` (cached)."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    context = _SSL_CONTEXTS.get(key)
    if context is None:
        context = _SSL_CONTEXTS[key] = ssl.create_default_context()
    return context


class OverrideResolver(AbstractResolver):
    """``curl --resolve`` for aiohttp: host → ``IP:PORT`` or ``nxdomain``; other hosts use real DNS."""

    def __init__(self, overrides: Mapping[str, str]) -> None:
        self.overrides = {k.lower(): v for k, v in overrides.items()}
        self._default: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve from the override table first."""
        target = override_for(self.overrides, host, port)
        if target == "nxdomain":
            raise OSError(socket.EAI_NONAME, f"Name or service not known (override): {host}")
        if target is not None:
            ip, _, to_port = target.rpartition(":")
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            return [
                {
                    "hostname": host,
                    "host": ip.strip("[]"),
                    "port": int(to_port),
                    "family": fam,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        if self._default is None:
            self._default = DefaultResolver()
        return await self._default.resolve(host, port, family)

    async def close(self) -> None:
        """Release the fallback resolver."""
        if self._default is not None:
            await self._default.close()


class _HostSlot:
    """Per-host concurrency and minimum delay between requests reaching the host.

    With a delay, the gap is measured between the moments requests are written to the socket (aiohttp's
    ``on_request_headers_sent`` trace), not between slot entries: a request that waited for a busy event
    loop or a new connection after entering the slot would otherwise reach the server less than
    ``delay`` after the next one. The lock is held from entry until that entry's request is written.
    """

    def __init__(self, concurrency: int, delay: float) -> None:
        self.sem = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.next_start = 0.0
        self.lock = asyncio.Lock()
        self.active = 0
        self.max_active = 0

    def entry(self) -> _SlotEntry:
        """One request's use of the slot (``async with slot.entry() as entry``)."""
        return _SlotEntry(self)


class _SlotEntry:
    """One request inside a host slot; ``sent()`` marks its request as written."""

    def __init__(self, slot: _HostSlot) -> None:
        self.slot = slot
        self.unsent = False  # holds the slot's lock until its request is written

    async def __aenter__(self) -> _SlotEntry:
        slot = self.slot
        await slot.sem.acquire()
        if slot.delay > 0:
            try:
                await slot.lock.acquire()
            except BaseException:
                slot.sem.release()
                raise
            try:
                wait = slot.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            except BaseException:
                slot.lock.release()
                slot.sem.release()
                raise
            self.unsent = True
        slot.active += 1
        slot.max_active = max(slot.max_active, slot.active)
        return self

    def sent(self) -> None:
        """This entry's request is on the wire: the next one may go ``delay`` from now."""
        if self.unsent:
            self.unsent = False
            self.slot.next_start = time.monotonic() + self.slot.delay
            self.slot.lock.release()

    async def __aexit__(self, *exc: object) -> None:
        self.sent()  # failed before anything was written: still keep the spacing
        self.slot.active -= 1
        self.slot.sem.release()


async def _on_headers_sent(session: object, ctx: Any, params: object) -> None:
    entry = ctx.trace_request_ctx
    if isinstance(entry, _SlotEntry):
        entry.sent()


class Fetcher:
    """Fetches URLs politely. Use as ``async with Fetcher(config.crawl) as f: await f.fetch(url)``."""

    def __init__(
        self,
        options: Crawl,
        *,
        user_agent: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        egress: EgressPolicy | None = None,
    ) -> None:
        self.options = options
        #: Which internal addresses may be reached (default: only ``crawl.allow_private``; the runner
        #: passes ``EgressPolicy.for_config(config)`` so the configured sites are reachable too).
        self.egress = egress if egress is not None else EgressPolicy.for_crawl(options)
        #: (url, reason) of every request the egress policy refused, for evidence and tests.
        self.refused: list[tuple[str, str]] = []
        self._resolver: GuardedResolver | None = None
        self.user_agent = user_agent or options.user_agent
        #: Address family of connections (AF_INET6 to probe a site over IPv6 only); AF_UNSPEC: any.
        self.family = family
        self._slots: dict[str, _HostSlot] = {}
        self._global = asyncio.Semaphore(options.concurrency)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            limit=self.options.concurrency,
            limit_per_host=0,
            resolver=self._new_resolver(),
            family=self.family,
            ttl_dns_cache=300,
            # One verified context per CA configuration, built once: reading the CA store again for every
            # site blocked the loop; keying on SSL_CERT_FILE/SSL_CERT_DIR keeps a private CA working.
            ssl=verified_context(),
        )
        timeout = aiohttp.ClientTimeout(total=self.options.timeout_seconds)
        traces = []
        if self.options.per_host_delay_seconds > 0:
            # Only with a delay: the trace hook costs a little on every request.
            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(_on_headers_sent)
            traces.append(trace)
        self._session = aiohttp.ClientSession(
            trace_configs=traces,
            connector=connector,
            timeout=timeout,
            headers={"User-Agent": self.user_agent, "Accept-Language": "zh-CN,zh;q=0.9"},
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=16384,
            max_field_size=16384,
        )
        return self

    def _new_resolver(self) -> GuardedResolver:
        self._resolver = GuardedResolver(OverrideResolver(self.options.host_overrides), self.egress)
        return self._resolver

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def slot(self, host: str) -> _HostSlot:
        """The politeness slot of a host."""
        s = self._slots.get(host)
        if s is None:
            s = self._slots[host] = _HostSlot(
                self.options.per_host_concurrency, self.options.per_host_delay_seconds
            )
        return s

    @property
    def max_concurrency_seen(self) -> dict[str, int]:
        """Highest number of simultaneous requests observed per host."""
        return {h: s.max_active for h, s in self._slots.items()}

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        read_body: bool = True,
        max_bytes: int | None = None,
        head_fallback: bool = True,
        retries: int | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry_server_errors: bool = True,
        backoff_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_timeouts: bool = True,
        retry_rate_limits: bool = True,
    ) -> FetchResult:
        """Fetch with retries (timeouts, connection errors, 5xx, 429 + Retry-After) and backoff.

        With ``method="HEAD"`` a refused or failed HEAD falls back to GET without reading the body.
        ``data`` is a request body (for POST); ``headers`` are added to the session's defaults. A 301/302/303
        answer to a POST is followed with a GET without the body, as browsers do; 307/308 keep both.
        ``headers`` override the session's for this request only (e.g. a spider ``User-Agent`` for the
        cloaking check): the request still goes through the host's politeness slot.
        ``retry_server_errors=False`` answers a 5xx at once (429 and connection errors are still
        retried): for callers that confirm failures later anyway. ``backoff_sleep`` waits out each backoff
        (the crawl's lets other requests to the host go meanwhile); no politeness slot is held during it.
        ``retry_timeouts=False`` answers a timeout at once too, for the same callers: a host that does not
        answer costs one timeout now and the confirmation's later, not three in a row holding a slot.
        ``retry_rate_limits=False`` answers a 429 at once (its ``retry_after`` says when to ask again).
        """
        retries = self.options.retries if retries is None else retries
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            result = await self._fetch_following(url, method, read_body, max_bytes, data, headers)
            if method == "HEAD" and head_fallback and _needs_get(result):
                result = await self._fetch_following(url, "GET", False, max_bytes, None, headers)
            result.attempts = attempt
            if attempt > retries or not _retryable(
                result, retry_server_errors, retry_timeouts, retry_rate_limits
            ):
                break
            await backoff_sleep(self._backoff(attempt, result))
        result.elapsed = time.monotonic() - started
        return result

    async def post_json(
        self, url: str, payload: Any, *, max_bytes: int | None = None, retries: int | None = None
    ) -> FetchResult:
        """POST ``payload`` as a UTF-8 JSON body (for read-only APIs such as WeChat's list endpoints).

        Same politeness slots, retries and size caps as :meth:`fetch`; only use it for idempotent calls,
        since a timed-out POST is sent again.
        """
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return await self.fetch(
            url,
            method="POST",
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
            max_bytes=max_bytes,
            retries=retries,
        )

    def _backoff(self, attempt: int, result: FetchResult) -> float:
        base = self.options.retry_backoff_seconds * (2 ** (attempt - 1))
        if result.retry_after is not None:
            return min(max(result.retry_after, base), self.options.max_retry_after_seconds)
        return base

    async def _fetch_following(
        self,
        url: str,
        method: str,
        read_body: bool,
        max_bytes: int | None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        result = FetchResult(url=url, method=method)
        seen = {url}
        current = url
        for _ in range(self.options.max_redirects + 1):
            await self._fetch_once(current, method, read_body, max_bytes, result, data, headers)
            if result.error is not None or result.status not in REDIRECT_STATUSES:
                result.final_url = current
                return result
            location = result.detail
            result.detail = ""
            if not location:
                result.final_url = current
                return result
            try:
                nxt = URL(current).join(URL(location))
            except ValueError:
                return _fail(result, ErrorKind.INVALID_URL, f"bad redirect Location {location!r}", current)
            if nxt.scheme not in FETCHABLE_SCHEMES:
                return _fail(result, ErrorKind.INVALID_URL, f"redirect to non-http URL {location!r}", current)
            nxt_s = str(nxt.with_fragment(None))
            result.redirects.append((result.status or 0, nxt_s))
            if nxt_s in seen:
                return _fail(result, ErrorKind.REDIRECT_LOOP, f"redirect loop back to {nxt_s}", current)
            seen.add(nxt_s)
            if result.status == 303 or (method == "POST" and result.status in (301, 302)):
                method, data = "GET", None
            current = nxt_s
        return _fail(
            result, ErrorKind.TOO_MANY_REDIRECTS, f"more than {self.options.max_redirects} redirects", current
        )

    async def _fetch_once(
        self,
        url: str,
        method: str,
        read_body: bool,
        max_bytes: int | None,
        result: FetchResult,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        assert self._session is not None, "use Fetcher as an async context manager"
        cap = max_bytes or self.options.max_response_bytes
        result.error, result.status, result.body, result.truncated = None, None, None, False
        result.retry_after = None
        result.challenge = ""
        try:
            host = host_of(url)
            target = URL(url, encoded=True)
        except ValueError as exc:
            _fail(result, ErrorKind.INVALID_URL, str(exc), url)
            return
        refusal = self.egress.refusal(target)
        if refusal is not None:
            self.refused.append((url, refusal))
            _fail(result, ErrorKind.PRIVATE_ADDRESS, refusal, url)
            return
        if target.raw_user is not None or target.raw_password is not None:
            # Credentials written into a link are never sent (aiohttp would turn them into Basic auth).
            target = target.with_user(None)
        async with self._global, self.slot(host).entry() as entry:
            self.requests += 1
            try:
                async with self._session.request(
                    method,
                    target,
                    allow_redirects=False,
                    data=data,
                    headers=headers,
                    trace_request_ctx=entry,
                ) as resp:
                    result.status = resp.status
                    result.content_type_header = resp.headers.get("Content-Type", "")
                    result.content_type = resp.content_type if "Content-Type" in resp.headers else ""
                    result.retry_after = _retry_after(resp.headers.get("Retry-After"))
                    result.challenge = resp.headers.get("cf-mitigated", "")
                    if resp.status in REDIRECT_STATUSES:
                        result.detail = resp.headers.get("Location", "")
                        return
                    if read_body and method != "HEAD":
                        result.body, result.truncated = await _read_capped(resp, cap)
                    if resp.status >= 400:
                        result.error = ErrorKind.HTTP
                        result.detail = resp.reason or ""
            except aiohttp.InvalidURL as exc:
                _fail(result, ErrorKind.INVALID_URL, str(exc), url)
            except TimeoutError as exc:
                _fail(
                    result,
                    ErrorKind.TIMEOUT,
                    f"no complete answer within {self.options.timeout_seconds:g}s",
                    url,
                )
                del exc
            except aiohttp.ClientConnectorDNSError as exc:
                if isinstance(exc.os_error, EgressDenied):
                    self.refused.append((url, str(exc.os_error)))
                    _fail(result, ErrorKind.PRIVATE_ADDRESS, str(exc.os_error), url)
                else:
                    _fail(result, ErrorKind.DNS, _brief(exc), url)
            except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
                _fail(result, ErrorKind.TLS, _brief(exc), url)
            except aiohttp.ClientConnectorError as exc:
                kind = (
                    ErrorKind.REFUSED
                    if isinstance(exc.os_error, ConnectionRefusedError)
                    else ErrorKind.CONNECTION
                )
                if isinstance(exc.os_error, socket.gaierror):
                    kind = ErrorKind.DNS
                _fail(result, kind, _brief(exc), url)
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                _fail(result, ErrorKind.CONNECTION, _brief(exc), url)


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """The body up to ``cap`` bytes, and whether it was cut. A body declared bigger than the cap is still
    read up to the cap: a truncated page is partial, never empty (its first part is checked, and the
    runner keeps its findings open, issue 20)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def _fail(result: FetchResult, kind: ErrorKind, detail: str, url: str) -> FetchResult:
    result.error = kind
    result.detail = detail
    result.final_url = url
    return result


def _brief(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def _needs_get(result: FetchResult) -> bool:
    if result.error in (
        ErrorKind.DNS,
        ErrorKind.REFUSED,
        ErrorKind.TIMEOUT,
        ErrorKind.INVALID_URL,
        ErrorKind.PRIVATE_ADDRESS,
    ):
        return False
    if result.error is not None and result.error != ErrorKind.HTTP:
        return True
    return result.status in HEAD_FALLBACK_STATUSES


def _retryable(
    result: FetchResult, server_errors: bool = True, timeouts: bool = True, rate_limits: bool = True
) -> bool:
    if result.error == ErrorKind.TIMEOUT:
        return timeouts
    if result.error in RETRYABLE:
        return True
    if result.error != ErrorKind.HTTP or result.status not in RETRY_STATUSES:
        return False
    return rate_limits if result.status == 429 else server_errors


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(result: FetchResult) -> dict[str, Any]:
    """A JSON-able summary of a fetch for evidence."""
    return {
        "method": result.method,
        "status": result.status,
        "error": result.error.value if result.error else None,
        "detail": result.detail,
        "final_url": result.final_url,
        "redirects": [{"status": s, "to": u} for s, u in result.redirects],
        "attempts": result.attempts,
        "elapsed_s": round(result.elapsed, 3),
    }
