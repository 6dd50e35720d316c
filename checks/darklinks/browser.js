// Evaluated in the rendered page by checks/darklinks_browser.py (page.evaluate). Argument: the list of
// absolute link targets to look for. Returns, per target, every <a>/<area> whose resolved href equals it,
// with whether a reader can see it and why not. Pure reading: the page is never changed.
(targets) => {
  const norm = (u) => {
    try {
      const x = new URL(u, document.baseURI);
      x.hash = "";
      return x.href;
    } catch (e) {
      return null;
    }
  };
  const doc = document.documentElement;
  const docW = Math.max(doc.scrollWidth, document.body ? document.body.scrollWidth : 0, innerWidth);
  const docH = Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0, innerHeight);
  const sx = scrollX, sy = scrollY;
  // Content so far to the right that no reader scrolls there (no government page is 5000 px wide).
  const FAR = 5000;

  const parseColor = (c) => {
    const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)/.exec(c || "");
    if (!m) return null;
    let a = m[4] === undefined ? 1 : parseFloat(m[4]);
    if (m[4] && m[4].endsWith("%")) a = a / 100;
    return [parseFloat(m[1]), parseFloat(m[2]), parseFloat(m[3]), a];
  };
  const lum = (c) => {
    const ch = c.slice(0, 3).map((v) => {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const contrast = (a, b) => {
    const la = lum(a), lb = lum(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  };
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  // The colour painted behind a link, read from what the browser stacks under the middle of its text
  // (document.elementsFromPoint): the first opaque background colour below it. Null when that cannot be
  // known — a background image or a picture below, another positioned layer below (banners, carousels
  // whose pictures come from elsewhere), or something covering the link — so camouflage is never
  // claimed on a guess.
  const MEDIA = /^(IMG|VIDEO|CANVAS|IFRAME|SVG|OBJECT|EMBED|PICTURE)$/i;
  const backgroundOf = (el, rect) => {
    let x = (rect.l + rect.r) / 2, y = (rect.t + rect.b) / 2;
    let moved = false;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) {
      window.scrollTo(Math.max(0, x + sx - innerWidth / 2), Math.max(0, y + sy - innerHeight / 2));
      moved = true;
      x += sx - scrollX;
      y += sy - scrollY;
    }
    let stack;
    try {
      stack = document.elementsFromPoint(x, y);
    } finally {
      if (moved) window.scrollTo(sx, sy);
    }
    const at = stack.findIndex((e) => e === el || el.contains(e));
    if (at < 0) return null;
    for (const e of stack.slice(at)) {
      if (e === el || el.contains(e)) continue;
      const cs = getComputedStyle(e);
      if (cs.backgroundImage && cs.backgroundImage !== "none") return null;
      if (!e.contains(el)) {
        if (MEDIA.test(e.tagName)) return null;
        if (cs.position === "absolute" || cs.position === "fixed") return null;
      }
      const c = parseColor(cs.backgroundColor);
      if (c && c[3] >= 0.9) return c;
    }
    return [255, 255, 255, 1]; // the canvas of a page without a background
  };
  const union = (rects) => {
    let r = null;
    for (const x of rects) {
      if (x.width <= 0 && x.height <= 0) continue;
      if (!r) r = { l: x.left, t: x.top, r: x.right, b: x.bottom };
      else {
        r.l = Math.min(r.l, x.left); r.t = Math.min(r.t, x.top);
        r.r = Math.max(r.r, x.right); r.b = Math.max(r.b, x.bottom);
      }
    }
    return r;
  };
  // What a reader would see of the link: its text and images, not its box (text-indent:-9999px keeps the box
  // in place and moves the words away).
  const contentRect = (el) => {
    const rects = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let n = walker.currentNode; n; n = walker.nextNode()) {
      if (n.nodeType === 3) {
        if (!n.nodeValue.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const r of range.getClientRects()) rects.push(r);
      } else if (/^(IMG|SVG|CANVAS|VIDEO|INPUT|OBJECT|EMBED|IFRAME)$/i.test(n.tagName)) {
        rects.push(n.getBoundingClientRect());
      } else if (getComputedStyle(n).backgroundImage !== "none") {
        // An icon link: font-size:0 text over a background image (集约化 badges, share buttons).
        rects.push(n.getBoundingClientRect());
      }
    }
    if (!rects.length) {
      for (const r of el.getClientRects()) rects.push(r);
    }
    return union(rects);
  };
  const clipEmpty = (cs) => {
    if (cs.position !== "absolute" && cs.position !== "fixed") return false;
    const m = /rect\(([^)]*)\)/.exec(cs.clip || "");
    if (!m) return false;
    const v = m[1].split(/[,\s]+/).filter(Boolean).map((s) => (s === "auto" ? NaN : parseFloat(s)));
    if (v.length !== 4 || v.some(isNaN)) return false;
    return v[1] - v[3] <= 1 || v[2] - v[0] <= 1;
  };
  const clipPathEmpty = (cp) => {
    if (!cp || cp === "none") return false;
    let m = /inset\(\s*([\d.]+)(%|px)?/.exec(cp);
    if (m && m[2] === "%" && parseFloat(m[1]) >= 50) return true;
    m = /(circle|ellipse)\(\s*0(px|%)?[\s)]/.exec(cp);
    if (m) return true;
    m = /polygon\(([^)]*)\)/.exec(cp);
    if (m) {
      const pts = m[1].split(",").map((p) => p.trim());
      return pts.length > 0 && pts.every((p) => p === pts[0]);
    }
    return false;
  };
  const px = (n) => Math.round(n);

  const inspect = (el) => {
    const reasons = [];
    const cs = getComputedStyle(el);
    // display:none anywhere above means no box at all.
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none") {
        reasons.push(e === el ? "display:none" : `所在的${e.tagName.toLowerCase()}元素display:none`);
        break;
      }
    }
    if (cs.visibility === "hidden" || cs.visibility === "collapse") reasons.push(`visibility:${cs.visibility}`);
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity || "1");
    if (opacity < 0.1) reasons.push(`透明度${opacity.toFixed(2)}`);
    const fontSize = parseFloat(cs.fontSize || "16");
    // Pictures in the link (elements, or background images of icon links): their box is what shows.
    let hasImage =
      !!el.querySelector("img,svg,canvas,video,object,embed,iframe") ||
      [el, ...el.querySelectorAll("*")].some((e) => getComputedStyle(e).backgroundImage !== "none");
    let rect = contentRect(el);
    const box = el.getBoundingClientRect();
    // An icon link can also be a transparent block laid over its parent's background picture (a 25×26
    // link with font-size:0 text on a badge): the block is what a reader sees and clicks.
    if ((!rect || rect.r - rect.l <= 1 || rect.b - rect.t <= 1) && box.width >= 8 && box.height >= 8) {
      let e = el.parentElement;
      for (let depth = 0; e && depth < 3; depth += 1, e = e.parentElement) {
        if (getComputedStyle(e).backgroundImage !== "none") {
          rect = { l: box.left, t: box.top, r: box.right, b: box.bottom };
          hasImage = true;
          break;
        }
      }
    }
    const w = rect ? rect.r - rect.l : 0, h = rect ? rect.b - rect.t : 0;
    let uncertain = null;
    // An image link whose image did not load (blocked: it lives on another site; or missing) has the size
    // and place of a broken-image placeholder, which says nothing about what a visitor sees.
    const imageOnly = !/\S/.test(el.textContent || "");
    // (An image given its size in the markup keeps that size whether it loads or not.)
    const sized = (i) => (i.hasAttribute("width") || i.style.width) && (i.hasAttribute("height") || i.style.height);
    const broken = [...el.querySelectorAll("img")].some((i) => (!i.complete || i.naturalWidth === 0) && !sized(i));
    if (!reasons.length && imageOnly && broken) {
      uncertain = "链接内的图片未加载（来自本站以外或已缺失）";
    } else if (!reasons.length && (w <= 1 || h <= 1)) {
      if (fontSize <= 1) reasons.push(`字号${px(fontSize)}像素`);
      reasons.push(`尺寸${px(w)}×${px(h)}像素`);
    } else if (!reasons.length && fontSize <= 2 && !hasImage && /\S/.test(el.textContent || "")) {
      reasons.push(`字号${fontSize}像素`);
    }
    if (rect && !reasons.length && !uncertain) {
      const L = rect.l + sx, T = rect.t + sy, R = rect.r + sx, B = rect.b + sy;
      if (R <= 0 || B <= 0 || L >= docW || T >= docH || L >= FAR) {
        reasons.push(`位于页面可见范围之外（坐标${px(L)},${px(T)}）`);
      }
    }
    if (!reasons.length) {
      for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (clipEmpty(s)) { reasons.push(`clip:${s.clip}`); break; }
        if (clipPathEmpty(s.clipPath)) { reasons.push(`clip-path:${s.clipPath}`); break; }
      }
    }
    if (rect && !reasons.length && !uncertain) {
      // Overflow clipping by an ancestor. An absolutely positioned box escapes the overflow of ancestors
      // below its containing block; a fixed one escapes them all.
      let pos = cs.position;
      for (let e = el.parentElement; e && e !== doc && pos !== "fixed"; e = e.parentElement) {
        const s = getComputedStyle(e);
        const escapes = pos === "absolute" && s.position === "static";
        if (!escapes) {
          const clips = (o) => o === "hidden" || o === "clip";
          const scrolls = (o) => o === "auto" || o === "scroll";
          const r = e.getBoundingClientRect();
          const cl = r.left + e.clientLeft, ct = r.top + e.clientTop;
          const cw = e.clientWidth, ch = e.clientHeight;
          const clipX = clips(s.overflowX) || (scrolls(s.overflowX) && cw <= 1);
          const clipY = clips(s.overflowY) || (scrolls(s.overflowY) && ch <= 1);
          const ix = clipX ? Math.min(rect.r, cl + cw) - Math.max(rect.l, cl) : 2;
          const iy = clipY ? Math.min(rect.b, ct + ch) - Math.max(rect.t, ct) : 2;
          if (ix <= 1 || iy <= 1) {
            reasons.push(`被上级${e.tagName.toLowerCase()}元素裁剪（overflow:hidden，容器${px(cw)}×${px(ch)}像素）`);
            break;
          }
        }
        if (s.position !== "static") pos = s.position;
      }
    }
    const hasText = /\S/.test(el.textContent || "");
    if (!reasons.length && hasText && !hasImage && rect) {
      // The colour of the words themselves (a <span> inside the link may set its own).
      const tw = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let textNode = tw.nextNode();
      while (textNode && !textNode.nodeValue.trim()) textNode = tw.nextNode();
      const fg = parseColor(getComputedStyle(textNode ? textNode.parentElement : el).color);
      if (fg && fg[3] < 0.1) reasons.push("文字颜色透明");
      else if (fg) {
        const bg = backgroundOf(el, rect);
        if (bg && contrast(fg, bg) < 1.2) {
          reasons.push(`文字颜色${hex(fg)}与背景色${hex(bg)}几乎相同`);
        }
      }
    }
    // Where to photograph: the link itself when it has a box on the page, else the nearest ancestor that has.
    let region = null;
    const usable = (r) => r && r.r - r.l > 1 && r.b - r.t > 1 && r.r + sx > 0 && r.b + sy > 0 && r.l + sx < Math.min(docW, FAR) && r.t + sy < docH;
    const boxRect = { l: box.left, t: box.top, r: box.right, b: box.bottom };
    if (usable(rect)) region = rect;
    else if (usable(boxRect)) region = boxRect;
    else {
      for (let e = el.parentElement; e && e !== document.body && e !== doc; e = e.parentElement) {
        const b = e.getBoundingClientRect();
        const r = { l: b.left, t: b.top, r: b.right, b: b.bottom };
        if (usable(r)) { region = r; break; }
      }
    }
    if (reasons.length) uncertain = null;
    return {
      hidden: reasons.length > 0,
      uncertain,
      reasons,
      width: px(w),
      height: px(h),
      x: rect ? px(rect.l + sx) : null,
      y: rect ? px(rect.t + sy) : null,
      region: region ? { x: region.l + sx, y: region.t + sy, width: region.r - region.l, height: region.b - region.t } : null,
      text: (el.textContent || "").trim().slice(0, 80),
    };
  };

  const wanted = new Map();
  for (const t of targets) {
    const n = norm(t);
    if (n !== null) wanted.set(n, t);
  }
  const out = {};
  for (const t of targets) out[t] = [];
  for (const el of document.querySelectorAll("a[href], area[href]")) {
    const n = norm(el.getAttribute("href"));
    if (n === null || !wanted.has(n)) continue;
    out[wanted.get(n)].push(inspect(el));
  }
  return { matches: out, docWidth: docW, docHeight: docH };
}
