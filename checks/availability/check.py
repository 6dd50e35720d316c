"""The availability duty (W2 站点无法访问): probe, self-check, store, judge.

One run probes the homepage and every configured key page or business system once (no retries: a
probe is a sample, the rolling ratio does the smoothing), checks the monitor's own connectivity when a
probe failed, stores every probe, moves each target's debounced up/down state, and judges the rolling
window from the stored probes. TLS certificates, the HTTP→HTTPS redirect and IPv6 are judged on the same
run. The rules themselves are pure functions in :mod:`checks.availability.uptime`,
:mod:`checks.availability.tlscheck` and
:mod:`checks.availability.ipv6`.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yarl import URL

from checks.availability.ipv6 import V6, judge_ipv6, machine_has_ipv6, plan_ipv6
from checks.availability.tlscheck import evaluate_certificate, observe_tls
from checks.availability.uptime import RatioLevel, State, TargetState, advance, failure_ratio, median_ms
from checks.base import CheckContext, CheckOutcome, SiteCheck
from monitor.core.figures import AvailabilityTargets, FigureGroup, TargetFigures, TlsFigures
from monitor.core.findings import Finding, Severity
from monitor.core.indicators import Indicator, IndicatorStatus, RuleId, Verdict
from monitor.core.report import CheckReport
from monitor.store.database import Probe, Store
from monitor.web.egress import EgressPolicy
from monitor.web.fetch import ErrorKind, Fetcher, FetchResult

HOMEPAGE_NAME = "首页"
#: ``ip_version`` of the main probes: the system chose the family (4 or 6 mean a forced family).
DUAL_STACK = 0


@dataclass(frozen=True)
class Target:
    """One probed URL of a site."""

    name: str
    url: str
    kind: str  # homepage / page / system


def failure_reason(result: FetchResult, timeout: float) -> str:
    """Why a probe failed, in Chinese."""
    if result.error == ErrorKind.TIMEOUT:
        return f"{timeout:g}秒内未完成加载"
    if result.error == ErrorKind.HTTP or (result.error is None and result.status is not None):
        return f"HTTP {result.status}"
    return (
        {
            ErrorKind.DNS: "域名解析失败",
            ErrorKind.REFUSED: "连接被拒绝",
            ErrorKind.TLS: "HTTPS握手失败",
            ErrorKind.CONNECTION: "连接中断",
            ErrorKind.REDIRECT_LOOP: "重定向循环",
            ErrorKind.TOO_MANY_REDIRECTS: "重定向次数过多",
            ErrorKind.INVALID_URL: "网址无效",
        }.get(result.error, "无法访问")
        if result.error
        else "无法访问"
    )


class AvailabilityCheck(SiteCheck):
    """Probe the homepage, key pages and business systems; judge W2, TLS and IPv6."""

    name = "availability"
    scope = "site"

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__(ctx)
        self._probes: list[Probe] = []  # this run's probes, handed to the runner
        self._states: dict[str, dict[str, Any]] = {}  # target URL -> its new up/down state row

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Probe once, store the probes, judge the window."""
        ctx = self.ctx
        store = ctx.store
        if store is None:
            return CheckOutcome(failed="availability keeps probe history and needs the store")
        opts = ctx.config.availability
        site_opts = opts.for_site(ctx.site.id)
        now = ctx.clock.now()
        targets = [Target(HOMEPAGE_NAME, ctx.site.homepage, "homepage")] + [
            Target(t.name, t.url, t.kind) for t in site_opts.targets
        ]
        probe_options = ctx.config.crawl.model_copy(
            update={"timeout_seconds": opts.timeout_seconds, "retries": 0}
        )
        findings: list[Finding] = []
        judged: set[str] = set()
        counts: dict[str, Any] = {}
        groups: list[FigureGroup] = []
        indicators: list[IndicatorStatus] = []
        # Dual stack, as a browser does (happy eyeballs): the W2 question is whether the site opens at
        # all. IPv6 on its own is probed separately below.
        async with Fetcher(probe_options, egress=EgressPolicy.for_config(ctx.config, ctx.site)) as probe:
            results = await asyncio.gather(*(probe.fetch(t.url, retries=0) for t in targets))
            offline, self_check = await self._self_check(probe, results)
            counts["self_check"] = self_check
            counts["monitor_offline"] = offline
            # This run's probes go back to the runner, which stores them when the run ends.
            self._probes = [
                Probe(
                    site=ctx.site.id,
                    target=t.url,
                    name=t.name,
                    at=now,
                    ok=r.ok,
                    status=r.status,
                    latency_ms=round(r.elapsed * 1000),
                    error=r.error.value if r.error else None,
                    detail=r.detail[:300],
                    ip_version=DUAL_STACK,
                    monitor_offline=offline,
                )
                for t, r in zip(targets, results, strict=True)
            ]
            rows = []
            for target, result in zip(targets, results, strict=True):
                row, target_findings = self._judge_target(store, target, result, offline, now, judged)
                rows.append(row)
                findings.extend(target_findings)
            groups.append(AvailabilityTargets(tuple(rows)))
            home = rows[0]
            counts["availability_percent"] = home.availability_percent
            counts["median_latency_ms"] = home.median_latency_ms
            counts["probes"] = len(results)
            indicators.append(self._indicator(home))
            if not offline:
                findings.extend(await self._tls(probe, counts, groups, judged))
                findings.extend(await self._ipv6(store, probe_options, now, counts, judged))
        complete = not offline and all(r.level != RatioLevel.UNKNOWN.value for r in rows)
        complete = complete and counts.get("ipv6_verdict") != V6.UNKNOWN.value

        def cleared(identity: str) -> bool:
            return any(identity == key or identity.startswith(key + "#") for key in judged)

        return CheckOutcome(
            findings=findings,
            report=CheckReport(figures=counts, groups=groups, indicators=indicators),
            complete=complete,
            failed="monitor offline: every reference URL failed too" if offline else None,
            cleared=cleared,
            probes=self._probes,
            target_states=list(self._states.values()),
        )

    # -- self-check -------------------------------------------------------------------------------
    async def _self_check(self, probe: Fetcher, results: list[FetchResult]) -> tuple[bool, str]:
        """Whether the monitor itself is offline: only asked when a probe failed."""
        refs = self.ctx.config.availability.reference_urls
        if all(r.ok for r in results):
            return False, "未触发（探测全部成功）"
        if not refs:
            return False, "未配置参照网址，失败均计入"
        answers = await asyncio.gather(*(probe.fetch(u, retries=0) for u in refs))
        if any(a.ok for a in answers):
            return False, f"正常（{sum(a.ok for a in answers)}/{len(refs)}个参照网址可访问）"
        self.ctx.log.warning("monitor offline: none of %d reference URLs answered", len(refs))
        return True, f"监测端断网（{len(refs)}个参照网址均无法访问），本轮探测不计入"

    # -- one target -------------------------------------------------------------------------------
    def _judge_target(
        self,
        store: Store,
        target: Target,
        result: FetchResult,
        offline: bool,
        now: datetime,
        judged: set[str],
    ) -> tuple[TargetFigures, list[Finding]]:
        ctx, opts = self.ctx, self.ctx.config.availability
        site = ctx.site.id
        stored = self._states.get(target.url) or store.target_state(site, target.url)
        prev = _state_from_row(stored)
        state = advance(
            prev, None if offline else result.ok, now, down_after=opts.down_after, up_after=opts.up_after
        )
        # Saved by the runner when the run ends, and only when it succeeds: a failed run moves no state.
        self._states[target.url] = (
            {
                "site": site,
                "target": target.url,
                "state": state.state.value,
                "fail_streak": state.fail_streak,
                "ok_streak": state.ok_streak,
                "since": state.since.isoformat(timespec="seconds") if state.since else None,
                "first_failure_at": (
                    state.first_failure_at.isoformat(timespec="seconds") if state.first_failure_at else None
                ),
                "last_probe_at": now.isoformat(timespec="seconds"),
            }
        )
        since = now - timedelta(days=opts.window_days)
        window = store.probes(site, target.url, since=since, ip_version=DUAL_STACK) + [
            p
            for p in self._probes
            if p.target == target.url and p.ip_version == DUAL_STACK and p.at >= since
        ]
        counted = [p for p in window if not p.monitor_offline]
        verdict = failure_ratio(
            len(counted),
            sum(1 for p in counted if not p.ok),
            warn_percent=opts.warn_percent,
            fail_percent=opts.fail_percent,
            min_probes=opts.min_probes,
            window_days=opts.window_days,
            offline=len(window) - len(counted),
        )
        latency = median_ms([p.latency_ms for p in counted if p.ok and p.latency_ms is not None])
        row = TargetFigures(
            name=target.name,
            url=target.url,
            kind=target.kind,
            ok=result.ok,
            status=result.status,
            error=result.error.value if result.error else None,
            latency_ms=round(result.elapsed * 1000),
            state=state.state.value,
            fail_streak=state.fail_streak,
            window_probes=verdict.total,
            window_failures=verdict.failures,
            window_offline=verdict.offline,
            failure_percent=None if verdict.percent is None else round(verdict.percent, 2),
            availability_percent=None if verdict.percent is None else round(100 - verdict.percent, 2),
            median_latency_ms=latency,
            level=verdict.level.value,
            summary=verdict.summary_zh,
        )
        unit = ctx.units.unit_for(target.url)
        findings: list[Finding] = []
        evidence = {
            "window_probes": row.window_probes,
            "window_failures": row.window_failures,
            "window_offline": row.window_offline,
            "level": row.level,
        }
        if verdict.level != RatioLevel.UNKNOWN:
            judged.add(f"ratio|{target.url}")
        if verdict.level in (RatioLevel.WARNING, RatioLevel.VETO):
            veto = verdict.level == RatioLevel.VETO
            rule = (
                f"达到单项否决标准（失败率≥{opts.fail_percent:g}%）"
                if veto
                else f"超过预警线（失败率≥{opts.warn_percent:g}%，≥{opts.fail_percent:g}%即单项否决）"
            )
            findings.append(
                Finding(
                    duty=self.name,
                    kind="availability_ratio",
                    severity=Severity.VETO if veto else Severity.WARNING,
                    site=site,
                    identity=f"ratio|{target.url}",
                    url=target.url,
                    message=f"{target.name}（{target.url}）{verdict.summary_zh}，{rule}",
                    unit=unit,
                    evidence=evidence,
                )
            )
        if not offline:
            judged.add(f"down|{target.url}")
        if state.state == State.DOWN:
            down_since = state.since.strftime("%Y-%m-%d %H:%M") if state.since else "—"
            if result.ok or offline:
                detail = f"最近一次探测已恢复，连续{opts.up_after}次成功后确认恢复"
            else:
                detail = (
                    f"连续{state.fail_streak}次探测失败（{failure_reason(result, opts.timeout_seconds)}）"
                )
            findings.append(
                Finding(
                    duty=self.name,
                    kind="target_down",
                    severity=Severity.WARNING,
                    site=site,
                    identity=f"down|{target.url}",
                    url=target.url,
                    message=f"{target.name}（{target.url}）自{down_since}起无法访问：{detail}",
                    unit=unit,
                    evidence={**evidence, "fail_streak": state.fail_streak, "since": down_since},
                )
            )
        return row, findings

    def _indicator(self, home: TargetFigures) -> IndicatorStatus:
        opts = self.ctx.config.availability
        level = RatioLevel(home.level or RatioLevel.UNKNOWN.value)
        verdict = {
            RatioLevel.OK: Verdict.PASS,
            RatioLevel.WARNING: Verdict.WARN,
            RatioLevel.VETO: Verdict.FAIL,
            RatioLevel.UNKNOWN: Verdict.UNKNOWN,
        }[level]
        figure = home.summary
        if level == RatioLevel.UNKNOWN:
            figure = (
                f"样本不足：近{opts.window_days}天计入探测{home.window_probes}次（需≥{opts.min_probes}次）"
            )
        return IndicatorStatus(
            indicator=Indicator.SITE_UNAVAILABLE,
            subject=self.ctx.site.id,
            subject_name=self.ctx.site.name,
            verdict=verdict,
            figure=figure,
            threshold=(
                f"首页{opts.timeout_seconds:g}秒未打开即失败；失败率≥{opts.fail_percent:g}%不合格，"
                f"≥{opts.warn_percent:g}%预警"
            ),
            value=home.failure_percent,
            rule_id=RuleId.AVAILABILITY_HOMEPAGE,
        )

    # -- TLS --------------------------------------------------------------------------------------
    async def _tls(
        self, probe: Fetcher, counts: dict[str, Any], groups: list[FigureGroup], judged: set[str]
    ) -> list[Finding]:
        ctx, opts = self.ctx, self.ctx.config.availability
        mode = opts.for_site(ctx.site.id).tls
        home = URL(ctx.site.homepage)
        host = home.host or ""
        findings: list[Finding] = []
        if mode == "off":
            groups.append(TlsFigures(note="未检测（已关闭）"))
            return findings
        if home.scheme != "https":
            groups.append(TlsFigures(note="首页未使用HTTPS"))
            judged.add(f"https|{host}")
            if mode == "required":
                findings.append(
                    self._finding(
                        "https_missing",
                        Severity.DEDUCTION,
                        f"https|{host}",
                        ctx.site.homepage,
                        f"网站未启用HTTPS：首页为{ctx.site.homepage}（要求全站HTTPS）",
                    )
                )
            return findings
        port = home.port or 443
        obs = await observe_tls(
            host,
            port,
            overrides=dict(ctx.config.crawl.host_overrides),
            timeout=opts.timeout_seconds,
            ca_file=self._ca_file(),
        )
        if obs.cert is None:
            tls = TlsFigures(host=host, port=port, error=obs.error or "未取得证书")
        else:
            judged.add(f"tls|{host}:{port}")
            left = (obs.cert.not_after - ctx.clock.now()).days
            tls = TlsFigures(host=host, port=port, not_after=obs.cert.not_after.isoformat(), days_left=left)
            for p in evaluate_certificate(host, port, obs.cert, ctx.clock.now(), opts.cert_warn_days):
                findings.append(
                    self._finding(
                        p.kind,
                        Severity(p.severity),
                        f"tls|{p.identity}",
                        ctx.site.homepage,
                        p.message,
                        p.evidence,
                    )
                )
            if obs.untrusted:
                findings.append(
                    self._finding(
                        "tls_untrusted",
                        Severity.DEDUCTION,
                        f"tls|{host}:{port}",
                        ctx.site.homepage,
                        f"网站{host}的HTTPS证书不受信任（{obs.untrusted}），浏览器将提示不安全",
                        {"reason": obs.untrusted},
                    )
                )
        groups.append(tls)
        # Plain HTTP must lead to HTTPS; a closed port 80 is not a problem we can blame.
        plain = str(home.with_scheme("http").with_port(None).with_path("/"))
        answer = await probe.fetch(plain, retries=0)
        # The first hops decide: a redirect to https counts even if the https page then fails (that
        # failure is the probe's business), an http page that loads is the problem.
        redirected = any(URL(to).scheme == "https" for _, to in answer.redirects)
        if redirected or answer.ok:
            counts["http_redirects_to_https"] = redirected
            judged.add(f"https|{host}")
            if not redirected:
                findings.append(
                    self._finding(
                        "http_not_redirected",
                        Severity.WARNING,
                        f"https|{host}",
                        plain,
                        f"使用{plain}访问时未跳转到HTTPS（停留在http页面），存在明文传输风险",
                        {"final_url": answer.final_url},
                    )
                )
        else:
            counts["http_redirects_to_https"] = None
        return findings

    def _ca_file(self) -> str | None:
        ca = self.ctx.config.availability.ca_file
        if ca is None:
            return None
        from pathlib import Path

        path = Path(ca)
        return str(path if path.is_absolute() else Path(self.ctx.config.base_dir) / path)

    # -- IPv6 -------------------------------------------------------------------------------------
    async def _ipv6(
        self, store: Store, probe_options: Any, now: datetime, counts: dict[str, Any], judged: set[str]
    ) -> list[Finding]:
        ctx, opts = self.ctx, self.ctx.config.availability
        if not opts.for_site(ctx.site.id).ipv6:
            counts["ipv6"] = "未检测（已关闭）"
            counts["ipv6_verdict"] = "off"
            return []
        home = URL(ctx.site.homepage)
        host, port = home.host or "", home.port or (443 if home.scheme == "https" else 80)
        overrides = dict(ctx.config.crawl.host_overrides)
        from monitor.web.fetch import override_for

        pinned = override_for(overrides, host, port) is not None
        plan = plan_ipv6(host, port, overrides, pinned or machine_has_ipv6(opts.ipv6_route_probe))
        aaaa: bool | None = None
        answered: bool | None = None
        detail = plan.reason
        if plan.probe:
            from checks.availability.ipv6 import has_aaaa

            aaaa = True if plan.pinned else await has_aaaa(host, port)
            if aaaa:
                egress = EgressPolicy.for_config(ctx.config, ctx.site)
                async with Fetcher(probe_options, family=socket.AF_INET6, egress=egress) as six:
                    result = await six.fetch(ctx.site.homepage, retries=0)
                answered = result.ok
                if not result.ok:
                    detail = failure_reason(result, opts.timeout_seconds)
                self._probes.append(
                    Probe(
                            site=ctx.site.id,
                            target=ctx.site.homepage,
                            name=HOMEPAGE_NAME,
                            at=now,
                            ok=result.ok,
                            status=result.status,
                            latency_ms=round(result.elapsed * 1000),
                            error=result.error.value if result.error else None,
                            detail=result.detail[:300],
                        ip_version=6,
                    )
                )
        verdict = judge_ipv6(plan, aaaa, answered)
        counts["ipv6"] = verdict.label_zh + (f"（{detail}）" if detail else "")
        counts["ipv6_verdict"] = verdict.value
        if verdict == V6.UNKNOWN:
            return []
        judged.add(f"ipv6|{host}")
        if verdict == V6.NO_AAAA:
            return [
                self._finding(
                    "ipv6_missing",
                    Severity.DEDUCTION,
                    f"ipv6|{host}",
                    ctx.site.homepage,
                    f"网站{host}不支持IPv6访问：域名无AAAA（IPv6）解析记录",
                )
            ]
        if verdict == V6.UNREACHABLE:
            return [
                self._finding(
                    "ipv6_unreachable",
                    Severity.DEDUCTION,
                    f"ipv6|{host}",
                    ctx.site.homepage,
                    f"网站{host}有IPv6解析记录，但通过IPv6访问首页失败（{detail}）",
                )
            ]
        return []

    def _finding(
        self,
        kind: str,
        severity: Severity,
        identity: str,
        url: str,
        message: str,
        evidence: dict[str, Any] | None = None,
    ) -> Finding:
        return Finding(
            duty=self.name,
            kind=kind,
            severity=severity,
            site=self.ctx.site.id,
            identity=identity,
            url=url,
            message=message,
            unit=self.ctx.units.unit_for(url),
            evidence=evidence or {},
        )


def _state_from_row(row: dict[str, Any] | None) -> TargetState:
    if row is None:
        return TargetState()

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return TargetState(
        state=State(row["state"]),
        fail_streak=row["fail_streak"] or 0,
        ok_streak=row["ok_streak"] or 0,
        since=when(row["since"]),
        first_failure_at=when(row["first_failure_at"]),
    )
