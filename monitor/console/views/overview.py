"""The overview: open problems by unit and by type, veto items, the weekly trend, sites up or down."""

from __future__ import annotations

from aiohttp import web

from monitor.console.charts import grouped_bars
from monitor.console.context import principal, render, state
from monitor.console.labels import problem_label
from monitor.store import triage


def problem_types(by_kind: list[tuple[str, str, int]]) -> list[tuple[str, str, str | None, int]]:
    """Open findings by (duty, 问题类型): kinds a family labels alike (the identity checks' several
    网站标识不规范 kinds) are one row; ``kind`` is None for such a row (the link filters by duty)."""
    rows: dict[tuple[str, str], tuple[str | None, int]] = {}
    for duty, kind, n in by_kind:
        key = (duty, problem_label(duty, kind))
        if key in rows:
            rows[key] = (None, rows[key][1] + n)
        else:
            rows[key] = (kind, n)
    out = [(duty, label, kind, n) for (duty, label), (kind, n) in rows.items()]
    return sorted(out, key=lambda r: (-r[3], r[1]))


async def overview_page(request: web.Request) -> web.Response:
    """The overview page (a department account sees its own unit's figures)."""
    st = state(request)
    who = principal(request)
    ov = await st.reader(triage.overview, st.clock.now(), who.scope)
    weeks = list(ov.weeks)
    labels = [w.iso_week.split("-")[-1] for w in weeks]
    chart = grouped_bars(
        labels, [("opened", [w.opened for w in weeks]), ("resolved", [w.resolved for w in weeks])]
    )
    # The backlog has its own scale: drawn over the weekly bars it would flatten them.
    backlog = grouped_bars(labels, [], line=[w.open_at_end for w in weeks], height=160)
    top_units = list(ov.open_by_unit)
    unit_max = max([n for _, n in top_units] + [1])
    site_names = {s.id: s.name for s in st.config.sites}
    return render(
        request,
        "overview.html",
        ov=ov,
        chart=chart,
        backlog=backlog,
        types=problem_types(ov.open_by_kind),
        weeks=weeks,
        unit_max=unit_max,
        site_names=site_names,
        total_open=ov.open_total,
    )
