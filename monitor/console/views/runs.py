"""Runs and duty status: the latest run of every duty and site, and the recent runs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.console.context import render, state
from monitor.store.database import Store

RECENT = 100


def _runs(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return store.latest_runs(), store.runs(limit=RECENT)


async def runs_page(request: web.Request) -> web.Response:
    """Duty status and the recent runs."""
    st = state(request)
    latest, recent = await st.reader(_runs)
    site_names = {s.id: s.name for s in st.config.sites}
    return render(request, "runs.html", latest=latest, recent=recent, site_names=site_names)
