// Moves the minutes of finished hours from rows (rollup_minute) into one packed blob per series
// and hour (rollup_minute_packed). An hour is sealed once it ended more than `graceMs` ago, so
// the rows the zero-fill seed reads at start-up (series-registry-seed.ts) are still rows. Work is
// done in slices of series ids, each a bounded transaction, so one pass never stalls the
// collector for long however many series there are. A minute that arrives after its hour was
// sealed lands in rows again and is merged into the blob by the next pass: still exact.

import type { Database, Statement } from 'better-sqlite3';
import type { MinuteCell } from './packed-minutes.js';
import { decodeMinutes, encodeMinutes, mergeMinutes } from './packed-minutes.js';
import { BUCKET_MS } from './rollup.js';

/** Series ids per slice: ~60 rows each, so a slice reads at most ~60,000 rows. */
const SLICE_IDS = 1024;

interface Row {
  bucket: number;
  series_id: number;
  min_value: number;
  max_value: number;
  sum_value: number;
  samples: number;
  last_value: number;
}

export class MinuteSealer {
  /** The hour being sealed and the next series id to look at; undefined between hours. */
  private cursor: { hour: number; nextId: number; lastId: number } | undefined;
  private readonly oldestMinute: Statement<unknown[], { bucket: number | null }>;
  private readonly lastSeriesId: Statement<unknown[], { id: number | null }>;
  private readonly sliceRows: Statement<unknown[], Row>;
  private readonly selectPacked: Statement<unknown[], { cells: Buffer }>;
  private readonly upsertPacked: Statement;
  private readonly deleteRows: Statement;

  constructor(db: Database, private readonly graceMs: number) {
    this.oldestMinute = db.prepare('SELECT min(bucket) AS bucket FROM rollup_minute');
    this.lastSeriesId = db.prepare('SELECT max(id) AS id FROM series');
    // One primary-key range per minute of the hour (CROSS JOIN keeps the minutes outer).
    this.sliceRows = db.prepare(`WITH RECURSIVE m(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM m WHERE x < ?)
      SELECT r.bucket, r.series_id, r.min_value, r.max_value, r.sum_value, r.samples, r.last_value
      FROM m CROSS JOIN rollup_minute r ON r.bucket = m.x AND r.series_id BETWEEN ? AND ?`);
    this.selectPacked = db.prepare('SELECT cells FROM rollup_minute_packed WHERE hour = ? AND series_id = ?');
    this.upsertPacked = db.prepare('INSERT OR REPLACE INTO rollup_minute_packed (hour, series_id, minutes, cells) VALUES (?, ?, ?, ?)');
    this.deleteRows = db.prepare('DELETE FROM rollup_minute WHERE bucket = ? AND series_id BETWEEN ? AND ?');
  }

  /**
   * Seal one slice of the oldest finished hour, if there is one. Returns the minute rows moved,
   * or undefined when nothing is left to seal. Run inside a transaction.
   */
  sealSlice(nowMs: number): number | undefined {
    if (!this.cursor) {
      const oldest = this.oldestMinute.get()?.bucket;
      if (oldest === null || oldest === undefined) return undefined;
      const hour = Math.floor(oldest / 60);
      if ((hour + 1) * BUCKET_MS.hour > nowMs - this.graceMs) return undefined;
      this.cursor = { hour, nextId: 0, lastId: this.lastSeriesId.get()?.id ?? 0 };
    }
    const { hour, nextId, lastId } = this.cursor;
    const toId = nextId + SLICE_IDS - 1;
    const first = hour * 60;
    const bySeries = new Map<number, MinuteCell[]>();
    for (const r of this.sliceRows.iterate(first, first + 59, nextId, toId)) {
      let cells = bySeries.get(r.series_id);
      if (!cells) bySeries.set(r.series_id, (cells = []));
      // Rows come minute by minute, so each series' cells are in minute order.
      cells.push({ minute: r.bucket - first, min: r.min_value, max: r.max_value, sum: r.sum_value, count: r.samples, last: r.last_value });
    }
    let moved = 0;
    for (const [seriesId, cells] of bySeries) {
      const sealed = this.selectPacked.get(hour, seriesId);
      const merged = sealed ? mergeMinutes(decodeMinutes(sealed.cells), cells) : cells;
      this.upsertPacked.run(hour, seriesId, merged.length, encodeMinutes(merged));
      moved += cells.length;
    }
    if (bySeries.size > 0) for (let m = first; m < first + 60; m++) this.deleteRows.run(m, nextId, toId);
    this.cursor = toId >= lastId ? undefined : { hour, nextId: toId + 1, lastId };
    return moved;
  }

  /** Forget the position (a failed transaction may have undone part of a pass). */
  reset(): void {
    this.cursor = undefined;
  }
}

