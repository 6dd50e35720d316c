"""Rendering the bulletin to HTML and plain text with the packaged Jinja templates.

HTML is autoescaped everywhere (titles, anchor texts, URLs from crawled pages show as text), links are
only made clickable for http(s) URLs, and the mail version gets its CSS inlined by ``css_inline`` (mail
clients drop <style> blocks). The text version passes every value through ``textsafe.inert``.
"""

from __future__ import annotations

import colorsys
import dataclasses
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup, escape

from monitor.core.indicators import Verdict
from monitor.core.textsafe import inert, inert_markup
from monitor.core.urls import percent_decode, scheme_of

from .model import Bulletin, TypeSection, UnitRank, cn_date, cn_datetime
from .names import document_name, workbook_name
from .vocabulary import duty_label

_CN_DIGITS = "零一二三四五六七八九十"
#: Where a long URL may break: after a separator, so a line ends in "/", "?", "&"… never mid-word.
_URL_BREAKS = re.compile(r"(?<=[/?&=#])(?!/)")
#: Units the mail's ranking lists (the web page and the workbook list every unit).
MAIL_RANKING_ROWS = 10


def distinct_colors(n: int) -> list[str]:
    """``n`` colours that tell problem types apart (a fixed palette of 9 was repeated for 22 types).

    Hues step by the golden angle, so types listed next to each other (neighbours in a bar) get hues far
    apart, and beyond 8 types the lightness cycles through three levels, so two colours of close hue still
    differ in lightness. Colour is never the only cue: the legend and the table name every type.
    """
    out: list[str] = []
    for i in range(n):
        hue = (i * 0.381966) % 1.0
        lightness = 0.42 if n <= 8 else (0.42, 0.28, 0.58)[i % 3]
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.78)
        out.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return out


#: Longest URL the page shows in full; longer ones show their start and end around "…" (the link and
#: the workbook keep the whole address).
URL_DISPLAY_MAX = 140


def display_url(url: Any) -> str:
    """A URL as a reader reads it: percent-encoded UTF-8 decoded (``showname=关于印发….pdf`` rather than
    ``%E5%85%B3%E4%BA%8E…``, three times shorter), control and direction-override characters made inert
    (a decoded ``%E2%80%AE`` must not reorder what the reader sees), and a very long one shortened in the
    middle."""
    text = "" if url is None else str(url)
    try:
        decoded = percent_decode(text, errors="strict")
    except UnicodeDecodeError:
        decoded = text
    if decoded != text and any(c.isspace() for c in decoded):
        decoded = text  # a decoded space or line break would make the shown address ambiguous
    shown = inert(decoded)
    if len(shown) > URL_DISPLAY_MAX:
        head = URL_DISPLAY_MAX * 2 // 3
        shown = f"{shown[:head]}…{shown[-(URL_DISPLAY_MAX - head - 1) :]}"
    return shown


def wrap_url(url: Any) -> Markup:
    """The URL as :func:`display_url` shows it, escaped, with a <wbr> (a permitted line break) after each
    separator, so a narrow column breaks it at "/", "?", "&" rather than at a fixed number of characters."""
    return Markup("<wbr>").join(escape(part) for part in _URL_BREAKS.split(display_url(url)))


TEXT_BAR_WIDTH = 40


def cn_index(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (section numbers up to 99)."""
    if n <= 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def href(url: Any) -> str | None:
    """The URL when it is safe to make clickable (http/https), else None (shown as text only)."""
    if not isinstance(url, str):
        return None
    # As the parser (and a browser) reads it: tabs and line breaks inside the scheme do not hide it.
    return url if scheme_of(url, as_parsed=True) in ("http", "https") else None


def _ymd(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _num(value: int) -> str:
    return f"{value:,}"


def _add_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(
        cn_date=lambda d: cn_date(d.date() if isinstance(d, datetime) else d),
        cn_datetime=cn_datetime,
        ymd=_ymd,
        num=_num,
        href=href,
        cn_index=cn_index,
        duty_label=duty_label,
        wrap_url=wrap_url,
    )
    return env


@cache
def html_environment() -> jinja2.Environment:
    """Autoescaping environment over the package's templates (every template, whatever its name)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.bulletin", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        # Autoescaping stops markup, not control or direction-override characters: those are escaped
        # first (a crawled title with U+202E must not read backwards in the bulletin).
        finalize=inert_markup,
    )
    return _add_filters(env)


def _inert_finalize(value: Any) -> Any:
    return inert(value, keep_newlines=True) if isinstance(value, str) else value


@cache
def text_environment() -> jinja2.Environment:
    """Plain-text environment: no HTML escaping, but every printed value is made inert."""
    # Plain text output: no HTML escaping here, the values are made inert by ``finalize`` instead.
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.bulletin", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_inert_finalize,
    )
    return _add_filters(env)


#: Longest side an evidence screenshot is shown at in the bulletin (the PNG itself is up to 1200×900).
SHOT_DISPLAY_WIDTH = 800


def _shot_box(width: int, height: int) -> tuple[int, int]:
    """Display width and height (attributes, for mail clients that ignore CSS max-width)."""
    if width <= SHOT_DISPLAY_WIDTH:
        return width, height
    return SHOT_DISPLAY_WIDTH, max(1, round(height * SHOT_DISPLAY_WIDTH / width))


def trim_sections(sections: list[TypeSection], per_type: int) -> list[TypeSection]:
    """Section 二 with at most ``per_type`` problems listed per type (the mail body); the rest are
    counted in ``not_listed`` and are in the attachments."""
    out = []
    for s in sections:
        budget = per_type
        units = []
        for u in s.units:
            shown = u.problems[: max(budget, 0)]
            budget -= len(shown)
            units.append(dataclasses.replace(u, problems=shown))
        listed = sum(len(u.problems) for u in units)
        out.append(dataclasses.replace(s, units=units, not_listed=s.summary.open - listed))
    return out


def _ranking_rows(ranking: list[UnitRank], mail: bool) -> tuple[list[UnitRank], int]:
    """The ranking as shown, and how many units it leaves out (the mail: the units with problems, at
    most MAIL_RANKING_ROWS; the page lists every configured unit)."""
    if not mail:
        return ranking, 0
    shown = [r for r in ranking if r.open][:MAIL_RANKING_ROWS]
    return shown, len(ranking) - len(shown)


def _context(
    b: Bulletin,
    row_limit: int | None,
    xlsx_name: str | None,
    images: Mapping[str, str] | None = None,
    shot_note: str = "",
    *,
    mail: bool = False,
    listed_per_type: int | None = None,
) -> dict[str, Any]:
    colors = dict(zip(b.trend_types, distinct_colors(len(b.trend_types)), strict=True))
    trend_max = max((p.total for p in b.trend), default=0) or 1

    def bar(total: int) -> str:
        return "█" * round(total * TEXT_BAR_WIDTH / trend_max) if total else "·"

    sections = b.sections if listed_per_type is None else trim_sections(b.sections, listed_per_type)
    ranking, ranking_left = _ranking_rows(b.ranking, mail)
    # The mail shows the subjects that need attention; the workbook's 单项否决指标 sheet has every one.
    veto = [s for s in b.veto if s.overall != Verdict.PASS] if mail else b.veto
    return {
        "b": b,
        "mail": mail,
        "sections": sections,
        "ranking": ranking,
        "ranking_left": ranking_left,
        "veto": veto,
        "veto_left": len(b.veto) - len(veto),
        "row_limit": row_limit,
        "xlsx_name": xlsx_name or workbook_name(b.week),
        "docx_name": document_name(b.week),
        "colors": colors,
        "trend_max": trend_max,
        "bar": bar,
        "images": dict(images or {}),
        "shot_note": shot_note,
        "shot_box": _shot_box,
    }


#: What the HTML says for a screenshot it does not show (no ``images`` entry for its file).
SHOT_NOTE_ARCHIVE = "截图见通报存档"
SHOT_NOTE_MAIL = "截图未随邮件发送（邮件图片数量或大小已达上限），见通报存档"


def render_html(
    b: Bulletin,
    *,
    xlsx_name: str | None = None,
    row_limit: int | None = None,
    images: Mapping[str, str] | None = None,
    shot_note: str = SHOT_NOTE_ARCHIVE,
    mail: bool = False,
    listed_per_type: int | None = None,
) -> str:
    """The bulletin as an HTML document (with a <style> block).

    The page (``mail=False``) lists every problem in 附件1 and the census in 附件2. The mail body
    (``mail=True``) is the summary and the top problems: at most ``listed_per_type`` per type in section
    二, ``row_limit`` rows of 附件1 (0: none) and no census — the attachments carry them all.
    ``images`` maps a screenshot's file name to the ``src`` it is shown with (``evidence/<file>`` beside
    bulletin.html, ``cid:…`` in the mail); screenshots without an entry are named with ``shot_note``.
    """
    context = _context(b, row_limit, xlsx_name, images, shot_note, mail=mail, listed_per_type=listed_per_type)
    return html_environment().get_template("bulletin.html.j2").render(context)


def render_text(
    b: Bulletin,
    *,
    xlsx_name: str | None = None,
    row_limit: int | None = None,
    mail: bool = False,
    listed_per_type: int | None = None,
) -> str:
    """The bulletin as plain text (``mail`` as for :func:`render_html`)."""
    context = _context(b, row_limit, xlsx_name, mail=mail, listed_per_type=listed_per_type)
    return text_environment().get_template("bulletin.txt.j2").render(context)


def inline_css(html: str) -> str:
    """Move the <style> rules into style attributes: what Outlook, Foxmail and webmail keep."""
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False).inline(html)
