// The dashboard in real headless Chromium against a collector that asks for an API token: the
// page loads, its first API request answers 401, it shows a token prompt; a wrong token is said
// to be refused; the right one shows the API's numbers. The token is kept in sessionStorage and
// sent only in the Authorization header, never in a URL.

import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerAuth } from '../collector/api/bearer-auth.js';
import { Collector } from '../collector/collector.js';
import { Snapshot, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import { launchChromium } from './support/chromium.js';
import { makeSnapshot } from './support/snapshots.js';

const TOKEN = 'dash-token-41c0e2';

let collector: Collector;
let base = '';
let browser: Browser;

beforeAll(async () => {
  collector = new Collector({ cluster: 'dash-auth', logger: pino({ level: 'silent' }), auth: new BearerAuth(TOKEN) });
  base = `http://127.0.0.1:${(await collector.start('127.0.0.1', 0)).port}`;
  const { TCP_STATE_ESTABLISHED: EST } = TcpState;
  for (const [node, count] of [['node-a', 17], ['node-b', 25]] as const) {
    const snapshot = makeSnapshot({ node, seq: 1, cluster: 'dash-auth', intervalMs: 120_000, agentTimeMs: Date.now(), http: [[80, 'in', EST, count]] });
    expect(collector.state.ingest(Snapshot.encode(snapshot).finish(), { transport: 'grpc' }).accepted).toBe(true);
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await collector?.stop();
});

interface Seen {
  url: string;
  authorization: string | undefined;
}

async function open(): Promise<{ page: Page; seen: Seen[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const seen: Seen[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => seen.push({ url: r.url(), authorization: r.headers()['authorization'] }));
  await page.goto(`${base}/`);
  return { page, seen, errors };
}

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();

describe('dashboard with an API token', () => {
  it('prompts on 401, says a wrong token is refused, shows the numbers with the right one', async () => {
    const { page, seen, errors } = await open();
    const form = page.locator('#token-form');
    await form.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await text(page, '#total-http')).toBe('–');
    expect(await text(page, '#token-note')).toBe('');
    expect(await page.locator('#error').isHidden()).toBe(true);

    await page.fill('#token-input', 'not-the-token');
    await page.press('#token-input', 'Enter');
    await page.waitForFunction("document.getElementById('token-note').textContent === 'that token was refused'", undefined, { timeout: 20_000 });
    expect(await form.isVisible()).toBe(true);
    expect(await text(page, '#total-http')).toBe('–');

    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction('Number(document.body.dataset.refreshes ?? 0) >= 1', undefined, { timeout: 20_000 });
    expect(await form.isHidden()).toBe(true);
    expect(await text(page, '#total-http')).toBe('42');
    expect(await text(page, '#nodes-live')).toBe('2');
    expect(await text(page, '#cluster')).toBe('dash-auth');
    expect(await page.evaluate('sessionStorage.getItem("fleetstat.apiToken")')).toBe(TOKEN);

    const api = seen.filter((s) => s.url.includes('/api/'));
    expect(api.some((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // The token travels in a header only: no request URL holds it (or the wrong one).
    for (const s of seen) expect(s.url).not.toMatch(/dash-token|not-the-token/);
    expect(errors).toEqual([]);

    // A reload in the same tab uses the stored token: no prompt.
    await page.reload();
    await page.waitForFunction('Number(document.body.dataset.refreshes ?? 0) >= 1', undefined, { timeout: 20_000 });
    expect(await form.isHidden()).toBe(true);
    expect(await text(page, '#total-http')).toBe('42');
    await page.close();
  });
});
