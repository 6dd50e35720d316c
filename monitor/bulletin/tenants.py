"""Tenants' bulletins (issue 24): one bulletin per city or county, from its own rows only.

:func:`render_tenant` narrows the configuration to the tenant (its sites, units, accounts and bulletin
options, reports under ``reports/<tenant id>/``) and the store's rows to its scope, then renders exactly
as a single county's bulletin is rendered; :func:`send_report` then mails it to the tenant's own
recipients under the tenant's own outbox key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.config import Config
from monitor.core.clock import Clock
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store

from .publish import Report, render_report, week_without_data
from .scope import TenantScope


@dataclass
class TenantReport:
    """A tenant's rendered bulletin, the configuration narrowed to it, and why its week has no data."""

    tenant: str
    config: Config
    report: Report
    empty: str | None


def tenant_week_without_data(store: Store, config: Config, tenant_id: str, week: IsoWeek) -> str | None:
    """Why the tenant's ``week`` has nothing to report (no duty completed a run on its sites), or None."""
    return week_without_data(store, config.for_tenant(tenant_id), week, TenantScope.of(config, tenant_id))


def render_tenant(
    store: Store,
    config: Config,
    tenant_id: str,
    week: IsoWeek,
    clock: Clock,
    reports_dir: Path | None = None,
) -> TenantReport:
    """Render tenant ``tenant_id``'s bulletin for ``week`` into ``<reports>/<tenant id>/<week>/``.

    ``config`` is the whole configuration; ``reports_dir`` (``--output-dir``) replaces the configured
    reports folder, the tenant's folder inside it.
    """
    narrowed = config.for_tenant(tenant_id)
    scope = TenantScope.of(config, tenant_id)
    empty = week_without_data(store, narrowed, week, scope)
    folder = reports_dir / tenant_id if reports_dir is not None else None
    report = render_report(store, narrowed, week, clock, folder, scope)
    return TenantReport(tenant_id, narrowed, report, empty)
