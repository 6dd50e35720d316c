"""Build ``checks/data/lm/glyph_similar.txt``: for each common character, the common characters whose
rendered glyphs look most alike (shape candidates of the language-model typo stage).

Renders the 3,755 GB2312 level-1 characters with a CJK font (default: WenQuanYi Zen Hei from Debian's
fonts-wqy-zenhei), blurs and compares the bitmaps (cosine similarity), and keeps up to ``--top``
neighbours above ``--min``. Needs Pillow and numpy, which the product does not: run it in a throw-away
virtual environment, e.g. ``python3 -m venv /tmp/g && /tmp/g/bin/pip install pillow numpy &&
PYTHONPATH=. /tmp/g/bin/python bench/build_glyph_table.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

OUT = Path(__file__).resolve().parents[1] / "checks" / "data" / "lm" / "glyph_similar.txt"


def level1() -> list[str]:
    # The same set as checks.text.typos.common_chars, written again on purpose: this script runs in a
    # throw-away venv with Pillow and numpy only, where importing the checks package (yarl, aiohttp…) fails.
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def render(ch: str, font: ImageFont.FreeTypeFont, size: int) -> np.ndarray:
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).text((size // 2, size // 2), ch, fill=255, font=font, anchor="mm")
    img = img.filter(ImageFilter.GaussianBlur(1.2)).resize((24, 24), Image.BILINEAR)
    v = np.asarray(img, dtype=np.float32).ravel()
    v -= v.mean()
    return v / (np.linalg.norm(v) or 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--font", default="/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--min", type=float, default=0.6)
    args = ap.parse_args()
    chars = level1()
    font = ImageFont.truetype(args.font, 40)
    m = np.stack([render(c, font, 48) for c in chars])
    sim = m @ m.T
    np.fill_diagonal(sim, -1)
    lines = [
        "# Glyph look-alikes: a character, TAB, its most similar common characters (rendered with WenQuanYi",
        f"# Zen Hei, blurred bitmaps, cosine >= {args.min}, top {args.top}), by bench/build_glyph_table.py.",
    ]
    for i, c in enumerate(chars):
        order = np.argsort(-sim[i])[: args.top]
        near = [chars[j] for j in order if sim[i, j] >= args.min]
        if near:
            lines.append(c + "\t" + "".join(near))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 2} characters with look-alikes written to {OUT}")


if __name__ == "__main__":
    main()
