#include "bench/html_report.h"

namespace dte::bench {
namespace {

// The page; the report JSON replaces @REPORT@ (with "</" escaped so it cannot end the tag).
constexpr const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>dte bench report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.grade{display:inline-block;font-size:40px;font-weight:bold;width:64px;height:64px;line-height:64px;
text-align:center;border-radius:8px;color:#fff;margin-right:12px}
.gA{background:#2e7d32}.gB{background:#689f38}.gC{background:#f9a825}.gD{background:#ef6c00}.gF{background:#c62828}
svg.chart{border:1px solid #ddd;background:#fff;margin:6px 0}
svg text{font-size:11px;fill:#444}.axis{stroke:#888}.grid{stroke:#eee}
.series{fill:none;stroke-width:1.6}#js-errors{color:#c62828}
</style></head>
<body>
<h1>dte bench report</h1>
<div id="grades"></div>
<h2>Summary</h2><div id="summary"></div>
<h2>Latency over time</h2><svg id="chart-latency" class="chart" width="1000" height="300"></svg>
<h2>Latency CDF</h2><svg id="chart-cdf" class="chart" width="1000" height="300"></svg>
<h2>Throughput over time</h2><svg id="chart-throughput" class="chart" width="1000" height="260"></svg>
<svg id="chart-tokens" class="chart" width="1000" height="260"></svg>
<h2>Errors</h2><svg id="chart-errors" class="chart" width="1000" height="220"></svg>
<div id="error-kinds"></div>
<h2>Configuration</h2><div id="config"></div>
<pre id="js-errors"></pre>
<script type="application/json" id="report-data">@REPORT@</script>
<script>
"use strict";
window.onerror = function (msg, src, line) {
  document.getElementById("js-errors").textContent += "error: " + msg + " (line " + line + ")\n";
};
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457"];
const data = JSON.parse(document.getElementById("report-data").textContent);
const runs = data.compare ? data.runs : [data];
const names = data.compare ? ["A", "B"] : [""];
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.1 ? v.toFixed(2) : v.toPrecision(2);
}
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) hi = lo + 1;
  const step0 = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  let step = mag;
  for (const m of [1, 2, 5, 10]) { if (mag * m >= step0) { step = mag * m; break; } }
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}
// series: [{name, xs, ys, color, bars}]; ys may hold nulls (gaps).
function chart(id, xLabel, yLabel, series) {
  const svg = document.getElementById(id);
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const L = 64, R = 170, T = 14, B = 38;
  let xmin = Infinity, xmax = -Infinity, ymax = 0;
  for (const s of series) s.xs.forEach((x, i) => {
    if (s.ys[i] === null || s.ys[i] === undefined) return;
    xmin = Math.min(xmin, x); xmax = Math.max(xmax, x); ymax = Math.max(ymax, s.ys[i]);
  });
  if (!isFinite(xmin)) { xmin = 0; xmax = 1; }
  if (xmin === xmax) { xmin -= 0.5; xmax += 0.5; }
  if (ymax <= 0) ymax = 1;
  if (series.some(s => s.bars)) xmin = Math.min(xmin, 0);
  const X = x => L + (x - xmin) / (xmax - xmin) * (W - L - R);
  const Y = y => H - B - y / (ymax * 1.05) * (H - T - B);
  for (const t of niceTicks(0, ymax * 1.05, 5)) {
    el("line", {x1: L, x2: W - R, y1: Y(t), y2: Y(t), class: "grid"}, svg);
    el("text", {x: L - 6, y: Y(t) + 4, "text-anchor": "end"}, svg, fmt(t));
  }
  for (const t of niceTicks(xmin, xmax, 8)) {
    el("text", {x: X(t), y: H - B + 15, "text-anchor": "middle"}, svg, fmt(t));
  }
  el("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}, svg);
  el("line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}, svg);
  el("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle"}, svg, xLabel);
  el("text", {x: 12, y: (T + H - B) / 2, transform: "rotate(-90 12 " + (T + H - B) / 2 + ")",
              "text-anchor": "middle"}, svg, yLabel);
  series.forEach((s, k) => {
    const color = s.color || COLORS[k % COLORS.length];
    if (s.bars) {
      const w = Math.max(1, (W - L - R) / Math.max(1, s.xs.length) * 0.8 / series.length);
      s.xs.forEach((x, i) => {
        if (!s.ys[i]) return;
        el("rect", {x: X(x) - w * (series.length - k), y: Y(s.ys[i]), width: w,
                    height: H - B - Y(s.ys[i]), fill: color, class: "bar"}, svg);
      });
    } else {
      let d = "", pen = false;
      s.xs.forEach((x, i) => {
        const y = s.ys[i];
        if (y === null || y === undefined) { pen = false; return; }
        d += (pen ? "L" : "M") + X(x).toFixed(1) + "," + Y(y).toFixed(1);
        pen = true;
      });
      if (d) el("path", {d: d, stroke: color, class: "series"}, svg);
    }
    el("rect", {x: W - R + 10, y: T + 16 * k, width: 12, height: 3, fill: color}, svg);
    el("text", {x: W - R + 28, y: T + 16 * k + 5}, svg, s.name);
  });
}
function tl(run) { return run.timeline || {t_s: []}; }
function pre(i) { return names[i] ? names[i] + " " : ""; }
function table(parent, head, rows) {
  let h = "<table><tr>" + head.map(x => "<th>" + x + "</th>").join("") + "</tr>";
  for (const r of rows) h += "<tr>" + r.map(x => "<td>" + x + "</td>").join("") + "</tr>";
  document.getElementById(parent).innerHTML = h + "</table>";
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]); }

let grades = "";
runs.forEach((r, i) => {
  const g = r.grade || {letter: "F"};
  grades += "<p><span class='grade g" + g.letter + "'>" + g.letter + "</span>" + esc(pre(i)) +
    esc(r.config.url) + " — " + (100 * g.good_fraction).toFixed(1) + "% good, " +
    (100 * g.error_fraction).toFixed(2) + "% errors<br><small>" + esc(g.rule) + "</small></p>";
});
document.getElementById("grades").innerHTML = grades;

const head = ["metric"].concat(runs.map((r, i) => names[i] || "value"));
if (data.compare) head.push("B/A");
const rows = [];
function addRow(label, get, ratio) {
  const row = [label].concat(runs.map(r => fmt(get(r))));
  if (data.compare) row.push(ratio && data.ratios[ratio] !== null ? fmt(data.ratios[ratio]) : "-");
  rows.push(row);
}
addRow("requests", r => r.requests);
addRow("errors", r => r.errors);
addRow("requests/s", r => r.requests_per_s, "requests_per_s");
addRow("output tokens/s", r => r.output_tokens_per_s, "output_tokens_per_s");
addRow("goodput requests/s", r => r.goodput ? r.goodput.goodput_requests_per_s : null, "goodput_requests_per_s");
for (const m of ["ttft", "tpot", "inter_chunk", "e2e"])
  for (const p of ["p50", "p90", "p95", "p99", "p99.9", "max"])
    addRow(m + " " + p + " (ms)", r => r[m + "_ms"] ? r[m + "_ms"][p] : null, m + "_" + p);
table("summary", head, rows);

const lat = [], cdf = [], thr = [], tok = [], err = [];
runs.forEach((r, i) => {
  const t = tl(r);
  for (const [key, label] of [["ttft_p50_ms", "TTFT p50"], ["ttft_p99_ms", "TTFT p99"],
                              ["e2e_p50_ms", "e2e p50"], ["e2e_p99_ms", "e2e p99"]])
    if (t[key] && t[key].some(v => v !== null)) lat.push({name: pre(i) + label, xs: t.t_s, ys: t[key]});
  for (const [key, label] of [["ttft_ms", "TTFT"], ["e2e_ms", "e2e"]]) {
    const pts = (r.cdf && r.cdf[key]) || [];
    if (pts.length) cdf.push({name: pre(i) + label, xs: pts.map(p => p[0]), ys: pts.map(p => p[1])});
  }
  thr.push({name: pre(i) + "requests/s", xs: t.t_s, ys: t.requests_per_s || []});
  tok.push({name: pre(i) + "tokens/s", xs: t.t_s, ys: t.output_tokens_per_s || []});
  err.push({name: pre(i) + "errors", xs: t.t_s, ys: t.errors || [], bars: true});
});
chart("chart-latency", "seconds since start", "ms", lat);
chart("chart-cdf", "latency (ms)", "fraction of requests", cdf);
chart("chart-throughput", "seconds since start", "requests/s", thr);
chart("chart-tokens", "seconds since start", "output tokens/s", tok);
chart("chart-errors", "seconds since start", "errors per interval", err);
const kinds = [];
runs.forEach((r, i) => {
  for (const k in (r.errors_by_kind || {}))
    kinds.push([esc(pre(i) + k), r.errors_by_kind[k], esc((r.error_examples || {})[k] || "")]);
});
if (kinds.length) table("error-kinds", ["kind", "count", "example"], kinds);
else document.getElementById("error-kinds").textContent = "No errors.";
table("config", ["setting"].concat(runs.map((r, i) => names[i] || "value")),
      Object.keys(runs[0].config).map(k => [esc(k)].concat(runs.map(r =>
        esc(typeof r.config[k] === "object" ? JSON.stringify(r.config[k]) : r.config[k])))));
document.body.setAttribute("data-rendered", "ok");
</script>
</body></html>
)HTML";

}  // namespace

std::string HtmlReport(const nlohmann::ordered_json& report) {
  // '<' only occurs inside JSON strings, where \u003c means the same; so the data can
  // never close or confuse its <script> element.
  const std::string json = report.dump();
  std::string escaped;
  escaped.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      escaped += "\\u003c";
    } else {
      escaped.push_back(c);
    }
  }
  std::string page = kPage;
  const size_t at = page.find("@REPORT@");
  page.replace(at, 8, escaped);
  return page;
}

}  // namespace dte::bench
