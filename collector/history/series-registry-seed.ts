// Rebuild the registry of recently seen series at open from the newest minute rows, so a series
// that was non-zero just before a restart and is absent after it still gets its 0 recorded.

import type { Database } from 'better-sqlite3';
import { BUCKET_MS, bucketOf, bucketStartMs } from './rollup.js';
import type { SeriesKey } from './series-key.js';
import { SeriesRegistry } from './series-registry.js';

interface Row extends SeriesKey {
  bucket: number;
  last_value: number;
}

export function openSeriesRegistry(db: Database, holdMs: number, nowMs: number): SeriesRegistry {
  const registry = new SeriesRegistry(holdMs);
  // Recent minutes are still rows (the sealer leaves the last zeroFillMs alone). SQLite returns
  // the bare column last_value from the row holding MAX(bucket).
  const rows = db.prepare(`SELECT s.node, s.port, s.direction, s.state, s.namespace, s.pod, s.workload, r.bucket, r.last_value
    FROM (SELECT series_id, MAX(bucket) AS bucket, last_value FROM rollup_minute WHERE bucket >= ? GROUP BY series_id) r
    JOIN series s ON s.id = r.series_id`).all(bucketOf(nowMs - holdMs, 'minute')) as Row[];
  for (const row of rows) {
    if (row.last_value <= 0) continue;
    const handle = registry.internKey({
      node: row.node, port: row.port, direction: row.direction, state: row.state,
      namespace: row.namespace, pod: row.pod, workload: row.workload,
    });
    // The last sample's exact time is not stored; the end of its minute is the latest it can be.
    handle.lastSeenMs = bucketStartMs(row.bucket, 'minute') + BUCKET_MS.minute - 1;
  }
  return registry;
}
