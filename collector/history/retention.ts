// Retention per resolution: a bucket is deleted once all of it is older than its resolution's
// retention (a bucket that still holds one sample inside the window stays). Freed pages are
// reused by later writes, so the file stops growing once retention is reached.

import type { Database, Statement } from 'better-sqlite3';
import type { Resolution } from './rollup.js';
import { bucketOf } from './rollup.js';

const DAY_MS = 86_400_000;

/** How long each resolution is kept, in ms. */
export interface Retention {
  minutes: number;
  hours: number;
}

/** What a user would pick: two weeks of minutes for incidents, two years of hours for planning. */
export const DEFAULT_RETENTION: Retention = { minutes: 14 * DAY_MS, hours: 730 * DAY_MS };

export interface PruneResult {
  minuteRows: number;
  hourRows: number;
  series: number;
}

/**
 * First bucket to keep: bucket b spans [b*size, (b+1)*size), so it is wholly older than the
 * cutoff exactly when b < floor(cutoff / size).
 */
export function firstKeptBucket(nowMs: number, retentionMs: number, resolution: Resolution): number {
  return bucketOf(nowMs - retentionMs, resolution);
}

export class RetentionPruner {
  private readonly deleteMinutes: Statement;
  private readonly deleteHours: Statement;
  private readonly deleteEmptySeries: Statement;

  constructor(db: Database) {
    // `series_id IN (SELECT id ...)` makes SQLite walk the primary key one series at a time
    // (a range per series) instead of scanning every row.
    this.deleteMinutes = db.prepare('DELETE FROM rollup_minute WHERE series_id IN (SELECT id FROM series) AND bucket < ?');
    this.deleteHours = db.prepare('DELETE FROM rollup_hour WHERE series_id IN (SELECT id FROM series) AND bucket < ?');
    // Series of pods that went away must not pile up forever once their rows are gone.
    this.deleteEmptySeries = db.prepare(`DELETE FROM series WHERE
      NOT EXISTS (SELECT 1 FROM rollup_hour h WHERE h.series_id = series.id) AND
      NOT EXISTS (SELECT 1 FROM rollup_minute m WHERE m.series_id = series.id)`);
  }

  /** Run inside a transaction. */
  prune(nowMs: number, retention: Retention): PruneResult {
    const minuteRows = this.deleteMinutes.run(firstKeptBucket(nowMs, retention.minutes, 'minute')).changes;
    const hourRows = this.deleteHours.run(firstKeptBucket(nowMs, retention.hours, 'hour')).changes;
    const series = minuteRows + hourRows > 0 ? this.deleteEmptySeries.run().changes : 0;
    return { minuteRows, hourRows, series };
  }
}
