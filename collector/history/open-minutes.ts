// A series' minutes that are not sealed yet, held on its handle: the current minute's cell
// (samples fold into it without allocating) and, once a minute is over, a cell appended to the
// journal of its hour. Reading them back gives minute cells that merge with what the database
// holds. Pure, no I/O.

import { MinuteJournal } from './minute-journal.js';
import type { PackedCell } from './packed-minutes.js';
import { mergeCell } from './packed-minutes.js';
import { BUCKET_MS, mergeSample, MINUTES_PER_HOUR } from './rollup.js';
import type { SeriesHandle } from './series-registry.js';

/**
 * Fold a sample into the handle's current minute, closing the previous minute first when this
 * one is later. False when the sample is for an earlier minute than the current one (late):
 * the caller decides where it goes.
 */
export function foldSample(h: SeriesHandle, atMs: number, value: number): boolean {
  const minute = Math.floor(atMs / BUCKET_MS.minute);
  // Whole ms into the minute: a small integer, kept in the object (see SeriesHandle.lastSeenS).
  const at = Math.floor(atMs - minute * BUCKET_MS.minute);
  if (h.count > 0 && minute === h.cellMinute) {
    mergeSample(h, value, at);
    return true;
  }
  if (h.count > 0 && minute < h.cellMinute) return false;
  if (h.count > 0) closeCell(h);
  h.cellMinute = minute;
  h.min = value;
  h.max = value;
  h.sum = value;
  h.count = 1;
  h.last = value;
  h.lastAt = at;
  return true;
}

/** Move the current minute's cell into its hour's journal. */
export function closeCell(h: SeriesHandle): void {
  if (h.count === 0) return;
  const hour = Math.floor(h.cellMinute / MINUTES_PER_HOUR);
  journalOf(h, hour).append(h.cellMinute - hour * MINUTES_PER_HOUR, h.min, h.max, h.sum, h.count, h.last);
  h.count = 0;
  h.dirty = true;
}

/** Append a one-sample cell for a minute before the current one (its hour not sealed). */
export function appendLate(h: SeriesHandle, minute: number, value: number): void {
  const hour = Math.floor(minute / MINUTES_PER_HOUR);
  journalOf(h, hour).append(minute - hour * MINUTES_PER_HOUR, value, value, value, 1, value);
  h.dirty = true;
}

/** The journal of `hour`, created in hour order if missing. */
export function journalOf(h: SeriesHandle, hour: number): MinuteJournal {
  let i = h.journals.length;
  while (i > 0 && (h.journals[i - 1] as MinuteJournal).hour > hour) i--;
  const before = h.journals[i - 1];
  if (before?.hour === hour) return before;
  const journal = new MinuteJournal(hour);
  h.journals.splice(i, 0, journal);
  return journal;
}

/** The handle's open minutes in [fromMinute, toMinute], absolute minute numbers in `slot`, ascending. */
export function openMinuteCells(h: SeriesHandle, fromMinute: number, toMinute: number): PackedCell[] {
  const out: PackedCell[] = [];
  for (const journal of h.journals) {
    const first = journal.hour * MINUTES_PER_HOUR;
    if (first > toMinute || first + MINUTES_PER_HOUR <= fromMinute) continue;
    for (const c of journal.minutes()) {
      c.slot += first;
      if (c.slot >= fromMinute && c.slot <= toMinute) out.push(c);
    }
  }
  if (h.count > 0 && h.cellMinute >= fromMinute && h.cellMinute <= toMinute) {
    const cell = { slot: h.cellMinute, min: h.min, max: h.max, sum: h.sum, count: h.count, last: h.last };
    const tail = out.at(-1);
    // A restart within the minute journaled it too; the open cell is the later.
    if (tail?.slot === cell.slot) out[out.length - 1] = mergeCell(tail, cell);
    else out.push(cell);
  }
  return out;
}

/** An upper bound of the handle's open samples in [fromMinute, toMinute], or -Infinity. */
export function openPeak(h: SeriesHandle, fromMinute: number, toMinute: number): number {
  let peak = -Infinity;
  for (const journal of h.journals) {
    const first = journal.hour * MINUTES_PER_HOUR;
    if (first <= toMinute && first + MINUTES_PER_HOUR > fromMinute && journal.max > peak) peak = journal.max;
  }
  if (h.count > 0 && h.cellMinute >= fromMinute && h.cellMinute <= toMinute && h.max > peak) peak = h.max;
  return peak;
}
