// QueryService's history and alert messages to and from the collector's own query types: the
// same queries /api/v1/series, /report and /alerts run, in protobuf shape. Pure mappings.

import type { Alert } from '../alerts/alert-types.js';
import type { Report, ReportBy, ReportQuery, SeriesFilter, SeriesQuery, SeriesResult } from '../history/queries.js';
import type { SeriesKey } from '../history/series-key.js';
import type {
  Alert as AlertMessage,
  GetReportRequest,
  GetReportResponse,
  GetSeriesRequest,
  GetSeriesResponse,
  SeriesKey as SeriesKeyMessage,
} from '../../proto/gen/fleetstat/v1/query.js';
import { ReportBy as ReportByMessage } from '../../proto/gen/fleetstat/v1/query.js';
import { NAMED_FILTERS, QUERY_DEFAULTS } from './history-params.js';


const REPORT_BY: Record<ReportByMessage, ReportBy | undefined> = {
  [ReportByMessage.REPORT_BY_UNSPECIFIED]: 'node',
  [ReportByMessage.REPORT_BY_NODE]: 'node',
  [ReportByMessage.REPORT_BY_PORT]: 'port',
  [ReportByMessage.REPORT_BY_POD]: 'pod',
  [ReportByMessage.REPORT_BY_WORKLOAD]: 'workload',
  [ReportByMessage.UNRECOGNIZED]: undefined,
};

const REPORT_BY_MESSAGE: Record<ReportBy, ReportByMessage> = {
  node: ReportByMessage.REPORT_BY_NODE,
  port: ReportByMessage.REPORT_BY_PORT,
  pod: ReportByMessage.REPORT_BY_POD,
  workload: ReportByMessage.REPORT_BY_WORKLOAD,
};

/** Bad request fields (INVALID_ARGUMENT at the edge). */
export class QueryRequestError extends Error {
  override readonly name = 'QueryRequestError';
}

export function seriesQueryOfRequest(request: GetSeriesRequest, nowMs: number): SeriesQuery {
  const to = request.toMs ?? nowMs;
  const filter: SeriesFilter = {};
  for (const name of NAMED_FILTERS) {
    const value = request[name];
    if (value !== undefined) filter[name] = value;
  }
  if (request.port !== undefined) filter.port = request.port;
  return { from: request.fromMs ?? to - QUERY_DEFAULTS.seriesRangeMs, to, stepMs: request.stepMs ?? QUERY_DEFAULTS.stepMs, filter };
}

export function seriesResponseOf(result: SeriesResult): GetSeriesResponse {
  return {
    resolution: result.resolution,
    stepMs: result.stepMs,
    fromMs: result.from,
    toMs: result.to,
    series: result.series.map(({ key, points }) => ({
      key: keyMessage(key),
      steps: points.map((p) => ({
        tMs: p.t,
        samples: p.count,
        ...(p.min === null ? {} : { min: p.min }),
        ...(p.max === null ? {} : { max: p.max }),
        ...(p.avg === null ? {} : { avg: p.avg }),
        ...(p.last === null ? {} : { last: p.last }),
      })),
    })),
  };
}

export function reportQueryOfRequest(request: GetReportRequest): ReportQuery {
  const by = REPORT_BY[request.by];
  if (!by) throw new QueryRequestError(`unknown report grouping ${request.by}`);
  const query: ReportQuery = { since: request.sinceMs ?? QUERY_DEFAULTS.reportSinceMs, by };
  if (request.limit !== undefined) query.limit = request.limit;
  if (request.limitValue !== undefined) query.limitValue = request.limitValue;
  return query;
}

export function reportResponseOf(report: Report): GetReportResponse {
  return {
    by: REPORT_BY_MESSAGE[report.by],
    resolution: report.resolution,
    fromMs: report.from,
    toMs: report.to,
    rows: report.rows.map((row) => ({
      key: keyMessage(row),
      peak: row.peak,
      p95: row.p95,
      avg: row.avg,
      last: row.last,
      steps: row.steps,
      samples: row.samples,
      ...(row.trend === null ? {} : { trendPerDay: row.trend }),
      ...(row.timeToLimit === null ? {} : { timeToLimitMs: row.timeToLimit }),
    })),
  };
}

export function alertMessage(alert: Alert): AlertMessage {
  return {
    id: alert.id,
    kind: alert.kind,
    port: alert.scope.port,
    startedAtMs: alert.startedAt,
    endReason: alert.endReason ?? '',
    value: alert.value,
    peak: alert.peak,
    baseline: alert.baseline,
    threshold: alert.threshold,
    topRemotes: alert.topRemotes.map((r) => ({ address: r.address, count: r.count })),
    ...(alert.scope.node === undefined ? {} : { node: alert.scope.node }),
    ...(alert.endedAt === undefined ? {} : { endedAtMs: alert.endedAt }),
  };
}

function keyMessage(key: SeriesKey): SeriesKeyMessage {
  return {
    node: key.node, port: key.port, direction: key.direction, state: key.state,
    namespace: key.namespace, pod: key.pod, workload: key.workload,
  };
}
