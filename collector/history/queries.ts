// Capacity queries on the history store: a series over a range at a step, and a report per
// node, port, pod or workload. Both flush pending samples first, so they see every sample
// recorded so far. Bad arguments throw HistoryQueryError (a 400 at the HTTP edge).

import type { CapacityStats, Step } from './capacity.js';
import { capacityStats } from './capacity.js';
import { HistoryQueryError } from './history-errors.js';
import { openPeak } from './open-minutes.js';
import type { HistoryStore } from './history-store.js';
import type { Resolution } from './rollup.js';
import { BUCKET_MS, bucketOf } from './rollup.js';
import type { SeriesCondition } from './rollup-reader.js';
import { compareKeys, readSeriesSteps, seriesKeyLookup, StepReader } from './rollup-reader.js';
import type { ReportBy } from './report-kind.js';
import { REPORT_KIND_CODE, REPORT_SERIES_SQL } from './report-kind.js';
import type { SeriesKey } from './series-key.js';
import { CLUSTER_NODE } from './series-key.js';
import type { SeriesHandle } from './series-registry.js';
import type { PeakRow } from './top-by-peak.js';
import { topByPeak } from './top-by-peak.js';

export type { ReportBy } from './report-kind.js';

/**
 * Which series to return. A given field must match exactly. Left out: `node` matches every real
 * node (not the cluster-wide '*', which would count everything twice), `port`, `direction` and
 * `state` match anything, and `namespace`, `pod`, `workload` match '' (totals, not the per-pod
 * breakdown).
 */
export interface SeriesFilter {
  node?: string;
  port?: number;
  direction?: string;
  state?: string;
  namespace?: string;
  pod?: string;
  workload?: string;
}

export interface SeriesQuery {
  /** Range in ms since the epoch; the steps holding `from` and `to` are included. */
  from: number;
  to: number;
  /** Wanted step; rounded up to a whole number of minutes (or hours at hour resolution). */
  stepMs: number;
  filter?: SeriesFilter;
}

/** One aligned step; the values are null when the step has no samples. */
export interface StepPoint {
  t: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  last: number | null;
  count: number;
}

export interface SeriesResult {
  resolution: Resolution;
  /** The step used (after rounding) and the first and last step starts. */
  stepMs: number;
  from: number;
  to: number;
  series: Array<{ key: SeriesKey; points: StepPoint[] }>;
}

export interface ReportQuery {
  /** Duration in ms before now (the CLI's `--since 7d`). */
  since: number;
  by: ReportBy;
  /** Top N by peak; all rows when left out. With N, only about N series are read (top-by-peak.ts). */
  limit?: number;
  /** The user's limit for timeToLimit. */
  limitValue?: number;
  /** Default: minutes for up to 2 days (and within minute retention), hours beyond. */
  resolution?: Resolution;
}

export type ReportRow = SeriesKey & CapacityStats;

export interface Report {
  by: ReportBy;
  resolution: Resolution;
  /** Start of the first step read, and now. */
  from: number;
  to: number;
  rows: ReportRow[];
}

/** A chart can't use more; a range that needs more steps must take a larger step. */
export const MAX_POINTS_PER_SERIES = 10_000;
const DAY_MS = 86_400_000;
const MINUTE_REPORT_MAX_MS = 2 * DAY_MS;

export function querySeries(store: HistoryStore, query: SeriesQuery): SeriesResult {
  const { from, to, stepMs } = query;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) throw new HistoryQueryError('series needs finite from <= to');
  if (!Number.isFinite(stepMs) || stepMs <= 0) throw new HistoryQueryError('series step must be positive');
  const nowMs = store.now();
  // Hours when the step is an hour or more, or when minutes of the range were already pruned.
  const resolution: Resolution = stepMs >= BUCKET_MS.hour || from < nowMs - store.retention.minutes ? 'hour' : 'minute';
  const bucketMs = BUCKET_MS[resolution];
  const step = Math.ceil(stepMs / bucketMs) * bucketMs;
  const firstStep = Math.floor(from / step) * step;
  const lastStep = Math.floor(to / step) * step;
  const count = (lastStep - firstStep) / step + 1;
  if (count > MAX_POINTS_PER_SERIES) {
    throw new HistoryQueryError(`series would have ${count} points per series (max ${MAX_POINTS_PER_SERIES}); use a larger step`);
  }
  store.flush();
  const series: SeriesResult['series'] = [];
  readSeriesSteps(store, resolution, filterCondition(query.filter ?? {}),
    firstStep / bucketMs, (lastStep + step) / bucketMs - 1,
    (key, rows) => series.push({ key, points: alignSteps(rows, firstStep, step, count) }));
  series.sort((a, b) => compareKeys(a.key, b.key));
  return { resolution, stepMs: step, from: firstStep, to: lastStep, series };
}

export function queryReport(store: HistoryStore, query: ReportQuery): Report {
  if (!Number.isFinite(query.since) || query.since <= 0) throw new HistoryQueryError('report since must be a positive duration');
  if (!(query.by in REPORT_SERIES_SQL)) throw new HistoryQueryError(`report by must be node, port, pod or workload, not ${String(query.by)}`);
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit > 0)) throw new HistoryQueryError('report limit must be a positive integer');
  if (query.limitValue !== undefined && !Number.isFinite(query.limitValue)) throw new HistoryQueryError('report limitValue must be a number');
  const nowMs = store.now();
  const resolution: Resolution = query.resolution ??
    (query.since <= MINUTE_REPORT_MAX_MS && query.since <= store.retention.minutes ? 'minute' : 'hour');
  const fromBucket = bucketOf(nowMs - query.since, resolution);
  const toBucket = bucketOf(nowMs, resolution);
  store.flush();
  const db = store.database;
  // One view of the open hours for the whole report.
  const open = store.openSeries();
  const source = { database: db, openSeries: () => open };
  const options = query.limitValue === undefined ? { nowMs } : { nowMs, limit: query.limitValue };
  const from = fromBucket * BUCKET_MS[resolution];
  // Highest peak first; equal peaks in key order so output is stable.
  const compare = (a: ReportRow, b: ReportRow): number => b.peak - a.peak || compareKeys(a, b);
  if (query.limit !== undefined) {
    const reader = new StepReader(source, resolution, fromBucket, toBucket);
    const keyOf = seriesKeyLookup(db);
    const kind = REPORT_KIND_CODE[query.by];
    const rows = topByPeak(db, {
      kind, fromDay: Math.floor(from / DAY_MS), toDay: Math.floor(nowMs / DAY_MS), limit: query.limit, compare,
      open: openPeaks(open, kind, bucketOf(from, 'minute'), bucketOf(nowMs, 'minute')),
      evaluate: (id) => {
        const key = keyOf(id);
        if (!key) return undefined; // a day peak outliving its series (retention)
        const stats = capacityStats(reader.read(id), options);
        return stats ? { ...key, ...stats } : undefined;
      },
    });
    return { by: query.by, resolution, from, to: nowMs, rows };
  }
  const rows: ReportRow[] = [];
  readSeriesSteps(source, resolution, { sql: REPORT_SERIES_SQL[query.by], params: [] }, fromBucket, toBucket,
    (key, steps) => {
      const stats = capacityStats(steps, options);
      if (stats) rows.push({ ...key, ...stats });
    });
  rows.sort(compare);
  return { by: query.by, resolution, from, to: nowMs, rows };
}

/** The open series of a report kind, by an upper bound of their open samples in range, largest first. */
function openPeaks(open: Map<number, SeriesHandle>, kind: number, fromMinute: number, toMinute: number): PeakRow[] {
  const rows: PeakRow[] = [];
  for (const [id, handle] of open) {
    if (handle.kind !== kind) continue;
    const peak = openPeak(handle, fromMinute, toMinute);
    if (peak > -Infinity) rows.push([id, peak]);
  }
  return rows.sort((a, b) => b[1] - a[1] || b[0] - a[0]);
}

function filterCondition(filter: SeriesFilter): SeriesCondition {
  const clauses: string[] = [];
  const params: Array<string | number> = [];
  const equal = (column: string, value: string | number): void => {
    clauses.push(`s.${column} = ?`);
    params.push(value);
  };
  if (filter.node === undefined) clauses.push(`s.node <> '${CLUSTER_NODE}'`);
  else equal('node', filter.node);
  if (filter.port !== undefined) equal('port', filter.port);
  if (filter.direction !== undefined) equal('direction', filter.direction);
  if (filter.state !== undefined) equal('state', filter.state);
  equal('namespace', filter.namespace ?? '');
  equal('pod', filter.pod ?? '');
  equal('workload', filter.workload ?? '');
  return { sql: clauses.join(' AND '), params };
}

/** Merge rollup rows into steps of `step` ms starting at `firstStep`; empty steps stay null. */
function alignSteps(rows: readonly Step[], firstStep: number, step: number, count: number): StepPoint[] {
  const merged: Array<Step | undefined> = new Array<Step | undefined>(count);
  for (const row of rows) {
    const index = Math.floor((row.t - firstStep) / step);
    const into = merged[index];
    if (!into) {
      merged[index] = { ...row };
      continue;
    }
    // Rows arrive in time order: min/max fold, sums add, the later row's last wins.
    into.min = Math.min(into.min, row.min);
    into.max = Math.max(into.max, row.max);
    into.sum += row.sum;
    into.count += row.count;
    into.last = row.last;
  }
  const points: StepPoint[] = [];
  for (let i = 0; i < count; i++) {
    const s = merged[i];
    const t = firstStep + i * step;
    points.push(s
      ? { t, min: s.min, max: s.max, avg: s.count > 0 ? s.sum / s.count : null, last: s.last, count: s.count }
      : { t, min: null, max: null, avg: null, last: null, count: 0 });
  }
  return points;
}
