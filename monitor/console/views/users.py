"""Accounts (admin only): list, add, disable or enable, set a new password."""

from __future__ import annotations

from aiohttp import web

from monitor.console.accounts import AccountError, check_account, create_account
from monitor.console.auth import ROLE_LABELS, ROLES, hash_password
from monitor.console.context import principal, render, see_other, state
from monitor.store import triage

_ERRORS_ZH = {
    "user name": "用户名须为2–64位字母、数字或 . _ @ -，以字母或数字开头。",
    "role": "请选择角色。",
    "a department": "部门账号须指定所属单位。",
    "only a department": "只有部门账号才有所属单位。",
    "password too short": "密码太短：至少10个字符。",
    "exists": "该用户名已存在。",
}


def _zh(exc: AccountError) -> str:
    text = str(exc)
    for key, zh in _ERRORS_ZH.items():
        if text.startswith(key) or key in text:
            return zh
    return "账号信息不正确。"


def _admin(request: web.Request) -> None:
    if not principal(request).is_admin:
        raise web.HTTPForbidden(text="只有系统管理员可以管理账号。")


async def users_page(request: web.Request, problem: str = "") -> web.Response:
    """The accounts and the form to add one."""
    _admin(request)
    st = state(request)
    accounts = await st.reader(triage.list_users)
    units = [u.name for u in st.config.units] or await st.reader(triage.unit_names)
    return render(
        request,
        "users.html",
        status=400 if problem else 200,
        accounts=accounts,
        roles=[(r, ROLE_LABELS[r]) for r in ROLES],
        units=units,
        error=problem,
    )


async def add_user(request: web.Request) -> web.Response:
    """Add an account."""
    _admin(request)
    st = state(request)
    form = await request.post()
    role = str(form.get("role", ""))
    unit = str(form.get("unit", "")).strip() if role == "department" else ""
    try:
        await st.writer(
            create_account,
            str(form.get("username", "")).strip(),
            role,
            unit or None,
            str(form.get("password", "")),
            st.clock.now(),
        )
    except AccountError as exc:
        return await users_page(request, _zh(exc))
    return see_other(request, "/users?done=user_added")


async def change_user(request: web.Request) -> web.Response:
    """Disable, enable or set a new password for an account (its sessions end with the change)."""
    _admin(request)
    st = state(request)
    name = request.match_info["name"]
    change = request.match_info["change"]
    if await st.reader(triage.get_user, name) is None:
        raise web.HTTPNotFound(text="没有这个账号。")
    now = st.clock.now()
    if change == "password":
        password = str((await request.post()).get("password", ""))
        try:
            check_account("placeholder", "readonly", None, password)
        except AccountError as exc:
            return await users_page(request, _zh(exc))
        await st.writer(triage.set_password_hash, name, hash_password(password), now)
    else:
        if name == principal(request).username:
            return await users_page(request, "不能停用自己的账号。")
        await st.writer(triage.set_disabled, name, change == "disable")
    return see_other(request, "/users?done=user_changed")
