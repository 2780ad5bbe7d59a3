// /api/v1/connections fans out a detail request to every node, so one client's flood is cut at
// the collector: past its rate a client gets 429 with Retry-After, other clients and the other
// endpoints are served as before.
import { get } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../collector/collector.js';
import { encodeSnapshot } from './support/snapshots.js';

describe('/api/v1/connections rate limit', () => {
  let collector: Collector;
  let asked = 0;
  let port = 0;

  beforeAll(async () => {
    collector = new Collector({
      cluster: 'test',
      logger: pino({ level: 'silent' }),
      detailRate: 0.5, // burst 1
      detail: { getSockets: (node) => (asked++, Promise.resolve({ node, rows: [], truncated: 0, error: '' })) },
    });
    port = (await collector.start('127.0.0.1', 0)).port;
    collector.state.ingest(encodeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', 1, 3]] }), { transport: 'grpc' });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('answers 429 with Retry-After past the rate, without asking any node', async () => {
    const first = await fetch(`http://127.0.0.1:${port}/api/v1/connections`);
    expect(first.status).toBe(200);
    expect(asked).toBe(1);
    const flood = await Promise.all([1, 2, 3, 4, 5].map(() => fetch(`http://127.0.0.1:${port}/api/v1/connections`)));
    expect(flood.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    expect(flood[0]?.headers.get('retry-after')).toBe('2');
    expect(((await flood[0]?.json()) as { error: string }).error).toMatch(/^rate limited: too many connection listings from 127\.0\.0\.1; retry in \d+ ms$/);
    expect(asked).toBe(1);
  });

  it('serves another client address, and other endpoints, as before', async () => {
    // From 127.0.0.2 (loopback too): another client address.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/api/v1/connections', localAddress: '127.0.0.2' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    expect(asked).toBe(2);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/summary`)).status).toBe(200);
  });
});
