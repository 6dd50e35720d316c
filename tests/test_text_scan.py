"""TextScanner: each category caught with offsets and snippet; decoys silent; options."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from checks.text.textscan import (
    SiteTerm,
    TextHit,
    TextScanner,
    TextScanOptions,
    WordList,
    cached_scanner,
    sample_word_list,
    snippet,
)

SITE = (
    SiteTerm("汤阴县人民政府"),
    SiteTerm("张三", kind="leader", titles=("县长",), effective_from=dt.date(2021, 1, 1)),
    SiteTerm("李建国", kind="leader", titles=("县委书记",)),
)
OPTIONS = TextScanOptions(
    site_terms=SITE,
    word_lists=(sample_word_list(), WordList(category="政治", words=("台独",), name="politics")),
)


@pytest.fixture(scope="module")
def scanner() -> TextScanner:
    return cached_scanner(OPTIONS)


def only(hits: list[TextHit], rule_prefix: str) -> list[TextHit]:
    return [h for h in hits if h.rule.startswith(rule_prefix)]


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("1949年10月1日，中华人民共合国成立。", "中华人民共合国", "中华人民共和国"),
        ("县攻府召开常务会议", "县攻府", "县政府"),
        ("深入开展扫黑险恶专项斗争", "扫黑险恶专项斗争", "扫黑除恶专项斗争"),
        ("全体党员要不忘初心、忘记使命", "不忘初心、忘记使命", "不忘初心、牢记使命"),
        ("黑龙江省齐齐哈市人民政府", "齐齐哈市", "齐齐哈尔市"),
        ("成立防汛抗旱领导小姐", "领导小姐", "领导小组"),
        ("人民很行发布通知", "人民很行", "人民银行"),
        ("汤阴县人民攻府办公室", "汤阴县人民攻府", "汤阴县人民政府"),
    ],
)
def test_serious_errors(scanner: TextScanner, text: str, wrong: str, right: str) -> None:
    hits = only(scanner.scan(text), "protected_term")
    assert len(hits) == 1, hits
    h = hits[0]
    assert (h.start, h.end) == (text.index(wrong), text.index(wrong) + len(wrong))
    assert h.wrong == wrong == text[h.start : h.end]
    assert h.suggestion == right
    assert h.severity == "veto"
    assert h.category == "严重表述错误"
    assert h.message.startswith(f"“{wrong}”疑为“{right}”的错误写法（严重表述错误")
    assert f"【{wrong}】" in snippet(text, h)


def test_official_vocabulary_is_a_deduction(scanner: TextScanner) -> None:
    hits = scanner.scan("推进政务服务一网同办")
    assert [(h.wrong, h.suggestion, h.rule, h.severity, h.category) for h in hits] == [
        ("一网同办", "一网通办", "official_term", "deduction", "错别字")
    ]


def test_leader_names_need_title(scanner: TextScanner) -> None:
    assert only(scanner.scan("县长章三在会上讲话"), "protected_term")[0].suggestion == "县长张三"
    assert only(scanner.scan("章三县长在会上讲话"), "protected_term")[0].suggestion == "张三县长"
    # A two-character name alone never matches (章三 could be anyone).
    assert scanner.scan("章三在会上讲话") == []
    assert scanner.scan("县长张三在会上讲话") == []
    # Three-character names also match alone (interior character).
    assert only(scanner.scan("李健国同志指出"), "protected_term")[0].suggestion == "李建国"


def test_dated_site_terms() -> None:
    before = TextScanner(TextScanOptions(site_terms=SITE, on_date=dt.date(2020, 6, 1)))
    after = TextScanner(TextScanOptions(site_terms=SITE, on_date=dt.date(2022, 6, 1)))
    assert before.scan("县长章三讲话") == []
    assert after.scan("县长章三讲话")[0].suggestion == "县长张三"


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("推进“一带一路”战略实施", "“一带一路”战略", "“一带一路”倡议"),
        ("学习党的二十大会议精神", "二十大会议精神", "二十大精神"),
        ("传达学习三中全会会议精神", "全会会议精神", "全会精神"),
        ("中共山东省省委书记", "中共山东省省委", "中共山东省委"),
        ("北朝鲜举行阅兵", "北朝鲜", "朝鲜"),
        ("WTO成员国", "WTO成员国", "世贸组织成员"),
        ("邀请非党人士座谈", "非党人士", "党外人士"),
    ],
)
def test_standard_phrasing(scanner: TextScanner, text: str, wrong: str, right: str) -> None:
    hits = only(scanner.scan(text), "standard_phrasing")
    assert [(h.wrong, h.suggestion, h.severity, h.category) for h in hits] == [
        (wrong, right, "warning", "规范表述")
    ]
    assert hits[0].start == text.index(wrong)


def test_common_typo(scanner: TextScanner) -> None:
    text = "会议对下一步工作进行了布署，要求再接再励。"
    hits = scanner.scan(text)
    assert [(h.start, h.end, h.wrong, h.suggestion, h.rule, h.severity, h.category) for h in hits] == [
        (11, 13, "布署", "部署", "common_typo", "deduction", "错别字"),
        (16, 20, "再接再励", "再接再厉", "common_typo", "deduction", "错别字"),
    ]
    assert hits[0].message == "“布署”应为“部署”（错别字）"
    assert snippet(text, hits[0], width=4) == "作进行了【布署】，要求再"


def test_sensitive_and_evasion(scanner: TextScanner) -> None:
    text = "最新博*彩平台，六 合 彩开奖，百家樂，ＢＯ彩，北京\u200b赛车"
    hits = only(scanner.scan(text), "sensitive:")
    assert [h.wrong for h in hits] == ["博*彩", "六 合 彩", "百家樂", "北京\u200b赛车"]
    for h in hits:
        assert text[h.start : h.end] == h.wrong
        assert h.rule == "sensitive:sample"
        assert h.category == "敏感词:赌博色情"
        assert h.severity == "veto"
    assert "【六 合 彩】" in snippet(text, hits[1])


def test_sensitive_case_and_width(scanner: TextScanner) -> None:
    hits = scanner.scan("免费ＡＶ女优在线")
    assert [h.wrong for h in hits] == ["ＡＶ女优"]


def test_sensitive_word_boundary(scanner: TextScanner) -> None:
    assert scanner.scan("建设统一的平台独立运行") == []
    assert [h.wrong for h in scanner.scan("坚决反对台独分裂活动")] == ["台独"]


def test_allow_phrases() -> None:
    lists = (sample_word_list(), WordList(category="赌博", words=("赌博",), allow=("打击赌博",)))
    sc = TextScanner(TextScanOptions(word_lists=lists, allow_phrases=("某某博彩研究中心",)))
    assert [h.wrong for h in sc.scan("聚众赌博")] == ["赌博"]
    assert sc.scan("依法打击赌博违法犯罪") == []
    assert sc.scan("某某博彩研究中心发布报告") == []
    assert [h.wrong for h in sc.scan("博彩研究")] == ["博彩"]


def test_privacy(scanner: TextScanner) -> None:
    number = "11010519491231002X"
    text = f"公示名单：张三，身份证号{number}，住址略"
    hits = scanner.scan(text)
    assert [(h.start, h.end, h.wrong, h.rule, h.category) for h in hits] == [
        (12, 30, "110105********002X", "privacy:id_number", "隐私泄露")
    ]
    assert number not in snippet(text, hits[0])
    assert "【110105********002X】" in snippet(text, hits[0])
    # Full-width digits are folded.
    assert scanner.scan("１１０１０５１９４９１２３１００２Ｘ")[0].wrong == "110105********002X"


@pytest.mark.parametrize(
    "text",
    [
        "除了望远镜以外",
        "建设统一的平台独立运行",
        "大力发展成人教育",
        "体育彩票公益金使用情况",
        "身份证号110105194912310021",  # wrong check digit
        "订单号911010519491231002X1",  # inside a longer run
        "身份证号110105204912310028",  # birth date in the future
        "确定单位名单，预防犯罪，全部份额，成份股",
        "用很大精力建立健全人民代表大会这个崭新的制度",  # not a deletion of 全国人民代表大会
        "交通运输不断发展，四个意思要讲清",  # edge changes that make natural text are not generated
        "坚持学习贯彻习近平新时代中国特色社会主义思想，彰显着就业积极向好",
        (
            "中华人民共和国是工人阶级领导的、以工农联盟为基础的人民民主专政的社会主义国家。"
            "中华人民共和国的一切权力属于人民。全国人民代表大会和地方各级人民代表大会是人民行使"
            "国家权力的机关。中华人民共和国国务院，即中央人民政府，是最高国家权力机关的执行机关。"
        ),
    ],
)
def test_decoys_silent(scanner: TextScanner, text: str) -> None:
    assert scanner.scan(text) == []


def test_offsets_with_interference_and_newlines(scanner: TextScanner) -> None:
    text = "首页\n  政务公开 \n\u200b中华人民共合国\n布署"
    hits = scanner.scan(text)
    assert [text[h.start : h.end] for h in hits] == ["中华人民共合国", "布署"]
    # Typos and protected terms do not join across whitespace.
    assert scanner.scan("中华人民共 合国") == []


def test_thread_safe_reads(scanner: TextScanner) -> None:
    text = "会议布署工作，县攻府，博*彩。" * 50
    expected = scanner.scan(text)
    results: list[list[TextHit]] = []

    def run() -> None:
        for _ in range(20):
            results.append(scanner.scan(text))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_empty_options_and_text() -> None:
    sc = TextScanner(TextScanOptions(shipped_terms=False, typos=False, phrasing=False))
    assert sc.scan("") == []
    assert sc.scan("中华人民共合国") == []
