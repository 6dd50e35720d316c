"""Finding a site's columns (栏目) without configuration: navigation links and column meta tags.

Discovery reads the homepage and follows, breadth first and up to :data:`MAX_DEPTH` links deep, the
links that name sections and columns: navigation containers (nav/header/menu), left-hand menus and tab
strips (a run of short single-link entries without dates), block headings in both nestings
(``<h3><a>县域要闻</a></h3>`` and ``<a><h1>近期信息公开</h1></a>``), 更多>> links, and on section pages
the directory-style links below the page's own directory — so ``/xxgk/`` → ``/xxgk/bm/`` →
``/xxgk/bm/<unit>/`` → ``/xxgk/bm/<unit>/<column>/`` is reached. A visited page is a column when it
carries a ``ColumnName`` meta tag (《政府网站发展指引》 page tags) or shows a list of items; its name is the
``ColumnName`` (else the link text, else the heading next to a 更多 link, else the page title) and its
type is inferred from the name, then from ``ColumnType``.

Never columns: pager links (``index_1.html``, 下一页, 2, 尾页), links to articles (``/art/2024/6/1/…``,
``t20240601_…``, ``content_…``, numbered pages) and pages that read as an article; the homepage itself;
网站地图/联系我们/搜索/找错/无障碍-style utility pages; pages without a list whose body carries real text
(县情概况, forms: static pages). A page without items whose body is (nearly) empty, or says 暂无信息, is a
blank column (空白栏目). ``http`` and ``https`` copies of a page are one page.

The pure part (:func:`page_facts`, :func:`column_from_facts`, :func:`candidate_links`) is separate from
the fetching (:func:`discover_columns`) so that it can be tested on fixtures.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from lxml.html import HtmlElement
from yarl import URL

from checks.common.dates import (
    ListItem,
    _tokens,
    base_url,
    date_in_url,
    drop_noise,
    element_text,
    extract_list_items,
    infer_column_type,
    navish_elements,
    parse_listing,
    scan_dates,
)
from monitor.core.urls import InvalidURL, looks_like_resource, normalize

__all__ = [
    "Candidate",
    "DiscoveredColumn",
    "Discovery",
    "PageFacts",
    "candidate_links",
    "column_from_facts",
    "column_key",
    "discover_columns",
    "looks_like_article",
    "looks_like_pager",
    "page_facts",
    "unit_name",
    "visit_key",
]

#: Names of utility pages that are never columns.
_NOT_COLUMN = re.compile(
    r"^(?:首页|主页|网站首页|返回首页)$|网站地图|站点地图|联系我们|网站声明|隐私|搜索|检索|找错|纠错|无障碍|长者|"
    r"关怀版|适老|老年版|读屏|登录|注册|English|RSS|版权|帮助|关于本站|收藏|设为首页|繁體|繁体|"
    r"^(?:上一?页|下一?页|尾页|末页|[0-9]+)$|"
    # online services (query forms, systems), not information columns
    r"查询$|系统$|平台$|在线办理|网上办理|在线申报|在线预约"
)
#: How many links deep discovery goes from the homepage: /xxgk/bm/<unit>/<column>/ is 4, one spare.
MAX_DEPTH = 5
#: Menu and tab entries are short names (政策文件, 县教育局); longer link texts are item titles.
MENU_TEXT_CHARS = 14
_PAGER_PATH = re.compile(
    r"(?:^|/)(?:index|default|list|home|more)_[0-9]+\.s?html?$|/(?:page|p)/?[0-9]+/?$", re.I
)
_PAGER_QUERY = re.compile(r"(?:^|&)(?:page|pageno|pagenum|pageindex|curpage|cur_page|p)=[0-9]+", re.I)
_PAGER_LINK_TEXT = re.compile(
    r"^(?:首页|上一?页|下一?页|尾页|末页|前页|后页|[0-9]+|[<>«»‹›]+|跳转|GO)$", re.I
)
_ARTICLE_FILE = re.compile(
    r"^(?:art_[0-9_]+|t[0-9]{8}_[0-9]+|t[0-9]{6,}|content_[0-9_]+|[0-9a-f]{32}|[0-9]{5,}|.*[_-][0-9]{6,})\.s?html?$|"
    r"^(?:detail|show|view|article)[^/]*\.(?:s?html?|jsp|php|aspx?)$",
    re.I,
)
#: Link texts that name a unit (县直部门, 乡镇): columns found below its page belong to it.
_UNIT_NAME = re.compile(r"^.{2,16}(?:局|委员会|委|办公室|办|镇|乡|街道|中心|院|所|处|站|管委会|政府)$")
_NOT_UNIT = re.compile(
    r"^(?:乡镇|乡镇街道|镇街|各乡镇|乡镇政府|县直部门|部门|政务服务中心|新闻中心|信息中心|.*(?:动态|公开|服务)中心)$"
)


def unit_name(text: str) -> str | None:
    """``text`` when it names a unit (县教育局, 红石镇, 县卫生健康委员会), else None."""
    clean = re.sub(r"\s+", "", text or "")
    return clean if _UNIT_NAME.match(clean) and not _NOT_UNIT.match(clean) else None


#: A link to a list page (a section or column), not to an item.
_SECTION_URL = re.compile(
    r"(?:/|/(?:index|default|list|jump|more)(?:_[a-z0-9]+)?\.(?:s?html?|jsp|php|aspx?)|/col/col[0-9]+/?)$",
    re.I,
)
#: Articles published as directories: ``/zjdt/2188837/index.html``, ``/…/3f2a…e9/``.
_ARTICLE_DIR = re.compile(r"/(?:[0-9]{7,}|[0-9a-f]{32})/(?:index\.s?html?)?$", re.I)
_BLOCK_TITLE_TOKENS = re.compile(r"^(?:tit|title|bt|hd|lm|name|blk-?hd|box-?hd|column)")
#: Words that say a list page has nothing in it.
_EMPTY_TEXT = re.compile(
    r"暂无(?:信息|数据|内容|记录|相关信息)|没有(?:找到)?(?:相关)?(?:信息|记录|数据)|无记录"
)
#: A page without items but with at least this much body text is a static page, not a blank column.
STATIC_TEXT_CHARS = 40
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_MORE = re.compile(r"^(?:更多|more|查看更多)", re.I)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What one fetched page says about itself."""

    url: str
    title: str
    column_name: str | None
    column_type: str | None
    items: tuple[ListItem, ...]
    body_chars: int
    says_empty: bool
    article_like: bool = False
    #: No items, but the page loads its list with a script (ajax): nothing can be said about it.
    script_list: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """A link that may lead to a column: its text, URL and whether it sits in the main navigation."""

    text: str
    url: str
    in_nav: bool
    #: The unit (县教育局, 红石镇) whose pages led here, when discovery passed through one.
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveredColumn:
    """A column found by discovery."""

    name: str
    url: str
    type: str
    top_level: bool
    source: str  # "meta" (ColumnName tag) or "list" (a list of items without tags)
    #: The unit whose landing page led to the column (zero-config attribution), if any.
    unit: str | None = None


@dataclass
class Discovery:
    """Discovery result: columns, pages visited, and candidates that could not be fetched."""

    columns: list[DiscoveredColumn] = field(default_factory=list)
    visited: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # url -> reason
    facts: dict[str, PageFacts] = field(default_factory=dict)  # url -> facts (reused by the audit)
    truncated: bool = False


def column_key(url: str) -> str:
    """Identity of a column page: normalised URL, ``…/index.html`` folded into ``…/``."""
    try:
        norm = normalize(url)
    except InvalidURL:
        return url
    return re.sub(r"/index\.s?html?$", "/", norm)


def visit_key(url: str) -> str:
    """One key per page for discovery: :func:`column_key` without the scheme (http = https copy)."""
    return re.sub(r"^https?://", "//", column_key(url))


def looks_like_pager(url: str, text: str = "") -> bool:
    """A pager link: ``index_1.html``, ``?page=2``, or a text such as 下一页, 2, 尾页."""
    u = URL(url)
    return bool(
        _PAGER_PATH.search(u.path) or _PAGER_QUERY.search(u.raw_query_string) or _PAGER_LINK_TEXT.match(text)
    )


def looks_like_article(url: str) -> bool:
    """A link to an article rather than a list: a dated path (``/art/2024/6/1/…``, ``t20240601_…``,
    ``/2024-06/01/content_…``) or a numbered article file (``art_1229_123.html``, ``123456.html``)."""
    u = URL(url)
    if _ARTICLE_DIR.search(u.path):
        return True
    name = u.path.rsplit("/", 1)[-1]
    if not name:
        return False
    found = date_in_url(u.path)
    return (found is not None and found[2] is not None) or bool(_ARTICLE_FILE.match(name))


def _meta(root: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name and name not in out:
            out[name] = re.sub(r"\s+", " ", meta.get("content") or "").strip()
    return out


def _body_chars(root: HtmlElement) -> int:
    """Characters of body text outside navigation containers (whitespace ignored)."""
    navish = navish_elements(root)
    body = root.find("body")
    if body is None:
        return 0
    total = 0
    for el in body.iter():
        if not isinstance(el.tag, str) or el in navish or el.tag in _HEADINGS:
            continue
        for text in (el.text,):
            if text:
                total += len(re.sub(r"\s+", "", text))
        if el.tail and el.getparent() is not None and el.getparent() not in navish:
            total += len(re.sub(r"\s+", "", el.tail))
    return total


def page_facts(
    html: str,
    url: str,
    today: date,
    item_selector: str | None = None,
    date_selector: str | None = None,
) -> PageFacts:
    """Read a page once: column meta tags, list items, body text size and 暂无信息 markers."""
    items = tuple(extract_list_items(html, url, today, item_selector, date_selector))
    root = parse_listing(html)
    if root is None:
        return PageFacts(url, "", None, None, items, 0, False, False)
    meta = _meta(root)
    title_el = root.find(".//title")
    title = element_text(title_el) if title_el is not None else ""
    drop_noise(root)
    body = root.find("body")
    text = element_text(body) if body is not None else ""
    body_chars = _body_chars(root)
    return PageFacts(
        url=url,
        title=title,
        column_name=meta.get("columnname") or None,
        column_type=meta.get("columntype") or None,
        items=items,
        body_chars=body_chars,
        says_empty=bool(_EMPTY_TEXT.search(text)),
        article_like=_reads_as_article(root, meta, items, body_chars),
        script_list=not items and "<datastore>" not in html and bool(_SCRIPT_LIST.search(html)),
    )


#: Signs that a page fills its list from a script (ajax, fetch, a data proxy) after loading.
_SCRIPT_LIST = re.compile(
    r"\$\.(?:ajax|get|post|getJSON)\s*\(|\bfetch\s*\(|\baxios\b|XMLHttpRequest|dataproxy\.jsp|"
    r"\.jpage\s*\(|\bloadList\s*\(|\bgetList\s*\("
)


_ARTICLE_META = ("articletitle",)
_ARTICLE_CONTAINERS = {
    "trs_editor",
    "zoom",
    "wordsection1",  # Word-pasted article bodies
    "article_content",
    "artibody",
    "zhengwen",
    "bt_content",
}


def _reads_as_article(
    root: HtmlElement, meta: dict[str, str], items: tuple[ListItem, ...], body_chars: int
) -> bool:
    """A page that is one article (headline target): an ``ArticleTitle`` meta tag (集约化 article pages
    carry ``ColumnName`` too), or an article body with at most a few "related" links besides."""
    if any(meta.get(k) for k in _ARTICLE_META):
        return True
    if len(items) > 3:
        return False
    for el in root.iter():
        if (
            isinstance(el.tag, str)
            and _tokens(el) & _ARTICLE_CONTAINERS
            and len(re.sub(r"\s+", "", el.text_content())) >= 80
        ):
            return True
    return body_chars >= 400


def column_type_for(name: str, meta_type: str | None) -> str:
    """Type from the column name, else from the ColumnType tag, else "other"."""
    kind = infer_column_type(name)
    if kind == "other" and meta_type:
        kind = infer_column_type(meta_type)
    return kind


def is_blank(facts: PageFacts) -> bool:
    """No items and nothing else on the page either (or it says 暂无信息)."""
    return not facts.items and (facts.says_empty or facts.body_chars < STATIC_TEXT_CHARS)


#: Why a column whose list a script loads is not judged (监测源异常, never a blank column).
SCRIPT_LIST_REASON = "列表由脚本动态加载，页面本身不含信息条目，无法判断是否为空白栏目"


def _own_list(facts: PageFacts) -> bool:
    """An undated list that looks like a column's own: two or more items, most on the page's host."""
    host = URL(facts.url).host
    own = sum(1 for i in facts.items if URL(i.url).host == host)
    return len(facts.items) >= 2 and own * 2 > len(facts.items)


def _title_name(title: str) -> str:
    """A column name from a page title: ``部门动态_示例县人民政府`` → ``部门动态``."""
    return re.split(r"\s*[-_|｜—–]+\s*|\s{2,}", title.strip(), maxsplit=1)[0].strip()


def column_from_facts(
    facts: PageFacts, link_text: str, top_level: bool, unit: str | None = None
) -> DiscoveredColumn | None:
    """The column a visited page is, or None for utility, article and static pages."""
    name = facts.column_name or link_text.strip() or _title_name(facts.title)
    if not name or _NOT_COLUMN.search(name) or _NOT_COLUMN.search(link_text.strip() or "-"):
        return None
    if facts.article_like or looks_like_article(facts.url):
        return None  # a headline or list item that points at an article
    if facts.column_type and _NOT_COLUMN.search(facts.column_type):
        return None
    if not facts.items and not is_blank(facts):
        return None  # a static page (县情概况, a form, a single notice)
    if facts.column_name is None and not facts.items and not facts.says_empty:
        return None  # an empty page without column tags or 暂无信息: nothing says it is a column
    if facts.items and all(i.date is None for i in facts.items) and not _own_list(facts):
        return None  # a few undated links to elsewhere (友情链接, 相关网站) in a static page
    kind = column_type_for(name, facts.column_type)
    return DiscoveredColumn(name, facts.url, kind, top_level, "meta" if facts.column_name else "list", unit)


def _heading_of(a: HtmlElement) -> HtmlElement | None:
    """The heading around the link (``<h3><a>…</a></h3>``) or inside it (``<a><h1>…</h1></a>``)."""
    for p in a.iterancestors():
        if isinstance(p.tag, str) and p.tag in _HEADINGS:
            return p
    return next((h for h in a.iter(*_HEADINGS) if h is not a), None)


def _in_block_title(a: HtmlElement) -> bool:
    """A link inside a block's title bar (``<div class="blk-hd"><a>通知公告</a></div>``)."""
    for depth, p in enumerate(a.iterancestors()):
        if depth >= 2 or not isinstance(p.tag, str):
            break
        if any(_BLOCK_TITLE_TOKENS.match(t) for t in _tokens(p)):
            return True
    return False


def _menu_links(root: HtmlElement) -> set[HtmlElement]:
    """Links in menus and tab strips: a container whose entries (two or more) each hold one short
    link and no date — a left-hand ``ul``, a tab header (``<span><a>县域要闻</a></span>…``)."""
    out: set[HtmlElement] = set()
    for container in root.iter():
        if not isinstance(container.tag, str) or container.tag in ("a", "body", "html", "head"):
            continue
        entries = [
            c for c in container if isinstance(c.tag, str) and c.tag not in ("br", "script", "i", "img")
        ]
        if len(entries) < 2:
            continue
        links = []
        for entry in entries:
            anchors = [entry] if entry.tag == "a" else list(entry.iter("a"))
            if len(anchors) != 1:
                break
            text = element_text(anchors[0])
            if not 2 <= len(text) <= MENU_TEXT_CHARS or scan_dates(
                element_text(entry), date.max, None, False
            ):
                break
            links.append(anchors[0])
        else:
            out.update(links)
    return out


def _more_name(a: HtmlElement) -> str:
    """The name of the block a 更多>> link belongs to: its heading's text, else the short text just
    before it (``<span>通知公告</span><a class="more">更多>></a>``)."""
    heading = _heading_of(a)
    if heading is not None:
        other = next((element_text(x) for x in heading.iter("a") if x is not a and element_text(x)), "")
        return other or _MORE.sub("", element_text(heading)).strip(" >»")
    node = a
    for _ in range(3):
        for sib in node.itersiblings(preceding=True):
            if not isinstance(sib.tag, str):
                continue
            text = element_text(sib).strip(" >»|")
            if 2 <= len(text) <= 16 and not _MORE.match(text):
                return text
        parent = node.getparent()
        if parent is None:
            break
        if parent.text and 2 <= len(parent.text.strip()) <= 16:
            return parent.text.strip()
        node = parent
    return ""


def candidate_links(
    html: str, page_url: str, hosts: Iterable[str], *, section: bool = False
) -> list[Candidate]:
    """Links that may lead to columns: navigation containers, menus and tab strips, headings (both
    nestings), block title bars and 更多 links; with ``section`` also directory-style links below
    the page's own directory (a section page listing its units or columns).

    Only pages on ``hosts`` count; resources (files, images), fragments, pager links and links to
    articles do not. ``in_nav`` marks links of the main navigation (nav-ish containers, menus).
    """
    root = parse_listing(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    drop_noise(root)
    navish = navish_elements(root)
    menus = _menu_links(root)
    allowed = {h.lower() for h in hosts}
    own_dir = URL(page_url).path.rsplit("/", 1)[0] + "/"
    page_host, page_scheme = URL(page_url).host, URL(page_url).scheme
    out: list[Candidate] = []
    seen: set[str] = set()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        text = element_text(a) or (a.get("title") or "").strip()
        in_nav = a in navish
        titled = _heading_of(a) is not None or _in_block_title(a)
        more = bool(_MORE.match(text))
        try:
            url = normalize(str(URL(base).join(URL(href))))
        except (InvalidURL, ValueError):
            continue
        u = URL(url)
        if u.host == page_host and u.scheme != page_scheme and u.scheme in ("http", "https"):
            # An http/https copy of a page of this site: one page, read with the site's own scheme.
            u = u.with_scheme(page_scheme)
            url = str(u)
        below = section and u.path.startswith(own_dir) and u.path != own_dir and _DIR_PATH.search(u.path)
        if not (in_nav or a in menus or titled or more or below):
            continue
        if (u.host or "") not in allowed or looks_like_resource(url):
            continue
        if looks_like_pager(url, text) or looks_like_article(url):
            continue
        if text and not more and _NOT_COLUMN.search(text):
            continue  # 网站地图, 联系我们, 无障碍…: not worth a visit
        key = visit_key(url)
        if key in seen or key == visit_key(page_url):
            continue
        seen.add(key)
        if more:
            text = _more_name(a)
        elif titled and not text:
            heading = _heading_of(a)
            text = element_text(heading) if heading is not None else ""
        out.append(Candidate(text, url, in_nav or a in menus))
    return out


_DIR_PATH = re.compile(r"/(?:index\.s?html?)?$|/[a-z0-9_-]+/?$", re.I)


Fetch = Callable[[str], Awaitable[tuple[str | None, str, str | None]]]


async def discover_columns(
    fetch: Fetch,
    homepage_url: str,
    homepage_html: str,
    hosts: Iterable[str],
    today: date,
    *,
    max_pages: int = 80,
    concurrency: int = 4,
    skip: Iterable[str] = (),
    max_depth: int = MAX_DEPTH,
) -> Discovery:
    """Walk the site breadth first from the homepage and keep the pages that are columns.

    ``fetch(url)`` returns ``(html or None, final_url, error or None)``. ``skip`` holds column keys
    already known (configured columns): they are not visited again. Depth 1 = the homepage's
    navigation, menus and headings (a link in the main navigation or a homepage menu makes a
    top-level column, 一级栏目); each visited page that is not an article adds its own menus, headings
    and the directory-style links below it, down to ``max_depth`` links from the homepage. At most
    ``max_pages`` pages are visited (``truncated`` says when the budget ran out).
    """
    hosts = tuple(hosts)
    result = Discovery()
    known: set[str] = {visit_key(homepage_url), *(visit_key(k) for k in skip)}
    columns_seen: set[str] = set()
    lists_seen: dict[tuple[str, ...], int] = {}
    nav_keys: set[str] = set()
    level: list[Candidate] = []
    for cand in candidate_links(homepage_html, homepage_url, hosts):
        key = visit_key(cand.url)
        if key in known:
            continue
        known.add(key)
        if cand.in_nav:
            nav_keys.add(key)
        level.append(cand)
    sem = asyncio.Semaphore(concurrency)

    async def visit(cand: Candidate) -> tuple[Candidate, str | None, str, str | None]:
        async with sem:
            html, final, error = await fetch(cand.url)
        return cand, html, final, error

    depth = 1
    while level:
        room = max_pages - result.visited
        if len(level) > room:
            result.truncated = True
            level = level[: max(room, 0)]
        result.visited += len(level)
        following: list[Candidate] = []
        for cand, html, final, error in await asyncio.gather(*(visit(c) for c in level)):
            if html is None:
                result.failed[cand.url] = error or "unreachable"
                continue
            facts = page_facts(html, cand.url, today)
            result.facts[column_key(cand.url)] = facts
            final_key = visit_key(final)
            column = None
            # Two links redirecting to one list, or two URLs serving the same list, are one column
            # (kept under the URL that names its unit, when only one of them does).
            shown = tuple(sorted(visit_key(i.url) for i in facts.items[:8])) if len(facts.items) >= 2 else ()
            if final_key not in columns_seen:
                column = column_from_facts(facts, cand.text, visit_key(cand.url) in nav_keys, cand.unit)
            if column is not None and shown in lists_seen:
                earlier = lists_seen[shown]
                if column.unit and not result.columns[earlier].unit:
                    result.columns[earlier] = column
                column = None
            if column is not None:
                columns_seen.add(final_key)
                if shown:
                    lists_seen[shown] = len(result.columns)
                result.columns.append(column)
            if depth >= max_depth or facts.article_like:
                continue
            unit = unit_name(cand.text) or cand.unit
            # The dated items of a page's list are its articles, not sections below it (unless they
            # link to a list page: a 专题专栏 list of topics).
            items = {
                visit_key(i.url) for i in facts.items if i.date is not None and not _SECTION_URL.search(i.url)
            }
            for sub in candidate_links(html, final, hosts, section=True):
                key = visit_key(sub.url)
                if key in known or key in items:
                    continue
                known.add(key)
                following.append(Candidate(sub.text, sub.url, False, unit_name(sub.text) or unit))
        level = following
        depth += 1
    return result
