"""The 通报 as a Word document (``2026-W48监测通报.docx``) for 盖章印发: the office prints it, stamps it and
issues it, so it follows the 公文 layout (GB/T 9704) as far as a generated file can.

A4 portrait, 公文 margins; the 红头 (issuer in red), the 文号 and a red rule; the title in 宋体 bold, the
body in 仿宋 三号 with a two-character first-line indent, 一级标题 in 黑体, 二级标题 in 楷体. Every style
sets its East Asian font (``w:eastAsia``): Word picks the Chinese face from that attribute, not from the
Latin font name. 附件1 and 附件2 follow on landscape A4 pages, as tables whose header row repeats on every
printed page (``w:tblHeader``).

Table rows are written as WordprocessingML text and parsed once (lxml): python-docx's ``add_row``/cell
API, or even element-by-element building, takes most of a minute for a 20,000-row 附件1. Every value
passes through ``textsafe.inert`` (a control character from a crawled page would make the XML invalid,
and Word refuses the file) and is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from monitor.core.textsafe import inert

from .model import Bulletin, cn_date, cn_datetime
from .names import workbook_name
from .render import cn_index

#: Style names and their fonts (Latin, East Asian), size in points, bold.
BODY, HEADING1, HEADING2, TITLE, TABLE_TEXT, DOC_NUMBER = (
    "通报正文",
    "通报一级标题",
    "通报二级标题",
    "通报标题",
    "通报表格",
    "通报文号",
)
FANGSONG, HEITI, KAITI, SONGTI = "仿宋", "黑体", "楷体", "宋体"
_STYLES: dict[str, tuple[str, float, bool]] = {
    BODY: (FANGSONG, 16, False),  # 三号
    HEADING1: (HEITI, 16, False),
    HEADING2: (KAITI, 16, False),
    TITLE: (SONGTI, 22, True),  # 二号
    TABLE_TEXT: (FANGSONG, 10.5, False),  # 五号
    DOC_NUMBER: (FANGSONG, 16, False),
}
RED = RGBColor(0xC8, 0x16, 0x1D)

#: 附件1's columns and widths (cm): 26.1 cm, the width of a landscape A4 page inside its margins.
PROBLEM_COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号", 1.3),
    ("单位", 2.4),
    ("网站/账号", 2.4),
    ("问题类型", 2.4),
    ("问题描述", 6.4),
    ("网址/父页面", 4.7),
    ("发现时间", 2.5),
    ("整改状态", 1.5),
    ("整改时限", 2.5),
)


def _text(value: Any) -> str:
    return inert("" if value is None else str(value), keep_newlines=True)


def _set_fonts(rpr_parent: Any, east_asia: str) -> None:
    """Set the Latin and East Asian font of a style or run (``w:rFonts``)."""
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), east_asia)


def _styles(doc: DocumentObject) -> None:
    for name, (font, size, bold) in _STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        style.font.size = Pt(size)
        style.font.bold = bold
        _set_fonts(style.element, font)
        fmt = style.paragraph_format
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(28) if size >= 16 else Pt(14)
        if name in (BODY, HEADING1, HEADING2):
            fmt.first_line_indent = Pt(size * 2)  # 首行缩进两个字 (公文: headings too)
        if name in (TITLE, DOC_NUMBER):
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_fonts(doc.styles["Normal"].element, FANGSONG)


def _a4(section: Any, *, landscape: bool) -> None:
    width, height = Cm(21.0), Cm(29.7)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    if landscape:
        section.top_margin = section.bottom_margin = Cm(2.0)
        section.left_margin = section.right_margin = Cm(1.8)
    else:  # GB/T 9704: 天头 37 mm, 订口 28 mm
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def _page_numbers(section: Any) -> None:
    """公文 page numbers in the footer: "— 1 —", centred (a PAGE field Word and WPS fill in)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve">— </w:t></w:r>'))
    field = f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'
    p._p.append(parse_xml(field))
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> —</w:t></w:r>'))


def _para(doc: DocumentObject, text: str, style: str = BODY, *, align: Any = None) -> Any:
    p = doc.add_paragraph(_text(text), style=style)
    if align is not None:
        p.alignment = align
    return p


def _red_rule(paragraph: Any) -> None:
    """A red bottom border under the 文号 (the 红线 of a 红头文件)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "6"), ("w:color", "C8161D")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def _cell_xml(text: str, width_twips: int, style_id: str, *, bold: bool = False) -> str:
    """One table cell as WordprocessingML text (lines become <w:br/>)."""
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n"))
    bold_xml = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width_twips}" w:type="dxa"/></w:tcPr>'
        f"<w:p><w:pPr><w:pStyle w:val={quoteattr(style_id)}/></w:pPr><w:r>{bold_xml}{runs}</w:r></w:p></w:tc>"
    )


def _table(doc: DocumentObject, header: Sequence[tuple[str, float]], rows: Iterable[Sequence[Any]]) -> Table:
    """A bordered table with fixed column widths (cm) whose header row repeats on every page.

    The rows are written as one XML text and parsed once: building them element by element through
    python-docx costs about 30 µs an element, 45 s for a 20,000-row 附件1.
    """
    table = doc.add_table(rows=0, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [round(w * 567) for _, w in header]  # twips per cm
    style_id = doc.styles[TABLE_TEXT].style_id
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(w))
    # The header row repeats at the top of every page (w:tblHeader). Body rows may split: a long row kept
    # whole (w:cantSplit) left half of each printed page empty.
    parts = ["<w:tr><w:trPr><w:tblHeader/></w:trPr>"]
    parts += [_cell_xml(name, w, style_id, bold=True) for (name, _), w in zip(header, widths, strict=True)]
    parts.append("</w:tr>")
    for row in rows:
        parts.append("<w:tr>")
        parts += [_cell_xml(_text(value), w, style_id) for value, w in zip(row, widths, strict=True)]
        parts.append("</w:tr>")
    body = parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(parts)}</w:tbl>")
    table._tbl.extend(list(body))
    return table


def _ymd(value: Any) -> str:
    return value.strftime("%Y-%m-%d")


def build_document(b: Bulletin) -> DocumentObject:
    """The 通报 as a python-docx Document (what :func:`write_document` saves)."""
    doc = Document()
    _styles(doc)
    _a4(doc.sections[0], landscape=False)
    _page_numbers(doc.sections[0])  # the landscape section of the 附件 links to this footer

    masthead = _para(doc, b.issuer, TITLE)
    for run in masthead.runs:
        run.font.color.rgb = RED
        run.font.size = Pt(26)
    number = _para(doc, b.issue_number, DOC_NUMBER)
    _red_rule(number)
    _para(doc, "", BODY)
    _para(doc, b.title, TITLE)
    _para(doc, "", BODY)
    addressees = _para(doc, f"{b.addressees}：", BODY)
    addressees.paragraph_format.first_line_indent = Pt(0)
    _para(
        doc,
        f"为进一步加强{b.area}政府网站与政务新媒体管理，根据{b.basis}有关要求，{b.issuer}于{b.period_zh}"
        f"对{b.area}政府网站与政务新媒体开展了常态化监测。现将有关情况通报如下：",
    )
    if b.incomplete:
        _para(doc, f"说明：本周监测尚未结束，本通报数据截至{cn_datetime(b.as_of)}，为阶段性情况。")

    _para(doc, "一、总体情况", HEADING1)
    figures = "".join(f"，{label}{value:,}{unit}" for label, value, unit in b.figures)
    t = b.totals
    if t["open"] or t["fixed"]:
        state = (
            f"截至{cn_datetime(b.as_of)}，共有待整改问题{t['open']:,}个，其中本周新发现{t['new']:,}个、"
            f"此前发现仍未整改{t['still_open']:,}个（已逾期{t['overdue']:,}个）；本周已整改{t['fixed']:,}个。"
        )
    else:
        state = f"截至{cn_datetime(b.as_of)}，已开展的检查未发现待整改问题。"
    _para(doc, f"本周监测网站{b.sites}个，涉及{b.units_scope}{b.units}个单位{figures}。{state}")

    _para(doc, "（一）监测开展情况", HEADING2)
    _table(
        doc,
        (("检查项目", 5.5), ("开展情况", 7.0), ("待整改问题", 3.0)),
        (
            (
                c.label,
                c.state_zh,
                "—" if c.state == "none" and not c.open_problems else f"{c.open_problems:,}",
            )
            for c in b.coverage
        ),
    )
    for c in b.coverage:
        for note in c.degraded:  # nights the sanity gate did not use (issue 20)
            _para(doc, f"监测说明：{c.label}，{note}。")
    _para(doc, "（二）问题分类统计", HEADING2)
    if b.types:
        rows: list[Sequence[Any]] = [
            (s.label, s.open, s.new, s.still_open, s.overdue, s.fixed) for s in b.types
        ]
        rows.append(("合计", t["open"], t["new"], t["still_open"], t["overdue"], t["fixed"]))
        _table(
            doc,
            (
                ("问题类型", 5.0),
                ("待整改", 2.0),
                ("本周新发现", 2.2),
                ("持续未整改", 2.2),
                ("逾期", 1.6),
                ("本周已整改", 2.5),
            ),
            rows,
        )
    else:
        _para(doc, "本周无待整改或已整改问题记录。")
    _para(doc, "（三）单项否决指标情况", HEADING2)
    _para(
        doc,
        "对照国家检查指标中的单项否决项逐项核验，结果如下（“未检测”表示本周未开展该项监测，不代表合格）：",
    )
    _table(
        doc,
        (("监测对象", 3.4), ("指标", 2.8), ("结论", 1.5), ("监测情况", 4.4), ("判定标准", 3.4)),
        (
            (
                f"{s.name}（{s.kind}，综合：{s.overall.label_zh}）" if i == 0 else "",  # once per subject
                c.indicator,
                c.verdict.label_zh,
                c.figure,
                c.threshold,
            )
            for s in b.veto
            for i, c in enumerate(s.cells)
        ),
    )
    _para(doc, f"（四）近{len(b.trend)}周待整改问题趋势", HEADING2)
    if b.trend_types:
        weeks = [f"第{p.week.week}周{'*' if p.partial else ''}" for p in b.trend]
        width = 11.5 / max(len(weeks), 1)
        trend_rows: list[Sequence[Any]] = [
            (label, *(p.counts.get(label, 0) for p in b.trend)) for label in b.trend_types
        ]
        trend_rows.append(("合计", *(p.total for p in b.trend)))
        _table(doc, (("问题类型", 4.0), *((w, width) for w in weeks)), trend_rows)
    else:
        _para(doc, f"近{len(b.trend)}周无待整改问题记录。")

    _para(doc, "二、存在的问题", HEADING1)
    for i, s in enumerate(b.sections, start=1):
        summary = s.summary
        _para(doc, f"（{cn_index(i)}）{summary.label}问题{summary.open:,}个", HEADING2)
        overdue = f"，已逾期{summary.overdue:,}个" if summary.overdue else ""
        _para(doc, f"其中本周新发现{summary.new:,}个，此前发现仍未整改{summary.still_open:,}个{overdue}。")
        n = 0
        for u in s.units:
            if not u.problems:
                continue
            for p in u.problems:
                n += 1
                late = "，已逾期" if p.status == "逾期" else ""
                _para(
                    doc,
                    f"{n}. {p.unit}：{p.message}（网址：{p.url}；{p.site_name}，"
                    f"{cn_date(p.first_seen.date())}发现，整改时限{cn_date(p.deadline)}{late}）",
                )
        if s.not_listed:
            _para(doc, f"另有{s.not_listed:,}个同类问题未在正文列出，完整清单见附件1。")
    if not b.sections:
        _para(doc, f"截至{cn_datetime(b.as_of)}，已开展的检查未发现待整改问题。")
    if b.unchecked_duties:
        names = "、".join(c.label for c in b.unchecked_duties)
        _para(doc, f"本周{names}未开展或未成功完成，无监测数据，相关情况不作结论。")
    _para(doc, f"（{cn_index(len(b.sections) + 1)}）各单位待整改问题排名", HEADING2)
    _table(
        doc,
        (
            ("排名", 1.3),
            ("单位", 5.0),
            ("类别", 2.4),
            ("待整改", 2.2),
            ("其中逾期", 2.2),
            ("本周新发现", 2.4),
        ),
        ((i, r.unit, r.group, r.open, r.overdue, r.new) for i, r in enumerate(b.ranking, start=1)),
    )

    _para(doc, "三、整改要求", HEADING1)
    for i, text in enumerate(b.rectification, start=1):
        _para(doc, f"（{cn_index(i)}）{text}")
    _para(
        doc,
        f"（{cn_index(len(b.rectification) + 1)}）整改时限：{cn_date(b.deadline)}前"
        f"（自{cn_date(b.issued)}起{b.deadline_days}个工作日）。",
    )
    _para(doc, "", BODY)
    _para(doc, f"附件：1. 问题清单（共{len(b.problems):,}条）")
    more = _para(doc, "2. 网站普查信息统计表")
    more.paragraph_format.first_line_indent = Pt(16 * 5)
    _para(doc, f"（附件1、附件2的电子表格为 {workbook_name(b.week)}）")
    _para(doc, "", BODY)
    _para(doc, b.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, cn_date(b.issued), align=WD_ALIGN_PARAGRAPH.RIGHT)
    if b.contact:
        _para(doc, f"（{b.contact}）")

    _a4(doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    _para(doc, "附件1", HEADING1)
    _para(doc, "问题清单", TITLE)
    _table(
        doc,
        PROBLEM_COLUMNS,
        (
            (
                p.seq,
                p.unit,
                p.site_name,
                p.type_label,
                p.message,
                p.url + (f"\n父页面：{p.sources[0]}" if p.sources else ""),
                _ymd(p.first_seen),
                p.status,
                _ymd(p.deadline),
            )
            for p in b.problems
        ),
    )
    if not b.problems:
        _para(doc, "无。")

    doc.add_page_break()
    _para(doc, "附件2", HEADING1)
    _para(doc, "网站普查信息统计表", TITLE)
    _para(doc, "（一）栏目", HEADING2)
    if b.census.columns is None:
        _para(doc, "无数据（本周未开展栏目更新检查）。")
    else:
        _table(
            doc,
            (
                ("序号", 1.3),
                ("网站", 3.0),
                ("栏目", 3.4),
                ("单位", 3.0),
                ("类型", 2.2),
                ("最近更新", 2.5),
                ("本周更新", 1.7),
                ("本月更新", 1.7),
                ("网址", 7.3),
            ),
            (
                (
                    i,
                    c.site_name,
                    c.name,
                    c.unit or "—",
                    c.type_zh,
                    c.last_update or "无",
                    "—" if c.items_week is None else c.items_week,
                    "—" if c.items_month is None else c.items_month,
                    c.url or "",
                )
                for i, c in enumerate(b.census.columns, start=1)
            ),
        )
    _para(doc, "（二）政务新媒体账号", HEADING2)
    if b.census.accounts is None:
        _para(doc, "无数据（本周未开展政务新媒体检查）。")
    else:
        _table(
            doc,
            (
                ("序号", 1.2),
                ("账号", 5.6),
                ("平台", 3.0),
                ("单位", 4.4),
                ("最近发布", 5.2),
                ("本周发布", 2.2),
                ("本月发布", 2.2),
            ),
            (
                (
                    i,
                    a.name,
                    a.platform_zh,
                    a.unit or "—",
                    a.last_post_zh or a.last_post or "无",
                    "—" if a.posts_week is None else a.posts_week,
                    "—" if a.posts_month is None else a.posts_month,
                )
                for i, a in enumerate(b.census.accounts, start=1)
            ),
        )
    return doc


def write_document(b: Bulletin, path: Path) -> None:
    """Save the 通报 as a .docx at ``path`` (callers write to a temporary name and rename)."""
    build_document(b).save(str(path))
