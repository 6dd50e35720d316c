"""``monitor check text`` (proofreading before publishing) and ``monitor run text URL --words`` as users
run them. ``check text`` runs in-process (click's runner: the scanner is built once per test process);
the crawl runs as a real subprocess against a real local site."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.app.cli import main
from tests.sites import LocalSites, page
from tests.test_cli import LOOP, monitor

DRAFT = (
    "关于做好2026年冬季安全生产工作的通知\n"
    "\n"
    "自中华人民共合国成立以来，我县安全生产形势总体平稳。\n"
    "请各乡镇认真布署，确保责任落实到位。\r\n"
    "联系人：张某，身份证号410523198507150011，备用410523196203081522。\n"
    "除了望远镜等设备外，还要检查消防器材。\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the built-in rules only
    monkeypatch.setenv("MONITOR_NOW", "2026-11-26T09:30:00+08:00")
    return CliRunner()


def test_check_text_file_prints_json_lines_and_exits_1(cli: CliRunner, tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8", newline="")
    res = cli.invoke(main, ["check", "text", "--format", "json", str(draft)])
    assert res.exit_code == 1, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["line"], r["wrong"], r["suggestion"], r["rule"], r["severity"]) for r in rows] == [
        (3, "中华人民共合国", "中华人民共和国", "protected_term", "veto"),
        (4, "布署", "部署", "common_typo", "deduction"),
        (5, "410523********0011", None, "privacy:id_number", "deduction"),
    ]
    line3 = DRAFT.split("\n")[2]
    assert line3[rows[0]["start"] : rows[0]["end"]] == "中华人民共合国"
    assert rows[1]["snippet"] == "请各乡镇认真【布署】，确保责任落实到位。"
    assert rows[0]["kind"] == "serious_expression" and rows[0]["note"] == "国名"
    assert not re.search(r"\d{12}", res.stdout)  # neither number, nor the neighbour cut by the snippet


def test_check_text_stdin_gb18030_table_and_clean_text(cli: CliRunner, tmp_path: Path) -> None:
    # A file saved by a Windows editor in GB18030 is read correctly.
    (tmp_path / "gbk.txt").write_bytes("会议要求认真布署。\n".encode("gb18030"))
    res = cli.invoke(main, ["check", "text", "--format", "table", str(tmp_path / "gbk.txt")])
    assert res.exit_code == 1
    assert "布署" in res.stdout and "部署" in res.stdout and "扣分" in res.stdout
    assert "共发现1处问题" in res.stdout and "问题类型" in res.stdout
    # A table is the default; JSON lines only on request.
    default = cli.invoke(main, ["check", "text", str(tmp_path / "gbk.txt")])
    assert default.stdout == res.stdout
    english = cli.invoke(main, ["--lang", "en", "check", "text", str(tmp_path / "gbk.txt")])
    assert "1 finding(s)" in english.stdout and "deduction" in english.stdout

    res = cli.invoke(
        main, ["check", "text", "-", "--format", "table"], input="县政府召开常务会议，研究部署工作。\n"
    )
    assert res.exit_code == 0 and "未发现问题" in res.stdout
    res = cli.invoke(main, ["check", "text", "--format", "json", "-"], input="")
    assert res.exit_code == 0 and res.stdout == ""

    res = cli.invoke(main, ["check", "text", "--format", "json", str(tmp_path / "missing.txt")])
    assert res.exit_code == 2 and "missing.txt" in res.output


def test_check_text_uses_the_config_and_words(cli: CliRunner, tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("# 本县自定义\n某某传销\n", encoding="utf-8")
    text = "县长李铭华强调，警惕某某传销组织的新骗局。\n"
    assert cli.invoke(main, ["check", "text", "--format", "json", "-"], input=text).exit_code == 0
    (tmp_path / "config.yaml").write_text(
        "text:\n  leaders: [{name: 李明华, titles: [县长]}]\n  allow_phrases: [新骗局]\n", encoding="utf-8"
    )
    res = cli.invoke(
        main,
        ["check", "text", "--format", "json", "-", "--words", str(words), "--words-severity", "veto"],
        input=text,
    )
    assert res.exit_code == 1
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["wrong"], r["suggestion"], r["severity"], r["rule"]) for r in rows] == [
        ("县长李铭华", "县长李明华", "veto", "protected_term"),
        ("某某传销", None, "veto", "sensitive:words"),
    ]
    (tmp_path / "config.yaml").write_text("text:\n  word_lists: [{path: nope.txt, category: x}]\n")
    res = cli.invoke(main, ["check", "text", "--format", "json", "-"], input=text)
    assert res.exit_code == 2 and "text.word_lists[0].path: file not found" in res.output


async def test_run_text_with_words_option(sites: LocalSites, tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("某某传销\n", encoding="utf-8")
    sites.html(LOOP, "/", page("首页", "<p>警惕某某传销组织的新骗局，切勿轻信。</p>"))
    url = f"http://{LOOP}:{sites.port}/"
    code, out, err = await monitor(
        "--db", str(tmp_path / "m.db"), "run", "text", url, "--words", str(words), cwd=tmp_path
    )
    assert code == 1, err
    assert "检查1个页面的文字" in out and "敏感词1" in out
    assert "新发现1" in out and "[预警] 新" in out and "页面“首页”出现敏感词“某某传销”（自定义词表）" in out
