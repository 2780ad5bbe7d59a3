// The dashboard's loop: every few seconds, read the collector's API and redraw. Endpoints that a
// collector may not have yet (history, alerts) answer 404 or 501; the page then says so and falls
// back (a chart from the summaries it polls itself), and uses them as soon as they answer 200.

import { LiveHistory, PortCharts, timelineFromSeries } from './charts.js';
import { renderAlerts, renderNodes, renderRemotes, renderTotals } from './render.js';

const REFRESH_MS = 3000;
const MAX_DETAILS = 20; // node details fetched per refresh for top remotes; a big fleet shows its busiest
const POINTS_PER_CHART = 240;
const RANGES = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };

const charts = new PortCharts(document.getElementById('charts'));
const live = new LiveHistory();
let range = '1h';
let refreshes = 0;

class NotAvailable extends Error {}
class Unauthorized extends Error {}

// A collector started with --api-token-file answers 401 until the page sends its token. The token
// lives in this tab's sessionStorage (gone when the tab closes) and travels only in a header.
const TOKEN_KEY = 'fleetstat.apiToken';

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage switched off: the prompt comes back on every load
  }
}

function authHeaders() {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

function askForToken() {
  const form = document.getElementById('token-form');
  document.getElementById('token-note').textContent = storedToken() ? 'that token was refused' : '';
  if (form.hidden) {
    form.hidden = false;
    document.getElementById('token-input').focus();
  }
}

document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('token-input');
  const token = input.value.trim();
  if (!token) return;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // keep going: this refresh still fails without storage, and says so
  }
  input.value = '';
  event.target.hidden = true;
  refresh().catch((err) => {
    if (err instanceof Unauthorized) askForToken(); // other errors: the loop reports them on its next turn
  });
});

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders() } });
  if (res.status === 401) throw new Unauthorized(`${path}: 401`);
  // 404: this collector predates the endpoint; 501: it has it, switched off.
  if (res.status === 404 || res.status === 501) throw new NotAvailable(`${path}: ${res.status}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** The endpoint's answer, or null when the collector does not offer it. */
async function optional(path) {
  try {
    return await getJson(path);
  } catch (err) {
    if (err instanceof NotAvailable) return null;
    throw err;
  }
}

function seriesPath(now) {
  const span = RANGES[range];
  // A whole number of seconds per step keeps the collector's buckets aligned between refreshes.
  const step = Math.max(1000, Math.round(span / POINTS_PER_CHART / 1000) * 1000);
  return `/api/v1/series?from=${now - span}&to=${now}&step=${step}`;
}

async function refresh() {
  const now = Date.now();
  const [summary, nodes, alerts, series] = await Promise.all([
    getJson('/api/v1/summary'),
    getJson('/api/v1/nodes'),
    optional('/api/v1/alerts'),
    optional(seriesPath(now)),
  ]);
  live.add(now, summary);
  const busiest = nodes.filter((n) => n.status === 'live').sort((a, b) => b.httpConnections - a.httpConnections).slice(0, MAX_DETAILS);
  // A node that went away between the two reads answers 404: skip it, it is gone from the next refresh.
  const details = (await Promise.all(busiest.map((n) => optional(`/api/v1/nodes/${encodeURIComponent(n.name)}`)))).filter(Boolean);

  renderTotals(summary);
  renderNodes(nodes);
  renderRemotes(details);
  renderAlerts(alerts);
  const note = document.getElementById('history-note');
  const fromHistory = series ? timelineFromSeries(series) : null;
  if (fromHistory?.hasData) {
    note.textContent = `from history: ${series.resolution} resolution, one point per ${series.stepMs / 1000} s`;
    charts.show(fromHistory);
  } else {
    // A collector just started with history has nothing for the range yet: the page's own samples still help.
    note.textContent = series
      ? 'history has no data for this range yet: showing what this page has seen since it opened'
      : 'history not enabled on this collector: showing what this page has seen since it opened';
    charts.show(live.timeline(now - RANGES[range]));
  }
  document.getElementById('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
  document.body.dataset.refreshes = String(++refreshes);
}

async function loop() {
  const error = document.getElementById('error');
  try {
    await refresh();
    error.hidden = true;
  } catch (err) {
    if (err instanceof Unauthorized) {
      error.hidden = true;
      askForToken();
      setTimeout(loop, REFRESH_MS);
      return;
    }
    // Keep the last good view on screen; say why it is not updating.
    error.textContent = `cannot reach the collector: ${err.message}`;
    error.hidden = false;
  }
  setTimeout(loop, REFRESH_MS);
}

for (const button of document.querySelectorAll('#range button')) {
  button.addEventListener('click', () => {
    range = button.dataset.range;
    for (const b of document.querySelectorAll('#range button')) b.classList.toggle('active', b === button);
    refresh().catch(() => undefined); // the loop reports errors on its next turn
  });
}

void loop();
