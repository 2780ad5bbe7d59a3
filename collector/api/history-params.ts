// Query strings of /api/v1/series and /api/v1/report to history queries, and the report's JSON.

import { parseDuration } from '../../agent/duration.js';
import type { Report, ReportBy, ReportQuery, ReportRow, SeriesQuery } from '../history/queries.js';

export class QueryParamError extends Error {
  override readonly name = 'QueryParamError';
}

/** Defaults of a series or report query, shared by HTTP and gRPC (query-messages.ts). */
export const QUERY_DEFAULTS = { seriesRangeMs: 3_600_000, stepMs: 60_000, reportSinceMs: 86_400_000 } as const;
/** The series filters that match by name. */
export const NAMED_FILTERS = ['node', 'direction', 'state', 'namespace', 'pod', 'workload'] as const;

/** from/to in ms since the epoch (default: the last hour), step as a duration or ms (default 1m). */
export function seriesQueryOf(params: URLSearchParams, nowMs: number): SeriesQuery {
  const to = numberOr(params, 'to', nowMs);
  const from = numberOr(params, 'from', to - QUERY_DEFAULTS.seriesRangeMs);
  const step = params.get('step');
  const stepMs = step === null ? QUERY_DEFAULTS.stepMs : /^\d+$/.test(step) ? Number(step) : durationOf('step', step);
  const filter: SeriesQuery['filter'] = {};
  for (const name of NAMED_FILTERS) {
    const value = params.get(name);
    if (value) filter[name] = value;
  }
  const port = params.get('port');
  if (port) filter.port = numberOr(params, 'port', 0);
  return { from, to, stepMs, filter };
}

export function reportQueryOf(params: URLSearchParams): ReportQuery {
  const by = params.get('by') ?? 'node';
  if (by !== 'node' && by !== 'port' && by !== 'pod' && by !== 'workload') {
    throw new QueryParamError(`by must be node, port, pod or workload, not "${by}"`);
  }
  const since = params.get('since');
  const query: ReportQuery = { since: since === null ? QUERY_DEFAULTS.reportSinceMs : durationOf('since', since), by: by as ReportBy };
  if (params.get('limit')) query.limit = numberOr(params, 'limit', 0);
  if (params.get('limitValue')) query.limitValue = numberOr(params, 'limitValue', 0);
  return query;
}

/** A report row as /api/v1/report sends it. */
export type ReportRowView = Omit<ReportRow, 'timeToLimit'> & { timeToLimit: number | 'never' | null };

/** The report with JSON-safe numbers: an unreachable limit is "never" rather than Infinity. */
export function reportView(report: Report): Omit<Report, 'rows'> & { rows: ReportRowView[] } {
  return {
    ...report,
    rows: report.rows.map((row) => ({ ...row, timeToLimit: row.timeToLimit === Infinity ? 'never' : row.timeToLimit })),
  };
}

function numberOr(params: URLSearchParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new QueryParamError(`${name} must be a non-negative number`);
  return value;
}

function durationOf(name: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new QueryParamError(`${name}: ${(error as Error).message}`);
  }
}
