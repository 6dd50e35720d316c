"""WeChat Official Account API: the owner's published-article list (``freepublish/batchget``).

Flow: an access token (``POST /cgi-bin/stable_token`` by default, which — unlike the classic
``GET /cgi-bin/token`` — does not invalidate the token the owner's own systems are using), then
``POST /cgi-bin/freepublish/batchget?access_token=…`` with ``{"offset":0,"count":20,"no_content":1}``.
Errors come back as ``{"errcode": 40001, "errmsg": "…"}``; an invalid/expired token is refreshed once.

Limits worth knowing (docs/newmedia.md): the list holds articles *published* (发布) through the API or
the editor, but not 群发 mass-sends — an account that only mass-sends shows an empty list, which is
reported as 监测源异常, never as stale. Calls count against the account's daily quota (45009) and the
server's IP must be whitelisted in the account's console (40164).

The AppSecret and tokens never appear in findings or logs: evidence names the API base only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from checks.newmedia.sources.common import SourceFailure, failure_reason, parse_post_datetime
from monitor.config import WechatApiSource
from monitor.core.posts import Post
from monitor.web.fetch import Fetcher, FetchResult

#: errcode → what it means for the office (Chinese), from WeChat's global return codes.
ERRCODES_ZH = {
    -1: "微信系统繁忙，请稍后再试",
    40001: "AppSecret错误或access_token无效",
    40002: "grant_type不合法",
    40013: "AppID无效",
    40014: "access_token不合法",
    40125: "AppSecret无效",
    40164: "调用接口的服务器IP不在公众号IP白名单中",
    41001: "缺少access_token",
    42001: "access_token已过期",
    45009: "接口调用次数已达每日上限",
    45011: "接口调用过于频繁",
    48001: "公众号未获得该接口权限（需完成认证或开通发布能力）",
    50002: "公众号被封禁或接口权限被收回",
}
_TOKEN_RETRY_CODES = frozenset({40001, 40014, 42001})


async def read_wechat(
    account: str,
    source: WechatApiSource,
    fetcher: Fetcher,
    tz: ZoneInfo,
    now: datetime,
    env: Mapping[str, str] | None = None,
) -> list[Post]:
    """Posts from the account's published-article list."""
    env = os.environ if env is None else env
    appid, secret = env.get(source.appid_env, ""), env.get(source.secret_env, "")
    if not appid or not secret:
        missing = [n for n, v in ((source.appid_env, appid), (source.secret_env, secret)) if not v]
        raise SourceFailure(f"未设置环境变量{'、'.join(missing)}（公众号AppID/AppSecret），无法调用微信接口")
    base = source.api_base.rstrip("/")
    token = await _token(fetcher, source, base, appid, secret, force=False)
    data = await _batchget(fetcher, source, base, token)
    if data.get("errcode") in _TOKEN_RETRY_CODES:
        token = await _token(fetcher, source, base, appid, secret, force=True)
        data = await _batchget(fetcher, source, base, token)
    _raise_errcode(data, "获取已发布文章列表")
    return parse_batchget(account, data, tz, now, base)


def parse_batchget(
    account: str, data: Mapping[str, Any], tz: ZoneInfo, now: datetime, base: str = ""
) -> list[Post]:
    """Posts of a ``freepublish/batchget`` answer (each news item of each message is a post)."""
    items = data.get("item")
    if not isinstance(items, list):
        raise SourceFailure("微信接口返回格式异常（缺少item列表）", api=base)
    if not items:
        raise SourceFailure("微信接口未返回任何已发布文章（群发消息不在该接口范围内），无法判断", api=base)
    posts: list[Post] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw_content = item.get("content")
        content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
        # The documented place is item.update_time; live answers also carry content.update_time.
        stamp = item.get("update_time") or content.get("update_time") or content.get("create_time")
        published = parse_post_datetime(stamp, tz, now)
        if published is None:
            continue
        raw_news = content.get("news_item")
        news: list[Any] = raw_news if isinstance(raw_news, list) else []
        for idx, n in enumerate(news):
            if not isinstance(n, dict) or n.get("is_deleted"):
                continue
            posts.append(
                Post(
                    account=account,
                    post_id=f"{item.get('article_id') or published.timestamp()}:{idx}",
                    title=" ".join(str(n.get("title") or "").split()),
                    url=str(n.get("url") or ""),
                    published_at=published,
                )
            )
    if not posts:
        raise SourceFailure(f"微信接口返回的{len(items)}条消息均无可用的发布时间或均已删除", api=base)
    return posts


async def _token(
    fetcher: Fetcher, source: WechatApiSource, base: str, appid: str, secret: str, *, force: bool
) -> str:
    if source.token_endpoint == "stable":
        payload = {
            "grant_type": "client_credential",
            "appid": appid,
            "secret": secret,
            "force_refresh": force,
        }
        result = await fetcher.post_json(f"{base}/cgi-bin/stable_token", payload)
    else:
        # The secret is in the query string: this URL must never reach evidence or logs.
        result = await fetcher.fetch(
            f"{base}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"
        )
    data = _json(result, "获取access_token", base)
    _raise_errcode(data, "获取access_token")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise SourceFailure("微信接口未返回access_token", api=base)
    return token


async def _batchget(fetcher: Fetcher, source: WechatApiSource, base: str, token: str) -> dict[str, Any]:
    result = await fetcher.post_json(
        f"{base}/cgi-bin/freepublish/batchget?access_token={token}",
        {"offset": 0, "count": source.count, "no_content": 1},
    )
    return _json(result, "获取已发布文章列表", base)


def _json(result: FetchResult, what: str, base: str) -> dict[str, Any]:
    if not result.ok:
        raise SourceFailure(f"微信接口{what}失败（{failure_reason(result)}）", api=base, status=result.status)
    try:
        data = json.loads((result.body or b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SourceFailure(f"微信接口{what}返回的内容不是JSON", api=base) from None
    if not isinstance(data, dict):
        raise SourceFailure(f"微信接口{what}返回格式异常", api=base)
    return data


def _raise_errcode(data: Mapping[str, Any], what: str) -> None:
    code = data.get("errcode")
    if code in (None, 0):
        return
    meaning = ERRCODES_ZH.get(code) if isinstance(code, int) else None
    errmsg = " ".join(str(data.get("errmsg") or "").split())[:120]
    detail = meaning or errmsg or "未知错误"
    raise SourceFailure(f"微信接口{what}返回错误{code}（{detail}）", errcode=code, errmsg=errmsg)
