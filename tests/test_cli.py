"""The CLI as users run it: a real subprocess against a real local site, exit codes, exports, help."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from monitor.app.cli import main
from tests.sites import LocalSites, page

REPO = Path(__file__).resolve().parents[1]
LOOP = "127.0.0.1"


async def monitor(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``python -m monitor`` as a subprocess (no terminal attached)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MONITOR_NOW": "2026-11-26T09:30:00+08:00",
            **(env or {}),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def serve_small_site(sites: LocalSites, dead: bool) -> str:
    links = ["/a.html", "/gone.html"] if dead else ["/a.html"]
    sites.html(LOOP, "/", page("首页", links=links))
    sites.html(LOOP, "/a.html", page("A"))
    return f"http://{LOOP}:{sites.port}/"


async def test_adhoc_run_without_config_exit_codes_and_db_env(sites: LocalSites, tmp_path: Path) -> None:
    url = serve_small_site(sites, dead=False)
    code, out, err = await monitor(
        "run", "links", url, cwd=tmp_path, env={"MONITOR_DB": str(tmp_path / "a.db")}
    )
    assert code == 0, err
    assert "2 pages crawled" in out and (tmp_path / "a.db").exists()
    assert not (tmp_path / "var").exists()
    # Without a terminal the progress is logged plainly, with levels, and no escape sequences.
    assert "INFO monitor.progress" in err and "\x1b[" not in err

    url = serve_small_site(sites, dead=True)
    code, out, _ = await monitor("--db", str(tmp_path / "b.db"), "run", "links", url, cwd=tmp_path)
    assert code == 1
    assert "1 new" in out and "HTTP 404" in out


async def test_unreachable_site_exits_3(tmp_path: Path) -> None:
    code, out, _ = await monitor(
        "--db", str(tmp_path / "m.db"), "run", "links", "http://127.0.0.1:1/", cwd=tmp_path
    )
    assert code == 3
    assert "run #1 failed" in out and "首页无法访问" in out


async def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = await monitor("run", "links", "ftp://x/", cwd=tmp_path)
    assert code == 2 and "not an http(s) URL" in err
    code, _, err = await monitor("run", "links", cwd=tmp_path)  # no config, no URL
    assert code == 2 and "no sites configured" in err
    code, _, err = await monitor("--config", str(tmp_path / "missing.yaml"), "run", "links", cwd=tmp_path)
    assert code == 2 and "cannot read config file" in err


async def test_findings_list_export_and_ignore(sites: LocalSites, tmp_path: Path) -> None:
    url = serve_small_site(sites, dead=True)
    db = str(tmp_path / "m.db")
    await monitor("--db", db, "run", "links", url, cwd=tmp_path)

    code, out, _ = await monitor("--db", db, "findings", "list", cwd=tmp_path)
    assert code == 0 and "1 finding(s)" in out and "扣分" in out and "homepage_dead_link" in out
    assert "首页链接不可用" in out  # the kind's 问题类型, declared by the links check

    code, out, _ = await monitor(
        "--db", db, "findings", "export", "--format", "jsonl", "--duty", "links", cwd=tmp_path
    )
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert list(row) == [
        "fingerprint",
        "duty",
        "kind",
        "kind_zh",
        "severity",
        "status",
        "site",
        "unit",
        "url",
        "source_urls",
        "message",
        "evidence",
        "first_seen",
        "last_seen",
    ]
    assert row["url"].endswith("/gone.html") and row["source_urls"] == [url]
    assert row["kind_zh"] == "首页链接不可用"
    assert row["first_seen"] == "2026-11-26T09:30:00+08:00"

    target = tmp_path / "f.csv"
    code, _, _ = await monitor(
        "--db", db, "findings", "export", "--format", "csv", "-o", str(target), cwd=tmp_path
    )
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to show Chinese
    (csv_row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert csv_row["fingerprint"] == row["fingerprint"] and json.loads(csv_row["source_urls"]) == [url]

    code, out, _ = await monitor(
        "--db", db, "findings", "ignore", row["fingerprint"][:8], "--reason", "测试误报", cwd=tmp_path
    )
    assert code == 0 and "ignored" in out
    code, out, _ = await monitor("--db", db, "run", "links", url, cwd=tmp_path)
    assert code == 0 and "1 ignored" in out
    code, out, _ = await monitor("--db", db, "findings", "export", "--status", "ignored", cwd=tmp_path)
    assert json.loads(out)["status"] == "ignored"


async def test_crawled_text_is_inert_in_terminal_output(sites: LocalSites, tmp_path: Path) -> None:
    sites.html(
        LOOP,
        "/",
        '<html><body><a href="/gone.html">\x1b[31m伪造\x1b[0m\r覆盖<script>x</script></a></body></html>',
    )
    code, out, _ = await monitor(
        "--db", str(tmp_path / "m.db"), "run", "links", f"http://{LOOP}:{sites.port}/", cwd=tmp_path
    )
    assert code == 1
    assert "\x1b" not in out and "\r" not in out
    assert "\\x1b[31m伪造" in out


def test_every_command_has_help() -> None:
    def walk(cmd: click.Command, path: list[str]) -> list[list[str]]:
        found = [path]
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                found += walk(sub, [*path, name])
        return found

    for path in walk(main, []):
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        command = main
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert command.help or command.short_help, f"no help text: monitor {' '.join(path)}"
    assert {"links", "patrol"} <= set(main.commands["run"].commands)  # type: ignore[attr-defined]
