// The collector's HTTP interface: /api/v1/* JSON, /metrics, /healthz, /readyz.

import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RequestClient } from '../../agent/http/route-server.js';
import { HttpError, RouteServer } from '../../agent/http/route-server.js';
import { RequesterRateLimit } from '../../agent/detail/requester-rate-limit.js';
import type { KeyPair } from '../../agent/tls/pem-files.js';
import type { BearerAuth } from './bearer-auth.js';
import { WWW_AUTHENTICATE } from './bearer-auth.js';
import { tcpStateCode, tcpStateName } from '../../agent/procfs/tcp-states.js';
import { Table } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { DetailClient } from '../detail/detail-client.js';
import { fanOutDetail } from '../detail/fan-out.js';
import type { FleetState } from '../fleet-state.js';
import { nodeDetailView, nodesView, summaryView } from './fleet-views.js';
import { namespaceViews, podViews, workloadViews } from '../attribution/pod-views.js';
import { dashboardRoute } from '../dashboard/dashboard-routes.js';
import { HistoryQueryError } from '../history/history-errors.js';
import type { HistoryThread } from '../history/history-thread.js';
import { HistoryUnavailableError } from '../history/history-thread.js';
import type { SurgeDetector } from '../alerts/surge-detector.js';
import { QueryParamError, reportQueryOf, reportView, seriesQueryOf } from './history-params.js';

export interface HttpApiOptions {
  state: FleetState;
  metrics: Registry;
  logger: Logger;
  /** Where detail requests go; without one /api/v1/connections answers 501. */
  detail?: DetailClient;
  /** History for /api/v1/series and /api/v1/report; without it they answer 501. */
  history?: HistoryThread;
  /** Surge detection for /api/v1/alerts. */
  alerts?: SurgeDetector;
  /** False until ingest is subscribed (and JetStream recovery has finished). */
  ready: () => boolean;
  /** With it, every request but the probes and the dashboard's own files needs the bearer token. */
  auth?: BearerAuth;
  /** /api/v1/connections requests per second per client address (each fans out to every node); default 10. */
  detailRate?: number;
  /** Serve HTTPS. */
  tls?: KeyPair;
}

const MAX_ROWS = 100_000;

export class HttpApi {
  readonly server: RouteServer;
  private readonly detailLimit: RequesterRateLimit;

  constructor(private readonly options: HttpApiOptions) {
    const { auth, tls } = options;
    this.detailLimit = new RequesterRateLimit({ perSecond: options.detailRate ?? 10 });
    this.server = new RouteServer((url, client) => this.route(url, client), options.logger, {
      ...(tls ? { tls } : {}),
      ...(auth ? { guard: (url: URL, headers: IncomingHttpHeaders) => authenticate(auth, url, headers) } : {}),
    });
  }

  private async route(url: URL, client: RequestClient): Promise<unknown> {
    const { state } = this.options;
    // The dashboard's page and files, matched on the exact pathname (see dashboard-routes.ts).
    const asset = dashboardRoute(url.pathname);
    if (asset) return asset;
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz') return 'ok\n';
    if (path === '/readyz') {
      if (!this.options.ready()) throw new HttpError(503, 'not ready');
      return 'ok\n';
    }
    if (path === '/metrics') {
      await state.sweepAfterInput();
      return this.options.metrics.metrics();
    }
    await state.sweepAfterInput();
    if (path === '/api/v1/summary') return summaryView(state);
    if (path === '/api/v1/nodes') return nodesView(state);
    if (path.startsWith('/api/v1/nodes/')) {
      const record = state.registry.get(decodeURIComponent(path.slice('/api/v1/nodes/'.length)));
      if (!record) throw new HttpError(404, 'no such node');
      return nodeDetailView(record, state.now(), state.pods);
    }
    if (path === '/api/v1/pods') return this.needPods(() => podViews(state));
    if (path === '/api/v1/workloads') return this.needPods(() => workloadViews(state));
    if (path === '/api/v1/namespaces') return this.needPods(() => namespaceViews(state));
    if (path === '/api/v1/series') return this.withHistory((history) => history.series(seriesQueryOf(url.searchParams, state.now()), state.now()));
    if (path === '/api/v1/report') return this.withHistory(async (history) => reportView(await history.report(reportQueryOf(url.searchParams), state.now())));
    if (path === '/api/v1/alerts') {
      const { alerts } = this.options;
      if (!alerts) throw new HttpError(501, 'this collector runs no surge detection');
      return { active: alerts.active(), recent: alerts.recent() };
    }
    if (path === '/api/v1/connections') return this.connections(url.searchParams, client);
    throw new HttpError(404, `no route ${path}`);
  }

  private async withHistory(query: (history: HistoryThread) => Promise<unknown>): Promise<unknown> {
    const { history } = this.options;
    if (!history) throw new HttpError(501, 'this collector keeps no history (started with --no-history)');
    try {
      return await query(history);
    } catch (error) {
      if (error instanceof HistoryQueryError || error instanceof QueryParamError) throw new HttpError(400, error.message);
      if (error instanceof HistoryUnavailableError) throw new HttpError(503, error.message);
      throw error;
    }
  }

  private needPods(view: () => unknown): unknown {
    if (!this.options.state.pods.enabled) throw new HttpError(501, 'pod attribution needs the collector to watch Kubernetes (--kubernetes)');
    return view();
  }

  private async connections(params: URLSearchParams, client: RequestClient): Promise<unknown> {
    const { detail, state } = this.options;
    if (!detail) throw new HttpError(501, 'this collector has no detail transport (NATS or gRPC)');
    const decision = this.detailLimit.take(client.address, Date.now());
    if (!decision.allowed) {
      throw new HttpError(429, `rate limited: too many connection listings from ${client.address}; retry in ${decision.retryAfterMs} ms`, {
        'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)),
      });
    }
    const port = numberParam(params, 'port', 0, 65535) ?? 0;
    const stateName = params.get('state');
    const stateCode = stateName ? tcpStateCode(stateName) : 0;
    if (stateCode < 0) throw new HttpError(400, `unknown state "${stateName}"`);
    const limit = numberParam(params, 'limit', 1, MAX_ROWS) ?? 10_000;
    const wanted = params.get('node');
    const nodes = wanted
      ? [wanted]
      : [...state.registry.records()].filter((r) => r.status === 'live').map((r) => r.name).sort();
    const results = await fanOutDetail(detail, nodes, { port, state: stateCode, namespaceInode: 0, limit }, {
      timeoutMs: 5000,
      concurrency: 32,
    });
    return {
      nodes: results.map((r) => ({ node: r.node, rows: r.rows.length, truncated: r.truncated, ...(r.error ? { error: r.error } : {}) })),
      rows: results.flatMap((r) =>
        r.rows.map((row) => ({
          node: r.node,
          proto: Table[row.table].replace('TABLE_', '').toLowerCase(),
          recvQ: row.rxQueue,
          sendQ: row.txQueue,
          localAddress: row.localAddress,
          localPort: row.localPort,
          remoteAddress: row.remoteAddress,
          remotePort: row.remotePort,
          state: tcpStateName(row.state),
          namespaceInode: row.namespaceInode,
        })),
      ),
    };
  }
}

/**
 * Probes stay open (a kubelet sends no token), and so do the dashboard's page and files: the page
 * asks for the token when its first API request answers 401. Everything else, /metrics included
 * (Prometheus sends bearer_token_file), needs the token.
 */
function authenticate(auth: BearerAuth, url: URL, headers: IncomingHttpHeaders): void {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/healthz' || path === '/readyz' || dashboardRoute(url.pathname)) return;
  if (!auth.allows(headers.authorization)) {
    throw new HttpError(401, 'missing or wrong bearer token (Authorization: Bearer <token>)', { 'www-authenticate': WWW_AUTHENTICATE });
  }
}

function numberParam(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
