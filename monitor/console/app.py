"""The console's aiohttp application: middlewares (security headers, the client's origin, the session
and login, CSRF on every POST, error pages) and the routes of every page."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from monitor.config import Config
from monitor.console import labels
from monitor.console.auth import LoginLimiter, Principal
from monitor.console.context import NEW_SESSION, ORIGIN, PRINCIPAL, SESSION, STATE, ConsoleState, render
from monitor.console.csrf import FIELD, csrf_ok
from monitor.console.data import Reader, Writer
from monitor.console.proxy import TrustedProxies
from monitor.console.session import COOKIE, Session, SessionCodec, load_secret, new_session, password_stamp
from monitor.console.views import bulletins, findings, login, newmedia, overview, runs, units, users
from monitor.core.clock import Clock
from monitor.core.textsafe import inert, inert_markup
from monitor.core.urls import scheme_of
from monitor.store import triage

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = Path(__file__).with_name("static")

#: Pages anyone may open: the login form and the stylesheet.
PUBLIC = {"login", "login_submit", "static"}

SECURITY_HEADERS = {
    # No inline script anywhere; styles from the console's own stylesheet and SVG presentation only.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

_UNSAFE_IN_URL = re.compile(
    r"[\x00-\x20\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\"'<>`]"
)


def safe_href(url: Any) -> str | None:
    """A crawled URL as a link target: only http(s) (as a browser would parse it), with whitespace,
    controls and direction marks percent-encoded; None for anything else (``javascript:``, ``data:``…)."""
    if not isinstance(url, str) or not url:
        return None
    if scheme_of(url) not in ("http", "https") or scheme_of(url, as_parsed=True) not in ("http", "https"):
        return None
    return _UNSAFE_IN_URL.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), url)


def _short_time(value: Any) -> str:
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return inert(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "—" if value in (None, "") else str(value)


def _day(value: Any) -> str:
    text = _short_time(value)
    return text.split(" ", 1)[0]


def templates() -> jinja2.Environment:
    """The page templates: autoescaped, and every value made inert first (crawled text is data)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.console", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=inert_markup,
    )
    env.filters.update(
        href=safe_href,
        when=_short_time,
        day=_day,
        severity=labels.severity_label,
        status=labels.status_label,
        event=labels.event_label,
        run_status=labels.run_status_label,
        duty=labels.duty_label,
        run_duty=labels.run_duty_label,
    )
    env.globals.update(
        problem=labels.problem_label,
        SEVERITIES=labels.SEVERITY_CHOICES,
        STATUSES=labels.STATUS_LABELS,
        RECHECK_STATES=labels.RECHECK_STATE_LABELS,
        RECHECK_OUTCOMES=labels.RECHECK_OUTCOME_LABELS,
        TARGET_STATES=labels.TARGET_STATE_LABELS,
        CSRF_FIELD=FIELD,
    )
    return env


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every response, error pages included, carries the security headers and is never cached."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        exc.headers.setdefault("Cache-Control", "no-store")
        raise
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404, 403, 400 and unexpected errors as Chinese pages (never a traceback)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (400, 403, 404, 405, 429):
            reason = exc.text if exc.text and not exc.text.isascii() else ""  # our own Chinese texts only
            return render(request, "error.html", status=exc.status, code=exc.status, reason=reason)
        raise
    except Exception:
        log.exception("console: error on %s %s", request.method, request.path)
        return render(request, "error.html", status=500, code=500, reason="")


def _set_cookie(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    st: ConsoleState = request.app[STATE]
    mode = st.config.console.secure_cookies
    secure = mode == "always" or (mode == "auto" and request[ORIGIN].https)
    response.set_cookie(
        COOKIE,
        st.codec.dumps(session),
        path=st.base_path or "/",
        httponly=True,
        samesite="Lax",
        secure=secure,
        max_age=st.codec.max_age,
    )


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The client's origin, the session from its cookie and the logged-in account; the login page for
    everyone else; CSRF checked on every POST."""
    st: ConsoleState = request.app[STATE]
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport else None
    request[ORIGIN] = st.proxies.origin(
        peer[0] if peer else None,
        request.secure,
        request.headers.get("X-Forwarded-For"),
        request.headers.get("X-Forwarded-Proto"),
    )
    session = st.codec.loads(request.cookies.get(COOKIE))
    fresh = session is None
    if session is None:
        session = new_session()
    request[SESSION] = session
    if session.user:
        user = await st.reader(triage.get_user, session.user)
        if user is not None and not user.disabled and password_stamp(user.password_hash) == session.stamp:
            request[PRINCIPAL] = Principal(user.username, user.role, user.unit)
    resource = request.match_info.route.resource
    route = resource.name if resource is not None else None
    if request.method == "POST" and not csrf_ok(session, (await request.post()).get(FIELD)):  # type: ignore[arg-type]
        raise web.HTTPForbidden(text="表单已过期或来源不明（缺少有效的CSRF令牌），请返回页面刷新后重试。")
    if route not in PUBLIC and PRINCIPAL not in request:
        if request.method != "GET":
            raise web.HTTPForbidden(text="请先登录。")
        target = request.path_qs
        raise web.HTTPSeeOther(location=st.url("/login") + "?" + _next_query(target))
    response = await handler(request)
    new = request.get(NEW_SESSION)
    if isinstance(new, Session):
        _set_cookie(request, response, new)
    elif fresh:
        _set_cookie(request, response, session)
    return response


def _next_query(target: str) -> str:
    from monitor.core.urls import percent_encode

    return "next=" + percent_encode(target, safe="")


def create_app(
    config: Config, database: Path, clock: Clock, *, secret: bytes | None = None
) -> web.Application:
    """The console application for ``database`` (migrated and present: :func:`monitor.console.serve`
    opens it once before)."""
    console = config.console
    if secret is None:
        secret = load_secret(secret_path(config, database))
    st = ConsoleState(
        config=config,
        database=database,
        clock=clock,
        reader=Reader(database, config.storage),
        writer=Writer(database, config.storage),
        codec=SessionCodec(secret, console.session_hours * 3600),
        limiter=LoginLimiter(console.login_max_failures, console.login_window_seconds),
        proxies=TrustedProxies(console.trusted_proxies),
        templates=templates(),
        base_path=console.base_path,
    )
    inner = web.Application(middlewares=[security_headers, error_pages, sessions], client_max_size=256 * 1024)
    inner[STATE] = st
    add_routes(inner)

    async def _close(_app: web.Application) -> None:
        st.reader.close()
        st.writer.close()

    inner.on_cleanup.append(_close)
    if not console.base_path:
        return inner
    outer = web.Application(middlewares=[security_headers])
    outer.add_subapp(console.base_path, inner)

    async def _to_console(request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther(location=console.base_path + "/")

    outer.router.add_get("/", _to_console)
    return outer


def secret_path(config: Config, database: Path) -> Path:
    """Where the session secret lives: ``console.secret_file``, else the state directory, else beside the
    database."""
    if config.console.secret_file:
        return config.resolve_path(config.console.secret_file)
    folder = Path(config.state_dir) if config.state_dir else database.parent
    return folder / "console-secret"


def add_routes(app: web.Application) -> None:
    """Every page and action of the console."""
    r = app.router
    r.add_get("/login", login.login_page, name="login")
    r.add_post("/login", login.login_submit, name="login_submit")
    r.add_post("/logout", login.logout, name="logout")
    r.add_get("/", overview.overview_page, name="overview")
    r.add_get("/findings", findings.list_page, name="findings")
    r.add_get("/findings/{fp:[0-9a-f]{8,64}}", findings.detail_page, name="finding")
    r.add_get("/findings/{fp:[0-9a-f]{8,64}}/evidence/{name}", findings.evidence_file, name="evidence")
    for action in findings.ACTIONS:
        r.add_post(f"/findings/{{fp:[0-9a-f]{{8,64}}}}/{action}", findings.action, name=f"act_{action}")
    r.add_get("/units", units.units_page, name="units")
    r.add_get("/units/{unit}", units.unit_page, name="unit")
    r.add_get("/runs", runs.runs_page, name="runs")
    r.add_get("/bulletins", bulletins.archive_page, name="bulletins")
    r.add_get("/bulletins/{week}/{name}", bulletins.download, name="bulletin_file")
    r.add_get("/newmedia", newmedia.newmedia_page, name="newmedia")
    r.add_get("/users", users.users_page, name="users")
    r.add_post("/users", users.add_user, name="users_add")
    r.add_post("/users/{name}/{change:disable|enable|password}", users.change_user, name="users_change")
    r.add_static("/static", STATIC, name="static", append_version=True)
