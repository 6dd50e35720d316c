"""``monitor run newmedia``: freshness of the county's new-media accounts (政务新媒体, indicator M1).

Observe every account's source concurrently through the shared fetcher, then evaluate (pure, in
:mod:`checks.newmedia.rules`):

* ``stale`` (veto): the source worked and the newest non-pinned post is older than the threshold;
* ``zombie`` (veto): silent for more than ``zombie_days`` — recommend closing (国办 2022 clean-up);
* ``source_error`` (warning, 监测源异常): the source failed; the account is *unknown*, never stale, and
  its open findings stay as they are (the run is incomplete for it);
* ``low_original`` / ``low_policy`` (warning): last month's share of original or policy posts.

Observed posts are returned for the store (the bulletin's per-account counts and 8-week trend); the
check's part of the run report carries the account census (:class:`~monitor.core.report.AccountCensusRow`)
and the M1 :class:`~monitor.core.indicators.IndicatorStatus` records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from checks.base import CheckOutcome, SiteCheck
from checks.newmedia.rules import (
    census_row,
    display_name,
    evaluate_freshness,
    evaluate_quality,
    history_start,
    indicator_status,
)
from checks.newmedia.sources import SOURCE_LABELS, Ledgers, observe, source_location
from monitor.config import Account
from monitor.core.figures import AccountVerdicts
from monitor.core.findings import Finding, Severity
from monitor.core.indicators import IndicatorStatus
from monitor.core.posts import Post
from monitor.core.report import AccountCensusRow, CheckReport
from monitor.web.fetch import Fetcher


class NewMediaCheck(SiteCheck):
    """Fresh, stale, zombie or unknown for every configured new-media account."""

    name = "newmedia"
    scope = "global"

    async def run(self, fetcher: Fetcher) -> CheckOutcome:
        """Read every account's source, then judge each account."""
        settings = self.ctx.config.newmedia
        accounts = settings.accounts
        if not accounts:
            return CheckOutcome(skipped="no new-media accounts configured (add a newmedia: section)")
        tz, now = self.ctx.config.tz, self.ctx.clock.now()
        ledgers = Ledgers()
        observations = await asyncio.gather(
            *(observe(a, self.ctx.config, fetcher, now, ledgers) for a in accounts)
        )
        history: dict[str, list[Post]] = {}
        if self.ctx.store is not None:
            history = self.ctx.store.posts_since([a.id for a in accounts], history_start(now, tz))

        findings: list[Finding] = []
        rows: list[AccountCensusRow] = []
        indicators: list[IndicatorStatus] = []
        fetched: list[Post] = []
        observed: set[str] = set()
        tally = {"fresh": 0, "stale": 0, "zombie": 0, "unknown": 0}
        for account, obs in zip(accounts, observations, strict=True):
            verdict = evaluate_freshness(account, obs, now, settings, tz)
            tally[verdict.status] += 1
            fetched.extend(obs.posts)
            known = {p.post_id: p for p in history.get(account.id, [])}
            known.update({p.post_id: p for p in obs.posts})
            posts = sorted(known.values(), key=lambda p: p.published_at, reverse=True)
            where = source_location(account, self.ctx.config)
            evidence = {
                "account": account.id,
                "platform": account.platform,
                "source": account.source.type,
                "source_url": where,
                "threshold_days": verdict.threshold_days,
            }
            if verdict.status == "unknown":
                findings.append(
                    self._finding(
                        account,
                        "source_error",
                        Severity.WARNING,
                        account.id,
                        where,
                        verdict.message_zh,
                        where,
                        {**evidence, "reason": verdict.reason, **obs.evidence},
                    )
                )
                quality: dict[str, Any] = {}
            else:
                observed.add(account.id)
                if verdict.status in ("stale", "zombie"):
                    findings.append(
                        self._finding(
                            account,
                            verdict.status,
                            Severity.VETO,
                            account.id,
                            verdict.last_url or where,
                            verdict.message_zh,
                            where,
                            {
                                **evidence,
                                "last_post": verdict.last_post.isoformat() if verdict.last_post else None,
                                "last_post_title": verdict.last_title,
                                "days_since": verdict.days_since,
                                "zombie_days": verdict.zombie_days,
                                "manual": verdict.manual is not None,
                                "reported_by": verdict.manual.reported_by if verdict.manual else None,
                            },
                        )
                    )
                issues, quality = evaluate_quality(account, posts, now, tz, settings.quality)
                for issue in issues:
                    findings.append(
                        self._finding(
                            account,
                            issue.kind,
                            Severity.WARNING,
                            f"{account.id}/{issue.month}",
                            where,
                            issue.message_zh,
                            where,
                            {
                                **evidence,
                                "month": issue.month,
                                "posts": issue.posts,
                                "hits": issue.hits,
                                "share": round(issue.share, 3),
                                "floor": issue.floor,
                            },
                        )
                    )
            rows.append(
                census_row(account, verdict, posts, now, tz, SOURCE_LABELS[account.source.type], quality)
            )
            indicators.append(indicator_status(account, verdict))

        figures = AccountVerdicts(
            fresh=tally["fresh"],
            stale=tally["stale"],
            zombie=tally["zombie"],
            unknown=tally["unknown"],
            manual=sum(1 for a in accounts if a.source.type == "manual"),
        )
        # Unknown accounts were not seen: their open findings (stale last week…) must stay open.
        complete = tally["unknown"] == 0
        return CheckOutcome(
            findings=findings,
            report=CheckReport(groups=[figures], indicators=indicators, accounts=rows),
            complete=complete,
            cleared=lambda identity: identity.split("/", 1)[0] in observed,
            posts=fetched,
        )

    def _finding(
        self,
        account: Account,
        kind: str,
        severity: Severity,
        identity: str,
        url: str,
        message: str,
        source: str,
        evidence: dict[str, Any],
    ) -> Finding:
        return Finding(
            duty=self.name,
            kind=kind,
            severity=severity,
            site=self.ctx.site.id,
            identity=identity,
            url=url,
            message=message,
            unit=account.unit or display_name(account),
            sources=(source,),
            evidence=evidence,
        )
