"""The console's pages over HTTP, end to end, against a store of 20,000 realistic findings.

    .venv/bin/python bench/console_pages.py [--findings 20000] [--rounds 40]

Fills a store through the real run lifecycle (tests/console_data.py: every declared kind, three sites,
twenty units, 13 weeks of history with resolutions, 误报, deadlines and hand-overs), starts ``monitor web``
as a subprocess on a free loopback port, logs in (office: every unit; a department: one unit) and times
each page from request to the last byte of the response, one request at a time, after two warm-up
requests. Prints the median and the 95th percentile per page. Targets (issue 23): the findings list
under 300 ms, the overview under 500 ms.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.console_harness import PASSWORDS, ConsoleServer, filled_console

UNIT = "%E5%8E%BF%E6%95%99%E8%82%B2%E5%B1%80"  # 县教育局
FILTERED = f"/findings?status=&unit={UNIT}&duty=columns&q=%E6%94%BF%E7%AD%96&sort=deadline"  # q=政策
PAGES = (
    ("office", "overview", "/", 500),
    ("office", "findings list (open, by severity)", "/findings", 300),
    ("office", "findings list, page 20", "/findings?status=open&page=20", 300),
    ("office", "findings list: unit + duty + text, by deadline", FILTERED, 300),
    ("office", "findings list: overdue", "/findings?status=open&overdue=1&sort=deadline", 300),
    ("office", "finding page", "FINDING", 300),
    ("office", "unit page (printable)", f"/units/{UNIT}", 300),
    ("jyj", "overview (department)", "/", 500),
    ("jyj", "findings list (department)", "/findings", 300),
)  # fmt: skip


class Client:
    """A cookie-keeping HTTP client that logs in through the form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes]:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.status, r.read()

    def login(self, user: str) -> None:
        _, page = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = {
            "csrf_token": token.group(1).decode(),
            "username": user,
            "password": PASSWORDS[user],
            "next": "/",
        }
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=30) as r:
            assert "/login" not in r.url, "login failed"


def main() -> int:
    """Fill, serve, measure, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        fp = filled_console(folder, args.findings)
        print(f"filled {args.findings} findings in {time.perf_counter() - started:.1f} s")
        with ConsoleServer(folder) as server:
            clients = {u: Client(server.url) for u in ("office", "jyj")}
            for user, client in clients.items():
                client.login(user)
            print(f"{'page':52} {'median':>9} {'p95':>9} {'target':>8}  bytes")
            failed = False
            for user, name, path, target in PAGES:
                client = clients[user]
                path = f"/findings/{fp}" if path == "FINDING" else path
                for _ in range(2):
                    client.get(path)
                times = []
                size = 0
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    status, body = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert status == 200, (path, status)
                    size = len(body)
                median = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[18]
                ok = p95 < target
                failed |= not ok
                print(
                    f"{name:52} {median:7.1f}ms {p95:7.1f}ms {target:6d}ms  {size:>6}{'' if ok else '  OVER'}"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
