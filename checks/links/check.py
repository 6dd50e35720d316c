"""The dead-link check (死链): one finding per dead URL, with every page that links to it.

What counts as a dead link is decided by the policy (:mod:`checks.links.policy`: failures, soft 404s,
the confirmation pass, bot walls); the crawl fetches and asks it (see :mod:`monitor.crawl.crawler`);
this check turns the confirmed failures into findings. Dead links on the homepage are their own,
higher-severity kind, since national scoring weighs homepage links far more (−1 per homepage link vs
−0.1 elsewhere). A site that cannot be reached at all gives one site-level finding instead of one per
link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yarl import URL

from checks.base import PageCheck
from checks.common.fetchfailure import failure_reason_zh
from checks.links.policy import bot_wall, bot_wall_answer
from monitor.core.findings import Finding, Severity
from monitor.core.urls import path_extension
from monitor.web.fetch import NOT_REQUESTED, ErrorKind, describe

if TYPE_CHECKING:
    from monitor.crawl.crawler import CrawlReport, Target
    from monitor.web.fetch import Fetcher

ATTACHMENT_EXTENSIONS = frozenset(
    "pdf doc docx xls xlsx ppt pptx wps et dps ofd ceb txt rtf csv zip rar 7z".split()
)
TAG_ZH = {
    "img": "图片",
    "script": "脚本",
    "link": "样式表/资源",
    "iframe": "内嵌页面",
    "frame": "框架页面",
    "source": "媒体",
    "video": "视频",
    "audio": "音频",
    "embed": "嵌入对象",
    "object": "嵌入对象",
    "input": "图片按钮",
    "track": "字幕",
    "meta": "自动跳转目标",
    "stylesheet": "样式表",
    "css": "样式表引用的资源",
    "form": "表单提交地址",
    "background": "背景图片",
}


BOT_WALL_ZH = "网站的反爬虫防护拦截了自动检测，浏览器访问可能正常，请人工核实"


def readable_url(url: str) -> str:
    """The URL as a person reads it (Chinese file names decoded), for messages only."""
    try:
        return URL(url, encoded=True).human_repr()
    except ValueError:
        return url


def _what(target: Target) -> str:
    if path_extension(target.url) in ATTACHMENT_EXTENSIONS and target.failure not in NOT_REQUESTED:
        return "附件"
    what = TAG_ZH.get(target.tag, "链接")
    if what == "链接" and not target.internal and target.failure not in NOT_REQUESTED:
        return "外部链接"
    return what


class LinksCheck(PageCheck):
    """Dead links, homepage dead links and unreachable sites."""

    name = "links"
    needs_link_checks = True

    async def finish(self, report: CrawlReport, fetcher: Fetcher) -> list[Finding]:
        """Findings from the crawl's confirmed failures."""
        site = self.ctx.site
        timeout = self.ctx.config.crawl.timeout_seconds
        if report.unreachable is not None:
            res = report.unreachable
            reason = failure_reason_zh(res.error or ErrorKind.HTTP, res, res.detail, timeout)
            wall = bot_wall_answer(res)
            if wall:
                reason = f"HTTP {res.status}（{BOT_WALL_ZH}）"
            return [
                Finding(
                    duty=self.name,
                    kind="site_unverifiable" if wall else "site_unreachable",
                    severity=Severity.INFO if wall else Severity.DEDUCTION,
                    site=site.id,
                    identity=report.homepage,
                    url=report.homepage,
                    unit=site.unit,
                    message=f"网站“{site.name}”首页{'无法自动检测' if wall else '无法访问'}：{reason}，"
                    "本次死链巡查未能完成。",
                    evidence={"fetch": describe(res), "pages_crawled": report.pages_crawled},
                )
            ]
        findings = []
        for target in report.failures:
            findings.append(self._finding(report, target, timeout))
        return findings

    def _finding(self, report: CrawlReport, target: Target, timeout: float) -> Finding:
        site = self.ctx.site
        sources = list(target.sources)
        on_home = any(s in report.homepage_urls for s in sources)
        assert target.failure is not None
        reason = failure_reason_zh(target.failure, target.result, target.detail, timeout)
        what = _what(target)
        first = sources[0] if sources else ""
        anchor = next((t for t in target.sources.values() if t), "")
        label = f"“{anchor[:40]}”" if anchor else ""
        shown = readable_url(target.url)
        wall = bot_wall(target)
        private = target.failure == ErrorKind.PRIVATE_ADDRESS
        if private:
            hops = target.result.redirects if target.result is not None else []
            via = f"（经{len(hops)}次重定向后）" if hops else ""
            message = (
                f"{'首页' if on_home else ''}{what}{label}指向内网地址{via}，公众无法访问，"
                f"出于安全考虑未访问该地址。链接地址：{shown}"
            )
        elif wall:
            status = target.result.status if target.result is not None else None
            reason = f"HTTP {status}（{BOT_WALL_ZH}）"
            message = f"{'首页' if on_home else ''}{what}{label}无法自动检测：{reason}。链接地址：{shown}"
        elif on_home:
            message = f"首页{what}{label}无法访问：{reason}。链接地址：{shown}"
        else:
            message = f"{what}{label}无法访问：{reason}。链接地址：{shown}"
        if target.source_count > 1:
            message += f"；共{target.source_count}个页面引用该链接，如 {first}"
        elif first:
            message += f"；所在页面：{first}"
        unit = next(
            (u for u in (self.ctx.units.unit_for(s) for s in sources) if u and u != site.unit),
            self.ctx.units.unit_for(first) if first else site.unit,
        )
        evidence: dict[str, Any] = {
            "failure": target.failure.value,
            "status": target.result.status if target.result else None,
            "detail": target.detail,
            "tag": target.tag,
            "internal": target.internal,
            "source_count": target.source_count,
            "sources": [{"url": u, "text": t} for u, t in list(target.sources.items())[:200]],
        }
        if target.result is not None:
            evidence["fetch"] = describe(target.result)
        if wall and target.result is not None:
            evidence["bot_wall"] = {"status": target.result.status, "challenge": target.result.challenge}
        kind = "homepage_dead_link" if on_home else "dead_link"
        severity = Severity.DEDUCTION if on_home else Severity.WARNING
        if private:
            kind, severity = "private_address_link", Severity.INFO
        elif wall:
            kind, severity = "link_unverifiable", Severity.INFO
        return Finding(
            duty=self.name,
            kind=kind,
            severity=severity,
            site=site.id,
            identity=target.url,
            url=target.url,
            unit=unit,
            sources=tuple(sources),
            message=message,
            evidence=evidence,
        )

    def cleared(self, report: CrawlReport, identity: str) -> bool:
        """A dead URL re-checked as working during a partial crawl is fixed."""
        return report.cleared(identity)
