"""The columns and units duties on real local sites: dating, limits, discovery, lifecycle, W5, reports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.columns.check import discover_snippet
from monitor.config import Config, ConfigError, config_from_mapping
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config

HOST = "www.test.gov.cn"
HOME = f"http://{HOST}/"
TODAY = date(2026, 11, 26)
SEED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "000_e2934e71ad1fc0d7.txt"


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def list_page(
    name: str, rows: list[str], *, meta: bool = True, charset: str = "utf-8", extra: str = ""
) -> str:
    """A CMS list page: nav, breadcrumb with the header clock, the list, a pager."""
    tags = (
        f'<meta name="ColumnName" content="{name}"><meta name="ColumnType" content="{name}">' if meta else ""
    )
    items = "".join(f"<li>{r}</li>" for r in rows)
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}">'
        f"<title>{name}_测试县人民政府</title>{tags}</head>"
        f'<body><div class="topbar">今天是{TODAY.year}年{TODAY.month}月{TODAY.day}日</div>'
        f'<div class="nav"><a href="/">首页</a><a href="/xwzx/">新闻中心</a></div>'
        f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; {name}</div>'
        f'<ul class="list">{items}</ul>{extra}'
        f'<div class="pagination"><a href="index_1.html">下一页</a> <a href="index_9.html">尾页</a></div>'
        "</body></html>"
    )


def row(title: str, when: date | str | None, href: str = "a.html") -> str:
    shown = "" if when is None else (when if isinstance(when, str) else when.isoformat())
    return f'<a href="{href}" title="{title}">{title}</a><span class="date">{shown}</span>'


def article(title: str, when: date | None) -> str:
    meta = f'<meta name="PubDate" content="{when.isoformat()} 09:00">' if when else ""
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{meta}</head><body>'
        f'<div class="header">今天是{TODAY.year}年{TODAY.month}月{TODAY.day}日</div>'
        f'<div class="article"><h1>{title}</h1>'
        '<div class="content">为做好相关工作，现将有关事项通知如下。</div>'
        "</div></body></html>"
    )


def homepage(latest: date, *, nav: str = "") -> str:
    return (
        '<html><head><meta charset="utf-8"><title>测试县人民政府</title>'
        '<meta name="ColumnName" content="首页"></head><body>'
        f'<div class="topbar">今天是{TODAY.year}年{TODAY.month}月{TODAY.day}日</div>'
        f'<div class="nav"><a href="/">首页</a>{nav}</div>'
        '<div class="block"><h3>要闻</h3><ul>'
        '<li><a href="/xwzx/a1.html">测试县召开安全生产工作推进会</a>'
        f"<span>{latest.strftime('%m-%d')}</span></li>"
        '<li><a href="/xwzx/a2.html">县委理论学习中心组开展专题学习</a>'
        f"<span>{ago(40).isoformat()}</span></li>"
        "</ul></div></body></html>"
    )


def config_for(sites: LocalSites, columns: list[dict[str, Any]] | None = None, **section: Any) -> Config:
    site_spec = {k: section.pop(k) for k in ("message_boards", "annual_reports") if k in section}
    return fast_config(
        sites,
        [HOST],
        HOME,
        units=section.pop("units", [{"name": "县教育局", "site": "test", "paths": ["/bm/jyj/"]}]),
        columns={
            "discover": section.pop("discover", False),
            "sites": {"test": {"columns": columns or [], **site_spec}},
            **section,
        },
    )


def col(name: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": f"http://{HOST}{path}", **extra}


async def run(duty: str, config: Config, store: Store, when: date = TODAY) -> SiteRunResult:
    clock = FixedClock(datetime(when.year, when.month, when.day, 9, 30), SHANGHAI)
    (result,) = await run_duty(duty, config, store, clock)
    return result


def census(result: SiteRunResult) -> dict[str, dict[str, Any]]:
    return {r["url"]: r for r in result.counts["columns"]}


def kinds(result: SiteRunResult) -> dict[str, str]:
    return {f.identity: f.kind for f in result.findings}


# ------------------------------------------------------------------------------------ list-page dating


@pytest.mark.parametrize(
    "shown",
    [
        ago(3).isoformat(),
        ago(3).strftime("%Y/%m/%d"),
        ago(3).strftime("%Y.%m.%d"),
        f"[{ago(3).strftime('%m-%d')}]",
        f"{ago(3).year}年{ago(3).month}月{ago(3).day}日",
        f"发布时间：{ago(3).isoformat()} 10:20",
        "3天前",
        "２０２６－１１－２３",
    ],
)
async def test_every_list_date_format(sites: LocalSites, store: Store, shown: str) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST,
        "/xwzx/",
        list_page("要闻动态", [row("县长调研重点项目建设", shown), row("县委召开常委会议", ago(30))]),
    )
    result = await run("columns", config_for(sites, [col("要闻动态", "/xwzx/")]), store)
    assert census(result)[f"http://{HOST}/xwzx/"]["last_update"] == ago(3).isoformat()
    assert result.findings == []


async def test_gbk_list_page(sites: LocalSites, store: Store) -> None:
    page = list_page(
        "部门动态",
        [row("县教育局开展校园安全检查", ago(20)), row("县教育局召开会议", ago(25))],
        charset="gbk",
    )
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/bm/jyj/dt/", page.encode("gbk"), content_type="text/html")
    result = await run("columns", config_for(sites, [col("部门动态", "/bm/jyj/dt/")]), store)
    (finding,) = result.findings
    assert finding.kind == "column_stale" and finding.unit == "县教育局"
    assert finding.message.startswith(
        f"县教育局·部门动态栏目更新至{ago(20).year}年{ago(20).month}月{ago(20).day}日，已20天未更新"
    )
    assert "《县教育局开展校园安全检查》" in finding.message and finding.evidence["type"] == "dynamic"


async def test_dates_only_on_the_article_page(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST,
        "/tzgg/",
        list_page(
            "通知公告", [row("关于森林防火的通知", None, "n1.html"), row("关于防汛的通知", None, "n2.html")]
        ),
    )
    sites.html(HOST, "/tzgg/n1.html", article("关于森林防火的通知", ago(200)))
    result = await run("columns", config_for(sites, [col("通知公告", "/tzgg/", top_level=True)]), store)
    row_ = census(result)[f"http://{HOST}/tzgg/"]
    assert row_["last_update"] == ago(200).isoformat() and row_["status"] == "stale"
    assert sites.count(HOST, "/tzgg/n2.html") == 0  # only the newest item's article is read


async def test_undated_list_and_undated_article_count_as_not_updated(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST,
        "/tzgg/",
        list_page(
            "通知公告", [row("关于森林防火的通知", None, "n1.html"), row("关于防汛的通知", None, "n2.html")]
        ),
    )
    sites.html(HOST, "/tzgg/n1.html", article("关于森林防火的通知", None))
    result = await run("columns", config_for(sites, [col("通知公告", "/tzgg/")]), store)
    (finding,) = result.findings
    assert finding.kind == "column_undated" and "均未标注发布日期，视为未更新" in finding.message


async def test_paging_page_one_decides(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/a/", list_page("工作动态", [row("工作动态一", ago(30)), row("工作动态二", ago(31))]))
    sites.html(
        HOST, "/a/index_1.html", list_page("工作动态", [row("工作动态三", ago(2)), row("工作动态四", ago(3))])
    )
    sites.html(HOST, "/b/", list_page("部门动态", [row("部门动态一", ago(2)), row("部门动态二", ago(3))]))
    sites.html(HOST, "/b/index_1.html", list_page("部门动态", [row("部门动态三", ago(300))]))
    config = config_for(sites, [col("工作动态", "/a/"), col("部门动态", "/b/")])
    result = await run("columns", config, store)
    assert kinds(result) == {f"http://{HOST}/a/": "column_stale"}
    assert sites.count(HOST, "/a/index_1.html") == 0 and sites.count(HOST, "/b/index_1.html") == 0


# ---------------------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("days", "kind"),
    [(9, None), (10, "column_warning"), (13, "column_warning"), (14, "column_warning"), (15, "column_stale")],
)
async def test_dynamic_limit_decoys(sites: LocalSites, store: Store, days: int, kind: str | None) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST, "/dt/", list_page("工作动态", [row("工作动态一", ago(days)), row("工作动态二", ago(days + 5))])
    )
    result = await run("columns", config_for(sites, [col("工作动态", "/dt/")]), store)
    assert kinds(result) == ({f"http://{HOST}/dt/": kind} if kind else {})


@pytest.mark.parametrize(("latest", "status"), [(date(2026, 5, 26), "warning"), (date(2026, 5, 25), "stale")])
async def test_six_month_boundary_with_pinned_clock(
    sites: LocalSites, store: Store, latest: date, status: str
) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST,
        "/zcwj/",
        list_page("政策文件", [row("关于印发实施办法的通知", latest), row("旧文件通知", date(2025, 1, 3))]),
    )
    result = await run("columns", config_for(sites, [col("政策文件", "/zcwj/", top_level=True)]), store)
    row_ = census(result)[f"http://{HOST}/zcwj/"]
    assert row_["status"] == status
    stale = next(i for i in result.counts["indicators"] if i["indicator"] == "W4-1")
    assert stale["value"] == (1.0 if status == "stale" else 0.0)


async def test_per_column_limit_override(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST, "/rx/", list_page("县长热线", [row("热线问题答复汇总", ago(8)), row("热线问题答复", ago(15))])
    )
    config = config_for(sites, [col("县长热线", "/rx/", type="dynamic", limit_days=7)])
    (finding,) = (await run("columns", config, store)).findings
    assert finding.kind == "column_stale" and "本栏目要求7天内" in finding.message


async def test_blank_column_and_site_counts(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    for i in range(3):
        sites.html(HOST, f"/k{i}/", list_page(f"规划计划{i}", [], extra='<p class="empty">暂无信息</p>'))
    config = config_for(sites, [col(f"规划计划{i}", f"/k{i}/") for i in range(3)])
    result = await run("columns", config, store)
    assert sorted(kinds(result).values()) == ["column_blank"] * 3 + ["columns_indicator"]
    blank = next(i for i in result.counts["indicators"] if i["indicator"] == "W4-3")
    assert (blank["verdict"], blank["value"]) == ("warn", 3.0)


async def test_review_recommendation_after_a_year(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST, "/lsyg/", list_page("历史沿革", [row("历史沿革一", ago(400)), row("历史沿革二", ago(500))])
    )
    (finding,) = (await run("columns", config_for(sites, [col("历史沿革", "/lsyg/")]), store)).findings
    assert finding.kind == "column_review" and "撤销冗余栏目" in finding.message


# -------------------------------------------------------------------------------------- homepage W3


@pytest.mark.parametrize(
    ("days", "kind", "verdict"),
    [
        (9, None, "pass"),
        (10, "homepage_warning", "warn"),
        (14, "homepage_warning", "warn"),
        (15, "homepage_stale", "fail"),
    ],
)
async def test_homepage_update(
    sites: LocalSites, store: Store, days: int, kind: str | None, verdict: str
) -> None:
    sites.html(HOST, "/", homepage(ago(days)))
    result = await run("columns", config_for(sites, [], discover=True), store)
    assert kinds(result) == ({HOME: kind} if kind else {})
    w3 = next(i for i in result.counts["indicators"] if i["indicator"] == "W3")
    assert w3["verdict"] == verdict and w3["value"] == days
    if kind == "homepage_stale":
        (f,) = result.findings
        assert (
            f.severity == "veto"
            and f"已{days}天未更新" in f.message
            and "测试县召开安全生产工作推进会" in f.message
        )


# -------------------------------------------------------------------------------------- discovery


async def test_discovery_from_navigation_and_meta_tags(sites: LocalSites, store: Store) -> None:
    nav = '<a href="/xwzx/">新闻中心</a><a href="/zwgk/">政务公开</a><a href="/lxwm.html">联系我们</a>'
    sites.html(HOST, "/", homepage(ago(1), nav=nav))
    sites.html(HOST, "/xwzx/", list_page("新闻中心", [row("新闻一", ago(1)), row("新闻二", ago(2))]))
    zwgk = list_page("政务公开", [row("公开一", ago(1), "/tzgg/a.html"), row("公开二", ago(2))])
    zwgk = zwgk.replace(
        '<ul class="list">',
        '<div class="subnav"><a href="/tzgg/">通知公告</a> <a href="/kb/">空白栏目</a></div>'
        '<ul class="list">',
    )
    sites.html(HOST, "/zwgk/", zwgk)
    # No ColumnName tag here: named by the link text, typed from it.
    sites.html(
        HOST,
        "/tzgg/",
        list_page("x", [row("关于防汛的通知", ago(200)), row("关于节能的通知", ago(260))], meta=False),
    )
    sites.html(HOST, "/kb/", list_page("信息公开指南", [], extra="<p>暂无信息</p>"))
    sites.html(HOST, "/lxwm.html", "<html><body><p>联系电话和地址信息。</p></body></html>")
    result = await run("columns", config_for(sites, [], discover=True), store)
    found = {
        r["name"]: (r["type"], r["top_level"], r["status"], r["source"]) for r in result.counts["columns"]
    }
    assert found == {
        "新闻中心": ("dynamic", True, "fresh", "meta"),
        "政务公开": ("other", True, "fresh", "meta"),
        "通知公告": ("notice", False, "stale", "list"),
        "信息公开指南": ("other", False, "blank", "meta"),
    }


async def test_columns_discover_prints_yaml_that_loads_into_the_config(sites: LocalSites) -> None:
    sites.html(HOST, "/", homepage(ago(1), nav='<a href="/xwzx/">新闻中心</a><a href="/bm/jyj/">教育局</a>'))
    sites.html(HOST, "/xwzx/", list_page("新闻中心", [row("新闻一", ago(1)), row("新闻二", ago(2))]))
    sites.html(
        HOST, "/bm/jyj/", list_page("教育局: 工作动态", [row("动态一", ago(1)), row("动态二", ago(2))])
    )
    config = config_for(sites, [])
    text, status = await discover_snippet(config, HOME, FixedClock(datetime(2026, 11, 26, 9), SHANGHAI))
    assert status == 0
    snippet = yaml.safe_load(text)
    entries = snippet["columns"]["sites"]["test"]["columns"]
    assert {e["name"]: e.get("unit") for e in entries} == {
        "新闻中心": "县政府办公室",
        "教育局: 工作动态": "县教育局",
    }
    raw = {**config.model_dump(exclude={"base_dir"}), "columns": snippet["columns"]}
    loaded = config_from_mapping(raw)
    assert [c.name for c in loaded.columns.sites["test"].columns] == ["新闻中心", "教育局: 工作动态"]


def test_columns_config_errors_name_the_key_path() -> None:
    base = {"sites": [{"id": "p", "name": "x", "homepage": HOME}]}
    cases = [
        ({"columns": {"sites": {"q": {}}}}, "columns.sites.q"),
        (
            {"columns": {"sites": {"p": {"columns": [{"name": "a", "url": HOME, "unit": "无此单位"}]}}}},
            "columns.sites.p.columns[0].unit",
        ),
        (
            {"columns": {"sites": {"p": {"columns": [{"name": "a", "url": HOME, "type": "news"}]}}}},
            "columns.sites.p.columns[0].type",
        ),
        ({"columns": {"limits": {"dynamic_warn_days": 20}}}, "columns.limits"),
        (
            {"columns": {"sites": {"p": {"columns": [{"name": "a", "url": "ftp://x"}]}}}},
            "columns.sites.p.columns[0].url",
        ),
    ]
    for extra, path in cases:
        with pytest.raises(ConfigError) as info:
            config_from_mapping({**base, **extra})
        assert [p for p, _ in info.value.problems] == [path]


# ------------------------------------------------------------------------------ lifecycle, unknown


async def test_updated_column_resolves_on_the_next_run(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/dt/", list_page("工作动态", [row("旧动态", ago(20)), row("更旧动态", ago(30))]))
    config = config_for(sites, [col("工作动态", "/dt/")])
    first = await run("columns", config, store)
    assert first.outcome.new == 1 and kinds(first) == {f"http://{HOST}/dt/": "column_stale"}
    sites.html(HOST, "/dt/", list_page("工作动态", [row("新动态", ago(1)), row("旧动态", ago(20))]))
    second = await run("columns", config, store)
    assert second.findings == [] and second.outcome.resolved == 1
    assert store.count_open("test", ("columns",)) == 0


async def test_failing_column_page_is_unknown_not_stale(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/dt/", list_page("工作动态", [row("旧动态", ago(20)), row("更旧动态", ago(30))]))
    sites.html(HOST, "/kb/", list_page("规划计划", [], extra="<p>暂无信息</p>"))
    config = config_for(sites, [col("工作动态", "/dt/"), col("规划计划", "/kb/")])
    await run("columns", config, store)
    assert store.count_open("test", ("columns",)) == 2
    sites.status(HOST, "/dt/", 503)  # the stale column's page breaks …
    sites.html(
        HOST, "/kb/", list_page("规划计划", [row("规划一", ago(1)), row("规划二", ago(2))])
    )  # … the blank one is fixed
    result = await run("columns", config, store)
    assert result.status == "ok" and result.counts["complete"] is False
    assert kinds(result) == {f"http://{HOST}/dt/": "source_unreachable"}
    assert "监测源异常" in result.findings[0].message and "HTTP 503" in result.findings[0].message
    assert census(result)[f"http://{HOST}/dt/"]["verdict"] == "未检测"
    assert next(i for i in result.counts["indicators"] if i["indicator"] == "W4-1")["value"] == 0
    open_kinds = sorted(f["kind"] for f in store.findings(status="open", duty="columns"))
    # The stale finding stays open (not re-checked); the blank one, re-checked, is resolved.
    assert open_kinds == ["column_stale", "source_unreachable"]


# ---------------------------------------------------------------------------------- message boards W5


async def test_message_board_unanswered_slow_and_statistics(sites: LocalSites, store: Store) -> None:
    rows = [
        ("关于路灯不亮的问题", ago(6), ago(3), "已办结"),
        ("关于供暖不达标的问题", ago(120), None, "未答复"),
        ("关于道路破损的问题", ago(60), ago(30), "已办结"),
        ("关于往年噪音扰民的问题", ago(500), None, "未答复"),
    ]
    table = "".join(
        f"<tr><td><a href='m{i}.html'>{t}</a></td><td>{a}</td><td>{r or ''}</td><td>{s}</td></tr>"
        for i, (t, a, r, s) in enumerate(rows)
    )
    page = (
        "<html><body><div class='nav'><a href='/'>首页</a></div><table><tr><th>标题</th><th>留言时间</th>"
        f"<th>回复时间</th><th>状态</th></tr>{table}</table></body></html>"
    )
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(HOST, "/hdjl/", page)
    config = config_for(sites, [], message_boards=[{"name": "县长信箱", "url": f"http://{HOST}/hdjl/"}])
    result = await run("columns", config, store)
    by_kind = sorted((f.kind, f.identity.rsplit("/", 1)[-1]) for f in result.findings)
    assert by_kind == [
        ("message_slow", "m2.html"),
        ("message_slow", "m3.html"),
        ("message_unanswered", "m1.html"),
    ]
    veto = next(f for f in result.findings if f.kind == "message_unanswered")
    assert veto.severity == "veto" and "已120天（超过3个月未回应，单项否决）" in veto.message
    (stats,) = result.counts["messages"]
    assert (stats["total"], stats["answered"], stats["unanswered_over_limit"]) == (4, 2, 1)
    w5 = next(i for i in result.counts["indicators"] if i["indicator"] == "W5")
    assert w5["verdict"] == "fail"


# ------------------------------------------------------------------------------------ annual reports


def reports(result: SiteRunResult) -> list[Any]:
    """Annual-report findings (the homepage's dates are relative to TODAY, not to these clocks)."""
    return [f for f in result.findings if f.kind.startswith("annual_report")]


def _seed_page(text: str) -> str:
    return f"<html><head><meta charset='utf-8'></head><body><pre>{text}</pre></body></html>"


async def test_seed_report_passes_and_one_wrong_number_does_not(sites: LocalSites, store: Store) -> None:
    seed = SEED.read_text(encoding="utf-8")
    sites.html(HOST, "/", homepage(ago(1)))
    listing = list_page(
        "年度报告",
        [
            row("汤阴县人民政府办公室2022年政府信息公开工作年度报告", date(2023, 1, 20), "r2022.html"),
            row("汤阴县人民政府办公室2021年政府信息公开工作年度报告", date(2022, 1, 25), "r2021.html"),
        ],
    )
    sites.html(HOST, "/ndbg/", listing)
    sites.html(HOST, "/ndbg/r2022.html", _seed_page(seed))
    sites.html(HOST, "/ndbg/r2021.html", _seed_page(seed.replace("2022年", "2021年", 1)))
    config = config_for(sites, [], annual_reports=f"http://{HOST}/ndbg/", max_report_pages=2)
    result = await run("columns", config, store, when=date(2023, 3, 1))
    assert reports(result) == []
    assert [r["year"] for r in result.counts["annual_reports"]["reports"]] == [2022, 2021]

    lines = seed.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("\t四、结转下年度继续办理"))
    j = next(k for k in range(i + 1, len(lines)) if lines[k].strip().isdigit())
    lines[j] = "\t" + str(int(lines[j].strip()) + 1)
    sites.html(HOST, "/ndbg/r2022.html", _seed_page("\n".join(lines)))
    result = await run("columns", config, store, when=date(2023, 3, 1))
    (finding,) = reports(result)
    assert (
        finding.kind == "annual_report_inconsistent" and finding.identity == f"http://{HOST}/ndbg/r2022.html"
    )
    assert "一、本年新收" in finding.message and "结转下年度继续办理" in finding.message


async def test_report_due_by_31_january(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    sites.html(
        HOST,
        "/ndbg/",
        list_page(
            "年度报告",
            [
                row("测试县2024年政府信息公开工作年度报告", date(2025, 1, 20), "r.html"),
                row("测试县2023年政府信息公开工作年度报告", date(2024, 1, 20), "r.html"),
            ],
        ),
    )
    sites.html(HOST, "/ndbg/r.html", "<html><body><p>报告正文见附件。</p></body></html>")
    config = config_for(sites, [], annual_reports=f"http://{HOST}/ndbg/", max_report_pages=0)
    on_time = await run("columns", config, store, when=date(2026, 1, 31))  # 2024's report is due: present
    assert reports(on_time) == []
    late = await run("columns", config, store, when=date(2026, 2, 1))  # now 2025's report is due: missing
    (finding,) = reports(late)
    assert (
        finding.kind == "annual_report_late" and "未找到2025年度政府信息公开工作年度报告" in finding.message
    )


# ------------------------------------------------------------------------------------------- units


async def test_units_audit_reports_per_unit(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/", homepage(ago(1)))
    landing = list_page("县教育局", [row("教育局公告", ago(2)), row("教育局通知", ago(3))])
    landing = landing.replace(
        "</ul>", '</ul><p>栏目：<a href="gzdt/">工作动态</a> <a href="/other/">其他</a></p>'
    )
    sites.html(HOST, "/bm/jyj/", landing)
    sites.html(HOST, "/bm/jyj/gzdt/", list_page("工作动态", [row("动态一", ago(24)), row("动态二", ago(40))]))
    sites.html(HOST, "/bm/czj/", list_page("县财政局", [row("财政公告", ago(2)), row("财政通知", ago(3))]))
    units = [
        {"name": "县教育局", "site": "test", "paths": ["/bm/jyj/"]},
        {"name": "县财政局", "site": "test", "paths": ["/bm/czj/"]},
        {"name": "县审计局", "site": "test", "paths": ["/bm/sjj/"]},
    ]
    result = await run("units", config_for(sites, [], units=units, discover=True), store)
    per_unit = {u["unit"]: (u["result"], u["columns"]) for u in result.counts["units"]}
    assert per_unit == {"县教育局": ("不合格", 2), "县财政局": ("合格", 1), "县审计局": ("未检测", 0)}
    stale = next(f for f in result.findings if f.kind == "column_stale")
    assert stale.unit == "县教育局" and stale.message.startswith("县教育局·工作动态栏目更新至")
    missing = next(f for f in result.findings if f.kind == "source_unreachable")
    assert missing.unit == "县审计局" and sites.count(HOST, "/other/") == 0
