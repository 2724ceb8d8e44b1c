// Deep Tree Echo live dashboard: polls the router's GET /v1/dashboard/summary and draws the
// series on <canvas> with a small hand-written line chart (no libraries, works offline).
// The summary format is documented in docs/observability.md. window.dteDashboard exposes the
// state for tests (update count, the last summary, what each chart drew).
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  const endpoint = params.get('endpoint') || document.body.dataset.endpoint || '/v1/dashboard/summary';
  const forcedInterval = Number(params.get('interval')) || 0;
  const COLORS = ['#4ea1f3', '#f2a33a', '#e5534b', '#3fb950', '#b083f0', '#39c5cf', '#d2a8ff', '#f778ba'];

  const CHARTS = [
    { id: 'request_rate', unit: 'rate', series: [['request_rate', 'requests/s']] },
    { id: 'ttft', unit: 's', series: [['ttft_p50', 'p50'], ['ttft_p95', 'p95'], ['ttft_p99', 'p99']] },
    { id: 'tpot', unit: 's', series: [['tpot_p50', 'p50'], ['tpot_p95', 'p95'], ['tpot_p99', 'p99']] },
    { id: 'queue', unit: 'count', series: [['queue_depth', 'queue'], ['active_sequences', 'active']] },
    { id: 'workers', unit: 'count', series: [['workers', 'workers']], step: true, events: true },
    { id: 'cache', unit: 'ratio', prefix: 'cache_hit_ratio.', max: 1 },
    { id: 'errors', unit: 'ratio', series: [['error_ratio', '5xx ratio']], max: null },
  ];

  function formatValue(v, unit) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (unit === 's') return v < 1 ? (v * 1000).toFixed(v < 0.01 ? 2 : 0) + ' ms' : v.toFixed(2) + ' s';
    if (unit === 'ratio') return (v * 100).toFixed(v < 0.1 ? 1 : 0) + ' %';
    if (unit === 'rate') return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + '/s';
    return Math.abs(v) >= 1000 ? (v / 1000).toFixed(1) + 'k' : String(Math.round(v * 100) / 100);
  }

  function niceStep(range, ticks) {
    const raw = range / Math.max(1, ticks);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  }

  function clock(ms) {
    const d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }

  // A line chart on one canvas. draw() returns what it drew (for tests and the legend).
  class LineChart {
    constructor(canvas, spec) {
      this.canvas = canvas;
      this.spec = spec;
      this.drawn = { renders: 0, lines: [], points: 0, events: 0 };
    }

    draw(lines, events) {
      const c = this.canvas;
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(200, c.clientWidth), h = Math.max(120, c.clientHeight);
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
      }
      const g = c.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const pad = { l: 56, r: 10, t: 18, b: 22 };
      const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;

      let tMin = Infinity, tMax = -Infinity, vMax = 0, points = 0;
      for (const line of lines) {
        for (const [t, v] of line.points) {
          tMin = Math.min(tMin, t);
          tMax = Math.max(tMax, t);
          if (v !== null && isFinite(v)) { vMax = Math.max(vMax, v); points++; }
        }
      }
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'middle';
      if (!isFinite(tMin)) {
        g.fillStyle = '#8a96a3';
        g.fillText('no data yet', pad.l + pw / 2 - 30, pad.t + ph / 2);
        this.drawn = { renders: this.drawn.renders + 1, lines: [], points: 0, events: 0 };
        return this.drawn;
      }
      if (tMax === tMin) tMax = tMin + 1000;
      if (this.spec.max) vMax = Math.max(vMax, this.spec.max);
      if (vMax <= 0) vMax = 1;
      const step = niceStep(vMax, 4);
      vMax = Math.ceil(vMax / step) * step;
      const x = (t) => pad.l + ((t - tMin) / (tMax - tMin)) * pw;
      const y = (v) => pad.t + ph - (v / vMax) * ph;

      // Grid and axes.
      g.strokeStyle = '#2a3540';
      g.fillStyle = '#8a96a3';
      g.lineWidth = 1;
      for (let v = 0; v <= vMax + step / 2; v += step) {
        g.beginPath();
        g.moveTo(pad.l, Math.round(y(v)) + 0.5);
        g.lineTo(pad.l + pw, Math.round(y(v)) + 0.5);
        g.stroke();
        g.fillText(formatValue(v, this.spec.unit), 4, y(v));
      }
      g.textBaseline = 'top';
      for (let i = 0; i <= 3; i++) {
        const t = tMin + ((tMax - tMin) * i) / 3;
        g.fillText(clock(t), Math.min(x(t) - 20, w - 52), pad.t + ph + 5);
      }

      // Scaling events: dashed verticals labelled from→to.
      let eventCount = 0;
      for (const e of events || []) {
        if (e.unix_ms < tMin || e.unix_ms > tMax) continue;
        eventCount++;
        g.strokeStyle = e.to > e.from ? '#3fb950' : '#d29922';
        g.setLineDash([3, 3]);
        g.beginPath();
        g.moveTo(x(e.unix_ms) + 0.5, pad.t);
        g.lineTo(x(e.unix_ms) + 0.5, pad.t + ph);
        g.stroke();
        g.setLineDash([]);
        g.fillStyle = g.strokeStyle;
        g.fillText(e.from + '→' + e.to, x(e.unix_ms) + 3, pad.t);
      }

      // Lines (a null value breaks the line) and the legend with the latest values.
      const drawnLines = [];
      let legendX = pad.l;
      lines.forEach((line, i) => {
        const color = COLORS[i % COLORS.length];
        g.strokeStyle = color;
        g.lineWidth = 1.6;
        g.beginPath();
        let pen = false, last = null, lastY = 0;
        for (const [t, v] of line.points) {
          if (v === null || !isFinite(v)) { pen = false; continue; }
          const px = x(t), py = y(v);
          if (this.spec.step && pen) g.lineTo(px, lastY);
          if (pen) g.lineTo(px, py); else g.moveTo(px, py);
          lastY = py;
          pen = true;
          last = v;
        }
        g.stroke();
        const label = line.label + ' ' + formatValue(last, this.spec.unit);
        g.fillStyle = color;
        g.textBaseline = 'top';
        g.fillText(label, legendX, 2);
        legendX += g.measureText(label).width + 14;
        drawnLines.push({ label: line.label, points: line.points.length, last: last });
      });
      this.drawn = { renders: this.drawn.renders + 1, lines: drawnLines, points: points, events: eventCount };
      return this.drawn;
    }
  }

  const charts = {};
  for (const spec of CHARTS) {
    const canvas = document.getElementById('chart-' + spec.id);
    if (canvas) charts[spec.id] = new LineChart(canvas, spec);
  }

  function linesFor(spec, series) {
    if (spec.prefix) {
      return Object.keys(series).filter((k) => k.startsWith(spec.prefix)).sort()
        .map((k) => ({ label: k.slice(spec.prefix.length), points: series[k] }));
    }
    return spec.series.filter(([key]) => series[key]).map(([key, label]) => ({ label: label, points: series[key] }));
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function fillTable(id, rows, build) {
    const body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement('tr');
      build(tr, r);
      body.appendChild(tr);
    }
  }

  function renderTables(s) {
    const alerts = s.alerts || [];
    fillTable('alerts', alerts, (tr, a) => {
      cell(tr, a.name);
      cell(tr, a.severity, 'sev-' + a.severity);
      cell(tr, a.state, 'st-' + a.state);
      cell(tr, a.fired_at || a.active_since ? clock(Date.parse(a.fired_at || a.active_since)) : '');
      cell(tr, a.description || a.summary);
    });
    document.getElementById('alerts-empty').hidden = alerts.length > 0;
    fillTable('workers', s.workers || [], (tr, w) => {
      const state = w.state || (w.healthy === false ? 'down' : 'ready');
      cell(tr, w.id || w.url);
      cell(tr, state, 'st-' + state);
      cell(tr, w.active_sequences);
      cell(tr, w.queue_depth);
      cell(tr, w.outstanding);
    });
    fillTable('traces', s.traces || [], (tr, t) => {
      tr.className = 'clickable';
      tr.dataset.traceId = t.trace_id;
      tr.addEventListener('click', () => showTrace(t.trace_id));
      cell(tr, (t.trace_id || '').slice(0, 16) + '…');
      cell(tr, t.name);
      cell(tr, formatValue((t.duration_ms || 0) / 1000, 's'));
      cell(tr, t.span_count);
      cell(tr, t.status, 'st-' + t.status);
    });
  }

  // A span waterfall for one trace from GET /v1/traces/{id}.
  async function showTrace(id) {
    const box = document.getElementById('waterfall');
    box.replaceChildren();
    try {
      const r = await fetch('/v1/traces/' + encodeURIComponent(id), { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const trace = await r.json();
      const spans = trace.spans || [];
      const start = Math.min(...spans.map((sp) => Number(sp.start_unix_nano)));
      const end = Math.max(...spans.map((sp) => Number(sp.end_unix_nano)));
      const total = Math.max(1, end - start);
      for (const sp of spans) {
        const row = document.createElement('div');
        row.className = 'span-row';
        const name = document.createElement('span');
        name.textContent = sp.name;
        const bar = document.createElement('div');
        bar.className = 'span-bar';
        const fill = document.createElement('div');
        if (sp.status && sp.status.code === 'error') fill.className = 'error';
        fill.style.left = ((Number(sp.start_unix_nano) - start) / total) * 100 + '%';
        fill.style.width = ((Number(sp.end_unix_nano) - Number(sp.start_unix_nano)) / total) * 100 + '%';
        bar.appendChild(fill);
        const dur = document.createElement('span');
        dur.textContent = formatValue(sp.duration_ms / 1000, 's');
        row.append(name, bar, dur);
        box.appendChild(row);
      }
    } catch (err) {
      box.textContent = 'could not load trace ' + id + ': ' + err.message;
    }
  }

  const state = { updates: 0, failures: 0, lastSummary: null, charts: {}, lastError: '' };
  window.dteDashboard = state;

  function render(s) {
    const series = s.series || {};
    for (const spec of CHARTS) {
      const chart = charts[spec.id];
      if (!chart) continue;
      state.charts[spec.id] = chart.draw(linesFor(spec, series), spec.events ? s.scaling_events : null);
    }
    renderTables(s);
  }

  function setStatus(ok, text) {
    const el = document.getElementById('status');
    el.textContent = text;
    el.className = 'status ' + (ok ? 'ok' : 'bad');
  }

  async function poll() {
    let delay = forcedInterval || 2000;
    try {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 5000);
      const r = await fetch(endpoint, { cache: 'no-store', signal: controller.signal });
      clearTimeout(timer);
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const s = await r.json();
      state.lastSummary = s;
      render(s);
      state.updates++;
      setStatus(true, 'live');
      document.getElementById('updated').textContent = 'updated ' + clock(s.generated_at_ms || Date.now());
      if (!forcedInterval && s.interval_ms > 0) delay = Math.max(500, s.interval_ms);
    } catch (err) {
      state.failures++;
      state.lastError = String(err && err.message ? err.message : err);
      setStatus(false, 'disconnected: ' + state.lastError);
    }
    setTimeout(poll, delay);
  }

  window.addEventListener('resize', () => { if (state.lastSummary) render(state.lastSummary); });
  poll();
})();
