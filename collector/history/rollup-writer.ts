// Writes pending cells into the rollup tables. Each cell is an upsert that merges into the row
// already there (min of mins, max of maxes, sums added, last replaced), so rollups are kept up
// to date incrementally and never recomputed from samples. The caller owns the transaction.

import type { Database, Statement } from 'better-sqlite3';
import type { PendingRollups } from './pending-rollups.js';
import { hourCells } from './pending-rollups.js';
import type { Rollup } from './rollup.js';
import type { SeriesHandle } from './series-registry.js';

// SQL's two-argument min()/max() are scalar; a later flush's `last` replaces the stored one.
const upsertSql = (table: string): string => `
  INSERT INTO ${table} (series_id, bucket, min_value, max_value, sum_value, samples, last_value)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (series_id, bucket) DO UPDATE SET
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    sum_value = sum_value + excluded.sum_value,
    samples = samples + excluded.samples,
    last_value = excluded.last_value`;

export class RollupWriter {
  /** Row ids cached on handles are valid for one epoch; it moves when rows may have gone. */
  private epoch = 0;
  private readonly insertSeries: Statement;
  private readonly selectSeries: Statement<unknown[], { id: number }>;
  private readonly upsertMinute: Statement;
  private readonly upsertHour: Statement;

  constructor(db: Database) {
    this.insertSeries = db.prepare(`INSERT OR IGNORE INTO series (node, port, direction, state, namespace, pod, workload)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.selectSeries = db.prepare(`SELECT id FROM series WHERE node = ? AND port = ? AND direction = ? AND state = ?
      AND namespace = ? AND pod = ? AND workload = ?`);
    this.upsertMinute = db.prepare(upsertSql('rollup_minute'));
    this.upsertHour = db.prepare(upsertSql('rollup_hour'));
  }

  /** Upsert every pending cell; returns rows written. Run inside a transaction. */
  write(pending: PendingRollups): number {
    let rows = 0;
    for (const [series, minutes] of pending.series()) {
      const seriesRowId = this.seriesRowId(series);
      for (const [minute, cell] of minutes) rows += this.upsert(this.upsertMinute, seriesRowId, minute, cell);
      for (const [hour, cell] of hourCells(minutes)) rows += this.upsert(this.upsertHour, seriesRowId, hour, cell);
    }
    return rows;
  }

  /** After series rows were deleted (retention) or a write rolled back, cached ids may point at nothing. */
  forgetSeriesIds(): void {
    this.epoch++;
  }

  private seriesRowId(series: SeriesHandle): number {
    if (series.rowEpoch === this.epoch) return series.rowId;
    const key = series.key;
    const params = [key.node, key.port, key.direction, key.state, key.namespace, key.pod, key.workload];
    this.insertSeries.run(params);
    const row = this.selectSeries.get(params);
    if (!row) throw new Error(`series row vanished after insert: ${JSON.stringify(key)}`);
    series.rowId = row.id;
    series.rowEpoch = this.epoch;
    return row.id;
  }

  private upsert(statement: Statement, seriesRowId: number, bucket: number, cell: Rollup): number {
    statement.run(seriesRowId, bucket, cell.min, cell.max, cell.sum, cell.count, cell.last);
    return 1;
  }
}
