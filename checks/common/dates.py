"""Deterministic date extraction for Chinese government CMS pages.

Everything here is pure: no HTTP, no database, no clock. Callers pass ``today`` (or ``now``) so that
results are reproducible and testable.

Date recognition works by ordered rules, never by guessing:

1. Full dates with a four-digit year: ``2026-11-03``, ``2026/11/03``, ``2026.11.03``, ``2026-1-3``,
   ISO ``2026-11-03T10:20:00+08:00`` (converted to Asia/Shanghai), ``2026年11月3日 10:20``.
2. Dates written in Chinese numerals as in 公文 落款: ``二〇二六年十一月三日``.
3. Month-day without a year: ``11月3日``, ``11-03``, ``[11-03]``. The dash form needs a two-digit day
   (``11-03``, ``1-05``) so that ranges such as ``1-3月`` or scores ``3-1`` are not taken for dates.
   The year is inferred as the one giving the most recent date not after ``today``.
4. Relative expressions (optional, on by default): ``刚刚``, ``5分钟前``, ``2小时前``, ``3天前``,
   ``2周前``, ``3个月前``, ``今天``, ``昨天``, ``前天`` (each optionally followed by ``10:20``).

Rejected: invalid calendar dates (``2026-02-30``), four-digit years outside 1990..today+1, two-digit
years (``10-01`` is always 1 October, never 2010), phone numbers (``0371-1234567``), 文号
(``示政〔2026〕3号``), version strings (``v2.3.1``, ``2026.1.3.4``), times alone (``10:20``), ranges
and amounts (``1-3月``, ``8-12万元``).

Full-width digits and punctuation (``２０２６－１１－０３``) are folded one-to-one, so the spans
returned always index the caller's original string.

The module also holds the list-page and article-page extractors that sit on top of date parsing:
:func:`extract_list_items`, :func:`article_date` and :func:`infer_column_type`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import cast
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from lxml import etree
from lxml.html import HtmlElement

from monitor.core.urls import join_url
from monitor.web.html import parse_document

__all__ = [
    "SHANGHAI",
    "ArticleDate",
    "DateMatch",
    "ListItem",
    "article_date",
    "article_dating",
    "base_url",
    "date_in_url",
    "drop_noise",
    "element_text",
    "extract_list_items",
    "extract_page_items",
    "find_dates",
    "find_datetimes",
    "infer_column_type",
    "latest_item",
    "navish_elements",
    "parse_date",
    "parse_datetime",
    "parse_listing",
    "scan_dates",
    "settle_years",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIN_YEAR = 1990

# --------------------------------------------------------------------------------------------------
# Normalisation: one character in, one character out, so match offsets stay valid.
# --------------------------------------------------------------------------------------------------

_FOLD = {0xFF10 + i: str(i) for i in range(10)}
_FOLD.update(
    {
        ord("－"): "-",
        ord("／"): "/",
        ord("．"): ".",
        ord("："): ":",
        ord("\u3000"): " ",
        ord("\xa0"): " ",
        ord("\u2010"): "-",
        ord("\u2011"): "-",
        ord("\u2012"): "-",
        ord("\u2013"): "-",
        ord("\u2212"): "-",
        ord("［"): "[",
        ord("］"): "]",
        ord("Ｔ"): "T",
    }
)


def _fold(text: str) -> str:
    """Fold full-width digits/punctuation to ASCII without changing the string length."""
    return text.translate(_FOLD)


# --------------------------------------------------------------------------------------------------
# Patterns. Each is tried on the folded text; overlapping candidates are resolved by earliest start,
# then by the order of this table (the first rule that claims a span wins, even when its value turns
# out to be invalid — so "2026-02-30" never degrades into "02-30").
# --------------------------------------------------------------------------------------------------

_TIME = r"(?P<H>[0-9]{1,2})\s*[:时]\s*(?P<M>[0-9]{2})(?:\s*[:分]\s*(?P<S>[0-9]{2}))?"
_ISO_TIME = (
    r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.[0-9]+)?)?"
    r"(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_NUM_BEFORE = r"(?<![0-9A-Za-z_.\-/\\])"
_NUM_AFTER = r"(?![0-9A-Za-z_]|[.\-/:][0-9])"
# Units and counters that turn "8-12" or "1-15" into a range or amount rather than a date.
_RANGE_UNITS = "万亿元%个人次件家户岁名天号楼层期批月年季周日时分秒米吨亩克斤角份项条款章节页位所届级倍"

_CN_DIGIT = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_Y = "[〇○零OＯ一二三四五六七八九]"
_CN_MD = "(?:[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "ymd",
        re.compile(
            _NUM_BEFORE
            + r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
            + r"(?:(?:T|\s+)"
            + _ISO_TIME
            + r")?"
            + _NUM_AFTER
        ),
    ),
    (
        "ymd_cn",
        re.compile(
            r"(?<![0-9])(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]"
            + r"(?:\s*"
            + _TIME
            + r")?"
            + r"(?![0-9])"
        ),
    ),
    (
        "ymd_hanzi",
        re.compile(rf"(?P<y>{_CN_Y}{{4}})\s*年\s*(?P<m>{_CN_MD})\s*月\s*(?P<d>{_CN_MD})\s*日"),
    ),
    (
        "md_cn",
        re.compile(
            r"(?<![0-9年])(?<!年\s)(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]"
            + r"(?:\s*"
            + _TIME
            + r")?"
            + r"(?![0-9])"
        ),
    ),
    (
        "md_dash",
        re.compile(
            r"(?<![0-9A-Za-z_.\-/\\第~～])(?<![0-9]:)(?P<m>[0-9]{1,2})-(?P<d>[0-9]{2})"
            + r"(?:\s+"
            + _TIME
            + r")?"
            + rf"(?![0-9]|[-/.:][0-9]|\s*[{_RANGE_UNITS}])"
        ),
    ),
    (
        "rel_num",
        re.compile(
            r"(?<![0-9.])(?P<n>[0-9]{1,3})\s*(?P<u>秒钟?|分钟|小时|个?钟头|天|周|星期|个月|年)前(?![往进来去])"
        ),
    ),
    (
        "rel_word",
        # "今天是…" is a page clock ("today is"), never a date of something.
        re.compile(r"(?<!提)(?P<w>今天|昨天|前天)(?![然是])(?:\s*" + _TIME + r")?"),
    ),
    ("rel_now", re.compile(r"刚刚")),
]

_REL_WORD_DAYS = {"今天": 0, "昨天": 1, "前天": 2}


@dataclass(frozen=True, slots=True)
class DateMatch:
    """One recognised date in a text.

    ``value`` is an aware datetime in Asia/Shanghai; when the text carried no time of day it is
    midnight and ``has_time`` is False. ``start``/``end`` index the caller's original string.
    ``kind`` names the rule that matched (``ymd``, ``ymd_cn``, ``ymd_hanzi``, ``md_cn``, ``md_dash``,
    ``rel_num``, ``rel_word``, ``rel_now``).
    """

    value: datetime
    start: int
    end: int
    has_time: bool
    kind: str

    @property
    def date(self) -> date:
        """The calendar date in Asia/Shanghai."""
        return self.value.date()

    @property
    def relative(self) -> bool:
        """True for 刚刚/N天前/昨天-style expressions, whose meaning depends on the fetch time."""
        return self.kind.startswith("rel")


def _cn_number(text: str) -> int:
    """Value of a small Chinese numeral (一 .. 三十一)."""
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[units] if units else 0)
    return _CN_DIGIT[text]


def _valid_year(year: int, today: date) -> bool:
    return MIN_YEAR <= year <= today.year + 1


def _mkdate(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _infer_year(month: int, day: int, today: date) -> date | None:
    """Most recent valid date with this month/day that is not after ``today``."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in range(today.year, today.year - 8, -1):
        candidate = _mkdate(year, month, day)
        if candidate is not None and candidate <= today:
            return candidate
    return None


def _clock(match: re.Match[str]) -> time | None:
    """The time of day carried by a match, or None (also when it is out of range)."""
    hour = match.groupdict().get("H")
    if hour is None:
        return None
    h, m = int(hour), int(match.group("M"))
    s = int(match.group("S") or 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return time(h, m, s)


def _tzinfo(spec: str | None) -> timedelta | None:
    if not spec:
        return None
    if spec == "Z":
        return timedelta(0)
    sign = -1 if spec[0] == "-" else 1
    digits = spec[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def _interpret(
    kind: str, m: re.Match[str], today: date, now: datetime | None
) -> tuple[datetime, bool] | None:
    """Turn a regex match into an aware Shanghai datetime, or None when the values are invalid."""
    clock: time | None = None
    if kind in ("ymd", "ymd_cn", "ymd_hanzi"):
        if kind == "ymd_hanzi":
            year = int("".join(str(_CN_DIGIT[c]) for c in m.group("y")))
            month, day = _cn_number(m.group("m")), _cn_number(m.group("d"))
        else:
            year, month, day = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        if not _valid_year(year, today):
            return None
        found = _mkdate(year, month, day)
        if found is None:
            return None
        clock = _clock(m) if kind != "ymd_hanzi" else None
        if kind == "ymd" and clock is not None:
            offset = _tzinfo(m.group("tz"))
            if offset is not None:
                aware = datetime.combine(found, clock, tzinfo=timezone(offset))
                return aware.astimezone(SHANGHAI), True
        return datetime.combine(found, clock or time(0), tzinfo=SHANGHAI), clock is not None
    if kind in ("md_cn", "md_dash"):
        found = _infer_year(int(m.group("m")), int(m.group("d")), today)
        if found is None:
            return None
        clock = _clock(m)
        return datetime.combine(found, clock or time(0), tzinfo=SHANGHAI), clock is not None
    # Relative expressions.
    ref = now if now is not None else datetime.combine(today, time(0), tzinfo=SHANGHAI)
    if kind == "rel_now":
        return (ref, now is not None)
    if kind == "rel_word":
        rel_day = today - timedelta(days=_REL_WORD_DAYS[m.group("w")])
        clock = _clock(m)
        return datetime.combine(rel_day, clock or time(0), tzinfo=SHANGHAI), clock is not None
    n, unit = int(m.group("n")), m.group("u")
    if unit.startswith(("秒", "分", "小时", "钟头", "个钟头")):
        seconds = n * {"秒": 1, "分": 60}.get(unit[0], 3600)
        if now is None:
            # Date-only callers: anything less than a day old is dated ``today`` (at most one day
            # lenient). Use find_datetimes() with a real ``now`` for the exact instant.
            return (ref if seconds < 86400 else ref - timedelta(seconds=seconds)), False
        return now - timedelta(seconds=seconds), True
    if unit == "天":
        delta: timedelta | relativedelta = timedelta(days=n)
    elif unit in ("周", "星期"):
        delta = timedelta(weeks=n)
    elif unit == "个月":
        delta = relativedelta(months=n)
    else:
        delta = relativedelta(years=n)
    base = now if now is not None else ref
    return base - delta, now is not None


def scan_dates(text: str, today: date, now: datetime | None = None, relative: bool = True) -> list[DateMatch]:
    """Core scanner: every date in ``text`` as :class:`DateMatch`, in order (see the module docstring).

    With ``now`` None, relative expressions are anchored on ``today`` (sub-day ones date to today).
    """
    folded = _fold(text)
    candidates: list[tuple[int, int, int, str, re.Match[str]]] = []
    for priority, (kind, pattern) in enumerate(_RULES):
        if not relative and kind.startswith("rel"):
            continue
        for m in pattern.finditer(folded):
            candidates.append((m.start(), priority, m.end(), kind, m))
    candidates.sort(key=lambda c: (c[0], c[1]))
    out: list[DateMatch] = []
    claimed_to = -1
    for start, _prio, end, kind, m in candidates:
        if start < claimed_to:
            continue
        claimed_to = end
        value = _interpret(kind, m, today, now)
        if value is None:
            continue
        out.append(DateMatch(value[0], start, end, value[1], kind))
    return out


def find_datetimes(text: str, now: datetime, relative: bool = True) -> list[DateMatch]:
    """All dates in ``text`` in order, as aware Asia/Shanghai datetimes.

    ``now`` anchors relative expressions exactly (``5小时前`` may be yesterday) and supplies the
    reference date for year inference. A naive ``now`` is taken to be Shanghai time.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=SHANGHAI)
    now = now.astimezone(SHANGHAI)
    return scan_dates(text, now.date(), now, relative)


def find_dates(text: str, today: date, relative: bool = True) -> list[tuple[date, int, int]]:
    """All dates in ``text`` in order of appearance, as ``(date, start, end)``.

    ``relative=False`` ignores 今天/昨天/N天前-style expressions (useful for prose, where "昨天"
    refers to the article's own time). Sub-day expressions (刚刚, N小时前) date to ``today``.
    """
    return [(m.date, m.start, m.end) for m in scan_dates(text, today, None, relative)]


def parse_date(text: str, today: date, relative: bool = True) -> date | None:
    """The first date in ``text`` (see :func:`find_dates`), or None."""
    found = scan_dates(text, today, None, relative)
    return found[0].date if found else None


def parse_datetime(text: str, now: datetime, relative: bool = True) -> datetime | None:
    """The first date in ``text`` as an aware Asia/Shanghai datetime (midnight if no time), or None."""
    found = find_datetimes(text, now, relative)
    return found[0].value if found else None


_DATE_LABEL = re.compile(
    r"(?:发布|更新|发稿|发表|录入|添加|上传)?(?:时间|日期)\s*[:：]?|[\[\]【】()（）〔〕<>《》|｜·•\s:：]"
)


def _date_only_match(text: str, today: date) -> DateMatch | None:
    """The match if ``text`` is nothing but one date (with brackets or a 发布时间 label), else None."""
    stripped = text.strip()
    if not stripped or len(stripped) > 40:
        return None
    found = scan_dates(stripped, today, None, True)
    if len(found) != 1:
        return None
    rest = stripped[: found[0].start] + stripped[found[0].end :]
    if _DATE_LABEL.sub("", rest).strip():
        return None
    return found[0]


def _date_only(text: str, today: date) -> date | None:
    """The date if ``text`` is nothing but one date (with brackets or a 发布时间 label), else None."""
    found = _date_only_match(text, today)
    return found.date if found is not None else None


#: Year-less rules: their year has to be inferred (from the item's link, its neighbours, the clock).
_YEARLESS = frozenset({"md_cn", "md_dash"})

#: Dates in CMS article URLs: ``/2024/06/01/``, ``/art/2024/6/1/art_…``, ``t20240601_…``,
#: ``/202406/01/``, ``/2023-12/01/content_…``. Year and month alone: ``/202406/``.
_URL_YMD = (
    re.compile(r"/(?P<y>(?:19|20)[0-9]{2})/(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})(?=/)"),
    re.compile(r"(?<![0-9])t?(?P<y>(?:19|20)[0-9]{2})(?P<m>[01][0-9])(?P<d>[0-3][0-9])_[0-9]"),
    re.compile(r"/(?P<y>(?:19|20)[0-9]{2})(?P<m>[01][0-9])/(?P<d>[0-3][0-9])/"),
    re.compile(r"/(?P<y>(?:19|20)[0-9]{2})-(?P<m>[01]?[0-9])/(?P<d>[0-3]?[0-9])/"),
)
_URL_YM = re.compile(r"/(?P<y>(?:19|20)[0-9]{2})(?P<m>[01][0-9])/")


def date_in_url(url: str) -> tuple[int, int, int | None] | None:
    """``(year, month, day or None)`` written in a CMS link (``/art/2024/6/1/…``, ``t20240601_…``)."""
    for pattern in _URL_YMD:
        m = pattern.search(url)
        if m and _mkdate(int(m.group("y")), int(m.group("m")), int(m.group("d"))):
            return int(m.group("y")), int(m.group("m")), int(m.group("d"))
    m = _URL_YM.search(url)
    if m and 1 <= int(m.group("m")) <= 12:
        return int(m.group("y")), int(m.group("m")), None
    return None


def _closest_year(month: int, day: int, anchor: date) -> date | None:
    """The date with this month/day nearest to ``anchor`` (anchor's year, or the one before/after)."""
    options = [d for y in (anchor.year - 1, anchor.year, anchor.year + 1) if (d := _mkdate(y, month, day))]
    return min(options, key=lambda d: abs((d - anchor).days)) if options else None


def settle_years(items: list[ListItem], today: date) -> list[ListItem]:
    """Give year-less dates (``06-01``) their year: from the item's own link (``/art/2024/6/1/…``),
    else from the nearest dated neighbour on the page, else the clock (most recent not after today).

    A year-less date is never put after ``today``: when the link or a neighbour would do so, the
    clock's reading is used instead.
    """
    anchors = [(i, it.date) for i, it in enumerate(items) if it.date is not None and not it.yearless]
    out: list[ListItem] = []
    for i, item in enumerate(items):
        if item.date is None or not item.yearless:
            out.append(item)
            continue
        month, day = item.date.month, item.date.day
        settled: date | None = None
        in_url = date_in_url(item.url)
        if in_url is not None:
            y, m, d = in_url
            settled = _closest_year(month, day, date(y, m, d or 15))
        elif anchors:
            _pos, near = min(anchors, key=lambda a: abs(a[0] - i))
            settled = _closest_year(month, day, near)
        if settled is None or settled > today:
            settled = _infer_year(month, day, today)
        out.append(
            ListItem(item.title, item.url, settled, item.pinned, item.yearless)
            if settled is not None
            else item
        )
    return out


# --------------------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------------------

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_NOISE_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "select", "option")
_NAV_TAGS = {"nav", "header", "footer", "aside"}
_NAV_TOKENS = {
    "nav",
    "navbar",
    "navigation",
    "menu",
    "menus",
    "header",
    "head",
    "topbar",
    "footer",
    "foot",
    "bottom",
    "sidebar",
    "side",
    "aside",
    "breadcrumb",
    "breadcrumbs",
    "crumb",
    "crumbs",
    "position",
    "location",
    "weizhi",
    "dqwz",
    "dh",
    "daohang",
    "copyright",
    "banquan",
    "friendlink",
    "friendlinks",
    "yqlj",
    "links",
    "share",
    "toolbar",
    "tools",
    "wza",
    "zgwza",
    "accessibility",
    "pagination",
    "pager",
    "paging",
    "fenye",
    "pagebar",
    "page_nav",
}
_NAV_SUBSTRINGS = ("nav", "menu", "footer", "header", "sidebar", "crumb", "copyright", "pagination", "yqlj")
_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")


#: Hanweb (大汉) jpage lists ship page 1 inside ``<script type="text/xml"><datastore>…<record><![CDATA[
#: <li>…</li>]]></record>…``: invisible to an HTML parser, which would see a blank column.
_DATASTORE = re.compile(r"<script[^>]*>\s*(<datastore>.*?</datastore>)\s*</script>", re.I | re.S)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.I | re.S)


def _unwrap_datastore(html: str) -> str:
    """Replace Hanweb datastore scripts by their records, as the browser's jpage.js would show them."""
    if "<datastore>" not in html:
        return html

    def records(m: re.Match[str]) -> str:
        rows = _RECORD.findall(m.group(1))
        return '<div class="datastore-records">' + "".join(rows) + "</div>"

    return _DATASTORE.sub(records, html)


def parse_listing(html: str) -> HtmlElement | None:
    """A list page's tree (:func:`monitor.web.html.parse_document`: None when empty or unparsable).

    Hanweb datastore lists (records inside a script) are unwrapped into markup first.
    """
    if not html or not html.strip():
        return None
    return parse_document(_unwrap_datastore(_XML_DECL.sub("", html, count=1)))


def drop_noise(root: HtmlElement) -> None:
    """Remove scripts, styles, comments and similar non-content nodes in place (keeping tails)."""
    for el in list(root.iter(etree.Comment, etree.ProcessingInstruction, *_NOISE_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()


def _tokens(el: HtmlElement) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return {t for t in _TOKEN_SPLIT.split(raw) if t}


def _is_navish(el: HtmlElement) -> bool:
    """True for navigation, header, footer, sidebar, breadcrumb and pager containers."""
    if not isinstance(el.tag, str):
        return False
    if el.tag.lower() in _NAV_TAGS:
        return True
    tokens = _tokens(el)
    if tokens & _NAV_TOKENS:
        return True
    return any(sub in tok for tok in tokens for sub in _NAV_SUBSTRINGS)


def navish_elements(root: HtmlElement) -> set[HtmlElement]:
    """All elements that are, or sit inside, a nav-ish container."""
    marked: set[HtmlElement] = set()
    for el in root.iter():
        if not isinstance(el.tag, str) or el in marked:
            continue
        if _is_navish(el) and el.tag.lower() not in ("html", "body"):
            marked.update(e for e in el.iter() if isinstance(e.tag, str))
    return marked


def element_text(el: HtmlElement) -> str:
    """Whitespace-collapsed text content of an element."""
    return re.sub(r"\s+", " ", el.text_content()).strip()


def base_url(root: HtmlElement, page_url: str) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return join_url(page_url, href)
    return page_url


def _select(el: HtmlElement, selector: str) -> list[HtmlElement]:
    """CSS selector, or XPath when the selector starts with '/', './' or '('."""
    sel = selector.strip()
    if sel.startswith(("/", "./", "(")):
        found = [e for e in el.xpath(sel) if isinstance(e, etree._Element)]
        # Every node of an lxml.html tree is one of its element classes, with the HTML text methods.
        return cast(list[HtmlElement], found)
    from lxml.cssselect import CSSSelector  # needs the 'cssselect' package

    return CSSSelector(sel)(el)


# --------------------------------------------------------------------------------------------------
# List pages
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListItem:
    """One entry of a column list page. ``date`` is None when the page shows no date for it."""

    title: str
    url: str
    date: date | None
    pinned: bool = False
    #: The page showed no year (``06-01``): see :func:`settle_years`.
    yearless: bool = False


_PAGER_TEXT = re.compile(
    r"^(?:首页|上一?页|下一?页|尾页|末页|前页|后页|更多.*|more.*|查看更多.*|[0-9]+|[<>«»‹›]+|\.\.\.|…|"
    r"[<«‹]?\s*[上下][一个]?[月年周篇条]\s*[>»›]?|"
    r"跳转|确定|go|返回.*|打印.*|关闭.*)$",
    re.I,
)
#: Page chrome (accessibility toolbars, version switches, account links): never a list item.
_CHROME_TEXT = re.compile(
    r"^(?:无障碍.{0,6}|长者.{0,4}|适老化.{0,4}|关怀版|老年版|大字版|读屏.{0,3}|繁體|繁体.{0,2}|简体.{0,2}|English|"
    r"登录|注册|个人中心|设为首页|加入收藏|收藏本站|手机版|移动版|智能问答|网站支持IPv6|政务微博|政务微信)$",
    re.I,
)
_PIN_TEXT = re.compile(r"置顶|[\[【(（]\s*顶\s*[\]】)）]")
_PIN_TOKENS = {
    "zhiding",
    "zd",
    "istop",
    "is_top",
    "settop",
    "sticky",
    "stick",
    "ding",
    "top",
    "pin",
    "pinned",
}
_PIN_SRC = re.compile(r"置顶|zhiding|(?:^|[/_\-.])(?:top|ding|zd)[0-9]*\.(?:gif|png|jpe?g|svg)", re.I)
_BULLETS = "·•●○■□◆◇▪▫►▶>》-—|*"
_SKIP_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#|$)", re.I)


def _link_title(a: HtmlElement) -> str:
    text = element_text(a)
    attr = re.sub(r"\s+", " ", a.get("title") or "").strip()
    # Titles truncated with "..." carry the full text in @title.
    if attr and (len(attr) >= len(text) or text.endswith(("...", "…", "..", "．．．"))):
        return attr
    return text


def _content_links(
    row: HtmlElement, navish: set[HtmlElement] | frozenset[HtmlElement] = frozenset()
) -> list[HtmlElement]:
    links = []
    for a in row.iter("a"):
        if a in navish:
            continue  # a breadcrumb or pager inside a large row is not the row's content
        href = a.get("href")
        if href is None or _SKIP_HREF.match(href):
            continue
        title = _clean_title(_link_title(a))
        if len(title) < 2 or _PAGER_TEXT.match(title) or _CHROME_TEXT.match(title):
            continue
        links.append(a)
    return links


def _clean_title(title: str) -> str:
    title = _PIN_TEXT.sub("", title)
    title = re.sub(r"\s+", " ", title).strip()
    return title.strip(_BULLETS + " ").strip()


def _is_pinned(row: HtmlElement) -> bool:
    if _PIN_TEXT.search(row.text_content()):
        return True
    for el in row.iter():
        if not isinstance(el.tag, str):
            continue
        if _tokens(el) & _PIN_TOKENS:
            return True
        if el.tag == "img":
            probe = " ".join(el.get(k) or "" for k in ("src", "alt", "title"))
            if _PIN_SRC.search(probe):
                return True
    return False


def _trailing_or_leading_date(text: str, today: date) -> tuple[date, str, bool] | None:
    """A numeric date (``2026-11-03``, ``[11-03]``) glued to the end or start of a link text, and the
    text without it. Chinese-style dates (``11月3日``) at either end are prose, not a date column."""
    stripped = text.strip()
    found = [m for m in scan_dates(stripped, today, None, False) if m.kind in ("ymd", "md_dash")]
    if not found:
        return None
    last, first = found[-1], found[0]
    tail = stripped[last.end :]
    if not _DATE_LABEL.sub("", tail).strip() and _DATE_LABEL.sub("", stripped[: last.start]).strip():
        return last.date, stripped[: last.start].rstrip("[【(（〔 "), last.kind in _YEARLESS
    head = stripped[: first.start]
    if not _DATE_LABEL.sub("", head).strip() and _DATE_LABEL.sub("", stripped[first.end :]).strip():
        return first.date, stripped[first.end :].lstrip("]】)）〕 "), first.kind in _YEARLESS
    return None


_CLOCK_BEFORE = re.compile(r"(?:今天是|今日是|今天|今日|现在是|当前时间|北京时间)\s*[:：]?\s*$")


def _row_date(
    row: HtmlElement, title_link: HtmlElement | None, today: date
) -> tuple[date | None, bool, bool]:
    """The date shown for a row, whether it was glued to the title link's text, and whether it
    was written without a year (``06-01``: see :func:`settle_years`).

    Order: the last descendant element whose whole text is one date; else the last date in the row
    text outside the title link; else a numeric date glued to the start or end of the link text.
    A date after 今天是/当前时间 is a clock, and a relative word (今天, 3天前) counts only when it is
    all the row shows besides its title (a date cell), never inside other text.
    """
    last: DateMatch | None = None
    for el in row.iter():
        if el is row or not isinstance(el.tag, str) or el is title_link:
            continue
        found = _date_only_match(el.text_content(), today)
        if found is not None:
            last = found
    if last is not None:
        return last.date, False, last.kind in _YEARLESS
    full = row.text_content()
    if title_link is not None:
        full = full.replace(title_link.text_content(), " ", 1)
        if title_link.get("title"):
            full = full.replace(title_link.get("title") or "", " ")
    found_all = [m for m in scan_dates(full, today, None, True) if not _CLOCK_BEFORE.search(full[: m.start])]
    if found_all:
        m = found_all[-1]
        rest = _DATE_LABEL.sub("", full[: m.start] + full[m.end :]).strip()
        if not m.relative or len(rest) <= 4:
            return m.date, False, m.kind in _YEARLESS
    if title_link is not None:
        glued = _trailing_or_leading_date(title_link.text_content(), today)
        if glued is not None:
            return glued[0], True, glued[2]
    return None, False, False


def _row_item(
    row: HtmlElement,
    base: str,
    today: date,
    date_selector: str | None = None,
    navish: set[HtmlElement] | frozenset[HtmlElement] = frozenset(),
) -> ListItem | None:
    links = _content_links(row, navish)
    if not links:
        return None
    link = max(links, key=lambda a: len(_clean_title(_link_title(a))))
    title = _link_title(link)
    glued = yearless = False
    if date_selector:
        hits = _select(row, date_selector)
        matches = scan_dates(" ".join(h.text_content() for h in hits), today) if hits else []
        found = matches[0].date if matches else None
        yearless = bool(matches) and matches[0].kind in _YEARLESS
    else:
        found, glued, yearless = _row_date(row, link, today)
    if not link.get("title"):
        # Date cells nested inside the link (<a><span>标题</span><span>2026-11-03</span></a>).
        for el in link.iter():
            if el is not link and isinstance(el.tag, str) and _date_only(el.text_content(), today):
                title = title.replace(element_text(el), "", 1)
        if glued:
            stripped = _trailing_or_leading_date(title, today)
            if stripped is not None:
                title = stripped[1]
    url = join_url(base, (link.get("href") or "").strip())
    return ListItem(_clean_title(title), url, found, _is_pinned(row), yearless)


#: A row is one entry: a title, a date, maybe a short summary. Anything bigger (a page-wrapping div, a
#: whole block) is a container, and a date somewhere inside it is not "its" date.
ROW_MAX_CHARS = 300
ROW_MAX_ELEMENTS = 40


def _small_row(row: HtmlElement) -> bool:
    """True when ``row`` is small enough to be one list entry."""
    for count, _el in enumerate(row.iter(), 1):
        if count > ROW_MAX_ELEMENTS:
            return False
    return len(re.sub(r"\s+", "", row.text_content())) <= ROW_MAX_CHARS


_ROW_SKIP = {"br", "hr", "img", "input", "button", "label", "h1", "h2", "h3", "h4", "h5", "h6"}


def _rows(container: HtmlElement) -> list[HtmlElement]:
    return [c for c in container if isinstance(c.tag, str) and c.tag.lower() not in _ROW_SKIP]


@dataclass(slots=True)
class _RowInfo:
    links: int
    dated: bool


def _signature(el: HtmlElement) -> tuple[str, str]:
    return (str(el.tag), " ".join(sorted((el.get("class") or "").split())))


def extract_list_items(
    html: str,
    page_url: str,
    today: date,
    item_selector: str | None = None,
    date_selector: str | None = None,
) -> list[ListItem]:
    """Items of the main list on a CMS column list page, in page order.

    With ``item_selector`` (CSS, or XPath starting with '/', './' or '('), each selected element is an
    item; ``date_selector`` (relative to the item) then says where its date is.

    Without selectors the main list is found structurally: every element is a candidate container,
    its element children are candidate rows, and a row qualifies when it holds one to three content
    links (pager links such as 下一页/1/2/尾页 and javascript: links do not count). The container with
    the most *dated* rows wins (ties: more linked rows, then page order); if no row anywhere carries a
    date, the container with the most linked rows wins (at least two rows with titles of four or more
    characters on average). Containers inside nav/header/footer/aside or elements whose class/id says
    nav, menu, sidebar, breadcrumb, footer, pager or 友情链接 are never candidates. Sibling containers
    with the same tag and class (lists split into several <ul>) are merged.

    A row's date is the last descendant element whose whole text is one date (``2026-11-03``,
    ``[11-03]``, ``发布时间：…``), else the last date in the row text outside the title link, else a
    numeric date glued to the start or end of the link text (``标题 2026-11-03``). Dates inside a
    title (``11月3日义诊``) are never used. Rows without a date keep ``date=None`` (an undated item
    counts as not updated). Pinned rows: 置顶/[顶] text, a class such as ``top``/``zhiding``/``zd``
    on the row or inside it, or a pin image (``top.gif``, ``zhiding.png``, alt 置顶).
    """
    root = parse_listing(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    drop_noise(root)
    if item_selector:
        out = []
        for row in _select(root, item_selector):
            item = _row_item(row, base, today, date_selector)
            if item is not None:
                out.append(item)
        return settle_years(out, today)

    navish = navish_elements(root)
    info: dict[HtmlElement, _RowInfo] = {}

    def row_info(row: HtmlElement) -> _RowInfo:
        cached = info.get(row)
        if cached is None:
            links = _content_links(row, navish)
            if not links or len(links) > 3:
                cached = _RowInfo(len(links), False)
            else:
                link = max(links, key=lambda a: len(_clean_title(_link_title(a))))
                dated = _small_row(row) and _row_date(row, link, today)[0] is not None
                cached = _RowInfo(len(links), dated)
            info[row] = cached
        return cached

    best: tuple[int, int, int] | None = None
    best_el: HtmlElement | None = None
    for order, el in enumerate(root.iter()):
        if not isinstance(el.tag, str) or el in navish or el.tag.lower() in ("a", "head", "html"):
            continue
        rows = [r for r in _rows(el) if r not in navish]
        if not rows:
            continue
        linked = [r for r in rows if 1 <= row_info(r).links <= 3]
        if not linked:
            continue
        dated = sum(1 for r in linked if row_info(r).dated)
        if dated == 0:
            if len(linked) < 2:
                continue
            firsts = [_content_links(r, navish)[0] for r in linked]
            titles = [_clean_title(_link_title(a)) for a in firsts]
            avg = sum(len(t) for t in titles) / len(linked)
            if avg < 4:
                continue
            # A menu of sections or columns (links to list pages: ``…/``, ``…/index.html``) is not a
            # list of undated items, however long its names.
            sections = sum(1 for a in firsts if _SECTION_HREF.search((a.get("href") or "").strip()))
            if sections * 2 >= len(firsts):
                continue
        score = (dated, len(linked), -order)
        if best is None or score > best:
            best, best_el = score, el
    if best_el is None:
        return []

    containers = [best_el]
    parent = best_el.getparent()
    if parent is not None and best is not None and best[0] > 0:
        sig = _signature(best_el)
        containers = [
            sib
            for sib in parent
            if sib is best_el
            or (
                isinstance(sib.tag, str)
                and _signature(sib) == sig
                and sib not in navish
                and any(row_info(r).dated for r in _rows(sib))
            )
        ]
    items: list[ListItem] = []
    for container in containers:
        for row in _rows(container):
            if row in navish or not 1 <= row_info(row).links <= 3:
                continue
            item = _row_item(row, base, today, navish=navish)
            if item is not None:
                items.append(item)
    return settle_years(items, today)


#: A link to a list page (a section or column), not to an item.
_SECTION_HREF = re.compile(
    r"(?:/|/(?:index|default|list|jump|more)(?:_[a-z0-9]+)?\.(?:s?html?|jsp|php|aspx?)|/col/col[0-9]+/?)$",
    re.I,
)

_PAGE_ROW_TAGS = ("li", "tr", "dd", "dt", "p", "div", "span", "td")


def extract_page_items(html: str, page_url: str, today: date) -> list[ListItem]:
    """Every dated item anywhere on a page outside navigation, in page order (for homepages).

    A homepage holds many small lists (要闻, 通知公告, 政策文件…), so unlike :func:`extract_list_items`
    no single main list is chosen: every innermost row (li, tr, dd, dt, p, div, span, td) with one to
    three content links and a date is an item, dated as in :func:`extract_list_items`; a row that
    contains such a row is not an item itself. Rows inside nav/header/footer/sidebar containers never
    count, so the header clock ("今天是2026年11月26日") cannot make a stale homepage look fresh.
    """
    root = parse_listing(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    drop_noise(root)
    navish = navish_elements(root)
    found: dict[HtmlElement, ListItem] = {}
    for row in root.iter(*_PAGE_ROW_TAGS):
        if row in navish or not _small_row(row) or not 1 <= len(_content_links(row, navish)) <= 3:
            continue
        item = _row_item(row, base, today, navish=navish)
        if item is not None and item.date is not None:
            found[row] = item
    inner = [row for row in found if not any(d in found for d in row.iterdescendants(*_PAGE_ROW_TAGS))]
    return settle_years([found[row] for row in inner], today)


def latest_item(items: Iterable[ListItem], today: date, include_pinned: bool = True) -> ListItem | None:
    """The item with the newest date not after ``today`` (first in page order on ties), or None.

    Pinned items count by default: a pinned item dated yesterday is content from yesterday; taking the
    maximum (not the first row) already keeps an old pinned item from masking the real latest date.
    Dates after ``today`` are ignored as implausible for a freshness check.
    """
    best: ListItem | None = None
    for item in items:
        if item.date is None or item.date > today or (item.pinned and not include_pinned):
            continue
        if best is None or best.date is None or item.date > best.date:
            best = item
    return best


# --------------------------------------------------------------------------------------------------
# Article pages
# --------------------------------------------------------------------------------------------------

_META_KEYS = (
    "pubdate",
    "publishdate",
    "og:article:published_time",
    "article:published_time",
    "og:published_time",
    "firstpublishedtime",
    "dc.date.issued",
    "dcterms.issued",
)
_PUB_LABEL = re.compile(r"(?:发布|发稿|发表)(?:时间|日期)\s*[:：]?\s*$")
# A bare 日期/时间 label stands alone (``日期：2026-11-03``); 报名时间/成文日期/实施日期 are other dates.
_GENERIC_LABEL = re.compile(r"(?<![\u4e00-\u9fff])(?:日期|时间)\s*[:：]\s*$")
_CONTENT_TOKENS = {
    "content",
    "article",
    "zw",
    "zhengwen",
    "detail",
    "trs_editor",
    "art",
    "news_content",
    "main_content",
    "article_content",
    "con",
    "text",
    "zoom",
    "bt_content",
    "pages_content",
    "artibody",
}


def _block_text(el: HtmlElement) -> str:
    """Text of an element with block boundaries kept as newlines."""
    parts: list[str] = []

    def walk(node: HtmlElement) -> Iterator[str]:
        if node.text:
            yield node.text
        for child in node:
            if isinstance(child.tag, str) and child.tag.lower() in (
                "p",
                "div",
                "br",
                "li",
                "tr",
                "td",
                "h1",
                "h2",
                "h3",
                "h4",
                "table",
                "span",
            ):
                yield "\n" if child.tag.lower() != "span" else " "
            yield from walk(child)
            if child.tail:
                yield child.tail

    parts.extend(walk(el))
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class ArticleDate:
    """When an article page says it was published.

    ``visible``: a date the reader sees next to a 发布时间/发布日期/日期/时间 label (or in the info line
    with 来源/作者/浏览次数); ``meta``: a ``PubDate``-style meta tag. ``date`` is the visible one when
    there is one, else the meta one; ``disagree`` is True when both exist and differ.
    """

    visible: date | None
    meta: date | None

    @property
    def date(self) -> date | None:
        """The publication date to use (visible first)."""
        return self.visible if self.visible is not None else self.meta

    @property
    def disagree(self) -> bool:
        """True when the page shows one date and its meta tag says another."""
        return self.visible is not None and self.meta is not None and self.visible != self.meta


#: The line of article metadata under a title: a full date there is the publication date.
_INFO_LINE = re.compile(r"来源|作者|浏览|点击|阅读|访问|字号|编辑|责任编辑|信息来源|文章来源|供稿")
_FULL_KINDS = frozenset({"ymd", "ymd_cn"})


def article_dating(html: str, today: date) -> ArticleDate:
    """Publication date of an article page, as the page shows it and as its meta tags say.

    Visible: (1) a date right after a 发布时间/发布日期 label, then after a bare 日期/时间 label (not
    成文日期, 实施日期, 截止时间 …); (2) a full date in a short info line with 来源/作者/浏览次数 labels.
    Meta: PubDate / publishdate / og:article:published_time / article:published_time / dcterms.issued.
    Never: header/nav/footer text (headers show "今天是…"), datelines (新华社北京6月1日电), dates in the
    prose, the 落款 date under a document, relative words.
    """
    root = parse_listing(html)
    if root is None:
        return ArticleDate(None, None)
    meta_date = None
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        if key in _META_KEYS:
            meta_date = parse_date(meta.get("content") or "", today, relative=False)
            if meta_date is not None:
                break
    drop_noise(root)
    navish = navish_elements(root)
    for el in [e for e in navish if e.getparent() is not None and e.getparent() not in navish]:
        el.drop_tree()
    body = root.find("body")
    scope = body if body is not None else root
    text = _block_text(scope)
    matches = scan_dates(text, today, None, relative=False)
    for label in (_PUB_LABEL, _GENERIC_LABEL):
        for m in matches:
            if label.search(text[max(0, m.start - 12) : m.start]):
                return ArticleDate(m.date, meta_date)
    # The info line (来源：… 2026-11-03 浏览次数：…), also when a template splits it over a few short
    # lines (<li>来源：新华社</li><li>2023-12-01 14:43</li>).
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for i, line in enumerate(lines):
        if len(line) > 120:
            continue
        full = [m for m in scan_dates(line, today, None, relative=False) if m.kind in _FULL_KINDS]
        if not full:
            continue
        near = lines[max(0, i - 2) : i + 3] if _date_only(line, today) else [line]
        if any(len(n) <= 120 and _INFO_LINE.search(n) for n in near):
            return ArticleDate(full[0].date, meta_date)
    return ArticleDate(None, meta_date)


def article_date(html: str, today: date) -> date | None:
    """Publication date of an article page (see :func:`article_dating`): visible label, else meta."""
    return article_dating(html, today).date


# --------------------------------------------------------------------------------------------------
# Column types
# --------------------------------------------------------------------------------------------------

#: Ordered (keywords, type) rules; the first rule with a keyword contained in the column name wins.
#: Order matters: 专题 before everything (historical special topics are exempt from update checks),
#: 互动 before 政策 (政策咨询 is a message channel), 人事/规划 before 公示 (人事任免公示 is personnel),
#: 政策解读 is "policy": the 2015 definitions group all 政策 columns under the 6-month window, and a
#: 解读 column is due whenever policy documents are.
COLUMN_TYPE_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("专题", "专栏"), "topic"),
    (("互动", "留言", "咨询", "信箱", "来信", "问政", "征集", "调查", "访谈"), "interaction"),
    (("计划生育",), "other"),
    # 新闻发布会/发布会实录 hold press conferences, held when there is news to announce: no fixed window
    # (matching 新闻 below would make it a 14-day 动态 column).
    (("新闻发布会", "发布会", "新闻发言人"), "other"),
    (("人事", "任免", "招录", "招聘"), "personnel"),
    (("规划", "计划"), "planning"),
    (("政策解读", "解读"), "policy"),
    (("政策", "规范性文件", "文件"), "policy"),
    (("通知公告", "公示公告", "公告", "公示", "通知", "通告"), "notice"),
    (("要闻", "动态", "工作进展", "新闻", "资讯", "简讯", "快讯"), "dynamic"),
)

COLUMN_TYPES = ("dynamic", "notice", "policy", "personnel", "planning", "interaction", "topic", "other")


def infer_column_type(name: str) -> str:
    """Column type from its name by the ordered :data:`COLUMN_TYPE_RULES` table; "other" if none."""
    clean = re.sub(r"\s+", "", name or "")
    for keywords, kind in COLUMN_TYPE_RULES:
        if any(k in clean for k in keywords):
            return kind
    return "other"
