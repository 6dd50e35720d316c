"""Configuration: YAML loaded and validated once into typed, frozen objects.

Checks never read raw dicts: they receive these models. Every validation problem is reported as a
:class:`ConfigError` that names the key path (``sites[0].scope.exclude[2]``) so the CLI can print it and
exit with status 2.

``${ENV_VAR}`` (and ``${ENV_VAR:-default}``) inside string values is expanded from the environment at load
time, so secrets never have to live in the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
from collections.abc import Mapping
from datetime import date, time
from email.utils import parseaddr
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.core.duties import known_duties
from monitor.core.timing import cron_trigger, parse_duration
from monitor.core.urls import origin_of, path_of, site_origins, split_url

DEFAULT_CONFIG_NAME = "config.yaml"
#: The folder holding the installed ``monitor`` and ``checks`` packages (site-packages, or the source
#: tree of an editable install): relative config paths into them fall back to the shipped files.
_INSTALL_ROOT = Path(__file__).resolve().parent.parent
_PACKAGE_DIRS = frozenset({"monitor", "checks"})
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """A configuration problem; ``problems`` holds ``(key_path, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        self.source = source
        lines = [f"{path or '<root>'}: {msg}" for path, msg in problems]
        where = f"{source}: " if source else ""
        super().__init__(where + "invalid configuration\n  " + "\n  ".join(lines))


def _http_url(value: str) -> str:
    parts = split_url(value)
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError(f"not an absolute http(s) URL: {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"bad port in URL {value!r}") from exc
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    return value


def _host_address(value: str) -> str:
    if value == "nxdomain":
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected 'IP:PORT' or 'nxdomain', got {value!r}")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _domain(value: str) -> str:
    domain = value.strip().lower().lstrip(".")
    if not domain or any(c in domain for c in "/:@ ?#"):
        raise ValueError(f"not a domain name: {value!r}")
    return domain


def _abs_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path must start with '/': {value!r}")
    return value


def _private_allowance(value: str) -> str:
    """A ``crawl.allow_private`` entry: a CIDR (``10.1.0.0/16``, ``fd00::/8``, one address) or an origin
    (``http://oa.x.gov.cn:8080``), normalised (a CIDR with host bits set is an error: say what you mean)."""
    text = value.strip()
    if "://" in text:
        try:
            parts = split_url(text)
        except ValueError as exc:
            raise ValueError(f"not an http(s) origin: {value!r}") from exc
        if parts.scheme not in ("http", "https") or not parts.host:
            raise ValueError(f"not an http(s) origin: {value!r}")
        authority = text.split("://", 1)[1].split("/", 1)[0]
        if parts.path not in ("", "/") or parts.query or "#" in text or "@" in authority:
            raise ValueError(f"an origin is scheme://host[:port], without path or credentials: {value!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"bad port in origin {value!r}") from exc
        origin = origin_of(text if parts.path else text + "/")
        if not origin:
            raise ValueError(f"not an http(s) origin: {value!r}")
        return origin
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"expected a CIDR (10.0.0.0/8) or an origin (http://host:port), got {value!r}: {exc}"
        ) from exc


HttpUrl = Annotated[str, AfterValidator(_http_url)]
NonEmpty = Annotated[str, AfterValidator(_non_empty)]
Domain = Annotated[str, AfterValidator(_domain)]
AbsPath = Annotated[str, AfterValidator(_abs_path)]
Regex = Annotated[str, AfterValidator(_regex)]
HostAddress = Annotated[str, AfterValidator(_host_address)]
PrivateAllowance = Annotated[str, AfterValidator(_private_allowance)]



class Rejected:
    """A value a config field refuses before validation (``yes`` for a boolean, ``true`` for a number)."""

    def __init__(self, value: Any, expected: str) -> None:
        self.value = value
        self.expected = expected

    def __repr__(self) -> str:
        return repr(self.value)

    def message(self) -> str:
        """``expected true or false, got 'yes'``."""
        shown = str(self.value).lower() if isinstance(self.value, bool) else repr(self.value)
        return f"{self.expected}, got {shown}"


def _input_keys(name: str, alias: str | None, validation_alias: Any) -> list[str]:
    keys = [name] + ([alias] if alias and alias != name else [])
    if isinstance(validation_alias, str):
        keys.append(validation_alias)
    elif isinstance(validation_alias, AliasChoices):
        keys.extend(c for c in validation_alias.choices if isinstance(c, str))
    return keys


def _scalar_types(annotation: Any) -> set[Any]:
    """``bool | None`` → ``{bool, NoneType}``; a field of any other shape gives its own type."""
    if get_origin(annotation) in (Union, UnionType):
        return set(get_args(annotation))
    return {annotation}


class Model(BaseModel):
    """Base for every config section: immutable, unknown keys are errors, numbers are finite and booleans
    are only ``true``/``false``."""

    # allow_inf_nan: `.inf` would pass as a timeout and fail much later (OverflowError in a sleep).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_booleans(cls, data: Any) -> Any:
        # Pydantic's lax mode reads "yes"/"on"/1 as true and true as the number 1; in a config file those
        # are slips (YAML 1.1 habits), so a boolean must be written true/false and a number as a number.
        # The value is swapped for a marker the field's own type check rejects, so the error keeps its
        # key path (a field validator cannot sit on a union's discriminator field).
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            kinds = _scalar_types(field.annotation) - {type(None)}
            for key in _input_keys(name, field.alias, field.validation_alias):
                value = out.get(key)
                if value is None:
                    continue
                if kinds == {bool} and not isinstance(value, bool):
                    out[key] = Rejected(value, "expected true or false")
                elif kinds and kinds <= {int, float} and isinstance(value, bool):
                    out[key] = Rejected(value, "expected a number")
        return out


class Scope(Model):
    """Which URLs belong to a site and are crawled (others are only checked)."""

    hosts: tuple[str, ...] = Field(default=(), description="Hosts crawled; default: the homepage's host.")
    path_prefixes: tuple[str, ...] = ("/",)
    exclude: tuple[Regex, ...] = Field(
        default=(), description="Regexes on the full URL; matches are not crawled."
    )

    @field_validator("hosts")
    @classmethod
    def _lower_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(h.lower().strip() for h in hosts)

    @field_validator("path_prefixes")
    @classmethod
    def _absolute_prefixes(cls, prefixes: tuple[str, ...]) -> tuple[str, ...]:
        for p in prefixes:
            if not p.startswith("/"):
                raise ValueError(f"path prefix must start with '/': {p!r}")
        return prefixes


class Site(Model):
    """A monitored website: normally the county portal."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    homepage: HttpUrl
    unit: str | None = Field(default=None, description="The unit that runs the site (e.g. 县政府办公室).")
    scope: Scope = Scope()
    sitemap: bool = True
    tenant: str | None = Field(
        default=None,
        description="Id of the tenant (市/县, `tenants:`) the site belongs to; or list it there.",
    )

    @property
    def crawl_hosts(self) -> tuple[str, ...]:
        """Hosts in scope: configured ones, or the homepage host."""
        return self.scope.hosts or (split_url(self.homepage).host,)

    @property
    def crawl_origins(self) -> tuple[str, ...]:
        """Origins in scope (scheme://host[:port]): the homepage's, or those of ``scope.hosts``."""
        return site_origins(self.homepage, self.scope.hosts)


class Unit(Model):
    """A county department (县直部门) or township (乡镇) that owns pages and columns."""

    name: str
    kind: Literal["department", "township", "office"] = "department"
    site: str | None = Field(default=None, description="Site id whose pages this unit owns.")
    paths: tuple[str, ...] = Field(default=(), description="Path prefixes of this unit's pages on the site.")
    tenant: str | None = Field(
        default=None, description="Tenant id (with `tenants:`); default: the tenant of the unit's site."
    )


class Crawl(Model):
    """Crawl limits and politeness shared by every site crawl."""

    max_pages: int = Field(default=20000, ge=1)
    max_depth: int = Field(default=30, ge=0)
    max_url_length: int = Field(default=2048, ge=64)
    max_response_bytes: int = Field(default=10_000_000, ge=1024)
    timeout_seconds: float = Field(default=15.0, gt=0)
    concurrency: int = Field(default=16, ge=1, le=512)
    per_host_concurrency: int = Field(default=4, ge=1, le=128)
    per_host_delay_seconds: float = Field(default=0.0, ge=0)
    retries: int = Field(default=2, ge=0, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_retry_after_seconds: float = Field(default=30.0, ge=0)
    confirm_delay_seconds: float = Field(default=2.0, ge=0)
    # 20: what browsers follow (Chromium, Firefox; the WHATWG Fetch standard) before giving up.
    max_redirects: int = Field(default=20, ge=0, le=50)
    max_query_variants_per_path: int = Field(default=50, ge=1)
    max_path_repeats: int = Field(default=3, ge=1)
    analysis_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description=(
            "Worker processes for the page checks' CPU-heavy analysis (dark links, text), so the crawl "
            "and the analysis use two cores; 0 analyses in the crawl's own process."
        ),
    )
    user_agent: str = "Mozilla/5.0 (compatible; govsite-monitor/0.1; +https://github.com/govsite-monitor)"
    host_overrides: Mapping[str, HostAddress] = Field(
        default_factory=dict,
        description=(
            "Like curl --resolve: host (or host:port) -> 'IP:PORT' or 'nxdomain'; the key '*' answers for "
            "every other host. For the demo and tests."
        ),
    )

    allow_private: tuple[PrivateAllowance, ...] = Field(
        default=(),
        description=(
            "Private, loopback, link-local or reserved addresses a link may lead to: CIDRs ('10.1.0.0/16') "
            "or origins ('http://oa.x.gov.cn:8080'). Configured sites and URLs are always allowed; any "
            "other link into the internal network is not requested (finding 链接指向内网地址)."
        ),
    )

    @field_validator("host_overrides")
    @classmethod
    def _lower_override_hosts(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        return {k.lower(): v for k, v in value.items()}


class Links(Model):
    """Options of the dead-link check."""

    check_external: bool = True
    soft_404_patterns: tuple[Regex, ...] = (
        r"页面不存在",
        r"页面未找到",
        r"找不到(?:该|您要访问的)?页面",
        r"您(?:所)?访问的页面(?:不存在|已被删除|已删除)",
        r"信息(?:不存在|已被删除|已删除)",
        r"\b404\s*(?:not\s*found|错误|页面)",
        r"\bpage\s+not\s+found\b",
        r"^\s*404\s*$",
    )
    ignore: tuple[Regex, ...] = Field(default=(), description="Regexes on target URLs never reported.")


ColumnTypeName = Literal[
    "dynamic", "notice", "policy", "personnel", "planning", "interaction", "topic", "other"
]


class ColumnSpec(Model):
    """One column (栏目) to audit: its list page and how to judge it."""

    name: str = Field(min_length=1)
    url: HttpUrl
    type: ColumnTypeName | None = Field(default=None, description="Default: inferred from the name.")
    top_level: bool = Field(default=False, description="一级栏目 (counts for W4(1) when notice/policy).")
    unit: str | None = Field(default=None, description="Owning unit; default: by the units' path prefixes.")
    item_selector: str | None = Field(default=None, description="CSS (or XPath) of one list item.")
    date_selector: str | None = Field(default=None, description="CSS (or XPath) of the date inside an item.")
    limit_days: int | None = Field(default=None, ge=1, description="Overrides the type's window.")


class MessageBoard(Model):
    """A 留言/咨询/信箱 list page whose replies are audited (W5 互动回应)."""

    name: str = Field(min_length=1)
    url: HttpUrl
    unit: str | None = None


class SiteColumns(Model):
    """Columns, message boards and the 年度报告 column of one site."""

    columns: tuple[ColumnSpec, ...] = ()
    message_boards: tuple[MessageBoard, ...] = ()
    annual_reports: HttpUrl | None = Field(
        default=None, description="The 年度报告 column or report page; default: found by the name 年度报告."
    )


class ColumnLimitsConfig(Model):
    """Update windows by column type (national rules; local rules may be stricter)."""

    dynamic_days: int = Field(default=14, ge=1)
    dynamic_warn_days: int = Field(default=10, ge=1)
    notice_months: int = Field(default=6, ge=1)
    notice_warn_months: int = Field(default=5, ge=1)
    yearly_months: int = Field(default=12, ge=1)
    yearly_warn_months: int = Field(default=11, ge=1)
    review_months: int = Field(default=12, ge=1)

    @model_validator(mode="after")
    def _warn_before_limit(self) -> ColumnLimitsConfig:
        for limit, warn in (
            ("dynamic_days", "dynamic_warn_days"),
            ("notice_months", "notice_warn_months"),
            ("yearly_months", "yearly_warn_months"),
        ):
            if getattr(self, warn) > getattr(self, limit):
                raise ValueError(f"{warn} must not be larger than {limit}")
        return self


class HomepageLimits(Model):
    """W3 首页不更新: veto after ``limit_days`` without a new item, warning from ``warn_days``."""

    limit_days: int = Field(default=14, ge=1)
    warn_days: int = Field(default=10, ge=1)


class ColumnThresholds(Model):
    """Counts at which the W4 indicators warn or fail (veto figures are national)."""

    stale_veto: int = Field(default=5, ge=1)
    stale_warn: int = Field(default=3, ge=1)
    overdue_veto: int = Field(default=10, ge=1)
    overdue_warn: int = Field(default=6, ge=1)
    blank_veto: int = Field(default=5, ge=1)
    blank_warn: int = Field(default=3, ge=1)


class MessageRules(Model):
    """W5 互动回应: what counts as unanswered and as slow."""

    slow_days: int = Field(default=15, ge=1)
    unanswered_months: int = Field(default=3, ge=1)
    window_months: int = Field(default=12, ge=1)
    reply_stale_months: int = Field(default=2, ge=1)
    count_late_replies: bool = True


class Columns(Model):
    """Column-update audits (栏目更新), homepage updates, message boards and annual reports."""

    discover: bool = Field(default=True, description="Also audit columns found in the site's navigation.")
    discover_max_pages: int = Field(default=500, ge=1, description="Pages discovery visits per site and run.")
    max_report_pages: int = Field(default=3, ge=0, description="Newest annual reports read per run.")
    concurrency: int = Field(default=4, ge=1, le=64)
    limits: ColumnLimitsConfig = ColumnLimitsConfig()
    homepage: HomepageLimits = HomepageLimits()
    thresholds: ColumnThresholds = ColumnThresholds()
    messages: MessageRules = MessageRules()
    sites: Mapping[str, SiteColumns] = Field(default_factory=dict, description="Per site id.")


class AvailabilityTarget(Model):
    """A key page or business system probed besides the homepage (在线办事, 查询系统…)."""

    name: str = Field(min_length=1, description="Chinese name used in messages, e.g. 在线办事.")
    url: HttpUrl
    kind: Literal["page", "system"] = "page"


class SiteAvailability(Model):
    """Per-site availability options: extra targets, HTTPS expectation, IPv6."""

    targets: tuple[AvailabilityTarget, ...] = ()
    tls: Literal["auto", "required", "off"] = Field(
        default="auto",
        description="auto: check certificates when the homepage is https; required: http is a finding.",
    )
    ipv6: bool = True


class Availability(Model):
    """Options of the availability duty (W2 站点无法访问) and its monitor self-check."""

    interval_minutes: int = Field(default=15, ge=1, le=1440, description="Daemon schedule of the probes.")
    timeout_seconds: float = Field(default=15.0, gt=0, description="A page not fully loaded by then failed.")
    reference_urls: tuple[HttpUrl, ...] = Field(
        default=("https://www.gov.cn/", "https://www.baidu.com/", "https://www.qq.com/"),
        description="Self-check: when every one fails, the monitor itself is offline.",
    )
    window_days: int = Field(default=7, ge=1, le=90)
    warn_percent: float = Field(default=3.0, gt=0, le=100)
    fail_percent: float = Field(default=5.0, gt=0, le=100)
    min_probes: int = Field(default=20, ge=1, description="Fewer counted probes: ratio not judged (未检测).")
    down_after: int = Field(default=3, ge=1, description="Consecutive failures before a target is down.")
    up_after: int = Field(default=2, ge=1, description="Consecutive successes before it is up again.")
    cert_warn_days: tuple[int, ...] = (30, 14, 7)
    ca_file: str | None = Field(default=None, description="Extra trusted CA certificates (PEM) for TLS.")
    ipv6_route_probe: str = Field(
        default="2400:3200::1",
        description="Global IPv6 address used to ask the kernel for a route (no packet is sent).",
    )
    sites: Mapping[str, SiteAvailability] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> Availability:
        if self.warn_percent > self.fail_percent:
            raise _located("availability.warn_percent", "must not be above fail_percent")
        if any(d <= 0 for d in self.cert_warn_days):
            raise _located("availability.cert_warn_days", "days must be positive")
        return self

    def for_site(self, site_id: str) -> SiteAvailability:
        """The options of one site (defaults when it has no entry)."""
        return self.sites.get(site_id) or SiteAvailability()


class Identity(Model):
    """Options of the site-identity check (网站标识码, 备案, 党政机关标识, .gov.cn, 找错 entry)."""

    domain_suffixes: tuple[str, ...] = Field(
        default=(".gov.cn",), description="Government domains; a homepage elsewhere is a finding."
    )
    site_codes: Mapping[str, str] = Field(
        default_factory=dict, description="Optional: site id -> its 网站标识码, to catch a wrong code."
    )


BAIDUSPIDER_USER_AGENT = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"


#: Search-engine referrer the browser's spider visit carries (Referer header and document.referrer): cloaking
#: scripts show their spam only to visitors arriving from a search result.
BAIDU_SEARCH_REFERER = "https://www.baidu.com/s?wd=%E6%94%BF%E5%BA%9C"


class DarkLinksBrowser(Model):
    """Browser confirmation of dark-link candidates (headless Debian Chromium driven by Playwright).

    The pass is optional: when ``enabled`` is false or ``executable_path`` is missing, the check still
    reports on static evidence and its run summary says that confirmation was skipped.
    """

    enabled: bool = Field(default=True, description="Confirm candidates in a real browser before reporting.")
    executable_path: AbsPath = Field(
        default="/usr/bin/chromium", description="Chromium binary (Debian package 'chromium')."
    )
    max_pages: int = Field(
        default=20, ge=0, le=1000, description="Distinct pages loaded per run (each twice)."
    )
    page_timeout_seconds: float = Field(
        default=15, gt=0, le=300, description="Time allowed for one load of one page, scripts included."
    )
    redirect_watch_seconds: float = Field(
        default=3, ge=0, le=60, description="How long a loaded page is watched for a script redirect."
    )
    spider_user_agent: NonEmpty = Field(
        default=BAIDUSPIDER_USER_AGENT, description="User agent of the spider's visit."
    )
    spider_referer: HttpUrl = Field(
        default=BAIDU_SEARCH_REFERER, description="Search-result referrer of the spider's visit."
    )


class DarkLinks(Model):
    """Options of the dark-link check (暗链/黑链, cloaking, outbound link decay, defacement)."""

    spider_user_agents: tuple[NonEmpty, ...] = Field(
        default=(BAIDUSPIDER_USER_AGENT,),
        description="Each double-fetched page is fetched again with each of these; [] turns cloaking off.",
    )
    extra_vocabulary: tuple[NonEmpty, ...] = Field(
        default=(), description="Spam terms added to checks/data/spam_vocabulary.txt ('!term' = benign)."
    )
    allow_domains: tuple[Domain, ...] = Field(
        default=(), description="External domains never reported for being external (spam words still count)."
    )
    double_fetch: Literal["none", "homepage", "columns", "every_page"] = Field(
        default="every_page",
        description=(
            "Pages fetched again as a spider (cloaking): none, the homepage, the homepage and top-level "
            "columns, or every page — homepage and columns each run, the other pages in rotation."
        ),
    )
    double_fetch_paths: tuple[AbsPath, ...] = Field(
        default=(), description="Paths (on the site's hosts) always fetched again as a spider."
    )
    spider_budget: int = Field(
        default=3000,
        ge=0,
        le=1_000_000,
        validation_alias=AliasChoices("spider_budget", "double_fetch_max_pages"),
        description=(
            "Pages per site and run fetched again as a spider (double_fetch_max_pages is the old name); "
            "the homepage, top-level columns and double_fetch_paths come first."
        ),
    )
    spider_rotation_days: int = Field(
        default=7,
        ge=1,
        le=31,
        description="With every_page: each page is compared once in this many daily runs (by URL hash).",
    )
    outbound: bool = Field(default=True, description="Scan every external link target for spam vocabulary.")
    outbound_max_targets: int = Field(default=500, ge=0)
    outbound_min_terms: int = Field(default=2, ge=1, le=20)
    resource_max_bytes: int = Field(default=1_000_000, ge=1024, description="Cap per stylesheet / script.")
    resource_cache_bytes: int = Field(
        default=32_000_000, ge=1024, description="Cap on all stylesheets and scripts kept during one run."
    )
    browser: DarkLinksBrowser = Field(
        default_factory=DarkLinksBrowser, description="Browser confirmation and evidence screenshots."
    )


def _email_address(value: str) -> str:
    _name, addr = parseaddr(value)
    local, _, domain = addr.rpartition("@")
    if not local or not domain or " " in addr:
        raise ValueError(f"not an email address: {value!r}")
    return value


def _placeholders(allowed: frozenset[str]) -> Any:
    """A validator: a str.format template using only the ``allowed`` placeholders."""

    def check(value: str) -> str:
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        except ValueError as exc:
            raise ValueError(f"bad template ({exc})") from exc
        unknown = names - allowed
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        return value

    return AfterValidator(check)


EmailAddress = Annotated[str, AfterValidator(_email_address)]
TitleTemplate = Annotated[str, _placeholders(frozenset({"issuer", "year", "week"}))]
RectificationText = Annotated[str, _placeholders(frozenset({"deadline", "days", "issuer"}))]


def _numbered(value: str) -> str:
    if "{seq}" not in value:
        raise ValueError("the issue number needs {seq} (else every week's bulletin has the same number)")
    return value


#: 文号/期号 of the bulletin: {year} is the ISO year, {seq} the ISO week number — one bulletin per week,
#: so the week is its sequence and a re-rendered bulletin keeps its number (no counter to keep in step).
IssueNumberTemplate = Annotated[
    str, _placeholders(frozenset({"year", "seq"})), AfterValidator(_numbered), Field(min_length=1)
]


class Smtp(Model):
    """How bulletins are sent: an SMTP submission server. The password only comes from the environment."""

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (port 587), tls = implicit TLS (port 465), none (port 25)."
    )
    username: str | None = Field(
        default=None, description="SMTP login; empty or absent: no authentication (an internal relay)."
    )
    password_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the SMTP password.",
        validate_default=True,
    )
    sender: EmailAddress = "govsite-monitor <monitor@localhost>"
    ca_file: str | None = Field(
        default=None, description="PEM bundle trusted for the server's certificate (private CAs)."
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10, description="Immediate retries when sending with --send.")
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    max_backoff_seconds: float = Field(
        default=3600.0, ge=0, description="Longest wait before the outbox tries a failed message again."
    )

    @field_validator("username", mode="before")
    @classmethod
    def _empty_username_is_none(cls, value: Any) -> Any:
        # ``username: ${MONITOR_SMTP_USER:-}`` expands to "" on a relay without authentication.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("password_env")
    @classmethod
    def _password_with_username(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("username") and not value:
            raise ValueError("a username needs password_env (the password only comes from the environment)")
        return value


class WorkCalendar(Model):
    """Chinese working days: weekends are off, except 调休 make-up workdays; holidays are off.

    The State Council publishes the holiday schedule every December, so the office enters it here.
    """

    holidays: tuple[date, ...] = ()
    makeup_workdays: tuple[date, ...] = ()


DEFAULT_RECTIFICATION = (
    "请各单位对照附件问题清单逐项核查整改，于{deadline}前（{days}个工作日内）完成整改，"
    "并将整改情况报送{issuer}。",
    "各单位要落实网站内容保障责任，加强日常巡查，确保栏目信息及时更新、链接有效可用，杜绝严重表述错误。",
    "逾期未整改或同类问题反复出现的，将在下期通报中予以重点通报。",
)


class Bulletin(Model):
    """The weekly bulletin (通报): who issues it, to whom, the 整改 rules, and how it is delivered."""

    issuer: str = "县人民政府办公室"
    addressees: tuple[str, ...] = ("各乡镇人民政府", "县直各部门")
    title: TitleTemplate = "{issuer}关于{year}年第{week}周政府网站与政务新媒体监测情况的通报"
    issue_number: IssueNumberTemplate = Field(
        default="{year}年第{seq}期",
        description="文号/期号 in the head, e.g. 示政网监〔{year}〕{seq}号; {seq} = the ISO week number.",
    )
    basis: str = "《政府网站与政务新媒体检查指标》（国办秘函〔2019〕19号）"
    rectification: tuple[RectificationText, ...] = DEFAULT_RECTIFICATION
    deadline_working_days: int = Field(default=10, ge=1, le=60)
    workdays: WorkCalendar = WorkCalendar()
    contact: str | None = Field(default=None, description="联系人及电话, printed at the end.")
    recipients: tuple[EmailAddress, ...] = ()
    reports_dir: str = Field(
        default="reports",
        description="Rendered bulletins; relative: under $STATE_DIRECTORY when set (systemd), else next to "
        "the config file.",
    )
    outbox_dir: str | None = Field(default=None, description="Outbox folder; default: next to the database.")
    trend_weeks: int = Field(default=8, ge=2, le=52)
    listed_per_type: int = Field(
        default=30, ge=1, description="Problems listed per type in section 二 (all are in the 附件)."
    )
    mail_list_limit: int = Field(
        default=0,
        ge=0,
        description="Rows of the 附件1 problem list in the mail body (0: none, the attachments have all).",
    )
    mail_listed_per_type: int = Field(
        default=10, ge=1, description="Problems listed per type in the mail body's section 二."
    )
    smtp: Smtp = Smtp()

    @field_validator("addressees")
    @classmethod
    def _some_addressee(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one addressee is needed")
        return value


Severity = Literal["veto", "deduction", "warning", "info"]


class TextTerm(Model):
    """A local proper name to protect (严重表述错误 when misspelt): a department, a township, a place."""

    term: str = Field(min_length=2)
    category: str = "本地名称"
    wrong: tuple[str, ...] = Field(default=(), description="Known wrong spellings, flagged verbatim.")
    effective_from: date | None = None
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> TextTerm:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class Leader(Model):
    """A local leader: the name is protected next to each title (县长张三 / 张三县长) while in office."""

    name: str = Field(min_length=2)
    titles: tuple[str, ...] = Field(min_length=1)
    effective_from: date | None = None
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Leader:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class WordListFile(Model):
    """A sensitive-word list file (forms: checks/wordlists.py), relative to the config file."""

    path: str
    category: str
    severity: Severity = "warning"
    allow: tuple[str, ...] = Field(default=(), description="Phrases inside which this list never fires.")
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")


class TextChecks(Model):
    """Options of the text checks (错别字/严重表述错误, 敏感词, 隐私泄露)."""

    county: str | None = Field(
        default=None, description="The county's name (示例县): protected with its organs' names."
    )
    townships: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    names: tuple[TextTerm, ...] = Field(default=(), description="Other local names to protect.")
    leaders: tuple[Leader, ...] = ()
    protect_unit_names: bool = Field(default=True, description="Also protect the names of `units`.")
    fixed_phrases: bool = Field(
        default=False,
        description="Also check ~1.9k frequent four-character phrases (成语, set phrases): about 30 % more "
        "typos found, about a quarter slower (below the 20 MB/s the patrol is built for), so off by default.",
    )
    sample_word_list: bool = Field(default=True, description="Use the shipped gambling/porn spam list.")
    word_lists: tuple[WordListFile, ...] = ()
    allow_phrases: tuple[str, ...] = Field(default=(), description="误报加白: hits inside these are dropped.")
    # 疑似错别字: the language-model stage (checks/typolm.py); see docs/text-checks.md.
    typo_model: bool = Field(default=True, description="Suggest typo fixes with the language model.")
    typo_model_path: str | None = Field(default=None, description="Another KenLM model (default: shipped).")
    typo_model_threshold: float = Field(
        default=5.6, ge=3, le=20, description="Minimum log10-probability gain of a suggestion."
    )

    @field_validator("names", mode="before")
    @classmethod
    def _plain_names(cls, value: Any) -> Any:
        # A bare string is a name with the default category.
        if isinstance(value, list | tuple):
            return [{"term": v} if isinstance(v, str) else v for v in value]
        return value


class Storage(Model):
    """Where the database lives: a SQLite file (the default; relative paths are relative to the config
    file), or a PostgreSQL database (``url``; docs/postgresql.md)."""

    database: str = Field(
        default="var/monitor.db",
        description="SQLite database file; with `url`, the files beside the database (evidence screenshots, "
        "outbox, duty locks) are still named after it on this machine.",
    )
    url: str | None = Field(
        default=None,
        description="postgresql://user@host:port/dbname — the store on PostgreSQL instead of the SQLite file "
        "(the password never here: password_env).",
    )
    password_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the PostgreSQL password (the service's env "
        "file); without it libpq's own ways apply (peer authentication on a local socket, ~/.pgpass).",
    )
    lock_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long a write waits for another process's write lock before the command fails "
        "(exit status 3).",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _postgresql_url(cls, value: Any) -> Any:
        # ``url: ${MONITOR_DB_URL:-}`` expands to "" where the store stays on SQLite.
        if isinstance(value, str) and not value.strip():
            return None
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL, postgresql://user@host:port/dbname (leave it out for the SQLite "
                "file storage.database)"
            )
        from psycopg import conninfo  # only when PostgreSQL is configured

        try:
            params = conninfo.conninfo_to_dict(value)
        except Exception as exc:  # psycopg.ProgrammingError: libpq's own words for a malformed URL
            reason = str(exc).strip() or type(exc).__name__
            raise ValueError(f"not a valid PostgreSQL URL: {reason}") from None
        if params.get("password"):
            # Never say the URL back: it holds the password.
            raise ValueError(
                "holds a password: put the password in the service's env file and name its variable in "
                "storage.password_env"
            )
        return value

    def password(self, env: Mapping[str, str] | None = None) -> str | None:
        """The PostgreSQL password from the environment (``password_env``); None without one.

        Raises :class:`ConfigError` when ``password_env`` names a variable that is not set.
        """
        if not self.password_env:
            return None
        environ = os.environ if env is None else env
        if self.password_env not in environ:
            raise ConfigError(
                [
                    (
                        "storage.password_env",
                        f"environment variable {self.password_env} is not set — put "
                        f"{self.password_env}=… in the service's env file",
                    )
                ]
            )
        return environ[self.password_env]


# -- new media (政务新媒体) ----------------------------------------------------------------------------

Platform = Literal["wechat", "weibo", "douyin", "toutiao", "app", "other"]

#: Default regex marking a pinned post (置顶) in a feed item's title or categories.
DEFAULT_PINNED_MARKER = r"^\s*[\[【(（]?\s*置顶\s*[\]】)）]?|^(?:pinned|sticky)$"
#: Default title keywords of policy documents and their interpretations (政策文件及政策解读类信息).
DEFAULT_POLICY_KEYWORDS = (
    "政策",
    "解读",
    "图解",
    "一图读懂",
    "问答",
    "答记者问",
    "办法",
    "条例",
    "规定",
    "实施意见",
    "实施方案",
    "细则",
    "通知",
    "公告",
)


class FeedSource(Model):
    """An RSS 2.0 / Atom feed of the account (self-hosted RSSHub, WeRSS, the platform's own feed…)."""

    type: Literal["feed"]
    url: HttpUrl
    pinned_marker: Regex = Field(
        default=DEFAULT_PINNED_MARKER, description="Regex on item title or category marking a pinned post."
    )
    original_marker: Regex | None = Field(
        default=None,
        description="Regex on item categories/title marking an original post (原创); unset: the feed "
        "does not tell, and originality is not judged.",
    )


class JsonFields(Model):
    """Dotted paths (``a.b.0.c``) inside one item of a JSON list. Defaults follow JSON Feed 1.1."""

    id: str | None = "id"
    title: str = "title"
    url: str | None = "url"
    date: str = "date_published"
    pinned: str | None = None
    original: str | None = None


class JsonSource(Model):
    """A JSON document listing posts: JSON Feed, or an app's/CMS's own API."""

    type: Literal["json"]
    url: HttpUrl
    items: str = Field(default="items", description="Dotted path of the item list in the document.")
    fields: JsonFields = JsonFields()


class HtmlSource(Model):
    """A list page of the account's posts (a web mirror or the unit's own 公众号文章 column)."""

    type: Literal["html"]
    url: HttpUrl
    item_selector: str | None = Field(default=None, description="CSS/XPath of one item; default: detect.")
    date_selector: str | None = Field(default=None, description="CSS/XPath of the date inside an item.")


class WechatApiSource(Model):
    """WeChat's published-article list (freepublish/batchget) with the owner's own AppID and secret.

    The secret never lives in the file: ``appid_env``/``secret_env`` name environment variables.
    """

    type: Literal["wechat_api"]
    appid_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    api_base: HttpUrl = "https://api.weixin.qq.com"
    token_endpoint: Literal["stable", "classic"] = Field(
        default="stable",
        description="stable: POST /cgi-bin/stable_token (does not invalidate the owner's other tokens); "
        "classic: GET /cgi-bin/token.",
    )
    count: int = Field(default=20, ge=1, le=20)


class ManualSource(Model):
    """A CSV ledger filled in by the office (人工填报): account, last post date, reported by, reported at."""

    type: Literal["manual"]
    path: str | None = Field(default=None, description="CSV file (relative to the config file).")
    url: HttpUrl | None = Field(default=None, description="Or: where the ledger is published.")
    max_age_days: int = Field(default=7, ge=0, description="An entry older than this is not trusted.")

    @model_validator(mode="after")
    def _one_location(self) -> ManualSource:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' or 'url'")
        return self


NewMediaSource = Annotated[
    FeedSource | JsonSource | HtmlSource | WechatApiSource | ManualSource, Field(discriminator="type")
]


class Account(Model):
    """One government new-media account (政务新媒体账号)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    platform: Platform
    name: str
    unit: str | None = Field(default=None, description="The owning unit (主办单位).")
    threshold_days: int | None = Field(
        default=None, ge=1, description="Stricter local rule (7, 10 days); default: newmedia.threshold_days."
    )
    source: NewMediaSource
    tenant: str | None = Field(
        default=None,
        description="Tenant id (with `tenants:`); default: the tenant whose units name its unit.",
    )


class NewMediaQuality(Model):
    """Content-quality floors per account and calendar month (warnings, not vetoes)."""

    original_min_share: float | None = Field(default=0.3, ge=0, le=1)
    policy_min_share: float | None = Field(default=0.1, ge=0, le=1)
    min_posts: int = Field(default=8, ge=1, description="Months with fewer posts are not judged.")
    policy_keywords: tuple[str, ...] = DEFAULT_POLICY_KEYWORDS


class NewMedia(Model):
    """The new-media freshness duty (政务新媒体): accounts and thresholds."""

    threshold_days: int = Field(default=14, ge=1, description="National rule: a post within 2 weeks.")
    zombie_days: int = Field(default=90, ge=1, description="Silent longer than this: 僵尸账号, close it.")
    quality: NewMediaQuality = NewMediaQuality()
    accounts: tuple[Account, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> NewMedia:
        seen: set[str] = set()
        for i, account in enumerate(self.accounts):
            if account.id in seen:
                raise _located(f"newmedia.accounts[{i}].id", f"duplicate account id {account.id!r}")
            seen.add(account.id)
        return self

    def threshold_of(self, account: Account) -> int:
        """Days allowed without a post for this account."""
        return account.threshold_days or self.threshold_days


class DutySchedule(Model):
    """When one duty runs: a cron expression or an interval (``every``), or ``enabled: false``.

    A plain string is accepted too: ``"0 2 * * *"`` (cron), ``"every 15m"`` (interval) or ``"off"``.
    """

    cron: str | None = Field(
        default=None,
        description="Crontab expression (minute hour day month weekday; 0/7 = Sunday), "
        "or 6 fields with seconds first.",
    )
    every: float | None = Field(default=None, description="Interval: 15m, 2h, 1d, 30s or seconds.")
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value is False:  # `links: false`, as one would write for any switch
            return {"enabled": False}
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.lower() in ("off", "disabled", "never"):
            return {"enabled": False}
        if text.lower().startswith("every"):
            return {"every": text[len("every") :].strip()}
        return {"cron": text}

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                cron_trigger(value, ZoneInfo("UTC"))
            except ValueError as exc:
                raise ValueError(f"bad cron expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> DutySchedule:
        if self.enabled and (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of 'cron' or 'every' (or enabled: false)")
        return self


class Schedule(Model):
    """The daemon's schedule: built-in national-rule defaults overlaid with per-duty entries."""

    defaults: bool = Field(
        default=True, description="Start from the built-in schedule; false: only the duties listed here."
    )
    duties: Mapping[str, DutySchedule] = Field(default_factory=dict)
    catch_up: bool = Field(
        default=True,
        description="At start, run once every duty whose last successful run is older than its period.",
    )
    grace_seconds: float = Field(
        default=30.0, ge=0, description="On SIGTERM, how long running duties may finish before cancelling."
    )

    @field_validator("duties")
    @classmethod
    def _known_duties(cls, value: Mapping[str, DutySchedule]) -> Mapping[str, DutySchedule]:
        known = known_duties()
        for name in value:
            if name not in known:
                raise _located(f"schedule.duties.{name}", f"unknown duty {name!r}; known: {', '.join(known)}")
        return value


class Backup(Model):
    """Online copies of the database (``monitor backup``; the daemon's monthly ``backup`` duty)."""

    directory: str = Field(
        default="backups", description="Folder of the copies (relative: to the database's folder)."
    )
    keep: int = Field(default=12, ge=1, description="Copies kept; older ones are deleted.")



class TaskQueue(Model):
    """How duties are dispatched (docs/scale-out.md): run by the daemon itself (``local``, the default) or
    through a PostgreSQL task queue (``procrastinate``) to ``monitor worker`` processes on any number of
    machines."""

    backend: Literal["local", "procrastinate"] = Field(
        default="local",
        description="local: the daemon runs every duty itself; procrastinate: the daemon defers one task "
        "per duty and site, ``monitor worker`` processes run them (needs the store on PostgreSQL, "
        "storage.url; the queue's tables live in the same database).",
    )
    name: str = Field(default="monitor", pattern=r"^[A-Za-z0-9_.-]{1,60}$", description="Queue name.")
    heartbeat_seconds: float = Field(
        default=10.0, gt=0, le=600, description="How often a worker tells the database it is alive."
    )
    stalled_after_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="A worker silent this long is taken for dead: its task's run is recorded as "
        "interrupted and the task retried once by another worker.",
    )
    task_timeout: float = Field(
        default=6 * 3600.0,
        description="A task still running after this long is cancelled (its run recorded as interrupted, "
        "not retried): a stuck site cannot hold a worker all night. 6h, 90m, or seconds.",
    )

    keep_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="Finished tasks are kept this long in the queue's tables (the runs themselves are kept "
        "by the store), then deleted by the workers.",
    )

    @field_validator("task_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)


#: What an alert is about (the ``events`` of an alert rule); docs/alerts.md describes each.
AlertEvent = Literal["finding", "site_down", "site_up", "duty_failing", "duty_recovered", "monitor_offline"]
ALERT_EVENTS: tuple[str, ...] = (
    "finding",
    "site_down",
    "site_up",
    "duty_failing",
    "duty_recovered",
    "monitor_offline",
)
_CHANNEL_NAME = r"^[A-Za-z0-9_-]{1,40}$"


def _clock_time(value: Any) -> Any:
    """``"22:30"``; YAML 1.1 reads an unquoted ``22:30`` as the sexagesimal integer 1350, taken back here."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


class QuietHours(Model):
    """Hours (in the configured time zone) when only veto-level alerts go out; the others wait until the
    quiet hours end, then go out — held, never dropped."""

    start: Annotated[time, BeforeValidator(_clock_time)] = Field(description='Start, e.g. "22:00".')
    end: Annotated[time, BeforeValidator(_clock_time)] = Field(description='End, e.g. "07:30".')
    pass_severities: tuple[Severity, ...] = Field(
        default=("veto",), description="Severities sent at once even in quiet hours (单项否决 by default)."
    )
    pass_events: tuple[AlertEvent, ...] = Field(
        default=(), description="Alert events sent at once even in quiet hours (e.g. site_down)."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time: quiet hours would be empty")
        return self

    def contains(self, moment: time) -> bool:
        """Whether a wall-clock time falls in the quiet hours (which may run past midnight)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class AlertChannel(Model):
    """One place alerts go: an Apprise URL (``wecombot://KEY``, ``dingtalk://TOKEN``, ``feishu://TOKEN``,
    ``lark://TOKEN``, ``mailto://…``, ``json://host/path``…), given in the file (``${VAR}`` expanded at
    load) or read from an environment variable when sending (``url_env``), so the secret never sits in
    the config or the outbox."""

    url: str | None = Field(default=None, description="Apprise URL; ${VAR} expansion applies.")
    url_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the Apprise URL (read when sending).",
    )
    format: Literal["auto", "markdown", "text"] = Field(
        default="auto",
        description="auto: Markdown for DingTalk and Feishu/Lark (they render it), plain text elsewhere.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Connect and read timeout.")

    @model_validator(mode="after")
    def _one_source(self) -> AlertChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' or 'url_env'")
        if self.url is not None:
            problem = apprise_url_problem(self.url)
            if problem:
                raise ValueError(problem)
        return self


def apprise_url_problem(url: str) -> str | None:
    """Why Apprise cannot load ``url`` (None when it can). Apprise is imported only when alerts are set."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return "not an Apprise URL (expected e.g. wecombot://KEY, dingtalk://TOKEN, json://host/path)"
    import apprise

    if apprise.Apprise.instantiate(url) is None:
        return f"Apprise cannot load this {scheme}:// URL (unknown service or a malformed token)"
    return None


class AlertRule(Model):
    """Which alerts go to which channels. Every listed condition must hold; an empty list matches all."""

    channels: tuple[Annotated[str, Field(pattern=_CHANNEL_NAME)], ...] = Field(min_length=1)
    events: tuple[AlertEvent, ...] = ALERT_EVENTS  # type: ignore[assignment]
    severities: tuple[Severity, ...] = ()
    kinds: tuple[NonEmpty, ...] = Field(
        default=(), description="Finding kinds: names (dark_link) or 问题类型 labels (暗链)."
    )
    sites: tuple[str, ...] = ()
    units: tuple[str, ...] = ()


class Alerts(Model):
    """Instant alerts (即时告警): transitions only, routed by rules to channels, through the outbox."""

    enabled: bool = False
    channels: Mapping[Annotated[str, Field(pattern=_CHANNEL_NAME)], AlertChannel] = Field(
        default_factory=dict
    )
    rules: tuple[AlertRule, ...] = ()
    quiet_hours: QuietHours | None = None
    reopen_damping: float = Field(
        default=86400.0,
        description="A finding that reopens within this long after it was resolved is not alerted again.",
    )
    failing_nights: int = Field(
        default=3,
        ge=1,
        le=60,
        description="Alert when a duty's runs have failed on this many nights running.",
    )
    offline_after: float = Field(
        default=7200.0, description="Alert at daemon start when it was not running for longer than this."
    )
    group_top: int = Field(default=5, ge=1, le=20, description="Items listed in a grouped message.")
    console_url: HttpUrl | None = Field(
        default=None, description="Console or bulletin address named at the end of grouped messages."
    )
    retry_backoff_seconds: float = Field(default=30.0, ge=0)
    max_backoff_seconds: float = Field(default=1800.0, ge=0)
    keep_days: int = Field(
        default=30, ge=7, le=3650, description="Sent alerts are removed from the outbox after this many days."
    )

    @field_validator("reopen_damping", "offline_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    @model_validator(mode="after")
    def _channels_exist(self) -> Alerts:
        for i, rule in enumerate(self.rules):
            for j, name in enumerate(rule.channels):
                if name not in self.channels:
                    raise _located(f"alerts.rules[{i}].channels[{j}]", f"no channel named {name!r}")
        if self.enabled and not self.rules:
            raise _located("alerts.rules", "alerts are enabled but no rule sends anything to a channel")
        return self


#: Bulletin keys a tenant may not override: one mail server and one folder layout serve every tenant (the
#: outbox retries every queued message through the top-level ``bulletin.smtp``).
TENANT_FIXED_BULLETIN_KEYS = ("smtp", "reports_dir", "outbox_dir")
#: Addressees of a tenant's bulletin by its level, unless its ``bulletin.addressees`` says otherwise.
TENANT_ADDRESSEES = {
    "county": ("各乡镇人民政府", "县直各部门"),
    "city": ("各县（市、区）人民政府", "市直各部门"),
    "district": ("各街道办事处、乡镇人民政府", "区直各部门"),
}
#: The area word of the bulletin's text (为进一步加强全县…) and the units it covers, by tenant level.
TENANT_AREA = {"county": "全县", "city": "全市", "district": "全区"}
#: A folder and outbox name the province summary uses; no tenant may take it.
PROVINCE_ID = "province"


class Tenant(Model):
    """One city or county (租户) of a province-wide installation: its sites, units, accounts and bulletin.

    Each tenant gets its own weekly bulletin, built only from its own sites, units and accounts, issued by
    its own office to its own recipients (``monitor report weekly --tenant ID``).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: Annotated[str, AfterValidator(_non_empty)] = Field(description="示例市 / 示例县")
    level: Literal["county", "city", "district"] = Field(
        default="county", description="county (县), city (市) or district (区): the bulletin's wording."
    )
    sites: tuple[str, ...] = Field(default=(), description="Site ids (or set `tenant:` on each site).")
    accounts: tuple[str, ...] = Field(
        default=(), description="New-media account ids (or set `tenant:` on each account)."
    )
    bulletin: Bulletin = Field(
        default_factory=Bulletin,
        description="Overrides of the top-level `bulletin:` for this tenant (only the keys written here).",
    )

    @property
    def issuer(self) -> str:
        """Who issues this tenant's bulletin: its ``bulletin.issuer``, else ``<name>人民政府办公室``."""
        if "issuer" in self.bulletin.model_fields_set:
            return self.bulletin.issuer
        return f"{self.name}人民政府办公室"

    def merged_bulletin(self, top: Bulletin) -> Bulletin:
        """The top-level ``bulletin:`` with this tenant's keys written over it; the issuer and addressees
        default to the tenant's own (never another county's), the recipients are only its own."""
        update: dict[str, Any] = {key: getattr(self.bulletin, key) for key in self.bulletin.model_fields_set}
        update.setdefault("issuer", self.issuer)
        update.setdefault("addressees", TENANT_ADDRESSEES[self.level])
        update.setdefault("recipients", ())
        update["reports_dir"] = str(Path(top.reports_dir) / self.id)
        return top.model_copy(update=update)


class Province(Model):
    """The province-wide summary (省级汇总): one document a week ranking the tenants, and who gets it."""

    name: Annotated[str, AfterValidator(_non_empty)] = Field(description="示例省")
    issuer: str = Field(default="省人民政府办公厅政务公开办公室", description="Who issues the summary.")
    addressees: tuple[str, ...] = ("各市、县人民政府办公室",)
    title: TitleTemplate = "{issuer}关于{year}年第{week}周各地政府网站与政务新媒体监测情况的通报"
    issue_number: IssueNumberTemplate = "{year}年第{seq}期"
    basis: str = "《政府网站与政务新媒体检查指标》（国办秘函〔2019〕19号）"
    contact: str | None = None
    recipients: tuple[EmailAddress, ...] = ()

    @field_validator("addressees")
    @classmethod
    def _some_addressee(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one addressee is needed")
        return value


def _validate_tenants(config: Config) -> None:
    """Every site, unit and account in exactly one tenant; references inside one tenant (issue 24).

    Without ``tenants:`` nothing here applies (a single county, as before).
    """
    if not config.tenants:
        if config.province is not None:
            raise _located(
                "province", "a province summary ranks tenants: add `tenants:` (cities and counties)"
            )
        return
    if config.bulletin.recipients:
        raise _located(
            "bulletin.recipients",
            "with tenants, each tenant has its own recipients (tenants[N].bulletin.recipients) and the "
            "province summary its own (province.recipients); leave the top-level list empty",
        )
    ids: dict[str, int] = {}
    for i, tenant in enumerate(config.tenants):
        for key in TENANT_FIXED_BULLETIN_KEYS:
            if key in tenant.bulletin.model_fields_set:
                raise _located(
                    f"tenants[{i}].bulletin.{key}",
                    f"{key} is shared by every tenant: set it under the top-level bulletin",
                )
        if tenant.id == PROVINCE_ID:
            raise _located(f"tenants[{i}].id", f"{PROVINCE_ID!r} is the province summary's own name")
        if tenant.id in ids:
            raise _located(f"tenants[{i}].id", f"duplicate tenant id {tenant.id!r}")
        ids[tenant.id] = i
    names: dict[str, int] = {}
    for i, tenant in enumerate(config.tenants):
        if tenant.name in names:
            raise _located(
                f"tenants[{i}].name", f"tenants[{names[tenant.name]}] has the same name {tenant.name!r}"
            )
        names[tenant.name] = i

    def member_of(entries: tuple[Site | Account, ...], what: str, listed: str) -> dict[str, str]:
        owner: dict[str, str] = {}
        known = {e.id: j for j, e in enumerate(entries)}
        for i, tenant in enumerate(config.tenants):
            for j, item in enumerate(getattr(tenant, listed)):
                if item not in known:
                    raise _located(f"tenants[{i}].{listed}[{j}]", f"no {what} with id {item!r}")
                if item in owner:
                    raise _located(
                        f"tenants[{i}].{listed}[{j}]", f"{what} {item!r} is already in tenant {owner[item]!r}"
                    )
                owner[item] = tenant.id
        return owner

    site_owner = member_of(config.sites, "site", "sites")
    for i, site in enumerate(config.sites):
        if site.tenant is not None:
            if site.tenant not in ids:
                raise _located(f"sites[{i}].tenant", f"no tenant with id {site.tenant!r}")
            if site_owner.setdefault(site.id, site.tenant) != site.tenant:
                raise _located(
                    f"sites[{i}].tenant", f"site {site.id!r} is listed under tenant {site_owner[site.id]!r}"
                )
        if site.id not in site_owner:
            raise _located(
                f"sites[{i}]",
                f"site {site.id!r} belongs to no tenant: set its tenant, or list it under a tenant's sites",
            )
    unit_owner: dict[str, set[str]] = {t.id: set() for t in config.tenants}
    for i, unit in enumerate(config.units):
        if unit.tenant is not None and unit.tenant not in ids:
            raise _located(f"units[{i}].tenant", f"no tenant with id {unit.tenant!r}")
        via_site = site_owner.get(unit.site) if unit.site is not None else None
        if unit.tenant is not None and via_site is not None and via_site != unit.tenant:
            raise _located(
                f"units[{i}].site",
                f"site {unit.site!r} belongs to tenant {via_site!r}, not to the unit's tenant "
                f"{unit.tenant!r}",
            )
        owner = unit.tenant or via_site
        if owner is None:
            raise _located(f"units[{i}]", "with tenants, a unit needs a site or a tenant")
        if unit.name in unit_owner[owner]:
            raise _located(f"units[{i}].name", f"tenant {owner!r} already has a unit named {unit.name!r}")
        unit_owner[owner].add(unit.name)
    for site_id, spec in config.columns.sites.items():
        owner_units = unit_owner[site_owner[site_id]] | {
            s.unit for s in config.sites if s.unit and site_owner[s.id] == site_owner[site_id]
        }
        groups: tuple[tuple[str, tuple[ColumnSpec | MessageBoard, ...]], ...] = (
            ("columns", spec.columns),
            ("message_boards", spec.message_boards),
        )
        for kind, entries in groups:
            for j, entry in enumerate(entries):
                if entry.unit is not None and entry.unit not in owner_units:
                    raise _located(
                        f"columns.sites.{site_id}.{kind}[{j}].unit",
                        f"unit {entry.unit!r} is not a unit of tenant {site_owner[site_id]!r}",
                    )
    account_owner = member_of(config.newmedia.accounts, "account", "accounts")
    for i, account in enumerate(config.newmedia.accounts):
        where = f"newmedia.accounts[{i}]"
        if account.tenant is not None:
            if account.tenant not in ids:
                raise _located(f"{where}.tenant", f"no tenant with id {account.tenant!r}")
            if account_owner.setdefault(account.id, account.tenant) != account.tenant:
                raise _located(
                    f"{where}.tenant",
                    f"account {account.id!r} is listed under tenant {account_owner[account.id]!r}",
                )
        if account.id in account_owner:
            continue
        by_unit = [t for t, units in unit_owner.items() if account.unit in units]
        if len(by_unit) != 1:
            raise _located(
                where,
                f"account {account.id!r} belongs to no tenant: set its tenant, or list it under a tenant's "
                "accounts",
            )
        account_owner[account.id] = by_unit[0]


# -- the web console (issue 23) ----------------------------------------------------------------------


class Console(Model):
    """``monitor web``: the triage console (docs/console.md), bound to loopback by default and meant to sit
    behind the office's reverse proxy, and the re-checks it queues (docs/findings.md, "Re-checks")."""

    host: str = Field(default="127.0.0.1", description="Address the console listens on.")
    port: int = Field(default=8780, ge=1, le=65535)
    base_path: str = Field(
        default="",
        pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="Sub-path the reverse proxy serves the console under, e.g. /monitor (no trailing /).",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For/-Proto are "
        "believed; from anyone else those headers are ignored.",
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: Secure when the request came over https (directly or via a proxy)."
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="A login lasts this long.")
    secret_file: str | None = Field(
        default=None,
        description="File holding the session-signing secret (created 0600 on first start); default: "
        "console-secret in the state directory (next to the database). $MONITOR_CONSOLE_SECRET wins.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="Failed logins per user or per client address before a pause."
    )
    login_window_seconds: float = Field(
        default=900.0, gt=0, description="The window failed logins are counted in, and the pause after."
    )
    per_page: int = Field(default=50, ge=10, le=200, description="Findings per page of the list.")
    recheck_poll_seconds: float = Field(
        default=30.0,
        ge=0.1,
        le=3600.0,
        description="How often the daemon looks for queued re-checks (已整改，申请复核) and runs them.",
    )
    recheck_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Runs a re-check may take when they cannot tell (degraded, failed, incomplete) before "
        "its outcome is 'not credible'.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or network: {item!r}") from exc
        return value


class Config(Model):
    """The whole validated configuration."""

    timezone: str = "Asia/Shanghai"
    storage: Storage = Storage()
    crawl: Crawl = Crawl()
    links: Links = Links()
    availability: Availability = Availability()
    identity: Identity = Identity()
    darklinks: DarkLinks = DarkLinks()
    text: TextChecks = TextChecks()
    sites: tuple[Site, ...] = ()
    units: tuple[Unit, ...] = ()
    newmedia: NewMedia = NewMedia()
    columns: Columns = Columns()
    bulletin: Bulletin = Bulletin()
    schedule: Schedule = Schedule()
    backup: Backup = Backup()
    alerts: Alerts = Alerts()
    queue: TaskQueue = TaskQueue()
    tenants: tuple[Tenant, ...] = Field(
        default=(), description="Cities and counties (租户), each with its own bulletin (docs/tenants.md)."
    )
    province: Province | None = Field(default=None, description="The province-wide summary of the tenants.")
    console: Console = Console()
    base_dir: str = Field(
        default=".", exclude=True, description="Set by the loader: the config file's folder."
    )
    state_dir: str | None = Field(
        default=None,
        exclude=True,
        description="Set by the loader from $STATE_DIRECTORY (systemd's StateDirectory=): where relative "
        "reports_dir paths go, because the config's own folder is read-only under ProtectSystem=strict.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        seen: set[str] = set()
        for i, site in enumerate(self.sites):
            if site.id in seen:
                raise _located(f"sites[{i}].id", f"duplicate site id {site.id!r}")
            seen.add(site.id)
        for i, unit in enumerate(self.units):
            if unit.site is not None and unit.site not in seen:
                raise _located(f"units[{i}].site", f"no site with id {unit.site!r}")
        unit_names = {u.name for u in self.units} | {s.unit for s in self.sites if s.unit}
        for site_id, spec in self.columns.sites.items():
            where = f"columns.sites.{site_id}"
            if site_id not in seen:
                raise _located(where, f"no site with id {site_id!r}")
            groups: tuple[tuple[str, tuple[ColumnSpec | MessageBoard, ...]], ...] = (
                ("columns", spec.columns),
                ("message_boards", spec.message_boards),
            )
            for kind, entries in groups:
                for j, entry in enumerate(entries):
                    if entry.unit is not None and entry.unit not in unit_names:
                        raise _located(f"{where}.{kind}[{j}].unit", f"no unit named {entry.unit!r}")
        for site_id in self.availability.sites:
            if site_id not in seen:
                raise _located(f"availability.sites.{site_id}", f"no site with id {site_id!r}")
        for site_id in self.identity.site_codes:
            if site_id not in seen:
                raise _located(f"identity.site_codes.{site_id}", f"no site with id {site_id!r}")
        from monitor.core.wordlists import WordListError, read_list

        for i, wl in enumerate(self.text.word_lists):
            if not self.resolve_path(wl.path).is_file():
                raise _located(f"text.word_lists[{i}].path", f"file not found: {self.resolve_path(wl.path)}")
            try:  # a list with an unreadable line fails at load, not as a silently missing term
                read_list(self.resolve_path(wl.path))
            except WordListError as exc:
                raise _located(f"text.word_lists[{i}].path", str(exc)) from None
        for i, rule in enumerate(self.alerts.rules):
            for j, site_id in enumerate(rule.sites):
                if site_id not in seen:
                    raise _located(f"alerts.rules[{i}].sites[{j}]", f"no site with id {site_id!r}")
            for j, unit_name in enumerate(rule.units):
                if unit_name not in unit_names:
                    raise _located(f"alerts.rules[{i}].units[{j}]", f"no unit named {unit_name!r}")
        model = self.text.typo_model_path
        if model and not self.resolve_path(model).is_file():
            raise _located("text.typo_model_path", f"file not found: {self.resolve_path(model)}")
        if self.queue.stalled_after_seconds <= 2 * self.queue.heartbeat_seconds:
            raise _located(
                "queue.stalled_after_seconds",
                f"must be more than twice queue.heartbeat_seconds ({self.queue.heartbeat_seconds:g}): a live "
                "worker would be taken for dead",
            )
        if self.queue.backend == "procrastinate" and not self.storage.url:
            raise _located(
                "queue.backend",
                "the procrastinate task queue needs the store on PostgreSQL: set storage.url "
                "(postgresql://…); workers on several machines cannot share a SQLite file",
            )
        _validate_tenants(self)
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    def resolve_path(self, path: str | Path) -> Path:
        """A path from the config: relative paths resolve against the config file's folder.

        A relative path into the program's own files (``monitor/…`` or ``checks/…``, e.g. the demo's
        ``monitor/app/demo/words/political.txt``) that does not exist next to the config resolves to the
        installed copy, so a config copied out of the source tree (to /etc/govsite-monitor) still loads.
        """
        p = Path(path)
        if p.is_absolute():
            return p
        local = Path(self.base_dir) / p
        if not local.exists() and p.parts and p.parts[0] in _PACKAGE_DIRS:
            shipped = _INSTALL_ROOT / p
            if shipped.exists():
                return shipped
        return local

    @property
    def database_path(self) -> Path:
        """Absolute database path (relative paths resolve against the config file's folder)."""
        path = Path(self.storage.database)
        return path if path.is_absolute() else Path(self.base_dir) / path

    @property
    def reports_path(self) -> Path:
        """Folder of rendered bulletins: a relative ``reports_dir`` resolves against the service's state
        directory when the loader saw ``$STATE_DIRECTORY`` (systemd), else against the config's folder."""
        path = Path(self.bulletin.reports_dir)
        if path.is_absolute():
            return path
        return Path(self.state_dir or self.base_dir) / path

    def outbox_path(self, database: Path | None = None) -> Path:
        """The mail outbox folder: configured, or ``outbox/`` next to the database actually used."""
        if self.bulletin.outbox_dir:
            path = Path(self.bulletin.outbox_dir)
            return path if path.is_absolute() else Path(self.base_dir) / path
        return (database or self.database_path).parent / "outbox"

    def site_for_url(self, url: str) -> Site | None:
        """The configured site the URL belongs to: same origin (scheme, host, port), longest matching
        path prefix (two sites on one host, by port or by path, stay apart); None when there is none."""
        origin = origin_of(url)
        path = path_of(url) or "/"
        best: tuple[int, Site] | None = None
        for site in self.sites:
            if origin not in site.crawl_origins:
                continue
            for prefix in site.scope.path_prefixes:
                if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), site)
        return best[1] if best is not None else None

    @property
    def configured_origins(self) -> tuple[str, ...]:
        """Origins the operator named, which the egress policy lets through whatever they resolve to:
        every site's homepage and scope, and every other http(s) URL written in the configuration
        (columns, message boards, new-media sources, availability targets…)."""
        found: dict[str, None] = {}
        for site in self.sites:
            found.update(dict.fromkeys(site.crawl_origins))
            found[origin_of(site.homepage)] = None

        def walk(value: object) -> None:
            if isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name))
            elif isinstance(value, Mapping):
                for item in value.values():
                    walk(item)
            elif isinstance(value, (tuple, list, frozenset, set)):
                for item in value:
                    walk(item)
            elif isinstance(value, str) and value.startswith(("http://", "https://")):
                found[origin_of(value)] = None

        for name in type(self).model_fields:
            if name != "crawl":  # allow_private origins are their own, narrower allowance
                walk(getattr(self, name))
        found.pop("", None)
        return tuple(found)

    def units_of(self, site_id: str) -> tuple[Unit, ...]:
        """Units owning pages of a site (units without a site belong to every site — with tenants, to
        every site of their tenant)."""
        if not self.tenants:
            return tuple(u for u in self.units if u.site in (None, site_id))
        owner = next((t.id for t in self.tenants if site_id in self.tenant_site_ids(t.id)), None)
        return tuple(
            u for u in self.units if u.site == site_id or (u.site is None and u.tenant in (None, owner))
        )

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant with this id; KeyError when there is none."""
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)

    def tenant_site_ids(self, tenant_id: str) -> tuple[str, ...]:
        """Ids of the sites of a tenant, in config order (listed under it, or naming it)."""
        tenant = self.tenant(tenant_id)
        return tuple(s.id for s in self.sites if s.tenant == tenant.id or s.id in tenant.sites)

    def tenant_account_ids(self, tenant_id: str) -> tuple[str, ...]:
        """Ids of the new-media accounts of a tenant (listed, naming it, or owned by one of its units)."""
        tenant = self.tenant(tenant_id)
        claimed = {a for t in self.tenants for a in t.accounts} | {
            a.id for a in self.newmedia.accounts if a.tenant
        }
        units = {u.name for u in self.tenant_units(tenant_id)}
        return tuple(
            a.id
            for a in self.newmedia.accounts
            if a.tenant == tenant.id or a.id in tenant.accounts or (a.id not in claimed and a.unit in units)
        )

    def tenant_units(self, tenant_id: str) -> tuple[Unit, ...]:
        """The units of a tenant: those naming it, or on one of its sites."""
        sites = set(self.tenant_site_ids(tenant_id))
        return tuple(u for u in self.units if u.tenant == tenant_id or (u.tenant is None and u.site in sites))

    def for_tenant(self, tenant_id: str) -> Config:
        """This configuration narrowed to one tenant: its sites, units and accounts only, and its bulletin
        (the tenant's keys over the top-level ``bulletin:``, reports under ``reports/<tenant id>/``).
        Not re-validated: every part was validated with the whole configuration."""
        tenant = self.tenant(tenant_id)
        sites = set(self.tenant_site_ids(tenant_id))
        accounts = set(self.tenant_account_ids(tenant_id))
        return self.model_copy(
            update={
                "sites": tuple(s for s in self.sites if s.id in sites),
                "units": self.tenant_units(tenant_id),
                "newmedia": self.newmedia.model_copy(
                    update={"accounts": tuple(a for a in self.newmedia.accounts if a.id in accounts)}
                ),
                "columns": self.columns.model_copy(
                    update={"sites": {k: v for k, v in self.columns.sites.items() if k in sites}}
                ),
                "bulletin": tenant.merged_bulletin(self.bulletin),
                "tenants": (tenant,),
            }
        )


class _LocatedError(ValueError):
    """A cross-reference problem raised from a model validator with its own key path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _located(path: str, message: str) -> _LocatedError:
    return _LocatedError(path, message)


def format_key_path(loc: tuple[int | str, ...]) -> str:
    """``('sites', 0, 'scope', 'exclude', 2)`` → ``sites[0].scope.exclude[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def expand_env(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Expand ``${VAR}`` / ``${VAR:-default}`` in every string of a parsed YAML tree."""
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError([(path, f"environment variable {name} is not set")])

        return _ENV_PATTERN.sub(repl, value)
    if isinstance(value, dict):
        return {k: expand_env(v, env, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def config_from_mapping(
    data: Mapping[str, Any] | None,
    *,
    base_dir: str | Path = ".",
    source: str = "",
    state_dir: str | Path | None = None,
) -> Config:
    """Validate an already-parsed mapping (after env expansion) into a :class:`Config`."""
    data = dict(data or {})
    for internal in ("base_dir", "state_dir"):
        if internal in data:
            raise ConfigError([(internal, "unknown key")], source)
    try:
        return Config.model_validate(
            {**data, "base_dir": str(base_dir), "state_dir": str(state_dir) if state_dir else None}
        )
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for err in exc.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _LocatedError):
                problems.append((ctx_err.path, str(ctx_err)))
                continue
            msg = err["msg"]
            if isinstance(err.get("input"), Rejected):
                msg = err["input"].message()
            elif err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            problems.append((format_key_path(_without_union_tags(tuple(err["loc"]))), msg))
        raise ConfigError(problems, source) from None


#: Tags pydantic inserts into error locations of discriminated unions; they are not keys of the file.
_UNION_TAGS = {"source": {"feed", "json", "html", "wechat_api", "manual"}}


def _without_union_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``(…, 'source', 'feed', 'url')`` → ``(…, 'source', 'url')``: the key path as written in the file."""
    out: list[int | str] = []
    for part in loc:
        if out and isinstance(out[-1], str) and part in _UNION_TAGS.get(out[-1], ()):
            continue
        out.append(part)
    return tuple(out)


class ConfigLoader(yaml.SafeLoader):
    """The YAML loader of config files: a SafeLoader whose booleans are only ``true``/``false``.

    YAML 1.1 (PyYAML's default) also reads ``yes``/``no``/``on``/``off`` as booleans, so ``name: no``
    became ``False`` and ``retries: yes`` the number 1; here they stay strings, as in YAML 1.2, and a
    field that wants a boolean says so. Duplicate keys are found by :func:`duplicate_keys`.
    """


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def duplicate_keys(node: yaml.Node, path: str = "") -> list[tuple[str, str]]:
    """``(key path, message)`` for every key written twice in one mapping of a composed YAML document.

    PyYAML keeps the last value silently; a config where an administrator changed the first of two
    ``retries:`` lines and saw no effect is worse than an error naming both lines.
    """
    problems: list[tuple[str, str]] = []
    seen_nodes: set[int] = set()

    def walk(node: yaml.Node, path: str) -> None:
        if id(node) in seen_nodes:  # an alias: already walked where it was anchored
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    walk(value_node, path)
                    continue
                key = key_node.value
                child = f"{path}.{key}" if path else key
                line = key_node.start_mark.line + 1
                if key in first_line:
                    problems.append(
                        (child, f"duplicate key {key!r} on line {line} (first on line {first_line[key]})")
                    )
                else:
                    first_line[key] = line
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    walk(node, path)
    return problems


def read_config_text(path: Path) -> str:
    """The config file's text: UTF-8 (a byte-order mark is allowed), else a :class:`ConfigError` naming the
    first byte that is not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([("", f"cannot read config file: {exc.strerror or exc}")], str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                (
                    "",
                    f"not UTF-8 text: byte {exc.start} (line {line}, column {column}) is "
                    f"0x{data[exc.start]:02x}; save the file as UTF-8 (GBK and other encodings are not "
                    "read)",
                )
            ],
            str(path),
        ) from None


def parse_config_yaml(text: str, source: str) -> Any:
    """Parse a config file's YAML: syntax errors with their line, duplicate keys and empty files rejected."""
    loader = ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            duplicates = duplicate_keys(node)
            if duplicates:
                raise ConfigError(duplicates, source)
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(
            [("", f"{where}YAML syntax error: {getattr(exc, 'problem', exc)}")], source
        ) from None
    finally:
        loader.dispose()
    if raw is None:
        raise ConfigError(
            [("", "the config file is empty: it needs at least the sites to monitor (see config.yaml)")],
            source,
        )
    return raw


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a YAML config file. Raises :class:`ConfigError`."""
    path = Path(path)
    raw = parse_config_yaml(read_config_text(path), str(path))
    if not isinstance(raw, dict):
        raise ConfigError([("", "the top level must be a mapping of sections")], str(path))
    environ = os.environ if env is None else env
    try:
        expanded = expand_env(raw or {}, environ)
    except ConfigError as exc:
        raise ConfigError(exc.problems, str(path)) from None
    return config_from_mapping(
        expanded, base_dir=path.resolve().parent, source=str(path), state_dir=state_directory(environ)
    )


def state_directory(env: Mapping[str, str]) -> Path | None:
    """The service's writable state folder: the first entry of ``$STATE_DIRECTORY``, which systemd sets
    for ``StateDirectory=`` (a colon-separated list when several are configured); None outside systemd."""
    first = (env.get("STATE_DIRECTORY") or "").split(":")[0].strip()
    return Path(first) if first and Path(first).is_absolute() else None


def adhoc_config(url: str, base: Config | None = None) -> tuple[Config, Site]:
    """A config for ``monitor run links URL``: the configured site for that URL, or a new one.

    With no configured site for the URL's origin, the scope is that origin alone (and, for a folder URL
    such as ``http://h/sub/``, that folder: a path-based sub-site).
    """
    base = base or Config()
    _http_url(url)
    site = base.site_for_url(url)
    if site is not None:
        if site.homepage != url:
            site = site.model_copy(update={"homepage": url})
        return base, site
    # The id names the origin (and a sub-site's folder): two sites on one host never share findings.
    # Plain http on the default port keeps the bare host name, as before origins.
    parts = split_url(url)
    host = parts.host
    name = host if parts.port is None else f"{host}:{parts.port}"
    prefix = parts.path if parts.path.endswith("/") and parts.path != "/" else "/"
    label = ("" if parts.scheme == "http" else parts.scheme + "-") + name + prefix.rstrip("/")
    site = Site(
        id=re.sub(r"[^a-z0-9_-]+", "-", label.lower()).strip("-") or "site",
        name=name + prefix.rstrip("/"),
        homepage=url,
        scope=Scope(path_prefixes=(prefix,)),
    )
    return base, site
