#!/usr/bin/env node
// Drives web/dashboard in headless Chromium over the DevTools protocol (--remote-debugging-pipe,
// no npm packages). A fake router (a loopback HTTP server in this script, FakeRouter) serves the
// dashboard files and a fake GET /v1/dashboard/summary whose data the script changes between
// phases. Checks: the page loads with no console errors or exceptions; every chart draws the
// series it was given; after the data changes, the charts and tables update (values, canvas
// pixels). Prints "dashboard ok" and exits 0, or prints the failures and exits 1.
// Usage: node dashboard_cdp_test.js <repo root> [chromium binary]
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const { launch, openPage, sleep } = require('./cdp_browser');

const root = process.argv[2] || path.resolve(__dirname, '../..');
const chromium = process.argv[3] || 'chromium';
const webDir = path.join(root, 'web', 'dashboard');
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

// ---- FakeRouter: static files + a summary whose content depends on the phase ----
let phase = 1;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
function series(n, f) { return Array.from({ length: n }, (_, i) => [T0 + i * 2000, f(i)]); }
function summary() {
  const n = phase === 1 ? 30 : 45;  // phase 2: more history, higher load
  const k = phase === 1 ? 1 : 3;
  const s = {
    request_rate: series(n, (i) => k * (5 + Math.sin(i / 3))),
    error_ratio: series(n, (i) => (phase === 1 ? 0 : 0.08)),
    ttft_p50: series(n, (i) => 0.05 * k), ttft_p95: series(n, (i) => 0.2 * k), ttft_p99: series(n, (i) => 0.4 * k),
    tpot_p50: series(n, (i) => 0.01 * k), tpot_p95: series(n, (i) => 0.02 * k), tpot_p99: series(n, (i) => 0.03 * k),
    queue_depth: series(n, (i) => (phase === 1 ? 0 : i % 7)), active_sequences: series(n, (i) => 4 * k),
    workers: series(n, (i) => (phase === 1 ? 2 : i < 35 ? 2 : 3)),
    'cache_hit_ratio.l1': series(n, (i) => 0.6), 'cache_hit_ratio.l2': series(n, (i) => 0.3),
  };
  if (phase === 2) s['cache_hit_ratio.l3'] = series(n, (i) => (i === 10 ? null : 0.1));  // a gap
  return {
    generated_at_ms: T0 + (n - 1) * 2000,
    interval_ms: 300,
    series: s,
    scaling_events: phase === 1 ? [] : [{ unix_ms: T0 + 35 * 2000, from: 2, to: 3, reason: 'queue depth' }],
    workers: [{ id: 'w1', url: 'http://127.0.0.1:8081', healthy: true, state: 'ready', active_sequences: 4, queue_depth: 0, outstanding: 1 }]
      .concat(phase === 2 ? [{ id: 'w2', url: 'http://127.0.0.1:8082', healthy: false, state: 'down' }] : []),
    alerts: phase === 1 ? [] : [{ name: 'high_error_rate', severity: 'high', state: 'firing', active_since: new Date(T0).toISOString(),
      fired_at: new Date(T0 + 60000).toISOString(), description: 'error ratio 8.00 % > 5.00 % <script>bad()</script>' }],
    traces: [{ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', name: 'router.proxy', duration_ms: 85.2, span_count: 3, status: phase === 1 ? 'ok' : 'error' }],
  };
}
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/v1/dashboard/summary') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    return res.end(JSON.stringify(summary()));
  }
  if (url.pathname.startsWith('/v1/traces/')) {
    const start = BigInt(T0) * 1000000n;
    const span = (name, a, b, code) => ({ name, start_unix_nano: String(start + BigInt(a) * 1000000n),
      end_unix_nano: String(start + BigInt(b) * 1000000n), duration_ms: b - a, status: { code } });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ trace_id: url.pathname.slice(11), spans: [span('router.proxy', 0, 85, 'ok'),
      span('worker.request', 2, 80, 'ok'), span('prefill', 3, 20, 'error')] }));
  }
  let file = url.pathname === '/dashboard' || url.pathname === '/dashboard/' ? 'index.html'
    : url.pathname.startsWith('/dashboard/') ? url.pathname.slice('/dashboard/'.length) : null;
  if (!file || file.includes('..') || !fs.existsSync(path.join(webDir, file))) { res.writeHead(404); return res.end(); }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
  res.end(fs.readFileSync(path.join(webDir, file)));
});

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const browser = launch(chromium, 'dte-dashboard-');
  const timeout = setTimeout(async () => { console.log('timed out; chromium stderr:\n' + browser.stderr()); await browser.close(); process.exit(1); }, 60000);
  try {
    const { evaluate, problems } = await openPage(browser, `http://127.0.0.1:${port}/dashboard`);
    const waitFor = async (expr, what) => {
      for (let i = 0; i < 200; i++) {
        if (await evaluate(expr).catch(() => false)) return true;
        await sleep(50);
      }
      failures.push('timed out waiting for ' + what);
      return false;
    };
    // A snapshot: what each chart drew, a hash of each canvas, the non-background pixel count, tables.
    const snapshot = () => evaluate(`(() => {
      const d = window.dteDashboard;
      const canvases = {};
      for (const c of document.querySelectorAll('canvas')) {
        const g = c.getContext('2d');
        const px = g.getImageData(0, 0, c.width, c.height).data;
        let ink = 0, hash = 0;
        for (let i = 0; i < px.length; i += 4) { if (px[i + 3] > 0) ink++; hash = (hash * 31 + px[i] + px[i + 1] * 7 + px[i + 2] * 13 + px[i + 3]) | 0; }
        canvases[c.id] = { ink, hash, width: c.width };
      }
      const rows = (id) => [...document.querySelectorAll('#' + id + ' tbody tr')].map((tr) => tr.textContent);
      return { updates: d.updates, failures: d.failures, generated: d.lastSummary && d.lastSummary.generated_at_ms,
               charts: d.charts, canvases, alerts: rows('alerts'), workers: rows('workers'), traces: rows('traces'),
               status: document.getElementById('status').textContent, scripts: document.querySelectorAll('script').length };
    })()`);

    await waitFor('window.dteDashboard && window.dteDashboard.updates >= 2', 'the first two updates');
    const a = await snapshot();
    check(a.failures === 0, 'phase 1: fetch failures ' + a.failures);
    check(a.status === 'live', 'phase 1: status is ' + a.status);
    for (const id of ['request_rate', 'ttft', 'tpot', 'queue', 'workers', 'cache', 'errors']) {
      const c = a.charts[id];
      check(c && c.points > 0, `phase 1: chart ${id} drew no points`);
      check(a.canvases['chart-' + id] && a.canvases['chart-' + id].ink > 500, `phase 1: canvas ${id} is blank`);
    }
    check(a.charts.ttft.lines.length === 3, 'phase 1: ttft has 3 lines');
    check(a.charts.cache.lines.map((l) => l.label).join(',') === 'l1,l2', 'phase 1: cache tiers l1,l2: ' + JSON.stringify(a.charts.cache.lines));
    check(Math.abs(a.charts.request_rate.lines[0].last - (5 + Math.sin(29 / 3))) < 1e-9, 'phase 1: request_rate last value');
    check(a.charts.request_rate.lines[0].points === 30, 'phase 1: 30 points');
    check(a.alerts.length === 0, 'phase 1: no alerts');
    check(a.traces.length === 1 && a.traces[0].includes('router.proxy'), 'phase 1: trace row');
    check(a.workers.length === 1, 'phase 1: one worker');

    phase = 2;
    await waitFor(`window.dteDashboard.lastSummary.generated_at_ms === ${T0 + 44 * 2000} && window.dteDashboard.charts.cache.lines.length === 3`, 'the phase 2 data');
    const b = await snapshot();
    check(b.updates > a.updates, 'phase 2: no new updates');
    check(b.charts.request_rate.lines[0].points === 45, 'phase 2: request_rate has 45 points');
    check(Math.abs(b.charts.request_rate.lines[0].last - 3 * (5 + Math.sin(44 / 3))) < 1e-9, 'phase 2: request_rate last value');
    check(b.charts.cache.lines.map((l) => l.label).join(',') === 'l1,l2,l3', 'phase 2: cache tier l3 appears');
    check(b.charts.workers.events === 1, 'phase 2: the scaling event is drawn');
    check(b.charts.errors.lines[0].last === 0.08, 'phase 2: error ratio');
    for (const id of ['request_rate', 'ttft', 'queue', 'workers', 'cache', 'errors'])
      check(b.canvases['chart-' + id].hash !== a.canvases['chart-' + id].hash, `phase 2: canvas ${id} did not change`);
    check(b.alerts.length === 1 && b.alerts[0].includes('high_error_rate') && b.alerts[0].includes('firing'), 'phase 2: alert row ' + JSON.stringify(b.alerts));
    check(b.scripts === 1, 'phase 2: alert text must not inject markup');
    check(b.workers.length === 2 && b.workers[1].includes('down'), 'phase 2: worker rows ' + JSON.stringify(b.workers));
    check(b.traces[0].includes('error'), 'phase 2: trace status');

    // Clicking a trace draws its span waterfall.
    await evaluate(`document.querySelector('#traces tbody tr').click()`);
    await waitFor(`document.querySelectorAll('#waterfall .span-row').length === 3`, 'the span waterfall');
    const errorBars = await evaluate(`document.querySelectorAll('#waterfall .span-bar > div.error').length`);
    check(errorBars === 1, 'waterfall marks the failed span');

    check(problems.length === 0, 'console errors: ' + problems.join(' | '));
    console.log(JSON.stringify({ phase1: { updates: a.updates, points: a.charts.request_rate.points }, phase2: { updates: b.updates, points: b.charts.request_rate.points } }));
  } catch (err) {
    failures.push('driver error: ' + err.stack + '\nchromium stderr:\n' + browser.stderr());
  } finally {
    clearTimeout(timeout);
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.log('dashboard FAILED:\n  ' + failures.join('\n  '));
    process.exit(1);
  }
  console.log('dashboard ok');
  process.exit(0);
}

main();
