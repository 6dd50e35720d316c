"""Synthetic county government sites for the patrol benchmark.

``generate(root, n_pages, external_base)`` writes a static site of ``n_pages`` HTML pages (a homepage and
``/content/{i}.html`` articles, ~4 KB of plain Chinese CMS markup each, ~30 links per page) plus a shared
stylesheet, script and image pool, and plants broken references:

* ``n/50`` missing article pages (``/content/missing-{k}.html``, 404 from the static server),
* ``n/100`` missing images (``/images/missing-{k}.jpg``),
* ``max(3, n/2000)`` external links of each quirky kind on a second server (see ``bench/servers.py``):
  ``/404/{k}`` and ``/500/{k}`` (always broken), ``/slow/{k}`` (200 after 2 s) and ``/429/{k}``
  (429 with ``Retry-After: 1`` on the first request, then 200) — the last two must NOT be reported.

Every page is reachable from the homepage (article ``i`` links to ``i+1`` and to random articles, so the
crawl depth stays around 5). The planted broken URLs (absolute, for the site served at ``site_base``)
are returned and written to ``planted.json``. Deterministic for a given ``seed``.

Usage: ``python bench/sitegen.py OUT_DIR N [--external http://127.0.0.2:8081]``.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

SECTIONS = ("政务公开", "政策文件", "部门动态", "乡镇动态", "通知公告", "人事信息", "财政预决算", "办事服务")
PARAGRAPHS = (
    "为深入贯彻落实县委县政府决策部署，进一步提升政务服务水平，现将有关事项通知如下。",
    "各乡镇人民政府、县直各部门要高度重视，结合实际制定具体工作方案，明确责任分工，确保各项任务按期完成。",
    "本次工作坚持以人民为中心的发展思想，聚焦群众急难愁盼问题，推动政务服务事项网上可办、就近可办。",
    "会议听取了全县重点项目建设情况汇报，研究部署了下一阶段安全生产、防汛抗旱和森林防火等工作。",
    "县财政局按照预算管理有关规定，及时公开部门预算和决算信息，主动接受社会监督。",
    "全县上下要进一步强化责任担当，狠抓工作落实，为推动经济社会高质量发展作出新的更大贡献。",
    "据统计，今年以来全县共办理各类政务服务事项十二万余件，群众满意率保持在百分之九十九以上。",
    "联系电话：0000-1234567，办公地址：县政务服务中心三楼，工作时间：周一至周五上午九时至下午五时。",
)
CSS = "body{font-family:sans-serif;color:#333}a{color:#1a4f8b}.nav li{display:inline-block;margin:0 8px}\n"
JS = "document.documentElement.className+=' js';\n"
# A 1x1 GIF: the image pool costs almost nothing on disk.
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
EXTERNAL_KINDS = ("404", "500", "slow", "429")
BROKEN_EXTERNAL_KINDS = ("404", "500")


@dataclass
class GeneratedSite:
    """What was written: page count, the planted broken URLs (site-relative or absolute), and sizes."""

    root: Path
    pages: int
    broken_internal: list[str] = field(default_factory=list)
    broken_external: list[str] = field(default_factory=list)
    transient_external: list[str] = field(default_factory=list)
    links_per_page: float = 0.0
    bytes_written: int = 0

    def planted(self, site_base: str) -> set[str]:
        """The broken URLs, absolute, for the site served at ``site_base`` (``http://host:port``)."""
        base = site_base.rstrip("/")
        return {base + p for p in self.broken_internal} | set(self.broken_external)

    def page_urls(self, site_base: str) -> list[str]:
        """Every page URL of the site (for tools that cannot crawl)."""
        base = site_base.rstrip("/")
        return [base + "/"] + [f"{base}/content/{i}.html" for i in range(1, self.pages)]


def _page_html(title: str, nav: str, body: str, links: list[tuple[str, str]], imgs: list[str]) -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    pics = "".join(f'<img src="{src}" alt="图片{i}">' for i, src in enumerate(imgs))
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<title>{title}_示例县人民政府</title><link rel="stylesheet" href="/static/site.css">'
        '<script src="/static/site.js"></script></head><body>'
        '<div class="header"><h1>示例县人民政府</h1></div>'
        f'<ul class="nav">{nav}</ul>'
        f'<div class="article"><h2>{title}</h2><p class="date">发布时间：2026-11-20</p>{body}{pics}</div>'
        f'<div class="related"><h3>相关信息</h3><ul>{items}</ul></div>'
        '<div class="footer">主办：示例县人民政府办公室 地址：示例县人民路1号</div>'
        "</body></html>"
    )


def generate(
    root: Path,
    n_pages: int,
    external_base: str,
    *,
    seed: int = 1,
    external_counts: dict[str, int] | None = None,
) -> GeneratedSite:
    """Write the site under ``root`` and return what was planted.

    ``external_counts``: how many external URLs of each quirky kind (default ``max(3, n/2000)`` each), e.g.
    the flaky-host run's ``{"slow": 20, "500": 20, "429": 10, "404": 0}``.
    """
    if n_pages < 20:
        raise ValueError("n_pages must be at least 20")
    rng = random.Random(seed)
    ext = external_base.rstrip("/")
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    (root / "static").mkdir(exist_ok=True)
    (root / "static" / "site.css").write_text(CSS, encoding="utf-8")
    (root / "static" / "site.js").write_text(JS, encoding="utf-8")
    n_images = max(10, n_pages // 20)
    for k in range(n_images):
        (root / "images" / f"img{k}.gif").write_bytes(GIF)

    site = GeneratedSite(root=root, pages=n_pages)
    # Planted references: (href, text) placed on 1-3 random pages each.
    plants: dict[int, list[tuple[str, str]]] = {}
    plant_imgs: dict[int, list[str]] = {}

    def place(count_pages: int) -> list[int]:
        return rng.sample(range(n_pages), count_pages)

    for k in range(max(2, n_pages // 50)):
        href = f"/content/missing-{k}.html"
        site.broken_internal.append(href)
        for p in place(rng.randint(1, 3)):
            plants.setdefault(p, []).append((href, f"已撤稿文章{k}"))
    for k in range(max(2, n_pages // 100)):
        href = f"/images/missing-{k}.jpg"
        site.broken_internal.append(href)
        for p in place(rng.randint(1, 2)):
            plant_imgs.setdefault(p, []).append(href)
    for kind in EXTERNAL_KINDS:
        count = max(3, n_pages // 2000) if external_counts is None else external_counts.get(kind, 0)
        for k in range(count):
            url = f"{ext}/{kind}/{k}"
            (site.broken_external if kind in BROKEN_EXTERNAL_KINDS else site.transient_external).append(url)
            for p in place(rng.randint(1, 2)):
                plants.setdefault(p, []).append((url, f"外部链接{kind}-{k}"))

    nav = (
        "".join(f'<li><a href="/content/{i + 1}.html">{name}</a></li>' for i, name in enumerate(SECTIONS))
        + '<li><a href="/">首页</a></li>'
    )
    total_links = 0
    for i in range(n_pages):
        title = "首页" if i == 0 else f"关于做好第{i}项重点工作的通知"
        links: list[tuple[str, str]] = []
        if i + 1 < n_pages:
            links.append((f"/content/{i + 1}.html", "下一篇"))
        for j in rng.sample(range(1, n_pages), 15):
            links.append((f"/content/{j}.html", f"关于做好第{j}项重点工作的通知"))
        links.extend(plants.get(i, ()))
        imgs = [f"/images/img{rng.randrange(n_images)}.gif" for _ in range(2)] + plant_imgs.get(i, [])
        body = "".join(f"<p>{rng.choice(PARAGRAPHS)}{rng.choice(PARAGRAPHS)}</p>" for _ in range(6))
        html = _page_html(title, nav, body, links, imgs)
        path = root / "index.html" if i == 0 else root / "content" / f"{i}.html"
        data = html.encode("utf-8")
        path.write_bytes(data)
        site.bytes_written += len(data)
        total_links += len(SECTIONS) + 1 + len(links) + len(imgs) + 2
    site.links_per_page = total_links / n_pages
    meta = {
        "pages": n_pages,
        "external_base": ext,
        "broken_internal": site.broken_internal,
        "broken_external": site.broken_external,
        "transient_external": site.transient_external,
        "links_per_page": round(site.links_per_page, 1),
        "bytes": site.bytes_written,
    }
    (root / "planted.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return site


def main() -> None:
    """Command line: generate a site directory."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("pages", type=int)
    ap.add_argument("--external", default="http://127.0.0.2:8081")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    site = generate(args.out, args.pages, args.external, seed=args.seed)
    print(
        f"{site.pages} pages, {site.links_per_page:.1f} links/page, "
        f"{len(site.broken_internal)} broken internal, "
        f"{len(site.broken_external)} broken external, {site.bytes_written / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
