"""The province summary on disk (``reports/province/<year>-W<week>/``) and in the mail (issue 24).

Files: ``summary.html``, ``summary.txt``, the workbook ``2026-W48各地监测汇总.xlsx`` (各地排名 and
单项否决问题) and the Word document ``2026-W48各地监测通报.docx`` (for 盖章印发, in the layout of the tenants'
bulletins), each replaced atomically; ``summary.eml`` when sent. The message goes to
``province.recipients`` through the same outbox as the bulletins, under its own key
(``province-<week>-<hash>``), so it is sent at most once per week and recipient list like every bulletin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from openpyxl import Workbook

from monitor.config import PROVINCE_ID, Config
from monitor.core.atomicfile import replace_atomic, write_atomic
from monitor.core.clock import Clock
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Store

from .docx import BODY, HEADING1, HEADING2, RED, TITLE, _a4, _page_numbers, _para, _red_rule, _styles, _table
from .mail import DOCX_TYPE, INCOMPLETE_MARK, XLSX_TYPE, message_id
from .model import cn_date, cn_datetime
from .outbox import Outbox, idempotency_key
from .province import LISTED_VETO_PER_TENANT, ProvinceSummary, build_summary
from .publish import Delivery
from .render import cn_index, html_environment, inline_css, text_environment
from .xlsx import _Sheet


def summary_document_name(week: IsoWeek) -> str:
    """``2026-W48各地监测通报.docx``: the Word document of the province summary."""
    return f"{week.label}各地监测通报.docx"


def summary_workbook_name(week: IsoWeek) -> str:
    """``2026-W48各地监测汇总.xlsx``: the workbook of the province summary."""
    return f"{week.label}各地监测汇总.xlsx"


@dataclass
class SummaryReport:
    """A rendered province summary on disk."""

    summary: ProvinceSummary
    folder: Path

    @property
    def html(self) -> Path:
        """The summary as a web page."""
        return self.folder / "summary.html"

    @property
    def text(self) -> Path:
        """The summary as plain text."""
        return self.folder / "summary.txt"

    @property
    def xlsx(self) -> Path:
        """The workbook (各地排名, 单项否决问题)."""
        return self.folder / summary_workbook_name(self.summary.week)

    @property
    def docx(self) -> Path:
        """The Word document (for 盖章印发)."""
        return self.folder / summary_document_name(self.summary.week)

    @property
    def eml(self) -> Path:
        """The message as sent (only with --send)."""
        return self.folder / "summary.eml"


def _context(s: ProvinceSummary) -> dict[str, Any]:
    return {"s": s, "xlsx_name": summary_workbook_name(s.week), "listed_per_tenant": LISTED_VETO_PER_TENANT}


def render_summary_html(s: ProvinceSummary) -> str:
    """The summary as an HTML document (autoescaped; crawled text shows as text)."""
    return html_environment().get_template("province.html.j2").render(_context(s))


def render_summary_text(s: ProvinceSummary) -> str:
    """The summary as plain text (every printed value made inert)."""
    return text_environment().get_template("province.txt.j2").render(_context(s))


RANKING_HEADER = (
    ("排名", 7),
    ("地区", 14),
    ("层级", 7),
    ("监测网站", 9),
    ("当前无法访问网站", 10),
    ("本周无法访问网站", 10),
    ("不合格网站", 9),
    ("单项否决问题", 10),
    ("扣分问题", 9),
    ("待整改问题", 10),
    ("平均每个网站问题数", 11),
    ("上周末待整改", 10),
    ("其中本周已整改", 10),
    ("整改率", 9),
    ("逾期问题", 9),
    ("本周新发现", 9),
    ("本周已整改", 9),
    ("新媒体账号", 9),
    ("新媒体不更新", 10),
    ("说明", 20),
)


def write_summary_workbook(s: ProvinceSummary, path: Path) -> None:
    """Write the summary's workbook to ``path`` (callers write to a temporary name and rename)."""
    wb = Workbook(write_only=True)
    until = f"（截至{s.as_of:%Y-%m-%d %H:%M}）" if s.incomplete else ""
    preamble = (s.title, f"{s.issue_number}　监测时段：{s.period_zh}{until}")
    ranking = _Sheet(wb, "各地排名", RANKING_HEADER, preamble=(*preamble, s.ranking_rule))
    for r in s.rows:
        rate = r.rectification_rate
        ranking.append(
            [
                r.rank if r.rank is not None else "—",
                r.name,
                r.level_zh,
                r.sites,
                r.sites_down_now,
                r.sites_down_week,
                r.sites_failing,
                r.veto,
                r.deduction,
                r.open,
                round(r.per_site, 2),
                r.carried,
                r.carried_fixed,
                "—" if rate is None else round(rate, 4),
                r.overdue,
                r.new,
                r.fixed,
                r.accounts,
                r.accounts_failing,
                "" if r.has_data else "本周无监测数据，未参与排名",
            ]
        )
    ranking.close()
    veto = _Sheet(
        wb,
        "单项否决问题",
        (
            ("序号", 7),
            ("地区", 14),
            ("单位", 18),
            ("网站/账号", 22),
            ("问题类型", 16),
            ("问题描述", 60),
            ("网址", 50),
            ("发现时间", 17),
            ("整改状态", 9),
            ("整改时限", 11),
        ),
        preamble=preamble,
    )
    seq = 0
    for r in s.rows:
        for p in r.veto_problems:
            seq += 1
            veto.append(
                [
                    seq,
                    r.name,
                    p.unit,
                    p.site_name,
                    p.type_label,
                    p.message,
                    p.url,
                    p.first_seen,
                    p.status,
                    p.deadline,
                ]
            )
    veto.close()
    wb.save(path)


def write_summary_document(s: ProvinceSummary, path: Path) -> None:
    """The summary as a Word document in the 公文 layout of the tenants' bulletins (:mod:`.docx`)."""
    doc = Document()
    _styles(doc)
    _a4(doc.sections[0], landscape=False)
    _page_numbers(doc.sections[0])
    masthead = _para(doc, s.issuer, TITLE)
    for run in masthead.runs:
        run.font.color.rgb = RED
        run.font.size = Pt(22)
    _red_rule(_para(doc, s.issue_number, "通报文号"))
    _para(doc, "", BODY)
    _para(doc, s.title, TITLE)
    _para(doc, "", BODY)
    _para(doc, f"{s.addressees}：", BODY).paragraph_format.first_line_indent = Pt(0)
    _para(
        doc,
        f"根据{s.basis}有关要求，{s.issuer}于{s.period_zh}对{s.province}{len(s.rows)}个市、县（区）的政府网站与"
        "政务新媒体运行情况开展了常态化监测。现将有关情况通报如下：",
    )
    if s.incomplete:
        _para(doc, f"说明：本周监测尚未结束，本通报数据截至{cn_datetime(s.as_of)}，为阶段性情况。")
    _para(doc, "一、总体情况", HEADING1)
    _para(
        doc,
        f"本周共监测政府网站{s.total('sites')}个、政务新媒体{s.total('accounts')}个。截至{cn_datetime(s.as_of)}，"
        f"各地共有待整改问题{s.total('open')}个，其中单项否决问题{s.total('veto')}个、扣分问题"
        f"{s.total('deduction')}个，已逾期{s.total('overdue')}个；本周新发现问题{s.total('new')}个，已整改"
        f"{s.total('fixed')}个。本周出现无法访问的网站{s.total('sites_down_week')}个（截至通报时仍无法访问"
        f"{s.total('sites_down_now')}个），更新不及时的政务新媒体{s.total('accounts_failing')}个。",
    )
    failing = "；".join(s.failing_names)
    _para(
        doc,
        f"存在单项否决指标不合格的网站{s.total('sites_failing')}个，网站合格率{s.pass_rate_zh}。"
        + (f"不合格网站和政务新媒体{len(s.failing_names)}个，分别为：{failing}。" if failing else ""),
    )
    if s.unranked:
        names = "、".join(r.name for r in s.unranked)
        _para(doc, f"{names}本周无监测数据（监测任务未成功运行），未参与排名，请核实监测服务运行情况。")
    _para(doc, "二、各地监测情况排名", HEADING1)
    _para(doc, s.ranking_rule)
    _table(
        doc,
        (
            ("排名", 1.0),
            ("地区", 1.6),
            ("监测网站", 1.2),
            ("无法访问网站（当前/本周）", 1.6),
            ("不合格网站", 1.2),
            ("单项否决问题", 1.3),
            ("扣分问题", 1.2),
            ("待整改问题", 1.2),
            ("平均每个网站问题数", 1.4),
            ("整改率", 1.5),
            ("逾期问题", 1.2),
            ("新媒体不更新", 1.2),
        ),
        (
            (
                r.rank if r.rank is not None else "—",
                r.name if r.has_data else f"{r.name}（本周无监测数据）",
                r.sites,
                f"{r.sites_down_now}/{r.sites_down_week}",
                r.sites_failing,
                r.veto,
                r.deduction,
                r.open,
                f"{r.per_site:.1f}",
                r.rate_zh,
                r.overdue,
                f"{r.accounts_failing}/{r.accounts}",
            )
            for r in s.rows
        ),
    )
    _para(doc, "三、存在的单项否决问题", HEADING1)
    listed = [r for r in s.rows if r.veto_problems]
    for i, r in enumerate(listed, start=1):
        _para(doc, f"（{cn_index(i)}）{r.name}（{len(r.veto_problems)}个）", HEADING2)
        for j, p in enumerate(r.veto_problems[:LISTED_VETO_PER_TENANT], start=1):
            where = f"（{p.url}）" if p.url else ""
            _para(
                doc,
                f"{j}. {p.site_name}，{p.type_label}：{p.message}{where}，"
                f"{cn_date(p.first_seen.date())}发现，{p.status}。",
            )
        if len(r.veto_problems) > LISTED_VETO_PER_TENANT:
            _para(doc, f"另有{len(r.veto_problems) - LISTED_VETO_PER_TENANT}个，见汇总表。")
    if not listed:
        _para(doc, "本周各地未发现待整改的单项否决问题。")
    _para(doc, "四、工作要求", HEADING1)
    for i, text in enumerate(s.requirements, start=1):
        _para(doc, f"{cn_index(i)}是{text}")
    _para(doc, f"附件：{summary_workbook_name(s.week)}（各地监测情况排名、单项否决问题清单）")
    _para(doc, "", BODY)
    _para(doc, s.issuer, BODY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, cn_date(s.issued), BODY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if s.contact:
        _para(doc, f"（{s.contact}）")
    doc.save(str(path))


def render_summary(
    store: Store, config: Config, week: IsoWeek, clock: Clock, reports_dir: Path | None = None
) -> SummaryReport:
    """Build the province summary for ``week`` and write its files under ``<reports>/province/``."""
    s = build_summary(store, config, week, clock)
    report = SummaryReport(s, (reports_dir or config.reports_path) / PROVINCE_ID / week.label)
    write_atomic(report.html, render_summary_html(s))
    write_atomic(report.text, render_summary_text(s))
    replace_atomic(report.xlsx, lambda tmp: write_summary_workbook(s, tmp))
    replace_atomic(report.docx, lambda tmp: write_summary_document(s, tmp))
    return report


def build_summary_message(
    s: ProvinceSummary,
    config: Config,
    *,
    text: str,
    html: str,
    xlsx: bytes,
    key: str,
    clock: Clock,
    docx: bytes | None = None,
) -> EmailMessage:
    """The summary's message to ``province.recipients``: text and HTML alternatives, the workbook and the
    Word document."""
    assert config.province is not None
    smtp = config.bulletin.smtp
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = f"{s.title}{INCOMPLETE_MARK}" if s.incomplete else s.title
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(config.province.recipients)
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = message_id(key, parseaddr(smtp.sender)[1].rpartition("@")[2] or "localhost")
    msg["X-Monitor-Week"] = s.week.label
    msg["X-Monitor-Key"] = key
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    msg.add_attachment(
        xlsx, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=summary_workbook_name(s.week)
    )
    if docx is not None:
        msg.add_attachment(
            docx, maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=summary_document_name(s.week)
        )
    return msg


async def send_summary(
    report: SummaryReport,
    config: Config,
    clock: Clock,
    outbox_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
) -> Delivery:
    """Queue the summary in the outbox (once per week and recipient list), then send it."""
    if config.province is None or not config.province.recipients:
        raise ValueError("province.recipients is empty: add the addresses the province summary goes to")
    recipients = list(config.province.recipients)
    s = report.summary
    key = idempotency_key(s.week.label, recipients, PROVINCE_ID)
    outbox = Outbox(outbox_dir)
    entry = outbox.get(key)
    queued_now = False
    if entry is None:
        msg = build_summary_message(
            s,
            config,
            text=render_summary_text(s),
            html=inline_css(render_summary_html(s)),
            xlsx=report.xlsx.read_bytes(),
            docx=report.docx.read_bytes(),
            key=key,
            clock=clock,
        )
        entry, queued_now = outbox.enqueue(
            msg, key=key, week=s.week.label, recipients=recipients, now=clock.now()
        )
    write_atomic(report.eml, outbox.message_bytes(key))
    if entry.status != "sent":
        smtp = config.bulletin.smtp
        entry = await outbox.deliver(
            key, smtp, clock, env=env, retries=smtp.retries, base_dir=Path(config.base_dir)
        )
    return Delivery(entry, queued_now)
