"""The wechat_api source against a local aiohttp server speaking WeChat's documented formats."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from monitor.core.clock import FixedClock
from monitor.runner import run_duty
from monitor.store.database import Store
from tests.newmedia_fixtures import NOW, ago, nm_config
from tests.sites import LocalSites

API = "api.weixin.test"
SECRET = "s3cr3t-app-secret-value"


class FakeWechat:
    """token / stable_token / freepublish/batchget with scripted errcodes; records every request."""

    def __init__(self, sites: LocalSites, items: list[dict[str, Any]], batch_errors: list[int] = ()) -> None:
        self.items = items
        self.batch_errors = list(batch_errors)
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.issued = 0
        for path in ("/cgi-bin/token", "/cgi-bin/stable_token", "/cgi-bin/freepublish/batchget"):
            sites.route(API, path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.method == "POST" else None
        self.requests.append((request.path, dict(request.query), body))
        if request.path in ("/cgi-bin/token", "/cgi-bin/stable_token"):
            creds = body if body is not None else request.query
            if creds.get("secret") != SECRET:
                return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
            self.issued += 1
            return web.json_response({"access_token": f"TOKEN{self.issued}", "expires_in": 7200})
        if request.query.get("access_token") != f"TOKEN{self.issued}":
            return web.json_response(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        if self.batch_errors:
            code = self.batch_errors.pop(0)
            return web.json_response({"errcode": code, "errmsg": "scripted error"})
        return web.json_response(
            {"total_count": len(self.items), "item_count": len(self.items), "item": self.items}
        )


def message(article_id: str, days: float, *titles: str, deleted: bool = False) -> dict[str, Any]:
    news = [
        {
            "title": t,
            "author": "",
            "digest": "",
            "content": "",
            "url": f"https://mp.weixin.qq.com/s/{article_id}{i}",
            "thumb_url": "",
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
            "is_deleted": deleted,
        }
        for i, t in enumerate(titles)
    ]
    return {
        "article_id": article_id,
        "content": {"news_item": news},
        "update_time": int(ago(days).timestamp()),
    }


def account(**source: Any) -> dict[str, Any]:
    return {
        "id": "wx-fabu",
        "platform": "wechat",
        "name": "示例县发布",
        "unit": "县委宣传部",
        "source": {
            "type": "wechat_api",
            "appid_env": "WX_FABU_APPID",
            "secret_env": "WX_FABU_SECRET",
            "api_base": f"http://{API}",
            **source,
        },
    }


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WX_FABU_APPID", "wx1234567890")
    monkeypatch.setenv("WX_FABU_SECRET", SECRET)


async def run(sites: LocalSites, store: Store, acc: dict[str, Any]) -> Any:
    (result,) = await run_duty("newmedia", nm_config(sites, [acc]), store, FixedClock(NOW))
    return result


async def test_stable_token_then_batchget(sites: LocalSites, store: Store, creds: None) -> None:
    api = FakeWechat(
        sites, [message("A1", 3, "头条：全县经济运行平稳", "次条：政策解读"), message("A0", 30, "旧文")]
    )
    result = await run(sites, store, account())
    (row,) = result.counts["accounts"]
    assert (row["verdict"], row["days_since"], row["last_post_title"]) == (
        "fresh",
        3,
        "头条：全县经济运行平稳",
    )
    (tok_path, _, tok_body), (list_path, list_query, list_body) = api.requests
    assert tok_path == "/cgi-bin/stable_token"
    assert tok_body == {
        "grant_type": "client_credential",
        "appid": "wx1234567890",
        "secret": SECRET,
        "force_refresh": False,
    }
    assert list_path == "/cgi-bin/freepublish/batchget" and list_query == {"access_token": "TOKEN1"}
    assert list_body == {"offset": 0, "count": 20, "no_content": 1}
    assert {p.post_id for p in store.posts("wx-fabu")} == {"A1:0", "A1:1", "A0:0"}
    # The secret and the token never reach what is stored.
    stored = json.dumps(store.get_run(result.run_id), ensure_ascii=False)
    assert SECRET not in stored and "TOKEN1" not in stored
    # The census row is typed, and the store reads back the report the run returned.
    assert store.run_report(result.run_id) == result.report
    (typed,) = result.report.accounts or []
    assert typed.last_post_title == "头条：全县经济运行平稳"


async def test_invalid_token_is_refreshed_once(sites: LocalSites, store: Store, creds: None) -> None:
    api = FakeWechat(sites, [message("A1", 20, "通知")], batch_errors=[40001])
    result = await run(sites, store, account())
    (row,) = result.counts["accounts"]
    assert row["verdict"] == "stale"  # the API worked after a refresh: 20 days is stale
    tokens = [body for path, _, body in api.requests if path == "/cgi-bin/stable_token"]
    assert [t["force_refresh"] for t in tokens] == [False, True]
    assert (
        result.findings[0].message
        == "示例县发布（微信公众号）最近一次发布为2026年11月6日，已20天未更新（要求14天内）"
    )


async def test_quota_errcode_is_unknown_with_its_meaning(
    sites: LocalSites, store: Store, creds: None
) -> None:
    FakeWechat(sites, [message("A1", 40, "旧")], batch_errors=[45009])
    result = await run(sites, store, account())
    (row,) = result.counts["accounts"]
    assert row["verdict"] == "unknown"
    assert row["reason"] == "微信接口获取已发布文章列表返回错误45009（接口调用次数已达每日上限）"
    assert [f.kind for f in result.findings] == ["source_error"]


async def test_classic_token_and_token_errors(
    sites: LocalSites, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeWechat(sites, [message("A1", 1, "今日")])
    monkeypatch.setenv("WX_FABU_APPID", "wx1234567890")
    monkeypatch.setenv("WX_FABU_SECRET", "wrong")
    result = await run(sites, store, account(token_endpoint="classic"))
    (row,) = result.counts["accounts"]
    assert row["reason"] == "微信接口获取access_token返回错误40125（AppSecret无效）"
    path, query, _ = api.requests[0]
    assert path == "/cgi-bin/token" and query["grant_type"] == "client_credential"
    assert "wrong" not in json.dumps(store.get_run(result.run_id), ensure_ascii=False)
    monkeypatch.setenv("WX_FABU_SECRET", SECRET)
    result = await run(sites, store, account(token_endpoint="classic"))
    assert result.counts["accounts"][0]["verdict"] == "fresh"


async def test_missing_credentials_and_empty_list_are_unknown(
    sites: LocalSites, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeWechat(sites, [])
    monkeypatch.delenv("WX_FABU_APPID", raising=False)
    monkeypatch.delenv("WX_FABU_SECRET", raising=False)
    result = await run(sites, store, account())
    assert result.counts["accounts"][0]["reason"].startswith("未设置环境变量WX_FABU_APPID、WX_FABU_SECRET")
    monkeypatch.setenv("WX_FABU_APPID", "wx1")
    monkeypatch.setenv("WX_FABU_SECRET", SECRET)
    result = await run(sites, store, account())
    (row,) = result.counts["accounts"]
    # 群发 mass-sends are not in this list: an empty list is "cannot tell", never stale.
    assert row["verdict"] == "unknown" and "群发消息不在该接口范围内" in row["reason"]
