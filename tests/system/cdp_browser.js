// Headless Chromium driven over the DevTools protocol through --remote-debugging-pipe (fd 3: to
// Chromium, fd 4: from Chromium, messages framed by \0), with no npm packages. Shared by the
// dashboard tests (dashboard_cdp_test.js against a fake router, dashboard_live_cdp.js against a
// real `dte route`).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts Chromium; returns { send(method, params, sessionId), on(listener), close(), stderr() }.
function launch(chromium, profilePrefix) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), profilePrefix));
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

// Opens `url` in a new tab and collects its exceptions, console errors/warnings and error log
// entries. Returns { page(method, params), evaluate(expression), problems }.
async function openPage(browser, url) {
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
  await page('Page.navigate', { url });
  const evaluate = async (expr) => {
    const r = await page('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error('evaluate failed: ' + expr + ': ' + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  return { page, evaluate, problems };
}

module.exports = { launch, openPage, sleep };
