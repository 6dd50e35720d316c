"""The console in real headless Chromium (Debian's /usr/bin/chromium through Playwright), as its users
meet it: ``monitor web`` as a subprocess on a free loopback port, over a store filled by a real
``monitor run links`` against a loopback county site.

Office staff log in, filter the list, open a finding and mark it 误报 with a reason: it leaves the open
list and shows under 误报. A department account sees its own unit only (another unit's finding is 404),
marks a problem 已整改; the site is fixed and ``monitor recheck … --run`` runs the queued re-check,
which closes it — the page then says so, with the whole history.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from monitor.store import triage
from monitor.store.database import Store
from tests.console_data import NOW
from tests.console_harness import CHROMIUM, CHROMIUM_ARGS, ConsoleServer, add_account, monitor_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is installed by .ci/run"),
]

HOST = "www.t.cn"


class CountySite:
    """The county's site on a loopback HTTP server: the homepage and 县教育局's column link to pages
    that are gone until :meth:`fix` restores one."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = site.pages.get(self.path, (404, "<html><body>404 页面不存在</body></html>"))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        def page(title: str, links: list[tuple[str, str]]) -> tuple[int, str]:
            items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
            return 200, (
                f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
                f"<body><h1>{title}</h1><ul>{items}</ul><p>为深入贯彻落实县委县政府决策部署，现将有关事项通知如下。</p></body></html>"
            )

        self.page = page
        self.pages["/"] = page(
            "测试县人民政府", [("/a.html", "政务公开"), ("/gone.html", "办事指南"), ("/jyj/", "教育局")]
        )
        self.pages["/a.html"] = page("政务公开", [("/", "首页")])
        self.pages["/jyj/"] = page("县教育局", [("/jyj/old.html", "招生政策"), ("/jyj/tmp.html", "内网系统")])
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fix(self, path: str) -> None:
        """The unit restores a page."""
        self.pages[path] = self.page("已恢复", [("/", "首页")])

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def monitor(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``monitor --config … ARGS`` as a subprocess with the pinned clock."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(folder / "config.yaml"), *args],
        capture_output=True,
        text=True,
        env=monitor_env(),
        cwd=folder,
        timeout=120,
    )


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The site, a store filled by a real links run, the accounts, and ``monitor web``."""
    folder = tmp_path_factory.mktemp("console-e2e")
    site = CountySite()
    config = {
        "sites": [{"id": "t", "name": "测试县政府网站", "homepage": f"http://{HOST}/", "unit": "县政府办"}],
        "units": [{"name": "县教育局", "kind": "department", "site": "t", "paths": ["/jyj/"]}],
        "crawl": {"host_overrides": {HOST: f"127.0.0.1:{site.port}"}, "timeout_seconds": 6, "retries": 0,
                  "confirm_delay_seconds": 0.05},
        "storage": {"database": "monitor.db"},
    }  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    try:
        done = monitor(folder, "run", "links")
        assert done.returncode == 1, done.stderr  # findings: the three dead links
        for name, role, unit in (("office", "office", None), ("jyj", "department", "县教育局")):
            add_account(folder, name, role, unit)
        with ConsoleServer(folder) as server:
            yield {"folder": folder, "site": site, "server": server}
    finally:
        site.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def fingerprint_of(folder: Path, url_end: str) -> str:
    with Store.open_readonly(folder / "monitor.db") as store:
        rows = triage.list_findings(store, triage.FindingQuery(status=None), NOW).rows
    (fp,) = [r.fingerprint for r in rows if (r.url or "").endswith(url_end)]
    return fp


def rows(page: Page) -> list[str]:
    return page.locator("table.findings tbody tr").all_inner_texts()


def test_office_filters_opens_and_marks_a_false_positive(county: dict[str, Any], browser: Browser) -> None:
    server: ConsoleServer = county["server"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        server.login(page, "office")
        expect(page.locator("h1")).to_have_text("总览")
        page.click("nav >> text=问题清单")
        expect(page.locator("#count")).to_contain_text("共 3 个问题")
        page.select_option("select[name=unit]", "县教育局")
        page.click("button:has-text('筛选')")
        expect(page.locator("#count")).to_contain_text("共 2 个问题")
        assert all("县教育局" in r for r in rows(page))
        page.click("table.findings a:has-text('tmp.html'), table.findings tr:has-text('tmp.html') a")
        expect(page.locator("h1")).to_contain_text("链接不可用")
        form = page.locator("form[action$='/ignore']")
        form.locator("input[name=reason]").fill("内网办公系统入口，公众无需访问")
        form.locator("button").click()
        expect(page.locator(".notice")).to_contain_text("已标记为误报")
        expect(page.locator(".history")).to_contain_text("标记为误报")
        expect(page.locator(".history")).to_contain_text("内网办公系统入口，公众无需访问")
        expect(page.locator(".history")).to_contain_text("office")
        page.goto(server.url + "/findings?status=open")
        expect(page.locator("#count")).to_contain_text("共 2 个问题")
        assert not any("tmp.html" in r for r in rows(page))
        page.select_option("select[name=status]", "ignored")
        page.click("button:has-text('筛选')")
        expect(page.locator("#count")).to_contain_text("共 1 个问题")
        assert "tmp.html" in rows(page)[0] and "误报" in rows(page)[0]
    finally:
        page.close()


def test_department_sees_its_unit_and_a_recheck_closes_the_fixed_problem(
    county: dict[str, Any], browser: Browser
) -> None:
    server: ConsoleServer = county["server"]
    folder: Path = county["folder"]
    others = fingerprint_of(folder, "/gone.html")  # 县政府办公室's
    mine = fingerprint_of(folder, "/jyj/old.html")
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    try:
        server.login(page, "jyj")
        page.goto(server.url + "/findings?status=open")
        expect(page.locator("#count")).to_contain_text("共 1 个问题")
        assert "old.html" in rows(page)[0] and "gone.html" not in page.content()
        response = page.goto(server.url + f"/findings/{others}")
        assert response is not None and response.status == 404
        page.goto(server.url + f"/findings/{mine}")
        assert page.locator("form[action$='/assign']").count() == 0  # a department cannot hand it on
        form = page.locator("form[action$='/recheck']")
        form.locator("textarea[name=reason]").fill("已恢复招生政策页面")
        form.locator("button").click()
        expect(page.locator(".notice")).to_contain_text("已申请复核")
        expect(page.locator("button:has-text('复核排队中')")).to_be_disabled()
        # The unit fixes its page; the queued re-check runs (as the daemon would) and closes the problem.
        county["site"].fix("/jyj/old.html")
        done = monitor(folder, "recheck", mine, "--run", "--reason", "执行排队的复核")
        assert done.returncode == 0, done.stdout + done.stderr
        page.reload()
        expect(page.locator(".facts").first).to_contain_text("已整改（复核通过）")
        history = page.locator(".history")
        for text in ("发现问题", "已整改，申请复核", "已恢复招生政策页面", "jyj", "复核通过"):
            expect(history).to_contain_text(text)
        page.goto(server.url + "/findings?status=open")
        expect(page.locator("#count")).to_contain_text("共 0 个问题")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # nothing runs off a phone's screen
    finally:
        page.close()
