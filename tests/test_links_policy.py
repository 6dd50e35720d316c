"""The dead-link policy lives with the links check: what a fetch outcome means is decided in
``checks/links/policy.py``; the crawl only fetches and asks."""

from __future__ import annotations

import ast
from pathlib import Path

from checks.links.policy import CONFIRM_RETRIES, DeadLinkPolicy, bot_wall, bot_wall_answer
from monitor.config import config_from_mapping
from monitor.crawl.crawler import Target
from monitor.web.fetch import ErrorKind, FetchResult
from monitor.web.page import FORM_TARGET

ROOT = Path(__file__).resolve().parents[1]
HOME = "http://www.shixian.gov.cn/"
NOT_FOUND_PAGE = "<html><head><title>提示</title></head><body><p>您访问的页面不存在</p></body></html>"


def _policy() -> DeadLinkPolicy:
    return DeadLinkPolicy(
        config_from_mapping({"crawl": {"confirm_delay_seconds": 30, "max_retry_after_seconds": 60}})
    )


def _target(
    *, crawl: bool = False, internal: bool = True, tag: str = "a", result: FetchResult | None = None
) -> Target:
    target = Target(HOME + "x.html", internal=internal, crawl=crawl, depth=1, tag=tag)
    target.result = result
    return target


def _html(body: str, status: int = 200) -> FetchResult:
    return FetchResult(HOME + "x.html", "GET", status=status, content_type="text/html", body=body.encode())


def test_a_failed_fetch_is_a_failure_except_a_forms_405() -> None:
    policy = _policy()
    gone = FetchResult(HOME + "x.html", "GET", status=404, error=ErrorKind.HTTP, detail="HTTP 404")
    assert policy.failure(_target(), gone) == (ErrorKind.HTTP, "HTTP 404")
    timeout = FetchResult(HOME + "x.html", "GET", error=ErrorKind.TIMEOUT, detail="10 s")
    assert policy.failure(_target(), timeout) == (ErrorKind.TIMEOUT, "10 s")
    post_only = FetchResult(HOME + "form", "GET", status=405, error=ErrorKind.HTTP)
    assert policy.failure(_target(tag=FORM_TARGET), post_only) is None
    assert policy.failure(_target(), post_only) == (ErrorKind.HTTP, "")


def test_a_not_found_page_answered_with_200_is_a_soft_404_for_checked_links_only() -> None:
    """A crawled page is judged on its parsed page (``soft_404``) by the crawl, not twice."""
    policy = _policy()
    assert policy.failure(_target(crawl=False), _html(NOT_FOUND_PAGE)) == (
        ErrorKind.SOFT_404,
        "页面内容含“页面不存在”",
    )
    assert policy.failure(_target(crawl=True), _html(NOT_FOUND_PAGE)) is None
    # A long page that mentions the words is content, not an error page.
    article = (
        "<html><head><title>通知</title></head><body><p>" + "正文" * 700 + "页面不存在</p></body></html>"
    )
    assert policy.failure(_target(), _html(article)) is None


def test_the_second_opinion_needs_the_failure_again() -> None:
    policy = _policy()
    target = _target()
    assert policy.confirmed_failure(target, _html("<p>正常页面</p>"), ErrorKind.HTTP) is None
    assert policy.confirmed_failure(target, _html(NOT_FOUND_PAGE), ErrorKind.SOFT_404) == (
        ErrorKind.SOFT_404,
        "页面内容含“页面不存在”",
    )
    # A page that was a hard failure and now answers with a soft 404 page recovered from that failure.
    assert policy.confirmed_failure(target, _html(NOT_FOUND_PAGE), ErrorKind.HTTP) is None
    assert policy.confirm_retries == CONFIRM_RETRIES == 1


def test_when_a_failure_is_asked_again() -> None:
    policy = _policy()
    gone = _target(result=FetchResult(HOME, "GET", status=410, error=ErrorKind.HTTP))
    gone.failure = ErrorKind.HTTP
    assert policy.confirm_pause(gone) == 0.0  # the server said it does not exist: at once
    busy = _target(result=FetchResult(HOME, "GET", status=503, error=ErrorKind.HTTP))
    busy.failure = ErrorKind.HTTP
    assert policy.confirm_pause(busy) == 30 and policy.retry_after(busy) is None
    limited = _target(result=FetchResult(HOME, "GET", status=429, error=ErrorKind.HTTP, retry_after=600))
    assert policy.retry_after(limited) == 60  # capped by crawl.max_retry_after_seconds


def test_connection_failures_of_the_sites_own_links_are_the_sign_of_a_site_down() -> None:
    policy = _policy()
    assert policy.site_down_sign(_target(internal=True), ErrorKind.REFUSED)
    assert not policy.site_down_sign(_target(internal=False), ErrorKind.REFUSED)
    assert not policy.site_down_sign(_target(internal=True), ErrorKind.HTTP)


def test_the_crawl_holds_no_dead_link_decisions() -> None:
    """The crawler asks the policy; the statuses, soft-404 patterns and error classes it used to decide
    with are named only in checks/links/policy.py."""
    tree = ast.parse((ROOT / "monitor" / "crawl" / "crawler.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    assert not names & {"NOT_FOUND_STATUSES", "CONNECTION_ERRORS", "CONFIRM_RETRIES", "FORM_TARGET"}
    assert "soft_404_patterns" not in names and "soft404" not in names
    statuses = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, int)}
    assert not statuses & {404, 405, 410, 429}


def test_a_bot_walls_answer_is_not_a_dead_link() -> None:
    def failed(status: int, challenge: str = "") -> Target:
        res = FetchResult(HOME, "GET", status=status, error=ErrorKind.HTTP, challenge=challenge)
        target = _target(result=res)
        target.failure = ErrorKind.HTTP
        return target

    assert bot_wall(failed(999)) and bot_wall(failed(429)) and bot_wall(failed(403, "challenge"))
    assert not bot_wall(failed(403)) and not bot_wall(failed(404))
    assert not bot_wall_answer(FetchResult(HOME, "GET", error=ErrorKind.TIMEOUT))
