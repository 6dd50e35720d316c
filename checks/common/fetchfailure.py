"""Why a fetch failed, in the Chinese a finding states it: shared by the links and the columns checks."""

from __future__ import annotations

from monitor.web.fetch import ErrorKind, FetchResult

HTTP_STATUS_ZH = {
    400: "请求无效",
    401: "需要登录",
    403: "禁止访问",
    404: "页面不存在",
    405: "方法不允许",
    408: "请求超时",
    410: "资源已删除",
    429: "请求过多",
    500: "服务器内部错误",
    502: "网关错误",
    503: "服务不可用",
    504: "网关超时",
}


def failure_reason_zh(kind: ErrorKind, result: FetchResult | None, detail: str, timeout: float) -> str:
    """A specific Chinese description of why a URL is dead."""
    status = result.status if result is not None else None
    if kind == ErrorKind.HTTP:
        return f"HTTP {status}（{HTTP_STATUS_ZH.get(status or 0, '请求失败')}）"
    if kind == ErrorKind.TIMEOUT:
        return f"连接超时（{timeout:g}秒内未完成加载）"
    if kind == ErrorKind.REDIRECT_LOOP:
        chain = " → ".join(u for _, u in (result.redirects if result else [])[:4])
        return f"重定向循环（{chain}）" if chain else "重定向循环"
    if kind == ErrorKind.SOFT_404:
        return f"返回HTTP 200但实为“页面不存在”错误页（软404，{detail}）"
    return {
        ErrorKind.DNS: "域名无法解析",
        ErrorKind.REFUSED: "服务器拒绝连接",
        ErrorKind.TLS: "HTTPS证书或加密连接错误",
        ErrorKind.CONNECTION: "连接中断或响应异常",
        ErrorKind.TOO_MANY_REDIRECTS: "重定向次数过多",
        ErrorKind.INVALID_URL: "链接地址格式错误",
        ErrorKind.LOCAL_FILE: "链接指向编辑者本机文件（file:地址），任何访客都无法打开",
        ErrorKind.PRIVATE_ADDRESS: "链接指向内网地址（环回、内网或保留地址），出于安全考虑未访问",
    }.get(kind, str(kind))
