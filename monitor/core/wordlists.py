"""Reading sensitive-word list files in the forms offices receive them.

Accepted, in any mix of the line forms:

* one word per line;
* ``word<TAB>category``, ``word,category`` or ``word，category`` (full-width comma);
* CSV with a header row naming the columns (``word``/``词``/``敏感词``/``关键词``… and
  ``category``/``类别``/``分类``…; other columns are ignored; quoted fields as Excel writes them);
* ``#`` comments (whole lines or after the entry) and blank lines;
* UTF-8 with or without BOM, UTF-16 with BOM (Notepad's "Unicode"), and GBK/GB18030.

A line that cannot be read (undecodable bytes, an empty word, too many fields without a header…) raises
:class:`WordListError` naming the file and the line: a list must never silently lose a term.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

#: Header names of the word column and of the category column (compared case-insensitively).
WORD_HEADERS = frozenset(
    {"word", "words", "term", "keyword", "词", "词语", "敏感词", "关键词", "关键字", "词条"}
)
CATEGORY_HEADERS = frozenset({"category", "type", "class", "类别", "分类", "类型", "类目", "敏感类别"})
_SEPARATORS = ("\t", ",", "，")


class WordListError(ValueError):
    """A word-list file that cannot be read; the message names the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"word list {where}: {reason}")


@dataclass(frozen=True)
class ListedWord:
    """One word of a list file, its own category (``""``: the list's category) and its line number."""

    word: str
    category: str
    line: int


def decode_list(data: bytes, path: Path | str) -> str:
    """The text of a list file: UTF-8 (BOM optional), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise WordListError(path, None, f"not valid UTF-16: {exc.reason}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise WordListError(path, line, "bytes that are neither UTF-8 nor GBK/GB18030") from None


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _split(line: str) -> list[str]:
    """Fields of an entry line: CSV-style quoting when it has quotes, else the first separator found."""
    if '"' in line:
        return [f.strip() for f in next(csv.reader([line]))]
    for sep in _SEPARATORS:
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return [line]


def _header(fields: list[str]) -> tuple[int, int | None] | None:
    """(word column, category column) when ``fields`` is a header row, else None."""
    names = [f.strip().lower() for f in fields]
    word_col = next((i for i, n in enumerate(names) if n in WORD_HEADERS), None)
    if word_col is None:
        return None
    cat_col = next((i for i, n in enumerate(names) if n in CATEGORY_HEADERS), None)
    return word_col, cat_col


def parse_list(text: str, path: Path | str = "<list>") -> list[ListedWord]:
    """Parse the decoded text of a list file (see the module docstring for the forms)."""
    out: list[ListedWord] = []
    columns: tuple[int, int | None] | None = None
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line:
            continue
        fields = _split(line)
        if first:
            first = False
            columns = _header(fields) if len(fields) > 1 or fields[0].lower() in WORD_HEADERS else None
            if columns is not None:
                continue
        if columns is not None:
            word_col, cat_col = columns
            if word_col >= len(fields):
                raise WordListError(path, number, f"no word in column {word_col + 1}: {raw.strip()!r}")
            word = fields[word_col]
            category = fields[cat_col] if cat_col is not None and cat_col < len(fields) else ""
        elif len(fields) > 2:
            raise WordListError(
                path,
                number,
                f"{len(fields)} fields, expected 'word' or 'word<TAB>category' "
                f"(or a CSV header row naming the columns): {raw.strip()!r}",
            )
        else:
            word, category = fields[0], (fields[1] if len(fields) == 2 else "")
        if not word:
            raise WordListError(path, number, f"empty word: {raw.strip()!r}")
        if not any(unicodedata.category(ch)[0] in "LN" for ch in unicodedata.normalize("NFKC", word)):
            raise WordListError(path, number, f"only spaces or symbols, nothing to match: {word!r}")
        out.append(ListedWord(word, category, number))
    return out


def read_list(path: Path | str) -> list[ListedWord]:
    """Read a list file; :class:`WordListError` (or ``OSError``) when it cannot be read."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise WordListError(p, None, f"cannot read the file: {exc.strerror or exc}") from None
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WordListError(p, line, "a binary file, not a text list (save it as .txt or .csv)")
    return parse_list(decode_list(data, p), p)
