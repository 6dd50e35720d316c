"""Configuration: YAML loaded and validated once into typed, frozen objects.

Checks never read raw dicts: they receive these models. Every validation problem is reported as a
:class:`ConfigError` that names the key path (``sites[0].scope.exclude[2]``) so the CLI can print it and
exit with status 2.

``${ENV_VAR}`` (and ``${ENV_VAR:-default}``) inside string values is expanded from the environment at load
time, so secrets never have to live in the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_CONFIG_NAME = "config.yaml"
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
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
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


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Regex = Annotated[str, AfterValidator(_regex)]
HostAddress = Annotated[str, AfterValidator(_host_address)]


class Model(BaseModel):
    """Base for every config section: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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

    @property
    def crawl_hosts(self) -> tuple[str, ...]:
        """Hosts in scope: configured ones, or the homepage host."""
        return self.scope.hosts or ((urlsplit(self.homepage).hostname or "").lower(),)


class Unit(Model):
    """A county department (县直部门) or township (乡镇) that owns pages and columns."""

    name: str
    kind: Literal["department", "township", "office"] = "department"
    site: str | None = Field(default=None, description="Site id whose pages this unit owns.")
    paths: tuple[str, ...] = Field(default=(), description="Path prefixes of this unit's pages on the site.")


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
    max_redirects: int = Field(default=10, ge=0, le=50)
    max_query_variants_per_path: int = Field(default=50, ge=1)
    max_path_repeats: int = Field(default=3, ge=1)
    user_agent: str = "Mozilla/5.0 (compatible; govsite-monitor/0.1; +https://github.com/govsite-monitor)"
    host_overrides: Mapping[str, HostAddress] = Field(
        default_factory=dict,
        description="Like curl --resolve: host -> 'IP:PORT' or 'nxdomain'. For the demo and for tests.",
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


class Storage(Model):
    """Where the SQLite database lives (relative paths are relative to the config file)."""

    database: str = "var/monitor.db"


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
        from monitor.schedule import parse_duration

        return None if value is None else parse_duration(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        from monitor.schedule import cron_trigger

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
        from monitor.runner import duty_names
        from monitor.schedule import known_duties

        known = known_duties(duty_names())
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


class Config(Model):
    """The whole validated configuration."""

    timezone: str = "Asia/Shanghai"
    storage: Storage = Storage()
    crawl: Crawl = Crawl()
    links: Links = Links()
    sites: tuple[Site, ...] = ()
    units: tuple[Unit, ...] = ()
    schedule: Schedule = Schedule()
    backup: Backup = Backup()
    base_dir: str = Field(
        default=".", exclude=True, description="Set by the loader: the config file's folder."
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
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def database_path(self) -> Path:
        """Absolute database path (relative paths resolve against the config file's folder)."""
        path = Path(self.storage.database)
        return path if path.is_absolute() else Path(self.base_dir) / path

    def site_for_url(self, url: str) -> Site | None:
        """The configured site whose crawl hosts include the URL's host, if any."""
        host = (urlsplit(url).hostname or "").lower()
        for site in self.sites:
            if host in site.crawl_hosts:
                return site
        return None

    def units_of(self, site_id: str) -> tuple[Unit, ...]:
        """Units owning pages of a site (units without a site belong to every site)."""
        return tuple(u for u in self.units if u.site in (None, site_id))


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
    data: Mapping[str, Any] | None, *, base_dir: str | Path = ".", source: str = ""
) -> Config:
    """Validate an already-parsed mapping (after env expansion) into a :class:`Config`."""
    data = dict(data or {})
    if "base_dir" in data:
        raise ConfigError([("base_dir", "unknown key")], source)
    try:
        return Config.model_validate({**data, "base_dir": str(base_dir)})
    except ValidationError as exc:
        problems: list[tuple[str, str]] = []
        for err in exc.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _LocatedError):
                problems.append((ctx_err.path, str(ctx_err)))
                continue
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            problems.append((format_key_path(tuple(err["loc"])), msg))
        raise ConfigError(problems, source) from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate a YAML config file. Raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([("", f"cannot read config file: {exc.strerror or exc}")], str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(
            [("", f"{where}YAML syntax error: {getattr(exc, 'problem', exc)}")], str(path)
        ) from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError([("", "the top level must be a mapping of sections")], str(path))
    try:
        expanded = expand_env(raw or {}, os.environ if env is None else env)
    except ConfigError as exc:
        raise ConfigError(exc.problems, str(path)) from None
    return config_from_mapping(expanded, base_dir=path.resolve().parent, source=str(path))


def adhoc_config(url: str, base: Config | None = None) -> tuple[Config, Site]:
    """A config for ``monitor run links URL``: the configured site for that host, or a new one.

    With no configured site for the URL's host, the scope is that host alone.
    """
    base = base or Config()
    _http_url(url)
    site = base.site_for_url(url)
    if site is not None:
        if site.homepage != url:
            site = site.model_copy(update={"homepage": url})
        return base, site
    host = (urlsplit(url).hostname or "").lower()
    site = Site(id=re.sub(r"[^a-z0-9_-]+", "-", host).strip("-") or "site", name=host, homepage=url)
    return base, site
