"""One tenant's share of the store: the findings and run reports a tenant's bulletin may show (issue 24).

A province-wide installation keeps every city's and county's findings in one store. A tenant's bulletin
must show only its own sites, units and new-media accounts, so the rows the model reads are narrowed here,
before anything is counted:

- findings and runs of the tenant's own sites are kept; those of another tenant's sites are dropped;
- a duty that runs once for the whole configuration (``newmedia``: its runs and findings carry the duty's
  name as their site) is narrowed to the tenant's accounts: its findings by the account they are about,
  its run report's indicators, census rows and verdict tally to those accounts.

Nothing here depends on the store's backend: it filters the rows the store hands back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from monitor.config import Config
from monitor.core.report import RunReport


@dataclass(frozen=True)
class TenantScope:
    """Which sites and accounts belong to one tenant, and which sites belong to another."""

    id: str
    name: str
    level: str  # county / city / district
    sites: frozenset[str]
    accounts: frozenset[str]
    other_sites: frozenset[str]

    @classmethod
    def of(cls, config: Config, tenant_id: str) -> TenantScope:
        """The scope of tenant ``tenant_id`` of the whole (not narrowed) configuration."""
        tenant = config.tenant(tenant_id)
        mine = frozenset(config.tenant_site_ids(tenant_id))
        return cls(
            id=tenant.id,
            name=tenant.name,
            level=tenant.level,
            sites=mine,
            accounts=frozenset(config.tenant_account_ids(tenant_id)),
            other_sites=frozenset(s.id for s in config.sites) - mine,
        )

    def owns_finding(self, row: dict[str, Any]) -> bool:
        """A finding of one of the tenant's sites, or of a whole-config duty about one of its accounts."""
        site = row["site"]
        if site in self.sites:
            return True
        if site in self.other_sites:
            return False
        evidence = row.get("evidence")
        account = evidence.get("account") if isinstance(evidence, dict) else None
        if not account:  # the newmedia identity is "<account id>" or "<account id>/<month>"
            account = str(row.get("identity") or "").split("/", 1)[0]
        return account in self.accounts

    def findings(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The tenant's findings among ``rows``."""
        return [r for r in rows if self.owns_finding(r)]

    def runs(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The runs of the tenant's sites as they are, whole-config runs narrowed to its accounts, and
        nothing of another tenant's sites."""
        out = []
        for run in rows:
            if run["site"] in self.sites:
                out.append(run)
            elif run["site"] not in self.other_sites and self.accounts:
                # A whole-config run (new media) concerns a tenant only through its accounts: for a tenant
                # without any, the duty did not run (its bulletin says 未开展, never "no problems").
                out.append({**run, "report": self.narrow_report(run["report"])})
        return out

    def narrow_report(self, report: RunReport) -> RunReport:
        """A whole-config run's report as far as it concerns the tenant: its accounts' indicators and census
        rows, its own sites' column rows, and the verdict tally of its accounts only."""
        figures = dict(report.figures)
        accounts = None
        if report.accounts is not None:
            accounts = [a for a in report.accounts if a.id in self.accounts]
            figures["verdicts"] = dict(Counter(str(a.verdict) for a in accounts if a.verdict))
            figures["accounts_checked"] = len(accounts)
            if "manual" in figures:
                figures["manual"] = sum(1 for a in accounts if a.source == "manual")
        columns = None
        if report.columns is not None:
            columns = [c for c in report.columns if c.site in self.sites]
        subjects = self.accounts | self.sites
        return replace(
            report,
            figures=figures,
            indicators=[s for s in report.indicators if s.subject in subjects],
            accounts=accounts,
            columns=columns,
        )
