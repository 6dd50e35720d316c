"""Logging in and out."""

from __future__ import annotations

from aiohttp import web

from monitor.console import auth
from monitor.console.context import NEW_SESSION, origin, redirect, render, state
from monitor.console.session import new_session, password_stamp
from monitor.store import triage


def _safe_next(base: str, target: str | None) -> str:
    """Where to go after login: a path inside the console only (never another site, never ``//host``)."""
    if not target or not target.startswith(base + "/") or target.startswith("//") or "\\" in target:
        return base + "/"
    return target


async def login_page(request: web.Request) -> web.Response:
    """The login form."""
    st = state(request)
    return render(request, "login.html", next=_safe_next(st.base_path, request.query.get("next")), error="")


async def login_submit(request: web.Request) -> web.StreamResponse:
    """Check the password (rate-limited per user name and per client address) and start a session."""
    st = state(request)
    form = await request.post()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(st.base_path, str(form.get("next", "")))
    address = origin(request).address
    wait = st.limiter.wait_seconds(username, address)
    if wait > 0:
        minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
        return render(
            request, "login.html", status=429, next=target, error=f"登录失败次数过多，请{minutes}分钟后再试。"
        )
    user = await st.reader(triage.get_user, username) if username else None
    ok = auth.verify_or_waste(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        st.limiter.failed(username, address)
        return render(
            request, "login.html", status=401, next=target, error="用户名或密码不正确，或账号已停用。"
        )
    st.limiter.succeeded(username)
    now = st.clock.now()
    if auth.needs_rehash(user.password_hash):
        await st.writer(triage.set_password_hash, user.username, auth.hash_password(password), now)
        user = await st.reader(triage.get_user, user.username) or user
    await st.writer(triage.record_login, user.username, now)
    request[NEW_SESSION] = new_session(user.username, password_stamp(user.password_hash))
    return redirect(target)


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (a fresh anonymous one replaces it)."""
    request[NEW_SESSION] = new_session()
    return redirect(state(request).url("/login?done=logged_out"))
