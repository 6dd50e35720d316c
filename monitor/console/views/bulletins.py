"""The bulletin archive: each week's files in the reports folder, downloaded by week and exact file name.

A download names a week (``2026-W48``) and a file; both are checked against what the folder actually
holds (a listing, never a path built from the request), and the file's real path must sit inside the
week's folder, so no name — ``..``, an absolute path, a symlink out — reaches anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from monitor.console.context import principal, render, state
from monitor.core.urls import percent_encode

WEEK = re.compile(r"^\d{4}-W\d{2}$")
KINDS = {
    ".html": "通报（网页）",
    ".xlsx": "问题清单（Excel）",
    ".docx": "通报（Word）",
    ".txt": "通报（纯文本）",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class WeekFiles:
    """One week's bulletin files."""

    week: str
    files: list[tuple[str, str, int]]  # (name, what it is, bytes)


def _files(folder: Path) -> list[tuple[str, str, int]]:
    out = []
    for entry in sorted(folder.iterdir()):
        if entry.suffix in KINDS and entry.is_file() and not entry.is_symlink():
            out.append((entry.name, KINDS[entry.suffix], entry.stat().st_size))
    return out


def archive(reports: Path) -> list[WeekFiles]:
    """Weeks with bulletin files, newest first."""
    if not reports.is_dir():
        return []
    weeks = [d for d in reports.iterdir() if WEEK.match(d.name) and d.is_dir() and not d.is_symlink()]
    return [WeekFiles(d.name, files) for d in sorted(weeks, reverse=True) if (files := _files(d))]


def _whole_county(request: web.Request) -> None:
    # A bulletin lists every unit's problems: a department account keeps to its own unit's pages.
    if principal(request).scope is not None:
        raise web.HTTPNotFound(text="通报包含各单位的问题，请向办公室索取；本单位的问题见“本单位”页面。")


async def archive_page(request: web.Request) -> web.Response:
    """The list of weekly bulletins with their downloads."""
    _whole_county(request)
    st = state(request)
    return render(
        request,
        "bulletins.html",
        weeks=archive(st.config.reports_path),
        enc=lambda s: percent_encode(s, safe=""),
    )


async def download(request: web.Request) -> web.StreamResponse:
    """One file of one week, as a download."""
    _whole_county(request)
    st = state(request)
    week, name = request.match_info["week"], request.match_info["name"]
    reports = st.config.reports_path
    if not WEEK.match(week):
        raise web.HTTPNotFound(text="没有这个文件。")
    folder = reports / week
    listed = {n for n, _, _ in _files(folder)} if folder.is_dir() and not folder.is_symlink() else set()
    if name not in listed:
        raise web.HTTPNotFound(text="没有这个文件。")
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        raise web.HTTPNotFound(text="没有这个文件。")
    disposition = (
        f"attachment; filename=\"bulletin{path.suffix}\"; filename*=UTF-8''{percent_encode(name, safe='')}"
    )
    return web.FileResponse(
        path, headers={"Content-Type": TYPES[path.suffix], "Content-Disposition": disposition}
    )
