"""References inside CSS: ``url()`` values and ``@import`` rules, found with the tinycss2 tokenizer.

A browser loads every ``url()`` of a stylesheet it applies (background images, fonts, cursors) and every
stylesheet it ``@import``s. tinycss2 tokenizes CSS as the CSS Syntax spec says, so comments, strings and
escapes are handled as a browser handles them: ``/* url(old.png) */`` is no reference, ``url( "a b.png" )``
is one; a regular expression gets these wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import tinycss2
from tinycss2 import ast

# At-rules whose url() names something that is never fetched (a namespace is an identifier).
_NOT_LOADED_AT_RULES = frozenset({"namespace"})


class CssReference(NamedTuple):
    """One URL a stylesheet makes the browser load; ``imported`` for an ``@import``ed stylesheet."""

    url: str
    imported: bool


def _url_of(token: ast.Node) -> str | None:
    """The URL of a ``url(...)`` token or ``url("...")`` function, else None."""
    if isinstance(token, ast.URLToken):
        return token.value
    if isinstance(token, ast.FunctionBlock) and token.lower_name in ("url", "src"):
        for arg in token.arguments:
            if isinstance(arg, ast.StringToken):
                return arg.value
            if not isinstance(arg, (ast.WhitespaceToken, ast.Comment)):
                return None
    return None


def _walk(tokens: Iterable[ast.Node], out: list[CssReference]) -> None:
    for token in tokens:
        url = _url_of(token)
        if url is not None:
            if url.strip():
                out.append(CssReference(url.strip(), False))
            continue
        if isinstance(token, ast.FunctionBlock):
            _walk(token.arguments, out)
        elif isinstance(token, (ast.CurlyBracketsBlock, ast.ParenthesesBlock, ast.SquareBracketsBlock)):
            _walk(token.content, out)


def _rules(rules: Iterable[ast.Node], out: list[CssReference]) -> None:
    for rule in rules:
        if isinstance(rule, ast.AtRule):
            if rule.lower_at_keyword in _NOT_LOADED_AT_RULES:
                continue
            if rule.lower_at_keyword == "import":
                target = next(
                    (t for t in rule.prelude if not isinstance(t, (ast.WhitespaceToken, ast.Comment))), None
                )
                url = target.value if isinstance(target, ast.StringToken) else None
                if target is not None and url is None:
                    url = _url_of(target)
                if url and url.strip():
                    out.append(CssReference(url.strip(), True))
                continue
            _walk(rule.prelude, out)
            if rule.content is not None:
                # A block at-rule (@media, @supports, @font-face…): its content may hold nested rules.
                _walk(rule.content, out)
        elif isinstance(rule, ast.QualifiedRule):
            _walk(rule.content, out)


def stylesheet_references(css: str) -> list[CssReference]:
    """Every URL a stylesheet (a ``.css`` file or a ``<style>`` block) loads, in source order."""
    out: list[CssReference] = []
    if "url" not in css.lower() and "@import" not in css.lower():
        return out  # most <style> blocks reference nothing: skip tokenizing them
    _rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), out)
    return out


def declaration_references(style: str) -> list[str]:
    """Every URL of a ``style`` attribute (a declaration list: ``background: url(a.png)``)."""
    if "url" not in style.lower():
        return []
    out: list[CssReference] = []
    _walk(tinycss2.parse_component_value_list(style, skip_comments=True), out)
    return [r.url for r in out]
