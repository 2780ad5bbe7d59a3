// Seals an open hour from memory once it ended `graceMs` ago: each series' journal becomes its
// packed minute blob and its hour row (and day peak, last_hour), a bounded slice of series per
// transaction, and the hour's frames go with the last slice. Nothing is read back from the
// database for it. While an hour is being sealed and after, a sample for it is late and is
// written as rows (pending-rollups.ts), which readers merge with the blob.

import type { Database, Statement } from 'better-sqlite3';
import { hasOpenData } from './series-registry.js';
import type { SeriesHandle, SeriesRegistry } from './series-registry.js';
import { closeCell } from './open-minutes.js';
import type { PackedCell } from './packed-minutes.js';
import { decodeMinutes, encodeMinutes, mergeMinutes } from './packed-minutes.js';
import { BUCKET_MS, MINUTES_PER_HOUR } from './rollup.js';
import type { RollupWriter } from './rollup-writer.js';

export class JournalSealer {
  /** Hours up to this one are sealed (or being sealed): samples for them are late. */
  sealedThrough: number;
  private cursor: { hour: number; queue: SeriesHandle[]; next: number } | undefined;
  /** Handles sealed by the running transaction, their journals dropped once it commits. */
  private sealed: SeriesHandle[] = [];
  private finished = false;
  /** No open hour can be due before this: spares a scan of every series on each timer tick. */
  private notBeforeMs = -Infinity;
  private readonly insertPacked: Statement;
  private readonly selectPacked: Statement<unknown[], { cells: Buffer }>;
  private readonly replacePacked: Statement;
  private readonly deleteFrames: Statement;

  constructor(db: Database, private readonly writer: RollupWriter, private readonly registry: SeriesRegistry, private readonly graceMs: number) {
    this.insertPacked = db.prepare('INSERT INTO rollup_minute_packed (hour, series_id, minutes, cells) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.selectPacked = db.prepare('SELECT cells FROM rollup_minute_packed WHERE hour = ? AND series_id = ?');
    this.replacePacked = db.prepare('INSERT OR REPLACE INTO rollup_minute_packed (hour, series_id, minutes, cells) VALUES (?, ?, ?, ?)');
    this.deleteFrames = db.prepare('DELETE FROM rollup_minute_frame WHERE last_hour <= ?');
    const newest = db.prepare('SELECT max(hour) AS hour FROM rollup_minute_packed').get() as { hour: number | null };
    this.sealedThrough = newest.hour ?? -1;
  }

  /** Is a sample of `minute` late (its hour sealed or being sealed)? */
  isSealed(minute: number): boolean {
    return Math.floor(minute / MINUTES_PER_HOUR) <= this.sealedThrough;
  }

  /**
   * Seal up to `limit` series of the oldest open hour, if one ended `graceMs` before `nowMs`.
   * Returns the minute cells sealed, or undefined when there is nothing to seal. Run inside a
   * transaction, then call committed() or rolledBack().
   */
  sealSlice(nowMs: number, limit: number): number | undefined {
    if (!this.cursor && !this.start(nowMs)) return undefined;
    const cursor = this.cursor as { hour: number; queue: SeriesHandle[]; next: number };
    const end = Math.min(cursor.queue.length, cursor.next + limit);
    let cells = 0;
    for (let i = cursor.next; i < end; i++) {
      const handle = cursor.queue[i] as SeriesHandle;
      const journal = handle.journals[0];
      if (journal?.hour !== cursor.hour) continue;
      const minutes = journal.minutes();
      this.writeHour(handle, cursor.hour, minutes);
      this.sealed.push(handle);
      cells += minutes.length;
    }
    this.finished = end === cursor.queue.length;
    if (this.finished) this.deleteFrames.run(cursor.hour);
    cursor.next = end;
    return cells;
  }

  committed(): void {
    const hour = this.cursor?.hour;
    for (const handle of this.sealed) {
      if (handle.journals[0]?.hour === hour) handle.journals.shift()?.release();
      if (handle.dormant && !hasOpenData(handle)) this.registry.remove(handle);
    }
    this.sealed = [];
    if (this.finished) this.cursor = undefined;
    this.finished = false;
  }

  /** The transaction was undone: the next call queues the hour's series that still hold it. */
  rolledBack(): void {
    this.sealed = [];
    this.finished = false;
    this.cursor = undefined;
  }

  /** Find the oldest open hour; close the cells of it still open; queue its series. */
  private start(nowMs: number): boolean {
    if (nowMs < this.notBeforeMs) return false;
    let oldest = Infinity;
    for (const handle of this.registry.handles()) {
      const hour = handle.journals[0]?.hour ?? Infinity;
      const cellHour = handle.count > 0 ? Math.floor(handle.cellMinute / MINUTES_PER_HOUR) : Infinity;
      oldest = Math.min(oldest, hour, cellHour);
    }
    // An hour older than the oldest seen here can only come from a late sample: sealed with it.
    const dueMs = oldest === Infinity ? nowMs + BUCKET_MS.minute : (oldest + 1) * BUCKET_MS.hour + this.graceMs;
    if (dueMs > nowMs) {
      this.notBeforeMs = dueMs;
      return false;
    }
    const queue: SeriesHandle[] = [];
    for (const handle of this.registry.handles()) {
      if (handle.count > 0 && Math.floor(handle.cellMinute / MINUTES_PER_HOUR) === oldest) closeCell(handle);
      if (handle.journals[0]?.hour === oldest) queue.push(handle);
    }
    this.cursor = { hour: oldest, queue, next: 0 };
    this.sealedThrough = Math.max(this.sealedThrough, oldest);
    return true;
  }

  private writeHour(handle: SeriesHandle, hour: number, minutes: PackedCell[]): void {
    const seriesId = this.writer.seriesRowId(handle);
    if (this.insertPacked.run(hour, seriesId, minutes.length, encodeMinutes(minutes)).changes === 0) {
      // A blob is already there when minute rows of the hour were sealed (late samples): merge.
      const sealed = this.selectPacked.get(hour, seriesId) as { cells: Buffer };
      const merged = mergeMinutes(decodeMinutes(sealed.cells, MINUTES_PER_HOUR), minutes);
      this.replacePacked.run(hour, seriesId, merged.length, encodeMinutes(merged));
    }
    const cell = { min: Infinity, max: -Infinity, sum: 0, count: 0, last: 0, lastAt: 0 };
    for (const c of minutes) {
      if (c.min < cell.min) cell.min = c.min;
      if (c.max > cell.max) cell.max = c.max;
      cell.sum += c.sum;
      cell.count += c.count;
      cell.last = c.last;
    }
    this.writer.writeHour(handle, hour, cell);
  }
}
