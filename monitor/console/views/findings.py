"""The findings list (filters, sorting, pages), a finding's page (evidence, history) and its actions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from monitor.console.auth import Principal
from monitor.console.context import principal, render, see_other, state
from monitor.core.findings import Severity
from monitor.core.urls import percent_encode
from monitor.store import triage
from monitor.store.evidence import is_evidence_name

SORTS = {
    "severity": "严重程度",
    "first_seen": "首次发现",
    "last_seen": "最近发现",
    "deadline": "整改时限",
    "site": "网站",
    "unit": "单位",
    "kind": "问题类型",
}
#: Each sort's natural direction (most serious, newest first; the nearest deadline, names A→Z);
#: the list's 倒序 box reverses it.
NATURAL_DESC = {"severity": True, "first_seen": True, "last_seen": True}
STATUS_FILTERS = ("open", "recheck", "resolved", "ignored")
#: The form fields that filter the list (kept across sorting and pages).
FILTER_FIELDS = ("site", "unit", "duty", "kind", "severity", "status", "overdue", "q", "sort", "desc")
SEVERITIES = frozenset(s.value for s in Severity)
ACTIONS = ("ignore", "unignore", "assign", "deadline", "recheck")
REASON_MAX = 500


def _text(query: Any, name: str, limit: int = 200) -> str | None:
    value = str(query.get(name, "")).strip()[:limit]
    return value or None


def query_from(request: web.Request, who: Principal, *, unit: str | None = None) -> triage.FindingQuery:
    """The findings query of the list's form; a department account is held to its unit whatever it asks."""
    q = request.query
    status = _text(q, "status")
    sort = _text(q, "sort")
    try:
        page = max(1, min(int(q.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    kind = _text(q, "kind")
    duty = _text(q, "duty")
    if kind and ":" in kind:  # the kind selector sends duty:kind
        duty, kind = kind.split(":", 1)
    severity = _text(q, "severity")
    return triage.FindingQuery(
        site=_text(q, "site"),
        unit=unit if unit is not None else _text(q, "unit"),
        duty=duty,
        kind=kind,
        severity=severity if severity in SEVERITIES else None,
        status=status if status in STATUS_FILTERS else ("open" if "status" not in q else None),
        overdue=q.get("overdue") == "1",
        text=_text(q, "q"),
        units=who.scope,
        sort=sort if sort in SORTS else "severity",
        descending=NATURAL_DESC.get(sort if sort in SORTS else "severity", False) != (q.get("desc") == "1"),
        page=page,
        per_page=state(request).config.console.per_page,
    )


def link_with(request: web.Request, **changes: Any) -> str:
    """The list's address with some parameters changed (the rest of the filters kept)."""
    params = {k: request.query[k] for k in FILTER_FIELDS if request.query.get(k)}
    if "status" in request.query and not request.query.get("status"):
        params["status"] = ""
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    text = "&".join(f"{percent_encode(k, safe='')}={percent_encode(v, safe='')}" for k, v in params.items())
    return state(request).url("/findings") + ("?" + text if text else "")


async def list_page(request: web.Request) -> web.Response:
    """The findings list."""
    st = state(request)
    who = principal(request)
    fq = query_from(request, who)
    now = st.clock.now()
    page = await st.reader(triage.list_findings, fq, now)
    unit_names = await st.reader(triage.unit_names, who.scope)
    kinds = await st.reader(triage.kinds_present, who.scope)
    pages = max(1, -(-page.total // page.per_page))
    reversed_ = request.query.get("desc") == "1"
    return render(
        request,
        "findings.html",
        page=page,
        pages=pages,
        fq=fq,
        sorts=SORTS,
        reversed=reversed_,
        sites=[(s.id, s.name) for s in st.config.sites],
        site_names={s.id: s.name for s in st.config.sites},
        unit_names=unit_names,
        kinds=kinds,
        link=lambda **kw: link_with(request, **kw),
    )


async def _detail_or_404(request: web.Request) -> tuple[Principal, Any]:
    st = state(request)
    who = principal(request)
    detail = await st.reader(triage.finding_detail, request.match_info["fp"], st.clock.now(), units=who.scope)
    # Another unit's finding is "not found" for a department account: its existence is not disclosed.
    if detail is None or not who.sees_unit(detail.row.unit):
        raise web.HTTPNotFound(text="没有这个问题，或不在您的单位范围内。")
    return who, detail


async def detail_page(request: web.Request) -> web.Response:
    """One finding: what, where, evidence, history, and the actions this account may take."""
    return await _detail(request)


async def _detail(request: web.Request, problem: str = "") -> web.Response:
    st = state(request)
    _who, detail = await _detail_or_404(request)
    shots = [
        e
        for e in (detail.evidence or {}).get("screenshots", [])
        if isinstance(e, dict) and is_evidence_name(e.get("file"))
    ]
    missing = [
        e
        for e in (detail.evidence or {}).get("screenshots", [])
        if isinstance(e, dict) and not is_evidence_name(e.get("file"))
    ]
    facts = [
        (str(k), v)
        for k, v in (detail.evidence or {}).items()
        if k != "screenshots" and isinstance(v, (str, int, float)) and not isinstance(v, bool)
    ]
    units = [u.name for u in st.config.units] or await st.reader(triage.unit_names)
    today = st.clock.now().date()
    return render(
        request,
        "finding.html",
        status=400 if problem else 200,
        error=problem,
        site_names={s.id: s.name for s in st.config.sites},
        d=detail,
        f=detail.row,
        shots=shots,
        missing_shots=missing,
        facts=facts,
        units=units,
        today=today,
        default_deadline=(today + timedelta(days=7)).isoformat(),
    )


async def evidence_file(request: web.Request) -> web.StreamResponse:
    """A screenshot of a finding this account may see, by its hash name only (never a path)."""
    st = state(request)
    _who, detail = await _detail_or_404(request)
    name = request.match_info["name"]
    listed = {e.get("file") for e in (detail.evidence or {}).get("screenshots", []) if isinstance(e, dict)}
    folder = st.database.with_name(st.database.name + ".evidence")
    if not is_evidence_name(name) or name not in listed or not (folder / name).is_file():
        raise web.HTTPNotFound(text="没有这张截图。")
    return web.FileResponse(folder / name, headers={"Content-Type": "image/png"})


async def action(request: web.Request) -> web.Response:
    """An action on a finding (POST with a reason); recorded as an event with the account's name."""
    st = state(request)
    who, detail = await _detail_or_404(request)
    name = request.path.rsplit("/", 1)[-1]
    form = await request.post()
    reason = str(form.get("reason", "")).strip()[:REASON_MAX]
    fp = detail.row.fingerprint
    if not who.can_act:
        raise web.HTTPForbidden(text="只读账号不能处理问题。")
    problem = ""
    if not reason:
        problem = "请填写原因（将记入处理记录）。"
    now = st.clock.now()
    try:
        if problem:
            pass
        elif name == "ignore":
            await st.writer(triage.mark_false_positive, fp, reason, who.username, now, units=who.scope)
        elif name == "unignore":
            await st.writer(triage.undo_false_positive, fp, reason, who.username, now, units=who.scope)
        elif name == "assign":
            unit = str(form.get("unit", "")).strip()[:100]
            if not who.can_assign:
                raise web.HTTPForbidden(text="部门账号不能把问题转交其他单位。")
            if not unit:
                problem = "请选择要转交的单位。"
            else:
                await st.writer(triage.assign_unit, fp, unit, reason, who.username, now, units=who.scope)
        elif name == "deadline":
            try:
                deadline = date.fromisoformat(str(form.get("deadline", "")))
            except ValueError:
                problem = "整改时限日期无效，请按“年-月-日”填写。"
            else:
                if deadline < now.date():
                    problem = "整改时限不能早于今天。"
                else:
                    await st.writer(
                        triage.set_deadline, fp, deadline, reason, who.username, now, units=who.scope
                    )
        elif name == "recheck":
            await st.writer(triage.request_recheck, fp, reason, who.username, now, units=who.scope)
        else:
            raise web.HTTPNotFound()
    except ValueError as exc:  # the store's refusal, in Chinese (e.g. already 误报)
        problem = str(exc)
    except KeyError:
        raise web.HTTPNotFound(text="没有这个问题。") from None
    if problem:
        return await _detail(request, problem)
    done = {"ignore": "ignored", "unignore": "unignored", "assign": "assigned"}.get(name, name)
    return see_other(request, f"/findings/{fp}?done={done}")
