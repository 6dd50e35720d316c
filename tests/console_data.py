"""A store for the console: findings of every declared kind over 13 weeks, written through the real run
lifecycle (``Store.finish_run``) and the triage actions, so the console reads what the monitor writes.

``fill_console_store(store, total)`` spreads ``total`` findings over three sites, twenty units and every
(duty, kind) the check families declare; each week some open ones are resolved by a run that no longer
sees them, some are marked 误报, some get a 整改时限 (a few already past: 逾期) or are handed to another
unit, and availability probes and target states are recorded.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from checks.kinds import finding_kinds
from monitor.core.clock import SHANGHAI
from monitor.core.findings import Finding, Severity
from monitor.store import triage
from monitor.store.database import Probe, Resolution, Store

SITES = {
    "portal": ("示例县人民政府门户网站", "http://www.shixian.gov.cn/"),
    "jyj": ("示例县教育局网站", "http://jyj.shixian.gov.cn/"),
    "wjw": ("示例县卫生健康委员会网站", "http://wjw.shixian.gov.cn/"),
}
UNITS = (
    "县政府办公室", "县教育局", "县财政局", "县卫生健康委员会", "县交通运输局", "县公安局", "县民政局",
    "县人力资源和社会保障局", "县自然资源局", "县生态环境局", "县住房和城乡建设局", "县农业农村局",
    "县商务局", "县文化和旅游局", "县市场监督管理局", "县应急管理局", "城关镇人民政府", "河口镇人民政府",
    "石门乡人民政府", "青山镇人民政府",
)  # fmt: skip
#: The clock of the filled store: Thursday 26 November 2026, 09:30 in Shanghai (2026-W48).
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
WEEKS = 13

_MESSAGES = {
    "links": "页面链接无法访问（HTTP 404），位于“{col}”栏目",
    "columns": "“{col}”栏目超过{n}天未更新",
    "units": "“{col}”栏目超过{n}天未更新",
    "typos": "疑似错别字“{w}”，应为“{r}”",
    "sensitive": "页面出现敏感词“{w}”",
    "privacy": "页面公开了个人身份证号码（{n}处）",
    "darklinks": "页面存在隐藏链接，指向外部网站",
    "newmedia": "账号“{col}”超过{n}天未发布信息",
    "availability": "首页连续{n}次无法访问",
    "identity": "页面底部缺少网站标识码",
}
_COLUMNS = ("通知公告", "政策解读", "政务公开", "财政预决算", "人事信息", "工作动态", "政策文件", "办事指南")


def kinds_list() -> list[tuple[str, str, Severity]]:
    """Every declared (duty, kind, default severity)."""
    return [(duty, k.name, k.severity) for duty, kinds in finding_kinds().items() for k in kinds.values()]


def _finding(rng: random.Random, i: int, site: str, duty: str, kind: str, severity: Severity) -> Finding:
    home = SITES[site][1]
    col = rng.choice(_COLUMNS)
    message = _MESSAGES.get(duty, "{col}存在问题").format(col=col, n=rng.randint(3, 400), w="届时", r="届时")
    path = f"{home}{rng.choice(['zwgk', 'xwzx', 'bsfw'])}/{i // 100:03d}/t{i:06d}.html"
    return Finding(
        duty=duty,
        kind=kind,
        severity=severity,
        site=site,
        identity=path,
        url=path,
        message=message,
        unit=UNITS[i % len(UNITS)],
        sources=(f"{home}{col}/index.html", f"{home}index.html"),
        evidence={"snippet": f"……{col}栏目第{i}条：关于做好{2026 - i % 3}年度重点工作的通知……"},
    )


def fill_console_store(store: Store, total: int, *, seed: int = 23, now: datetime = NOW) -> dict[str, int]:
    """Write ``total`` findings over :data:`WEEKS` weeks ending at ``now``; returns counts by status."""
    rng = random.Random(seed)
    kinds = kinds_list()
    per_week = total // WEEKS
    opened: list[tuple[str, str, str]] = []  # (site, identity, fingerprint) still open
    i = 0
    for week in range(WEEKS):
        when = now - timedelta(weeks=WEEKS - 1 - week, hours=1)
        to_resolve = set()
        if opened:
            for _ in range(len(opened) // 12):
                to_resolve.add(opened.pop(rng.randrange(len(opened)))[1])
        count = per_week if week < WEEKS - 1 else total - i
        batch: dict[str, list[Finding]] = {s: [] for s in SITES}
        for _ in range(count):
            site = list(SITES)[i % len(SITES)]
            duty, kind, severity = kinds[i % len(kinds)]
            if severity == Severity.VETO and rng.random() < 0.9:
                severity = Severity.DEDUCTION  # veto items are rare
            f = _finding(rng, i, site, duty, kind, severity)
            batch[site].append(f)
            opened.append((site, f.identity, f.fingerprint))
            i += 1
        duties = tuple(finding_kinds())
        for site, found in batch.items():
            run = store.start_run("patrol", site, ("links",), when)
            store.finish_run(
                run,
                status="ok",
                now=when,
                findings=found,
                resolution=Resolution(duties, cleared=lambda identity, r=to_resolve: identity in r),
            )
    # Triage as an office would: 误报, deadlines (some overdue), hand-overs.
    today = now.date()
    for n, (_site, _identity, fp) in enumerate(list(opened)):
        if n % 50 == 0:
            triage.mark_false_positive(store, fp, "内网办公系统入口，公众无需访问", "office", now)
        elif n % 7 == 0:
            deadline = today + timedelta(days=(n % 30) - 10)
            _deadline(store, fp, deadline, now)
        elif n % 97 == 0:
            current = store.backend.scalar("SELECT unit FROM findings WHERE fingerprint = ?", [fp])
            target = UNITS[(UNITS.index(current) + 5) % len(UNITS)]
            triage.assign_unit(store, fp, target, "栏目由该单位维护", "office", now)
    _probes(store, now)
    _posts(store, now)
    rows = store.backend.execute("SELECT status, count(*) FROM findings GROUP BY status").fetchall()
    return {s: int(c) for s, c in rows}


def _deadline(store: Store, fp: str, deadline: date, now: datetime) -> None:
    if deadline >= now.date():
        triage.set_deadline(store, fp, deadline, "按通报要求限期整改", "office", now)
    else:  # a deadline set earlier that has now passed: set it on the day it was given
        given = datetime.combine(deadline - timedelta(days=7), now.timetz())
        triage.set_deadline(store, fp, deadline, "按通报要求限期整改", "office", given)


def _probes(store: Store, now: datetime) -> None:
    probes = []
    for site, (_name, home) in SITES.items():
        for k in range(48):
            at = now - timedelta(minutes=30 * k)
            ok = not (site == "wjw" and k < 3)
            probes.append(
                Probe(site, home, "首页", at, ok, 200 if ok else 503, 120 + k, None if ok else "http")
            )
    store.add_probes(probes)
    store.save_target_states(
        [
            {
                "site": site,
                "target": home,
                "state": "down" if site == "wjw" else "up",
                "fail_streak": 3 if site == "wjw" else 0,
                "ok_streak": 0 if site == "wjw" else 45,
                "since": (now - timedelta(minutes=90 if site == "wjw" else 60 * 24 * 3)).isoformat(),
                "first_failure_at": None,
                "last_probe_at": now.isoformat(),
            }
            for site, (_name, home) in SITES.items()
        ]
    )


#: New-media accounts: (id, name, platform, unit, days since the last post).
ACCOUNTS = (
    ("xzf-wx", "示例县发布", "wechat", "县政府办公室", 1),
    ("jyj-wx", "示例县教育", "wechat", "县教育局", 9),
    ("wjw-wb", "健康示例县", "weibo", "县卫生健康委员会", 40),
    ("cgz-dy", "魅力城关", "douyin", "城关镇人民政府", 120),
)


def _posts(store: Store, now: datetime) -> None:
    from monitor.core.posts import Post

    posts = []
    for account, name, _platform, _unit, silent in ACCOUNTS:
        for k in range(12):
            at = now - timedelta(days=silent + 3 * k, hours=2)
            posts.append(
                Post(
                    account,
                    f"{account}-{k}",
                    f"{name}：第{12 - k}期政策解读",
                    f"http://mp.example.cn/{account}/{k}",
                    at,
                )
            )
    store.save_posts(posts, now)


def console_config_mapping(database: str) -> dict[str, object]:
    """A config for the filled store: its sites and units."""
    return {
        "storage": {"database": database},
        "sites": [{"id": s, "name": n, "homepage": h, "unit": "县政府办公室"} for s, (n, h) in SITES.items()],
        "units": [{"name": u, "kind": "township" if u.endswith("人民政府") else "department"} for u in UNITS],
        "newmedia": {
            "accounts": [
                {
                    "id": a,
                    "name": n,
                    "platform": p,
                    "unit": u,
                    "source": {"type": "feed", "url": f"http://rss.example.cn/{a}"},
                }
                for a, n, p, u, _ in ACCOUNTS
            ]
        },
    }
