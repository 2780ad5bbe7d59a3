// Moves the rows of finished groups (minutes of an hour, hours of a day: packed-groups.ts) into
// one packed blob per series and group. A group is sealed once it ended more than `graceMs` ago,
// so rows still being written stay rows: late minutes (a sample after its hour was sealed from
// memory) and the hours of the open day. Work is done in slices of series ids, each a bounded
// transaction, so one pass never stalls the collector for long however many series there are.
// A row that arrives after its group was sealed lands in rows again and is merged into the blob
// by the next pass: still exact.

import type { Database, Statement } from 'better-sqlite3';
import type { PackedCell } from './packed-minutes.js';
import { decodeMinutes, encodeMinutes, mergeMinutes } from './packed-minutes.js';
import type { PackedGroup } from './packed-groups.js';
import { BUCKET_MS } from './rollup.js';

/** Series ids per slice: at most `slots` rows each (60 or 24), so a slice reads at most ~60,000 rows. */
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

export class RowSealer {
  /** The group being sealed and the next series id to look at; undefined between groups. */
  private cursor: { group: number; nextId: number; lastId: number } | undefined;
  private readonly groupMs: number;
  private readonly oldestRow: Statement<unknown[], { bucket: number | null }>;
  private readonly lastSeriesId: Statement<unknown[], { id: number | null }>;
  private readonly sliceRows: Statement<unknown[], Row>;
  private readonly selectPacked: Statement<unknown[], { cells: Buffer }>;
  private readonly upsertPacked: Statement;
  private readonly deleteRows: Statement;

  constructor(db: Database, private readonly packing: PackedGroup, private readonly graceMs: number) {
    const { rowTable, packedTable, groupColumn, countColumn } = packing;
    this.groupMs = packing.slots * BUCKET_MS[packing.resolution];
    this.oldestRow = db.prepare(`SELECT min(bucket) AS bucket FROM ${rowTable}`);
    this.lastSeriesId = db.prepare('SELECT max(id) AS id FROM series');
    // One primary-key range per bucket of the group (CROSS JOIN keeps the buckets outer).
    this.sliceRows = db.prepare(`WITH RECURSIVE m(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM m WHERE x < ?)
      SELECT r.bucket, r.series_id, r.min_value, r.max_value, r.sum_value, r.samples, r.last_value
      FROM m CROSS JOIN ${rowTable} r ON r.bucket = m.x AND r.series_id BETWEEN ? AND ?`);
    this.selectPacked = db.prepare(`SELECT cells FROM ${packedTable} WHERE ${groupColumn} = ? AND series_id = ?`);
    this.upsertPacked = db.prepare(`INSERT OR REPLACE INTO ${packedTable} (${groupColumn}, series_id, ${countColumn}, cells) VALUES (?, ?, ?, ?)`);
    this.deleteRows = db.prepare(`DELETE FROM ${rowTable} WHERE bucket = ? AND series_id BETWEEN ? AND ?`);
  }

  /**
   * Seal one slice of the oldest finished group, if there is one. Returns the rows moved, or
   * undefined when nothing is left to seal. Run inside a transaction.
   */
  sealSlice(nowMs: number): number | undefined {
    const { slots } = this.packing;
    if (!this.cursor) {
      const oldest = this.oldestRow.get()?.bucket;
      if (oldest === null || oldest === undefined) return undefined;
      const group = Math.floor(oldest / slots);
      if ((group + 1) * this.groupMs > nowMs - this.graceMs) return undefined;
      this.cursor = { group, nextId: 0, lastId: this.lastSeriesId.get()?.id ?? 0 };
    }
    const { group, nextId, lastId } = this.cursor;
    const toId = nextId + SLICE_IDS - 1;
    const first = group * slots;
    const bySeries = new Map<number, PackedCell[]>();
    for (const r of this.sliceRows.iterate(first, first + slots - 1, nextId, toId)) {
      let cells = bySeries.get(r.series_id);
      if (!cells) bySeries.set(r.series_id, (cells = []));
      // Rows come bucket by bucket, so each series' cells are in slot order.
      cells.push({ slot: r.bucket - first, min: r.min_value, max: r.max_value, sum: r.sum_value, count: r.samples, last: r.last_value });
    }
    let moved = 0;
    for (const [seriesId, cells] of bySeries) {
      const sealed = this.selectPacked.get(group, seriesId);
      const merged = sealed ? mergeMinutes(decodeMinutes(sealed.cells, slots), cells) : cells;
      this.upsertPacked.run(group, seriesId, merged.length, encodeMinutes(merged));
      moved += cells.length;
    }
    if (bySeries.size > 0) for (let b = first; b < first + slots; b++) this.deleteRows.run(b, nextId, toId);
    this.cursor = toId >= lastId ? undefined : { group, nextId: toId + 1, lastId };
    return moved;
  }

  /** Forget the position (a failed transaction may have undone part of a pass). */
  reset(): void {
    this.cursor = undefined;
  }
}
