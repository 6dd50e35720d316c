# ruff: noqa: E501  (a site generator: its HTML lines stay whole so that they read like the pages)
"""A second county portal layout (东溪县, ``www.dongxi.gov.cn``) for zero-config column audits.

Unlike the demo county it is laid out like a Hanweb/集约化平台 portal: ``/col/col<id>/index.html``
columns (some lists shipped in jpage ``<datastore>`` scripts), a 信息公开 section whose departments and
townships sit three levels deep (``/xxgk/bm/<unit>/<column>/``, ``/xxgk/xz/<town>/<column>/``), township
pages in GBK, and the traps of issue 17: pager links and pager pages with old items, a headline
linking an article (heading inside the link), an ``https`` copy of a column link, year-less ``11-20``
dates whose links say last year, header clocks (今天是…) and accessibility toolbars, a 新闻发布会 column,
an article whose PubDate meta contradicts its visible 发布时间.

Served by a real aiohttp server on 127.0.0.1 (``tests/sites.py``); ``truth_stale``/``truth_blank`` list
the columns a correct zero-config audit reports. Used by tests/test_columns_zero_config.py and
bench/columns_quality.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from monitor.config import Config, config_from_mapping
from tests.sites import LocalSites

HOST = "www.dongxi.gov.cn"
HOME = f"http://{HOST}/"

_TOOLBAR = (
    '<div class="tbar"><span>今天是<script>document.write(new Date().toLocaleDateString())</script></span>'
    ' <a href="javascript:void(0)" onclick="aria.start()">无障碍</a> <a href="/ggfw/zhxj/">长者模式</a></div>'
)
_NAV = (
    '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/col/col100/index.html">新闻中心</a></li>'
    '<li><a href="/xxgk/">信息公开</a></li><li><a href="/hdjl/">互动交流</a></li>'
    '<li><a href="/wzdt.html">网站地图</a></li></ul></div>'
)


@dataclass
class Column:
    """One planted column: where it is, what it shows, and what a correct audit says."""

    path: str
    name: str
    ages: list[int | None] = field(default_factory=list)  # days ago per item; None = undated row
    style: str = "ul"  # ul | hanweb | yearless | cn | empty | clock | undated_conflict
    truth: str | None = None  # "stale" | "blank" | None (fine)
    gbk: bool = False
    article_ages: tuple[int, int] | None = None  # (visible 发布时间, PubDate meta) of the newest article


def _page(title: str, body: str, *, column: str | None = None, charset: str = "utf-8") -> str:
    meta = f'<meta name="ColumnName" content="{column}">' if column else ""
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}">{meta}<title>{title}_东溪县人民政府</title></head>'
        f"<body>{_TOOLBAR}{_NAV}{body}"
        '<div class="footer">主办：东溪县人民政府办公室 <a href="/lxwm.html">联系我们</a></div></body></html>'
    )


class County2:
    """The second county site: build, serve, and say what is true."""

    SITE_ID = "dongxi"

    def __init__(self, today: date) -> None:
        self.today = today
        self.sites = LocalSites()
        self.columns: list[Column] = []
        self._build()

    # ------------------------------------------------------------------------------------ truth

    @property
    def truth_stale(self) -> set[str]:
        """Columns a correct audit reports as stale or undated (not updated)."""
        return {f"http://{HOST}{c.path}" for c in self.columns if c.truth == "stale"}

    @property
    def truth_blank(self) -> set[str]:
        """Columns a correct audit reports as blank."""
        return {f"http://{HOST}{c.path}" for c in self.columns if c.truth == "blank"}

    # ------------------------------------------------------------------------------------ pages

    def _day(self, ago: int) -> date:
        return self.today - timedelta(days=ago)

    def _art(self, ago: int, n: int) -> str:
        d = self._day(ago)
        return f"/art/{d.year}/{d.month}/{d.day}/art_{1000 + n}_{ago}.html"

    def _rows(self, c: Column) -> str:
        rows = []
        for n, ago in enumerate(c.ages):
            title = f"{c.name}第{n + 1}条信息：关于做好近期重点工作的通知"
            if ago is None:
                rows.append(f'<li><a href="{c.path}art_{n}.html">{title}</a></li>')
                continue
            d = self._day(ago)
            href = self._art(ago, n)
            shown = {
                "yearless": f"{d.month:02d}-{d.day:02d}",
                "hanweb": f"{d.month:02d}-{d.day:02d}",
                "cn": f"{d.year}年{d.month}月{d.day}日",
            }.get(c.style, d.isoformat())
            rows.append(
                f'<li><a href="{href}" title="{title}">{title}</a><span class="date">{shown}</span></li>'
            )
        return "".join(rows)

    def _list_body(self, c: Column, siblings: list[Column]) -> str:
        menu = "".join(f'<li><a href="{s.path}">{s.name}</a></li>' for s in siblings)
        pager = (
            '<div class="page"><a href="index.html">首页</a> <a href="index_1.html">下一页</a> '
            '<a href="index_1.html">2</a> <a href="index_2.html">3</a> <a href="index_5.html">尾页</a></div>'
        )
        if c.style == "empty":
            listing = '<ul class="list"></ul><p class="nodata">暂无信息</p>'
        elif c.style == "hanweb":
            records = "".join(
                f"<record><![CDATA[{row}]]></record>" for row in self._rows(c).split("</li>") if row
            )
            listing = (
                f'<div id="4051"><script type="text/xml"><datastore><recordset>{records.replace("]]>", "</li>]]>")}'
                '</recordset></datastore></script><script src="/module/web/jpage/jpage.js"></script></div>'
            )
        else:
            listing = f'<ul class="list">{self._rows(c)}</ul>'
        clock = ""
        if c.style == "clock":
            clock = f'<div class="riqi">今天是{self.today.year}年{self.today.month}月{self.today.day}日</div>'
        return (
            f'{clock}<div class="left"><div class="lm-name">栏目导航</div><ul class="sub">{menu}</ul></div>'
            f'<div class="right"><div class="position">当前位置：<a href="/">首页</a> &gt; {c.name}</div>'
            f"{listing}{pager if c.style != 'empty' else ''}</div>"
        )

    def _serve(self, path: str, html: str, gbk: bool = False) -> None:
        if gbk:
            html = html.replace('charset="utf-8"', 'charset="gb2312"')
            self.sites.html(HOST, path, html.encode("gbk"), content_type="text/html")
        else:
            self.sites.html(HOST, path, html)

    def _serve_column(self, c: Column, siblings: list[Column]) -> None:
        html = _page(c.name, self._list_body(c, siblings), column=c.name)
        self._serve(c.path, html, c.gbk)
        self._serve(c.path + "index.html", html, c.gbk)
        if c.style != "empty":
            # Page 2 of the list: old items. A pager link followed as a column would be a false stale one.
            old = Column(c.path, c.name, [400, 410], "ul")
            self._serve(
                c.path + "index_1.html", _page(c.name, self._list_body(old, siblings), column=c.name), c.gbk
            )
        if c.article_ages is not None:
            shown, meta = (self._day(a) for a in c.article_ages)
            article = (
                f'<html><head><meta charset="utf-8"><meta name="PubDate" content="{meta.isoformat()} 09:00">'
                "<title>信息</title></head><body>"
                f'<div class="info">发布时间：{shown.isoformat()} 10:20 来源：东溪县自然资源局</div>'
                '<div class="TRS_Editor"><p>为做好相关工作，现将有关事项通知如下。</p></div></body></html>'
            )
            self._serve(c.path + "art_0.html", article)
        elif c.style == "undated_conflict" or any(a is None for a in c.ages):
            article = (
                '<html><head><meta charset="utf-8"><title>信息</title></head><body>'
                '<div class="TRS_Editor"><p>新华社北京11月20日电 为做好相关工作，现将有关事项通知如下。</p></div>'
                "</body></html>"
            )
            self._serve(c.path + "art_0.html", article, c.gbk)

    def _build(self) -> None:
        units = {
            "jyj": (
                "县教育局",
                [
                    Column("", "工作动态", [20, 25, 40], "ul", "stale"),
                    Column("", "通知公告", [30, 90], "ul"),
                    Column("", "人事信息", [100], "ul"),
                ],
            ),
            "czj": (
                "县财政局",
                [
                    Column("", "工作动态", [371, 380, 395], "yearless", "stale"),
                    Column("", "通知公告", [12, 60], "yearless"),
                ],
            ),
            "wjw": (
                "县卫生健康委员会",
                [Column("", "工作动态", [3, 5, 9], "yearless"), Column("", "政策文件", [45, 120], "ul")],
            ),
            "zrzyj": (
                "县自然资源局",
                [
                    Column("", "规划计划", [], "empty", "blank"),
                    Column("", "工作动态", [None, None], "ul", "stale", article_ages=(50, 2)),
                ],
            ),
            "sfj": (
                "县司法局",
                [Column("", "通知公告", [240, 300], "cn", "stale"), Column("", "人事信息", [200], "cn")],
            ),
        }
        towns = {
            "hsz": (
                "红石镇",
                [
                    Column("", "工作动态", [30, 33], "cn", "stale", gbk=True),
                    Column("", "通知公告", [10], "cn", gbk=True),
                ],
            ),
            "lsx": (
                "柳树乡",
                [
                    Column("", "工作动态", [], "empty", "blank", gbk=True),
                    Column("", "通知公告", [None, None], "ul", "stale", gbk=True),
                ],
            ),
            "bsz": (
                "白沙镇",
                [
                    Column("", "工作动态", [40, 44], "clock", "stale", gbk=True),
                    Column("", "便民信息", [2], "ul", gbk=True),
                ],
            ),
        }
        groups: list[tuple[str, str, str, list[Column]]] = []
        for key, (name, cols) in units.items():
            groups.append((f"/xxgk/bm/{key}/", name, "bm", cols))
        for key, (name, cols) in towns.items():
            groups.append((f"/xxgk/xz/{key}/", name, "xz", cols))
        slugs = {
            "工作动态": "gzdt",
            "通知公告": "tzgg",
            "人事信息": "rsxx",
            "政策文件": "zcwj",
            "规划计划": "ghjh",
            "便民信息": "bmxx",
        }
        for prefix, unit, _kind, cols in groups:
            for c in cols:
                c.path = f"{prefix}{slugs[c.name]}/"
            self.columns.extend(cols)
            for c in cols:
                self._serve_column(c, cols)
            menu = "".join(f'<li><a href="{c.path}">{c.name}</a></li>' for c in cols)
            intro = (
                f"<p>{unit}是东溪县人民政府工作部门，负责本行业领域的政策制定、行业管理和公共服务等工作。</p>"
            )
            landing = (
                f'<div class="left"><div class="lm-name">{unit}</div><ul class="sub">{menu}</ul></div>'
                f'<div class="right"><div class="jgzn">{intro * 2}</div></div>'
            )
            self._serve(prefix, _page(unit, landing), gbk=cols[0].gbk)
        # The 信息公开 section and its department and township lists.
        for kind, label in (("bm", "县直部门"), ("xz", "乡镇")):
            entries = "".join(f'<li><a href="{p}">{u}</a></li>' for p, u, k, _c in groups if k == kind)
            body = f'<div class="right"><h3>{label}信息公开</h3><ul class="dwlist">{entries}</ul></div>'
            self._serve(f"/xxgk/{kind}/", _page(label, body))
        xxgk = (
            '<div class="left"><ul class="xxgk-menu"><li><a href="/xxgk/bm/">县直部门</a></li>'
            '<li><a href="/xxgk/xz/">乡镇</a></li><li><a href="/xxgk/zn/">信息公开指南</a></li></ul></div>'
            '<div class="right"><p>东溪县人民政府信息公开平台。</p></div>'
        )
        self._serve("/xxgk/", _page("信息公开", xxgk))
        guide = (
            "<div class='zn'><p>"
            + "为了更好地提供政府信息公开服务，依据《中华人民共和国政府信息公开条例》编制本指南。" * 3
        )
        self._serve("/xxgk/zn/", _page("信息公开指南", guide + "</p></div>"))
        # Homepage columns (/col/col<id>/).
        top = [
            Column("/col/col102/", "县域要闻", [1, 2, 6], "hanweb"),
            Column("/col/col103/", "部门动态", [2, 4], "yearless"),
            Column("/col/col104/", "通知公告", [3, 20], "ul"),
            Column("/col/col105/", "政策文件", [150, 200], "ul"),
            Column("/col/col106/", "新闻发布会", [60, 150], "ul"),
            Column("/col/col107/", "人事信息", [30], "ul"),
            Column("/col/col108/", "规划计划", [], "empty", "blank"),
            Column("/col/col109/", "政务要闻", [25, 31], "hanweb", "stale"),
        ]
        self.columns.extend(top)
        for c in top:
            self._serve_column(c, top)
        news = _page(
            "新闻中心",
            '<div class="left"><ul class="sub">'
            + "".join(f'<li><a href="{c.path}index.html">{c.name}</a></li>' for c in top[:2])
            + "</ul></div>",
        )
        self._serve("/col/col100/index.html", news)
        self._serve(
            "/hdjl/",
            _page("互动交流", "<p>" + "欢迎您通过县长信箱、在线咨询等渠道反映问题、提出建议。" * 3 + "</p>"),
        )
        # The headline's article (a link to it is never a column).
        head_art = self._art(1, 99)
        self._serve(
            head_art,
            (
                '<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="东溪县召开冬季安全生产工作会议">'
                "<title>东溪县召开冬季安全生产工作会议</title></head><body>"
                f'<div class="info">发布时间：{self._day(1).isoformat()} 来源：县政府办</div>'
                '<div class="TRS_Editor"><p>'
                + "会议强调，要压紧压实安全生产责任，全面排查整治各类风险隐患。" * 4
                + '</p></div><ul class="xgxx"><li><a href="/col/col102/index.html">县域要闻</a></li></ul></body></html>'
            ),
        )
        d1, d2, d3 = self._day(1), self._day(2), self._day(3)
        home = (
            f'<div class="headline"><a href="{head_art}"><h2>东溪县召开冬季安全生产工作会议</h2></a></div>'
            '<div class="tabbox"><div class="tab-hd">'
            '<span class="on"><a href="/col/col102/index.html">县域要闻</a></span>'
            f'<span><a href="https://{HOST}/col/col103/index.html">部门动态</a></span></div>'
            f'<ul class="tab-bd"><li><a href="{self._art(1, 1)}">县委常委会召开会议研究部署冬季重点工作</a>'
            f"<span>{d1.month:02d}-{d1.day:02d}</span></li>"
            f'<li><a href="{self._art(2, 2)}">县教育局开展校园安全专项检查</a><span>{d2.month:02d}-{d2.day:02d}</span></li>'
            "</ul></div>"
            '<div class="blk"><a href="/col/col104/index.html" class="blk-tit"><h1>通知公告</h1></a>'
            f'<ul><li><a href="{self._art(3, 3)}">关于做好冬季森林防火工作的通告</a><span>{d3.isoformat()}</span></li></ul></div>'
            '<div class="blk"><div class="blk-hd"><span class="name">政策文件</span>'
            '<a class="more" href="/col/col105/index.html">更多&gt;&gt;</a></div></div>'
            '<div class="blk"><div class="blk-hd"><span class="name">政务要闻</span>'
            '<a class="more" href="/col/col109/index.html">更多&gt;&gt;</a></div></div>'
            '<div class="zwgk-left"><ul>'
            '<li><a href="/col/col106/index.html">新闻发布会</a></li><li><a href="/col/col107/index.html">人事信息</a></li>'
            '<li><a href="/col/col108/index.html">规划计划</a></li><li><a href="/col/col103/index.html">部门动态</a></li>'
            "</ul></div>"
            '<div class="page"><a href="/col/col102/index_1.html">下一页</a> <a href="/col/col102/index_2.html">2</a></div>'
        )
        self._serve("/", _page("首页", home))

    # ------------------------------------------------------------------------------------ running

    async def start(self) -> None:
        """Serve the site on 127.0.0.1."""
        await self.sites.start()

    async def close(self) -> None:
        """Stop serving."""
        await self.sites.close()

    def config(self, **extra: Any) -> Config:
        """A config with this site and no column registry (discovery on); call after :meth:`start`."""
        return config_from_mapping(
            {
                "sites": [
                    {"id": self.SITE_ID, "name": "东溪县人民政府", "homepage": HOME, "unit": "县政府办公室"}
                ],
                "crawl": {
                    "timeout_seconds": 3,
                    "retries": 1,
                    "retry_backoff_seconds": 0.05,
                    "confirm_delay_seconds": 0.05,
                    "analysis_workers": 0,
                    "host_overrides": self.sites.overrides(HOST),
                },
                "columns": {"discover": True, "discover_max_pages": 300, **extra},
            }
        )
