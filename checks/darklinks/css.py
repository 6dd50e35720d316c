"""The small CSS subset the dark-link engine needs.

Only what decides whether a link is *seen* matters here: a tolerant rule parser (comments, ``@media``
blocks, ``!important``), a selector matcher for type / ``.class`` / ``#id`` / ``[attr]`` compounds joined
by descendant, child and sibling combinators, and readers for lengths and colours.

Selectors with dynamic or structural pseudo-classes (``:hover``, ``:focus``, ``:nth-child`` …) or
pseudo-elements are dropped on purpose: a ``display:block`` shown on hover does not apply at rest, and
an unsupported selector must never *invent* hiding.  Parsed stylesheets are cached by their text, so
a site-wide stylesheet passed with every page is parsed once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import tinycss2
from lxml import etree
from tinycss2 import color4
from tinycss2.ast import FunctionBlock

# Properties that can hide an element or camouflage its text.  Declarations of other properties are
# dropped while parsing, which keeps the per-page rule index small.
RELEVANT_PROPS = frozenset(
    {
        "display",
        "visibility",
        "opacity",
        "height",
        "max-height",
        "width",
        "max-width",
        "overflow",
        "overflow-x",
        "overflow-y",
        "font-size",
        "font",
        "clip",
        "clip-path",
        "position",
        "left",
        "top",
        "right",
        "margin-left",
        "margin-top",
        "text-indent",
        "transform",
        "color",
        "background",
        "background-color",
        "filter",
    }
)

Declaration = tuple[str, str, bool]  # (property, value, important)

_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)
_DECL_RE = re.compile(r"""([A-Za-z-]+)\s*:\s*((?:[^;('"]|\([^)]*\)|'[^']*'|"[^"]*")*)""")
_IMPORTANT_RE = re.compile(r"\s*!\s*important\s*$", re.I)
_RELEVANT_HINT_RE = re.compile(
    r"display|visib|opacity|height|width|overflow|font|clip|position|left|top|right|margin|indent|"
    r"transform|color|background|filter",
    re.I,
)


@lru_cache(maxsize=8192)
def parse_declarations(text: str) -> tuple[Declaration, ...]:
    """Parse a declaration block (``style`` attribute or rule body) keeping only relevant properties."""
    if not text or not _RELEVANT_HINT_RE.search(text):
        return ()
    out: list[Declaration] = []
    for match in _DECL_RE.finditer(text):
        prop = match.group(1).lower()
        if prop not in RELEVANT_PROPS:
            continue
        value = match.group(2).strip()
        important = False
        if "!" in value:
            stripped = _IMPORTANT_RE.sub("", value)
            important = stripped != value
            value = stripped
        out.append((prop, value.lower(), important))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Selectors


@dataclass(frozen=True, slots=True)
class Compound:
    """One compound selector such as ``div.links#x[rel=nofollow]``."""

    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    attrs: tuple[tuple[str, str, str], ...]  # (name, operator or "", value)

    def matches(self, el: etree._Element) -> bool:
        """True when ``el`` satisfies every simple selector of the compound."""
        if self.tag is not None and el.tag != self.tag:
            return False
        if self.ids and el.get("id") not in self.ids:
            return False
        if self.classes:
            have = el.get("class")
            if not have:
                return False
            names = have.split()
            if any(c not in names for c in self.classes):
                return False
        for name, op, value in self.attrs:
            got = el.get(name)
            if got is None:
                return False
            if op and not _attr_op(op, got, value):
                return False
        return True


def _attr_op(op: str, got: str, value: str) -> bool:
    if op == "=":
        return got == value
    if op == "~=":
        return value in got.split()
    if op == "^=":
        return got.startswith(value)
    if op == "$=":
        return got.endswith(value)
    if op == "*=":
        return value in got
    if op == "|=":
        return got == value or got.startswith(value + "-")
    return False


@dataclass(frozen=True, slots=True)
class Selector:
    """A complex selector: compounds from left to right and the combinators between them."""

    parts: tuple[Compound, ...]
    combinators: tuple[str, ...]
    text: str
    specificity: tuple[int, int, int]
    # Keys ("t:li", "c:nav", "i:ft") that some ancestor must carry; empty when sibling combinators are
    # involved.  Checked against the walk's ancestor-key set before any tree walking.
    required: frozenset[str] = frozenset()

    @property
    def key(self) -> Compound:
        """The rightmost compound, used to index rules."""
        return self.parts[-1]

    def matches(self, el: etree._Element) -> bool:
        """Right-to-left match with backtracking over descendant / general-sibling combinators."""
        return self.parts[-1].matches(el) and _match_left(self, len(self.parts) - 2, el)


def _element_parent(el: etree._Element) -> etree._Element | None:
    return el.getparent()


def _element_previous(el: etree._Element) -> etree._Element | None:
    prev = el.getprevious()
    while prev is not None and not isinstance(prev.tag, str):
        prev = prev.getprevious()
    return prev


def _match_left(sel: Selector, idx: int, el: etree._Element) -> bool:
    if idx < 0:
        return True
    comb = sel.combinators[idx]
    part = sel.parts[idx]
    if comb == ">":
        parent = _element_parent(el)
        return parent is not None and part.matches(parent) and _match_left(sel, idx - 1, parent)
    if comb == " ":
        node = _element_parent(el)
        while node is not None:
            if part.matches(node) and _match_left(sel, idx - 1, node):
                return True
            node = _element_parent(node)
        return False
    if comb == "+":
        prev = _element_previous(el)
        return prev is not None and part.matches(prev) and _match_left(sel, idx - 1, prev)
    # "~"
    prev = _element_previous(el)
    while prev is not None:
        if part.matches(prev) and _match_left(sel, idx - 1, prev):
            return True
        prev = _element_previous(prev)
    return False


_COMPOUND_TOKEN_RE = re.compile(
    r"(?P<tag>\*|[A-Za-z][\w-]*)|#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)"
    r"""|\[\s*(?P<an>[\w-]+)\s*(?:(?P<op>[~^$*|]?=)\s*(?P<av>"[^"]*"|'[^']*'|[^\]\s]+)\s*)?\]"""
    r"|(?P<pseudo>::?[\w-]+(?:\([^)]*\))?)"
)
# Pseudo-classes that do not change whether a rule applies to a link at rest.
_HARMLESS_PSEUDO = frozenset({":link", ":any-link"})
_COMBINATOR_RE = re.compile(r"\s*([>+~])\s*|\s+")


def _parse_compound(text: str) -> tuple[Compound, int, int, int] | None:
    pos = 0
    tag: str | None = None
    ids: list[str] = []
    classes: list[str] = []
    attrs: list[tuple[str, str, str]] = []
    n_id = n_cls = n_tag = 0
    while pos < len(text):
        m = _COMPOUND_TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        if m.group("tag"):
            if m.start() != 0:
                return None  # a type selector must come first
            if m.group("tag") != "*":
                tag = m.group("tag").lower()
                n_tag += 1
        elif m.group("id"):
            ids.append(m.group("id"))
            n_id += 1
        elif m.group("cls"):
            classes.append(m.group("cls"))
            n_cls += 1
        elif m.group("an"):
            value = m.group("av") or ""
            if value[:1] in "\"'":
                value = value[1:-1]
            attrs.append((m.group("an").lower(), m.group("op") or "", value))
            n_cls += 1
        else:
            if m.group("pseudo").lower() not in _HARMLESS_PSEUDO:
                return None  # :hover, :nth-child, ::before … — never treat as applying at rest
            n_cls += 1
    return Compound(tag, tuple(ids), tuple(classes), tuple(attrs)), n_id, n_cls, n_tag


@lru_cache(maxsize=16384)
def parse_selector(text: str) -> Selector | None:
    """Parse one complex selector; ``None`` when it uses anything unsupported."""
    text = text.strip()
    if not text:
        return None
    parts: list[Compound] = []
    combinators: list[str] = []
    spec = [0, 0, 0]
    pos = 0
    for m in _COMBINATOR_RE.finditer(text):
        chunk = text[pos : m.start()]
        if chunk:
            parsed = _parse_compound(chunk)
            if parsed is None:
                return None
            parts.append(parsed[0])
            spec[0] += parsed[1]
            spec[1] += parsed[2]
            spec[2] += parsed[3]
            combinators.append(m.group(1) or " ")
        elif m.group(1) and combinators:
            combinators[-1] = m.group(1)  # "a > b" matched as " " then ">" — keep the explicit one
        pos = m.end()
    parsed = _parse_compound(text[pos:])
    if parsed is None:
        return None
    parts.append(parsed[0])
    spec[0] += parsed[1]
    spec[1] += parsed[2]
    spec[2] += parsed[3]
    if len(combinators) != len(parts) - 1:
        return None
    required: frozenset[str] = frozenset()
    if all(c in " >" for c in combinators):
        required = frozenset(k for part in parts[:-1] for k in compound_keys(part))
    return Selector(tuple(parts), tuple(combinators), text, (spec[0], spec[1], spec[2]), required)


def compound_keys(part: Compound) -> list[str]:
    """The ancestor-filter keys a compound needs an element to carry."""
    keys = [f"i:{i}" for i in part.ids] + [f"c:{c}" for c in part.classes]
    if part.tag is not None:
        keys.append(f"t:{part.tag}")
    return keys


# --------------------------------------------------------------------------------------------------
# Rules and stylesheets


@dataclass(frozen=True, slots=True)
class Rule:
    """A style rule reduced to one selector and its relevant declarations."""

    selector: Selector
    declarations: tuple[Declaration, ...]
    index: int  # position within its stylesheet, for the cascade


def media_applies(query: str) -> bool:
    """Apply ``@media`` blocks that hold for an ordinary desktop screen without conditions."""
    query = query.strip().lower()
    if not query:
        return True
    if "(" in query:
        return False  # width / orientation / hover dependent: not the page as a desktop user sees it
    for part in query.split(","):
        words = part.split()
        if words and words[0] in ("only", "not"):
            if words[0] == "not":
                continue
            words = words[1:]
        if words and words[0] in ("screen", "all"):
            return True
    return False


def _block_end(css: str, start: int) -> int:
    """Index just past the ``}`` matching the ``{`` at ``start``."""
    depth = 0
    i = start
    n = len(css)
    while i < n:
        ch = css[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch in "\"'":
            close = css.find(ch, i + 1)
            i = n if close < 0 else close
        i += 1
    return n


def _parse_rules(css: str, out: list[Rule]) -> None:
    pos = 0
    n = len(css)
    while pos < n:
        brace = css.find("{", pos)
        semi = css.find(";", pos)
        if brace < 0:
            return
        head = css[pos:brace].strip()
        if head.startswith("@") and 0 <= semi < brace:
            pos = semi + 1  # @import / @charset
            continue
        end = _block_end(css, brace)
        if head.startswith("@"):
            name, _, query = head[1:].partition(" ")
            name = name.lower()
            if (name == "media" and media_applies(query)) or name == "supports":
                _parse_rules(css[brace + 1 : end - 1], out)
        else:
            decls = parse_declarations(css[brace + 1 : end - 1])
            if decls:
                for sel_text in _split_selector_list(head):
                    sel = parse_selector(sel_text)
                    if sel is not None:
                        out.append(Rule(sel, decls, len(out)))
        pos = end


def _split_selector_list(head: str) -> list[str]:
    if "(" not in head:
        return head.split(",")
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(head):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(head[start:i])
            start = i + 1
    parts.append(head[start:])
    return parts


# Bounded: keys are whole stylesheets; a nightly crawl touches a few per site.
@lru_cache(maxsize=64)
def parse_stylesheet(css: str) -> tuple[Rule, ...]:
    """Parse a stylesheet into relevant rules (cached by text: shared site CSS is parsed once)."""
    css = _COMMENT_RE.sub(" ", css)
    out: list[Rule] = []
    _parse_rules(css, out)
    return tuple(out)


_IMPORT_RE = re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'")\s;]+)""", re.I)


def css_imports(css: str) -> list[str]:
    """URLs named by ``@import`` in a stylesheet, as written."""
    return _IMPORT_RE.findall(_COMMENT_RE.sub(" ", css))


@dataclass(frozen=True, slots=True)
class IndexedRule:
    """A rule placed in the page cascade: its order key and where it came from."""

    rule: Rule
    order: int
    source: str


@dataclass(slots=True)
class RuleIndex:
    """Rules bucketed by the id / class / tag of their rightmost compound, like browsers do."""

    by_id: dict[str, list[IndexedRule]] = field(default_factory=dict)
    by_class: dict[str, list[IndexedRule]] = field(default_factory=dict)
    by_tag: dict[str, list[IndexedRule]] = field(default_factory=dict)
    universal: list[IndexedRule] = field(default_factory=list)
    # Every key some selector requires of an ancestor: the walk only tracks these.
    ancestor_keys: frozenset[str] = frozenset()
    # True when an element's matches depend only on the tag / id / class of it and its ancestors (no
    # sibling combinators, no attribute selectors): elements with the same such path share matches.
    path_invariant: bool = True

    @classmethod
    def build(cls, sheets: Iterable[tuple[str, Sequence[Rule]]]) -> RuleIndex:
        """Index ``(source label, rules)`` pairs given in cascade order."""
        index = cls()
        needed: set[str] = set()
        for sheet_no, (source, rules) in enumerate(sheets):
            base = sheet_no * 1_000_000
            for rule in rules:
                item = IndexedRule(rule, base + rule.index, source)
                needed.update(rule.selector.required)
                key = rule.selector.key
                if any(part.attrs for part in rule.selector.parts) or any(
                    c in "+~" for c in rule.selector.combinators
                ):
                    index.path_invariant = False
                if key.ids:
                    index.by_id.setdefault(key.ids[0], []).append(item)
                elif key.classes:
                    index.by_class.setdefault(key.classes[0], []).append(item)
                elif key.tag is not None:
                    index.by_tag.setdefault(key.tag, []).append(item)
                else:
                    index.universal.append(item)
        index.ancestor_keys = frozenset(needed)
        return index

    def __bool__(self) -> bool:
        return bool(self.by_id or self.by_class or self.by_tag or self.universal)

    def element_keys(self, tag: str, el_id: str | None, cls_attr: str | None) -> list[str]:
        """The keys of an element that some selector looks for in an ancestor."""
        wanted = self.ancestor_keys
        if not wanted:
            return []
        keys = [f"t:{tag}"] if f"t:{tag}" in wanted else []
        if el_id and f"i:{el_id}" in wanted:
            keys.append(f"i:{el_id}")
        if cls_attr:
            keys.extend(k for k in (f"c:{c}" for c in cls_attr.split()) if k in wanted)
        return keys

    def matching(
        self,
        el: etree._Element,
        tag: str,
        el_id: str | None,
        cls_attr: str | None,
        ancestors: frozenset[str],
    ) -> list[IndexedRule]:
        """Rules whose selector matches ``el``; ``ancestors``: keys carried by its ancestors."""
        cands: list[IndexedRule] = []
        if el_id and self.by_id:
            bucket = self.by_id.get(el_id)
            if bucket:
                cands.extend(bucket)
        if cls_attr and self.by_class:
            for name in cls_attr.split():
                bucket = self.by_class.get(name)
                if bucket:
                    cands.extend(bucket)
        bucket = self.by_tag.get(tag)
        if bucket:
            cands.extend(bucket)
        if self.universal:
            cands.extend(self.universal)
        if not cands:
            return cands
        return [
            c
            for c in cands
            if (not c.rule.selector.required or c.rule.selector.required <= ancestors)
            and c.rule.selector.matches(el)
        ]


# --------------------------------------------------------------------------------------------------
# Values

_LENGTH_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(px|em|rem|pt|%|vw|vh|cm|mm|in)?$")
_UNIT_PX = {
    "px": 1.0,
    "em": 16.0,
    "rem": 16.0,
    "pt": 4 / 3,
    "vw": 19.2,
    "vh": 10.8,
    "cm": 37.8,
    "mm": 3.78,
    "in": 96.0,
}


def length_px(value: str | None, unitless_px: bool = False) -> float | None:
    """A CSS length in (approximate) pixels; ``None`` for percentages, ``auto`` and the unparseable."""
    if not value:
        return None
    m = _LENGTH_RE.match(value.strip().lower())
    if m is None:
        return None
    number = float(m.group(1))
    unit = m.group(2)
    if unit is None:
        return number if (number == 0 or unitless_px) else None
    if unit == "%":
        return 0.0 if number == 0 else None
    return number * _UNIT_PX[unit]


Color = tuple[int, int, int, float]

_LEGACY_HEX_RE = re.compile(r"[0-9a-f]{6}|[0-9a-f]{3}")


def parse_color(value: str | None) -> Color | None:
    """First colour in a CSS value, in sRGB 0–255 with alpha: every CSS Color 4 syntax tinycss2 reads
    (hex with alpha, all named colours, ``rgb()``/``rgba()`` with numbers or percentages, ``hsl()``/
    ``hwb()``, space and slash syntax, ``transparent``); ``url(white.png)`` names a file, not a colour.
    ``currentcolor`` and colour spaces without an sRGB conversion give None (unknown, never a guess).
    A bare ``ffffff`` is read as legacy HTML attributes (``bgcolor``, ``<font color>``) write it."""
    if not value:
        return None
    text = value.strip()
    if _LEGACY_HEX_RE.fullmatch(text.lower()):
        text = "#" + text
    for token in tinycss2.parse_component_value_list(text):
        if token.type in ("whitespace", "comment", "url") or (
            isinstance(token, FunctionBlock) and token.lower_name == "url"
        ):
            continue
        # tinycss2 documents (and does) parse one component value; its stub only lists str or a list.
        color = color4.parse_color(token)  # type: ignore[arg-type]
        if color is None or isinstance(color, str):
            continue
        try:
            srgb = color.to("srgb")
        except NotImplementedError:
            return None
        # A Color iterates as its coordinates (None when undefined), then its alpha; the stubs leave out
        # the .coordinates and .alpha attributes, so read them this way. sRGB has three coordinates.
        red, green, blue, _ = srgb
        r, g, b = (round(min(max(c or 0.0, 0.0), 1.0) * 255) for c in (red, green, blue))
        return (r, g, b, float(srgb[3]))
    return None


def same_color(a: Color, b: Color, tolerance: int = 12) -> bool:
    """Colours a reader cannot tell apart (per-channel difference within ``tolerance``)."""
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance and abs(a[2] - b[2]) <= tolerance


def color_hex(c: Color) -> str:
    """``#rrggbb`` for messages."""
    return f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"
