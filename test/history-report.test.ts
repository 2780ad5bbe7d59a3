// History through the collector on a controllable clock: live counts recorded each interval,
// the report's peak, p95, average and last, the series endpoint, and `fleetstat report` in
// every output format.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../collector/collector.js';
import { HistoryThread } from '../collector/history/history-thread.js';
import { encodeSnapshot } from './support/snapshots.js';
import { fleetstat } from './support/fleetstat-cli.js';

const ESTABLISHED = 1;
const START = Date.UTC(2026, 10, 20, 12, 0, 0);

describe('history through the collector', () => {
  const clock = { now: START };
  let collector: Collector;
  let base = '';
  // Node a's inbound :80 connections, one sample a minute: up, peak, down.
  const load = [10, 20, 30, 40, 30, 20, 10];

  beforeAll(async () => {
    const history = await HistoryThread.open({ logger: pino({ level: 'silent' }), flushEveryMs: 0, pruneEveryMs: 0 });
    collector = new Collector({ cluster: 'test', logger: pino({ level: 'silent' }), history, now: () => clock.now });
    const address = await collector.start('127.0.0.1', 0);
    base = `http://127.0.0.1:${address.port}`;
    load.forEach((value, i) => {
      clock.now = START + i * 60_000;
      collector.state.ingest(encodeSnapshot({ node: 'a', seq: i + 1, intervalMs: 60_000, http: [[80, 'in', ESTABLISHED, value]] }), { transport: 'grpc' });
      collector.state.ingest(encodeSnapshot({ node: 'b', seq: i + 1, intervalMs: 60_000, http: [[80, 'in', ESTABLISHED, 5]] }), { transport: 'grpc' });
      collector.recordHistory(history, clock.now);
    });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('reports peak, p95, average and last per node', async () => {
    const report = (await (await fetch(`${base}/api/v1/report?since=1h&by=node`)).json()) as { rows: Record<string, unknown>[] };
    expect(report.rows.map((r) => [r['node'], r['port'], r['direction'], r['state'], r['peak'], r['p95'], r['avg'], r['last']])).toEqual([
      ['a', 80, 'inbound', 'ESTABLISHED', 40, 40, 160 / 7, 10],
      ['b', 80, 'inbound', 'ESTABLISHED', 5, 5, 5, 5],
    ]);
  });

  it('reports cluster-wide per port', async () => {
    const report = (await (await fetch(`${base}/api/v1/report?since=1h&by=port`)).json()) as { rows: Record<string, unknown>[] };
    expect(report.rows.map((r) => [r['port'], r['peak'], r['last']])).toEqual([[80, 45, 15]]);
  });

  it('serves the series over a range at a step', async () => {
    const series = (await (await fetch(`${base}/api/v1/series?from=${START}&to=${START + 6 * 60_000}&step=1m&node=a&port=80`)).json()) as {
      series: { points: { t: number; max: number | null }[] }[];
    };
    expect(series.series).toHaveLength(1);
    expect(series.series[0]?.points.map((p) => p.max)).toEqual(load);
    expect((await fetch(`${base}/api/v1/series?step=bogus`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/report?by=rack`)).status).toBe(400);
  });

  it('counts what history took on /metrics', async () => {
    await fetch(`${base}/api/v1/report?since=1h`); // answered after every batch before it
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`fleetstat_history_batches_total ${load.length}`);
    expect(metrics).toContain('fleetstat_history_batches_dropped_total 0');
    // Each node's one series, each interval (the cluster-wide sums are history's own).
    expect(metrics).toContain(`fleetstat_history_points_total ${2 * load.length}`);
    expect(metrics).toMatch(/fleetstat_history_busy_seconds_total\{part="record"\} [0-9.e-]+/);
    expect(metrics).toContain('fleetstat_history_points_rejected_total{reason="bad_key"} 0');
  });

  it('fleetstat report prints the same rows as a table, JSON and CSV', async () => {
    const json = await fleetstat(['report', '--collector', base, '--since', '1h', '--by', 'node', '-o', 'json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { node: string; port: number; direction: string; state: string; peak: number; p95: number; avg: number; last: number }[];
    expect(rows.map((r) => [r.node, r.peak, r.last])).toEqual([['a', 40, 10], ['b', 5, 5]]);
    const csv = await fleetstat(['report', '--collector', base, '--since', '1h', '-o', 'csv', '--limit', '1']);
    expect(csv.stdout.split('\n')[0]).toBe('node,namespace,workload,pod,port,direction,state,peak,p95,avg,last,trendPerDay,timeToLimit');
    expect(csv.stdout.split('\n')[1]).toMatch(/^a,,,,80,inbound,ESTABLISHED,40,40,22\.86,10,/);
    expect(csv.stdout.trim().split('\n')).toHaveLength(2);
    const table = await fleetstat(['report', '--collector', base, '--since', '1h']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NODE\s+NAMESPACE\s+WORKLOAD\s+POD\s+PORT\s+DIRECTION\s+STATE\s+PEAK\s+P95\s+AVG\s+LAST/);
  });
});
