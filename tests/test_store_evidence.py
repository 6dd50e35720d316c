"""Evidence screenshots of findings: content-addressed PNG files beside a real SQLite database."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.clock import FixedClock
from monitor.core.findings import EvidenceImage, Finding, Severity
from monitor.store.database import Resolution, Store
from monitor.store.evidence import evidence_folder, is_evidence_name, png_size
from tests.conftest import tiny_tmpfs

# The store tests run on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_stores


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 20, 20)) -> bytes:
    """A real, decodable PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


BROWSER = png(320, 200)
SPIDER = png(320, 200, (20, 20, 200))


def dark(url: str, images: tuple[EvidenceImage, ...] = ()) -> Finding:
    return Finding(
        duty="darklinks",
        kind="hidden_link",
        severity=Severity.VETO,
        site="portal",
        identity=url,
        url=url,
        message=f"首页存在隐藏的博彩链接：{url}",
        sources=("http://www.x.gov.cn/",),
        evidence={"technique": "display:none"},
        images=images,
    )


def run(store: Store, clock: FixedClock, findings: list[Finding]) -> None:
    rid = store.start_run("darklinks", "portal", ["darklinks"], clock.now())
    store.finish_run(
        rid, status="ok", now=clock.now(), findings=findings, resolution=Resolution(("darklinks",))
    )


def test_screenshots_are_written_beside_the_database_and_recorded(store: Store, clock: FixedClock) -> None:
    images = (EvidenceImage("浏览器视图", BROWSER), EvidenceImage("百度蜘蛛视图", SPIDER))
    f = dark("http://spam.example.com/a", images)
    run(store, clock, [f])
    folder = store.path.parent / "monitor.db.evidence"
    assert store.evidence_dir == folder == evidence_folder(store.path)
    shots = store.finding(f.fingerprint)["evidence"]["screenshots"]
    assert [s["label"] for s in shots] == ["浏览器视图", "百度蜘蛛视图"]
    for shot, data in zip(shots, (BROWSER, SPIDER), strict=True):
        assert shot["file"] == hashlib.sha256(data).hexdigest() + ".png" and is_evidence_name(shot["file"])
        assert (shot["width"], shot["height"], shot["bytes"]) == (320, 200, len(data))
        assert (folder / shot["file"]).read_bytes() == data
    # The other evidence is kept as the check wrote it; the bytes never enter the database.
    assert store.finding(f.fingerprint)["evidence"]["technique"] == "display:none"
    stored = b"".join(p.read_bytes() for p in store.path.parent.glob("monitor.db*") if p.is_file())
    assert b"IHDR" not in stored


def test_a_rerun_does_not_duplicate_files_and_keeps_the_last_screenshots(
    store: Store, clock: FixedClock
) -> None:
    f = dark("http://spam.example.com/a", (EvidenceImage("浏览器视图", BROWSER),))
    twin = dark("http://spam.example.com/b", (EvidenceImage("浏览器视图", BROWSER),))  # same picture
    run(store, clock, [f, twin])
    folder = store.evidence_dir
    assert folder is not None
    first = sorted(p.name for p in folder.iterdir())
    assert len(first) == 1
    mtime = (folder / first[0]).stat().st_mtime_ns
    run(store, clock, [f, twin])
    assert sorted(p.name for p in folder.iterdir()) == first
    assert (folder / first[0]).stat().st_mtime_ns == mtime
    # Seen again without a screenshot (the browser pass was skipped): the stored one stays the evidence.
    run(store, clock, [dark("http://spam.example.com/a")])
    assert store.finding(f.fingerprint)["evidence"]["screenshots"][0]["file"] == first[0]


def test_a_failed_image_write_keeps_the_finding(tmp_path: Path, clock: FixedClock) -> None:
    db = tmp_path / "monitor.db"
    # Something that is not a folder sits where the evidence folder goes: every write fails, like a
    # full or read-only disk would make it fail.
    evidence_folder(db).write_text("not a folder")
    with Store(db) as store:
        f = dark(
            "http://spam.example.com/a",
            (EvidenceImage("浏览器视图", BROWSER), EvidenceImage("坏图", b"GIF89a")),
        )
        run(store, clock, [f])
        row = store.finding(f.fingerprint)
        assert row is not None and row["status"] == "open"
        good, bad = row["evidence"]["screenshots"]
        assert good["file"] is None and good["missing"].startswith("截图未保存：")
        assert (good["width"], good["height"]) == (320, 200)
        assert bad["file"] is None and bad["missing"] == "截图不是PNG图片，未保存"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (CI runs as root); the test is skipped where mounting is not permitted."""
    with tiny_tmpfs(tmp_path / "tiny", "64k") as mount:
        yield mount


def test_a_full_disk_keeps_the_finding_and_notes_the_missing_screenshot(
    tmp_path: Path, tiny_disk: Path, clock: FixedClock
) -> None:
    db = tmp_path / "monitor.db"
    evidence_folder(db).symlink_to(tiny_disk, target_is_directory=True)
    small = png(40, 40)
    # 150 KB of incompressible pixels: more than the 64 KiB disk holds.
    width = height = 224
    raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    noisy = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )
    with Store(db) as store:
        f = dark(
            "http://spam.example.com/a",
            (EvidenceImage("浏览器视图", noisy), EvidenceImage("百度蜘蛛视图", small)),
        )
        run(store, clock, [f])
        row = store.finding(f.fingerprint)
        assert row is not None and row["status"] == "open"
        big, fitting = row["evidence"]["screenshots"]
        assert big["file"] is None and big["missing"] == "截图未保存：磁盘空间不足"
        assert fitting["file"] is not None and (tiny_disk / fitting["file"]).read_bytes() == small
        # No half-written file is left behind on the full disk.
        assert sorted(p.name for p in tiny_disk.iterdir()) == [fitting["file"]]


def test_png_size_reads_only_pngs() -> None:
    assert png_size(BROWSER) == (320, 200)
    assert png_size(b"GIF89a" + b"\0" * 30) is None
    assert not is_evidence_name("../monitor.db")
    assert not is_evidence_name("A" * 64 + ".png")
