"""Regenerate the derived lexicon files in ``checks/data`` (developer tool, not used at runtime).

* ``t2s_chars.tsv``: one-to-one traditional -> simplified character map, from OpenCC's
  ``TSCharacters.txt`` (Apache-2.0, shipped in ``opencc-python-reimplemented``). A traditional
  character that is itself a common simplified character (it encodes in GB2312, e.g. 乾, 著, 么)
  is left alone so that folding never changes correct simplified text.
* ``words_zh.txt``: common Chinese words (2-4 Han characters, frequency >= 10) from jieba's
  ``dict.txt`` (MIT). Used to drop protected-term variants that are real words and for word-boundary
  guards. Known wrong forms from ``common_typos.tsv`` are excluded.
* ``fixed_phrases.txt``: frequent four-character words (frequency >= 100) from the same dictionary,
  protected as 常用词语 (their one-character variants are typos).

Usage: ``python bench/build_lexicon_data.py`` (needs ``opencc-python-reimplemented`` and ``jieba``).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "checks" / "data"


def _is_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def build_t2s() -> int:
    """Write ``t2s_chars.tsv``; return the number of mappings."""
    import opencc

    src = Path(os.path.dirname(opencc.__file__)) / "dictionary" / "TSCharacters.txt"
    rows: list[tuple[str, str]] = []
    for line in src.read_text(encoding="utf-8").splitlines():
        trad, simp = line.split("\t")
        target = simp.split()[0]
        if len(trad) != 1 or len(target) != 1 or trad == target:
            continue
        if _is_gb2312(trad) or ord(trad) > 0xFFFF or ord(target) > 0xFFFF:
            continue
        rows.append((trad, target))
    today = _dt.date.today().isoformat()
    header = (
        f"# Traditional -> simplified, one character to one character. Generated {today} by\n"
        "# bench/build_lexicon_data.py from OpenCC TSCharacters.txt (Apache-2.0, via\n"
        "# opencc-python-reimplemented 0.1.7). Characters that are also common simplified\n"
        "# characters (GB2312) are not mapped.\n"
    )
    body = "".join(f"{a}\t{b}\n" for a, b in rows)
    (DATA / "t2s_chars.tsv").write_text(header + body, encoding="utf-8")
    return len(rows)


def build_words(min_freq: int = 10) -> int:
    """Write ``words_zh.txt``; return the number of words."""
    import jieba

    wrong: set[str] = set()
    typos = DATA / "common_typos.tsv"
    if typos.exists():
        for line in typos.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                wrong.add(line.split("\t")[0])
    src = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
    words: list[str] = []
    han = re.compile(r"[\u4e00-\u9fff]{2,4}")
    for line in src.read_text(encoding="utf-8").splitlines():
        w, f, *_ = line.split(" ")
        if int(f) >= min_freq and han.fullmatch(w) and w not in wrong:
            words.append(w)
    words.sort()
    today = _dt.date.today().isoformat()
    header = (
        f"# Common Chinese words (2-4 Han characters, frequency >= {min_freq}). Generated {today} by\n"
        "# bench/build_lexicon_data.py from jieba 0.42.1 dict.txt (MIT licence). Known wrong forms\n"
        "# listed in common_typos.tsv are excluded. One word per line.\n"
    )
    (DATA / "words_zh.txt").write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    return len(words)


def build_fixed_phrases(min_freq: int = 100) -> int:
    """Write ``fixed_phrases.txt``: frequent four-character words (成语, fixed expressions, set phrases of
    official writing) protected at the 常用词语 tier; return the number of phrases.

    Measured with bench/text_quality.py: frequency >= 100 (1.9k phrases) adds recall with no new false
    positive on acc_xxqg; >= 50 starts firing on correct text (服务重心 for 服务中心) for little gain.
    """
    import jieba

    src = Path(os.path.dirname(jieba.__file__)) / "dict.txt"
    han = re.compile(r"[\u4e00-\u9fff]{4}")
    phrases: list[str] = []
    for line in src.read_text(encoding="utf-8").splitlines():
        w, f, *_ = line.split(" ")
        if int(f) >= min_freq and han.fullmatch(w):
            phrases.append(w)
    phrases.sort()
    today = _dt.date.today().isoformat()
    header = (
        f"# Frequent four-character words (成语 and fixed expressions, frequency >= {min_freq}), protected\n"
        f"# at the 常用词语 tier (deduction). Generated {today} by bench/build_lexicon_data.py from\n"
        "# jieba 0.42.1 dict.txt (MIT licence). One phrase per line.\n"
    )
    (DATA / "fixed_phrases.txt").write_text(header + "\n".join(phrases) + "\n", encoding="utf-8")
    return len(phrases)


if __name__ == "__main__":
    print("t2s_chars.tsv:", build_t2s())
    print("words_zh.txt:", build_words())
    print("fixed_phrases.txt:", build_fixed_phrases())
