"""The province-wide summary (省级汇总, issue 24): one document a week ranking the tenants (cities, counties).

Each tenant's figures are read from the same model as its own bulletin (:func:`build_bulletin` on the
configuration narrowed to it), so the summary and the tenant's bulletin never disagree. Per tenant:
websites and accounts monitored, websites that could not be reached (now and at any time in the week),
不合格 websites (a 单项否决 indicator failed), open 单项否决 and 扣分 problems, open problems per website,
整改率 (the share of the problems open at the start of the week that were fixed during it), overdue
problems, and accounts failing the freshness rule (新媒体不更新).

Ranking rule (排名规则, printed in the document):

1. fewer open 单项否决 problems first;
2. then fewer open problems per website;
3. then the higher 整改率 (a tenant with nothing open at the start of the week counts as 100%);
4. then fewer overdue problems.

Tenants equal on all four share a rank (1, 1, 3). A tenant in which no duty completed a run during the week
has no figures to compare: it is listed after the ranked ones, marked 本周无监测数据, and not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.config import Config, Province
from monitor.core.clock import Clock
from monitor.core.findings import Severity
from monitor.core.indicators import Indicator, Verdict
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store

from .model import Bulletin, Problem, build_bulletin, cn_date
from .publish import week_without_data
from .scope import TenantScope

#: The finding kinds that mean "this website (or one of its key pages) cannot be reached".
DOWN_KINDS = frozenset({"target_down"})
#: Also counted as "could not be reached this week": the rolling failure share over the veto line.
DOWN_WEEK_KINDS = DOWN_KINDS | {"availability_ratio"}
LEVEL_ZH = {"county": "县", "city": "市", "district": "区"}
#: 单项否决 problems listed per tenant in section 三 (the workbook lists them all).
LISTED_VETO_PER_TENANT = 10
RANKING_RULE = (
    "排名规则：先比待整改单项否决问题数（少者在前），再比平均每个网站待整改问题数（少者在前），"
    "再比整改率（上周末待整改问题本周已整改的比例，高者在前；上周末无待整改问题的按100%计），"
    "再比逾期问题数（少者在前）；以上各项均相同的并列。本周无监测数据的地区不参与排名。"
)
DEFAULT_REQUIREMENTS = (
    "各地要对照本地区周通报及问题清单，逐项核查整改单项否决问题，整改情况于下周通报前报送{issuer}。",
    "排名靠后和整改率偏低的地区，要认真分析原因，压实网站主管主办单位责任，加强日常巡查和内容保障。",
    "本周无法访问或无监测数据的地区，要及时核实网站运行状况和监测服务运行情况，确保监测持续有效。",
)


@dataclass
class TenantFigures:
    """One tenant's line of the summary."""

    tenant: str  # id
    name: str
    level_zh: str
    sites: int
    accounts: int
    sites_down_now: int
    sites_down_week: int
    sites_failing: int  # websites with a failed 单项否决 indicator (不合格)
    accounts_failing: int  # accounts failing the freshness rule (新媒体不更新, 僵尸账号)
    veto: int  # open 单项否决 problems
    deduction: int  # open 扣分 problems
    open: int
    overdue: int
    new: int
    fixed: int
    carried: int  # problems open at the start of the week (found before it)
    carried_fixed: int  # of those, fixed during the week
    has_data: bool
    failing_names: list[str] = field(default_factory=list)  # 不合格 websites and accounts, by name
    veto_problems: list[Problem] = field(default_factory=list)
    rank: int | None = None

    @property
    def per_site(self) -> float:
        """Open problems per monitored website (0 without websites)."""
        return self.open / self.sites if self.sites else 0.0

    @property
    def rectification_rate(self) -> float | None:
        """整改率: fixed during the week / open at its start; None when nothing was open at its start."""
        return self.carried_fixed / self.carried if self.carried else None

    @property
    def rate_zh(self) -> str:
        """整改率 as the document shows it: ``75.0%``, or ``—（无上周遗留问题）``."""
        rate = self.rectification_rate
        return "—（无遗留问题）" if rate is None else f"{rate * 100:.1f}%"

    def sort_key(self) -> tuple[int, float, float, int]:
        """The ranking rule's key (smaller is better); see the module docstring."""
        rate = self.rectification_rate
        return (self.veto, round(self.per_site, 6), -(1.0 if rate is None else rate), self.overdue)


@dataclass
class ProvinceSummary:
    """Everything the province summary shows."""

    week: IsoWeek
    province: str
    title: str
    issue_number: str
    issuer: str
    addressees: str
    basis: str
    contact: str | None
    start: datetime
    as_of: datetime
    incomplete: bool
    issued: date
    rows: list[TenantFigures]
    requirements: list[str]
    ranking_rule: str = RANKING_RULE

    @property
    def period_zh(self) -> str:
        """``2026年11月23日至2026年11月29日``."""
        return f"{cn_date(self.start.date())}至{cn_date(self.week.sunday)}"

    @property
    def ranked(self) -> list[TenantFigures]:
        """Tenants with data, best first."""
        return [r for r in self.rows if r.rank is not None]

    @property
    def unranked(self) -> list[TenantFigures]:
        """Tenants without data this week."""
        return [r for r in self.rows if r.rank is None]

    def total(self, name: str) -> int:
        """A figure added up over every tenant."""
        return sum(int(getattr(r, name)) for r in self.rows)

    @property
    def failing_names(self) -> list[str]:
        """Every 不合格 website and account, with its tenant: ``示例县：示例县教育局网站``."""
        return [f"{r.name}：{n}" for r in self.rows for n in r.failing_names]

    @property
    def pass_rate_zh(self) -> str:
        """网站合格率 over the monitored websites of the tenants with data."""
        sites = sum(r.sites for r in self.ranked)
        if not sites:
            return "—"
        return f"{(sites - sum(r.sites_failing for r in self.ranked)) * 100 / sites:.1f}%"


def tenant_figures(b: Bulletin, config: Config, tenant_id: str, has_data: bool) -> TenantFigures:
    """One tenant's figures from its bulletin; ``config`` is narrowed to the tenant (``for_tenant``)."""
    tenant = config.tenant(tenant_id)
    open_now = b.open_problems
    failing_sites = [s for s in b.veto if s.kind == "网站" and s.overall == Verdict.FAIL]
    failing_accounts = [
        s
        for s in b.veto
        if s.kind == "政务新媒体"
        and any(c.code == Indicator.NEWMEDIA_STALE.value and c.verdict == Verdict.FAIL for c in s.cells)
    ]
    carried = [p for p in b.problems if not p.is_new]  # open at the week's start, fixed or not since
    return TenantFigures(
        tenant=tenant.id,
        name=tenant.name,
        level_zh=LEVEL_ZH[tenant.level],
        sites=len(config.sites),
        accounts=len(config.newmedia.accounts),
        sites_down_now=len({p.site_name for p in open_now if p.kind in DOWN_KINDS}),
        sites_down_week=len({p.site_name for p in b.problems if p.kind in DOWN_WEEK_KINDS}),
        sites_failing=len(failing_sites),
        accounts_failing=len(failing_accounts),
        veto=sum(1 for p in open_now if p.severity == Severity.VETO),
        deduction=sum(1 for p in open_now if p.severity == Severity.DEDUCTION),
        open=len(open_now),
        overdue=b.totals["overdue"],
        new=b.totals["new"],
        fixed=b.totals["fixed"],
        carried=len(carried),
        carried_fixed=sum(1 for p in carried if not p.is_open),
        has_data=has_data,
        failing_names=[s.name for s in failing_sites] + [s.name for s in failing_accounts],
        veto_problems=[p for p in open_now if p.severity == Severity.VETO],
    )


def rank_tenants(rows: list[TenantFigures]) -> list[TenantFigures]:
    """Rows in ranking order with their ranks set (ties share a rank; tenants without data unranked, last)."""
    ranked = sorted((r for r in rows if r.has_data), key=TenantFigures.sort_key)
    previous: tuple[tuple[int, float, float, int], int] | None = None
    for i, row in enumerate(ranked, start=1):
        key = row.sort_key()
        row.rank = previous[1] if previous is not None and previous[0] == key else i
        previous = (key, row.rank)
    unranked = [r for r in rows if not r.has_data]
    for row in unranked:
        row.rank = None
    return ranked + unranked


def build_summary(store: Store, config: Config, week: IsoWeek, clock: Clock) -> ProvinceSummary:
    """The province summary for ``week`` (``config`` is the whole configuration, with tenants)."""
    if not config.tenants:
        raise ValueError("no tenants configured: the province summary ranks the tenants of `tenants:`")
    province = config.province or Province(name="全省")
    rows = []
    bulletins = []
    for tenant in config.tenants:
        narrowed = config.for_tenant(tenant.id)
        scope = TenantScope.of(config, tenant.id)
        b = build_bulletin(store, narrowed, week, clock, scope)
        bulletins.append(b)
        empty = week_without_data(store, narrowed, week, scope)
        rows.append(tenant_figures(b, narrowed, tenant.id, empty is None))
    first = bulletins[0]
    values = {"issuer": province.issuer}
    return ProvinceSummary(
        week=week,
        province=province.name,
        title=province.title.format(issuer=province.issuer, year=week.year, week=week.week),
        issue_number=province.issue_number.format(year=week.year, seq=week.week),
        issuer=province.issuer,
        addressees="、".join(province.addressees),
        basis=province.basis,
        contact=province.contact,
        start=first.start,
        as_of=first.as_of,
        incomplete=first.incomplete,
        issued=first.issued,
        rows=rank_tenants(rows),
        requirements=[text.format(**values) for text in DEFAULT_REQUIREMENTS],
    )
