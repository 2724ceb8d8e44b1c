#!/usr/bin/env node
// Loads the live dashboard from a real `dte route` (its /dashboard and /v1/dashboard/summary) in
// headless Chromium over the DevTools pipe (no npm packages) and checks: no console errors or
// exceptions, the page reaches "live" after at least two summary updates with no failed fetch,
// the workers table has a row, the request-rate chart drew points, and the recent traces table
// lists the request the test sent. Prints "live dashboard ok" and exits 0, or the failures and 1.
// Usage: node dashboard_live_cdp.js <dashboard URL> [chromium binary]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const pageUrl = process.argv[2];
const chromium = process.argv[3] || 'chromium';
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dte-live-dashboard-'));
  const child = spawn(chromium, ['--headless=new', '--disable-gpu', '--no-sandbox', '--remote-debugging-pipe',
    '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--user-data-dir=' + profile,
    '--window-size=1400,1000', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let nextId = 1, buffer = '';
  const pending = new Map(), listeners = [];
  child.stdio[4].on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (msg.id && pending.has(msg.id)) {
        const { resolve, reject } = pending.get(msg.id);
        pending.delete(msg.id);
        msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
      } else {
        listeners.forEach((l) => l(msg));
      }
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  });
  const exited = new Promise((r) => child.on('exit', r));
  const close = async () => {
    try { child.kill('SIGKILL'); } catch (e) {}
    await Promise.race([exited, sleep(5000)]);
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch (e) {}
  };
  return { send, on: (l) => listeners.push(l), close, stderr: () => stderr };
}

async function main() {
  const browser = launch();
  const timeout = setTimeout(async () => { console.log('timed out; chromium stderr:\n' + browser.stderr()); await browser.close(); process.exit(1); }, 60000);
  try {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = (m, p) => browser.send(m, p, sessionId);
    const problems = [];
    browser.on((msg) => {
      if (msg.sessionId !== sessionId) return;
      if (msg.method === 'Runtime.exceptionThrown') problems.push('exception: ' + JSON.stringify(msg.params.exceptionDetails.exception || msg.params.exceptionDetails.text));
      if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert', 'warning'].includes(msg.params.type))
        problems.push('console.' + msg.params.type + ': ' + msg.params.args.map((a) => a.value || a.description).join(' '));
      if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') problems.push('log: ' + msg.params.entry.text + ' ' + (msg.params.entry.url || ''));
    });
    await page('Runtime.enable');
    await page('Log.enable');
    await page('Page.enable');
    await page('Page.navigate', { url: pageUrl });
    const evaluate = async (expr) => {
      const r = await page('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error('evaluate failed: ' + expr + ': ' + JSON.stringify(r.exceptionDetails));
      return r.result.value;
    };
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
