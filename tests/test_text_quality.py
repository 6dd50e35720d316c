"""False-positive rate on 5,000 correct sentences (../shared/data/acc_xxqg.json) stays below 0.1 %.

Speed is measured in bench/text_speed.py, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

from checks.text.textscan import TextScanOptions, cached_scanner, sample_word_list

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_fpr_on_clean_sentences() -> None:
    scanner = cached_scanner(TextScanOptions(word_lists=(sample_word_list(),)))
    rows = [r["original_text"] for r in json.loads((SHARED / "acc_xxqg.json").read_text("utf-8"))]
    flagged = [t for t in rows if scanner.scan(t)]
    assert len(flagged) / len(rows) < 0.001, flagged
