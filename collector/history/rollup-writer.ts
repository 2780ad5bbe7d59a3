// Writes rollup rows: hour rows of sealed hours (from the open hours' journals), minute and hour
// rows of samples that arrived after their hour was sealed, each series' newest hour and the
// day-peak ranking index. Each cell is an upsert that merges into the row already there (min of mins, max
// of maxes, sums added, last replaced), so rollups are kept up to date incrementally and never
// recomputed from samples. The caller owns the transaction.

import type { Database, Statement } from 'better-sqlite3';
import type { PendingRollups } from './pending-rollups.js';
import { hourCells } from './pending-rollups.js';
import type { Rollup } from './rollup.js';
import type { SeriesHandle } from './series-registry.js';

const HOURS_PER_DAY = 24;

// SQL's two-argument min()/max() are scalar; a later flush's `last` replaces the stored one.
const upsertSql = (table: string): string => `
  INSERT INTO ${table} (bucket, series_id, min_value, max_value, sum_value, samples, last_value)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (bucket, series_id) DO UPDATE SET
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    sum_value = sum_value + excluded.sum_value,
    samples = samples + excluded.samples,
    last_value = excluded.last_value`;

export class RollupWriter {
  /** Row ids (and what the handle knows was written) are valid for one epoch; it moves when rows may have gone. */
  private epoch = 0;
  private readonly insertSeries: Statement;
  private readonly selectSeries: Statement<unknown[], { id: number; last_hour: number }>;
  private readonly upsertMinute: Statement;
  private readonly upsertHour: Statement;
  private readonly updateLastHour: Statement;
  private readonly upsertDayPeak: Statement;

  constructor(db: Database) {
    this.insertSeries = db.prepare(`INSERT OR IGNORE INTO series (node, port, direction, state, namespace, pod, workload)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.selectSeries = db.prepare(`SELECT id, last_hour FROM series WHERE node = ? AND port = ? AND direction = ? AND state = ?
      AND namespace = ? AND pod = ? AND workload = ?`);
    this.upsertMinute = db.prepare(upsertSql('rollup_minute'));
    this.upsertHour = db.prepare(upsertSql('rollup_hour'));
    this.updateLastHour = db.prepare('UPDATE series SET last_hour = max(last_hour, ?) WHERE id = ?');
    this.upsertDayPeak = db.prepare(`INSERT INTO rollup_day_peak (day, series_id, kind, max_value) VALUES (?, ?, ?, ?)
      ON CONFLICT (day, series_id) DO UPDATE SET max_value = excluded.max_value WHERE excluded.max_value > max_value`);
  }

  /** Upsert the pending cells; returns minute and hour rows written. Run inside a transaction. */
  write(pending: PendingRollups): number {
    let rows = 0;
    for (const [series, minutes] of pending.series()) {
      const seriesRowId = this.seriesRowId(series);
      for (const [minute, cell] of minutes) rows += this.upsert(this.upsertMinute, seriesRowId, minute, cell);
      for (const [hour, cell] of hourCells(minutes)) {
        rows += this.upsert(this.upsertHour, seriesRowId, hour, cell);
        this.noteHour(series, seriesRowId, hour, cell.max);
      }
    }
    return rows;
  }

  /** Write one hour cell of a series (a sealed hour), merging into a row already there. */
  writeHour(series: SeriesHandle, hour: number, cell: Rollup): void {
    const seriesRowId = this.seriesRowId(series);
    this.upsert(this.upsertHour, seriesRowId, hour, cell);
    this.noteHour(series, seriesRowId, hour, cell.max);
  }

  /** Keep series.last_hour at least `hour`, written only when it grows (retention keeps the series while it has open hours). */
  noteLastHour(series: SeriesHandle, seriesRowId: number, hour: number): void {
    if (hour <= series.writtenHour) return;
    this.updateLastHour.run(hour, seriesRowId);
    series.writtenHour = hour;
  }

  /** A handle rebuilt from the database at open: its row id and last_hour are known. */
  adopt(series: SeriesHandle, seriesRowId: number, lastHour: number): void {
    series.rowId = seriesRowId;
    series.rowEpoch = this.epoch;
    series.writtenHour = lastHour;
    series.peakDay = -1;
    series.peakMax = -1;
  }

  /** Whether the handle's row id is current. */
  knowsRow(series: SeriesHandle): boolean {
    return series.rowEpoch === this.epoch;
  }

  /** After series rows were deleted (retention) or a write rolled back, cached ids may point at nothing. */
  forgetSeriesIds(): void {
    this.epoch++;
  }

  /** Keep series.last_hour and the day's peak current; each is written only when it grows. */
  private noteHour(series: SeriesHandle, seriesRowId: number, hour: number, max: number): void {
    this.noteLastHour(series, seriesRowId, hour);
    const kind = series.kind;
    if (kind === undefined) return;
    const day = Math.floor(hour / HOURS_PER_DAY);
    // A late cell for an earlier day is rare; it is upserted without touching the cache.
    if (day < series.peakDay) {
      this.upsertDayPeak.run(day, seriesRowId, kind, max);
      return;
    }
    if (day === series.peakDay && max <= series.peakMax) return;
    this.upsertDayPeak.run(day, seriesRowId, kind, max);
    if (day > series.peakDay) series.peakMax = -1;
    series.peakDay = day;
    series.peakMax = Math.max(series.peakMax, max);
  }

  seriesRowId(series: SeriesHandle): number {
    if (series.rowEpoch === this.epoch) return series.rowId;
    const key = series.key;
    const params = [key.node, key.port, key.direction, key.state, key.namespace, key.pod, key.workload];
    this.insertSeries.run(params);
    const row = this.selectSeries.get(params);
    if (!row) throw new Error(`series row vanished after insert: ${JSON.stringify(key)}`);
    // The day's peak in the database is unknown: the next cell of each day is upserted once.
    this.adopt(series, row.id, row.last_hour);
    return row.id;
  }

  private upsert(statement: Statement, seriesRowId: number, bucket: number, cell: Rollup): number {
    statement.run(bucket, seriesRowId, cell.min, cell.max, cell.sum, cell.count, cell.last);
    return 1;
  }
}
