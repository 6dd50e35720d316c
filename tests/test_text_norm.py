"""Normalisation: one-to-one folding and offset-preserving compaction."""

from __future__ import annotations

from checks.text import privacy
from checks.text.textnorm import compact, fold, splits_words


def test_fold_is_one_to_one() -> None:
    src = "ＡＢＣ１２３中華人民共和國　WTO"
    out = fold(src)
    assert out == "abc123中华人民共和国 wto"
    assert len(out) == len(src)


def test_fold_keeps_simplified_text() -> None:
    text = "乾隆年间著名的干部"  # 乾 / 著 are also simplified characters
    assert fold(text) == text


def test_compact_maps_offsets() -> None:
    src = "博*彩 六 合 彩\u200b赌博"
    c = compact(fold(src))
    assert c.text == "博彩六合彩赌博"
    assert c.changed
    assert c.span_to_source(0, 2) == (0, 3)
    assert c.span_to_source(2, 5) == (4, 9)
    assert c.span_to_source(5, 7) == (10, 12)


def test_compact_unchanged() -> None:
    c = compact("中华人民共和国")
    assert not c.changed
    assert c.span_to_source(2, 4) == (2, 4)


def test_splits_words() -> None:
    assert splits_words("平台独立", 1, 3)
    assert not splits_words("反对台独", 2, 4)


def test_id_check_digit() -> None:
    assert privacy.check_digit("11010519491231002") == "X"
    assert privacy.is_valid_id("11010519491231002X")
    assert not privacy.is_valid_id("110105194912310021")
    assert not privacy.is_valid_id("990105194912310023")  # unknown province
    assert privacy.mask_id("11010519491231002X") == "110105********002X"
