"""A store with a finding of every declared kind, of every duty, a census with every column type and
platform (the column audit and the unit inspection both recording the same columns, one account whose
feed could not be read), and long URLs: what the document tests render and scan.

Messages are Chinese like the checks' own: any lowercase ASCII word the rendered documents show outside
a URL is then the bulletin's own wording leaking an identifier.
"""

from __future__ import annotations

from datetime import datetime

from checks.columns.rules import TYPE_LABELS
from checks.kinds import finding_kinds
from checks.newmedia.rules import PLATFORM_LABELS
from monitor.config import Config
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding
from monitor.core.isoweek import IsoWeek
from monitor.store.database import Resolution, Store
from tests.bulletin_data import PORTAL, bulletin_config

W48 = IsoWeek(2026, 48)
ISSUE_NUMBER = "示政网监〔{year}〕{seq}号"
UNITS = ("县教育局", "县财政局", "县卫生健康委员会", "城关镇人民政府")
#: A long address as CMSs write them: deep paths and a query string.
LONG_URL = (
    PORTAL + "module/download/downfile.jsp?classid=0&filename=2611241030123456789012345.pdf"
    "&showname=%E5%85%B3%E4%BA%8E%E5%8D%B0%E5%8F%91%E7%A4%BA%E4%BE%8B%E5%8E%BF.pdf&siteid=1&colid=26"
)
UNREADABLE_REASON = "订阅源返回HTTP 503"


def full_config(**bulletin: object) -> Config:
    """The test county with a 文号 template."""
    return bulletin_config(issue_number=ISSUE_NUMBER, **bulletin)


def identifiers() -> set[str]:
    """Every internal name a reader must never see: duties, kinds, column types, platforms, the site id."""
    names = {"portal", "newmedia", *TYPE_LABELS, *PLATFORM_LABELS}
    for duty, kinds in finding_kinds().items():
        names |= {duty, *kinds}
    return names


def fill_every_kind(store: Store, *, per_kind: int = 1) -> FixedClock:
    """``per_kind`` open findings of every declared kind; returns a clock just after 2026-W48."""
    clock = FixedClock(datetime(2026, 11, 24, 10, 0), SHANGHAI)
    for duty, kinds in finding_kinds().items():
        findings = [
            Finding(
                duty=duty,
                kind=name,
                severity=kind.severity,
                # A check that runs once per config (new media) records its duty as the site.
                site="newmedia" if duty == "newmedia" else "portal",
                identity=f"{duty}-{name}-{n}",
                url=LONG_URL + f"&n={i}{n}" if i % 3 == 0 else f"{PORTAL}zwgk/bm/jyj/{duty}/{i}/{n}.html",
                message=f"示例问题{i}之{n}：页面“关于进一步加强政府网站与政务新媒体内容保障工作的通知”存在{kind.label}",
                unit=UNITS[(i + n) % len(UNITS)],
                sources=(f"{PORTAL}zwgk/bm/jyj/index.html",),
            )
            for i, (name, kind) in enumerate(kinds.items())
            for n in range(per_kind)
        ]
        counts: dict[str, object] = {"pages_crawled": 130, "links_checked": 900}
        if duty in ("columns", "units"):
            # Both duties record the same columns: the census lists each once.
            counts["census"] = {
                "columns": [
                    {
                        "name": f"栏目{i}",
                        "unit": UNITS[i % len(UNITS)],
                        "type": t,
                        "last_update": "2026-11-20",
                        "items_week": 1,
                        "items_month": 3,
                        "url": f"{PORTAL}zwgk/lm{i}/",
                    }
                    for i, t in enumerate(TYPE_LABELS)
                ]
            }
        if duty == "newmedia":
            accounts: list[dict[str, object]] = [
                {
                    "name": f"示例县账号{i}",
                    "platform": p,
                    "unit": UNITS[i % len(UNITS)],
                    "verdict": "fresh",
                    "last_post": "2026-11-20",
                    "posts_week": 1,
                    "posts_month": 4,
                }
                for i, p in enumerate(PLATFORM_LABELS)
            ]
            accounts.append(
                {
                    "name": "示例县读不到的账号",
                    "platform": "wechat",
                    "unit": UNITS[0],
                    "verdict": "unknown",
                    "reason": UNREADABLE_REASON,
                    "last_post": None,
                    "posts_week": 0,  # as the check records it: no post was read
                    "posts_month": 0,
                }
            )
            counts["census"] = {"accounts": accounts}
        run_id = store.start_run(duty, "portal", [duty], clock.now())
        store.finish_run(
            run_id,
            status="ok",
            now=clock.now(),
            findings=findings,
            counts=counts,
            resolution=Resolution((duty,)),
        )
    return FixedClock(datetime(2026, 11, 30, 0, 10), SHANGHAI)
