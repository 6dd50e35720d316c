"""What ``monitor run`` (and ``monitor demo``) print after a run: one paragraph per site run, in the user's
language (:mod:`monitor.app.lang`), with a new / still-open mark on every finding line.

A run whose status is ``ok`` but which could not observe everything (a page that could not be read, an
availability target with too few probes yet) says so in its header — "完成（部分未检测）" / "ok, partial" —
and the detail line explains what was not observed, so "ok" and "incomplete" never contradict each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import click

from monitor.app.lang import status_label, t
from monitor.bulletin.vocabulary import duty_label
from monitor.core.figures import (
    AccountVerdicts,
    AvailabilityTargets,
    DarkLinksFigures,
    TargetFigures,
    TypoModelFigures,
    UnreadablePages,
)
from monitor.core.findings import Finding
from monitor.core.report import CrawlFigures, RunReport
from monitor.core.textsafe import inert
from monitor.runner import SiteRunResult
from monitor.store.database import Store

#: A finding's state after the run, as ``run_marks`` tells it.
MARK_NEW, MARK_OPEN, MARK_REOPENED, MARK_IGNORED = "new", "open", "reopened", "ignored"
_MARKS_ZH = {MARK_NEW: "新", MARK_OPEN: "仍存在", MARK_REOPENED: "再次出现", MARK_IGNORED: "已忽略"}
_MARKS_EN = {MARK_NEW: "new", MARK_OPEN: "still open", MARK_REOPENED: "reopened", MARK_IGNORED: "ignored"}
SHOWN_FINDINGS = 40


def run_marks(store: Store, results: Iterable[SiteRunResult]) -> dict[int, dict[str, str]]:
    """Run id → fingerprint → new / open / reopened / ignored, read from the store after the runs."""
    out: dict[int, dict[str, str]] = {}
    for r in results:
        marks: dict[str, str] = {}
        rows = store.run_findings(r.run_id)
        reopened = store.run_events(r.run_id, "reopened")
        for fp, first_run, status in rows:
            if status == "ignored":
                marks[fp] = MARK_IGNORED
            elif first_run == r.run_id:
                marks[fp] = MARK_NEW
            elif fp in reopened:
                marks[fp] = MARK_REOPENED
            else:
                marks[fp] = MARK_OPEN
        out[r.run_id] = marks
    return out


def mark_label(mark: str) -> str:
    """A mark in the chosen language."""
    return t(_MARKS_ZH.get(mark, mark), _MARKS_EN.get(mark, mark))


def _header(r: SiteRunResult) -> str:
    status = status_label(r.status)
    if r.status == "ok" and r.report.complete is False:
        status = t("完成（部分未检测）", "ok, partial")
    run = t(f"第{r.run_id}次运行", f"run #{r.run_id}")
    duty = t(f"{duty_label(r.duty)}（{r.duty}）", r.duty)
    if r.site.id == r.duty:  # a global duty (new-media accounts): no site to name
        return f"\n{duty} — {run} {status}"
    site = f"{inert(r.site.id)}: {inert(r.site.name)} <{inert(r.site.homepage)}>"
    return f"\n{duty} · {t('站点', 'site')} {site} — {run} {status}"


def _incomplete_line(report: RunReport) -> str | None:
    if report.complete is not False:
        return None
    if report.group(AccountVerdicts) is not None:  # newmedia
        return t(
            "部分账号的数据源无法读取：这些账号的问题保持原状",
            "some sources could not be read: those accounts' findings were left as they were",
        )
    unreadable = report.group(UnreadablePages)
    if report.crawl is not None and report.crawl.pages_crawled is not None:
        what = t("抓取未完成", "crawl incomplete")
    elif unreadable is not None and unreadable.pages:
        n = len(unreadable.pages)
        what = t(f"{n}个页面无法读取", f"{n} page(s) unreadable")
    elif report.group(AvailabilityTargets) is not None:
        what = t(
            "部分目标样本不足或IPv6无法测试，尚未判定",
            "some targets not judged yet (too few probes, or IPv6 untestable)",
        )
    else:
        what = t("部分检查对象未能观测", "not everything could be observed")
    return t(
        f"  {what}：仅对复查确认已整改的问题作整改判定",
        f"  {what}: only findings re-checked as fixed were resolved",
    )


#: The text checks' per-kind figures, in the order the summary names them.
_TEXT_KINDS = (
    ("serious_expression", "严重表述错误", "serious expression errors"),
    ("typo", "错别字", "typos"),
    ("nonstandard_phrasing", "不规范表述", "non-standard phrasings"),
    ("sensitive_word", "敏感词", "sensitive words"),
    ("privacy_id_number", "身份证号", "ID numbers"),
    ("suspected_typo", "疑似错别字（建议）", "typo suggestions"),
)


def _crawl_line(crawl: CrawlFigures) -> str:
    recovered = crawl.recovered_on_recheck or 0
    return t(
        f"  抓取{crawl.pages_crawled}个页面，检查{crawl.links_checked}个链接，失效{crawl.broken}个"
        f"（复查后恢复{recovered}个）",
        f"  {crawl.pages_crawled} pages crawled, {crawl.links_checked} links checked, "
        f"{crawl.broken} broken ({recovered} recovered on re-check)",
    )


def _accounts_line(verdicts: AccountVerdicts, accounts: int) -> str:
    v = verdicts
    return t(
        f"  {accounts}个账号：正常{v.fresh}，超期未更新{v.stale}，僵尸账号{v.zombie}，"
        f"无法判定{v.unknown}（人工填报{v.manual}）",
        f"  {accounts} accounts: {v.fresh} fresh, {v.stale} stale, {v.zombie} "
        f"zombie, {v.unknown} unknown ({v.manual} 人工填报)",
    )


def _target_line(target: TargetFigures) -> str:
    state = "正常" if target.ok else f"失败（{inert(str(target.error or target.status))}）"
    note = "（样本不足，未判定）" if target.level == "unknown" else ""
    return f"  {inert(target.name)}: {state} {target.latency_ms} ms · {inert(target.summary)}{note}"


def _text_line(report: RunReport, pages: int | float) -> str:
    counted = [(report.number(key), zh, en) for key, zh, en in _TEXT_KINDS]
    zh = "，".join(f"{label}{n}" for n, label, _ in counted if n is not None)
    en = ", ".join(f"{n} {label}" for n, _, label in counted if n is not None)
    return t(f"  检查{pages}个页面的文字：{zh}", f"  text of {pages} pages checked: {en}")


def _darklinks_lines(dl: DarkLinksFigures) -> list[str]:
    over = dl.spider_over_budget
    candidates, compared = dl.candidates or 0, dl.spider_pages_compared or 0
    lines = [
        t(
            f"  暗链：分析{dl.pages_analysed}个页面，发现暗链{dl.dark_links}个；"
            f"{candidates}个隐藏外链无垃圾内容证据（未报告）；"
            f"以搜索引擎爬虫身份比对{compared}个页面" + (f"（{over}个超出预算）" if over else ""),
            f"  dark links: {dl.pages_analysed} pages analysed, {dl.dark_links} dark links; "
            f"{candidates} concealed outside links without spam evidence (not reported); "
            f"{compared} pages compared as a spider" + (f" ({over} over budget)" if over else ""),
        )
    ]
    if dl.browser:
        lines.append(
            t(f"  浏览器复核：{inert(dl.browser)}", f"  browser confirmation: {inert(dl.browser)}")
        )
    return lines


def _typo_model_line(model: TypoModelFigures) -> str:
    if model.skipped is not None:
        return t(
            f"  错别字建议（语言模型）未运行：{inert(model.skipped)}",
            f"  typo suggestions (language model) skipped: {inert(model.skipped)}",
        )
    return t(
        f"  错别字建议（语言模型）：评分{model.pages_scored}个页面，"
        f"{model.pages_unchanged}个未变化页面未重复评分",
        f"  typo suggestions (language model): {model.pages_scored} pages scored, "
        f"{model.pages_unchanged} unchanged pages not re-scored",
    )


def _count_lines(report: RunReport) -> list[str]:
    lines = []
    crawl = report.crawl
    if crawl is not None and crawl.pages_crawled is not None:
        lines.append(_crawl_line(crawl))
    verdicts = report.group(AccountVerdicts)
    if verdicts is not None:  # newmedia
        lines.append(_accounts_line(verdicts, len(report.accounts or [])))
    targets = report.group(AvailabilityTargets)
    for target in targets.rows if targets is not None else ():
        lines.append(_target_line(target))
    text_pages = report.number("text_pages")
    if text_pages is not None:
        lines.append(_text_line(report, text_pages))
    dl = report.group(DarkLinksFigures)
    if dl is not None:
        lines.extend(_darklinks_lines(dl))
    model = report.group(TypoModelFigures)
    if model is not None:
        lines.append(_typo_model_line(model))
    skipped = crawl.skipped if crawl is not None and crawl.skipped else {}
    if skipped:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
        lines.append(t(f"  跳过：{parts}", f"  skipped: {parts}"))
    if report.skipped_reason:
        reason = inert(report.skipped_reason)
        lines.append(t(f"  未运行：{reason}", f"  skipped: {reason}"))
    return lines


def _finding_line(f: Finding, marks: Mapping[str, str]) -> str:
    mark = marks.get(f.fingerprint)
    shown = f" {mark_label(mark)}" if mark else ""
    return f"  [{t(f.severity.label_zh, f.severity.value)}]{shown} {f.fingerprint[:8]} {inert(f.message)}"


def print_run_summary(
    results: Iterable[SiteRunResult], marks: Mapping[int, Mapping[str, str]] | None = None
) -> None:
    """One paragraph per site run: which site, counts, lifecycle changes, and the run's findings."""
    for r in results:
        report = r.report
        click.echo(_header(r))
        for line in _count_lines(report):
            click.echo(line)
        incomplete = _incomplete_line(report)
        if incomplete:
            click.echo(incomplete)
        o = r.outcome
        click.echo(
            t(
                f"  问题：新发现{o.new}，仍存在{o.seen_again}，再次出现{o.reopened}，已整改{o.resolved}，"
                f"已忽略{o.ignored_seen}；当前待整改{r.open_findings}",
                f"  findings: {o.new} new, {o.seen_again} still open, {o.reopened} reopened, {o.resolved} "
                f"fixed, {o.ignored_seen} ignored; open now: {r.open_findings}",
            )
        )
        if r.status == "degraded":
            # The sanity gate (issue 20): a maintenance, firewall or partial night resolves nothing.
            reason = inert(str(report.degraded_reason or r.error))
            withheld = report.findings_withheld or 0
            click.echo(
                t(
                    f"  降级运行：{reason}；不作整改判定，本次{withheld}条问题未记录",
                    f"  degraded night: {reason}; nothing resolved, {withheld} finding(s) of this night not "
                    "recorded",
                )
            )
        elif r.error:
            click.echo(t(f"  错误：{inert(r.error)}", f"  error: {inert(r.error)}"))
        if report.credibility_note:
            note = inert(report.credibility_note)
            click.echo(t(f"  注意：{note}", f"  note: {note}"))
        truncated = report.credibility.truncated if report.credibility is not None else 0
        if truncated:
            click.echo(
                t(
                    f"  {truncated}个页面超过crawl.max_response_bytes，只读取了一部分：其问题保持原状",
                    f"  {truncated} page(s) over crawl.max_response_bytes read in part: "
                    "their findings stay open",
                )
            )
        mine = (marks or {}).get(r.run_id, {})
        for f in sorted(r.findings, key=lambda f: (f.severity.rank, f.kind, f.url))[:SHOWN_FINDINGS]:
            click.echo(_finding_line(f, mine))
        if len(r.findings) > SHOWN_FINDINGS:
            more = len(r.findings) - SHOWN_FINDINGS
            click.echo(
                t(f"  …另有{more}条：monitor findings list", f"  … and {more} more: monitor findings list")
            )
