"""The 通报 as an office issues it: 文号, numbering, attachments named as the text names them, the Word
document for 盖章印发, the workbook's cells, the short mail body — and no internal identifier anywhere."""

from __future__ import annotations

import re
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import lxml.html
import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from monitor.bulletin.mail import build_message
from monitor.bulletin.model import build_bulletin
from monitor.bulletin.publish import Report, render_report
from monitor.bulletin.render import distinct_colors, render_html, render_text
from monitor.config import ConfigError
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.store.database import Store
from tests.bulletin_data import FORMULA, HOSTILE_TITLE, D, bulletin_config, fill_store
from tests.bulletin_full import (
    LONG_URL,
    UNREADABLE_REASON,
    W48,
    fill_every_kind,
    full_config,
    identifiers,
)


@pytest.fixture
def full_report(tmp_path: Path) -> Report:
    with Store(tmp_path / "m.db") as store:
        clock = fill_every_kind(store)
        return render_report(store, full_config(), W48, clock, tmp_path / "reports")


def html_text(html: str) -> str:
    """What a reader sees of an HTML document: the body's text (no <style>, no attributes)."""
    html = html.replace("<wbr>", "")  # a permitted line break inside a URL, not a space
    body = lxml.html.document_fromstring(html).body
    return body.text_content()


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def xlsx_text(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    )


#: Addresses are data, not wording; so are file names (the attachments, ``evidence/<sha256>.png``) and
#: the workbook's 问题编号 (the hex id ``monitor findings`` takes).
_DATA = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+|[\w/-]+\.(xlsx|docx|png)\b|\b[0-9a-f]{16,}\b")


def leaked_words(text: str, names: set[str]) -> list[str]:
    """Internal identifiers in ``text``: a known name, a snake_case token, or any lowercase ASCII word."""
    text = _DATA.sub(" ", text)
    known = re.compile(
        r"(?<![\w/.:-])(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")(?![\w/.-])"
    )
    found = set(known.findall(text))
    found |= set(re.findall(r"[a-z]+(?:_[a-z]+)+", text))
    found |= set(re.findall(r"(?<![A-Za-z])[a-z]{2,}(?![A-Za-z])", text))
    return sorted(found)


def test_no_internal_identifier_in_the_page_text_workbook_or_word_document(full_report: Report) -> None:
    names = identifiers()
    documents = {
        "bulletin.html": html_text(full_report.html.read_text(encoding="utf-8")),
        "bulletin.txt": full_report.text.read_text(encoding="utf-8"),
        full_report.xlsx.name: xlsx_text(full_report.xlsx),
        full_report.docx.name: docx_text(full_report.docx),
    }
    for name, text in documents.items():
        assert "示例问题" in text or name.endswith(".xlsx"), name  # the scan reads the real content
        assert not leaked_words(text, names), (
            f"{name} shows internal identifiers: {leaked_words(text, names)}"
        )
    # The scan itself catches what the issue saw.
    assert leaked_words("附件2 类型 dynamic；平台 wechat；newmedia · 2026年12月5日发现", names) == [
        "dynamic",
        "newmedia",
        "wechat",
    ]
    assert "homepage_dead_link" in leaked_words("种类 homepage_dead_link", set())


def test_head_numbering_and_attachments_named_as_the_files(full_report: Report) -> None:
    b = full_report.bulletin
    assert b.issue_number == "示政网监〔2026〕48号"
    page = html_text(full_report.html.read_text(encoding="utf-8"))
    text = full_report.text.read_text(encoding="utf-8")
    for doc in (page, text, docx_text(full_report.docx)):
        assert "示政网监〔2026〕48号" in doc
        # 三、整改要求 numbers its paragraphs （一）（二）…, never 一、二、 again.
        requirements = doc[doc.index("三、整改要求") :]
        assert "（一）请各单位对照附件问题清单" in requirements and "（四）整改时限" in requirements
        assert not re.search(r"[一二三四]、(请各单位|各单位要|逾期未整改)", requirements)
    # The text names the attachments exactly as the files beside it.
    assert full_report.xlsx.name == "2026-W48问题清单.xlsx" and full_report.xlsx.is_file()
    assert full_report.docx.name == "2026-W48监测通报.docx" and full_report.docx.is_file()
    for doc in (page, text):
        assert f"附件1、附件2的电子表格为 {full_report.xlsx.name}" in doc
        assert f"本通报的Word文本为 {full_report.docx.name}" in doc
    assert f"电子表格为 {full_report.xlsx.name}" in docx_text(full_report.docx)


def test_issue_number_template_is_checked_at_load() -> None:
    assert full_config().bulletin.issue_number == "示政网监〔{year}〕{seq}号"
    assert bulletin_config().bulletin.issue_number == "{year}年第{seq}期"  # the default: a 期号
    with pytest.raises(ConfigError, match=r"issue_number.*seq"):
        bulletin_config(issue_number="示政网监〔{year}〕1号")  # every week the same number
    with pytest.raises(ConfigError, match=r"issue_number.*unknown placeholder"):
        bulletin_config(issue_number="示政网监〔{year}〕{number}号")


def test_census_lists_each_column_once_and_says_when_a_feed_could_not_be_read(full_report: Report) -> None:
    census = full_report.bulletin.census
    assert census.columns is not None and census.accounts is not None
    urls = [c.url for c in census.columns]
    assert len(urls) == len(set(urls)) == 8  # the column audit and the unit inspection saw the same 8
    page = html_text(full_report.html.read_text(encoding="utf-8"))
    assert f"未能读取（{UNREADABLE_REASON}）" in page
    wb = openpyxl.load_workbook(full_report.xlsx)
    posts = [row[4] for row in wb["新媒体普查信息统计表"].iter_rows(min_row=2, values_only=True)]
    assert f"未能读取（{UNREADABLE_REASON}）" in posts and datetime(2026, 11, 20) in posts
    (unread,) = [a for a in census.accounts if a.last_post_zh.startswith("未能读取")]
    assert unread.posts_week is None and unread.posts_month is None  # shown as —, not 0


def test_trend_colours_are_distinct_and_named(full_report: Report) -> None:
    b = full_report.bulletin
    assert len(b.trend_types) >= 22
    colours = distinct_colors(len(b.trend_types))
    assert len(set(colours)) == len(colours)
    html = full_report.html.read_text(encoding="utf-8")
    for label, colour in zip(b.trend_types, colours, strict=True):
        # The legend and the table name each type beside its colour: colour is never the only cue.
        assert html.count(f'style="color: {colour};">■</span>&nbsp;{label}<') == 2


def test_word_document_reads_back_with_tables_repeated_headers_a4_and_chinese_fonts(
    full_report: Report,
) -> None:
    doc = Document(str(full_report.docx))
    b = full_report.bulletin
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == b.issuer and paragraphs[1] == "示政网监〔2026〕48号"
    assert b.title in paragraphs
    for heading in ("一、总体情况", "二、存在的问题", "三、整改要求", "附件1", "附件2"):
        assert heading in paragraphs
    # A4: the letter, portrait; the attachments, landscape.
    first, attachments = doc.sections[0], doc.sections[-1]
    assert abs(first.page_width - Cm(21)) < Cm(0.05) and abs(first.page_height - Cm(29.7)) < Cm(0.05)
    assert attachments.page_width > attachments.page_height
    # Page numbers "— 1 —" on every page (the attachments' footer is linked to the letter's).
    footer = first.footer.paragraphs[0]._p
    assert footer.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"
    assert attachments.footer.is_linked_to_previous
    # 附件1: every problem, a header row that repeats on every printed page.
    (problem_table,) = [t for t in doc.tables if "问题描述" in [c.text for c in t.rows[0].cells]]
    header = [c.text for c in problem_table.rows[0].cells]
    assert header == [
        "序号",
        "单位",
        "网站/账号",
        "问题类型",
        "问题描述",
        "网址/父页面",
        "发现时间",
        "整改状态",
        "整改时限",
    ]
    assert problem_table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert len(problem_table.rows) == len(b.problems) + 1
    first_row = [c.text for c in problem_table.rows[1].cells]
    p = b.problems[0]
    assert (
        first_row[0] == "1"
        and first_row[4] == p.message
        and first_row[6] == p.first_seen.strftime("%Y-%m-%d")
    )
    # Every table repeats its header row.
    assert all(t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for t in doc.tables)
    # Styles named for what they are, with the East Asian font Word uses for Chinese.
    fonts = {}
    for name in ("通报正文", "通报一级标题", "通报二级标题", "通报表格"):
        rfonts = doc.styles[name].element.rPr.find(qn("w:rFonts"))
        fonts[name] = rfonts.get(qn("w:eastAsia"))
    assert fonts == {"通报正文": "仿宋", "通报一级标题": "黑体", "通报二级标题": "楷体", "通报表格": "仿宋"}
    body = [p for p in doc.paragraphs if p.text.startswith("为进一步加强")]
    assert body and body[0].style.name == "通报正文"


def test_workbook_has_date_cells_clickable_urls_and_wrapped_text(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        clock = fill_store(store)
        report = render_report(store, bulletin_config(), W48, clock, tmp_path / "reports")
    wb = openpyxl.load_workbook(report.xlsx)
    ws = wb["链接可用性检测（死链）"]
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2))
    found, deadline, url, description = (
        header.index("发现时间"),
        header.index("整改时限"),
        header.index("网址"),
        header.index("问题描述"),
    )
    for row in rows:
        assert isinstance(row[found].value, datetime) and row[found].is_date
        assert row[found].number_format == "yyyy-mm-dd hh:mm"
        assert isinstance(row[deadline].value, datetime) and row[deadline].number_format == "yyyy-mm-dd"
        assert row[description].alignment.wrap_text
        link = row[url].hyperlink
        if row[url].value.startswith("http"):
            assert link is not None and link.target == row[url].value
        else:  # javascript: stays text, never a link
            assert link is None
    assert any(r[url].value == D.url for r in rows)
    assert ws.column_dimensions["F"].width >= 40  # 问题描述 is wide, and wraps


def test_mail_is_the_summary_and_top_problems_with_the_subject_marked_while_the_week_runs(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "m.db") as store:
        clock = fill_every_kind(store, per_kind=14)
        config = full_config()
        b = build_bulletin(store, config, W48, clock)
        running = build_bulletin(store, config, W48, FixedClock(datetime(2026, 11, 27, 9, 0), SHANGHAI))
    full = render_html(b)
    mail = render_html(b, mail=True, row_limit=0, listed_per_type=10)
    text = render_text(b, mail=True, row_limit=0, listed_per_type=10)
    many = [s for s in b.sections if s.summary.open > 10]
    assert many
    for body in (html_text(mail), text):
        assert "完整清单见附件1" in body and "示政网监〔2026〕48号" in body
        assert "2026-W48问题清单.xlsx" in body
    mail_items = lxml.html.document_fromstring(mail).xpath("//ol[@class='items']/li")
    assert len(mail_items) == sum(min(s.summary.open, 10) for s in b.sections)
    assert not lxml.html.document_fromstring(mail).xpath(
        "//table[contains(@class, 'list')]"
    )  # no 附件1 table
    assert len(mail) < len(full) / 3
    msg = build_message(
        running, config, text="t", html="<p>h</p>", xlsx=b"x", docx=b"d", now=clock.now(), key="k"
    )
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(msg))
    assert isinstance(msg, EmailMessage)
    assert parsed["Subject"] == running.title + "（本周尚未结束）"
    assert [a.get_filename() for a in parsed.iter_attachments()] == [
        "2026-W48问题清单.xlsx",
        "2026-W48监测通报.docx",
    ]
    assert b"filename*=utf-8''2026-W48%E7%9B%91" in bytes(msg)  # RFC 2231, one parameter
    done = build_message(b, config, text="t", html="<p>h</p>", xlsx=b"x", now=clock.now(), key="k")
    assert BytesParser(policy=policy.default).parsebytes(bytes(done))["Subject"] == b.title


def test_page_html_has_print_rules_and_fixed_columns(full_report: Report) -> None:
    html = full_report.html.read_text(encoding="utf-8")
    assert "@page { size: A4;" in html and "thead { display: table-header-group; }" in html
    tree = lxml.html.document_fromstring(html)
    (problems,) = tree.xpath("//table[contains(@class, 'list')][.//th[text()='问题描述']]")
    assert len(problems.xpath("./colgroup/col")) == 9 and problems.xpath("./thead/tr/th")
    # URLs break after separators, never at a fixed count of characters.
    link = problems.xpath(".//a[@class='url']")[0]
    assert "<wbr>" in lxml.html.tostring(link, encoding="unicode")
    # The address shows decoded and shortened in the middle; the link keeps all of it.
    assert link.get("href").startswith(LONG_URL) and "%E5%85%B3" in link.get("href")
    shown = link.text_content()
    assert "showname=关于印发" in shown and "…" in shown and len(shown) <= 140
    assert shown.startswith("http://www.shixian.gov.cn/module/download/downfile.jsp?classid=0&")
    assert date(2026, 11, 30) == full_report.bulletin.issued


def test_hostile_page_text_stays_text_in_the_word_document(tmp_path: Path) -> None:
    """Markup and control characters from a crawled page: escaped into the XML, shown as written."""
    with Store(tmp_path / "m.db") as store:
        clock = fill_store(store)
        report = render_report(store, bulletin_config(), W48, clock, tmp_path / "reports")
    text = docx_text(report.docx)
    assert HOSTILE_TITLE in text and "\x1b" not in text and "\\x1b[31m" in text
    assert FORMULA in text


def test_addresses_show_decoded_but_never_spoofed() -> None:
    from monitor.bulletin.render import display_url, wrap_url

    assert display_url("http://x.gov.cn/a/%E9%80%9A%E7%9F%A5.pdf") == "http://x.gov.cn/a/通知.pdf"
    # A decoded right-to-left override would reorder the shown address: it stays visible as an escape.
    assert "\u202e" not in display_url("http://x.gov.cn/%E2%80%AEfdp.exe")
    assert display_url("http://x.gov.cn/a%20b") == "http://x.gov.cn/a%20b"  # no decoded spaces
    assert display_url("http://x.gov.cn/%FF") == "http://x.gov.cn/%FF"  # not UTF-8: as written
    assert (
        str(wrap_url("http://x.gov.cn/a?b=<i>&c"))
        == "http://<wbr>x.gov.cn/<wbr>a?<wbr>b=<wbr>&lt;i&gt;&amp;<wbr>c"
    )
