"""Site identity items: present, missing, and decoys that must not count as present."""

from __future__ import annotations

import pytest

from checks.identity.check import ITEMS, inspect_identity
from monitor.config import config_from_mapping
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.sites import LocalSites, fast_config

COMPLETE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例县人民政府</title>
<meta name="SiteIDCode" content="bm14000002"></head><body>
<div class="footer">
<a href="https://zfwzzc.www.gov.cn/check_web/errorInfo_querySiteId.action?siteId=bm14000002">
<img src="/images/zhaocuo.png" alt="政府网站找错"></a>
<p>网站标识码：bm14000002 豫ICP备12345678号 <img src="/images/ga.png" alt="">豫公网安备 41052302000123号</p>
<script type="text/javascript">document.write(unescape("%3Cspan id='_ideConac' %3E%3C/span%3E%3Cscript
 src='https://dcs.conac.cn/js/17/000/0000/60429971/CA170000000604299710002.js'
 type='text/javascript'%3E%3C/script%3E"));
</script>
</div></body></html>"""

DECOYS = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>示例县</title>
<meta name="SiteIDCode" content="待定">
<script>var code = "网站标识码：4199000001"; var icp = "豫ICP备12345678号";</script></head><body>
<!-- 网站标识码：4199000001 豫公网安备 41052302000123号 -->
<p>文件编号 2026110301，联系电话 0391-7212345，网站标识码：419900001（9位），标识码 41990000012（11位）</p>
<p><a href="https://beian.example/">ICP备案查询</a> 豫公网安备 4105230200012号（13位）</p>
<p>欢迎通过“我为政府网站找错”平台反映问题。</p>
<img src="/images/djyl.png" alt="党建引领">
<div style="display:none" hidden><template><p>豫ICP备99999999号</p></template></div>
</body></html>"""


def test_every_item_present_in_common_real_forms() -> None:
    report = inspect_identity(COMPLETE, "http://www.shixian.gov.cn/", (".gov.cn",))
    assert report.missing == []
    assert report.found["code"] == "bm14000002" and report.found["meta"] == "bm14000002"
    assert report.found["icp"] == "豫ICP备12345678号"
    assert report.found["dzjg"] == "<script conac.cn>"  # the official logo is written by conac's script


def test_decoys_do_not_count_as_present() -> None:
    report = inspect_identity(DECOYS, "http://www.shixian-zwfw.com/", (".gov.cn",))
    assert report.missing == list(ITEMS)


@pytest.mark.parametrize(
    ("snippet", "item"),
    [
        ('<img src="/images/dzjg.png" alt="">', "dzjg"),
        ('<img src="/i/red.png" alt="党政机关">', "dzjg"),
        ('<a href="http://bszs.conac.cn/sitename?method=show&id=1"><img src="/i/x.png"></a>', "dzjg"),
        ('<a href="/zc.html"><img src="/i/zc.png" alt="我为政府网站找错"></a>', "zhaocuo"),
        ('<a href="/zc.html">我为 政府网站找错</a>', "zhaocuo"),
        ("<p>网站标识码 1304000009</p>", "code"),
        ("<p>标识码：1304000009</p>", "code"),
        ("<p>京ICP备05070218号-1</p>", "icp"),
        ("<p>豫公网安备41052302000123号</p>", "police"),
    ],
)
def test_single_item_forms(snippet: str, item: str) -> None:
    report = inspect_identity(f"<html><body>{snippet}</body></html>", "http://a.gov.cn/", (".gov.cn",))
    assert report.found[item] is not None
    assert item not in report.missing


@pytest.mark.parametrize(
    ("url", "present"),
    [
        ("http://www.shixian.gov.cn/", True),
        ("http://WWW.SHIXIAN.GOV.CN./", True),
        ("http://www.shixian-gov.cn/", False),
        ("http://gov.cn.example.com/", False),
    ],
)
def test_domain_rule(url: str, present: bool) -> None:
    assert (inspect_identity("<html></html>", url, (".gov.cn",)).found["domain"] is not None) is present


async def test_identity_duty_findings_and_wrong_code(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    body = COMPLETE.replace("bm14000002", "4199000009").replace("豫ICP备12345678号", "ICP备案中")
    sites.html("www.test.gov.cn", "/", body)
    base = fast_config(sites, ["www.test.gov.cn"], "http://www.test.gov.cn/")
    config = config_from_mapping(
        {**base.model_dump(exclude={"base_dir"}), "identity": {"site_codes": {"test": "4199000001"}}}
    )
    (result,) = await run_duty("identity", config, store, clock)
    kinds = sorted(f.kind for f in result.findings)
    assert kinds == ["site_identity_code_wrong", "site_identity_icp", "site_identity_meta_wrong"]
    icp = next(f for f in result.findings if f.kind == "site_identity_icp")
    assert icp.severity.value == "deduction" and "《政府网站发展指引》" in icp.message
    assert icp.unit == "县政府办公室"
    # Fixed page: the next complete run resolves them.
    sites.html("www.test.gov.cn", "/", COMPLETE.replace("bm14000002", "4199000001"))
    (again,) = await run_duty("identity", config, store, clock)
    assert again.findings == [] and store.count_open("test") == 0


async def test_unreachable_homepage_resolves_nothing(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    sites.html("www.test.gov.cn", "/", "<html><body>首页</body></html>")
    config = fast_config(sites, ["www.test.gov.cn"], "http://www.test.gov.cn/")
    (first,) = await run_duty("identity", config, store, clock)
    assert len(first.findings) == len(ITEMS) - 1  # everything but the .gov.cn domain
    sites.status("www.test.gov.cn", "/", 404)
    (down,) = await run_duty("identity", config, store, clock)
    assert down.status == "failed" and store.count_open("test") == len(ITEMS) - 1
