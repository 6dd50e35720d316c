"""Boundary tests for column, homepage and site verdicts (national W3/W4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from checks.columns.rules import (
    ColumnLimits,
    ColumnObservation,
    ColumnVerdict,
    SiteThresholds,
    evaluate_column,
    evaluate_homepage,
    site_verdict,
)
from checks.common.dates import ListItem

TODAY = date(2026, 11, 26)


def _obs(kind: str, latest: date | None, top: bool = False, **kw: object) -> ColumnObservation:
    items = kw.pop("items", None)
    if items is None:
        items = [ListItem("某条信息", "http://x/1.html", latest)] if latest else []
    return ColumnObservation(
        name=str(kw.pop("name", "测试栏目")),
        url=str(kw.pop("url", "http://x/col/")),
        type=kind,
        top_level=top,
        unit=str(kw.pop("unit", "")),
        items=items,
    )


DYNAMIC_BOUNDARIES = [
    (0, "fresh"),
    (9, "fresh"),
    (10, "warning"),
    (13, "warning"),
    (14, "warning"),
    (15, "stale"),
    (24, "stale"),
]


@pytest.mark.parametrize(("days", "status"), DYNAMIC_BOUNDARIES)
def test_dynamic_day_boundaries(days: int, status: str) -> None:
    v = evaluate_column(_obs("dynamic", TODAY - timedelta(days=days)), TODAY)
    assert v.status == status
    assert v.days_since == days and v.limit_days == 14 and v.warn_days == 10
    assert v.counts_stale == (status == "stale") and v.counts_overdue == (status == "stale")


def test_spec_message_example() -> None:
    items = [ListItem("a", "u", date(2026, 11, 2)), ListItem("b", "u", date(2026, 10, 1))]
    obs = ColumnObservation("部门动态", "http://x/jyj/bmdt/", "dynamic", unit="教育局", items=items)
    v = evaluate_column(obs, TODAY)
    assert v.message_zh == "教育局·部门动态栏目更新至2026年11月2日，已24天未更新（动态类要求14天内）"
    assert v.severity == "serious" and v.latest == date(2026, 11, 2)


NOTICE_BOUNDARIES = [
    # today 2026-11-26: stale cutoff 2026-05-26, warning from 2026-06-26
    (TODAY, date(2026, 6, 27), "fresh"),
    (TODAY, date(2026, 6, 26), "warning"),
    (TODAY, date(2026, 5, 26), "warning"),
    (TODAY, date(2026, 5, 25), "stale"),
    # month-end clamping: on 2026-08-31 six calendar months back is 2026-02-28
    (date(2026, 8, 31), date(2026, 2, 28), "warning"),
    (date(2026, 8, 31), date(2026, 2, 27), "stale"),
    # leap year: on 2028-08-31 the cutoff is 2028-02-29
    (date(2028, 8, 31), date(2028, 2, 29), "warning"),
    (date(2028, 8, 31), date(2028, 2, 28), "stale"),
]


@pytest.mark.parametrize(("today", "latest", "status"), NOTICE_BOUNDARIES)
@pytest.mark.parametrize("kind", ["notice", "policy"])
def test_notice_policy_calendar_month_boundaries(today: date, latest: date, status: str, kind: str) -> None:
    top = evaluate_column(_obs(kind, latest, top=True), today)
    assert top.status == status
    assert top.counts_stale == (status == "stale")
    sub = evaluate_column(_obs(kind, latest, top=False), today)
    assert sub.status == status
    assert not sub.counts_stale  # only 一级栏目 count for W4(1)
    assert sub.counts_overdue == (status == "stale")


def test_notice_limit_days_follow_calendar() -> None:
    v = evaluate_column(_obs("notice", date(2026, 3, 2), top=True, name="通知公告"), TODAY)
    assert v.limit_days == (TODAY - date(2026, 5, 26)).days == 184
    assert v.message_zh == (
        "通知公告栏目更新至2026年3月2日，已269天未更新（超过6个月，通知公告类一级栏目要求6个月内）"
    )


YEARLY_BOUNDARIES = [
    (date(2025, 12, 27), "fresh"),
    (date(2025, 12, 26), "warning"),
    (date(2025, 11, 26), "warning"),
    (date(2025, 11, 25), "stale"),
]


@pytest.mark.parametrize(("latest", "status"), YEARLY_BOUNDARIES)
@pytest.mark.parametrize("kind", ["personnel", "planning"])
def test_personnel_planning_year_boundaries(latest: date, status: str, kind: str) -> None:
    v = evaluate_column(_obs(kind, latest, top=True), TODAY)
    assert v.status == status
    assert not v.counts_stale
    assert v.counts_overdue == (status == "stale")
    if status == "stale":
        assert "超过1年" in v.message_zh and "要求1年内" in v.message_zh


OVERRIDE_BOUNDARIES = [(21, "fresh"), (22, "warning"), (30, "warning"), (31, "stale")]


@pytest.mark.parametrize(("days", "status"), OVERRIDE_BOUNDARIES)
@pytest.mark.parametrize("key", ["http://x/col/", "财政局·工作动态", "工作动态"])
def test_per_column_override(days: int, status: str, key: str) -> None:
    limits = ColumnLimits(overrides={key: 30})
    obs = _obs("dynamic", TODAY - timedelta(days=days), name="工作动态", unit="财政局")
    v = evaluate_column(obs, TODAY, limits)
    assert v.status == status and v.limit_days == 30 and v.warn_days == 22
    if status == "stale":
        assert v.message_zh.endswith("（本栏目要求30天内）")


def test_custom_dynamic_limits() -> None:
    limits = ColumnLimits(dynamic_days=7, dynamic_warn_days=5)
    assert evaluate_column(_obs("dynamic", TODAY - timedelta(days=7)), TODAY, limits).status == "warning"
    assert evaluate_column(_obs("dynamic", TODAY - timedelta(days=8)), TODAY, limits).status == "stale"
    assert evaluate_column(_obs("dynamic", TODAY - timedelta(days=4)), TODAY, limits).status == "fresh"


def test_blank_column() -> None:
    v = evaluate_column(_obs("policy", None, top=True, name="规范性文件", unit="住建局"), TODAY)
    assert v.status == "blank" and v.counts_blank and not v.counts_stale and not v.counts_overdue
    assert v.message_zh == "住建局·规范性文件栏目为空白栏目（无任何信息），应补充内容或撤销栏目"
    assert v.recommend_review


def test_undated_counts_as_not_updated() -> None:
    items = [ListItem(f"规划{i}", f"u{i}", None) for i in range(3)]
    v = evaluate_column(_obs("dynamic", None, items=items, name="乡镇动态"), TODAY)
    assert v.status == "undated" and v.counts_stale and v.counts_overdue and v.severity == "serious"
    assert v.message_zh == "乡镇动态栏目共3条信息均未标注发布日期，视为未更新（动态类要求14天内）"
    other = evaluate_column(_obs("other", None, items=items), TODAY)
    assert other.status == "undated" and not other.counts_overdue and other.severity == "info"


def test_unknown_never_counts() -> None:
    obs = ColumnObservation("部门动态", "http://x/", "dynamic", error="HTTP 403")
    v = evaluate_column(obs, TODAY)
    assert v.status == "unknown" and not (v.counts_stale or v.counts_overdue or v.counts_blank)
    assert "HTTP 403" in v.message_zh


def test_supplied_latest_wins_over_items() -> None:
    obs = ColumnObservation(
        "部门动态",
        "http://x/",
        "dynamic",
        items=[ListItem("a", "u", None)],
        latest=date(2026, 11, 20),
        latest_title="来自PubDate",
        latest_url="http://x/a",
    )
    v = evaluate_column(obs, TODAY)
    assert v.status == "fresh" and v.latest_title == "来自PubDate"


def test_pinned_old_item_does_not_mask_latest() -> None:
    items = [ListItem("置顶", "u0", date(2024, 1, 1), pinned=True), ListItem("新", "u1", date(2026, 11, 25))]
    v = evaluate_column(_obs("dynamic", None, items=items), TODAY)
    assert v.status == "fresh" and v.latest == date(2026, 11, 25)


@pytest.mark.parametrize(
    ("kind", "latest", "status", "review"),
    [
        ("topic", date(2025, 11, 25), "review", True),
        ("topic", date(2025, 11, 26), "fresh", False),
        ("other", date(2024, 3, 1), "review", True),
        ("interaction", date(2026, 11, 1), "fresh", False),
        ("dynamic", date(2025, 11, 25), "stale", True),
        ("dynamic", date(2026, 1, 1), "stale", False),
    ],
)
def test_review_recommendation_after_a_year(kind: str, latest: date, status: str, review: bool) -> None:
    v = evaluate_column(_obs(kind, latest), TODAY)
    assert v.status == status and v.recommend_review == review
    assert ("撤销冗余栏目" in v.message_zh) == review
    if kind in ("topic", "other", "interaction"):
        assert not v.counts_overdue and not v.counts_stale


def test_future_date_is_flagged_not_stale() -> None:
    obs = ColumnObservation("部门动态", "u", "dynamic", latest=date(2026, 12, 5))
    v = evaluate_column(obs, TODAY)
    assert v.status == "fresh" and v.days_since == -9 and "请核实发布日期" in v.message_zh


# ---------------------------------------------------------------------------------------------- homepage


@pytest.mark.parametrize(
    ("days", "status", "result"),
    [
        (0, "fresh", "合格"),
        (9, "fresh", "合格"),
        (10, "warning", "预警"),
        (13, "warning", "预警"),
        (14, "warning", "预警"),
        (15, "stale", "不合格"),
    ],
)
def test_homepage_boundaries(days: int, status: str, result: str) -> None:
    v = evaluate_homepage(TODAY - timedelta(days=days), TODAY)
    assert (v.status, v.result, v.days_since, v.veto) == (status, result, days, status == "stale")


def test_homepage_messages() -> None:
    assert evaluate_homepage(date(2026, 11, 2), TODAY).message_zh == (
        "首页信息更新至2026年11月2日，已24天未更新（首页要求14天内有更新，超过即单项否决）"
    )
    unknown = evaluate_homepage(None, TODAY)
    assert unknown.status == "unknown" and not unknown.veto


# ---------------------------------------------------------------------------------------------- site


def _verdicts(
    stale: int = 0, sub_notice_stale: int = 0, blank: int = 0, fresh: int = 3
) -> list[ColumnVerdict]:
    out = [
        evaluate_column(_obs("dynamic", TODAY - timedelta(days=30), name=f"动态{i}"), TODAY)
        for i in range(stale)
    ]
    out += [
        evaluate_column(_obs("notice", date(2025, 1, 1), name=f"公告{i}"), TODAY)
        for i in range(sub_notice_stale)
    ]
    out += [evaluate_column(_obs("dynamic", None, name=f"空白{i}"), TODAY) for i in range(blank)]
    out += [evaluate_column(_obs("dynamic", TODAY, name=f"正常{i}"), TODAY) for i in range(fresh)]
    out.append(evaluate_column(ColumnObservation("坏栏目", "u", "dynamic", error="超时"), TODAY))
    return out


@pytest.mark.parametrize(
    ("stale", "sub", "blank", "expected"),
    [
        (0, 0, 0, ("合格", "合格", "合格", "合格")),
        (2, 0, 0, ("合格", "合格", "合格", "合格")),
        (3, 0, 0, ("预警", "合格", "合格", "预警")),
        (4, 0, 0, ("预警", "合格", "合格", "预警")),
        (5, 0, 0, ("不合格", "合格", "合格", "不合格")),
        (4, 5, 0, ("预警", "预警", "合格", "预警")),
        (4, 6, 0, ("预警", "不合格", "合格", "不合格")),
        (0, 9, 0, ("合格", "预警", "合格", "预警")),
        (0, 10, 0, ("合格", "不合格", "合格", "不合格")),
        (0, 0, 2, ("合格", "合格", "合格", "合格")),
        (0, 0, 3, ("合格", "合格", "预警", "预警")),
        (0, 0, 4, ("合格", "合格", "预警", "预警")),
        (0, 0, 5, ("合格", "合格", "不合格", "不合格")),
    ],
)
def test_site_veto_table(stale: int, sub: int, blank: int, expected: tuple[str, str, str, str]) -> None:
    summary = site_verdict(_verdicts(stale, sub, blank))
    got = (*(summary.indicator(k).result for k in ("stale", "overdue", "blank")), summary.result)
    assert got == expected
    assert summary.indicator("stale").figure == stale
    assert summary.indicator("overdue").figure == stale + sub
    assert summary.indicator("blank").figure == blank
    assert summary.unknown_columns == ("坏栏目",)
    assert summary.veto == (expected[3] == "不合格")


def test_site_indicator_message_names_figures_and_columns() -> None:
    summary = site_verdict(_verdicts(stale=5))
    ind = summary.indicator("stale")
    assert ind.veto_threshold == 5 and ind.warn_threshold == 3
    assert ind.message_zh.startswith("栏目不更新（")
    assert "5个，达到5个，单项否决：动态0、动态1、动态2、动态3、动态4" in ind.message_zh


def test_site_thresholds_configurable() -> None:
    summary = site_verdict(_verdicts(stale=2), SiteThresholds(stale_veto=2, stale_warn=1))
    assert summary.indicator("stale").result == "不合格"
