"""New-media verdicts: exact boundaries, pinned posts, zombie, lifecycle, quality, stored posts, config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.config import ConfigError, Crawl, load_config
from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from monitor.web.fetch import Fetcher
from tests.newmedia_fixtures import HOST, NOW, ago, feed_account, nm_config, rfc822, rss
from tests.sites import LocalSites


def json_account(aid: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "platform": "weibo",
        "name": f"账号{aid}",
        "source": {"type": "json", "url": f"http://{HOST}{path}"},
        **extra,
    }


def serve_days(sites: LocalSites, path: str, *days: float) -> None:
    items = [
        {
            "id": f"{path}-{d}",
            "title": f"信息{d}",
            "url": f"http://x/{d}",
            "date_published": ago(d).isoformat(),
        }
        for d in days
    ]
    sites.html(HOST, path, json.dumps({"items": items}, ensure_ascii=False), content_type="application/json")


async def run(
    sites: LocalSites,
    store: Store,
    accounts: list[dict[str, Any]],
    clock: FixedClock | None = None,
    **nm: Any,
) -> Any:
    (result,) = await run_duty("newmedia", nm_config(sites, accounts, **nm), store, clock or FixedClock(NOW))
    return result


def verdicts(result: Any) -> dict[str, tuple[str, int | None]]:
    return {r["id"]: (r["verdict"], r["days_since"]) for r in result.counts["accounts"]}


async def test_exact_boundaries_per_account_thresholds_and_zombie(sites: LocalSites, store: Store) -> None:
    for d in (0, 10, 13, 14, 15, 90, 91):
        serve_days(sites, f"/d{d}", d, d + 30)
    accounts = [json_account(f"d{d}", f"/d{d}") for d in (0, 10, 13, 14, 15, 90, 91)]
    accounts.append(json_account("strict", "/d10", threshold_days=7))
    result = await run(sites, store, accounts)
    assert verdicts(result) == {
        "d0": ("fresh", 0),
        "d10": ("fresh", 10),
        "d13": ("fresh", 13),
        "d14": ("fresh", 14),
        "d15": ("stale", 15),
        "d90": ("stale", 90),
        "d91": ("zombie", 91),
        "strict": ("stale", 10),
    }
    by = {(f.kind, f.identity): f for f in result.findings}
    assert set(by) == {("stale", "d15"), ("stale", "d90"), ("zombie", "d91"), ("stale", "strict")}
    assert by[("stale", "strict")].message.endswith("已10天未更新（要求7天内）")
    assert by[("zombie", "d91")].message == (
        "账号d91（微博）最近一次发布为2026年8月27日，已91天未更新，超过90天，属于“僵尸”账号，建议按规定关停注销或整合"
    )
    m1 = {i["subject"]: i for i in result.counts["indicators"]}
    assert {k: m1[k]["verdict"] for k in ("d0", "d10", "d14", "d15", "d91")} == {
        "d0": "pass",
        "d10": "warn",
        "d14": "warn",
        "d15": "fail",
        "d91": "fail",
    }
    assert m1["d15"]["indicator"] == "M1" and m1["d15"]["subject_name"] == "账号d15（微博）"
    assert m1["d15"]["figure"] == "最近发布2026年11月11日，15天未更新" and m1["d15"]["value"] == 15.0


async def test_pinned_posts_are_excluded_before_taking_the_newest(sites: LocalSites, store: Store) -> None:
    # A pinned post re-dated two days ago must not hide 20 days of silence…
    sites.html(
        HOST,
        "/pin-new.xml",
        rss(
            [
                {"title": "【置顶】县长信箱使用指南", "date": rfc822(ago(2))},
                {"title": "防汛工作会议", "date": rfc822(ago(20))},
            ]
        ),
    )
    # …and an old pinned post on top must not make an active account look stale.
    sites.html(
        HOST,
        "/pin-old.xml",
        rss(
            [
                {"title": "置顶 关于本账号", "date": rfc822(ago(200))},
                {"title": "今日要闻", "date": rfc822(ago(1))},
            ]
        ),
    )
    sites.html(
        HOST, "/pin-only.xml", rss([{"title": "关于本账号", "date": rfc822(ago(2)), "categories": ["置顶"]}])
    )
    result = await run(
        sites,
        store,
        [
            feed_account("new", "/pin-new.xml"),
            feed_account("old", "/pin-old.xml"),
            feed_account("only", "/pin-only.xml"),
        ],
    )
    assert verdicts(result) == {"new": ("stale", 20), "old": ("fresh", 1), "only": ("unknown", None)}
    assert result.counts["accounts"][2]["reason"] == "仅有置顶信息，无法判断"


async def test_future_dates_are_ignored(sites: LocalSites, store: Store) -> None:
    serve_days(sites, "/future", -30, 20)
    result = await run(sites, store, [json_account("f", "/future")])
    assert verdicts(result) == {"f": ("stale", 20)}


async def test_lifecycle_stale_resolves_when_the_account_posts_again(sites: LocalSites, store: Store) -> None:
    clock = FixedClock(NOW)
    serve_days(sites, "/a", 20)
    first = await run(sites, store, [json_account("a", "/a")], clock)
    assert [f.kind for f in first.findings] == ["stale"]
    stale_fp = first.findings[0].fingerprint

    # Next day the source is down: unknown, and the stale finding stays open (nothing resolved).
    clock.advance(days=1)
    sites.status(HOST, "/a", 503)
    down = await run(sites, store, [json_account("a", "/a")], clock)
    assert [f.kind for f in down.findings] == ["source_error"] and down.outcome.resolved == 0
    assert store.finding(stale_fp)["status"] == "open"

    # The account posts again and the source is back: stale and source_error both resolve.
    clock.advance(days=1)
    serve_days(sites, "/a", 0, 22)
    back = await run(sites, store, [json_account("a", "/a")], clock)
    assert back.findings == [] and back.outcome.resolved == 2
    assert store.finding(stale_fp)["status"] == "resolved"
    assert [e["event"] for e in store.events(stale_fp)] == ["opened", "resolved"]

    # Silent again long enough: the same finding reopens.
    clock.advance(days=16)
    again = await run(sites, store, [json_account("a", "/a")], clock)
    assert again.outcome.reopened == 1 and store.finding(stale_fp)["status"] == "open"


async def test_unknown_account_does_not_block_resolving_the_others(sites: LocalSites, store: Store) -> None:
    serve_days(sites, "/a", 20)
    serve_days(sites, "/b", 20)
    first = await run(sites, store, [json_account("a", "/a"), json_account("b", "/b")])
    assert len(first.findings) == 2
    serve_days(sites, "/a", 1)
    sites.status(HOST, "/b", 500)
    second = await run(sites, store, [json_account("a", "/a"), json_account("b", "/b")])
    open_now = {(f["kind"], f["identity"]) for f in store.findings(status="open")}
    assert open_now == {("stale", "b"), ("source_error", "b")}
    assert second.outcome.resolved == 1


def month_feed(originals: int, policy: int, total: int = 20) -> str:
    """October posts (total), the first ``originals`` marked 原创 and the next ``policy`` policy titles."""
    items = []
    for i in range(total):
        title = (
            "《示例县促进消费若干政策》解读" if originals <= i < originals + policy else f"县里动态第{i}期"
        )
        items.append(
            {
                "title": title,
                "date": f"2026-10-{i + 2:02d} 09:00:00",
                "guid": f"oct-{i}",
                "categories": ["原创"] if i < originals else [],
            }
        )
    items.append({"title": "九月旧文", "date": "2026-09-20 09:00:00", "guid": "sep"})
    items.insert(0, {"title": "本月动态", "date": rfc822(ago(1)), "guid": "nov"})
    return rss(items)


async def test_monthly_quality_floors(sites: LocalSites, store: Store) -> None:
    sites.html(HOST, "/poor.xml", month_feed(originals=3, policy=1))
    sites.html(HOST, "/good.xml", month_feed(originals=12, policy=4))
    sites.html(HOST, "/short.xml", month_feed(originals=0, policy=0, total=5))
    marker = {"source": {"original_marker": "^原创$"}}
    result = await run(
        sites,
        store,
        [
            feed_account("poor", "/poor.xml", name="城关镇", **marker),
            feed_account("good", "/good.xml", name="东关镇", **marker),
            feed_account("short", "/short.xml", name="石桥镇", **marker),
        ],
    )
    warnings = {(f.kind, f.identity): f for f in result.findings}
    assert set(warnings) == {("low_original", "poor/2026-10"), ("low_policy", "poor/2026-10")}
    assert warnings[("low_original", "poor/2026-10")].message == (
        "城关镇（微信公众号）2026年10月发布20条，其中原创3条，原创占比15%，低于30%（原创度不高）"
    )
    assert warnings[("low_policy", "poor/2026-10")].message == (
        "城关镇（微信公众号）2026年10月发布20条，其中政策文件及政策解读类1条，占比5%，低于10%"
    )
    assert {f.severity.value for f in result.findings} == {"warning"}
    rows = {r["id"]: r for r in result.counts["accounts"]}
    assert rows["good"]["quality"]["original_share"] == 0.6
    assert rows["short"]["quality"] == {
        "month": "2026-10",
        "posts": 5,
        "judged": False,
        "reason": "当月发布少于8条",
    }


async def test_quality_needs_the_whole_month_in_view(sites: LocalSites, store: Store) -> None:
    # Only mid-October onwards is known: the month is not judged, however low the share looks.
    items = [
        {"title": f"动态{i}", "date": f"2026-10-{i + 15:02d} 09:00:00", "guid": f"g{i}"} for i in range(12)
    ]
    sites.html(HOST, "/part.xml", rss(items))
    result = await run(sites, store, [feed_account("part", "/part.xml")])
    assert not [f for f in result.findings if f.kind.startswith("low_")]
    assert result.counts["accounts"][0]["quality"]["reason"] == "监测记录未覆盖整月"


async def test_posts_are_stored_and_counted_per_period(sites: LocalSites, store: Store) -> None:
    # NOW is Thursday 2026-11-26: this week started Monday 11-23, this month 11-01.
    clock = FixedClock(NOW)
    serve_days(sites, "/p", 0, 2, 3, 5, 20, 40)
    first = await run(sites, store, [json_account("p", "/p")], clock)
    row = first.counts["accounts"][0]
    assert (row["posts_week"], row["posts_month"]) == (3, 5)
    assert first.counts["posts_new"] == 6
    trend = row["trend_8w"]
    assert len(trend) == 8 and trend[-1] == {"week": "2026-W48", "posts": 3}
    assert sum(w["posts"] for w in trend) == 6
    first_seen = {r["post_id"]: r["first_seen"] for r in store.backend.query("SELECT * FROM posts")}

    # The feed now only shows its two newest items: the stored history still counts the rest.
    clock.advance(hours=1)
    serve_days(sites, "/p", 0, 2)
    second = await run(sites, store, [json_account("p", "/p")], clock)
    assert (second.counts["accounts"][0]["posts_week"], second.counts["accounts"][0]["posts_month"]) == (3, 5)
    assert second.counts["posts_new"] == 0
    again = {r["post_id"]: r["first_seen"] for r in store.backend.query("SELECT * FROM posts")}
    assert again == first_seen  # first_seen never moves

    # The store API answers per account and period.
    assert [p.title for p in store.posts("p", since=ago(3, hour=0), until=ago(-1, hour=0))] == [
        "信息0",
        "信息2",
        "信息3",
    ]
    assert store.count_posts("p", ago(40, hour=0), ago(19, hour=0)) == 2


async def test_no_accounts_is_a_skipped_run(sites: LocalSites, store: Store) -> None:
    """Nothing configured is nothing to do, not a failure every day (issue 21)."""
    (result,) = await run_duty("newmedia", nm_config(sites, []), store, FixedClock(NOW))
    assert result.status == "skipped" and result.error is None
    assert "no new-media accounts" in result.counts["skipped_reason"]


def test_bad_newmedia_config_names_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "newmedia:\n  accounts:\n"
        "    - {id: a, platform: wechat, name: 甲, source: {type: feed, url: 'ftp://x'}}\n"
        "    - {id: b, platform: wexin, name: 乙, source: {type: manual}}\n"
        "    - {id: a, platform: weibo, name: 丙, threshold_days: 0, source: {type: json, url: 'http://x/'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    paths = [p for p, _ in info.value.problems]
    assert paths == [
        "newmedia.accounts[0].source.url",
        "newmedia.accounts[1].platform",
        "newmedia.accounts[1].source",
        "newmedia.accounts[2].threshold_days",
    ]


async def test_post_json_keeps_politeness_and_retries(sites: LocalSites) -> None:
    seen: list[Any] = []

    async def flaky(request: web.Request) -> web.Response:
        seen.append((request.method, request.headers.get("Content-Type"), await request.json()))
        if len(seen) == 1:
            return web.Response(status=503)
        return web.json_response({"ok": True})

    sites.route(HOST, "/api", flaky)
    options = Crawl(
        retries=2,
        retry_backoff_seconds=0.01,
        host_overrides=sites.overrides(HOST),
        allow_private=(f"http://{HOST}",),  # the virtual host stands in for a public API
    )
    async with Fetcher(options) as fetcher:
        result = await fetcher.post_json(f"http://{HOST}/api", {"offset": 0, "标题": "中文"})
    assert result.ok and result.attempts == 2
    assert seen[1] == ("POST", "application/json; charset=utf-8", {"offset": 0, "标题": "中文"})
