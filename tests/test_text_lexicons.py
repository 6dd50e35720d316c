"""Lexicon hygiene: every common-typo entry is checked against clean text; data files load."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from checks.text.sensitive import SAMPLE_LIST, read_words
from checks.text.textnorm import DATA_DIR, common_words
from checks.text.textscan import TextScanner, TextScanOptions, cached_scanner
from checks.text.typos import iter_all_typo_rows, load_phrasing_rules, load_protected_terms, lookalike_table

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ROWS = list(iter_all_typo_rows())
TYPOS_ONLY = TextScanOptions(shipped_terms=False, phrasing=False, privacy=False)


@pytest.fixture(scope="module")
def typo_scanner() -> TextScanner:
    return cached_scanner(TYPOS_ONLY)


def test_lexicon_sizes() -> None:
    assert len(ROWS) >= 150
    assert len({w for w, _ in ROWS}) == len(ROWS), "duplicate wrong forms"
    assert len(load_protected_terms()) >= 300
    assert len(load_phrasing_rules()) >= 10
    assert len(read_words(SAMPLE_LIST)) >= 15
    assert len(lookalike_table()) >= 150


def test_data_files_have_header_comment() -> None:
    for path in DATA_DIR.iterdir():
        if path.suffix in {".tsv", ".txt", ".yaml"}:
            assert path.read_text(encoding="utf-8").startswith("#"), path.name


@pytest.mark.parametrize(("wrong", "right"), ROWS, ids=[w for w, _ in ROWS])
def test_typo_entry(typo_scanner: TextScanner, wrong: str, right: str) -> None:
    assert wrong != right and wrong not in right
    assert wrong not in common_words(), "wrong form is a common word"
    frame = "我们要认真做好{}这项工作。"
    hits = typo_scanner.scan(frame.format(wrong))
    assert [(h.wrong, h.suggestion) for h in hits] == [(wrong, right)]
    assert hits[0].start == frame.index("{")
    assert typo_scanner.scan(frame.format(right)) == []


def test_two_char_entries_silent_across_word_boundaries(typo_scanner: TextScanner) -> None:
    """了望 in 除了望远镜: a two-character entry must not fire where its characters belong to two
    neighbouring common words."""
    words = common_words()
    ends: dict[str, list[str]] = defaultdict(list)
    starts: dict[str, list[str]] = defaultdict(list)
    for w in words:
        if len(w) == 2:
            ends[w[1]].append(w)
            starts[w[0]].append(w)
    checked = 0
    for wrong, _ in ROWS:
        if len(wrong) != 2:
            continue
        for a in sorted(ends[wrong[0]])[:20]:
            for b in sorted(starts[wrong[1]])[:20]:
                text = f"这是{a}{b}的情况"
                assert typo_scanner.scan(text) == [], text
                checked += 1
    assert checked > 100


def test_typo_entries_silent_on_clean_corpora(typo_scanner: TextScanner) -> None:
    """No entry fires on 5,000 correct 学习强国 sentences nor on the corrected odw sentences."""
    clean = [r["original_text"] for r in json.loads((SHARED / "acc_xxqg.json").read_text("utf-8"))]
    for line in (SHARED / "odw.train.tsv").read_text("utf-8").splitlines():
        clean.append(line.split("\t")[2])
    fired = [(t, h.wrong) for t in clean for h in typo_scanner.scan(t)]
    assert fired == []


@pytest.mark.parametrize(
    "text",
    [
        "除了望远镜",
        "确定单位",
        "预防犯罪",
        "全部份额",
        "沪深300成份股",
        "过渡假期",
        "关注消费",
        "形成积极合力",
    ],
)
def test_known_traps(typo_scanner: TextScanner, text: str) -> None:
    assert typo_scanner.scan(text) == []
