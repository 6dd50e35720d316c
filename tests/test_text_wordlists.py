"""Sensitive-word lists in the forms offices receive them, word boundaries of the matches, and the
protected-term variants at a term's last character."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.text.check import word_list_file
from checks.text.textscan import TextScanner, TextScanOptions, WordList
from checks.text.typos import ProtectedTerm, expand_term
from monitor.config import ConfigError, config_from_mapping
from monitor.core.clock import FixedClock
from monitor.core.wordlists import WordListError, read_list
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config, page

# One list, every form an office meets: a header comment, bare words, TAB and comma categories, a
# full-width comma, a trailing comment, blank lines.
MIXED = "# 县网信办下发 2026-11\n\n台独\n法轮功\t邪教\n六合彩,赌博\n一夜情，色情  # 新增\n\n"


def words_of(path: Path) -> list[tuple[str, str]]:
    return [(w.word, w.category) for w in read_list(path)]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("utf-16", b"")],
    ids=["utf8", "utf8-bom", "gbk", "utf16-bom"],
)
def test_list_forms_and_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(prefix + MIXED.replace("\n", "\r\n").encode(encoding))
    assert words_of(path) == [("台独", ""), ("法轮功", "邪教"), ("六合彩", "赌博"), ("一夜情", "色情")]


def test_csv_with_header_as_excel_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(
        '\ufeff序号,敏感词,类别,备注\r\n1,博彩,赌博,"来源：省厅, 2026"\r\n'
        '2,"百家乐",赌博,\r\n3,台独,,\r\n'.encode()
    )
    assert words_of(path) == [("博彩", "赌博"), ("百家乐", "赌博"), ("台独", "")]


def test_header_with_only_a_word_column(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("关键词\n博彩\n", encoding="utf-8")
    assert words_of(path) == [("博彩", "")]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("博彩\n,赌博\n", 2, "empty word"),
        ("博彩\n台独\t政治\t高\n", 2, "3 fields"),
        ("博彩\n*** \t赌博\n", 2, "only spaces or symbols"),
    ],
)
def test_unreadable_line_names_file_and_line(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WordListError) as err:
        read_list(path)
    assert err.value.line == line
    assert str(path) in str(err.value) and f"line {line}" in str(err.value) and reason in str(err.value)


def test_undecodable_bytes_and_binary_files_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes("博彩\n台独\n".encode() + b"\x80\xff\xfe\n")
    with pytest.raises(WordListError, match=r"line 3: bytes that are neither UTF-8 nor GBK"):
        read_list(path)
    xls = tmp_path / "list.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(WordListError, match="a binary file"):
        read_list(xls)


def test_config_with_a_bad_list_fails_at_load_naming_key_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text("博彩\n台独\t政治\t高\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config_from_mapping(
            {"text": {"word_lists": [{"path": "words.txt", "category": "政治敏感"}]}}, base_dir=tmp_path
        )
    assert [p for p, _ in err.value.problems] == ["text.word_lists[0].path"]
    assert "words.txt, line 2" in str(err.value)


def test_each_word_keeps_its_category_in_the_hit(tmp_path: Path) -> None:
    path = tmp_path / "county.txt"
    path.write_bytes(MIXED.encode("gbk"))
    wl = word_list_file(path, category="县级词表", severity="deduction")
    scanner = TextScanner(TextScanOptions(word_lists=(wl,)))
    hits = scanner.scan("网上有人宣传法轮功，还有人推销六合彩，另有台独言论。")
    assert [(h.wrong, h.category) for h in hits] == [
        ("法轮功", "敏感词:邪教"),
        ("六合彩", "敏感词:赌博"),
        ("台独", "敏感词:县级词表"),
    ]
    assert "（敏感词:邪教）" in hits[0].message


# -- word boundaries --------------------------------------------------------------------------------

BOUNDARY_LIST = WordList(
    category="测试", words=("大麻", "台独", "一夜情", "性交易", "北京赛车", "网上赌场", "法轮功")
)


@pytest.fixture(scope="module")
def boundary_scanner() -> TextScanner:
    return TextScanner(TextScanOptions(word_lists=(BOUNDARY_LIST,), shipped_terms=False, typos=False))


@pytest.mark.parametrize(
    "text",
    [
        "他说这是一个大麻烦",  # 大麻|烦: the start is on a boundary, 麻烦 glues the end
        "建设统一的平台独立运行",  # both edges glued
        "那一夜情况紧急，消防员迅速出动",  # 3 characters: 一夜情|况 (情况)
        "为会员提供个性交易服务",  # 3 characters: 个|性交易 (个性) at the start
        "加强北京赛车手培训",  # 4 characters: 北京赛车|手 (车手)
    ],
)
def test_match_glued_at_one_edge_is_dropped(boundary_scanner: TextScanner, text: str) -> None:
    assert boundary_scanner.scan(text) == []


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("严厉打击种植大麻的违法行为", "大麻"),
        ("坚决反对台独分裂活动", "台独"),
        ("网上流传一夜情视频", "一夜情"),
        ("取缔法轮功组织", "法轮功"),
        ("推广北京赛车平台", "北京赛车"),
        ("查处网上赌场", "网上赌场"),
        ("严厉打击卖淫嫖娼、性交易等违法犯罪", "性交易"),
        ("坚决抵制邪教法轮功", "法轮功"),  # 教法 is a word, but 教 already belongs to 邪教
    ],
)
def test_match_on_both_boundaries_is_kept(boundary_scanner: TextScanner, text: str, wrong: str) -> None:
    assert [h.wrong for h in boundary_scanner.scan(text)] == [wrong]


# -- protected terms ending in a single-character word ---------------------------------------------


def test_last_character_variants_when_it_is_a_word_of_its_own() -> None:
    variants = expand_term(ProtectedTerm("全面从严治党", "重要提法"))
    assert "全面从严治档" in variants and "全面从严治当" in variants
    assert "中国之制" in expand_term(ProtectedTerm("中国之治", "重要提法"))
    # Bound by a three-character word (现代化): the last character stays as it was.
    assert not any(v.endswith("现代话") for v in expand_term(ProtectedTerm("治理能力现代化", "重要提法")))


def test_last_character_slip_is_a_serious_error() -> None:
    scanner = TextScanner(TextScanOptions())
    hits = scanner.scan("坚定不移推进全面从严治档，营造风清气正的政治生态。")
    assert [(h.wrong, h.suggestion, h.severity) for h in hits] == [("全面从严治档", "全面从严治党", "veto")]
    assert scanner.scan("坚定不移推进全面从严治党，营造风清气正的政治生态。") == []


# -- in the crawl and in check text -----------------------------------------------------------------


async def test_category_of_each_word_in_the_finding(
    sites: LocalSites, tmp_path: Path, store: Store, clock: FixedClock
) -> None:
    host = "www.test.gov.cn"
    sites.html(host, "/", page("首页", "<p>警惕某某传销组织的新骗局，坚决抵制邪教法轮功。</p>"))
    words = tmp_path / "县网信办词表.csv"
    words.write_bytes("敏感词,类别\r\n某某传销,非法传销\r\n法轮功,邪教\r\n".encode("gbk"))
    cfg = fast_config(
        sites,
        [host],
        f"http://{host}/",
        text={"sample_word_list": False, "word_lists": [{"path": str(words), "category": "县级"}]},
    )
    (result,) = await run_duty("sensitive", cfg, store, clock)
    assert sorted(f.message for f in result.findings) == [
        "页面“首页”出现敏感词“某某传销”（非法传销）",
        "页面“首页”出现敏感词“法轮功”（邪教）",
    ]
    assert {f.evidence["category"] for f in result.findings} == {"敏感词:非法传销", "敏感词:邪教"}


def test_check_text_with_an_unreadable_list_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from monitor.app.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.txt").write_text("博彩\n台独\t政治\t高\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["check", "text", "-", "--words", "bad.txt"], input="会议召开。\n")
    assert res.exit_code == 2
    assert "bad.txt, line 2" in res.stderr and "Traceback" not in res.output
