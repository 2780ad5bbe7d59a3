// Retention per resolution: a bucket is deleted once all of it is older than its resolution's
// retention (a bucket that still holds one sample inside the window stays). Buckets already
// packed into a group's blob go a whole group at a time, once the group's last bucket is past
// retention (so a minute can outstay it by up to an hour, an hour by up to a day). Freed pages
// are reused by later writes, so the file stops growing once retention is reached.

import type { Database, Statement } from 'better-sqlite3';
import type { PackedGroup } from './packed-groups.js';
import { PACKED_GROUPS } from './packed-groups.js';
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
  /** Cells deleted per resolution (rows and packed cells). */
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

/** Deletes one resolution's rows and packed groups before a bucket. */
class ResolutionPruner {
  private readonly deleteRows: Statement;
  private readonly countPacked: Statement<unknown[], { cells: number }>;
  private readonly deletePacked: Statement;

  constructor(db: Database, private readonly packing: PackedGroup) {
    const { rowTable, packedTable, groupColumn, countColumn } = packing;
    // Every rollup table is keyed by bucket (or group) first: each delete is one range at the table's start.
    this.deleteRows = db.prepare(`DELETE FROM ${rowTable} WHERE bucket < ?`);
    this.countPacked = db.prepare(`SELECT coalesce(sum(${countColumn}), 0) AS cells FROM ${packedTable} WHERE ${groupColumn} < ?`);
    this.deletePacked = db.prepare(`DELETE FROM ${packedTable} WHERE ${groupColumn} < ?`);
  }

  /** The first group kept whole: a packed group goes once all its buckets are before `keptBucket`. */
  keptGroup(keptBucket: number): number {
    return Math.floor(keptBucket / this.packing.slots);
  }

  /** Cells deleted. */
  prune(keptBucket: number): number {
    const keptGroup = this.keptGroup(keptBucket);
    const packed = this.countPacked.get(keptGroup)?.cells ?? 0;
    if (packed > 0) this.deletePacked.run(keptGroup);
    return this.deleteRows.run(keptBucket).changes + packed;
  }
}

export class RetentionPruner {
  private readonly minutes: ResolutionPruner;
  private readonly hours: ResolutionPruner;
  private readonly deleteDayPeaks: Statement;
  private readonly deleteEmptySeries: Statement;

  constructor(db: Database) {
    this.minutes = new ResolutionPruner(db, PACKED_GROUPS.minute);
    this.hours = new ResolutionPruner(db, PACKED_GROUPS.hour);
    this.deleteDayPeaks = db.prepare('DELETE FROM rollup_day_peak WHERE day < ?');
    // Series of pods that went away must not pile up forever once their rows are gone.
    this.deleteEmptySeries = db.prepare('DELETE FROM series WHERE last_hour < ?');
  }

  /** Run inside a transaction. */
  prune(nowMs: number, retention: Retention): PruneResult {
    const keptMinute = firstKeptBucket(nowMs, retention.minutes, 'minute');
    // Minutes are kept a whole packed hour at a time.
    const keptPackedHour = this.minutes.keptGroup(keptMinute);
    const keptHour = firstKeptBucket(nowMs, retention.hours, 'hour');
    const minuteRows = this.minutes.prune(keptMinute);
    const hourRows = this.hours.prune(keptHour);
    // Day peaks rank series for reports at either resolution: kept while either is.
    this.deleteDayPeaks.run(Math.floor(Math.min(keptHour, keptPackedHour) / 24));
    // A series' rows all end with its last hour: none is left once that hour is past both
    // retentions (but for its packed day, which goes within a day; its id is never reused).
    const series = minuteRows + hourRows > 0 ? this.deleteEmptySeries.run(Math.min(keptHour, keptPackedHour)).changes : 0;
    return { minuteRows, hourRows, series };
  }
}
