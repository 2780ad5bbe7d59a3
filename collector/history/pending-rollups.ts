// Samples that arrived after their hour was sealed (rare: a sample recorded late), waiting for
// the next flush as per-minute cells: a flush writes one row per (series, minute) and per
// (series, hour) however many samples arrived, and memory is bounded by cells, not by samples.

import type { Rollup } from './rollup.js';
import { bucketOf, mergeRollup, mergeSample, rollupOf } from './rollup.js';
import type { SeriesHandle } from './series-registry.js';

export class PendingRollups {
  /** Series -> minute bucket -> cell. Keyed by handle: no key strings on the per-sample path. */
  private readonly bySeries = new Map<SeriesHandle, Map<number, Rollup>>();
  private count = 0;
  private pointCount = 0;

  /** @param maxCells bound on buffered (series, minute) cells; beyond it new cells are refused. */
  constructor(private readonly maxCells: number) {}

  /** Fold one sample in; false when it would need a new cell and the buffer is full. */
  add(series: SeriesHandle, atMs: number, value: number): boolean {
    const minute = bucketOf(atMs, 'minute');
    let minutes = this.bySeries.get(series);
    const cell = minutes?.get(minute);
    if (cell) {
      mergeSample(cell, value, atMs);
    } else {
      if (this.count >= this.maxCells) return false;
      if (!minutes) {
        minutes = new Map();
        this.bySeries.set(series, minutes);
      }
      minutes.set(minute, rollupOf(value, atMs));
      this.count++;
    }
    this.pointCount++;
    return true;
  }

  /** Buffered (series, minute) cells. */
  get cells(): number {
    return this.count;
  }

  /** Samples folded in since the last clear. */
  get points(): number {
    return this.pointCount;
  }

  series(): IterableIterator<[SeriesHandle, Map<number, Rollup>]> {
    return this.bySeries.entries();
  }

  clear(): void {
    this.bySeries.clear();
    this.count = 0;
    this.pointCount = 0;
  }
}

/** Fold minute cells into hour cells (new objects; the minute cells are left as they are). */
export function hourCells(minutes: Map<number, Rollup>): Map<number, Rollup> {
  const hours = new Map<number, Rollup>();
  for (const [minute, cell] of minutes) {
    const hour = Math.floor(minute / 60);
    const into = hours.get(hour);
    if (into) mergeRollup(into, cell);
    else hours.set(hour, { ...cell });
  }
  return hours;
}
