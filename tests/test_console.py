"""The web console (issue 23) over real HTTP on loopback: login and sessions, roles enforced on every read
and action, CSRF, the login rate limit, security headers, the reverse proxy's headers, downloads that
cannot leave their folder, crawled content kept inert, and reads that never wait for the daemon's write.

The console runs in-process on a real aiohttp server (port 0) over a real SQLite store filled through the
run lifecycle (tests/console_data.py); the browser tests (tests/test_console_browser.py) run the same
console as a subprocess against a real crawl.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar, web

from monitor.config import config_from_mapping
from monitor.console.accounts import AccountError, create_account
from monitor.console.app import create_app, safe_href
from monitor.console.session import load_secret
from monitor.core.clock import SHANGHAI, FixedClock
from monitor.core.findings import Finding, Severity
from monitor.store import triage
from monitor.store.database import Resolution, Store
from tests.console_data import NOW, console_config_mapping, fill_console_store
from tests.console_harness import monitor_env, png

ESC, CSI, BEL, RLO, LRI, PDI = "\x1b", "\x9b", "\x07", "\u202e", "\u2066", "\u2069"
OSC8 = f"{ESC}]8;;http://e.x/{ESC}\\点此{ESC}]8;;{ESC}\\"
PAYLOAD_CHARS = set(ESC + CSI + BEL + RLO + LRI + PDI + "\x00\u200f\u2028")
SECRET = b"0123456789abcdef" * 4
PASSWORD = "console-password-23"


def hostile_finding() -> Finding:
    """Crawled text with terminal escapes, an OSC 8 link, direction overrides, markup and script URLs."""
    return Finding(
        duty="links",
        kind="dead_link",
        severity=Severity.DEDUCTION,
        site="portal",
        identity="javascript:alert(document.cookie)",
        url=f"javascript:alert(document.cookie)//{RLO}",
        message=f"<script>alert(1)</script>{OSC8}链接{RLO}gnp.exe{CSI}2J{BEL}无法访问",
        unit="县教育局",
        sources=(
            f"http://www.shixian.gov.cn/a{ESC}[31m.html",
            "JaVaScRiPt:alert(2)",
            "data:text/html,<b>x</b>",
        ),
        evidence={
            "snippet": f"<img src=x onerror=alert(3)>{LRI}正文{PDI}",
            "anchor": '"><script>alert(4)</script>',
        },
    )


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A filled store: 400 findings, a hostile one, one with a screenshot, a bulletin, five accounts."""
    folder = tmp_path_factory.mktemp("console")
    database = folder / "monitor.db"
    with Store(database) as store:
        fill_console_store(store, 400)
        when = NOW - timedelta(hours=1)
        run = store.start_run("links", "portal", ("links",), when)
        shot = Finding(
            duty="darklinks",
            kind="dark_link",
            severity=Severity.VETO,
            site="portal",
            identity="http://www.shixian.gov.cn/#dark",
            url="http://www.shixian.gov.cn/",
            message="首页存在隐藏链接",
            unit="县财政局",
            images=(),
        )
        from monitor.core.findings import EvidenceImage

        shot = Finding(**{**shot.__dict__, "images": (EvidenceImage("浏览器视图", png()),)})
        store.finish_run(
            run,
            status="ok",
            now=when,
            findings=[hostile_finding(), shot],
            resolution=Resolution(("links", "darklinks"), lambda _i: False),
        )
        accounts = {
            "admin": ("admin", None),
            "office": ("office", None),
            "jyj": ("department", "县教育局"),
            "czj": ("department", "县财政局"),
            "reader": ("readonly", None),
        }
        for name, (role, unit) in accounts.items():
            create_account(store, name, role, unit, PASSWORD, NOW)
    week = folder / "reports" / "2026-W47"
    week.mkdir(parents=True)
    (week / "bulletin.html").write_text("<p>通报</p>", encoding="utf-8")
    (week / "2026-W47问题清单.xlsx").write_bytes(b"PK\x03\x04 workbook")
    (folder / "reports" / "secret.txt").write_text("not for download", encoding="utf-8")
    (week / "link.docx").symlink_to(folder / "reports" / "secret.txt")
    return {
        "folder": folder,
        "database": database,
        "hostile": hostile_finding().fingerprint,
        "shot": shot.fingerprint,
    }


class Browser:
    """A cookie-keeping HTTP client that reads CSRF tokens off the pages, like a browser submitting forms."""

    def __init__(self, session: ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.token = ""

    async def get(self, path: str, **kw: Any) -> tuple[int, str, Any]:
        async with self.session.get(self.base + path, allow_redirects=kw.pop("follow", True), **kw) as r:
            text = await r.text()
            if m := re.search(r'name="csrf_token" value="([^"]+)"', text):
                self.token = m.group(1)
            return r.status, text, r

    async def post(
        self, path: str, data: dict[str, str], *, token: bool = True, **kw: Any
    ) -> tuple[int, str, Any]:
        form = {**data, **({"csrf_token": self.token} if token else {})}
        async with self.session.post(self.base + path, data=form, allow_redirects=False, **kw) as r:
            return r.status, await r.text(), r

    async def login(self, user: str, password: str = PASSWORD, **kw: Any) -> int:
        await self.get("/login")
        status, _, _r = await self.post("/login", {"username": user, "password": password, "next": "/"}, **kw)
        return status


@pytest.fixture
async def console(county: dict[str, Any]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The console on a free loopback port."""
    server = await serve(county)
    try:
        yield server[0], county
    finally:
        await server[1].cleanup()


async def serve(county: dict[str, Any], **console_keys: Any) -> tuple[str, web.AppRunner]:
    mapping = console_config_mapping(str(county["database"]))
    mapping["console"] = {"login_max_failures": 3, **console_keys}
    mapping["bulletin"] = {"reports_dir": str(county["folder"] / "reports")}
    config = config_from_mapping(mapping, base_dir=county["folder"])
    app = create_app(
        config, county["database"], FixedClock(NOW.replace(tzinfo=None), SHANGHAI), secret=SECRET
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}{config.console.base_path}", runner


def client() -> ClientSession:
    return ClientSession(cookie_jar=CookieJar(unsafe=True))


async def test_pages_need_a_login_and_carry_the_security_headers(console: tuple[str, dict[str, Any]]) -> None:
    base, _ = console
    async with client() as s:
        b = Browser(s, base)
        status, _, r = await b.get("/findings?status=open", follow=False)
        assert status == 303 and r.headers["Location"].startswith("/login?next=")
        status, html, r = await b.get("/login")
        assert status == 200 and "登录" in html
        csp = r.headers["Content-Security-Policy"]
        assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        assert "<script" not in html and " style=" not in html  # the CSP allows neither
        assert await b.login("office", "wrong password!") == 401
        assert await b.login("office") == 303
        for page in (
            "/",
            "/findings",
            "/units",
            "/runs",
            "/bulletins",
            "/newmedia",
            "/units/%E5%8E%BF%E6%95%99%E8%82%B2%E5%B1%80",
        ):
            status, html, r = await b.get(page)
            assert status == 200, page
            assert "<script" not in html and r.headers["X-Frame-Options"] == "DENY"
        _, html, _ = await b.get("/runs")
        assert "全站巡检" in html and ">patrol<" not in html  # duties by their Chinese names
        status, html, _ = await b.get("/users")
        assert status == 403  # accounts: admin only
        # Logged out: the old cookie's session is replaced, the pages want a login again.
        await b.get("/")
        status, _, r = await b.post("/logout", {})
        assert status == 303
        status, _, _ = await b.get("/findings", follow=False)
        assert status == 303


async def test_post_without_the_csrf_token_is_refused_and_changes_nothing(
    console: tuple[str, dict[str, Any]],
) -> None:
    base, county = console
    fp = county["hostile"]
    async with client() as s:
        b = Browser(s, base)
        await b.login("office")
        await b.get(f"/findings/{fp}")
        status, html, _ = await b.post(f"/findings/{fp}/ignore", {"reason": "攻击者的表单"}, token=False)
        assert status == 403 and "CSRF" in html
        status, _, _ = await b.post(
            f"/findings/{fp}/ignore", {"reason": "x", "csrf_token": "forged" * 8}, token=False
        )
        assert status == 403
        # The login form has one too (no logging a victim into the attacker's account).
        async with client() as other:
            status, _, _ = await Browser(other, base).post(
                "/login", {"username": "office", "password": PASSWORD}, token=False
            )
            assert status == 403
    with Store.open_readonly(county["database"]) as store:
        detail = triage.finding_detail(store, fp, NOW)
    assert detail is not None and detail.row.status == "open"
    assert [e.event for e in detail.events] == ["opened"]


async def test_actions_record_who_and_why_and_show_in_the_history(
    console: tuple[str, dict[str, Any]],
) -> None:
    base, county = console
    with Store.open_readonly(county["database"]) as store:
        page = triage.list_findings(
            store, triage.FindingQuery(unit="县农业农村局", status="open", per_page=5), NOW
        )
    fp = page.rows[0].fingerprint
    async with client() as s:
        b = Browser(s, base)
        await b.login("office")
        await b.get(f"/findings/{fp}")
        status, html, _ = await b.post(f"/findings/{fp}/ignore", {"reason": "  "})
        assert status == 400 and "请填写原因" in html
        status, _, r = await b.post(
            f"/findings/{fp}/deadline", {"deadline": "2026-12-10", "reason": "按通报要求"}
        )
        assert status == 303 and r.headers["Location"].endswith("?done=deadline")
        await b.get(f"/findings/{fp}")
        status, _, _ = await b.post(
            f"/findings/{fp}/deadline", {"deadline": "2026-11-01", "reason": "早于今天"}
        )
        assert status == 400
        status, _, _ = await b.post(
            f"/findings/{fp}/assign", {"unit": "县商务局", "reason": "栏目由商务局维护"}
        )
        assert status == 303
        await b.get(f"/findings/{fp}")
        status, _, _ = await b.post(f"/findings/{fp}/ignore", {"reason": "外部系统入口，非本站内容"})
        assert status == 303
        status, html, _ = await b.get(f"/findings/{fp}?done=ignored")
        assert "已标记为误报" in html and "外部系统入口，非本站内容" in html and "误报" in html
        for shown in ("设定整改时限", "按通报要求", "栏目由商务局维护", "标记为误报", "office", "县商务局"):
            assert shown in html, shown
        status, _, _ = await b.post(f"/findings/{fp}/unignore", {"reason": "复查后确认是问题"})
        assert status == 303
        status, html, _ = await b.get(f"/findings/{fp}/recheck", follow=False)
        assert status == 405
        await b.get(f"/findings/{fp}")
        status, _, _ = await b.post(f"/findings/{fp}/recheck", {"reason": "已修复该页面"})
        assert status == 303
        status, html, _ = await b.get(f"/findings/{fp}")
        assert "复核排队中" in html and "已修复该页面" in html
        status, html, _ = await b.post(f"/findings/{fp}/recheck", {"reason": "再次申请"})
        assert status == 400 and "已有复核申请" in html
    with Store.open_readonly(county["database"]) as store:
        detail = triage.finding_detail(store, fp, NOW)
    assert detail is not None
    assert [(e.event, e.actor) for e in detail.events][1:] == [
        ("deadline_set", "office"),
        ("assigned", "office"),
        ("ignored", "office"),
        ("unignored", "office"),
        ("rectified", "office"),
    ]
    assert detail.row.unit == "县商务局" and detail.rechecks[0].state == "pending"


async def test_a_department_sees_and_acts_on_its_own_unit_only(console: tuple[str, dict[str, Any]]) -> None:
    base, county = console
    with Store.open_readonly(county["database"]) as store:
        mine = triage.list_findings(store, triage.FindingQuery(unit="县教育局", status="open"), NOW)
        other = triage.list_findings(store, triage.FindingQuery(unit="县公安局", status="open"), NOW)
    theirs = other.rows[0].fingerprint
    async with client() as s:
        b = Browser(s, base)
        assert await b.login("jyj") == 303
        status, html, _ = await b.get("/findings?status=open")
        assert f"共 <b>{mine.total}</b> 个问题" in html
        assert "县公安局" not in html
        status, html, _ = await b.get("/findings?status=open&unit=%E5%8E%BF%E5%85%AC%E5%AE%89%E5%B1%80")
        assert (
            "县公安局" not in html.split("<main", 1)[1].split("</form>", 1)[1]
        )  # asking for another unit: nothing
        status, _, _ = await b.get(f"/findings/{theirs}")
        assert status == 404
        status, _, _ = await b.get(f"/findings/{theirs[:12]}")
        assert status == 404
        await b.get(f"/findings/{mine.rows[0].fingerprint}")
        status, _, _ = await b.post(f"/findings/{theirs}/ignore", {"reason": "不是我们的"})
        assert status == 404
        status, _, _ = await b.get(f"/findings/{county['shot']}/evidence/x.png")
        assert status == 404  # 县财政局's screenshot
        status, _, _ = await b.get("/units/%E5%8E%BF%E5%85%AC%E5%AE%89%E5%B1%80")
        assert status == 404
        for path in ("/bulletins", "/bulletins/2026-W47/bulletin.html"):  # every unit's problems
            status, _, _ = await b.get(path)
            assert status == 404, path
        status, _, r = await b.get("/units", follow=False)
        assert status == 303 and r.headers["Location"].endswith("/units/%E5%8E%BF%E6%95%99%E8%82%B2%E5%B1%80")
        status, html, _ = await b.get("/")
        assert "县公安局" not in html and "县教育局" in html
        # A department cannot hand its problems to another unit.
        await b.get(f"/findings/{mine.rows[1].fingerprint}")
        status, _, _ = await b.post(
            f"/findings/{mine.rows[1].fingerprint}/assign", {"unit": "县公安局", "reason": "x"}
        )
        assert status == 403
    async with client() as s:
        b = Browser(s, base)
        await b.login("reader")
        status, html, _ = await b.get(f"/findings/{theirs}")
        assert status == 200 and "标记为误报</button>" not in html
        status, _, _ = await b.post(f"/findings/{theirs}/ignore", {"reason": "只读账号"})
        assert status == 403


async def test_crawled_content_is_inert_in_every_page(console: tuple[str, dict[str, Any]]) -> None:
    base, county = console
    fp = county["hostile"]
    async with client() as s:
        b = Browser(s, base)
        await b.login("admin")
        pages = [
            f"/findings/{fp}",
            "/findings?q=%E6%97%A0%E6%B3%95%E8%AE%BF%E9%97%AE&status=",
            "/units/%E5%8E%BF%E6%95%99%E8%82%B2%E5%B1%80",
            "/",
        ]
        for path in pages:
            status, html, _ = await b.get(path)
            assert status == 200, path
            assert not {c for c in html if c in PAYLOAD_CHARS}, path
            assert "<script>alert" not in html and "<img src=x" not in html, path
            assert not re.search(r'href="\s*(javascript|data):', html, re.I), path
        status, html, _ = await b.get(f"/findings/{fp}")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "\\x1b]8;;" in html and "\\u202e" in html
        # Crawled http(s) URLs are links that open apart from the console; anything else is plain text.
        links = re.findall(r'<a class="ext" href="([^"]+)" rel="([^"]+)"', html)
        assert links and all(
            h.startswith("http://") and "noopener" in r and "noreferrer" in r for h, r in links
        )
        assert "JaVaScRiPt:alert(2)" in html and "data:text/html" in html  # shown, not linked
    for url in (
        "javascript:alert(1)",
        " javascript:x",
        "java\tscript:x",
        "data:text/html,x",
        "vbscript:x",
        "//evil",
    ):
        assert safe_href(url) is None, url
    assert safe_href("https://a.gov.cn/x y\u202e") == "https://a.gov.cn/x%20y%E2%80%AE"


async def test_evidence_and_bulletins_are_served_by_exact_name_only(
    console: tuple[str, dict[str, Any]],
) -> None:
    base, county = console
    fp = county["shot"]
    with Store.open_readonly(county["database"]) as store:
        detail = triage.finding_detail(store, fp, NOW)
    assert detail is not None
    name = detail.screenshots[0]
    async with client() as s:
        b = Browser(s, base)
        await b.login("office")
        status, html, _ = await b.get(f"/findings/{fp}")
        assert f"/evidence/{name}" in html
        async with s.get(f"{base}/findings/{fp}/evidence/{name}") as r:
            assert (
                r.status == 200
                and r.headers["Content-Type"] == "image/png"
                and (await r.read()).startswith(b"\x89PNG")
            )
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        for bad in ("..%2F..%2Fmonitor.db", "%2e%2e%2fmonitor.db", name.upper(), "0" * 64 + ".png"):
            status, _, _ = await b.get(f"/findings/{fp}/evidence/{bad}")
            assert status == 404, bad
        status, html, _ = await b.get("/bulletins")
        assert "2026-W47" in html and "问题清单（Excel）" in html and "link.docx" not in html
        async with s.get(f"{base}/bulletins/2026-W47/2026-W47%E9%97%AE%E9%A2%98%E6%B8%85%E5%8D%95.xlsx") as r:
            assert r.status == 200 and (await r.read()).startswith(b"PK")
            assert r.headers["Content-Disposition"].startswith("attachment")
        for bad in (
            "2026-W47/..%2Fsecret.txt",
            "2026-W47/%2E%2E%2Fsecret.txt",
            "..%2F2026-W47/bulletin.html",
            "2026-W47/link.docx",
            "2026-W47/..",
            "2026-W4/bulletin.html",
        ):
            async with s.get(f"{base}/bulletins/{bad}") as r:
                body = await r.read()
                assert r.status == 404 and b"not for download" not in body, bad


async def test_login_is_rate_limited_per_user_and_per_address(county: dict[str, Any]) -> None:
    base, runner = await serve(county, login_max_failures=3, login_window_seconds=600)
    try:
        async with client() as s:
            b = Browser(s, base)
            for _ in range(3):
                assert await b.login("czj", "guess-guess-guess") == 401
            assert await b.login("czj") == 429  # the right password, but the name is paused
            _status, _html, _ = await b.get("/login")
            assert await b.login("jyj") == 429  # this address is paused too
    finally:
        await runner.cleanup()


async def test_forwarded_headers_count_only_from_a_trusted_proxy(county: dict[str, Any]) -> None:
    # Loopback is the proxy here: its X-Forwarded-Proto makes the cookie Secure, and the client address
    # it names is the one the rate limit counts.
    base, runner = await serve(county, trusted_proxies=["127.0.0.1/32"], login_max_failures=2)
    try:
        async with client() as s:
            b = Browser(s, base)
            _, _, r = await b.get(
                "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
            )
            assert "Secure" in r.headers["Set-Cookie"]
            for _ in range(2):
                await b.login("nobody1", "x" * 12, headers={"X-Forwarded-For": "203.0.113.7"})
            assert await b.login("nobody2", "x" * 12, headers={"X-Forwarded-For": "203.0.113.7"}) == 429
            # Another client behind the same proxy is not paused.
            assert await b.login("office", headers={"X-Forwarded-For": "203.0.113.8"}) == 303
    finally:
        await runner.cleanup()
    base, runner = await serve(county)  # no trusted proxy: the headers are ignored
    try:
        async with client() as s:
            _, _, r = await Browser(s, base).get("/login", headers={"X-Forwarded-Proto": "https"})
            assert "Secure" not in r.headers["Set-Cookie"]
    finally:
        await runner.cleanup()


async def test_console_under_a_sub_path(county: dict[str, Any]) -> None:
    base, runner = await serve(county, base_path="/jiance")
    try:
        assert base.endswith("/jiance")
        async with client() as s:
            b = Browser(s, base)
            status, _, r = await b.get("/", follow=False)
            assert status == 303 and r.headers["Location"] == "/jiance/login?next=/jiance/"
            _, html, r = await b.get("/login")
            assert 'href="/jiance/static/console.css' in html and "Path=/jiance" in r.headers["Set-Cookie"]
            status, _, r = await b.post(
                "/login", {"username": "office", "password": PASSWORD, "next": "/jiance/findings"}
            )
            assert status == 303 and r.headers["Location"] == "/jiance/findings"
            await b.get("/login")  # the login gave the session a new CSRF token
            status, _, r = await b.post(
                "/login", {"username": "office", "password": PASSWORD, "next": "//evil.example/"}
            )
            assert r.headers["Location"] == "/jiance/"
            status, html, _ = await b.get("/findings")
            assert status == 200 and 'action="/jiance/findings"' in html
    finally:
        await runner.cleanup()


async def test_reads_never_wait_for_the_daemons_write_transaction(
    console: tuple[str, dict[str, Any]],
) -> None:
    base, county = console
    writer = sqlite3.connect(county["database"], isolation_level=None, timeout=1)
    try:
        async with client() as s:
            b = Browser(s, base)
            await b.login("office")  # the login's own write happens before the daemon starts writing
            writer.execute("BEGIN IMMEDIATE")  # the daemon applying a run: it holds the write lock
            writer.execute("UPDATE findings SET message = 'uncommitted' WHERE rowid = 1")
            started = time.monotonic()
            for path in ("/", "/findings", "/findings?status=&sort=deadline&page=2", "/runs", "/newmedia"):
                status, html, _ = await b.get(path)
                assert status == 200 and "uncommitted" not in html, path
            assert time.monotonic() - started < 10  # nothing waited out the 30 s lock timeout
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_secret_file_is_made_private_and_refused_when_readable(tmp_path: Path) -> None:
    path = tmp_path / "console-secret"
    first = load_secret(path, env={})
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) >= 64
    assert load_secret(path, env={}) == first
    assert load_secret(path, env={"MONITOR_CONSOLE_SECRET": "from-the-environment-" * 3}) != first
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        load_secret(path, env={})


def test_adduser_takes_the_password_from_stdin_never_argv(tmp_path: Path) -> None:
    filled = tmp_path / "c"
    filled.mkdir()
    (filled / "config.yaml").write_text("storage:\n  database: monitor.db\n", encoding="utf-8")
    base = [sys.executable, "-m", "monitor", "--config", str(filled / "config.yaml"), "web", "adduser"]

    def run(*args: str, password: str = "a-long-password-23") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=monitor_env(),
            timeout=60,
        )

    done = run("chen", "--role", "department", "--unit", "县教育局")
    assert done.returncode == 0 and "added department account chen" in done.stdout
    assert "a-long-password-23" not in done.stdout + done.stderr
    assert run("li", "--role", "department").returncode == 2  # a department needs its unit
    short = run("wang", "--role", "office", password="short")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    assert run("x", "--role", "office", "--password", "p").returncode == 2  # no such option
    with Store(filled / "monitor.db") as store:
        user = triage.get_user(store, "chen")
        with pytest.raises(AccountError, match="exists already"):
            create_account(store, "chen", "office", None, "another-password", NOW)
    assert user is not None and user.password_hash.startswith("$argon2id$") and user.unit == "县教育局"


async def test_the_overview_charts_are_drawn_on_the_server(console: tuple[str, dict[str, Any]]) -> None:
    base, _county = console
    async with client() as s:
        b = Browser(s, base)
        await b.login("office")
        _, html, _ = await b.get("/")
    assert html.count("<svg") >= 2 and "<polyline" in html and 'class="opened"' in html
    assert "2026-W48" in html and "2026-W36" in html  # this week and 12 back, in the table under the chart
    for label in ("待整改问题", "逾期未整改", "单项否决", "当前无法访问的站点", "各单位待整改", "按问题类型"):
        assert label in html
    text = re.sub(r"<[^>]+>", " ", html)  # what a reader sees: kinds by their Chinese labels only
    assert "dead_link" not in text and "问题类型未登记" not in text and "链接不可用（死链）" in text


async def test_demo_serves_the_console_with_a_printed_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``monitor demo --serve`` starts the console too; the password it prints logs in (a new one at every
    start: the old one stops working)."""
    from monitor.app.demo.runner import _demo_console

    class DemoApp:
        config = config_from_mapping(console_config_mapping("monitor.db"), base_dir=tmp_path)
        database = tmp_path / "monitor.db"

        def clock(self) -> FixedClock:
            return FixedClock(NOW.replace(tzinfo=None), SHANGHAI)

    with Store(DemoApp.database) as store:
        fill_console_store(store, 30)
    passwords = []
    for _ in range(2):
        console = await _demo_console(DemoApp(), DemoApp.config)  # type: ignore[arg-type]
        try:
            line = capsys.readouterr().out
            m = re.search(r"web console \(整改台\): (\S+)  user demo  password (\S+)", line)
            assert m, line
            passwords.append(m.group(2))
            async with client() as s:
                b = Browser(s, m.group(1).rstrip("/"))
                assert await b.login("demo", m.group(2)) == 303
                if len(passwords) == 2:
                    async with client() as s2:
                        assert await Browser(s2, m.group(1).rstrip("/")).login("demo", passwords[0]) == 401
        finally:
            await console.close()
    assert passwords[0] != passwords[1]


async def test_admin_manages_accounts_and_a_change_ends_their_sessions(county: dict[str, Any]) -> None:
    base, runner = await serve(county)
    try:
        async with client() as admin_s, client() as user_s:
            admin = Browser(admin_s, base)
            assert await admin.login("admin") == 303
            await admin.get("/users")
            form = {
                "username": "liu",
                "role": "department",
                "unit": "县财政局",
                "password": "liu-password-23",
            }
            status, html, _ = await admin.post("/users", {**form, "unit": ""})
            assert status == 400 and "部门账号须指定所属单位" in html
            await admin.get("/users")
            status, _, r = await admin.post("/users", form)
            assert status == 303 and r.headers["Location"].endswith("/users?done=user_added")
            user = Browser(user_s, base)
            assert await user.login("liu", "liu-password-23") == 303
            status, html, _ = await user.get("/findings?status=open")
            assert status == 200 and "县财政局" in html
            # A new password ends the sessions made with the old one.
            await admin.get("/users")
            status, _, _ = await admin.post("/users/liu/password", {"password": "liu-new-password-23"})
            assert status == 303
            status, _, _ = await user.get("/findings", follow=False)
            assert status == 303
            assert await user.login("liu", "liu-password-23") == 401
            assert await user.login("liu", "liu-new-password-23") == 303
            # Disabled: out at once, and no new login.
            await admin.get("/users")
            status, _, _ = await admin.post("/users/liu/disable", {})
            assert status == 303
            status, _, _ = await user.get("/findings", follow=False)
            assert status == 303
            assert await user.login("liu", "liu-new-password-23") == 401
            status, html, _ = await admin.get("/users")
            assert "已停用" in html
            status, _, _ = await admin.post("/users/admin/disable", {})
            assert status == 400  # never yourself
            await admin.get("/users")
            status, _, _ = await admin.post("/users/nobody/enable", {})
            assert status == 404
    finally:
        await runner.cleanup()
