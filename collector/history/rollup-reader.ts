// Reads rollup rows of the series matching a condition over a bucket range, one series at a
// time (rows stream from SQLite; only one series' steps are held at once).

import type { Database } from 'better-sqlite3';
import type { Step } from './capacity.js';
import type { Resolution } from './rollup.js';
import { bucketStartMs } from './rollup.js';
import type { SeriesKey } from './series-key.js';

/** A condition on the `series` table (alias `s`) with its parameters. */
export interface SeriesCondition {
  sql: string;
  params: Array<string | number>;
}

interface Row extends SeriesKey {
  id: number;
  bucket: number;
  min_value: number;
  max_value: number;
  sum_value: number;
  samples: number;
  last_value: number;
}

const TABLE: Record<Resolution, string> = { minute: 'rollup_minute', hour: 'rollup_hour' };

/** Calls `onSeries` once per matching series that has rows in [fromBucket, toBucket], steps in time order. */
export function readSeriesSteps(
  db: Database,
  resolution: Resolution,
  where: SeriesCondition,
  fromBucket: number,
  toBucket: number,
  onSeries: (key: SeriesKey, steps: Step[]) => void,
): void {
  // CROSS JOIN keeps `series` the outer loop, so each series is one primary-key range of the
  // rollup table, already in (series, bucket) order: no sort.
  const statement = db.prepare(`SELECT s.id, s.node, s.port, s.direction, s.state, s.namespace, s.pod, s.workload,
      r.bucket, r.min_value, r.max_value, r.sum_value, r.samples, r.last_value
    FROM series s CROSS JOIN ${TABLE[resolution]} r ON r.series_id = s.id
    WHERE (${where.sql}) AND r.bucket BETWEEN ? AND ?
    ORDER BY s.id, r.bucket`);
  let currentId = -1;
  let key: SeriesKey | undefined;
  let steps: Step[] = [];
  for (const row of statement.iterate(...where.params, fromBucket, toBucket) as IterableIterator<Row>) {
    if (row.id !== currentId) {
      if (key) onSeries(key, steps);
      currentId = row.id;
      key = { node: row.node, port: row.port, direction: row.direction, state: row.state, namespace: row.namespace, pod: row.pod, workload: row.workload };
      steps = [];
    }
    steps.push({
      t: bucketStartMs(row.bucket, resolution),
      min: row.min_value, max: row.max_value, sum: row.sum_value, count: row.samples, last: row.last_value,
    });
  }
  if (key) onSeries(key, steps);
}

/** Order series keys for stable output: node, port, direction, state, namespace, pod, workload. */
export function compareKeys(a: SeriesKey, b: SeriesKey): number {
  return text(a.node, b.node) || a.port - b.port || text(a.direction, b.direction) || text(a.state, b.state) ||
    text(a.namespace, b.namespace) || text(a.pod, b.pod) || text(a.workload, b.workload);
}

// Code-unit order: the same on every machine, unlike localeCompare.
function text(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
