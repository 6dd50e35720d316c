"""Static decoding of the script obfuscations used to inject dark links.

No JavaScript is executed.  :func:`expand_script` peels the layers seen in real injections —
``unescape('%3Ca…')`` / ``%uXXXX``, ``\\x3c`` / ``\\u003c`` string escapes, ``atob('…')``,
``String.fromCharCode(…)``, ``decodeURIComponent`` and Dean Edwards' ``eval(function(p,a,c,k,e,d)…)``
packer — recursively (bounded), and returns every decoded text with the layers that produced it.
:func:`find_redirects` then parses each text as JavaScript (tree-sitter) and reports the ``location``
changes whose target is a literal or decoded literal, and whether a ``document.referrer`` test for search
engines or a ``navigator.userAgent`` test for spiders guards them in the same function or statement.

Why a real parser (tree-sitter's JavaScript grammar, PyPI ``tree-sitter`` + ``tree-sitter-javascript``)
and not more regular expressions: whether a location change is *guarded* by a user-agent or referrer test
is a question about the syntax tree (which ``if`` encloses which assignment, inside which function), and
text matching answered it wrong on every 无障碍 toolbar and bundled library of real portals. tree-sitter
is maintained, ships wheels, parses a 500 KB bundle in milliseconds and tolerates the truncated or broken
scripts real pages carry; pure-Python ES parsers (esprima) are slow on bundles and stop at the first
syntax error. The decoders above stay hand-written: they undo string obfuscation, which no parser does.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from monitor.core.urls import percent_decode

MAX_DEPTH = 5
MAX_PAYLOADS = 200
MAX_DECODED_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class Payload:
    """A piece of script text, and the decoding layers that revealed it (empty: as written)."""

    text: str
    layers: tuple[str, ...]

    @property
    def obfuscated(self) -> bool:
        """True when at least one decoding layer was needed to see this text."""
        return bool(self.layers)


_LITERAL_RE = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`""", re.S)
_JOIN_RE = re.compile(r"""(['"])\s*\+\s*\1""")
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|[0-7]{1,3}|.)", re.S)
_HAS_ESCAPE_RE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F{]|[0-7])")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def js_unescape(body: str) -> str:
    """Resolve JavaScript string-literal escapes (``\\x3c``, ``\\u003c``, ``\\u{…}``, octal, ``\\'``)."""
    if "\\" not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        if head == "x" and len(esc) == 3:
            return chr(int(esc[1:], 16))
        if head == "u" and len(esc) > 1:
            digits = esc[2:-1] if esc[1] == "{" else esc[1:]
            code = int(digits, 16)
            return chr(code) if code <= 0x10FFFF else ""
        if head in "01234567" and (len(esc) > 1 or head != "0"):
            return chr(int(esc, 8))
        return _SIMPLE_ESCAPES.get(esc, esc)

    return _ESCAPE_RE.sub(repl, body)


def string_literals(code: str) -> list[tuple[str, bool]]:
    """String literals of ``code`` (adjacent ``'a' + 'b'`` joined), unescaped, with "had escapes"."""
    code = _JOIN_RE.sub("", code)
    out: list[tuple[str, bool]] = []
    for m in _LITERAL_RE.finditer(code):
        body = m.group(0)[1:-1]
        out.append((js_unescape(body), bool(_HAS_ESCAPE_RE.search(body))))
    return out


_PCT_U_RE = re.compile(r"%u([0-9a-fA-F]{4})")


def percent_unescape(text: str) -> str:
    """JavaScript ``unescape``/``decodeURIComponent``: ``%uXXXX`` and ``%XX`` (UTF-8, else Latin-1)."""
    text = _PCT_U_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "%" not in text:
        return text
    try:
        return percent_decode(text, errors="strict")
    except UnicodeDecodeError:
        return percent_decode(text, encoding="latin-1")


def b64_decode(text: str) -> str | None:
    """``atob``: base64 to text (UTF-8, else Latin-1); ``None`` when it is not base64."""
    compact = re.sub(r"\s+", "", text)
    if not compact or not re.fullmatch(r"[A-Za-z0-9+/=_-]+", compact):
        return None
    compact += "=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, altchars=b"-_" if ("-" in compact or "_" in compact) else None)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _call_args(code: str, open_paren: int) -> str | None:
    """Text between the ``(`` at ``open_paren`` and its matching ``)``, skipping string literals."""
    depth = 0
    i = open_paren
    n = len(code)
    while i < n:
        ch = code[i]
        if ch in "'\"`":
            j = i + 1
            while j < n and code[j] != ch:
                j += 2 if code[j] == "\\" else 1
            i = j
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return code[open_paren + 1 : i]
        i += 1
    return None


_CALL_RE = re.compile(r"\b(unescape|decodeURIComponent|decodeURI|atob)\s*\(")
_CHARCODE_RUN_RE = re.compile(
    r"String\s*\.\s*fromCharCode\s*\(([\s\dxXa-fA-F,]+)\)(?:\s*\+\s*String\s*\.\s*fromCharCode\s*\(([\s\dxXa-fA-F,]+)\))*"
)
_CHARCODE_ONE_RE = re.compile(r"fromCharCode\s*\(([\s\dxXa-fA-F,]+)\)")


def _from_char_codes(args: str) -> str | None:
    chars = []
    for token in args.split(","):
        token = token.strip()
        if not token:
            continue
        try:
            code = int(token, 0)
        except ValueError:
            return None
        if not 0 <= code <= 0x10FFFF:
            return None
        chars.append(chr(code))
    return "".join(chars) or None


_PACKER_RE = re.compile(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[dr]\s*\)")
_PACKER_ARGS_RE = re.compile(
    r"""\}\s*\(\s*(['"])(?P<p>(?:\\.|(?!\1).)*)\1\s*,\s*(?P<a>\d+|\[\])\s*,\s*(?P<c>\d+)\s*,"""
    r"""\s*(['"])(?P<k>(?:\\.|(?!\5).)*)\5\s*\.split\(\s*['"]\|['"]\s*\)""",
    re.S,
)
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def unpack_packer(code: str) -> str | None:
    """Unpack Dean Edwards' ``eval(function(p,a,c,k,e,d){…}('…',62,n,'…'.split('|'),0,{}))``."""
    start = _PACKER_RE.search(code)
    if start is None:
        return None
    m = _PACKER_ARGS_RE.search(code, start.end())
    if m is None:
        return None
    payload = js_unescape(m.group("p"))
    radix = 62 if m.group("a") == "[]" else int(m.group("a"))
    symbols = js_unescape(m.group("k")).split("|")
    if not 2 <= radix <= 62:
        return None
    lookup = {c: i for i, c in enumerate(_BASE62[:radix])}

    def unbase(word: str) -> int | None:
        value = 0
        for ch in word:
            digit = lookup.get(ch)
            if digit is None:
                return None
            value = value * radix + digit
        return value

    def repl(wm: re.Match[str]) -> str:
        word = wm.group(0)
        idx = unbase(word)
        if idx is not None and idx < len(symbols) and symbols[idx]:
            return symbols[idx]
        return word

    return re.sub(r"\b\w+\b", repl, payload, flags=re.ASCII)


def expand_script(code: str) -> list[Payload]:
    """The script as written plus every text its obfuscation layers decode to (bounded)."""
    return list(_expand_script(code))


@lru_cache(maxsize=256)  # every page of a site links the same few scripts
def _expand_script(code: str) -> tuple[Payload, ...]:
    out: list[Payload] = []
    seen: set[str] = set()
    budget = [MAX_DECODED_CHARS]

    def add(text: str, layers: tuple[str, ...]) -> bool:
        if not text or text in seen or len(out) >= MAX_PAYLOADS or budget[0] <= 0:
            return False
        seen.add(text)
        budget[0] -= len(text)
        out.append(Payload(text, layers))
        return True

    def walk(text: str, layers: tuple[str, ...], depth: int) -> None:
        if not add(text, layers) or depth >= MAX_DEPTH:
            return
        if "function" in text and "eval" in text:
            unpacked = unpack_packer(text)
            if unpacked:
                walk(unpacked, (*layers, "packer"), depth + 1)
        for m in _CALL_RE.finditer(text):
            args = _call_args(text, m.end() - 1)
            if not args:
                continue
            literal = "".join(lit for lit, _ in string_literals(args))
            if not literal:
                continue
            name = m.group(1)
            decoded = b64_decode(literal) if name == "atob" else percent_unescape(literal)
            if decoded and (decoded != literal or name == "atob"):
                walk(decoded, (*layers, name), depth + 1)
        if "fromCharCode" in text:
            for m in _CHARCODE_RUN_RE.finditer(text):
                parts = [_from_char_codes(a) for a in _CHARCODE_ONE_RE.findall(m.group(0))]
                if all(parts):
                    walk("".join(p for p in parts if p), (*layers, "fromCharCode"), depth + 1)
        if "'" in text or '"' in text or "`" in text:
            for literal, escaped in string_literals(text):
                if escaped:
                    walk(literal, (*layers, "js-escape"), depth + 1)
                elif "<" in literal or "location" in literal:
                    add(literal, layers)

    walk(code, (), 0)
    return tuple(out)


# ==================================================================================================
# Redirects, read as code
#
# Why a parser: matching ``location`` and ``navigator.userAgent`` anywhere in a script's text made every
# 无障碍 toolbar (aria.js: ``location.href = url`` next to ``navigator.userAgent`` sniffing) and every
# bundled library a "spider-keyed redirect" with whatever URL strings the file held (licence links,
# ``http://a``, test hosts). A location change counts only when a user-agent or referrer test guards it
# in the same function or statement, and its target is a literal (or a decoded literal) — questions about
# the syntax tree, not the text. tree-sitter's JavaScript grammar is a maintained C parser with wheels:
# fast on 500 KB bundles, and error-tolerant, which real pages' broken or truncated scripts need.

_JS_LANGUAGE = Language(tree_sitter_javascript.language())
_PARSER_LOCAL = threading.local()

#: Spider names in a user-agent test, as whole words: ``bot`` is not in ``bottom``, ``robot`` not in
#: ``robotics``.
_SPIDER_WORD_RE = re.compile(
    r"(?<![a-z])(?:[a-z]*spider|[a-z]*bot|slurp|crawler|baidu|sogou|yisou|bytespider|haosou|yandex|bingpreview)"
    r"(?![a-z])",
    re.I,
)
#: Search engines in a referrer test, as whole words (``bing`` is not in ``combing``, ``so.com`` not in
#: ``also.com``).
_ENGINE_WORD_RE = re.compile(
    r"(?<![a-z0-9.])(?:baidu|sogou|so\.com|sm\.cn|soso|haosou|google|bing|youdao|yisou|360|toutiao|yahoo|"
    r"yandex|shenma|sousuo)(?![a-z])",
    re.I,
)
_FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function",
        "generator_function_declaration",
        "class_body",
    }
)
_DECODERS = {"atob", "unescape", "decodeURIComponent", "decodeURI"}
#: Scripts at least this large that look like a bundled library are not searched for redirects.
BUNDLE_MIN_CHARS = 30_000
_BUNDLE_SIGNS_RE = re.compile(
    r"__webpack_require__|webpackJsonp|webpackChunk|typeof exports\s*={2,3}\s*['\"]object['\"]|"
    r"define\.amd|/\*!\s*jQuery|core-js|\bSystem\.register\(|\(function\s*\(\s*global\s*,\s*factory\s*\)",
)


def is_library_bundle(code: str) -> bool:
    """A large bundled library (UMD / webpack / core-js / jQuery, or minified): not scanned for redirects.

    An injected redirect is a few lines; a 30 KB+ minified bundle is the site's vendor code, whose URL
    strings (licences, test hosts, CDN fallbacks) are not redirect targets.
    """
    if len(code) < BUNDLE_MIN_CHARS:
        return False
    if _BUNDLE_SIGNS_RE.search(code):
        return True
    lines = code.count("\n") + 1
    return len(code) / lines > 300  # minified


def _parser() -> Parser:
    parser = getattr(_PARSER_LOCAL, "parser", None)
    if parser is None:
        parser = _PARSER_LOCAL.parser = Parser(_JS_LANGUAGE)
    return parser


@dataclass(frozen=True, slots=True)
class Redirect:
    """A ``location`` change found in script code."""

    target: str
    keyed_on: str | None  # "referrer" | "useragent" (search engines / spiders only) | None
    layers: tuple[str, ...]  # decoding layers of the payload, then of the target itself
    code: str  # the statement that changes the location


class _Source:
    """A parsed script with text access by node (tree-sitter offsets are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.raw = text.encode("utf-8", "surrogatepass")
        self.tree = _parser().parse(self.raw)
        self._declarations: dict[int, dict[str, list[Node]]] = {}

    def text(self, node: Node) -> str:
        return self.raw[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def declarations(self, scope: Node) -> dict[str, list[Node]]:
        """Values given to each variable in ``scope`` (``var x = v``, ``x = v``), nested functions
        excluded; computed once per scope."""
        known = self._declarations.get(scope.id)
        if known is not None:
            return known
        found: dict[str, list[Node]] = {}
        stack = list(scope.children)
        while stack:
            node = stack.pop()
            if node.type in _FUNCTION_TYPES:
                continue
            name_node = value = None
            if node.type == "variable_declarator":
                name_node, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            elif node.type == "assignment_expression":
                name_node, value = node.child_by_field_name("left"), node.child_by_field_name("right")
            if name_node is not None and value is not None and name_node.type == "identifier":
                found.setdefault(self.text(name_node), []).append(value)
            stack.extend(node.children)
        self._declarations[scope.id] = found
        return found


def _is_location(node: Node | None, src: _Source) -> bool:
    """``location``, ``x.location``, ``location.href``, ``x.location.href`` (or ``['href']``)."""
    if node is None:
        return False
    if node.type == "identifier":
        return src.text(node) == "location"
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        obj = node.child_by_field_name("object")
        name = src.text(prop) if prop is not None else ""
        if name == "location":
            return True
        if name == "href":
            return _is_location(obj, src) and not _ends_with_href(obj, src)
        return False
    if node.type == "subscript_expression":
        index = node.child_by_field_name("index")
        obj = node.child_by_field_name("object")
        key = _constant(index, src, node, 0) if index is not None else None
        if key is not None and key[0] in ("location", "href"):
            return key[0] == "location" or _is_location(obj, src)
    return False


def _ends_with_href(node: Node | None, src: _Source) -> bool:
    if node is None or node.type != "member_expression":
        return False
    prop = node.child_by_field_name("property")
    return prop is not None and src.text(prop) == "href"


_CHANGES_QUERY = Query(
    _JS_LANGUAGE,
    "(assignment_expression) @assign "
    "(call_expression function: (member_expression property: (property_identifier) @method)) @call",
)


def _location_changes(src: _Source) -> list[tuple[Node, Node]]:
    """(statement-level node, target expression) of every location assignment or replace/assign call."""
    out: list[tuple[Node, Node]] = []
    captures = QueryCursor(_CHANGES_QUERY).captures(src.tree.root_node)
    for node in captures.get("assign", ()):
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if right is not None and _is_location(left, src):
            out.append((node, right))
    for node in captures.get("call", ()):
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is None or args is None or not args.named_child_count:
            continue
        prop = fn.child_by_field_name("property")
        is_method = prop is not None and src.text(prop) in ("replace", "assign")
        if is_method and _is_location(fn.child_by_field_name("object"), src):
            out.append((node, args.named_children[0]))
    out.sort(key=lambda pair: pair[0].start_byte)
    return out


def _scopes(node: Node) -> list[Node]:
    """The enclosing function bodies of ``node``, innermost first, then the program."""
    out = []
    cur = node.parent
    while cur is not None:
        if cur.type in _FUNCTION_TYPES or cur.type == "program":
            out.append(cur)
        cur = cur.parent
    return out


def _declared_values(name: str, scope: Node, src: _Source) -> list[Node]:
    """Values given to ``name`` in ``scope``, nested functions excluded."""
    return src.declarations(scope).get(name, [])


def _string_body(node: Node, src: _Source) -> str:
    return js_unescape(src.text(node)[1:-1])


def _constant(node: Node | None, src: _Source, at: Node, depth: int) -> tuple[str, tuple[str, ...]] | None:
    """Fold ``node`` to a string when it is built only from literals and the decoders an injection uses
    (``atob``, ``unescape``, ``decodeURI(Component)``, ``String.fromCharCode``, ``+``, a variable holding
    such a value). Returns the value and the decoding layers used, or None."""
    if node is None or depth > 8:
        return None
    kind = node.type
    if kind == "string":
        return _string_body(node, src), ()
    if kind == "template_string":
        if any(c.type == "template_substitution" for c in node.children):
            return None
        return js_unescape(src.text(node)[1:-1]), ()
    if kind == "parenthesized_expression" and node.named_child_count == 1:
        return _constant(node.named_children[0], src, at, depth + 1)
    if kind == "binary_expression":
        op = node.child_by_field_name("operator")
        if op is None or src.text(op) != "+":
            return None
        left = _constant(node.child_by_field_name("left"), src, at, depth + 1)
        right = _constant(node.child_by_field_name("right"), src, at, depth + 1)
        if left is None or right is None:
            return None
        return left[0] + right[0], (*left[1], *right[1])
    if kind == "call_expression":
        return _decoded_call(node, src, at, depth)
    if kind == "identifier":
        name = src.text(node)
        for scope in _scopes(at):
            values = _declared_values(name, scope, src)
            if values:
                # One value: the variable is a constant. Several: undecidable statically, not a literal.
                return _constant(values[0], src, values[0], depth + 1) if len(values) == 1 else None
    return None


def _decoded_call(node: Node, src: _Source, at: Node, depth: int) -> tuple[str, tuple[str, ...]] | None:
    fn = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if fn is None or args is None:
        return None
    name = src.text(fn).replace(" ", "")
    if name.startswith("window."):
        name = name[7:]
    values = [_constant(a, src, at, depth + 1) for a in args.named_children]
    if name == "String.fromCharCode":
        codes = []
        for a in args.named_children:
            if a.type != "number":
                return None
            try:
                codes.append(int(src.text(a), 0))
            except ValueError:
                return None
        if not codes or not all(0 <= c <= 0x10FFFF for c in codes):
            return None
        return "".join(map(chr, codes)), ("fromCharCode",)
    if name not in _DECODERS or len(values) != 1 or values[0] is None:
        return None
    value, layers = values[0]
    decoded = b64_decode(value) if name == "atob" else percent_unescape(value)
    if decoded is None:
        return None
    return decoded, (*layers, name)


def _guards(change: Node) -> list[Node]:
    """Conditions that decide whether ``change`` runs, within its own function: enclosing ``if`` and
    ternary tests, the left side of ``&&`` / ``||``, and earlier ``if (…) return`` statements."""
    out: list[Node] = []
    child, cur = change, change.parent
    while cur is not None and cur.type != "program":
        if cur.type in _FUNCTION_TYPES:
            if not _is_inline_callback(cur):
                break
            # ``setTimeout(function () { location.href = … }, 500)`` inside the guarded statement: the
            # callback belongs to that statement, so its guards count.
            child, cur = cur, cur.parent
            continue
        if cur.type in ("if_statement", "ternary_expression", "while_statement"):
            cond = cur.child_by_field_name("condition")
            if cond is not None and cond.id != child.id:
                out.append(cond)
        elif cur.type == "binary_expression":
            op = cur.child_by_field_name("operator")
            right = cur.child_by_field_name("right")
            left = cur.child_by_field_name("left")
            is_logical = op is not None and op.type in ("&&", "||")
            if is_logical and right is not None and right.id == child.id and left is not None:
                out.append(left)
        elif cur.type == "statement_block":  # earlier ``if (…) return`` in the same block
            for sibling in cur.named_children:
                if sibling.start_byte >= child.start_byte:
                    break
                if sibling.type == "if_statement" and _returns(sibling):
                    cond = sibling.child_by_field_name("condition")
                    if cond is not None:
                        out.append(cond)
        child, cur = cur, cur.parent
    return out


def _is_inline_callback(fn: Node) -> bool:
    """A function expression passed straight to a call (a timer or event callback)."""
    return fn.type in ("function_expression", "function", "arrow_function") and (
        fn.parent is not None and fn.parent.type == "arguments"
    )


def _returns(if_node: Node) -> bool:
    consequence = if_node.child_by_field_name("consequence")
    if consequence is None:
        return False
    if consequence.type == "return_statement":
        return True
    return any(c.type == "return_statement" for c in consequence.named_children)


def _literals_and_names(node: Node, src: _Source) -> tuple[list[str], set[str]]:
    """The string / regex literal texts and the identifiers under ``node``."""
    literals: list[str] = []
    names: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "string":
            literals.append(_string_body(n, src))
        elif n.type == "regex":
            pattern = n.child_by_field_name("pattern")
            # A regex's escapes (``so\\.com``) are not part of the words it tests for.
            literals.append((src.text(pattern) if pattern is not None else src.text(n)).replace("\\", ""))
        elif n.type in ("identifier", "property_identifier"):
            names.add(src.text(n))
        stack.extend(n.children)
    return literals, names


def _guard_kind(cond: Node, src: _Source) -> str | None:
    """"useragent" when ``cond`` tests the user agent against spider names, "referrer" when it tests the
    referrer against search engines; variables the condition reads are followed one step (``var ua =
    navigator.userAgent.toLowerCase(); var bots = ["baiduspider", …]``)."""
    literals, names = _literals_and_names(cond, src)
    reads_ua = "userAgent" in names
    reads_ref = "referrer" in names
    for name in names - {"userAgent", "referrer", "navigator", "document", "test", "indexOf", "match"}:
        for scope in _scopes(cond):
            for value in _declared_values(name, scope, src)[:3]:
                more_literals, more_names = _literals_and_names(value, src)
                literals.extend(more_literals)
                reads_ua = reads_ua or "userAgent" in more_names
                reads_ref = reads_ref or "referrer" in more_names
    words = " ".join(literals)
    if reads_ua and _SPIDER_WORD_RE.search(words):
        return "useragent"
    if reads_ref and _ENGINE_WORD_RE.search(words):
        return "referrer"
    return None


@lru_cache(maxsize=512)  # a site's shared scripts come with every page
def _redirects_in(code: str) -> tuple[tuple[str, str | None, tuple[str, ...], str], ...]:
    if "location" not in code or is_library_bundle(code):
        return ()
    src = _Source(code)
    out: list[tuple[str, str | None, tuple[str, ...], str]] = []
    for change, target_node in _location_changes(src):
        folded = _constant(target_node, src, target_node, 0)
        if folded is None:
            continue  # a computed target (``location.href = url``): not a literal, not evidence
        target, layers = folded
        target = target.strip()
        if not target or target.startswith(("#", "javascript:")):
            continue
        keyed = None
        for cond in _guards(change):
            keyed = _guard_kind(cond, src)
            if keyed:
                break
        out.append((target, keyed, layers, _trim_code(src.text(change))))
    return tuple(out)


def _trim_code(code: str, limit: int = 300) -> str:
    return code if len(code) <= limit else code[: limit - 1] + "…"


def find_redirects(payload: Payload) -> list[Redirect]:
    """``location`` changes in one payload whose target is a (decoded) literal, and whether a user-agent
    test for spiders or a referrer test for search engines guards them in the same function or statement.
    Large library bundles are not searched (see :func:`is_library_bundle`)."""
    seen: set[str] = set()
    out: list[Redirect] = []
    for target, keyed, layers, code in _redirects_in(payload.text):
        if target not in seen:
            seen.add(target)
            out.append(Redirect(target, keyed, (*payload.layers, *layers), code))
    return out
