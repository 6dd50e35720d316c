"""URLs: normalisation, resolving links, their parts, and crawl scope. The one URL module: no other
module imports ``urllib.parse`` (tests/test_url_module.py holds that).

Normalisation is done by yarl (already aiohttp's URL type, C-accelerated): scheme and host lower-cased,
IDNA, default ports dropped, dot segments removed, non-ASCII and spaces percent-encoded with upper-case
hex. We add: an empty path becomes ``/`` and the fragment is dropped (fragments are never fetched).

Three ways to resolve an href, each for its job:

* :func:`resolve` / :func:`resolver` — the crawl's: WHATWG rules (ada), normalised, raises
  :class:`InvalidURL`; what findings are keyed by.
* :func:`resolve_link` — a link a check inspects as the page wrote it (dark links): ``None`` for what is
  not a link to a page (empty, ``#fragment``, ``javascript:``, ``mailto:``, ``tel:``, ``data:``,
  ``about:``, ``sms:``, anything not http(s)); resolved as written (RFC 3986), not normalised.
* :func:`join_url` — an href as written, whatever it is (a list item's link, a ``<base href>``): RFC 3986
  resolution without any filter, so a ``javascript:`` item link stays as written and an empty href is the
  base itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urljoin, urlsplit

import ada_url
from yarl import URL

FETCHABLE_SCHEMES = frozenset({"http", "https"})
# Schemes that are links but never fetched; anything else non-http(s) is skipped too.
SKIPPED_SCHEMES = frozenset({"mailto", "tel", "javascript", "data", "sms", "ftp", "file", "about", "weixin"})

# Targets that are not HTML pages: checked with HEAD (GET fallback) and never parsed.
RESOURCE_EXTENSIONS = frozenset(
    """
    pdf doc docx xls xlsx ppt pptx wps et dps ofd ceb txt rtf csv zip rar 7z gz tar bz2 xz
    jpg jpeg png gif bmp webp svg ico tif tiff mp3 mp4 avi flv wmv mov wav swf
    css js json xml apk exe msi dmg iso woff woff2 ttf eot
    """.split()
)


class InvalidURL(ValueError):
    """A link that cannot be turned into a fetchable URL."""


def scheme_of(raw: str, *, as_parsed: bool = False) -> str:
    """Lower-cased scheme of a raw href, or '' when relative.

    By default the scheme as written: letters up to the first ``:`` after leading whitespace, so
    ``java\\tscript:`` has none. ``as_parsed``: the scheme urllib's parser finds, which first drops tabs
    and line breaks anywhere and leading control characters, as browsers do (``java\\tscript:`` is
    ``javascript``); '' for a URL it cannot parse. The bulletin uses it to decide what it makes clickable.
    """
    if as_parsed:
        try:
            return urlsplit(raw.strip()).scheme.lower()
        except ValueError:
            return ""
    m = re.match(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):", raw)
    return m.group(1).lower() if m else ""


@dataclass(frozen=True)
class UrlParts:
    """The parts of a URL as written (RFC 3986 split, percent-encoding kept): see :func:`split_url`."""

    _split: SplitResult

    @property
    def scheme(self) -> str:
        """Lower-case scheme, '' when none."""
        return self._split.scheme

    @property
    def host(self) -> str:
        """Lower-case host name as written (IDNA ``xn--`` labels stay encoded), '' when none."""
        return self._split.hostname or ""

    @property
    def port(self) -> int | None:
        """The explicit port, None when none is written. Raises ValueError for a bad one."""
        return self._split.port

    @property
    def path(self) -> str:
        """The path as written, '' when none."""
        return self._split.path

    @property
    def query(self) -> str:
        """The query without ``?``, '' when none."""
        return self._split.query


def split_url(url: str) -> UrlParts:
    """A URL's parts as written, without normalising. Raises ValueError for an unparsable URL (a broken
    IPv6 literal); a bad port raises only when :attr:`UrlParts.port` is read."""
    return UrlParts(urlsplit(url))


def path_of(url: str) -> str:
    """The path of a URL as written (percent-encoding kept), '' when it has none."""
    return urlsplit(url).path


def join_url(base: str, href: str) -> str:
    """``href`` resolved against ``base`` as written (RFC 3986, no normalisation, no filter): an empty href
    is the base, a ``javascript:`` or ``mailto:`` href comes back as it is. For list items and
    ``<base href>``. May raise ValueError for an unparsable URL."""
    return urljoin(base, href)


#: Hrefs that are not links to a page (:func:`resolve_link` gives None for them).
NOT_PAGE_LINKS = ("javascript:", "mailto:", "tel:", "#", "data:", "about:", "sms:")


@lru_cache(maxsize=256)
def _written_origin(base: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


def resolve_link(base: str, href: str | None) -> str | None:
    """The absolute http(s) URL a link on a page points to, as written (not normalised), or None when it
    points to no page: empty, ``#fragment``, ``javascript:``, ``mailto:``, ``tel:``, ``data:``,
    ``about:``, ``sms:``, a result that is not http(s), or a URL that cannot be parsed. Surrounding
    whitespace is ignored; an absolute http(s) href without spaces is returned as it is."""
    if not href:
        return None
    href = href.strip()
    if not href or href.lower().startswith(NOT_PAGE_LINKS):
        return None
    if href.startswith(("http://", "https://")) and " " not in href:
        return href
    # A root-relative href on a plain path is the base's origin + href (the common case: no join needed).
    if href.startswith("/") and not href.startswith("//") and "/." not in href and "\\" not in href:
        return _written_origin(base) + href
    try:
        url = urljoin(base, href)
    except ValueError:
        return None
    return url if url.lower().startswith(("http://", "https://")) else None


def percent_decode(text: str, *, encoding: str = "utf-8", errors: str = "replace") -> str:
    """``%XX`` escapes decoded (``urllib.parse.unquote``); ``errors`` as for ``bytes.decode``."""
    return unquote(text, encoding=encoding, errors=errors)


def percent_encode(text: str, *, safe: str = "/", encoding: str = "utf-8", errors: str = "strict") -> str:
    """Characters outside ``safe`` and the unreserved set percent-encoded (``urllib.parse.quote``);
    ``errors`` as for ``str.encode`` (a registered handler name works too)."""
    return quote(text, safe=safe, encoding=encoding, errors=errors)


def normalize(url: str | URL) -> str:
    """Canonical absolute http(s) URL without fragment. Raises :class:`InvalidURL`."""
    try:
        u = url if isinstance(url, URL) else URL(url.strip())
        if u.scheme not in FETCHABLE_SCHEMES:
            raise InvalidURL(f"not http(s): {url}")
        if not u.host:
            raise InvalidURL(f"no host: {url}")
        text = str(u.with_fragment(None))
        # yarl prints an empty path as nothing ("https://a.cn"); browsers request "/".
        start = text.index("://") + 3
        if text.find("/", start) == -1:
            query = text.find("?", start)
            text = text + "/" if query == -1 else text[:query] + "/" + text[query:]
    except (ValueError, TypeError, UnicodeError) as exc:
        if isinstance(exc, InvalidURL):
            raise
        raise InvalidURL(f"{exc}") from None
    return text


# Hrefs made only of characters yarl leaves as they are (unreserved, "/", and "=&" in the query; no "%",
# no dot segments, no "//"): for these, resolving is string concatenation. A CMS page is almost all such
# links, and yarl's general join + normalise is the hottest part of link extraction (bench/README.md).
# tests/test_urls_fast.py checks the fast path against yarl on a corpus of awkward hrefs.
_FAST_PATH = re.compile(r"(/[A-Za-z0-9_~/.-]*)(\?[A-Za-z0-9_~/.=&-]+)?(?:#[A-Za-z0-9_~/.=&-]*)?")
_FAST_ABSOLUTE = re.compile(
    r"(https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(:[1-9][0-9]{0,4})?"
    r"((?:/[A-Za-z0-9_~/.-]*)?)(\?[A-Za-z0-9_~/.=&-]+)?(?:#[A-Za-z0-9_~/.=&-]*)?"
)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _plain_path(path: str) -> bool:
    """No dot segments and no empty segments: yarl would not change it."""
    return "//" not in path and "/." not in path


def _fast_resolve(base: URL, href: str) -> str | None:
    """The normalised URL for a plain href, or None when yarl must decide."""
    return _fast_join(_origin(base), href)


def _fast_join(origin: str | None, href: str) -> str | None:
    """:func:`_fast_resolve` with the base's origin already worked out (None: not a plain base)."""
    first = href[:1]
    if first == "/":
        if origin is None:
            return None
        m = _FAST_PATH.fullmatch(href)
        if m is None or not _plain_path(m.group(1)):
            return None
        return origin + m.group(1) + (m.group(2) or "")
    if first == "h":
        m = _FAST_ABSOLUTE.fullmatch(href)
        if m is None:
            return None
        scheme, host, port, path, query = m.groups()
        if ".." in host or not path or not _plain_path(path):
            return None
        if host[host.rfind(".") + 1 :][:1].isdigit():
            return None  # an IPv4 address: WHATWG rewrites "127.1" and "0x7f.0.0.1"; ask ada
        if port and (port == _DEFAULT_PORTS[scheme] or int(port[1:]) > 65535):
            return None
        return f"{scheme}://{host}{port or ''}{path}{query or ''}"
    return None


_ORIGINS: dict[URL, str | None] = {}


def _origin(base: URL) -> str | None:
    """``scheme://host[:port]`` of a plain http(s) base as yarl prints it; None for anything unusual."""
    try:
        return _ORIGINS[base]
    except KeyError:
        pass
    if len(_ORIGINS) > 256:
        _ORIGINS.clear()
    plain = (
        base.scheme in FETCHABLE_SCHEMES and bool(base.host) and base.user is None and base.password is None
    )
    origin = _ORIGINS[base] = str(base.origin()) if plain else None
    return origin


# Resolved hrefs per origin. A site's pages repeat the same hrefs (navigation on every page, the same
# article linked from many lists): at 20,000 pages, 96 % of the hrefs met were met before. Only hrefs
# whose result depends on the origin alone are kept ("/path", "http(s)://…"); relative paths depend on
# the page's own path. Bounded: cleared when full (an entry is an href and the shared URL string).
_RESOLVED: dict[str, dict[str, str]] = {}
RESOLVED_CACHE_ENTRIES = 32768


def resolver(base: URL) -> Callable[[str], str]:
    """``resolve`` bound to one base (a page's links share it: its origin is worked out once)."""
    origin = _origin(base)
    if origin is None:  # an unusual base (userinfo, not http): resolve every href with yarl
        return lambda href: _resolve_stripped(base, None, href.strip())
    cache = _RESOLVED.get(origin)
    if cache is None:
        if len(_RESOLVED) >= 64:
            _RESOLVED.clear()
        cache = _RESOLVED[origin] = {}
    elif len(cache) >= RESOLVED_CACHE_ENTRIES:
        cache.clear()

    def resolve_href(href: str) -> str:
        known = cache.get(href)
        if known is not None:
            return known
        stripped = href.strip()
        url = _resolve_stripped(base, origin, stripped)
        if (stripped[:1] == "/" and stripped[1:2] != "/") or stripped[:8].lower().startswith(_ABSOLUTE):
            cache[href] = url
        return url

    return resolve_href


_ABSOLUTE = ("http://", "https://")


def _resolve_stripped(base: URL, origin: str | None, href: str) -> str:
    fast = _fast_join(origin, href)
    return fast if fast is not None else _slow_resolve(base, href)


def resolve(base: URL, href: str) -> str:
    """Resolve an href against a base URL and normalise it. Raises :class:`InvalidURL`."""
    href = href.strip()
    fast = _fast_resolve(base, href)
    return fast if fast is not None else _slow_resolve(base, href)


def _slow_resolve(base: URL, href: str) -> str:
    # The WHATWG URL parser (ada, the parser of Node.js) decides what a browser makes of the href:
    # "http://" and "//////" have no host and are invalid (yarl would resolve them to the page itself or
    # a path of it), "http:///x" is http://x/, backslashes are slashes, tabs and line breaks vanish.
    # yarl then prints it as every other URL of the crawl is printed (findings are keyed by URL).
    try:
        joined = ada_url.join_url(str(base), href)
    except ValueError:
        raise InvalidURL(f"not a valid URL by the WHATWG URL rules: {href[:200]!r}") from None
    # ada's answer is normalised already; when it is made of characters yarl leaves alone (the usual
    # relative CMS link, "./202312/t20231201_1.html"), it is the answer: parsing it again with yarl cost
    # more than the join (bench/README.md).
    m = _FAST_ABSOLUTE.fullmatch(joined)
    if m is not None:
        scheme, host, port, path, query = m.groups()
        if path and _plain_path(path) and ".." not in host:
            return f"{scheme}://{host}{port or ''}{path}{query or ''}"
    try:
        return normalize(URL(joined))
    except ValueError as exc:
        raise InvalidURL(f"{exc}") from None


# A plain lower-case DNS name or IPv4 address: the host part of almost every normalised URL.
_PLAIN_HOST = re.compile(r"[a-z0-9][a-z0-9.-]*\Z")


def _plain_netloc(url: str) -> tuple[str, str]:
    """(scheme, netloc) of an http(s) URL by string slicing, ('', '') for anything else: the fast path
    of :func:`host_of` and :func:`origin_of`, which hand what it does not settle to yarl."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        return "", ""
    end = len(rest)
    for mark in "/?#":
        i = rest.find(mark, 0, end)
        if i != -1:
            end = i
    return scheme, rest[:end]


def host_of(url: str) -> str:
    """Lower-cased host of a normalised URL."""
    # Fast path by string slicing (a patrol asks this for every link of every page: parsing each URL
    # with yarl cost ~10 µs a call); userinfo, IPv6 literals and anything unusual go to yarl.
    netloc = _plain_netloc(url)[1]
    if netloc and "@" not in netloc and "[" not in netloc:
        host, _, port = netloc.partition(":")
        # "xn--" labels: yarl shows IDNA hosts decoded, so leave those to it.
        if _PLAIN_HOST.match(host) and "xn--" not in host and (not port or port.isdigit()):
            return host
    return URL(url).host or ""


def host_of_link(url: str) -> str:
    """Lower-case host of a link as written on a page, '' when it has none (relative, ``javascript:``,
    not a URL at all): never raises. A trailing dot is dropped; IDNA hosts come out decoded as everywhere
    else in the product (yarl's IDNA 2008), so the dark-links and identity checks compare hosts the way
    the crawl does."""
    try:
        host = host_of(url.strip())
    except (ValueError, TypeError, UnicodeError):
        return ""
    return host.rstrip(".").lower()


def path_extension(url: str) -> str:
    """Lower-case file extension of the URL path ('' when none)."""
    try:
        path = URL(url).path
    except ValueError:
        return ""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def looks_like_resource(url: str) -> bool:
    """True when the path's extension says it is not an HTML page."""
    return path_extension(url) in RESOURCE_EXTENSIONS


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL (lower case, default port omitted): what a browser
    calls its origin. Two sites on one host but different ports or schemes are different origins.
    '' when the URL has no host. This is the helper for every "the site's own" decision."""
    scheme, netloc = _plain_netloc(url)
    plain = "@" not in netloc and "[" not in netloc and "xn--" not in netloc and netloc == netloc.lower()
    if netloc and plain:
        host, _, port = netloc.partition(":")
        plain_port = not port or (port.isdigit() and _DEFAULT_PORTS[scheme] != ":" + port)
        if _PLAIN_HOST.match(host) and plain_port:
            return f"{scheme}://{netloc}"
    try:
        u = URL(url)
    except ValueError:
        return ""
    if not u.host or u.scheme not in FETCHABLE_SCHEMES:
        return ""
    return str(u.origin())


def site_origins(homepage: str, hosts: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The origins of a site: the homepage's, or the configured ``scope.hosts``.

    A configured entry may be an origin (``https://www.x.gov.cn:8443``) or a bare host (``www.x.gov.cn``,
    ``www.x.gov.cn:8080``), which means that host over http and https (a scope written before origins).
    """
    if not hosts:
        origin = origin_of(homepage)
        return (origin,) if origin else ()
    out: list[str] = []
    for entry in hosts:
        entry = entry.strip().lower()
        candidates = [entry] if "://" in entry else [f"http://{entry}/", f"https://{entry}/"]
        for candidate in candidates:
            origin = origin_of(candidate if candidate.count("/") > 2 else candidate + "/")
            if origin and origin not in out:
                out.append(origin)
    return tuple(out)


@dataclass(frozen=True)
class ScopeRules:
    """Which URLs are crawled for a site: same origin (scheme, host, port) and under a path prefix."""

    origins: frozenset[str]
    path_prefixes: tuple[str, ...]
    exclude: tuple[re.Pattern[str], ...]

    def in_scope(self, url: str) -> bool:
        """The site's own: origin allowed and path under a prefix."""
        if origin_of(url) not in self.origins:
            return False
        if self.path_prefixes == ("/",):
            return True
        path = URL(url).path
        return any(path.startswith(p) for p in self.path_prefixes)

    def with_origin(self, origin: str) -> ScopeRules:
        """These rules with one more origin (the homepage's redirect target)."""
        if not origin or origin in self.origins:
            return self
        return ScopeRules(self.origins | {origin}, self.path_prefixes, self.exclude)

    def excluded(self, url: str) -> bool:
        """Matched by an exclude pattern: never requested."""
        return any(p.search(url) for p in self.exclude)


class TrapDetector:
    """Recognises endless generated URLs: calendars, ever-growing query strings, repeating paths.

    Stateful: it counts distinct query variants per path over one crawl.
    """

    def __init__(self, max_url_length: int, max_query_variants: int, max_path_repeats: int) -> None:
        self.max_url_length = max_url_length
        self.max_query_variants = max_query_variants
        self.max_path_repeats = max_path_repeats
        self._variants: Counter[str] = Counter()

    def reason(self, url: str) -> str | None:
        """Why this URL should be skipped, or None. Call once per distinct URL."""
        if len(url) > self.max_url_length:
            return "url_too_long"
        u = URL(url)
        segments = [s for s in u.path.split("/") if s]
        if segments and max(Counter(segments).values()) > self.max_path_repeats:
            return "path_repeat"
        if u.raw_query_string:
            names = Counter(name for name, _ in parse_qsl(u.raw_query_string, keep_blank_values=True))
            if names and max(names.values()) >= 3:
                return "query_growth"
            key = f"{u.host}{u.path}"
            self._variants[key] += 1
            if self._variants[key] > self.max_query_variants:
                return "query_variants"
        return None
