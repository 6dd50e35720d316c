"""Page analysis in real worker processes (``monitor.crawl.analysis``,
``python -m monitor.crawl.analysis_worker``).

* A patrol finds exactly the same problems whether the pages are analysed in a worker or inline.
* The pool itself: answers in order, one page's failure stays that page's, ``drain`` waits for all.
* A worker that dies fails only its unanswered pages, never hangs the run, and the rest goes inline.
* Backpressure: with a tiny pipe buffer and a slow worker, every page is answered exactly once.
* The runner: a worker SIGKILLed mid-patrol fails the analysing checks for that run, so they resolve
  nothing, while the link check completes.
* The worker process itself ends quietly at the end of truncated or garbage input.

Every worker here is a real child process; every page is served by a real local HTTP server.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.config import Config
from monitor.core.clock import FixedClock
from monitor.core.findings import Finding
from monitor.crawl.analysis import AnalysisPool, AnalysisRequest, PageAnalyzer, PageSnapshot, encode_frame
from monitor.runner import SiteRunResult, run_duty
from monitor.store.database import Store
from monitor.web.page import Page
from tests.sites import LocalSites, fast_config, page

REPO = Path(__file__).resolve().parents[1]
GOV = "www.test.gov.cn"
HOME = f"http://{GOV}/"
SPAM = "www.ylc8-test.com"  # the hidden link's target (served locally: nothing leaves loopback)
CITY = "www.city-test.gov.cn"  # a visible link to another government site (a decoy)
HOSTS = [GOV, SPAM, CITY]
ASSETS = '<link rel="stylesheet" href="/css/site.css">'
# The stylesheet hides the 底部链接 block (a dark link) and the dropdown menu (an ordinary pattern).
SITE_CSS = "body{color:#333}\n.bottom-links p { display : none; }\n.submenu { display:none }\n"
TEXT_OPTIONS: dict[str, Any] = {"county": "示例县"}
ANALYSING_CHECKS = ["darklinks", "privacy", "sensitive", "typos"]


# ------------------------------------------------------------------------------------------- helpers


def analysis_workers() -> list[int]:
    """Pids of this process's children running ``monitor.crawl.analysis_worker`` (from /proc)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # the process ended while we looked
            continue
        # The command name in parentheses may contain spaces: the fields after the last ")" are fixed.
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == me and b"monitor.crawl.analysis_worker" in cmdline:
            found.append(int(entry.name))
    return found


@dataclass
class WorkerWatch:
    """Records the analysis workers seen while a run is under way (proof of where the work ran)."""

    seen: set[int] = field(default_factory=set)

    async def watch(self) -> None:
        """Poll /proc until cancelled."""
        while True:
            self.seen.update(analysis_workers())
            await asyncio.sleep(0.02)


async def patrol(config: Config, store: Store, clock: FixedClock) -> tuple[SiteRunResult, set[int]]:
    """One patrol of the test site, and the analysis worker pids seen while it ran."""
    watch = WorkerWatch()
    watcher = asyncio.create_task(watch.watch())
    try:
        (result,) = await run_duty("patrol", config, store, clock)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    return result, watch.seen


def site_config(sites: LocalSites, workers: int) -> Config:
    """The test site's config with ``workers`` analysis workers."""
    return fast_config(sites, HOSTS, HOME, crawl={"analysis_workers": workers}, text=TEXT_OPTIONS)


@dataclass
class SiteState:
    """What the mutable pages currently show, and how slowly every page is served."""

    typo: bool = True
    dark_link: bool = True
    delay: float = 0.0


def serve_county_site(sites: LocalSites, state: SiteState) -> None:
    """A dozen realistic pages: one planted problem of each kind, and decoys that must stay silent."""

    def article(title: str, body: str, *, head: str = "") -> Callable[[], str]:
        return lambda: page(title, body, head=head)

    def news_1101() -> str:
        wrong = "中华人民共合国" if state.typo else "中华人民共和国"
        deploy = "布署" if state.typo else "部署"
        return page(
            "县政府召开常务会议",
            f"<p>会议传达学习了{wrong}国务院有关文件精神，对冬季安全生产工作进行了{deploy}。</p>",
        )

    def topic_01() -> str:
        hidden = (
            f'<div class="bottom-links"><p><a href="http://{SPAM}/">澳门娱乐城</a></p></div>'
            if state.dark_link
            else ""
        )
        return page("乡村振兴专题", f"<p>全县乡村振兴工作稳步推进。</p>{hidden}", head=ASSETS)

    pages: dict[str, Callable[[], str]] = {
        "/": lambda: page(
            "示例县人民政府",
            "<p>县政府召开常务会议，研究部署冬季安全生产工作。</p>",
            links=["/xwzx/", "/zwgk/", "/tzgg/", "/ztzl/", "/about.html"],
            head=ASSETS,
        ),
        "/xwzx/": lambda: page(
            "新闻中心", links=["/xwzx/2026/1101.html", "/xwzx/2026/1102.html", "/xwzx/2026/1103.html"]
        ),
        "/xwzx/2026/1101.html": news_1101,  # planted: 严重表述错误 (国名) and 错别字
        "/xwzx/2026/1102.html": article(  # decoy: the correct forms
            "县领导调研秋冬季农业生产", "<p>县领导强调，要认真贯彻中华人民共和国有关法律，周密部署。</p>"
        ),
        "/xwzx/2026/1103.html": article(  # decoy: lottery news is not a sensitive word
            "体彩公益金助力全民健身", "<p>上级拨付体育彩票公益金50万元，用于建设全民健身场地。</p>"
        ),
        "/zwgk/": lambda: page("政务公开", links=["/zwgk/gs/01.html", "/zwgk/gs/02.html"]),
        "/zwgk/gs/01.html": article(  # planted: a valid resident ID number
            "助学金发放公示", "<p>经审核，现将资助对象公示如下：学生张某某，身份证号410523198507150011。</p>"
        ),
        "/zwgk/gs/02.html": article(  # decoy: a number with a wrong check digit is not an ID number
            "项目编号公示", "<p>项目编号410523196203081522，公示期5个工作日。</p>"
        ),
        "/tzgg/": lambda: page("通知公告", links=["/tzgg/01.html", "/tzgg/02.html"]),
        "/tzgg/01.html": article(  # planted: a spam word in an image's alt text
            "关于开展安全检查的通知", '<p>网页底部：<img src="/x.gif" alt="澳门赌场 官方网站"></p>'
        ),
        "/tzgg/02.html": article(  # decoy: "反对台独" is not in the shipped list, hidden text is not text
            "关于做好节日值班的通知",
            '<p>请各单位做好节日值班工作。</p><p style="display:none">中华人民共合国</p>',
        ),
        "/ztzl/": lambda: page("专题专栏", links=["/ztzl/01.html", "/ztzl/02.html"], head=ASSETS),
        "/ztzl/01.html": topic_01,  # planted: a link hidden by the external stylesheet
        "/ztzl/02.html": article(  # decoy: a hidden dropdown of own links, a visible .gov.cn link
            "专题导航",
            '<ul class="submenu"><li><a href="/xwzx/">新闻中心</a></li><li><a href="/zwgk/">政务公开</a>'
            f'</li></ul><p><a href="http://{CITY}/">示市人民政府</a></p>',
            head=ASSETS,
        ),
        "/about.html": article("网站简介", "<p>本网站由示例县人民政府办公室主办。</p>"),
    }

    def html_handler(render: Callable[[], str]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            if state.delay:
                await asyncio.sleep(state.delay)
            return web.Response(text=render(), content_type="text/html", charset="utf-8")

        return handler

    for path, render in pages.items():
        sites.route(GOV, path, html_handler(render))
    sites.html(GOV, "/css/site.css", SITE_CSS, content_type="text/css")
    sites.html(GOV, "/x.gif", "GIF89a", content_type="image/gif")
    sites.html(SPAM, "/", page("某网站"))
    sites.html(CITY, "/", page("示市人民政府"))


def planted(findings: list[Finding]) -> set[tuple[str, str, str]]:
    """(duty, kind, page path) of each finding."""
    out = set()
    for f in findings:
        where = f.evidence.get("page") or f.url
        out.add((f.duty, f.kind, where.removeprefix(HOME)))
    return out


EXPECTED = {
    ("typos", "serious_expression", "xwzx/2026/1101.html"),
    ("typos", "typo", "xwzx/2026/1101.html"),
    ("privacy", "privacy_id_number", "zwgk/gs/01.html"),
    ("sensitive", "sensitive_word", "tzgg/01.html"),
    ("darklinks", "dark_link", "ztzl/01.html"),
}


# ------------------------------------------------------------------------------------ 1. equivalence


async def test_patrol_finds_the_same_with_a_worker_as_inline(
    sites: LocalSites, tmp_path: Path, clock: FixedClock
) -> None:
    serve_county_site(sites, SiteState())
    with Store(tmp_path / "inline.db") as store:
        inline, inline_workers = await patrol(site_config(sites, 0), store, clock)
    with Store(tmp_path / "worker.db") as store:
        worker, worker_workers = await patrol(site_config(sites, 1), store, clock)

    assert inline_workers == set()  # analysis_workers 0: no process started
    assert len(worker_workers) == 1  # analysis_workers 1: one real worker did the analysis
    assert analysis_workers() == []  # and it is gone after the run
    for result in (inline, worker):
        assert result.status == "ok"
        assert "check_errors" not in result.counts
        assert result.counts["text_pages"] == 15  # every HTML page of the site was analysed
    # Exactly the planted problems, no decoy, found the same way by both paths.
    assert planted(inline.findings) == EXPECTED
    assert {(f.fingerprint, f.message) for f in worker.findings} == {
        (f.fingerprint, f.message) for f in inline.findings
    }
    by_kind = {f.kind: f for f in worker.findings}
    serious = by_kind["serious_expression"].evidence
    assert serious["wrong"].startswith("中华人民共合国")
    assert serious["suggestion"].startswith("中华人民共和国")
    assert by_kind["typo"].message == "页面“县政府召开常务会议”出现错别字：“布署”应为“部署”"
    assert by_kind["privacy_id_number"].evidence["wrong"] == "410523********0011"
    assert by_kind["sensitive_word"].evidence["wrong"] == "澳门赌场"
    dark = by_kind["dark_link"]
    assert dark.url == f"http://{SPAM}/" and dark.severity == "veto"
    assert any(f"{HOME}css/site.css" in t for t in dark.evidence["techniques"])
    assert worker.counts["indicators"] == inline.counts["indicators"]


# ------------------------------------------------------------------------------------ pool analyzers


@dataclass(frozen=True)
class Seen:
    """What the test analyzer saw of one page, and which process saw it."""

    url: str
    digest: str
    pid: int
    inputs: Any
    shared: dict[str, str]


@dataclass(frozen=True)
class ProbeAnalyzer(PageAnalyzer):
    """A test analyzer (imported by the worker from this module): reports what it saw of each page.

    A page whose HTML contains ``BOOM`` raises; one containing ``EXIT`` ends the worker process at once.
    """

    delay: float = 0.0
    key: str = "probe"

    def analyze(self, page: Page, inputs: Any, shared: Mapping[str, str]) -> Seen:
        """Echo the page's URL and content digest, after ``delay`` seconds of "work"."""
        if "EXIT" in page.html:
            os._exit(3)
        if "BOOM" in page.html:
            raise ValueError(f"boom on {page.url}")
        time.sleep(self.delay)
        return Seen(page.url, digest(page.html), os.getpid(), inputs, dict(shared))


def digest(html: str) -> str:
    """A fingerprint of a page's HTML: equal digests mean the worker saw the page intact."""
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def make_page(n: int, body: str = "") -> Page:
    """A small page numbered ``n``."""
    url = f"{HOME}p/{n}.html"
    return Page(url=url, final_url=url, status=200, depth=1, html=page(f"第{n}页", body), encoding="utf-8")


@dataclass
class Collector:
    """The callbacks of one run of the pool: results and errors in arrival order."""

    results: list[Seen] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    async def submit(
        self, pool: AnalysisPool, analyzer: PageAnalyzer, p: Page, inputs: Any = None, **shared: str
    ) -> None:
        """Submit one page; its result or error lands here."""
        url = p.url
        request = AnalysisRequest(analyzer, self.results.append, inputs, shared)
        await pool.submit(request, p, lambda why: self.errors.append((url, why)))


@pytest.fixture
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the worker import this module (pytest's sys.path entries are not inherited)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


# -------------------------------------------------------------------------------------- 2. the pool


async def test_pool_answers_every_page_in_order_and_keeps_failures_per_page(importable_tests: None) -> None:
    pages = [make_page(n, "BOOM" if n == 7 else "") for n in range(20)]
    got = Collector()
    pool = AnalysisPool(1)
    await pool.start()
    try:
        analyzer = ProbeAnalyzer(delay=0.02)
        for n, p in enumerate(pages):
            # The stylesheet is sent to the worker once and kept there for the later pages.
            await got.submit(pool, analyzer, p, ("css", n), **{f"{HOME}a.css": ".x{display:none}"})
        # Handed over, not answered yet: the worker is still starting and takes 20 ms a page.
        assert len(got.results) + len(got.errors) < len(pages)
        await asyncio.wait_for(pool.drain(), timeout=20)
        # drain() returned only after every page had its answer.
        assert len(got.results) + len(got.errors) == len(pages)
    finally:
        await pool.close()

    ok = [p for n, p in enumerate(pages) if n != 7]
    assert [s.url for s in got.results] == [p.url for p in ok]  # in submission order
    assert [s.digest for s in got.results] == [digest(p.html) for p in ok]
    assert [s.inputs for s in got.results] == [("css", n) for n in range(20) if n != 7]
    assert all(s.shared == {f"{HOME}a.css": ".x{display:none}"} for s in got.results)
    assert {s.pid for s in got.results} != {os.getpid()} and len({s.pid for s in got.results}) == 1
    # Only the failing page failed, with the analyzer's own message; the pages after it were analysed.
    assert got.errors == [(pages[7].url, f"ValueError: boom on {pages[7].url}")]
    assert (pool.worker_pages, pool.inline_pages, pool.worker_deaths) == (20, 0, 0)


# ----------------------------------------------------------------------------------- 3. worker death


async def test_dead_worker_fails_its_pending_pages_and_later_pages_go_inline(importable_tests: None) -> None:
    pages = [make_page(n, "EXIT" if n == 3 else "") for n in range(6)]
    got = Collector()
    pool = AnalysisPool(1)
    await pool.start()
    try:
        analyzer = ProbeAnalyzer(delay=0.01)
        for p in pages:
            await got.submit(pool, analyzer, p)
        await asyncio.wait_for(pool.drain(), timeout=20)  # does not hang on the dead worker

        # Pages answered before the exit keep their results; the page that killed the worker and the
        # ones queued behind it fail with a message saying why.
        assert [s.url for s in got.results] == [p.url for p in pages[:3]]
        assert [url for url, _ in got.errors] == [p.url for p in pages[3:]]
        assert all(why == "analysis worker exited (code 3)" for _, why in got.errors), got.errors
        assert pool.worker_deaths == 1

        # Later pages are analysed inline, in this process, and their results still arrive.
        later = [make_page(n) for n in range(6, 9)]
        for p in later:
            await got.submit(pool, analyzer, p)
        await asyncio.wait_for(pool.drain(), timeout=5)
    finally:
        await pool.close()
    assert [s.url for s in got.results[3:]] == [p.url for p in later]
    assert {s.pid for s in got.results[3:]} == {os.getpid()}
    assert pool.inline_pages == 3 and len(got.errors) == 3


# ------------------------------------------------------------------------------------ 4. backpressure


LONG_TEXT = "<p>" + "县政府召开常务会议，研究部署冬季安全生产工作。" * 3500 + "</p>"  # ~250 KiB


async def test_full_pipe_slows_submissions_and_loses_no_page(importable_tests: None) -> None:
    # 40 pages of ~250 KiB through a 64 KiB write buffer to a worker taking 10 ms a page.
    pages = [make_page(n, f"{n}{LONG_TEXT}") for n in range(40)]
    assert all(len(p.html.encode("utf-8")) > 200_000 for p in pages)
    got = Collector()
    pool = AnalysisPool(1, buffer_bytes=64 * 1024)
    await pool.start()
    try:
        analyzer = ProbeAnalyzer(delay=0.01)
        for p in pages:
            await got.submit(pool, analyzer, p)
        # submit() waited while the pipe was full: by the time the last page was handed over, the worker
        # had already answered most of the others (without backpressure all 40 would be queued in memory
        # before the worker even finished starting).
        answered_when_submitted = len(got.results)
        await asyncio.wait_for(pool.drain(), timeout=30)
    finally:
        await pool.close()
    assert answered_when_submitted >= len(pages) // 2
    assert got.errors == []
    assert Counter(s.url for s in got.results) == Counter(p.url for p in pages)  # each exactly once
    assert [s.digest for s in got.results] == [digest(p.html) for p in pages]  # whole, uncorrupted pages
    assert pool.worker_pages == len(pages) and pool.inline_pages == 0


async def test_worker_dying_behind_a_full_pipe_does_not_block_submissions(importable_tests: None) -> None:
    # The crawl is blocked in submit() on a full pipe when the worker dies: it must wake up, and every
    # page still gets exactly one answer (a result, or an error saying the worker is gone).
    pages = [make_page(n, ("EXIT" if n == 10 else "") + LONG_TEXT) for n in range(30)]
    got = Collector()
    pool = AnalysisPool(1, buffer_bytes=64 * 1024)
    await pool.start()
    try:
        analyzer = ProbeAnalyzer(delay=0.01)
        for p in pages:
            await asyncio.wait_for(got.submit(pool, analyzer, p), timeout=10)
        await asyncio.wait_for(pool.drain(), timeout=10)
    finally:
        await pool.close()
    urls = [p.url for p in pages]
    failed = [url for url, _ in got.errors]
    assert sorted([s.url for s in got.results] + failed) == sorted(urls)  # each page answered once
    # The failures are the page that killed the worker and the few queued behind it in the pipe.
    first = urls.index(failed[0])
    assert failed == urls[first : first + len(failed)] and pages[10].url in failed and len(failed) <= 4
    assert all(why.startswith("analysis worker ") for _, why in got.errors), got.errors
    assert [s.url for s in got.results] == [u for u in urls if u not in failed]
    assert [s.digest for s in got.results] == [digest(p.html) for p in pages if p.url not in failed]
    # The pages after the failed ones were analysed inline, in this process.
    inline = [s for s in got.results if s.pid == os.getpid()]
    assert [s.url for s in inline] == urls[first + len(failed) :] and pool.inline_pages == len(inline)
    assert pool.worker_deaths == 1


# ----------------------------------------------------------------------------- 5. killed in a patrol


async def kill_worker_mid_crawl(sites: LocalSites, killed: list[int]) -> None:
    """SIGKILL the run's analysis worker once the crawl has handed it pages it has not answered.

    A worker needs seconds to build the text scanner before it answers its first text page, so pages
    analysed in the first moments of the crawl are still unanswered when it is killed.
    """

    def served() -> int:
        return sum(n for (_, h, p), n in sites.hits.items() if h == GOV and p.endswith(("/", ".html")))

    before = served()  # pages served to earlier runs do not count
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = analysis_workers()
        if pids and served() - before >= 5:
            await asyncio.sleep(0.3)  # let the crawl hand those pages over
            (pid,) = pids
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        await asyncio.sleep(0.01)


async def test_killed_worker_fails_the_analysing_checks_and_resolves_nothing(
    sites: LocalSites, store: Store, clock: FixedClock
) -> None:
    state = SiteState()
    serve_county_site(sites, state)
    (seed,) = await run_duty("patrol", site_config(sites, 0), store, clock)
    assert planted(seed.findings) == EXPECTED
    typo = next(f for f in seed.findings if f.kind == "typo")
    dark = next(f for f in seed.findings if f.kind == "dark_link")

    # Both problems are fixed on the site; this patrol's worker is killed while the crawl runs.
    state.typo = state.dark_link = False
    state.delay = 0.1  # the crawl lasts long enough to be killed in the middle of
    killed: list[int] = []
    killer = asyncio.create_task(kill_worker_mid_crawl(sites, killed))
    try:
        # A run waiting for answers that will never come would hang the daemon: bounded here.
        (run,) = await asyncio.wait_for(run_duty("patrol", site_config(sites, 1), store, clock), timeout=60)
    finally:
        await asyncio.gather(killer)
    assert len(killed) == 1

    assert run.status == "ok"  # the link check did its whole job
    assert run.counts["check_errors"] == ANALYSING_CHECKS
    assert run.counts["broken"] == 0 and run.counts["pages_crawled"] >= 15
    recorded = store.get_run(run.run_id)
    assert (recorded["status"], recorded["counts"]["check_errors"]) == ("ok", ANALYSING_CHECKS)
    # Nothing of the failed checks was resolved: the fixed problems stay open until a run that saw
    # every page says otherwise.
    assert store.finding(typo.fingerprint)["status"] == "open"
    assert store.finding(dark.fingerprint)["status"] == "open"
    assert run.outcome.resolved == 0

    # Control: a run whose analysis completes does resolve them (so the silence above is the failure's).
    state.delay = 0.0
    (after,) = await run_duty("patrol", site_config(sites, 0), store, clock)
    assert "check_errors" not in after.counts
    assert store.finding(typo.fingerprint)["status"] == "resolved"
    assert store.finding(dark.fingerprint)["status"] == "resolved"


# -------------------------------------------------------------------------------- 6. the worker alone


def run_worker(data: bytes) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m monitor.crawl.analysis_worker`` on ``data`` as its whole input."""
    return subprocess.run(
        [sys.executable, "-m", "monitor.crawl.analysis_worker"],
        input=data,
        capture_output=True,
        cwd=REPO,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x00", id="half-a-header"),
        pytest.param(b"\x00\x00\x03\xe8short", id="body-shorter-than-its-length"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http-request"),
        pytest.param(encode_frame(("analyzer", "probe", ProbeAnalyzer()))[:-3], id="truncated-frame"),
    ],
)
def test_worker_ends_quietly_at_the_end_of_truncated_or_garbage_input(data: bytes) -> None:
    done = run_worker(data)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_worker_answers_whole_jobs_then_ends_quietly_at_a_cut_frame() -> None:
    p = make_page(1)
    job = ("job", 1, PageSnapshot.of(p), (("probe", "in", ("s",)),), {"s": "css"})
    # Two analyses of one page, one for an analyzer it was never sent: that one fails, the other is
    # answered all the same, and the worker goes on.
    mixed = ("job", 2, PageSnapshot.of(p), (("nope", None, ()), ("probe", "again", ())), {})
    data = b"".join(
        [
            encode_frame(("analyzer", "probe", ProbeAnalyzer())),
            encode_frame(job),
            encode_frame(mixed),
            encode_frame(job)[:-5],  # the parent died while writing this one
        ]
    )
    done = run_worker(data)
    assert (done.returncode, done.stderr) == (0, b"")
    answers = read_frames(done.stdout)
    assert [a[:2] for a in answers] == [("done", 1), ("done", 2)]
    ((ok, seen),) = answers[0][2]
    assert ok and (seen.url, seen.inputs, seen.shared) == (p.url, "in", {"s": "css"})
    assert seen.digest == digest(p.html)
    (failed, why), (ok2, again) = answers[1][2]
    assert (failed, why) == (False, "KeyError: 'nope'")
    assert ok2 and again.inputs == "again" and again.digest == digest(p.html)


def read_frames(data: bytes) -> list[Any]:
    """Decode the worker's length-prefixed pickle frames (all of them must be whole)."""
    frames = []
    while data:
        size = int.from_bytes(data[:4], "big")
        assert len(data) >= 4 + size, "a cut frame on the worker's output"
        frames.append(pickle.loads(data[4 : 4 + size]))
        data = data[4 + size :]
    return frames


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x00\x00\x05hello", id="not-a-pickle"),
        pytest.param(encode_frame(("job", 1)), id="a-job-cut-short"),
        pytest.param(encode_frame("hello") + encode_frame(("forget",)), id="not-a-message"),
    ],
)
def test_worker_stops_quietly_at_a_corrupt_frame(data: bytes) -> None:
    done = run_worker(data)
    assert (done.returncode, done.stdout) == (0, b"")
    assert b"Traceback" not in done.stderr and done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"analysis worker: ")
