"""Units: the list of units with their open problems, and one unit's page — exactly what that
department must fix (printable)."""

from __future__ import annotations

from aiohttp import web

from monitor.console.context import principal, redirect, render, state
from monitor.core.urls import percent_encode
from monitor.store import triage

UNIT_PAGE_MAX = 200


async def units_page(request: web.Request) -> web.Response:
    """Every unit with its open problems (a department account goes straight to its own unit)."""
    st = state(request)
    who = principal(request)
    if who.scope is not None:
        return redirect(st.url("/units/" + percent_encode(who.unit or "", safe="")))
    ov = await st.reader(triage.overview, st.clock.now(), None)
    configured = {u.name: u for u in st.config.units}
    counts = dict(ov.open_by_unit)
    names = list(dict.fromkeys([*counts, *configured]))
    rows = [
        (name, counts.get(name, 0), configured[name].kind if name in configured else "") for name in names
    ]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return render(request, "units.html", rows=rows, enc=lambda s: percent_encode(s, safe=""))


async def unit_page(request: web.Request) -> web.Response:
    """One unit's open problems, most serious first, with deadlines: the page a department prints."""
    st = state(request)
    who = principal(request)
    unit = request.match_info["unit"]
    if not who.sees_unit(unit):
        raise web.HTTPNotFound(text="没有这个单位，或不在您的范围内。")
    now = st.clock.now()
    q = triage.FindingQuery(
        unit=unit, status="open", units=who.scope, sort="severity", page=1, per_page=UNIT_PAGE_MAX
    )
    page = await st.reader(triage.list_findings, q, now)
    overdue = sum(1 for r in page.rows if r.overdue)
    return render(
        request,
        "unit.html",
        unit=unit,
        page=page,
        overdue=overdue,
        now=now,
        site_names={s.id: s.name for s in st.config.sites},
        enc=lambda s: percent_encode(s, safe=""),
    )
