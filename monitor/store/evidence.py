"""Evidence screenshots (取证截图) on disk: ``<database file>.evidence/<sha256>.png`` beside the database.

Files are content-addressed: the name is the SHA-256 of the PNG, so a screenshot seen again in the next
run is the same file (never duplicated), names carry nothing from a crawled page, and a file name can be
checked (:func:`is_evidence_name`) before anything reads it. Each file is written atomically
(:mod:`monitor.core.atomicfile`). A write that fails (full disk, read-only folder) loses only the image: the
finding is kept and its record says the screenshot is missing and why.

Files of resolved findings are kept (a bulletin of a past week can still show them); pruning files no
finding references is left to a later maintenance command.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.core.atomicfile import write_atomic
from monitor.core.findings import EvidenceImage

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NAME = re.compile(r"^[0-9a-f]{64}\.png$")


def evidence_folder(database: Path) -> Path:
    """Where a database's screenshots live: ``monitor.db`` → ``monitor.db.evidence/``."""
    return database.with_name(database.name + ".evidence")


def is_evidence_name(name: Any) -> bool:
    """True for a name this module writes (64 hex digits + ``.png``): safe to join to the folder."""
    return isinstance(name, str) and bool(_NAME.match(name))


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk, or None when ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "磁盘空间不足"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "无写入权限"
    return f"写入失败（{exc.strerror or type(exc).__name__}）"


def save_images(folder: Path | None, images: Iterable[EvidenceImage]) -> list[dict[str, Any]]:
    """Write each image into ``folder`` and return the records kept in the finding's evidence.

    A record is ``{"label", "file", "width", "height", "bytes"}``; an image that could not be written has
    ``"file": None`` and ``"missing"`` (the reason, in Chinese). Bytes that are not a PNG are refused.
    ``folder`` None (an in-memory database) keeps no files.
    """
    records: list[dict[str, Any]] = []
    for image in images:
        size = png_size(image.png)
        width, height = size or (None, None)
        record: dict[str, Any] = {
            "label": image.label,
            "file": None,
            "width": width,
            "height": height,
            "bytes": len(image.png),
        }
        if size is None:
            record["missing"] = "截图不是PNG图片，未保存"
            records.append(record)
            continue
        if folder is None:
            record["missing"] = "内存数据库不保存截图"
            records.append(record)
            continue
        name = hashlib.sha256(image.png).hexdigest() + ".png"
        path = folder / name
        try:
            if not (path.is_file() and path.stat().st_size == len(image.png)):
                write_atomic(path, image.png)
            record["file"] = name
        except OSError as exc:
            record["missing"] = f"截图未保存：{_why(exc)}"
            log.warning("evidence: could not write %s: %s", path, exc)
        records.append(record)
    return records
