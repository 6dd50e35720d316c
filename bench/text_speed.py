"""Throughput of the text checks (one core), with a plain ``re`` alternation and raw pyahocorasick
matching the same word list on the same text as reference points.

Text: the sentences of ../shared/data (acc_xxqg.json + odw.train.tsv), joined into ~16 KB "pages"
with the newlines and spaces real page text has, repeated to about ``--mb`` megabytes (UTF-8).

Also: the cost of the 常用词语 tier, and visible-text extraction from parsed HTML per page.
Rates are CPU time of this one process (best of 3 runs).

Usage: ``PYTHONPATH=. python bench/text_speed.py [--mb 20]``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ahocorasick

from checks.text.sensitive import SAMPLE_LIST, read_words
from checks.text.textnorm import fold
from checks.text.textscan import TextScanner, TextScanOptions, sample_word_list
from checks.text.typos import iter_all_typo_rows
from monitor.web.html import parse_html
from monitor.web.visible_text import extract_visible_text

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def build_pages(target_mb: float, page_chars: int = 16_000) -> list[str]:
    """Pages of realistic text totalling about ``target_mb`` MB of UTF-8."""
    sents = [r["original_text"] for r in json.loads((SHARED / "acc_xxqg.json").read_text("utf-8"))]
    for line in (SHARED / "odw.train.tsv").read_text("utf-8").splitlines():
        sents.append(line.split("\t")[1])
    pages: list[str] = []
    buf: list[str] = []
    size = 0
    total = 0.0
    i = 0
    while total < target_mb * 1e6:
        s = sents[i % len(sents)]
        i += 1
        buf.append(s)
        size += len(s)
        if size >= page_chars:
            page = "\n".join(buf) + "\n 首页 | 政务公开 | 办事服务 \n"
            pages.append(page)
            total += len(page.encode("utf-8"))
            buf, size = [], 0
    return pages


def rate(fn: Callable[[Any], object], pages: list[Any], mb: float, runs: int = 3) -> float:
    """MB/s of ``fn`` over ``pages``: best of ``runs``, in CPU time of this process (one core), so that
    other processes competing for the machine do not distort the figure."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        for p in pages:
            fn(p)
        best = min(best, time.process_time() - t0)
    return mb / best


def html_pages(pages: list[str]) -> list[str]:
    """The text pages as realistic CMS HTML: head with scripts and styles, navigation, paragraphs,
    a hidden block and a footer."""
    out = []
    for p in pages:
        paras = "".join(f"<p>{line}</p>\n" for line in p.split("\n") if line)
        out.append(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>关于印发工作要点的通知</title>"
            "<style>body{font:14px sans-serif}.nav li{float:left}</style>"
            "<script>var _hmt = _hmt || []; function setFontSize(n){}</script></head><body>"
            '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
            '<li><a href="/bsfw/">办事服务</a></li></ul></div>'
            f'<div class="article"><h1>关于印发工作要点的通知</h1><div id="zoom">{paras}</div>'
            '<div style="display:none">隐藏内容</div><img src="/a.jpg" alt="图片说明"></div>'
            '<div class="footer">主办：示例县人民政府办公室 <script>document.write("x")</script></div>'
            "</body></html>"
        )
    return out


def main() -> None:
    """Print MB/s of all checks together and the reference matchers."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=20.0)
    args = ap.parse_args()
    pages = build_pages(args.mb)
    mb = sum(len(p.encode("utf-8")) for p in pages) / 1e6
    t0 = time.perf_counter()
    scanner = TextScanner(TextScanOptions(word_lists=(sample_word_list(),)))
    print(
        f"text: {len(pages)} pages, {mb:.1f} MB UTF-8; scanner build {time.perf_counter() - t0:.2f} s, "
        f"{scanner.n_keys} keys"
    )
    full = rate(scanner.scan, pages, mb)
    print(
        f"TextScanner.scan (all checks: protected terms, typos, phrasing, sensitive, privacy): "
        f"{full:.1f} MB/s"
    )
    rich = TextScanner(TextScanOptions(word_lists=(sample_word_list(),), fixed_phrases=True))
    r_rich = rate(rich.scan, pages, mb)
    print(
        f"  same with the 常用词语 tier (text.fixed_phrases: true, {rich.n_keys} keys): "
        f"{r_rich:.1f} MB/s; the tier costs {1 - r_rich / full:.0%}"
    )

    # Visible-text extraction from the tree the crawl has already parsed (its parse cost for scale).
    docs = html_pages(pages)
    html_mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    trees = [parse_html(d) for d in docs]
    r_parse = rate(parse_html, docs, html_mb)
    r_visible = rate(extract_visible_text, trees, html_mb)
    per_page_ms = 1000 * html_mb / r_visible / len(docs)
    avg_kb = html_mb * 1000 / len(docs)
    print(
        f"visible-text extraction: {r_visible:.1f} MB/s of HTML ({per_page_ms:.2f} ms per {avg_kb:.0f} KB "
        f"page); lxml parse of the same pages (paid once by the crawl): {r_parse:.1f} MB/s"
    )

    # Reference: the same literal word list (common typos + sample sensitive words) three ways.
    words = sorted({w for w, _ in iter_all_typo_rows()} | {fold(w) for w in read_words(SAMPLE_LIST)})
    alt = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    raw = ahocorasick.Automaton()
    for w in words:
        raw.add_word(w, w)
    raw.make_automaton()
    literal = TextScanner(
        TextScanOptions(word_lists=(sample_word_list(),), shipped_terms=False, phrasing=False, privacy=False)
    )
    r_re = rate(lambda p: list(alt.finditer(p)), pages, mb)
    r_ac = rate(lambda p: list(raw.iter(p)), pages, mb)
    r_lit = rate(literal.scan, pages, mb)
    print(f"same {len(words)}-word list (typos + sample sensitive), same text:")
    print(f"  re alternation            {r_re:7.1f} MB/s")
    print(f"  raw pyahocorasick (str)   {r_ac:7.1f} MB/s   = {r_ac / r_re:.2f} x re")
    print(
        f"  TextScanner (list only)   {r_lit:7.1f} MB/s   = {r_lit / r_re:.2f} x re, "
        f"{r_lit / r_ac:.2f} x raw AC (includes folding, de-obfuscation, offsets, guards)"
    )
    # Full key set: raw pyahocorasick on code points vs the scanner's byte-level automaton.
    keys = list(scanner._auto.keys())
    raw_full = ahocorasick.Automaton()
    for k in keys:
        raw_full.add_word(k.encode("latin-1").decode("utf-8"), 1)
    raw_full.make_automaton()
    r_full_ac = rate(lambda p: sum(1 for _ in raw_full.iter(p)), pages, mb)
    print(
        f"full {len(keys)}-key set: raw pyahocorasick (str) {r_full_ac:.1f} MB/s; "
        f"TextScanner all checks {full:.1f} MB/s = {full / r_full_ac:.2f} x raw AC"
    )


if __name__ == "__main__":
    main()
