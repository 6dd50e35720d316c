"""What every handler shares: the console's state on the application, rendering, URLs and scope checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from monitor.config import Config
from monitor.console.auth import LoginLimiter, Principal
from monitor.console.data import Reader, Writer
from monitor.console.proxy import Origin, TrustedProxies
from monitor.console.session import Session, SessionCodec
from monitor.core.clock import Clock


@dataclass
class ConsoleState:
    """Everything the handlers need, kept on the application under :data:`STATE`."""

    config: Config
    database: Path
    clock: Clock
    reader: Reader
    writer: Writer
    codec: SessionCodec
    limiter: LoginLimiter
    proxies: TrustedProxies
    templates: jinja2.Environment
    base_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """An absolute path inside the console (``/findings`` → ``/monitor/findings`` under a sub-path)."""
        return self.base_path + path


STATE: web.AppKey[ConsoleState] = web.AppKey("console_state", ConsoleState)
#: What the middlewares learn about a request, for the handlers.
ORIGIN: web.RequestKey[Origin] = web.RequestKey("console_origin", Origin)
SESSION: web.RequestKey[Session] = web.RequestKey("console_session", Session)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("console_principal", Principal)
#: A session a handler started or ended (login, logout): the middleware sets its cookie.
NEW_SESSION: web.RequestKey[Session] = web.RequestKey("console_new_session", Session)

#: Fixed notices shown after an action (the redirect names one by its code; nothing the user typed is
#: reflected into the page through the URL).
NOTICES = {
    "ignored": "已标记为误报，原因已记入处理记录。",
    "unignored": "已撤销误报，问题重新计入待整改。",
    "assigned": "已转交单位，处理记录已更新。",
    "deadline": "整改时限已设定。",
    "recheck": "已申请复核：监测将尽快重新检查该问题，结果记入处理记录。",
    "user_added": "账号已创建。",
    "user_changed": "账号已更新。",
    "logged_out": "已退出登录。",
}


def state(request: web.Request) -> ConsoleState:
    """The console's state."""
    return request.app[STATE]


def principal(request: web.Request) -> Principal:
    """The logged-in account (the auth middleware guarantees one on every non-public page)."""
    who = request.get(PRINCIPAL)
    if not isinstance(who, Principal):
        raise web.HTTPForbidden()
    return who


def session_of(request: web.Request) -> Session | None:
    """The request's session (None before the first visit)."""
    value = request.get(SESSION)
    return value if isinstance(value, Session) else None


def origin(request: web.Request) -> Origin:
    """Client address and scheme as far as the console believes them."""
    value = request.get(ORIGIN)
    assert isinstance(value, Origin)
    return value


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """Render a page with the values every page has (account, CSRF token, URLs, notice)."""
    st = state(request)
    session = session_of(request)
    notice = NOTICES.get(request.query.get("done", ""))
    html = st.templates.get_template(template).render(
        url=st.url,
        me=request.get(PRINCIPAL),
        csrf=session.csrf if session else "",
        notice=notice,
        path=request.path,
        query=request.query,
        **values,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    """A 303 to ``location`` (already a full console path), returned (not raised) so the session
    middleware can still set the cookie on it."""
    return web.Response(status=303, headers={"Location": location})


def see_other(request: web.Request, path: str) -> web.Response:
    """The redirect after a form (303: the browser GETs the page) to a console path."""
    return redirect(state(request).url(path))
