import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryQueryError } from './history-errors.js';
import { HistoryStore } from './history-store.js';
import type { ReportBy } from './queries.js';
import { queryReport, querySeries } from './queries.js';
import type { SamplePoint } from './series-key.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const http = (node: string, port: number, value: number, pod: Partial<SamplePoint> = {}): SamplePoint =>
  ({ node, port, direction: 'inbound', state: 'ESTABLISHED', value, ...pod });

// Three hours at a 10 s interval. a:80 holds the minute number (0..179) all minute long, so
// every minute's min = max = last = its number; b:80 holds 5, a:443 holds 2; two pods of the
// workload shop/web hold 3 (on a) and 4 (on b).
let store: HistoryStore;
const clock = { now: T0 };
beforeEach(() => {
  clock.now = T0;
  store = HistoryStore.open({ flushEveryMs: 0, pruneEveryMs: 0, now: () => clock.now });
  for (let i = 0; i < 3 * 360; i++) {
    const minute = Math.floor(i / 6);
    store.recordSample(T0 + i * 10_000, [
      http('a', 80, minute), http('b', 80, 5), http('a', 443, 2),
      http('a', 80, 3, { namespace: 'shop', pod: 'web-1', workload: 'web' }),
      http('b', 80, 4, { namespace: 'shop', pod: 'web-2', workload: 'web' }),
    ]);
  }
  clock.now = T0 + 3 * HOUR;
});
afterEach(() => store.close());

describe('querySeries', () => {
  it('returns aligned steps merged from minute rows, null where there is no data', () => {
    const result = querySeries(store, { from: T0 - 10 * MIN, to: T0 + 30 * MIN - 1, stepMs: 5 * MIN, filter: { node: 'a', port: 80 } });
    expect(result).toMatchObject({ resolution: 'minute', stepMs: 5 * MIN, from: T0 - 10 * MIN, to: T0 + 25 * MIN });
    expect(result.series.map((s) => s.key)).toEqual([
      { node: 'a', port: 80, direction: 'inbound', state: 'ESTABLISHED', namespace: '', pod: '', workload: '' },
    ]);
    expect(result.series[0]?.points).toEqual([
      { t: T0 - 10 * MIN, min: null, max: null, avg: null, last: null, count: 0 },
      { t: T0 - 5 * MIN, min: null, max: null, avg: null, last: null, count: 0 },
      ...[0, 1, 2, 3, 4, 5].map((k) => ({ t: T0 + k * 5 * MIN, min: 5 * k, max: 5 * k + 4, avg: 5 * k + 2, last: 5 * k + 4, count: 30 })),
    ]);
  });

  it('uses hours for hour steps, rounds a step up to whole buckets, and filters', () => {
    const hourly = querySeries(store, { from: T0, to: T0 + 3 * HOUR - 1, stepMs: HOUR, filter: { node: '*', port: 80 } });
    expect(hourly.resolution).toBe('hour');
    // Cluster-wide port 80 is a + b per sample: minute + 5.
    expect(hourly.series[0]?.points.map((p) => [p.min, p.max, p.last, p.count])).toEqual([[5, 64, 64, 360], [65, 124, 124, 360], [125, 184, 184, 360]]);
    expect(querySeries(store, { from: T0, to: T0 + 10 * MIN, stepMs: 90_000 }).stepMs).toBe(2 * MIN);
    // Without a node: every real node, never the cluster; without pod: totals, not pods.
    expect(querySeries(store, { from: T0, to: T0 + MIN, stepMs: MIN, filter: { port: 80 } }).series.map((s) => s.key.node)).toEqual(['a', 'b']);
    expect(querySeries(store, { from: T0, to: T0 + MIN, stepMs: MIN, filter: { pod: 'web-2', namespace: 'shop', workload: 'web' } })
      .series.map((s) => [s.key.node, s.points[0]?.max])).toEqual([['b', 4]]);
  });

  it('reads hours where minutes were already pruned, and refuses oversized or bad ranges', () => {
    clock.now = T0 + 20 * DAY;
    expect(querySeries(store, { from: T0, to: T0 + HOUR, stepMs: MIN }).resolution).toBe('hour');
    expect(() => querySeries(store, { from: T0 + 10 * DAY, to: T0 + 20 * DAY, stepMs: MIN })).toThrow(HistoryQueryError); // 14,401 points
    expect(() => querySeries(store, { from: T0 + MIN, to: T0, stepMs: MIN })).toThrow(HistoryQueryError);
    expect(() => querySeries(store, { from: T0, to: T0 + MIN, stepMs: 0 })).toThrow(HistoryQueryError);
  });
});

describe('queryReport', () => {
  it('groups by node: one row per node, port, direction and state, highest peak first', () => {
    const report = queryReport(store, { since: 3 * HOUR, by: 'node', limitValue: 200 });
    expect(report).toMatchObject({ by: 'node', resolution: 'minute', from: T0, to: T0 + 3 * HOUR });
    expect(report.rows.map((r) => [r.node, r.port, r.direction, r.state, r.peak, r.p95, r.avg, r.last, r.steps, r.samples])).toEqual([
      // 180 minute maxima 0..179: p95 is rank ceil(171) = 171st smallest, 170; avg of 0..179 = 89.5.
      ['a', 80, 'inbound', 'ESTABLISHED', 179, 170, 89.5, 179, 180, 1080],
      ['b', 80, 'inbound', 'ESTABLISHED', 5, 5, 5, 5, 180, 1080],
      ['a', 443, 'inbound', 'ESTABLISHED', 2, 2, 2, 2, 180, 1080],
    ]);
    const [a80, b80] = report.rows;
    // One more a minute: 1440 a day; the line is at 180 now, so 200 is 20 minutes away.
    expect(a80?.trend).toBeCloseTo(1440, 6);
    expect(a80?.timeToLimit).toBeCloseTo(20 * MIN, 0);
    expect(b80).toMatchObject({ trend: 0, timeToLimit: Infinity });
    expect(queryReport(store, { since: 3 * HOUR, by: 'node', limit: 2 }).rows.map((r) => [r.node, r.port, r.timeToLimit])).toEqual([['a', 80, null], ['b', 80, null]]);
  });

  it('groups by port (cluster-wide), pod and workload', () => {
    const row = (by: ReportBy) => queryReport(store, { since: 3 * HOUR, by }).rows
      .map((r) => [r.node, r.port, r.namespace, r.pod, r.workload, r.peak, r.last]);
    expect(row('port')).toEqual([['*', 80, '', '', '', 184, 184], ['*', 443, '', '', '', 2, 2]]);
    expect(row('pod')).toEqual([['b', 80, 'shop', 'web-2', 'web', 4, 4], ['a', 80, 'shop', 'web-1', 'web', 3, 3]]);
    expect(row('workload')).toEqual([['*', 80, 'shop', '', 'web', 7, 7]]);
  });

  it('uses hour rows beyond two days; p95 and trend over hour maxima', () => {
    const report = queryReport(store, { since: 7 * DAY, by: 'node', limit: 1 });
    expect(report.resolution).toBe('hour');
    // Hour maxima 59, 119, 179: p95 is the largest of three; 60 an hour is 1440 a day.
    expect(report.rows[0]).toMatchObject({ node: 'a', port: 80, peak: 179, p95: 179, avg: 89.5, last: 179, steps: 3 });
    expect(report.rows[0]?.trend).toBeCloseTo(1440, 9);
  });

  it('sees samples not yet flushed, and refuses bad arguments', () => {
    store.recordSample(clock.now, [http('c', 8080, 9)]);
    expect(queryReport(store, { since: HOUR, by: 'node' }).rows.find((r) => r.node === 'c')?.peak).toBe(9);
    expect(() => queryReport(store, { since: 0, by: 'node' })).toThrow(HistoryQueryError);
    expect(() => queryReport(store, { since: HOUR, by: 'bogus' as ReportBy })).toThrow(HistoryQueryError);
    expect(() => queryReport(store, { since: HOUR, by: 'node', limit: 0 })).toThrow(HistoryQueryError);
  });
});

describe('queryReport top N', () => {
  it('ranks through the day-peak index exactly as ranking every series would', () => {
    const clock2 = { now: T0 };
    const big = HistoryStore.open({ flushEveryMs: 0, pruneEveryMs: 0, now: () => clock2.now });
    try {
      let seed = 7;
      const random = (): number => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      // 3 days every 10 minutes: 30 nodes x 2 ports, pods of 4 workloads; peaks often tie
      // (values in steps of 10), and a few spikes sit before the reports' start.
      for (let i = 0; i < 3 * 144; i++) {
        const t = T0 + i * 10 * MIN;
        clock2.now = t;
        const points: SamplePoint[] = [];
        for (let n = 0; n < 30; n++) {
          for (const port of [80, 443]) points.push(http(`n${n}`, port, 10 * Math.floor(random() * (5 + n % 7)) + (i === 10 * n ? 500 : 0)));
          points.push(http(`n${n}`, 80, Math.floor(random() * 20), { namespace: 'ns', pod: `p${n}`, workload: `w${n % 4}` }));
        }
        big.recordSample(t, points);
        big.flushAndSeal();
      }
      clock2.now = T0 + 3 * DAY - 1;
      for (const by of ['node', 'port', 'pod', 'workload'] as const) {
        for (const since of [3 * HOUR, 30 * HOUR, 2 * DAY + 5 * HOUR]) {
          const all = queryReport(big, { since, by, limitValue: 1000 });
          for (const limit of [1, 3, 10, 100]) {
            const top = queryReport(big, { since, by, limit, limitValue: 1000 });
            expect(top).toEqual({ ...all, rows: all.rows.slice(0, limit) });
          }
        }
      }
    } finally {
      big.close();
    }
  });
});
