// The dashboard in real headless Chromium against a real collector (the built CLI) fed over gRPC
// with made-to-order snapshots: two live nodes and one that said goodbye (stale). The numbers on
// the page must be the API's; a screenshot is kept in test/artifacts/ for a human to look at.
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcPublisher } from '../agent/publish/grpc-publisher.js';
import { Direction, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import { launchChromium } from './support/chromium.js';
import type { Counts } from './support/collector-child.js';
import { buildSnapshot, CollectorChild, getJson } from './support/collector-child.js';
import { freePort } from './support/nats-server.js';

const { TCP_STATE_ESTABLISHED: EST, TCP_STATE_SYN_RECV: SYN } = TcpState;
const ARTIFACTS = new URL('./artifacts/', import.meta.url);
// Long intervals: no node turns stale on its own while the test looks at the page.
const INTERVAL_MS = 120_000;

interface NodeView {
  name: string;
  status: 'live' | 'stale';
  staleReason?: string;
  httpConnections: number;
}
interface SummaryView {
  nodes: { live: number; stale: number };
  httpConnections: number;
}

/** The one browser API used here; tsconfig has no DOM lib, and these lines run in the page. */
interface BrowserWindow {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

let collector: CollectorChild;
let grpcAddress = '';
// One per node: the collector binds a gRPC stream to the first node it names.
const publishers = new Map<string, GrpcPublisher>();
let browser: Browser;

interface Opened {
  page: Page;
  /** Uncaught errors in the page. */
  errors: string[];
  /** Requests that went anywhere but the collector: there must be none (no CDN, no internet). */
  elsewhere: string[];
  /** Paths (with query) of the API requests the page made. */
  api: string[];
}

/** Opens the dashboard; `stub` answers some API paths in the browser in place of the collector. */
async function openDashboard(stub: (path: string) => { status: number; json?: unknown } | undefined): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const opened: Opened = { page, errors: [], elsewhere: [], api: [] };
  page.on('pageerror', (e) => opened.errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(collector.base)) opened.elsewhere.push(r.url());
    else if (r.url().includes('/api/')) opened.api.push(r.url().slice(collector.base.length));
  });
  await page.route(`${collector.base}/api/**`, async (route) => {
    const url = new URL(route.request().url());
    const answer = stub(url.pathname);
    if (!answer) return route.continue();
    return route.fulfill({ status: answer.status, contentType: 'application/json', body: JSON.stringify(answer.json ?? { error: 'stubbed' }) });
  });
  await page.goto(`${collector.base}/`);
  // The page counts its refreshes on <body>; two means a full cycle ran after the first paint.
  await page.waitForFunction('Number(document.body.dataset.refreshes ?? 0) >= 2', undefined, { timeout: 20_000 });
  return opened;
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
}

async function publish(node: string, namespaces: Counts[], seq: number, extra: { goodbye?: boolean; remotes?: boolean } = {}): Promise<void> {
  const s = buildSnapshot(node, { namespaces, intervalMs: INTERVAL_MS }, { epoch: 7, seq, agentTimeMs: Date.now() + seq, cluster: 'dash', goodbye: extra.goodbye ?? false });
  if (extra.remotes) {
    s.namespaces[0]!.topRemotes = [
      { port: 80, direction: Direction.DIRECTION_INBOUND, remotes: [{ address: '10.1.2.3', count: 4 }, { address: '10.9.8.7', count: 1 }], other: 0 },
    ];
  }
  let publisher = publishers.get(node);
  if (!publisher) {
    publisher = new GrpcPublisher({ address: grpcAddress, backoff: { initialMs: 50, maxMs: 200 }, startTimeoutMs: 3000, publishTimeoutMs: 2000 });
    publishers.set(node, publisher);
    await publisher.start();
  }
  expect(await publisher.publish(s)).toBe('sent');
}

/** GET with the path sent byte for byte (fetch and URL would normalise "..", which is what we test). */
function rawGet(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(collector.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  collector = await CollectorChild.start(httpPort, ['--cluster', 'dash', '--grpc', `127.0.0.1:${grpcPort}`]);
  grpcAddress = `127.0.0.1:${grpcPort}`;
  await publish('node-a', [[[80, 'in', EST, 5], [80, 'out', EST, 2]], [[443, 'in', EST, 3]]], 1, { remotes: true });
  await publish('node-b', [[[80, 'in', EST, 7], [8080, 'in', SYN, 1]]], 1);
  await publish('node-c', [[[80, 'in', EST, 11]]], 1);
  await publish('node-c', [[[80, 'in', EST, 11]]], 2, { goodbye: true });
  for (let i = 0; ; i++) {
    const nodes = await getJson<NodeView[]>(`${collector.base}/api/v1/nodes`);
    if (nodes.length === 3 && nodes.find((n) => n.name === 'node-c')?.status === 'stale') break;
    if (i > 100) throw new Error(`collector did not take the snapshots: ${JSON.stringify(nodes)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([...publishers.values()].map((p) => p.shutdown(1000)));
  await collector?.stop();
});

describe('dashboard', () => {
  it("shows the API's numbers, the stale node marked, top remotes, and a live chart on today's collector (no history, no alerts)", async () => {
    // Today's collector, whatever this build has: no /api/v1/series (404), alerts switched off (501).
    const { page, errors, elsewhere } = await openDashboard((path) =>
      path === '/api/v1/series' ? { status: 404 } : path === '/api/v1/alerts' ? { status: 501 } : undefined,
    );

    const summary = await getJson<SummaryView>(`${collector.base}/api/v1/summary`);
    const nodes = await getJson<NodeView[]>(`${collector.base}/api/v1/nodes`);
    expect(summary.httpConnections).toBe(18); // node-a 10 + node-b 8; node-c said goodbye
    const number = async (selector: string) => Number((await page.textContent(selector))!.replace(/,/g, ''));
    expect(await number('#total-http')).toBe(summary.httpConnections);
    expect(await number('#nodes-live')).toBe(summary.nodes.live);
    expect(await number('#nodes-stale')).toBe(summary.nodes.stale);
    expect(summary.nodes).toEqual({ live: 2, stale: 1 });

    const rows = [];
    for (const tr of await page.locator('#nodes tbody tr').all()) {
      rows.push({
        name: await tr.getAttribute('data-node'),
        status: await tr.locator('.status').getAttribute('data-status'),
        badge: await tr.locator('.badge').textContent(),
        count: Number((await tr.locator('.count').textContent())!.replace(/,/g, '')),
        marked: (await tr.getAttribute('class'))?.split(' ').includes('stale'),
        background: await tr.locator('td').first().evaluate((td) => (globalThis as unknown as BrowserWindow).getComputedStyle(td).backgroundColor),
      });
    }
    expect(rows.map((r) => [r.name, r.status, r.count])).toEqual(nodes.map((n) => [n.name, n.status, n.httpConnections]));
    const stale = rows.find((r) => r.name === 'node-c')!;
    const live = rows.find((r) => r.name === 'node-a')!;
    expect(stale).toMatchObject({ status: 'stale', marked: true, badge: 'stale (goodbye)' });
    expect(stale.background).not.toBe(live.background); // visibly, not just a class name

    const remotes = [];
    for (const tr of await page.locator('#remotes tbody tr').all()) remotes.push(await tr.locator('td').allTextContents());
    expect(remotes).toEqual([
      ['10.1.2.3', '80', '4'],
      ['10.9.8.7', '80', '1'],
    ]);

    // The endpoints are missing: the page says so and charts the summaries it polled, busiest port first.
    expect(await page.textContent('#alerts')).toContain('no alerts');
    expect(await page.textContent('#history-note')).toContain('history not enabled');
    const ports = [];
    for (const chart of await page.locator('#charts .chart').all()) ports.push(await chart.getAttribute('data-port'));
    expect(ports).toEqual(['80', '443', '8080']);
    expect(await page.locator('#charts .chart canvas').count()).toBe(3); // drawn by uPlot
    expect(await page.isHidden('#error')).toBe(true);

    await screenshot(page, 'dashboard.png');
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it('lights up when /api/v1/series and /api/v1/alerts answer: charts from history, the range selector, active alerts', async () => {
    const now = Date.now();
    const t0 = now - 10 * 60_000;
    const key = (node: string, port: number, direction: string) => ({ node, port, direction, state: 'ESTABLISHED', namespace: '', pod: '', workload: '' });
    const points = (values: (number | null)[]) => values.map((v, i) => (v === null ? null : { t: t0 + i * 60_000, min: v, max: v, avg: v, last: v, count: 6 }));
    const series = {
      resolution: 'minute',
      stepMs: 60_000,
      from: t0,
      to: now,
      series: [
        { key: key('node-a', 80, 'inbound'), points: points([5, 6, 8, 13, 21, 34, 30, 22, 12, 8]) },
        { key: key('node-b', 80, 'inbound'), points: points([1, 1, 2, 2, null, null, 3, 3, 4, 4]) },
        { key: key('node-a', 9000, 'outbound'), points: points([2, 2, 2, 2, 2, 2, 2, 2, 2, 2]) },
      ],
    };
    const alerts = {
      active: [
        { id: 'a1', kind: 'connection_surge', peak: 34, scope: { node: 'node-a', port: 80 }, startedAt: now - 120_000, value: 34, baseline: 6, threshold: 20, topRemotes: [{ address: '203.0.113.9', count: 25 }] },
      ],
      recent: [],
    };
    const { page, errors, elsewhere, api } = await openDashboard((path) =>
      path === '/api/v1/series' ? { status: 200, json: series } : path === '/api/v1/alerts' ? { status: 200, json: alerts } : undefined,
    );
    expect(await page.textContent('#history-note')).toContain('from history: minute resolution');
    const ports = [];
    for (const chart of await page.locator('#charts .chart').all()) ports.push(await chart.getAttribute('data-port'));
    expect(ports).toEqual(['80', '9000']); // the history's ports, not the live ones
    const alert = await page.textContent('#alerts');
    expect(alert).toContain('connection surge on node-a port 80');
    expect(alert).toContain('203.0.113.9 (25)');
    await screenshot(page, 'dashboard-history.png');

    // The range selector asks the collector for that span.
    const span = (path: string) => {
      const q = new URL(path, 'http://x').searchParams;
      return Number(q.get('to')) - Number(q.get('from'));
    };
    expect(span(api.filter((p) => p.startsWith('/api/v1/series')).at(-1)!)).toBe(3600e3); // 1h by default
    await page.click('#range button[data-range="6h"]');
    await expect.poll(() => span(api.filter((p) => p.startsWith('/api/v1/series')).at(-1)!)).toBe(6 * 3600e3);
    expect(await page.getAttribute('#range button[data-range="6h"]', 'class')).toBe('active');
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it("reads this build's own /api/v1/series and /api/v1/alerts without stumbling", async () => {
    const series = await fetch(`${collector.base}/api/v1/series?from=${Date.now() - 3600e3}&to=${Date.now()}&step=60000`);
    const alerts = await fetch(`${collector.base}/api/v1/alerts`);
    const { page, errors, elsewhere } = await openDashboard(() => undefined);
    const note = await page.textContent('#history-note');
    if (series.status === 200) expect(note).toMatch(/^from history|^history has no data for this range yet/);
    else expect(note).toContain('history not enabled');
    if (alerts.status === 200) expect(await page.textContent('#alerts')).toBe('no alerts'); // a steady fleet raises none
    expect(await page.locator('#charts .chart').first().getAttribute('data-port')).toBe('80');
    expect(await page.isHidden('#error')).toBe(true);
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it('serves its files with the right types and caching, and nothing outside its list', async () => {
    const index = await rawGet('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const vendor = /href="(\/vendor\/uplot@[\d.]+)\/uPlot\.min\.css"/.exec(index.body)?.[1];
    expect(vendor).toBeDefined();
    const js = await rawGet(`${vendor}/uPlot.esm.js`);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await rawGet(`${vendor}/uPlot.min.css`)).headers['content-type']).toBe('text/css; charset=utf-8');
    const own = await rawGet('/dashboard/dashboard.js');
    expect([own.status, own.headers['content-type'], own.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'no-cache']);
    expect((await rawGet('/dashboard/dashboard.css')).headers['content-type']).toBe('text/css; charset=utf-8');

    for (const path of [
      '/dashboard/../../package.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/dashboard/%252e%252e/package.json',
      '/dashboard/..\\..\\package.json',
      '/vendor/../package.json',
      `${vendor}/../package.json`,
      `${vendor}/package.json`,
      '/dashboard/dashboard-routes.ts',
      '/dashboard/',
      '//etc/passwd',
    ]) {
      const res = await rawGet(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body).not.toContain('"name"');
    }
  });
});
