// The flame graph page: HTML, CSS and the in-page script as one document. The data goes into a JSON
// script element with every `<`, `>` and `&` escaped, the title through HTML escaping, and the script only
// ever puts names into the page with textContent or the canvas, so no function name can break out.
import type { FlameTree } from "./flame-graph.js";

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** JSON safe inside a <script> element: no `</script>`, `<!--` or line separators can appear. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:13px system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;background:#fff}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;padding:8px 12px;border-bottom:1px solid #ddd;background:#f7f7f7}
h1{font-size:15px;margin:0}
#summary,#matched{color:#555}
#matched{min-width:12ch}
#search{width:22em;padding:3px 6px;font:inherit}
button{font:inherit;padding:2px 10px}
#details{padding:4px 12px;height:24px;color:#333;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,Menlo,Consolas,monospace}
#chart{padding:0 12px 12px}
canvas{display:block;cursor:pointer}
#tooltip{position:fixed;pointer-events:none;display:none;max-width:60ch;padding:6px 8px;background:rgba(30,30,30,.94);color:#fff;border-radius:4px;font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;z-index:2}
`;

// Plain browser JavaScript (no modules, no network). window.flameGraph is the automation hook the tests
// (and any tool) use to read what was drawn.
const SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flame-data").textContent);
  var names = data.names, raw = data.nodes, n = raw.length / 4;
  var nameOf = new Int32Array(n), depth = new Int32Array(n), total = new Float64Array(n), self = new Float64Array(n);
  var x = new Float64Array(n), parent = new Int32Array(n), end = new Int32Array(n);
  var maxDepth = 0, nextX = [0], path = [], open = [], i;
  for (i = 0; i < n; i++) {
    var d = raw[4 * i + 1];
    nameOf[i] = raw[4 * i]; depth[i] = d; total[i] = raw[4 * i + 2]; self[i] = raw[4 * i + 3];
    if (d > maxDepth) maxDepth = d;
    x[i] = nextX[d] || 0;
    nextX[d] = x[i] + total[i];
    nextX[d + 1] = x[i];
    parent[i] = d === 0 ? -1 : path[d - 1];
    path[d] = i;
    while (open.length && depth[open[open.length - 1]] >= d) end[open.pop()] = i;
    open.push(i);
  }
  while (open.length) end[open.pop()] = n;

  var ROW = 18, MIN_WIDTH = 0.3, MATCH = "#c64fd6";
  var canvas = document.getElementById("flame"), ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip"), details = document.getElementById("details");
  var search = document.getElementById("search"), matchedInfo = document.getElementById("matched");
  var width = 0, height = (maxDepth + 1) * ROW, dpr = 1;
  var zoom = 0, matched = null, drawn = [], lastRenderMs = 0, colors = [];

  var unit = String(data.unit).toLowerCase();
  var SCALES = unit === "bytes" ? [[Math.pow(1024, 5), "PB"], [Math.pow(1024, 4), "TB"], [Math.pow(1024, 3), "GB"], [1048576, "MB"], [1024, "kB"], [1, "B"]]
    : unit === "nanoseconds" ? [[3600e9, "hrs"], [1e9, "s"], [1e6, "ms"], [1e3, "us"], [1, "ns"]] : null;
  function fmt(v) {
    if (!SCALES) return String(v) + (unit === "count" || unit === "" ? "" : " " + data.unit);
    for (var k = 0; k < SCALES.length; k++) {
      if (Math.abs(v) >= SCALES[k][0]) return (v / SCALES[k][0]).toFixed(2).replace(/\.00$/, "") + SCALES[k][1];
    }
    return "0";
  }
  function pct(v, of) { return of > 0 ? (100 * v / of).toFixed(2) + "%" : "0%"; }
  // Diff mode: red for growth, blue for shrinkage, paler the smaller the frame's net change is against the largest.
  var deltas = data.deltas || null, maxDelta = 0;
  if (deltas) for (i = 1; i < n; i++) maxDelta = Math.max(maxDelta, Math.abs(deltas[i]));
  function diffColorOf(k) {
    var d = deltas[k], strength = maxDelta > 0 ? Math.min(1, Math.abs(d) / maxDelta) : 0;
    var light = Math.round(92 - 42 * Math.sqrt(strength));
    return d > 0 ? "hsl(0,75%," + light + "%)" : d < 0 ? "hsl(215,75%," + light + "%)" : "hsl(0,0%,85%)";
  }
  function colorOf(id) {
    var c = colors[id];
    if (c) return c;
    var s = names[id], h = 2166136261;
    for (var k = 0; k < s.length; k++) { h ^= s.charCodeAt(k); h = Math.imul(h, 16777619); }
    h >>>= 0;
    c = "hsl(" + (8 + h % 44) + "," + (70 + (h >>> 8) % 25) + "%," + (52 + (h >>> 16) % 14) + "%)";
    colors[id] = c;
    return c;
  }

  function resize() {
    dpr = window.devicePixelRatio || 1;
    width = Math.max(100, canvas.parentElement.clientWidth - 24);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }

  function drawFrame(k, px, w, ancestor, charW) {
    var y = depth[k] * ROW;
    ctx.globalAlpha = ancestor ? 0.6 : 1;
    ctx.fillStyle = matched && matched[k] ? MATCH : deltas ? diffColorOf(k) : colorOf(nameOf[k]);
    ctx.fillRect(px, y, Math.max(w - 1, 0.5), ROW - 1);
    var label = "";
    if (w > 3 * charW + 6) {
      var name = names[nameOf[k]], max = Math.floor((w - 6) / charW);
      label = name.length <= max ? name : name.slice(0, max - 1) + "\u2026";
      ctx.fillStyle = "#111";
      ctx.fillText(label, px + 3, y + ROW / 2);
    }
    ctx.globalAlpha = 1;
    drawn.push({ i: k, x: px, y: y, w: w, label: label });
  }

  function render() {
    var t0 = performance.now();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px ui-monospace, Menlo, Consolas, monospace";
    ctx.textBaseline = "middle";
    var charW = ctx.measureText("m").width;
    drawn = [];
    for (var a = parent[zoom]; a >= 0; a = parent[a]) drawFrame(a, 0, width, true, charW);
    var x0 = x[zoom], scale = width / total[zoom];
    for (var k = zoom; k < end[zoom];) {
      var w = total[k] * scale;
      if (w < MIN_WIDTH) { k = end[k]; continue; }
      drawFrame(k, (x[k] - x0) * scale, w, false, charW);
      k++;
    }
    lastRenderMs = performance.now() - t0;
  }

  function frameAt(ev) {
    var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
    for (var k = drawn.length - 1; k >= 0; k--) {
      var f = drawn[k];
      if (py >= f.y && py < f.y + ROW && px >= f.x && px < f.x + Math.max(f.w, 1)) return f.i;
    }
    return -1;
  }

  function describe(k) {
    var text = names[nameOf[k]] + "\n" + fmt(total[k]) + " (" + pct(total[k], total[0]) + " of total, " +
      pct(total[k], total[zoom]) + " of view)\nself " + fmt(self[k]) + " (" + pct(self[k], total[0]) + ")";
    if (deltas) text += "\n" + (deltas[k] > 0 ? "grew by " + fmt(deltas[k]) : deltas[k] < 0 ? "shrank by " + fmt(-deltas[k]) : "no net change");
    return text;
  }

  canvas.addEventListener("mousemove", function (ev) {
    var k = frameAt(ev);
    if (k < 0) { tooltip.style.display = "none"; details.textContent = ""; return; }
    tooltip.textContent = describe(k);
    tooltip.style.display = "block";
    var tx = ev.clientX + 14, ty = ev.clientY + 14, tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    if (tx + tw > window.innerWidth) tx = Math.max(0, ev.clientX - tw - 8);
    if (ty + th > window.innerHeight) ty = Math.max(0, ev.clientY - th - 8);
    tooltip.style.left = tx + "px";
    tooltip.style.top = ty + "px";
    details.textContent = describe(k).replace(/\n/g, "  \u2014  ");
  });
  canvas.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
  canvas.addEventListener("click", function (ev) {
    var k = frameAt(ev);
    if (k >= 0) { zoom = k; render(); }
  });

  function resetZoom() { zoom = 0; render(); }
  document.getElementById("reset").addEventListener("click", resetZoom);

  function applySearch() {
    var q = search.value;
    if (q === "") { matched = null; matchedInfo.textContent = ""; render(); return; }
    var test;
    try { var re = new RegExp(q, "i"); test = function (s) { return re.test(s); }; }
    catch (e) { var lower = q.toLowerCase(); test = function (s) { return s.toLowerCase().indexOf(lower) >= 0; }; }
    var byName = new Uint8Array(names.length);
    for (var k = 0; k < names.length; k++) byName[k] = test(names[k]) ? 1 : 0;
    matched = new Uint8Array(n);
    var count = 0;
    for (k = 0; k < n; k++) if (byName[nameOf[k]]) { matched[k] = 1; count++; }
    var sum = 0;
    for (k = 0; k < n;) { if (matched[k]) { sum += total[k]; k = end[k]; } else k++; }
    matchedInfo.textContent = count === 0 ? "no match" : "matched " + fmt(sum) + " (" + pct(sum, total[0]) + ") in " + count + " frames";
    render();
  }
  search.addEventListener("input", applySearch);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { if (document.activeElement === search) { search.value = ""; applySearch(); } else resetZoom(); }
    else if (ev.key === "/" && document.activeElement !== search) { ev.preventDefault(); search.focus(); }
  });
  window.addEventListener("resize", function () { resize(); render(); });

  document.getElementById("summary").textContent = deltas
    ? data.sampleType + " diff: " + fmt(total[0]) + " changed, net " + (deltas[0] > 0 ? "+" : "") + fmt(deltas[0]) + " (red grew, blue shrank), " + n + " frames"
    : data.sampleType + ": " + fmt(total[0]) + " total, " + n + " frames";
  window.flameGraph = {
    frameCount: n,
    drawnFrames: function () {
      return drawn.map(function (f) {
        return { name: names[nameOf[f.i]], label: f.label, x: f.x, y: f.y, width: f.w, height: ROW - 1, matched: !!(matched && matched[f.i]) };
      });
    },
    zoomedFrame: function () { return names[nameOf[zoom]]; },
    frameDelta: function (name) {
      if (!deltas) return null;
      var sum = 0, k;
      for (k = 0; k < n; k++) if (names[nameOf[k]] === name) sum += deltas[k];
      return sum;
    },
    frameColor: function (name) {
      for (var k = 0; k < n; k++) if (names[nameOf[k]] === name) return deltas ? diffColorOf(k) : colorOf(nameOf[k]);
      return null;
    },
    renderMs: function () { return lastRenderMs; },
    canvasWidth: function () { return width; }
  };
  resize();
  render();
})();
`;

export function flameGraphPage(title: string, tree: FlameTree): string {
  const safeTitle = escapeHtml(title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${safeTitle}</h1>
<span id="summary"></span>
<input id="search" type="search" placeholder="Search functions (regexp), / to focus" aria-label="Search functions" autocomplete="off">
<span id="matched"></span>
<button id="reset" type="button" title="Reset zoom (Esc)">Reset zoom</button>
</header>
<div id="details"></div>
<div id="chart"><canvas id="flame"></canvas></div>
<div id="tooltip"></div>
<script id="flame-data" type="application/json">${scriptSafeJson(tree)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
