"""Finding a site's columns (栏目) without configuration: navigation links and column meta tags.

Discovery reads the homepage, follows the links of its navigation (nav/header/menu containers and
block headings such as ``<h3><a href="/xwzx/xsyw/">县域要闻</a></h3>``), then the sub-navigation of
every top-level section page, one level deep. A visited page is a column when it carries a
``ColumnName`` meta tag (《政府网站发展指引》 page tags) or shows a list of items; its name is the
``ColumnName`` (else the link text) and its type is inferred from the name, then from ``ColumnType``.

Not columns: the homepage itself, 网站地图/联系我们/搜索/找错-style utility pages, and pages without a list
whose body carries real text (县情概况, 征集公告, 找错 forms): those are static pages, not blank columns.
A page without items whose body is (nearly) empty, or says 暂无信息, is a blank column (空白栏目).

The pure part (:func:`page_facts`, :func:`column_from_facts`, :func:`candidate_links`) is separate from
the fetching (:func:`discover_columns`) so that it can be tested on fixtures.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from lxml import etree
from yarl import URL

from checks.dates import (
    ListItem,
    base_url,
    drop_noise,
    element_text,
    extract_list_items,
    infer_column_type,
    navish_elements,
    parse_html,
)
from monitor.urls import InvalidURL, looks_like_resource, normalize

__all__ = [
    "Candidate",
    "DiscoveredColumn",
    "Discovery",
    "PageFacts",
    "candidate_links",
    "column_from_facts",
    "column_key",
    "discover_columns",
    "page_facts",
]

#: Names of utility pages that are never columns.
_NOT_COLUMN = re.compile(
    r"^(?:首页|主页|网站首页)$|网站地图|站点地图|联系我们|网站声明|隐私|搜索|检索|找错|纠错|无障碍|长者|登录|注册|"
    r"English|RSS|版权|帮助|关于本站|收藏|设为首页"
)
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A link that may lead to a column: its text, URL and whether it sits in the main navigation."""

    text: str
    url: str
    in_nav: bool


@dataclass(frozen=True, slots=True)
class DiscoveredColumn:
    """A column found by discovery."""

    name: str
    url: str
    type: str
    top_level: bool
    source: str  # "meta" (ColumnName tag) or "list" (a list of items without tags)


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


def _meta(root: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name and name not in out:
            out[name] = re.sub(r"\s+", " ", meta.get("content") or "").strip()
    return out


def _body_chars(root: etree._Element) -> int:
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
    root = parse_html(html)
    if root is None:
        return PageFacts(url, "", None, None, items, 0, False)
    meta = _meta(root)
    title_el = root.find(".//title")
    title = element_text(title_el) if title_el is not None else ""
    drop_noise(root)
    text = element_text(root.find("body")) if root.find("body") is not None else ""
    return PageFacts(
        url=url,
        title=title,
        column_name=meta.get("columnname") or None,
        column_type=meta.get("columntype") or None,
        items=items,
        body_chars=_body_chars(root),
        says_empty=bool(_EMPTY_TEXT.search(text)),
    )


def column_type_for(name: str, meta_type: str | None) -> str:
    """Type from the column name, else from the ColumnType tag, else "other"."""
    kind = infer_column_type(name)
    if kind == "other" and meta_type:
        kind = infer_column_type(meta_type)
    return kind


def is_blank(facts: PageFacts) -> bool:
    """No items and nothing else on the page either (or it says 暂无信息)."""
    return not facts.items and (facts.says_empty or facts.body_chars < STATIC_TEXT_CHARS)


def _own_list(facts: PageFacts) -> bool:
    """An undated list that looks like a column's own: two or more items, most on the page's host."""
    host = URL(facts.url).host
    own = sum(1 for i in facts.items if URL(i.url).host == host)
    return len(facts.items) >= 2 and own * 2 > len(facts.items)


def column_from_facts(facts: PageFacts, link_text: str, top_level: bool) -> DiscoveredColumn | None:
    """The column a visited page is, or None for utility and static pages."""
    name = facts.column_name or link_text.strip()
    if not name or _NOT_COLUMN.search(name) or _NOT_COLUMN.search(link_text.strip() or "-"):
        return None
    if facts.column_type and _NOT_COLUMN.search(facts.column_type):
        return None
    if not facts.items and not is_blank(facts):
        return None  # a static page (县情概况, a form, a single notice)
    if facts.column_name is None and not facts.items:
        return None  # an empty page without column tags: nothing says it is a column
    if facts.items and all(i.date is None for i in facts.items) and not _own_list(facts):
        return None  # a few undated links to elsewhere (友情链接, 相关网站) in a static page
    kind = column_type_for(name, facts.column_type)
    return DiscoveredColumn(name, facts.url, kind, top_level, "meta" if facts.column_name else "list")


def candidate_links(html: str, page_url: str, hosts: Iterable[str]) -> list[Candidate]:
    """Links that may lead to columns: in navigation containers, in headings, and 更多 links.

    Only pages on ``hosts`` count; resources (files, images) and fragments of the same page do not.
    """
    root = parse_html(html)
    if root is None:
        return []
    base = base_url(root, page_url)
    drop_noise(root)
    navish = navish_elements(root)
    allowed = {h.lower() for h in hosts}
    out: list[Candidate] = []
    seen: set[str] = set()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        in_nav = a in navish
        in_heading = any(isinstance(p.tag, str) and p.tag in _HEADINGS for p in a.iterancestors())
        text = element_text(a) or (a.get("title") or "").strip()
        if not (in_nav or in_heading or _MORE.match(text)):
            continue
        try:
            url = normalize(str(URL(base).join(URL(href))))
        except (InvalidURL, ValueError):
            continue
        u = URL(url)
        if (u.host or "") not in allowed or looks_like_resource(url):
            continue
        key = column_key(url)
        if key in seen or key == column_key(page_url):
            continue
        seen.add(key)
        if _MORE.match(text):
            # "更多>>" names nothing: take the heading's text when the link sits in one.
            heading = next(
                (p for p in a.iterancestors() if isinstance(p.tag, str) and p.tag in _HEADINGS), None
            )
            text = (
                next((element_text(x) for x in heading.iter("a") if x is not a), "")
                if heading is not None
                else ""
            )
        out.append(Candidate(text, url, in_nav))
    return out


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
) -> Discovery:
    """Walk navigation two levels deep from the homepage and keep the pages that are columns.

    ``fetch(url)`` returns ``(html or None, final_url, error or None)``. ``skip`` holds column keys
    already known (configured columns): they are not visited again. Level 1 = the homepage's
    navigation and headings (a link in the main navigation makes a top-level column, 一级栏目);
    level 2 = the sub-navigation and headings of level-1 pages.
    """
    hosts = tuple(hosts)
    result = Discovery()
    known: set[str] = {column_key(homepage_url), *skip}
    nav_keys = set()
    level1 = []
    for cand in candidate_links(homepage_html, homepage_url, hosts):
        key = column_key(cand.url)
        if key in known:
            continue
        known.add(key)
        if cand.in_nav:
            nav_keys.add(key)
        level1.append(cand)
    sem = asyncio.Semaphore(concurrency)

    async def visit(cand: Candidate) -> tuple[Candidate, str | None, str, str | None]:
        async with sem:
            html, final, error = await fetch(cand.url)
        return cand, html, final, error

    async def run_level(cands: list[Candidate]) -> list[tuple[Candidate, str]]:
        room = max_pages - result.visited
        if len(cands) > room:
            result.truncated = True
            cands = cands[: max(room, 0)]
        result.visited += len(cands)
        pages = []
        for cand, html, _final, error in await asyncio.gather(*(visit(c) for c in cands)):
            if html is None:
                result.failed[cand.url] = error or "unreachable"
                continue
            facts = page_facts(html, cand.url, today)
            result.facts[column_key(cand.url)] = facts
            column = column_from_facts(facts, cand.text, column_key(cand.url) in nav_keys)
            if column is not None:
                result.columns.append(column)
            pages.append((cand, html))
        return pages

    pages = await run_level(level1)
    level2: list[Candidate] = []
    for cand, html in pages:
        if column_key(cand.url) not in nav_keys:
            continue  # sub-navigation is read on the top-level sections only
        for sub in candidate_links(html, cand.url, hosts):
            key = column_key(sub.url)
            if key in known:
                continue
            known.add(key)
            level2.append(Candidate(sub.text, sub.url, False))
    await run_level(level2)
    return result
