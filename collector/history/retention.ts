// Retention per resolution: a bucket is deleted once all of it is older than its resolution's
// retention (a bucket that still holds one sample inside the window stays). Minutes already
// packed into an hour's blob go a whole hour at a time, once the hour's last minute is past
// retention (so a minute can outstay it by up to an hour). Freed pages are reused by later
// writes, so the file stops growing once retention is reached.

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
  /** Minute cells deleted (rows and packed cells). */
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
  private readonly countPacked: Statement<unknown[], { cells: number }>;
  private readonly deletePacked: Statement;
  private readonly deleteHours: Statement;
  private readonly deleteDayPeaks: Statement;
  private readonly deleteEmptySeries: Statement;

  constructor(db: Database) {
    // Every rollup table is keyed by bucket first: each delete is one range at the table's start.
    this.deleteMinutes = db.prepare('DELETE FROM rollup_minute WHERE bucket < ?');
    this.countPacked = db.prepare('SELECT coalesce(sum(minutes), 0) AS cells FROM rollup_minute_packed WHERE hour < ?');
    this.deletePacked = db.prepare('DELETE FROM rollup_minute_packed WHERE hour < ?');
    this.deleteHours = db.prepare('DELETE FROM rollup_hour WHERE bucket < ?');
    this.deleteDayPeaks = db.prepare('DELETE FROM rollup_day_peak WHERE day < ?');
    // Series of pods that went away must not pile up forever once their rows are gone.
    this.deleteEmptySeries = db.prepare('DELETE FROM series WHERE last_hour < ?');
  }

  /** Run inside a transaction. */
  prune(nowMs: number, retention: Retention): PruneResult {
    const keptMinute = firstKeptBucket(nowMs, retention.minutes, 'minute');
    // A packed hour goes once all its minutes are older than the first kept minute.
    const keptPackedHour = Math.floor(keptMinute / 60);
    const keptHour = firstKeptBucket(nowMs, retention.hours, 'hour');
    const minuteRows = this.deleteMinutes.run(keptMinute).changes + this.packedCells(keptPackedHour);
    const hourRows = this.deleteHours.run(keptHour).changes;
    // Day peaks rank series for reports at either resolution: kept while either is.
    this.deleteDayPeaks.run(Math.floor(Math.min(keptHour, keptPackedHour) / 24));
    // A series' rows all end with its last hour: none is left once that hour is past both retentions.
    const series = minuteRows + hourRows > 0 ? this.deleteEmptySeries.run(Math.min(keptHour, keptPackedHour)).changes : 0;
    return { minuteRows, hourRows, series };
  }

  private packedCells(beforeHour: number): number {
    const cells = this.countPacked.get(beforeHour)?.cells ?? 0;
    if (cells > 0) this.deletePacked.run(beforeHour);
    return cells;
  }
}
