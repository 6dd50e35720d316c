"""The on-disk cache of derived data, and the expanded protected terms it keeps between processes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from checks.text import typos
from checks.text.typos import FIXED_PHRASE, _expand, _expanded, load_protected_terms
from monitor.core import diskcache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache folder."""
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_round_trip_and_misses(cache: Path) -> None:
    key = diskcache.content_key("a", b"b")
    assert diskcache.load("ns", key) is None
    diskcache.store("ns", key, (["x", "y"], [1, 2], [("k", None, True)]))
    assert diskcache.load("ns", key) == (["x", "y"], [1, 2], [("k", None, True)])
    assert diskcache.content_key("a", b"b") == key
    # The parts are length-delimited: moving a byte from one part to the next is another key.
    assert diskcache.content_key("ab", b"") != key


def test_corrupt_or_unwritable_cache_is_ignored(cache: Path) -> None:
    key = diskcache.content_key("k")
    (cache / "ns").mkdir(parents=True)
    (cache / "ns" / f"{key}.marshal").write_bytes(b"\x00garbage")
    assert diskcache.load("ns", key) is None
    blocker = cache / "blocked"
    blocker.write_text("a file where the folder should be")
    diskcache.store("blocked", key, [1])  # cannot create the folder: no exception
    assert diskcache.load("blocked", key) is None


def _shipped(on: dt.date) -> tuple[tuple[typos.ProtectedTerm, ...], frozenset[str]]:
    terms = [t for t in load_protected_terms() if t.category != FIXED_PHRASE]
    return tuple(t for t in terms if t.active(on)), frozenset(t.term for t in terms)


def test_expanded_terms_from_cache_equal_fresh_expansion(cache: Path) -> None:
    active, correct = _shipped(dt.date(2026, 11, 26))
    fresh = _expand(active, correct)
    assert len(fresh) > 10_000
    first = _expanded.__wrapped__(active, correct)  # computes and writes the cache
    assert list((cache / "expanded-terms").iterdir())
    second = _expanded.__wrapped__(active, correct)  # read back from disk
    assert first == fresh
    assert second == fresh


def test_other_terms_miss_the_cache(cache: Path) -> None:
    active, correct = _shipped(dt.date(2026, 11, 26))
    _expanded.__wrapped__(active[:50], correct)
    fewer = _expanded.__wrapped__(active[:40], correct)
    assert fewer == _expand(active[:40], correct)
    assert len(list((cache / "expanded-terms").iterdir())) == 2


def test_a_damaged_entry_is_recomputed(cache: Path) -> None:
    active, correct = _shipped(dt.date(2026, 11, 26))
    _expanded.__wrapped__(active[:30], correct)
    (entry,) = (cache / "expanded-terms").iterdir()
    diskcache.store("expanded-terms", entry.stem, (["only a key"], [999], []))  # index out of range
    assert _expanded.__wrapped__(active[:30], correct) == _expand(active[:30], correct)
