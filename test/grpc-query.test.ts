// QueryService's history and alert calls over a real gRPC connection give the answers the HTTP
// API gives for the same collector: series, capacity report (with time to a limit) and alerts;
// and a clear status when a feature is off or a request is bad.
import { Server, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../collector/collector.js';
import { SurgeDetector } from '../collector/alerts/surge-detector.js';
import { addQueryService } from '../collector/api/grpc-query.js';
import { HistoryThread } from '../collector/history/history-thread.js';
import { QueryServiceClient, ReportBy } from '../proto/gen/fleetstat/v1/query.js';
import type { GetReportRequest, GetReportResponse, GetSeriesRequest, GetSeriesResponse, ListAlertsResponse } from '../proto/gen/fleetstat/v1/query.js';
import { encodeLoad } from './support/alert-snapshots.js';

const ESTABLISHED = 1;
const START = Date.UTC(2026, 10, 20, 12, 0, 0);

function call<Res>(invoke: (cb: (error: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((error, res) => (error ? reject(error) : resolve(res)));
  });
}

async function serve(collector: Collector): Promise<{ server: Server; client: QueryServiceClient }> {
  const server = new Server();
  addQueryService(server, collector);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))));
  return { server, client: new QueryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure()) };
}

describe('QueryService history and alerts', () => {
  const clock = { now: START };
  const alerts = new SurgeDetector({ thresholds: { baseline: { alpha: 0.2, warmup: 5 } } });
  let collector: Collector;
  let server: Server;
  let client: QueryServiceClient;
  let base = '';
  // Node a grows 10 a minute; node b is flat at 5; then node a takes a burst from one address.
  const load = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

  beforeAll(async () => {
    const history = await HistoryThread.open({ logger: pino({ level: 'silent' }), flushEveryMs: 0, pruneEveryMs: 0 });
    collector = new Collector({ cluster: 'test', logger: pino({ level: 'silent' }), history, alerts, now: () => clock.now });
    base = `http://127.0.0.1:${(await collector.start('127.0.0.1', 0)).port}`;
    ({ server, client } = await serve(collector));
    const send = (seq: number, a: number, remotes: Record<string, number>): void => {
      clock.now = START + (seq - 1) * 60_000;
      collector.state.ingest(encodeLoad({ node: 'a', seq, inbound: { 80: { [ESTABLISHED]: a } }, remotes: { 80: remotes } }), { transport: 'grpc' });
      collector.state.ingest(encodeLoad({ node: 'b', seq, inbound: { 80: { [ESTABLISHED]: 5 } } }), { transport: 'grpc' });
      collector.recordHistory(history, clock.now);
      collector.evaluateAlerts(alerts);
    };
    load.forEach((value, i) => send(i + 1, value, { '198.18.0.2': value }));
    send(load.length + 1, 2000, { '198.18.0.66': 1900, '198.18.0.2': 100 });
  });

  afterAll(async () => {
    client.close();
    server.forceShutdown();
    await collector.stop();
  });

  it('GetSeries gives the steps /api/v1/series gives', async () => {
    const to = START + load.length * 60_000;
    const request: GetSeriesRequest = { fromMs: START, toMs: to, stepMs: 120_000, node: 'a', port: 80 };
    const reply = await call<GetSeriesResponse>((cb) => client.getSeries(request, cb));
    const http = (await (await fetch(`${base}/api/v1/series?from=${START}&to=${to}&step=2m&node=a&port=80`)).json()) as {
      resolution: string; stepMs: number; series: { key: Record<string, unknown>; points: { t: number; max: number | null; avg: number | null; count: number }[] }[];
    };
    expect(reply.resolution).toBe(http.resolution);
    expect(reply.stepMs).toBe(120_000);
    expect(reply.series.map((s) => s.key)).toEqual(http.series.map((s) => s.key));
    const steps = reply.series[0]?.steps ?? [];
    expect(steps.map((s) => [s.tMs, s.max, s.avg, s.samples])).toEqual(http.series[0]?.points.map((p) => [p.t, p.max, p.avg, p.count]));
    // 2-minute steps of a 10-a-minute ramp: the max of each pair, then the burst.
    expect(steps.map((s) => s.max)).toEqual([20, 40, 60, 80, 100, 2000]);
  });

  it('GetReport gives the rows /api/v1/report gives, with time to a limit', async () => {
    const request: GetReportRequest = { sinceMs: 3_600_000, by: ReportBy.REPORT_BY_NODE, limitValue: 5000 };
    const reply = await call<GetReportResponse>((cb) => client.getReport(request, cb));
    const http = (await (await fetch(`${base}/api/v1/report?since=1h&by=node&limitValue=5000`)).json()) as {
      resolution: string; rows: { node: string; peak: number; p95: number; avg: number; last: number; trend: number | null; timeToLimit: number | 'never' | null }[];
    };
    expect(reply.by).toBe(ReportBy.REPORT_BY_NODE);
    expect(reply.resolution).toBe(http.resolution);
    expect(reply.rows.map((r) => [r.key?.node, r.peak, r.p95, r.avg, r.last, r.trendPerDay ?? null])).toEqual(
      http.rows.map((r) => [r.node, r.peak, r.p95, r.avg, r.last, r.trend]),
    );
    expect(reply.rows.map((r) => [r.key?.node, r.peak, r.last])).toEqual([['a', 2000, 2000], ['b', 5, 5]]);
    // a rises, so it reaches 5000 some time from now; b is flat, so never (+Inf over gRPC, "never" in JSON).
    const [a, b] = reply.rows;
    expect(a?.timeToLimitMs).toBe(http.rows[0]?.timeToLimit);
    expect(a?.timeToLimitMs).toBeGreaterThan(0);
    expect(b?.timeToLimitMs).toBe(Infinity);
    expect(http.rows[1]?.timeToLimit).toBe('never');
  });

  it('GetReport by port is cluster-wide, and limit keeps the top N by peak', async () => {
    const byPort = await call<GetReportResponse>((cb) => client.getReport({ sinceMs: 3_600_000, by: ReportBy.REPORT_BY_PORT }, cb));
    expect(byPort.rows.map((r) => [r.key?.node, r.key?.port, r.peak])).toEqual([['*', 80, 2005]]);
    const top = await call<GetReportResponse>((cb) => client.getReport({ sinceMs: 3_600_000, by: ReportBy.REPORT_BY_NODE, limit: 1 }, cb));
    expect(top.rows.map((r) => r.key?.node)).toEqual(['a']);
  });

  it('ListAlerts gives the alerts /api/v1/alerts gives, naming the burst address', async () => {
    const reply: ListAlertsResponse = await call<ListAlertsResponse>((cb) => client.listAlerts({}, cb));
    const http = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { active: { id: string; kind: string; scope: { node?: string; port: number }; startedAt: number; topRemotes: { address: string }[] }[] };
    expect(reply.active.map((a) => [a.id, a.kind, a.node ?? '*', a.port, a.startedAtMs, a.topRemotes[0]?.address])).toEqual(
      http.active.map((a) => [a.id, a.kind, a.scope.node ?? '*', a.scope.port, a.startedAt, a.topRemotes[0]?.address]),
    );
    expect(reply.active.map((a) => [a.kind, a.node ?? '*', a.topRemotes[0]?.address]).sort()).toEqual([
      ['connection_surge', '*', '198.18.0.66'],
      ['connection_surge', 'a', '198.18.0.66'],
    ]);
  });

  it('refuses bad requests with INVALID_ARGUMENT', async () => {
    await expect(call<GetSeriesResponse>((cb) => client.getSeries({ fromMs: START + 60_000, toMs: START }, cb))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(call<GetSeriesResponse>((cb) => client.getSeries({ stepMs: 1, fromMs: 0, toMs: START }, cb))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(call<GetReportResponse>((cb) => client.getReport({ sinceMs: 0, by: ReportBy.REPORT_BY_NODE }, cb))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(call<GetReportResponse>((cb) => client.getReport({ by: 42 as ReportBy }, cb))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe('QueryService without history or alerts', () => {
  it('answers FAILED_PRECONDITION, as the HTTP API answers 501', async () => {
    const collector = new Collector({ cluster: 'test', logger: pino({ level: 'silent' }) });
    const { server, client } = await serve(collector);
    try {
      await expect(call<GetSeriesResponse>((cb) => client.getSeries({}, cb))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('no history') });
      await expect(call<GetReportResponse>((cb) => client.getReport({ by: ReportBy.REPORT_BY_PORT }, cb))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
      await expect(call<ListAlertsResponse>((cb) => client.listAlerts({}, cb))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('surge detection') });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
