// One rollup cell (min, max, sum, count, last of the samples in a time bucket) and how two cells
// merge. The same merge runs in memory (pending buffer) and in SQL (upsert), so a bucket written
// over several flushes ends exactly as if written at once.

export type Resolution = 'minute' | 'hour';

export const BUCKET_MS: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000 };

export const MINUTES_PER_HOUR = BUCKET_MS.hour / BUCKET_MS.minute;

export interface Rollup {
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  /** Time of `last` (ms; any origin, one per cell), in memory only: keeps `last` right when samples arrive out of order. */
  lastAt: number;
}

export function rollupOf(value: number, atMs: number): Rollup {
  return { min: value, max: value, sum: value, count: 1, last: value, lastAt: atMs };
}

/** Merge `from` into `into` (mutates `into`). */
export function mergeRollup(into: Rollup, from: Rollup): void {
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  into.sum += from.sum;
  into.count += from.count;
  // Ties go to the later merge: samples recorded at the same instant keep record order.
  if (from.lastAt >= into.lastAt) {
    into.last = from.last;
    into.lastAt = from.lastAt;
  }
}

/**
 * Merge one sample into `into` without allocating (the per-sample hot path: a series' open cell
 * too). Samples of one instant keep record order.
 */
export function mergeSample(into: Rollup, value: number, at: number): void {
  if (value < into.min) into.min = value;
  if (value > into.max) into.max = value;
  into.sum += value;
  into.count++;
  if (at >= into.lastAt) {
    into.last = value;
    into.lastAt = at;
  }
}

/** Buckets are numbered from the epoch (minute n covers [n*60s, (n+1)*60s)): small integers on disk. */
export function bucketOf(atMs: number, resolution: Resolution): number {
  return Math.floor(atMs / BUCKET_MS[resolution]);
}

export function bucketStartMs(bucket: number, resolution: Resolution): number {
  return bucket * BUCKET_MS[resolution];
}
