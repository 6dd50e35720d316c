"""Tenants (issue 24): one bulletin per city or county from its own rows only, and a province summary.

Real parts: three tenants' sites on a loopback aiohttp server, real ``patrol`` and ``newmedia`` runs into a
real SQLite file (tests/tenants_data.py), ``monitor report weekly --all-tenants --send`` through the real
command line, and a real aiosmtpd server receiving each tenant's mail at its own recipients.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from monitor.app.cli import main
from monitor.bulletin import weekly_job
from monitor.bulletin.province import TenantFigures, rank_tenants
from monitor.config import Config, ConfigError, config_from_mapping, load_config
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.store.database import Store
from tests.bulletin_full import identifiers
from tests.sites import LocalSites
from tests.tenants_data import (
    HOSTILE,
    OWN,
    PROVINCE_RECIPIENTS,
    RECIPIENTS,
    REPORT_NOW,
    RLO,
    build_province,
    config_mapping,
)
from tests.test_bulletin_document import docx_text, html_text, leaked_words, xlsx_text
from tests.test_bulletin_mail import Inbox, free_port

REPO = Path(__file__).resolve().parents[1]
ENV = {"MONITOR_NOW": REPORT_NOW, "MONITOR_DB": ""}
TENANTS = ("jia", "yi", "bing")


@dataclass
class Province:
    """The province after its duties ran and ``report weekly --all-tenants --send`` went out."""

    folder: Path
    config_path: Path
    config: Config
    inbox: Inbox
    controller: Controller
    output: str

    @property
    def reports(self) -> Path:
        return self.folder / "reports"

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args], env=ENV)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("province")
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        path, config = build_province(folder, port)
        result = CliRunner().invoke(
            main,
            ["--config", str(path), "report", "weekly", "--week", "2026-W48", "--all-tenants", "--send"],
            env=ENV,
        )
        assert result.exit_code == 0, result.output
        yield Province(folder, path, config, inbox, controller, result.output)
    finally:
        controller.stop()


def others(tenant: str) -> list[str]:
    """What belongs to the other tenants and must never appear in ``tenant``'s documents."""
    return [word for t, words in OWN.items() if t != tenant for word in words]


def mail_text(msg: EmailMessage) -> str:
    """Every text part of a message, decoded, and the text of its attachments."""
    out = [str(msg["Subject"]), str(msg["To"])]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            out.append(part.get_content())
        elif part.get_filename():
            out.append(part.get_filename() or "")
    return "\n".join(out)


def messages(inbox: Inbox) -> list[tuple[list[str], EmailMessage]]:
    return [
        (rcpts, message_from_bytes(raw, policy=policy.default))  # type: ignore[misc]
        for _, rcpts, raw in inbox.messages
    ]


# -- configuration ---------------------------------------------------------------------------------------
def base(**changes: Any) -> dict[str, Any]:
    """A small valid tenants config (no servers needed to validate it)."""
    data: dict[str, Any] = {
        "sites": [
            {"id": "a", "name": "甲县网", "homepage": "http://a.gov.cn/"},
            {"id": "b", "name": "乙县网", "homepage": "http://b.gov.cn/", "tenant": "yi"},
        ],
        "units": [
            {"name": "县教育局", "site": "a", "paths": ["/jyj/"]},
            {"name": "县教育局", "site": "b", "paths": ["/jyj/"]},
        ],
        "tenants": [
            {"id": "jia", "name": "甲县", "sites": ["a"], "bulletin": {"recipients": ["a@a.gov.cn"]}},
            {
                "id": "yi",
                "name": "乙县",
                "bulletin": {"recipients": ["b@b.gov.cn"], "issuer": "乙县政务公开办"},
            },
        ],
    }
    data.update(changes)
    return data


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        config_from_mapping(data)
    return exc.value.problems


def test_tenants_validate_every_site_unit_and_account_in_exactly_one_tenant() -> None:
    config = config_from_mapping(base())
    jia, yi = config.for_tenant("jia"), config.for_tenant("yi")
    assert [s.id for s in jia.sites] == ["a"] and [s.id for s in yi.sites] == ["b"]
    assert [u.site for u in jia.units] == ["a"] and [u.site for u in yi.units] == ["b"]
    # Defaults are the tenant's own, never the top-level county's; reports go to reports/<tenant>/.
    assert jia.bulletin.issuer == "甲县人民政府办公室" and yi.bulletin.issuer == "乙县政务公开办"
    assert jia.bulletin.recipients == ("a@a.gov.cn",)
    assert jia.reports_path.name == "jia" and yi.reports_path.name == "yi"

    sites = base()["sites"]
    orphan = [*sites, {"id": "c", "name": "丙网", "homepage": "http://c.gov.cn/"}]
    assert problems(base(sites=orphan))[0][0] == "sites[2]"
    twice = [sites[0], {**sites[1], "tenant": "yi"}]
    tenants = base()["tenants"]
    both = [tenants[0], {**tenants[1], "sites": ["a"]}]
    assert problems(base(sites=twice, tenants=both)) == [
        ("tenants[1].sites[0]", "site 'a' is already in tenant 'jia'")
    ]
    assert problems(base(sites=[sites[0], {**sites[1], "tenant": "nope"}]))[0][0] == "sites[1].tenant"
    units = base()["units"]
    dup = [*units, {"name": "县教育局", "site": "a", "paths": ["/x/"]}]
    assert problems(base(units=dup))[0] == (
        "units[2].name",
        "tenant 'jia' already has a unit named '县教育局'",
    )
    wrong = [{"name": "县财政局", "site": "a", "tenant": "yi"}]
    assert problems(base(units=wrong))[0][0] == "units[0].site"
    assert problems(base(units=[{"name": "县财政局"}]))[0][0] == "units[0]"
    account = {
        "id": "wx",
        "platform": "wechat",
        "name": "某号",
        "unit": "县委宣传部",
        "source": {"type": "feed", "url": "http://rss.gov.cn/x.xml"},
    }
    assert problems(base(newmedia={"accounts": [account]}))[0][0] == "newmedia.accounts[0]"
    # An account whose unit is a unit of two tenants is ambiguous; one naming its tenant is not.
    assert (
        problems(base(newmedia={"accounts": [{**account, "unit": "县教育局"}]}))[0][0]
        == "newmedia.accounts[0]"
    )
    ok = config_from_mapping(base(newmedia={"accounts": [{**account, "tenant": "yi"}]}))
    assert ok.tenant_account_ids("yi") == ("wx",) and ok.tenant_account_ids("jia") == ()

    assert problems(base(bulletin={"recipients": ["all@gov.cn"]}))[0][0] == "bulletin.recipients"
    smtp = [{**tenants[0], "bulletin": {"smtp": {"host": "x"}}}, tenants[1]]
    assert problems(base(tenants=smtp))[0][0] == "tenants[0].bulletin.smtp"
    assert problems(base(tenants=[{**tenants[0], "id": "province"}, tenants[1]]))[0][0] == "tenants[0].id"
    assert problems(base(tenants=[tenants[0], {**tenants[1], "id": "jia"}]))[0][0] == "tenants[1].id"
    bad_mail = [{**tenants[0], "bulletin": {"recipients": ["not an address"]}}, tenants[1]]
    assert problems(base(tenants=bad_mail))[0][0] == "tenants[0].bulletin.recipients[0]"
    no_tenants = {"sites": sites[:1], "province": {"name": "示例省"}}
    assert problems(no_tenants)[0][0] == "province"


def test_without_tenants_the_shipped_county_is_unchanged() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.tenants == () and config.province is None
    assert config.bulletin.recipients == ("zwgk@shixian.gov.cn",)
    assert config.units_of("portal") == tuple(u for u in config.units if u.site in (None, "portal"))


# -- the province on loopback ----------------------------------------------------------------------------
def tenant_documents(folder: Path) -> dict[str, str]:
    return {
        "bulletin.html": html_text((folder / "bulletin.html").read_text(encoding="utf-8")),
        "bulletin.txt": (folder / "bulletin.txt").read_text(encoding="utf-8"),
        "xlsx": xlsx_text(folder / "2026-W48问题清单.xlsx"),
        "docx": docx_text(folder / "2026-W48监测通报.docx"),
        "eml": mail_text(message_from_bytes((folder / "bulletin.eml").read_bytes(), policy=policy.default)),  # type: ignore[arg-type]
    }


def test_each_tenant_bulletin_shows_only_its_own_sites_units_and_accounts(province: Province) -> None:
    for tenant in TENANTS:
        folder = province.reports / tenant / "2026-W48"
        for fmt, text in tenant_documents(folder).items():
            for own in OWN[tenant][:1]:
                assert own in text, (tenant, fmt, own)
            leaked = [w for w in others(tenant) if w in text]
            assert not leaked, f"{tenant} {fmt} shows another tenant's {leaked}"
    # No tenant's file overwrote another's; the single-county folder was never written.
    assert not (province.reports / "2026-W48").exists()
    jia = (province.reports / "jia" / "2026-W48" / "bulletin.txt").read_text(encoding="utf-8")
    bing = (province.reports / "bing" / "2026-W48" / "bulletin.txt").read_text(encoding="utf-8")
    assert "甲政网监〔2026〕48号" in jia and "为进一步加强全县" in jia and "涉及县直部门和乡镇2个单位" in jia
    # The city's bulletin speaks of the city, and counts only its own two sites and account.
    assert (
        "为进一步加强全市" in bing
        and "本周监测网站2个" in bing
        and "涉及市直部门和县（市、区）2个单位" in bing
    )
    assert "检查新媒体账号1个" in bing and "丙市教育发布" in bing and "联系人：丙市政务公开科" in bing
    yi = (province.reports / "yi" / "2026-W48" / "bulletin.txt").read_text(encoding="utf-8")
    assert "乙县政务公开办关于2026年第48周" in yi and "本周已整改1个" in yi


def test_each_tenant_mail_reaches_its_own_recipients_and_the_summary_the_province(province: Province) -> None:
    got = messages(province.inbox)
    by_rcpt = {tuple(sorted(r)): m for r, m in got}
    assert len(got) == 4, [r for r, _ in got]
    assert set(by_rcpt) == {tuple(sorted(v)) for v in [*RECIPIENTS.values(), PROVINCE_RECIPIENTS]}
    for tenant in TENANTS:
        msg = by_rcpt[tuple(sorted(RECIPIENTS[tenant]))]
        text = mail_text(msg)
        assert OWN[tenant][0] in text
        assert not [w for w in others(tenant) if w in text], tenant
        assert str(msg["X-Monitor-Key"]).startswith(f"{tenant}-2026-W48-")
    summary = by_rcpt[tuple(PROVINCE_RECIPIENTS)]
    assert str(summary["Subject"]).startswith("示例省人民政府办公厅政务公开办公室关于2026年第48周各地")
    assert [p.get_filename() for p in summary.iter_attachments()] == [
        "2026-W48各地监测汇总.xlsx",
        "2026-W48各地监测通报.docx",
    ]
    # A second --send, and the daemon's report duty, send nothing again (one message per key).
    again = province.cli("report", "weekly", "--week", "2026-W48", "--all-tenants", "--send")
    assert again.exit_code == 0, again.output
    store = Store(province.config.database_path)
    try:
        counts = asyncio.run(weekly_job(province.config, store, report_clock()))
    finally:
        store.close()
    assert {t: counts["tenants"][t]["mail"] for t in TENANTS} == dict.fromkeys(TENANTS, "sent")
    assert counts["province"]["mail"] == "sent"
    assert len(province.inbox.messages) == 4


def report_clock() -> FixedClock:
    """The clock of the Monday after 2026-W48, as MONITOR_NOW pins the command line's."""
    return FixedClock(datetime.fromisoformat(REPORT_NOW).replace(tzinfo=None), SHANGHAI)


def test_province_summary_ranks_by_veto_then_problems_per_site(province: Province) -> None:
    folder = province.reports / "province" / "2026-W48"
    text = (folder / "summary.txt").read_text(encoding="utf-8")
    ranking = re.findall(r"第(\d)名　(\S+?)：", text)
    # 乙县: no 单项否决; 甲县 and 丙市 one each, 甲县 with fewer problems per site (1 vs 5 on 2 sites).
    assert ranking == [("1", "乙县"), ("2", "甲县"), ("3", "丙市")]
    assert "乙县：监测网站1个" in text and "整改率50.0%" in text
    assert "丙市：监测网站2个，无法访问网站1个（本周1个）" in text
    assert "待整改问题5个（平均每个网站2.5个）" in text
    assert "乙县：监测网站1个，无法访问网站0个（本周0个）" in text
    assert "本周出现无法访问的网站1个（截至通报时仍无法访问1个）" in text
    assert "政务新媒体1个，不更新1个" in text
    assert "排名规则：先比待整改单项否决问题数" in text
    assert "不合格网站和政务新媒体2个，分别为：甲县：甲县人民政府门户网站；丙市：丙市教育发布" in text
    page = html_text((folder / "summary.html").read_text(encoding="utf-8"))
    assert page.index("乙县") < page.index("甲县（1个）")
    book = xlsx_text(folder / "2026-W48各地监测汇总.xlsx")
    assert "各地排名" not in book  # sheet names are not cell values; the header is
    assert "单项否决问题" in book and "整改率" in book and "丙市" in book
    assert "[province]" in province.output and "第1名 乙县" in province.output
    word = docx_text(folder / "2026-W48各地监测通报.docx")
    assert "示政公开〔2026〕48号" in word and "二、各地监测情况排名" in word
    assert [line for line in word.splitlines() if line in ("乙县", "甲县", "丙市")] == [
        "乙县",
        "甲县",
        "丙市",
    ]


def test_documents_show_no_internal_identifier_and_untrusted_text_stays_inert(province: Province) -> None:
    names = identifiers() | set(TENANTS) | {"province", "jia-portal", "yi-portal", "bing-portal", "bing-jyj"}
    folder = province.reports / "province" / "2026-W48"
    raw_html = (folder / "summary.html").read_text(encoding="utf-8")
    docs = {
        "summary.html": html_text(raw_html),
        "summary.txt": (folder / "summary.txt").read_text(encoding="utf-8"),
        "summary.xlsx": xlsx_text(folder / "2026-W48各地监测汇总.xlsx"),
        "summary.docx": docx_text(folder / "2026-W48各地监测通报.docx"),
        **{
            f"jia {k}": v
            for k, v in tenant_documents(province.reports / "jia" / "2026-W48").items()
            if k != "eml"
        },
    }
    for name, text in docs.items():
        assert not leaked_words(text.replace(HOSTILE, ""), names), (name, leaked_words(text, names))
        assert RLO not in text, name
    # The hostile page title shows as text, never as markup.
    assert "<script>" not in raw_html and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw_html
    assert HOSTILE in docs["summary.html"]


def test_report_weekly_tenant_options(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = province.cli(
        "report", "weekly", "--week", "2026-W48", "--tenant", "yi", "--output-dir", str(out)
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["yi"]
    assert "[province]" not in result.output
    check = province.cli("check-config")
    assert check.exit_code == 0, check.output
    assert "tenant bing: 丙市, 2 site(s), 2 unit(s), 1 account(s), bulletin to 1 recipient(s)" in check.output
    assert "province:  示例省, summary to 1 recipient(s)" in check.output
    for args, message in [
        (["--tenant", "nope"], "no tenant 'nope'; tenants: jia, yi, bing"),
        ([], "give --tenant ID or --all-tenants"),
        (["--tenant", "yi", "--all-tenants"], "not both"),
    ]:
        bad = province.cli("report", "weekly", "--week", "2026-W48", *args)
        assert bad.exit_code == 2 and message in bad.output, bad.output
    # A week in which none of a tenant's duties ran is not sent without --force.
    empty = province.cli("report", "weekly", "--week", "2026-W45", "--tenant", "jia", "--send")
    assert empty.exit_code == 2 and "not sending tenant jia's bulletin" in empty.output


def test_a_county_without_tenants_refuses_tenant_options(tmp_path: Path) -> None:
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(tmp_path / "config.yaml"),
            "--db",
            str(tmp_path / "m.db"),
            "report",
            "weekly",
            "--tenant",
            "x",
        ],
        env=ENV,
    )
    assert result.exit_code == 2 and "has no tenants" in result.output, result.output


def test_config_mapping_is_a_valid_province() -> None:
    mapping = config_mapping(LocalSites(port=1), 25, Path("/tmp/reports"))
    config = config_from_mapping(mapping)
    assert [t.id for t in config.tenants] == list(TENANTS)
    assert config.tenant_account_ids("bing") == ("wx-bing",)  # by its unit 市教育局
    assert [u.name for u in config.tenant_units("bing")] == ["市教育局", "东城区人民政府"]
    # A unit without a site belongs to its own tenant's sites only.
    assert "东城区人民政府" not in [u.name for u in config.units_of("jia-portal")]
    assert "东城区人民政府" in [u.name for u in config.units_of("bing-portal")]


def figures(
    name: str,
    *,
    veto: int = 0,
    open_: int = 0,
    sites: int = 1,
    carried: int = 0,
    fixed: int = 0,
    overdue: int = 0,
    has_data: bool = True,
) -> TenantFigures:
    return TenantFigures(
        tenant=name,
        name=name,
        level_zh="县",
        sites=sites,
        accounts=0,
        sites_down_now=0,
        sites_down_week=0,
        sites_failing=0,
        accounts_failing=0,
        veto=veto,
        deduction=0,
        open=open_,
        overdue=overdue,
        new=0,
        fixed=fixed,
        carried=carried,
        carried_fixed=fixed,
        has_data=has_data,
    )


def test_ranking_rule_ties_and_tenants_without_data() -> None:
    rows = rank_tenants(
        [
            figures("无数据", has_data=False),  # no run: never first with "no problems"
            figures("否决", veto=1),
            figures("多问题", open_=6, sites=2),  # 3 per site
            figures("少问题", open_=2, sites=2),  # 1 per site, 整改率 25%
            figures("整改好", open_=1, sites=1, carried=4, fixed=3),  # 1 per site, 整改率 75%
            figures("并列甲", open_=4, sites=2, carried=2, fixed=1, overdue=1),  # 2 per site, 50%
            figures("并列乙", open_=2, sites=1, carried=4, fixed=2, overdue=1),  # the same figures
        ]
    )
    # 少问题 has no carried problem: its 整改率 counts as 100%, ahead of 整改好's 75%.
    assert [(r.rank, r.name) for r in rows] == [
        (1, "少问题"),
        (2, "整改好"),
        (3, "并列甲"),
        (3, "并列乙"),
        (5, "多问题"),
        (6, "否决"),
        (None, "无数据"),
    ]
    assert rows[0].rate_zh == "—（无遗留问题）" and rows[1].rate_zh == "75.0%"


def test_province_summary_fits_a_narrow_screen_in_chromium(province: Province) -> None:
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian chromium is installed by .ci/run")
    from playwright.sync_api import sync_playwright

    page_path = province.reports / "province" / "2026-W48" / "summary.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 700, "height": 900})
            page.goto(page_path.as_uri())
            seen = page.evaluate(
                "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth, "
                "right: Math.max(...[...document.querySelectorAll('table.grid')]"
                ".map(t => t.getBoundingClientRect().right))})"
            )
        finally:
            browser.close()
    assert seen["scroll"] <= seen["inner"] and seen["right"] <= seen["inner"], seen


def test_prune_removes_old_week_folders_of_every_tenant_and_the_province(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    for folder in ("jia/2026-W10", "yi/2026-W10", "yi/2026-W48", "province/2026-W10", "jia/notes"):
        (reports / folder).mkdir(parents=True)
        (reports / folder / "bulletin.html").write_text("x", encoding="utf-8")
    config = tmp_path / "config.yaml"
    data = base(bulletin={"reports_dir": str(reports)})
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    Store(tmp_path / "m.db").close()
    result = CliRunner().invoke(
        main,
        ["--config", str(config), "--db", str(tmp_path / "m.db"), "prune", "--older-than", "180d"],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    assert "removed 3 report folder(s)" in result.output
    left = sorted(str(p.relative_to(reports)) for p in reports.glob("*/*"))
    assert left == ["jia/notes", "yi/2026-W48"]


def test_one_tenant_unwritable_folder_does_not_stop_the_others(province: Province, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "jia").write_text("a file where 甲县's folder should be", encoding="utf-8")
    bulletin = province.config.bulletin.model_copy(update={"reports_dir": str(reports)})
    config = province.config.model_copy(update={"bulletin": bulletin})
    before = len(province.inbox.messages)
    store = Store(config.database_path)
    try:
        with pytest.raises(RuntimeError, match="tenant\\(s\\) jia could not be written"):
            asyncio.run(weekly_job(config, store, report_clock()))
    finally:
        store.close()
    assert (reports / "yi" / "2026-W48" / "bulletin.html").is_file()
    assert (reports / "bing" / "2026-W48" / "bulletin.html").is_file()
    assert (reports / "province" / "2026-W48" / "summary.html").is_file()
    assert len(province.inbox.messages) == before  # already sent this week: nothing twice


def test_a_tenant_without_accounts_has_no_new_media_run_and_a_tenant_without_data_is_not_ranked(
    province: Province,
) -> None:
    from monitor.bulletin.province import build_summary
    from monitor.bulletin.province_publish import render_summary_html, render_summary_text
    from monitor.bulletin.scope import TenantScope
    from monitor.core.isoweek import IsoWeek
    from monitor.core.report import RunReport

    whole = {"site": "newmedia", "duty": "newmedia", "status": "ok", "report": RunReport()}
    none = TenantScope("ding", "丁县", "county", frozenset({"d"}), frozenset(), frozenset({"a"}))
    assert none.runs([whole, {**whole, "site": "a"}, {**whole, "site": "d"}]) == [{**whole, "site": "d"}]
    with Store(province.config.database_path) as store:
        summary = build_summary(store, province.config, IsoWeek(2026, 48), report_clock())
    summary.rows = rank_tenants([*summary.rows, figures("丁县", has_data=False)])
    page = html_text(render_summary_html(summary))
    text = render_summary_text(summary)
    for doc in (page, text):
        assert "丁县本周无监测数据（监测任务未成功运行），未参与排名" in doc
    assert re.findall(r"(第\d名|未排名)　(\S+?)：", text)[-1] == ("未排名", "丁县（本周无监测数据）")
