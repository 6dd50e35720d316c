"""Stage 1 of the typo check: a word trigram language model proposes one-character fixes (疑似错别字).

For each Chinese character of a sentence, the candidates are characters that sound the same (toneless
pinyin, pypinyin) or look alike (``data/lm/same_stroke.txt``, ``data/lm/glyph_similar.txt`` and the
shipped look-alike table), taken
from the 3,502 common characters, and kept only when the replacement forms a word of the model with a
neighbour. Each candidate is scored by the gain in the best word segmentation's log10 probability over
a window of a few characters on each side (a small beam search over segmentations with the trigram
model, KenLM). A gain of at least ``threshold`` is reported as a suggestion with the proposed fix,
severity ``warning``: never a veto, never a deduction.

Never flagged: characters inside quotation marks or book-title marks, known person and place names,
names next to a title or before a place suffix, one-character country names (葡方, 中墨两国), words
the model does not know but common-word lists do (抗疫, 赋能), non-Chinese text and numbers, and the
phrases the caller protects (the site's names and allow list). What the site teaches (recurring
n-grams, 误报) is applied by :class:`checks.text.TyposCheck`.

The model is loaded once per process (:func:`shared_model`, memory-mapped, instant); when the ``kenlm``
runtime or the model file is missing, :func:`shared_model` returns ``None`` with the reason in
:func:`unavailable_reason`, and the stage is skipped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.text.textnorm import DATA_DIR, common_words
from checks.text.typos import lookalike_table

log = logging.getLogger(__name__)

LM_DIR = DATA_DIR / "lm"
SHIPPED_MODEL = LM_DIR / "zh_CN.lm"
#: Where Debian's libime-data-language-model puts the same model (used when the shipped copy is absent).
DEBIAN_MODEL = Path("/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm")
#: Default minimum gain (log10 probability) for a suggestion: measured on odw.train / acc_xxqg.
DEFAULT_THRESHOLD = 5.6
RULE = "typo_lm"
#: Bumped whenever the scoring changes: remembered suggestions of unchanged pages are then recomputed.
VERSION = "2"

_HAN = re.compile(r"[\u4e00-\u9fff]+")
# Spans never flagged: quotations, book and document titles (their words are someone else's).
_QUOTED = re.compile(
    r"“[^”\n]{0,80}”|‘[^’\n]{0,80}’|「[^」\n]{0,80}」|『[^』\n]{0,80}』|《[^》\n]{0,60}》|\"[^\"\n]{0,80}\""
)
_MAX_WORD = 4
_WINDOW = 5
_BEAM = 4
#: Extra gain needed to change a character that already forms a model word with a neighbour.
REAL_WORD_MARGIN = 1.9
#: Extra gain needed for a look-alike that does not also sound alike.
SHAPE_MARGIN = 0.5
#: How far below the threshold the two-character look may be and still earn the full window.
PREFILTER_SLACK = 6


@dataclass(frozen=True)
class Suggestion:
    """One suspected typo: ``text[start]`` should probably be ``fix`` (``gain``: log10 probability;
    ``context``: the wrong word, e.g. 浓业 for 农业 — how the site learns and findings are told apart)."""

    start: int
    wrong: str
    fix: str
    gain: float
    context: str

    @property
    def end(self) -> int:
        """Offset after the suspected character."""
        return self.start + 1


def _read_lines(name: str) -> list[str]:
    return (LM_DIR / name).read_text(encoding="utf-8").splitlines()


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    return frozenset(ch for line in _read_lines("common_char_set.txt") for ch in line.strip())


@lru_cache(maxsize=1)
def _shape_table() -> dict[str, frozenset[str]]:
    """Character -> look-alike characters: pycorrector's same_stroke table plus our look-alike groups."""
    table: dict[str, set[str]] = {}
    for line in _read_lines("same_stroke.txt"):
        chars = [c for c in line.split("\t") if len(c) == 1]
        if len(chars) > 1:
            table.setdefault(chars[0], set()).update(chars[1:])
            for c in chars[1:]:
                table.setdefault(c, set()).add(chars[0])
    for ch, others in lookalike_table().items():
        table.setdefault(ch, set()).update(others)
    # Rendered-glyph neighbours (bench/build_glyph_table.py): 木/本, 牛/生, 汁/计, 丙/内.
    for line in _read_lines("glyph_similar.txt"):
        if line and not line.startswith("#"):
            ch, _, near = line.partition("\t")
            table.setdefault(ch, set()).update(near)
            for c in near:
                table.setdefault(c, set()).add(ch)
    return {k: frozenset(v - {k}) for k, v in table.items()}


@lru_cache(maxsize=1)
def _sound_index() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(toneless reading -> common characters, character -> its readings)."""
    from pypinyin import Style, pinyin

    by_reading: dict[str, list[str]] = {}
    readings: dict[str, tuple[str, ...]] = {}
    for ch in sorted(_common_chars()):
        rs = tuple(sorted(set(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])))
        readings[ch] = rs
        for r in rs:
            by_reading.setdefault(r, []).append(ch)
    return {k: tuple(v) for k, v in by_reading.items()}, readings


def _readings(ch: str) -> tuple[str, ...]:
    known = _sound_index()[1].get(ch)
    if known is not None:
        return known
    from pypinyin import Style, pinyin

    return tuple(set(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]))


@lru_cache(maxsize=8192)
def main_reading(ch: str) -> str:
    """The toneless reading pypinyin gives ``ch`` on its own (its most common one: chi for 吃, not qi)."""
    from pypinyin import Style, pinyin

    return pinyin(ch, style=Style.NORMAL)[0][0]


@lru_cache(maxsize=8192)
def sound_alikes(ch: str) -> frozenset[str]:
    """Common characters that have the main toneless reading of ``ch`` among their readings: the
    characters a pinyin input method offers ``ch`` beside. A character is offered under its common
    reading, so a written 吃 (chi; qi only in old texts) is not taken for a slip of 起 (qi) by sound."""
    return frozenset(c for c in _sound_index()[0].get(main_reading(ch), ()) if c != ch)


@lru_cache(maxsize=8192)
def candidates(ch: str) -> tuple[str, ...]:
    """Common characters that sound like (same toneless reading) or look like ``ch``."""
    by_reading = _sound_index()[0]
    out: set[str] = set()
    for r in _readings(ch):
        out.update(by_reading.get(r, ()))
    out.update(c for c in _shape_table().get(ch, ()) if c in _common_chars())
    out.discard(ch)
    return tuple(sorted(out))


#: Minimum Zipf frequency of a wordfreq word for it to count as a real word the model may not know.
WORDFREQ_MIN_ZIPF = 1.5
WORDFREQ_MIN_ZIPF_LONG = 1.0


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Words of 2-4 Chinese characters known outside the model: the common-word list (jieba) and
    wordfreq's Chinese list (newer usage: 抗疫, 赋能, 施策, 合宪性) above a minimum frequency."""
    words = set(common_words())
    try:
        from wordfreq import get_frequency_dict
    except ImportError:  # an optional helper: without it the stage is a little less cautious
        return frozenset(words)
    floor = 10 ** (WORDFREQ_MIN_ZIPF - 9)
    # Longer words are rarely typos of a shorter one, so they count from a lower frequency (顽瘴痼疾).
    long_floor = 10 ** (WORDFREQ_MIN_ZIPF_LONG - 9)
    for w, f in get_frequency_dict("zh", wordlist="best").items():
        if f >= (floor if len(w) == 2 else long_floor) and 2 <= len(w) <= 4 and _HAN.fullmatch(w):
            words.add(w)
    return frozenset(words)


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    """Person and place names of two characters or more (suggestions never fall inside one)."""
    out: set[str] = set()
    for name in ("person_name.txt", "place_name.txt"):
        for line in _read_lines(name):
            word = line.split("\t", 1)[0].strip()
            if len(word) >= 2:
                out.add(word)
    return frozenset(out)


# Surnames of one character (the 100 most frequent): a surname followed by one or two characters and a
# title (…同志, …书记) is a person's name.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_TITLES = (
    "同志", "先生", "女士", "书记", "主任", "县长", "市长", "省长", "局长", "部长", "主席", "委员", "院士",
    "教授", "老师", "博士", "乡长", "镇长", "村长", "代表", "厅长", "处长", "科长", "所长", "队长", "总理",
    "经理", "董事长", "校长", "院长", "区长", "副县长", "副市长", "副主任", "副书记",
)  # fmt: skip
_TITLES_BEFORE = (
    "同志", "书记", "主任", "县长", "市长", "省长", "局长", "部长", "主席", "委员", "院士", "教授", "老师",
    "博士", "乡长", "镇长", "代表", "厅长", "处长", "科长", "所长", "队长", "总理", "经理", "董事长", "校长",
    "院长", "区长", "记者", "通讯员", "设计师", "工程师", "医生", "律师", "负责人", "主持人", "编辑", "作者",
    "摄影", "讲师", "研究员", "学生", "村民", "居民", "市民", "选手", "运动员", "演员", "专家", "会长",
    "秘书长",
)  # fmt: skip
# Words after which an organisation's abbreviation or trade name ends (国动办, 佰意教育科技有限公司).
_ORG_WORDS = (
    "办", "委", "局", "厅", "署", "部门", "公司", "集团", "企业", "中心", "协会", "学会", "商会", "研究院",
    "研究所", "合作社", "工作室", "医院", "学校", "小学", "中学", "大学", "学院", "银行", "酒店", "宾馆",
)  # fmt: skip
# Organisation words that follow a proper name (four characters before them are protected; two before the
# others, which also follow ordinary words: 以人民为中心, 企业, 部门).
_NAME_ORG_WORDS = frozenset(("研究院", "研究所", "合作社", "工作室", "协会", "学会", "商会", "酒店", "宾馆"))
# Suffixes that end a place name wherever they stand (the others also end ordinary words: 上市, 江山).
_STRONG_PLACE_SUFFIX = "省县镇乡村屯庄寨巷岭峰沟湾岛港"
# What follows a place name's suffix in official text (横州市人民政府, 某某县委): the suffix then ends a name.
_AFTER_PLACE = (
    "人民", "政府", "党委", "委", "人大", "政协", "纪委", "公安", "教育", "财政", "卫生", "交通", "农业",
    "发展", "融媒体", "应急", "自然资源", "生态环境", "住房", "市场监督", "文化", "民政", "司法", "水利",
    "、", "和", "与", "及",
)  # fmt: skip
# Place suffixes: the characters before them are a place name the model may not know.
_PLACE_SUFFIX = "省市县区镇乡村屯庄寨街路巷山河湖江岭峰沟湾岛港"


# One-character country names (葡方, 中墨两国, 同肯方): never changed before 方 / 两国 / 双方 or after 中同对.
_COUNTRY_CHARS = frozenset(
    "美俄英法德日韩朝越老柬泰缅印巴伊叙土埃南非澳新加墨阿葡西意荷比瑞挪芬丹波捷匈罗保希塞克斯乌白哈吉塔蒙"
    "尼肯坦摩苏古秘智委厄乍刚"
)


def _country_abbreviation(run: str, i: int) -> bool:
    nxt = run[i + 1 : i + 3]
    prev = run[i - 1] if i > 0 else ""
    return run[i] in _COUNTRY_CHARS and (
        nxt[:1] == "方" or nxt in ("两国", "双方", "关系", "友好", "合作") or prev in "中同对与和"
    )


def _traditional_chars() -> frozenset[str]:
    from checks.text.textnorm import fold_map

    return frozenset(k for k, v in fold_map().items() if "\u4e00" <= k <= "\u9fff" and v != k)


_TRADITIONAL = _traditional_chars()
# Characters that may be changed: GB2312 (levels 1 and 2); anything rarer is deliberate (a name).
_ORIGINALS = frozenset(
    bytes([hi, lo]).decode("gb2312", "ignore") for hi in range(0xB0, 0xF8) for lo in range(0xA1, 0xFF)
) - {""}


class TypoModel:
    """The language model with its vocabulary helpers; one per process (:func:`shared_model`)."""

    def __init__(self, path: Path | str) -> None:
        import kenlm  # the LGPL runtime; a missing module is reported by shared_model

        self.path = Path(path)
        self.lm: Any = kenlm.Model(str(path))
        self._kenlm = kenlm
        self._words = _known_words()
        self._names = _names()
        null = kenlm.State()
        self.lm.NullContextWrite(null)
        self._null = null

        self._slots = _slot_index(self.path)

    def is_word(self, w: str) -> bool:
        """A multi-character word of the model's vocabulary or of the common-word list."""
        return w in self.lm or w in self._words

    def word_formers(self, run: str, i: int) -> set[str]:
        """Characters that form a model word (2-4 characters) with the neighbours of ``run[i]``."""
        n = len(run)
        out: set[str] = set()
        slots = self._slots
        for length in (2, 3, 4):
            for s in range(max(0, i - length + 1), min(i, n - length) + 1):
                fill = slots.get(run[s:i] + "?" + run[i + 1 : s + length])
                if fill:
                    out.update(fill)
        return out

    def _word_span(self, run: str, i: int, c: str) -> str:
        """The original text of the most frequent model word the fix ``c`` at ``i`` forms (浓业 for 农业)."""
        n = len(run)
        best: tuple[float, str] | None = None
        for length in (2, 3, 4):
            for s in range(max(0, i - length + 1), min(i, n - length) + 1):
                word = run[s:i] + c + run[i + 1 : s + length]
                if word in self.lm:
                    score = self.lm.score(word, bos=False, eos=False)
                    if best is None or score > best[0]:
                        best = (score, run[s : s + length])
        return best[1] if best else run[max(0, i - 1) : i + 2]

    def _blind_spot(self, run: str, i: int) -> bool:
        """Whether ``run[i]`` is inside a common word the model does not know (抗疫, 网格化): the model
        cannot judge it, so it must not be changed."""
        n = len(run)
        for length in (2, 3, 4):
            for s in range(max(0, i - length + 1), min(i, n - length) + 1):
                w = run[s : s + length]
                if w in self._words and w not in self.lm:
                    return True
        return False

    def best_score(self, text: str) -> float:
        """log10 probability of the best segmentation of ``text`` into model words (beam search)."""
        lm, kenlm = self.lm, self._kenlm
        n = len(text)
        beams: list[list[tuple[float, Any]]] = [[] for _ in range(n + 1)]
        beams[0] = [(0.0, self._null)]
        for p in range(n):
            here = beams[p]
            if not here:
                continue
            if len(here) > _BEAM:
                here.sort(key=lambda x: -x[0])
                del here[_BEAM:]
            for length in range(1, min(_MAX_WORD, n - p) + 1):
                w = text[p : p + length]
                if length > 1 and w not in lm:
                    continue
                target = beams[p + length]
                for score, state in here:
                    out = kenlm.State()
                    target.append((score + lm.BaseScore(state, w, out), out))
        return max(s for s, _ in beams[n])

    def _protected(self, run: str) -> list[bool]:
        """Positions of a Han run that are never changed: uncommon or traditional characters, known
        names, names next to a title, before a place suffix or an organisation word."""
        n = len(run)
        common = _ORIGINALS
        # A character outside GB2312 is deliberate (a name); a traditional one belongs to a
        # traditional-script passage (繁體), which the model cannot judge.
        keep = [ch not in common for ch in run]
        if any(ch in _TRADITIONAL for ch in run):
            return [True] * n
        for length in (4, 3, 2):
            for s in range(0, n - length + 1):
                if run[s : s + length] in self._names:
                    for k in range(s, s + length):
                        keep[k] = True
        for s in range(n):
            if run[s] in _SURNAMES:
                # 李效华同志 / 设计师李效华: a surname with one or two characters next to a title.
                before = any(run.endswith(t, 0, s) for t in _TITLES_BEFORE)
                for L in (2, 3):
                    if s + L <= n and (before or any(run.startswith(t, s + L) for t in _TITLES)):
                        for k in range(s, s + L):
                            keep[k] = True
            # A suffix glued to the character before it by a model word is no suffix: 城市, 社区, 部署, 大局.
            glued = s >= 1 and run[s - 1 : s + 1] in self.lm
            named = run[s] in _STRONG_PLACE_SUFFIX or s == n - 1 or run.startswith(_AFTER_PLACE, s + 1)
            if run[s] in _PLACE_SUFFIX and s >= 2 and not glued and named:
                # 横州市 / 某某村: the two characters before a place suffix are a name.
                for k in range(s - 2, s):
                    keep[k] = True
            for word in _ORG_WORDS:
                if run.startswith(word, s) and not (len(word) == 1 and glued):
                    # 国动办, 银保监部门, 佰意教育科技有限公司: abbreviations and trade names (eight
                    # characters before 公司 / 集团, four before a name-only word, else two).
                    reach = 8 if word in ("公司", "集团") else 4 if word in _NAME_ORG_WORDS else 2
                    for k in range(max(0, s - reach), s):
                        keep[k] = True
        return keep

    def suggest(
        self, text: str, threshold: float = DEFAULT_THRESHOLD, protect: Iterable[str] = ()
    ) -> list[Suggestion]:
        """Suspected one-character typos in ``text`` with their fixes, in text order.

        ``protect``: phrases (the site's names, 误报加白 phrases) inside which nothing is flagged.
        """
        quoted = [False] * len(text)
        for m in _QUOTED.finditer(text):
            for k in range(m.start(), m.end()):
                quoted[k] = True
        for phrase in protect:
            if not phrase:
                continue
            at = text.find(phrase)
            while at >= 0:
                for k in range(at, at + len(phrase)):
                    quoted[k] = True
                at = text.find(phrase, at + 1)
        out: list[Suggestion] = []
        for m in _HAN.finditer(text):
            run, base = m.group(), m.start()
            if len(run) < 4:
                continue  # too little context to judge
            protected = self._protected(run)
            originals: dict[tuple[int, int], float] = {}
            for i, ch in enumerate(run):
                if protected[i] or quoted[base + i] or _country_abbreviation(run, i):
                    continue
                lo, hi = max(0, i - _WINDOW), min(len(run), i + _WINDOW + 1)
                formers = self.word_formers(run, i)
                cands = [c for c in candidates(ch) if c in formers]
                if not cands:
                    continue
                if self._blind_spot(run, i):
                    continue
                # A character already inside a model word (法治 / 法制) needs more evidence to change.
                need = threshold + (REAL_WORD_MARGIN if ch in self.word_formers(run, i) else 0.0)
                slo, shi = max(0, i - 2), min(len(run), i + 3)
                short_orig = self.best_score(run[slo:shi])
                sounds = sound_alikes(ch)
                best: tuple[float, str] | None = None
                for c in cands:
                    # Look-alikes only (no shared sound) are rarer slips (OCR, stroke input), and so are
                    # characters sharing only a rare reading with the fix (吃/起): more evidence.
                    need_c = need if c in sounds else need + SHAPE_MARGIN
                    # Cheap look first (two characters each side); the full window only when promising.
                    short = self.best_score(run[slo:i] + c + run[i + 1 : shi]) - short_orig
                    if short < need_c - PREFILTER_SLACK:
                        continue
                    if (lo, hi) not in originals:
                        originals[(lo, hi)] = self.best_score(run[lo:hi])
                    gain = self.best_score(run[lo:i] + c + run[i + 1 : hi]) - originals[(lo, hi)]
                    if gain >= need_c and (best is None or gain > best[0]):
                        best = (gain, c)
                if best is None:
                    continue
                context = self._word_span(run, i, best[1])
                out.append(Suggestion(base + i, ch, best[1], round(best[0], 2), context))
        return out


def model_vocabulary(path: Path) -> list[str]:
    """The words of a KenLM binary model (its vocabulary is stored NUL-separated at the end)."""
    data = path.read_bytes()
    start = data.rfind(b"<unk>\x00")
    if start < 0:
        return []
    return [w.decode("utf-8", "replace") for w in data[start:].split(b"\x00")[1:] if w]


@lru_cache(maxsize=2)
def _slot_index(path: Path) -> dict[str, str]:
    """Word pattern with one character masked (中?银行) -> the characters that fill it to a model word.

    Built once per process from the model's vocabulary (about half a second) so that finding which
    candidates form a word with their neighbours is a few dictionary look-ups per position.
    """
    slots: dict[str, set[str]] = {}
    for w in model_vocabulary(path):
        if 2 <= len(w) <= 4 and _HAN.fullmatch(w):
            for k in range(len(w)):
                slots.setdefault(w[:k] + "?" + w[k + 1 :], set()).add(w[k])
    return {k: "".join(sorted(v)) for k, v in slots.items()}


def find_model(configured: str | Path | None = None) -> Path | None:
    """The model file to use: the configured one, the shipped copy, or Debian's; None when none exists."""
    for p in (Path(configured) if configured else None, SHIPPED_MODEL, DEBIAN_MODEL):
        if p is not None and p.is_file():
            return p
    return None


_unavailable: dict[str, str] = {}


@lru_cache(maxsize=2)
def shared_model(configured: str | None = None) -> TypoModel | None:
    """This process's model (loaded once), or None when it cannot be loaded (see unavailable_reason)."""
    path = find_model(configured)
    if path is None:
        where = configured or f"{SHIPPED_MODEL} or {DEBIAN_MODEL}"
        _unavailable[configured or ""] = f"language model not found ({where})"
        return None
    try:
        return TypoModel(path)
    except ImportError:
        _unavailable[configured or ""] = "the kenlm package is not installed (pip install kenlm)"
    except (OSError, RuntimeError, ValueError) as exc:
        _unavailable[configured or ""] = f"cannot load the language model {path}: {exc}"
    return None


def availability(configured: str | None = None) -> str | None:
    """Why the stage cannot run here (None when it can), without loading anything."""
    import importlib.util

    if importlib.util.find_spec("kenlm") is None:
        return "the kenlm package is not installed (pip install kenlm)"
    if find_model(configured) is None:
        return f"language model not found ({configured or SHIPPED_MODEL})"
    return None


def unavailable_reason(configured: str | None = None) -> str | None:
    """Why :func:`shared_model` returned None for ``configured`` (None when it loaded)."""
    if shared_model(configured) is not None:
        return None
    return _unavailable.get(configured or "", "language model unavailable")
