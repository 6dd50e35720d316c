"""The CLI as users run it: a real subprocess against a real local site, exit codes, exports, help."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import json
import os
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.store.database import Store
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
    assert "抓取2个页面" in out and (tmp_path / "a.db").exists()
    assert not (tmp_path / "var").exists()
    # Without a terminal the progress is logged plainly, with levels, and no escape sequences.
    assert "INFO monitor.progress" in err and "\x1b[" not in err

    url = serve_small_site(sites, dead=True)
    code, out, _ = await monitor("--db", str(tmp_path / "b.db"), "run", "links", url, cwd=tmp_path)
    assert code == 1
    assert "新发现1" in out and "HTTP 404" in out
    assert f"<{url}>" in out and "站点 " in out  # the run names its site
    (line,) = [x for x in out.splitlines() if "HTTP 404" in x]
    assert line.startswith("  [扣分] 新 ")
    # Seen again: marked as still open, in English on request.
    code, out, _ = await monitor(
        "--lang", "en", "--db", str(tmp_path / "b.db"), "run", "links", url, cwd=tmp_path
    )
    assert code == 1 and "findings: 0 new, 1 still open" in out
    (line,) = [x for x in out.splitlines() if "HTTP 404" in x]
    assert line.startswith("  [deduction] still open ")


async def test_unreachable_site_exits_3(tmp_path: Path) -> None:
    code, out, _ = await monitor(
        "--db", str(tmp_path / "m.db"), "run", "links", "http://127.0.0.1:1/", cwd=tmp_path
    )
    assert code == 3
    assert "第1次运行 失败" in out and "首页无法访问" in out


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
    assert code == 0 and "共1条" in out and "扣分" in out and "homepage_dead_link" not in out
    assert "首页链接不可用" in out and "问题类型" in out  # the kind's 问题类型, never its internal name
    # Chinese severity names are accepted where they are shown.
    code, out, _ = await monitor("--db", db, "findings", "list", "--severity", "扣分", cwd=tmp_path)
    assert code == 0 and "共1条" in out
    code, out, _ = await monitor("--db", db, "findings", "list", "--severity", "单项否决", cwd=tmp_path)
    assert code == 0 and "共0条" in out
    code, _, err = await monitor("--db", db, "findings", "list", "--severity", "严重", cwd=tmp_path)
    assert code == 2 and "扣分" in err

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
        "resolved_at",
        "ignored_reason",
        "assigned_unit",
        "deadline",
    ]
    assert row["assigned_unit"] is None and row["deadline"] is None  # set only in the console
    assert row["url"].endswith("/gone.html") and row["source_urls"] == [url]
    assert row["kind_zh"] == "首页链接不可用"
    assert row["first_seen"] == "2026-11-26T09:30:00+08:00"

    # The CSV for people: Chinese headers, the bulletin's 附件1 columns first, no JSON anywhere.
    target = tmp_path / "问题清单.csv"
    code, _, _ = await monitor("--db", db, "findings", "export", "-o", str(target), cwd=tmp_path)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to show Chinese
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert reader.fieldnames is not None
    assert reader.fieldnames[:10] == [
        "序号",
        "单位",
        "网站/账号",
        "问题类型",
        "问题描述",
        "网址",
        "父页面",
        "发现时间",
        "整改状态",
        "整改时限",
    ]
    (csv_row,) = list(reader)
    assert csv_row["问题编号"] == row["fingerprint"] and csv_row["父页面"] == url
    assert csv_row["问题类型"] == "首页链接不可用" and csv_row["整改状态"] == "待整改"
    assert csv_row["发现时间"] == "2026-11-26" and csv_row["整改时限"] == "2026-12-10"
    assert not any(v.startswith(("{", "[")) for v in csv_row.values())

    # ignore needs 8 characters of the id, and a prefix that names one finding.
    code, _, err = await monitor(
        "--db", db, "findings", "ignore", row["fingerprint"][:2], "--reason", "x", cwd=tmp_path
    )
    assert code == 2 and "at least 8" in err
    code, _, err = await monitor("--db", db, "findings", "ignore", "00000000", "--reason", "x", cwd=tmp_path)
    assert code == 2 and "no finding" in err
    code, out, _ = await monitor(
        "--db",
        db,
        "findings",
        "ignore",
        row["fingerprint"][:8],
        "--reason",
        "测试误报：内网链接",
        cwd=tmp_path,
    )
    assert code == 0 and "已标记为误报" in out
    code, out, _ = await monitor("--db", db, "run", "links", url, cwd=tmp_path)
    assert code == 0 and "已忽略1" in out
    code, out, _ = await monitor("--db", db, "findings", "list", "--status", "ignored", cwd=tmp_path)
    assert "误报原因" in out and "测试误报：内网链接" in out
    code, out, _ = await monitor("--db", db, "findings", "export", "--status", "ignored", cwd=tmp_path)
    assert (
        json.loads(out)["status"] == "ignored" and json.loads(out)["ignored_reason"] == "测试误报：内网链接"
    )
    code, out, _ = await monitor(
        "--db", db, "findings", "export", "--status", "ignored", "--format", "csv", cwd=tmp_path
    )
    (csv_row,) = list(csv.DictReader(io.StringIO(out)))
    assert csv_row["误报原因"] == "测试误报：内网链接" and csv_row["整改状态"] == "误报（已忽略）"

    # … and undone, recorded in the finding's history.
    code, out, _ = await monitor(
        "--db",
        db,
        "findings",
        "unignore",
        row["fingerprint"][:10],
        "--reason",
        "核实后确为死链",
        cwd=tmp_path,
    )
    assert code == 0 and "已撤销误报标记" in out
    code, out, _ = await monitor("--db", db, "findings", "list", cwd=tmp_path)
    assert "共1条" in out
    code, _, err = await monitor(
        "--db", db, "findings", "unignore", row["fingerprint"], "--reason", "again", cwd=tmp_path
    )
    assert code == 2 and "没有标记为误报" in err
    with Store(Path(db)) as store:
        events = [(e["event"], e["note"], e["actor"]) for e in store.events(row["fingerprint"])]
    user = getpass.getuser()  # the OS user acts from the command line
    assert events[-2:] == [("ignored", "测试误报：内网链接", user), ("unignored", "核实后确为死链", user)]


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
