"""Rendering the bulletin to HTML and plain text with the packaged Jinja templates.

HTML is autoescaped everywhere (titles, anchor texts, URLs from crawled pages show as text), links are
only made clickable for http(s) URLs, and the mail version gets its CSS inlined by ``css_inline`` (mail
clients drop <style> blocks). The text version passes every value through ``textsafe.inert``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

import css_inline
import jinja2

from monitor.core.textsafe import inert
from monitor.core.urls import scheme_of

from .model import Bulletin, cn_date, cn_datetime
from .vocabulary import duty_label

#: Colours of the trend bars, assigned to problem types in order (distinct in print and for most
#: colour-blind readers).
PALETTE = ("#c8161d", "#1f4e8c", "#e08a00", "#2e8b57", "#7b3fa0", "#00838f", "#8d6e63", "#5c6bc0", "#9e9d24")
_CN_DIGITS = "零一二三四五六七八九十"
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


def _context(
    b: Bulletin,
    row_limit: int | None,
    xlsx_name: str,
    images: Mapping[str, str] | None = None,
    shot_note: str = "",
) -> dict[str, Any]:
    colors = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(b.trend_types)}
    trend_max = max((p.total for p in b.trend), default=0) or 1

    def bar(total: int) -> str:
        return "█" * round(total * TEXT_BAR_WIDTH / trend_max) if total else "·"

    return {
        "b": b,
        "row_limit": row_limit,
        "xlsx_name": xlsx_name,
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
    xlsx_name: str,
    row_limit: int | None = None,
    images: Mapping[str, str] | None = None,
    shot_note: str = SHOT_NOTE_ARCHIVE,
) -> str:
    """The bulletin as an HTML document (with a <style> block), listing ``row_limit`` problems at most.

    ``images`` maps a screenshot's file name to the ``src`` it is shown with (``evidence/<file>`` beside
    bulletin.html, ``cid:…`` in the mail); screenshots without an entry are named with ``shot_note``.
    """
    context = _context(b, row_limit, xlsx_name, images, shot_note)
    return html_environment().get_template("bulletin.html.j2").render(context)


def render_text(b: Bulletin, *, xlsx_name: str, row_limit: int | None = None) -> str:
    """The bulletin as plain text."""
    return text_environment().get_template("bulletin.txt.j2").render(_context(b, row_limit, xlsx_name))


def inline_css(html: str) -> str:
    """Move the <style> rules into style attributes: what Outlook, Foxmail and webmail keep."""
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False).inline(html)
