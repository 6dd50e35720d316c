"""Alert messages in Chinese: specific and numeric, with the unit, the page and the 整改时限.

Two renderings of every message: Markdown for channels that render it (DingTalk and Feishu/Lark robots)
and plain text elsewhere (WeCom robots through Apprise, mail, JSON webhooks). Crawled content stays inert
in both:

- control and direction-override characters are removed (:func:`monitor.core.textsafe.inert` would show
  them as ``\\x1b``; a chat message has no use for the escape itself);
- in Markdown, the metacharacters of crawled text (``[ ] ( ) * _ # < > | ` ~ !``) are replaced by their
  full-width forms (［ ］ （ ） ＊ …): a backslash escape is shown literally by some robots' renderers,
  while a full-width bracket can never open a link or a heading anywhere;
- addresses outside the monitored sites (a dark link's target, a dead link's host) are defanged
  (``hxxp://bad[.]example``) in both renderings, so no client turns them into something to tap; the pages
  of the monitored sites stay readable, and in Markdown they are links whose URL is percent-encoded.

Messages are kept under the channel's size limit (WeCom robots take 2,048 bytes): items are listed until
the budget is used, then "另有 N 处未列出".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from monitor.bulletin.vocabulary import DUTIES, duty_label, problem_type
from monitor.config import Config
from monitor.core.findings import Severity
from monitor.core.urls import host_of_link, percent_encode
from monitor.core.workdays import WorkdayCalendar

from .transitions import Transition

MARKDOWN, TEXT = "markdown", "text"
#: Schemes whose robots render Markdown (Apprise sends their ``markdown`` message type).
MARKDOWN_SCHEMES = frozenset({"dingtalk", "feishu", "lark"})
#: Bytes a message may take, title and body together, per scheme; others get the default.
BUDGETS = {"wecombot": 2000}
DEFAULT_BUDGET = 4000
NO_UNIT = "未标注单位"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_MD_META = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "#": "＃",
        "<": "＜",
        ">": "＞",
        "|": "｜",
        "`": "｀",
        "~": "～",
        "!": "！",
        "\\": "＼",
    }
)
_URL = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'）)】\]]+|\bwww\.[^\s<>\"'）)】\]]+")


@dataclass(frozen=True)
class Message:
    """One composed alert: its title, body and the format the body is written in."""

    title: str
    body: str
    format: str  # markdown / text


def message_format(scheme: str | None, configured: str = "auto") -> str:
    """Markdown for robots that render it (unless the channel says otherwise), plain text elsewhere."""
    if configured != "auto":
        return configured
    return MARKDOWN if scheme in MARKDOWN_SCHEMES else TEXT


def budget_for(scheme: str | None) -> int:
    """Bytes a message may take on a channel of ``scheme`` (the strictest when the scheme is unknown)."""
    if scheme is None:
        return min(BUDGETS.values())
    return BUDGETS.get(scheme, DEFAULT_BUDGET)


class _Writer:
    """The few constructs a message uses, in Markdown or plain text, with crawled text made inert."""

    def __init__(self, fmt: str, monitored_hosts: frozenset[str]) -> None:
        self.md = fmt == MARKDOWN
        self.hosts = monitored_hosts

    def clean(self, text: str | None, limit: int | None = None) -> str:
        """Crawled text: control characters removed, foreign addresses defanged, Markdown inert."""
        text = _CONTROL.sub("", unicodedata.normalize("NFC", text or ""))
        text = " ".join(text.split())
        if limit is not None and len(text) > limit:
            text = text[: limit - 1] + "…"
        text = _URL.sub(lambda m: self._address(m.group(0)), text)
        return text.translate(_MD_META) if self.md else text

    def _address(self, url: str) -> str:
        if self._monitored(url):
            return url
        return defang(url)

    def _monitored(self, url: str) -> bool:
        try:
            host = host_of_link(url).lower()
        except ValueError:
            return False
        return bool(host) and host in self.hosts

    def page(self, url: str | None) -> str:
        """A page address: a link (Markdown) when it is on a monitored site, defanged text otherwise."""
        url = _CONTROL.sub("", url or "").strip()
        if not url:
            return "—"
        if not self._monitored(url):
            text = defang(url)
            return text.translate(_MD_META) if self.md else text
        if not self.md:
            return url
        safe = percent_encode(url, safe=":/?&=%#+,;@$'.-~")  # ( ) [ ] < > spaces and the rest percent-encoded
        return f"[{safe.translate(_MD_META)}]({safe})"

    def own(self, url: str) -> str:
        """An address from the config (the console): a link in Markdown, as it is in plain text."""
        url = _CONTROL.sub("", url)
        if not self.md:
            return url
        safe = percent_encode(url, safe=":/?&=%#+,;@$'.-~")
        return f"[{safe.translate(_MD_META)}]({safe})"

    def bold(self, text: str) -> str:
        """Our own wording, emphasised."""
        return f"**{text}**" if self.md else text

    def item(self, number: int, text: str) -> str:
        """A numbered list item."""
        return f"{number}. {text}"

    def join(self, lines: list[str]) -> str:
        """Lines as paragraphs (robots' Markdown needs a blank line for a line break)."""
        return ("\n\n" if self.md else "\n").join(line for line in lines if line is not None)


def defang(url: str) -> str:
    """``https://bad.example/x`` → ``hxxps://bad[.]example/x``: readable, never a tappable address."""
    out = re.sub(r"(?i)^http", "hxxp", url, count=1)
    parts = out.split("/", 3)
    if len(parts) >= 3 and "://" in out:
        parts[2] = parts[2].replace(".", "[.]")
        return "/".join(parts)
    return out.replace(".", "[.]", 1)


def _monitored_hosts(config: Config) -> frozenset[str]:
    hosts: set[str] = set()
    for site in config.sites:
        hosts.update(h.lower() for h in site.crawl_hosts)
        host = host_of_link(site.homepage)
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def _duration(minutes: int | None) -> str:
    if minutes is None:
        return "时长不详"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins else ""]
    return "".join(parts) or "不足1分钟"


def _target_name(row: dict[str, object]) -> str:
    """首页 / 在线办事…: the probed target's configured name, which starts availability's message."""
    name = str(row.get("message") or "").split("（", 1)[0].strip()
    return _CONTROL.sub("", name)[:20] if name and len(name) <= 20 else ""


def _tag(severity: Severity) -> str:
    return f"【{severity.label_zh}】"


class Composer:
    """Builds the messages of one config (site names, the 整改时限 calendar, the console address)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sites = {s.id: s.name for s in config.sites}
        self.accounts = {a.id: a.name for a in config.newmedia.accounts}
        self.hosts = _monitored_hosts(config)
        opts = config.bulletin
        self.calendar = WorkdayCalendar(opts.workdays.holidays, opts.workdays.makeup_workdays)
        self.days = opts.deadline_working_days

    def site_name(self, site: str | None) -> str:
        """The configured name of a site (its id otherwise)."""
        return self.sites.get(site or "", site or "")

    def subject(self, t: Transition) -> str:
        """What a transition is about, never an internal id: the configured site's name, else the account
        or subject its check named, else what a once-per-config duty monitors (政务新媒体)."""
        if t.site in self.sites:
            return self.sites[t.site or ""]
        evidence = (t.finding or {}).get("evidence") or {}
        named = (
            self.accounts.get(str(evidence.get("account")))
            or evidence.get("account_name")
            or evidence.get("subject_name")
        )
        if named:
            return _CONTROL.sub("", str(named))[:40]
        info = DUTIES.get(t.duty or "")
        if info is not None and t.site == t.duty:
            return info.subject
        return t.site or ""

    def deadline(self, first_seen: datetime) -> date:
        """整改时限: ``deadline_working_days`` working days after the day it was first found."""
        return self.calendar.add_workdays(first_seen.date(), self.days)

    # -- findings ---------------------------------------------------------------------------------
    def findings(self, items: list[Transition], fmt: str, budget: int) -> Message:
        """One message for the new findings of one problem type in one run (one or many)."""
        w = _Writer(fmt, self.hosts)
        first = items[0]
        label = problem_type(first.duty or "", first.kind or "")
        severity = min((t.severity for t in items), key=lambda s: s.rank)
        subjects = list(dict.fromkeys(self.subject(t) for t in items))
        site = subjects[0] if len(subjects) == 1 else f"{subjects[0]}等{len(subjects)}个"
        if len(subjects) > 1 and first.site == first.duty and first.duty in DUTIES:
            site = DUTIES[first.duty].subject  # accounts of the new-media duty: 政务新媒体
        reopened = sum(1 for t in items if t.reopened)
        units = Counter(t.unit or NO_UNIT for t in items)
        title = f"{_tag(severity)}{site}：新发现{label}{len(items)}处"
        head = f"新发现{label}{len(items)}处" + (f"（其中{reopened}处为整改后再次出现）" if reopened else "")
        unit_text = "、".join(f"{w.clean(u, 20)}{n}处" for u, n in units.most_common(5))
        if len(units) > 5:
            unit_text += "等"
        where = "网站" if first.site in self.sites else "对象"
        lines = [
            f"{w.bold(w.clean(head))}，涉及{len(units)}个单位：{unit_text}",
            f"{where}：{w.clean(site, 40)}；检查项目：{duty_label(first.duty or '')}；"
            f"发现时间：{_when(first.at)}",
        ]
        # Most serious first, then the unit with the most items (in the order the summary names them).
        ordered = sorted(
            items,
            key=lambda t: (
                t.severity.rank,
                -units[t.unit or NO_UNIT],
                t.unit or "",
                (t.finding or {}).get("url", ""),
            ),
        )
        listed: list[str] = []
        top = self.config.alerts.group_top
        for n, t in enumerate(ordered[:top], start=1):
            candidate = w.item(n, self._finding_line(w, t))
            text = w.join([*lines, *listed, candidate, self._tail(w, len(ordered) - n)])
            if len((title + text).encode("utf-8")) > budget and listed:
                break
            listed.append(candidate)
        tail = self._tail(w, len(ordered) - len(listed))
        body = w.join([*lines, *listed, tail]) if tail else w.join([*lines, *listed])
        return Message(title, _fit(body, budget - len(title.encode("utf-8"))), fmt)

    def _finding_line(self, w: _Writer, t: Transition) -> str:
        row = t.finding or {}
        sources = row.get("source_urls") or []
        page = sources[0] if sources else row.get("url")
        first_seen = datetime.fromisoformat(row["first_seen"]).astimezone(self.config.tz)
        deadline = self.deadline(first_seen)
        parts = [f"单位：{w.clean(t.unit or NO_UNIT, 20)}", f"页面：{w.page(page)}"]
        if row.get("url") and row.get("url") != page:
            parts.append(f"问题链接：{w.page(row['url'])}")
        parts.append(f"问题：{w.clean(row.get('message'), 90)}")
        overdue = "，已逾期" if deadline < t.at.date() else ""  # reopened long after it was first found
        parts.append(f"整改时限：{deadline:%Y-%m-%d}前（{self.days}个工作日{overdue}）")
        return "；".join(parts)

    def _tail(self, w: _Writer, more: int) -> str:
        url = self.config.alerts.console_url
        if more <= 0:
            return f"详见：{w.own(url)}" if url else ""
        where = f"，详见：{w.own(url)}" if url else "，详见监测平台问题清单（monitor findings list）"
        return f"另有{more}处未列出{where}"

    # -- other events -----------------------------------------------------------------------------
    def event(self, t: Transition, fmt: str, budget: int) -> Message:
        """The message of one non-finding transition."""
        w = _Writer(fmt, self.hosts)
        site = self.subject(t)
        if t.event in ("site_down", "site_up"):
            row = t.finding or {}
            target = w.page(row.get("url"))
            unit = w.clean(t.unit or NO_UNIT, 20)
            name = _target_name(row)
            if t.event == "site_down":
                title = f"【告警】{site}{name}无法访问"
                lines = [
                    f"地址：{target}；单位：{unit}",
                    f"情况：{w.clean(row.get('message'), 160)}",
                    f"告警时间：{_when(t.at)}；恢复访问后将另行通知。",
                ]
            else:
                minutes = t.details.get("minutes")
                title = f"【恢复】{site}{name}已恢复访问，中断{_duration(minutes)}"
                lines = [
                    f"地址：{target}；单位：{unit}",
                    f"中断时长：{_duration(minutes)}（{_when(t.details.get('down_since'))}至{_when(t.at)}）",
                ]
        elif t.event in ("duty_failing", "duty_recovered"):
            label = duty_label(t.duty or "")
            d = t.details
            if t.event == "duty_failing":
                title = f"【告警】{label}连续{d['nights']}晚运行失败：{site}"
                lines = [
                    f"自{_when(d['first_failed_at'])}起连续{d['runs']}次运行失败，期间该项检查没有结果。",
                    f"最近一次失败原因：{w.clean(d.get('last_error') or '未记录', 160)}",
                    "请检查监测服务日志（journalctl -u govsite-monitor）与网站是否可以访问。",
                ]
            else:
                title = f"【恢复】{label}恢复正常：{site}"
                lines = [
                    f"此前自{_when(d['first_failed_at'])}起连续{d['nights']}晚共{d['runs']}次运行失败；"
                    f"{_when(t.at)}运行成功。",
                ]
        elif t.event == "monitor_offline":
            minutes = t.details["minutes"]
            hours = minutes // 60
            span = f"{hours}小时" if hours else f"{minutes}分钟"
            title = f"【告警】监测服务离线{span}"
            lines = [
                f"自{_when(t.details['since'])}至{_when(t.at)}监测服务未运行，期间的定时检查没有执行。",
                "服务已重新启动，过期未做的检查随即补做；请确认离线原因（停电、断网或服务器故障）。",
            ]
        else:
            raise ValueError(f"no message for event {t.event!r}")
        return Message(title, _fit(w.join(lines), budget - len(title.encode("utf-8"))), fmt)

    def test(self, channel: str, now: datetime, fmt: str) -> Message:
        """``monitor alerts test CHANNEL``."""
        w = _Writer(fmt, self.hosts)
        title = "【测试】政府网站监测告警通道测试"
        lines = [
            f"这是一条测试消息：告警通道「{w.clean(channel)}」配置正确，可以收到监测告警。",
            f"发送时间：{_when(now)}；监测网站{len(self.config.sites)}个、单位{len(self.config.units)}个。",
        ]
        return Message(title, w.join(lines), fmt)


def _fit(body: str, budget: int) -> str:
    """Cut a body to ``budget`` UTF-8 bytes (a last resort: items are already left out to fit)."""
    data = body.encode("utf-8")
    if len(data) <= budget:
        return body
    return data[: max(0, budget - 3)].decode("utf-8", "ignore") + "…"
