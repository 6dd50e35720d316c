"""Static decoding of the script obfuscations used to inject dark links.

No JavaScript is executed.  :func:`expand_script` peels the layers seen in real injections —
``unescape('%3Ca…')`` / ``%uXXXX``, ``\\x3c`` / ``\\u003c`` string escapes, ``atob('…')``,
``String.fromCharCode(…)``, ``decodeURIComponent`` and Dean Edwards' ``eval(function(p,a,c,k,e,d)…)``
packer — recursively (bounded), and returns every decoded text with the layers that produced it.
:func:`find_redirects` then looks for ``location`` changes, and whether they are keyed on
``document.referrer`` (search-engine visitors) or ``navigator.userAgent`` (spiders).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote

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
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return unquote(text, encoding="latin-1")


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
    return out


_REFERRER_RE = re.compile(r"document\s*\.\s*referrer|document\[\s*['\"]referrer", re.I)
_ENGINE_RE = re.compile(r"baidu|sogou|so\.com|sm\.cn|soso|haosou|google|bing|youdao|yisou|360|toutiao", re.I)
_UA_RE = re.compile(r"navigator\s*\.\s*userAgent|navigator\[\s*['\"]userAgent", re.I)
_SPIDER_RE = re.compile(r"spider|bot|slurp|yisou|sogou|baidu", re.I)
_LOCATION_RE = re.compile(
    r"""(?:(?:window|top|self|parent|document)\s*\.\s*)?location(?:\s*\.\s*href)?\s*=\s*(?:(['"])(?P<u>[^'"]+)\1|(?P<var>[A-Za-z_$][\w$]*))"""
    r"""|location\s*\.\s*(?:replace|assign)\s*\(\s*(?:(['"])(?P<u2>[^'"]+)\4|(?P<var2>[A-Za-z_$][\w$]*))"""
    r"""|window\s*\.\s*open\s*\(\s*(['"])(?P<u3>[^'"]+)\7""",
)
_URL_LITERAL_RE = re.compile(r"""https?://[^\s'"<>()\\]+""")


@dataclass(frozen=True, slots=True)
class Redirect:
    """A ``location`` change found in script text."""

    target: str
    keyed_on: str | None  # "referrer" | "useragent" | None (unconditional)
    layers: tuple[str, ...]
    code: str  # the payload text that contains it


def find_redirects(payload: Payload) -> list[Redirect]:
    """``location`` changes in one payload, and whether a referrer / user-agent test guards them."""
    text = payload.text
    if "location" not in text and "open" not in text:
        return []
    matches = list(_LOCATION_RE.finditer(text))
    if not matches:
        return []
    keyed: str | None = None
    if _REFERRER_RE.search(text) and _ENGINE_RE.search(text):
        keyed = "referrer"
    elif _UA_RE.search(text) and _SPIDER_RE.search(text):
        keyed = "useragent"
    targets: list[str] = []
    uses_variable = False
    for m in matches:
        url = m.group("u") or m.group("u2") or m.group("u3")
        if url:
            targets.append(url)
        elif m.group("var") or m.group("var2"):
            uses_variable = True
    if uses_variable and keyed:
        # ``location.href = u`` with ``var u = "http://…"`` elsewhere: take the URL literals.
        targets.extend(_URL_LITERAL_RE.findall(text))
    seen: set[str] = set()
    out: list[Redirect] = []
    for url in targets:
        if url not in seen:
            seen.add(url)
            out.append(Redirect(url, keyed, payload.layers, text))
    return out
