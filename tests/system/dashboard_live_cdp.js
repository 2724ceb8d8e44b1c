#!/usr/bin/env node
// Loads the live dashboard from a real `dte route` (its /dashboard and /v1/dashboard/summary) in
// headless Chromium over the DevTools pipe (no npm packages) and checks: no console errors or
// exceptions, the page reaches "live" after at least two summary updates with no failed fetch,
// the workers table has a row, the request-rate chart drew points, and the recent traces table
// lists the request the test sent. Prints "live dashboard ok" and exits 0, or the failures and 1.
// Usage: node dashboard_live_cdp.js <dashboard URL> [chromium binary]
'use strict';

const { launch, openPage, sleep } = require('./cdp_browser');

const pageUrl = process.argv[2];
const chromium = process.argv[3] || 'chromium';
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };


async function main() {
  const browser = launch(chromium, 'dte-live-dashboard-');
  const timeout = setTimeout(async () => { console.log('timed out; chromium stderr:\n' + browser.stderr()); await browser.close(); process.exit(1); }, 60000);
  try {
    const { evaluate, problems } = await openPage(browser, pageUrl);
    let ready = false;
    for (let i = 0; i < 300 && !ready; i++) {
      ready = await evaluate(`!!(window.dteDashboard && window.dteDashboard.updates >= 3 &&
        document.querySelectorAll('#traces tbody tr').length > 0)`).catch(() => false);
      if (!ready) await sleep(50);
    }
    check(ready, 'timed out waiting for three updates and a trace row');
    const s = await evaluate(`(() => {
      const d = window.dteDashboard;
      const rows = (id) => [...document.querySelectorAll('#' + id + ' tbody tr')].map((tr) => tr.textContent);
      return { updates: d.updates, failures: d.failures, status: document.getElementById('status').textContent,
               workers: rows('workers'), traces: rows('traces'), rate: d.charts.request_rate && d.charts.request_rate.points };
    })()`);
    check(s.failures === 0, 'fetch failures: ' + s.failures);
    check(s.status === 'live', 'status is ' + s.status);
    check(s.workers.length === 1, 'worker rows: ' + JSON.stringify(s.workers));
    check(s.traces.some((t) => t.includes('router.proxy')), 'trace rows: ' + JSON.stringify(s.traces));
    check(s.rate > 0, 'request_rate chart drew no points');
    check(problems.length === 0, 'console errors: ' + problems.join(' | '));
    console.log(JSON.stringify(s));
  } catch (err) {
    failures.push('driver error: ' + err.stack + '\nchromium stderr:\n' + browser.stderr());
  } finally {
    clearTimeout(timeout);
    await browser.close();
  }
  if (failures.length) {
    console.log('live dashboard FAILED:\n  ' + failures.join('\n  '));
    process.exit(1);
  }
  console.log('live dashboard ok');
  process.exit(0);
}

main();
