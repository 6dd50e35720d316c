"""Quality of the text checks on the development data in ../shared/data (never copied into the repo).

* recall: share of erroneous sentences of ``odw.train.tsv`` where some hit covers a wrong character
  position (positions where the text differs from the corrected text);
* FPR: share of the 5,000 correct ``acc_xxqg.json`` sentences with any hit.

With ``--typo-model`` the language-model stage (疑似错别字, :mod:`checks.text.typolm`) runs after the
scanner, as in the crawl, and its speed is reported in sentences per second on one core.

Usage: ``PYTHONPATH=. python bench/text_quality.py [--show N] [--fixed-phrases] [--typo-model
[--threshold G]]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from checks.text import typolm
from checks.text.textscan import TextHit, TextScanner, TextScanOptions, sample_word_list

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_odw() -> list[tuple[str, str]]:
    """Erroneous (text, corrected) pairs of odw.train.tsv (rows with n_errors > 0)."""
    rows = []
    for line in (SHARED / "odw.train.tsv").read_text(encoding="utf-8").splitlines():
        n, text, corrected = line.split("\t")
        if int(n) > 0:
            rows.append((text, corrected))
    return rows


def load_acc() -> list[str]:
    """Correct sentences of acc_xxqg.json."""
    return [row["original_text"] for row in json.loads((SHARED / "acc_xxqg.json").read_text("utf-8"))]


def wrong_positions(text: str, corrected: str) -> set[int]:
    """Positions where ``text`` differs from ``corrected`` (same-length substitutions)."""
    if len(text) == len(corrected):
        return {i for i, (a, b) in enumerate(zip(text, corrected, strict=True)) if a != b}
    # Different lengths: compare common prefix / suffix, the middle is wrong.
    p = 0
    while p < min(len(text), len(corrected)) and text[p] == corrected[p]:
        p += 1
    s = 0
    while s < min(len(text), len(corrected)) - p and text[-1 - s] == corrected[-1 - s]:
        s += 1
    return set(range(p, max(p + 1, len(text) - s)))


class Checker:
    """The scanner (stage 0), optionally followed by the language-model stage (stage 1)."""

    def __init__(self, scanner: TextScanner, model: typolm.TypoModel | None, threshold: float) -> None:
        self.scanner, self.model, self.threshold = scanner, model, threshold
        self.lm_seconds = 0.0
        self.lm_sentences = 0

    def check(self, text: str) -> list[TextHit]:
        """Stage 0 hits plus the model's suggestions (as one-character hits)."""
        hits = self.scanner.scan(text)
        if self.model is not None:
            t0 = time.perf_counter()
            found = self.model.suggest(text, self.threshold)
            self.lm_seconds += time.perf_counter() - t0
            self.lm_sentences += 1
            hits += [
                TextHit(s.start, s.end, s.wrong, s.fix, typolm.RULE, "warning", "疑似错别字", "", s.context)
                for s in found
            ]
        return hits


def measure(checker: Checker | TextScanner, show: int = 0) -> dict[str, float]:
    """Compute recall on odw and FPR on acc_xxqg; print up to ``show`` examples of each."""
    if isinstance(checker, TextScanner):
        checker = Checker(checker, None, 0.0)
    odw = load_odw()
    caught = 0
    for text, corrected in odw:
        wrong = wrong_positions(text, corrected)
        if any(any(h.start <= i < h.end for i in wrong) for h in checker.check(text)):
            caught += 1
    acc = load_acc()
    fp_rows = []
    t0 = time.perf_counter()
    for text in acc:
        hits = checker.check(text)
        if hits:
            fp_rows.append((text, hits))
    acc_secs = time.perf_counter() - t0
    for text, hits in fp_rows[:show]:
        print("FP:", [(h.wrong, h.suggestion, h.rule) for h in hits], text[:60], file=sys.stderr)
    return {
        "odw_rows": len(odw),
        "odw_caught": caught,
        "recall": caught / len(odw),
        "acc_rows": len(acc),
        "acc_flagged": len(fp_rows),
        "fpr": len(fp_rows) / len(acc),
        "acc_seconds": acc_secs,
        "lm_sentences_per_second": checker.lm_sentences / checker.lm_seconds if checker.lm_seconds else 0.0,
    }


def main() -> None:
    """Print recall and FPR."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--show", type=int, default=0, help="print N false positives to stderr")
    ap.add_argument(
        "--fixed-phrases", action="store_true", help="with the 常用词语 tier (text.fixed_phrases)"
    )
    ap.add_argument("--typo-model", action="store_true", help="with the language-model stage (疑似错别字)")
    ap.add_argument("--threshold", type=float, default=typolm.DEFAULT_THRESHOLD, help="its minimum gain")
    args = ap.parse_args()
    t0 = time.perf_counter()
    scanner = TextScanner(TextScanOptions(word_lists=(sample_word_list(),), fixed_phrases=args.fixed_phrases))
    build = time.perf_counter() - t0
    model = None
    if args.typo_model:
        model = typolm.shared_model()
        if model is None:
            sys.exit(f"language model unavailable: {typolm.unavailable_reason()}")
        model.suggest("加载词表与候选字。")  # load the vocabulary index and candidate tables once
    r = measure(Checker(scanner, model, args.threshold), args.show)
    print(f"scanner build: {build:.2f} s, {scanner.n_keys} automaton keys")
    if model is not None:
        print(
            f"language-model stage (threshold {args.threshold}): "
            f"{r['lm_sentences_per_second']:.0f} sentences/s on one core"
        )
    print(f"recall on odw.train.tsv erroneous rows: {r['odw_caught']}/{r['odw_rows']} = {r['recall']:.2%}")
    print(
        f"FPR on acc_xxqg.json: {r['acc_flagged']}/{r['acc_rows']} = {r['fpr']:.3%}"
        f"  (scan {r['acc_seconds']:.2f} s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
