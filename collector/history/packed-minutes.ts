// A group of one series' rollup cells packed into a blob: the sealed form of the rollup rows (an
// hour's 60 minutes, or a day's 24 hours; about 2 to 6 bytes a cell instead of a ~24-byte row).
// Cells are numbered by slot within their group. Exact: decode(encode(cells)) gives back every
// field. Pure, no I/O.
//
// Layout (little-endian bit order):
//   byte 0: bit 0 set = which slots are present is an 8-byte bitmap, else a run (first, n);
//           bit 1 set = float mode (every field a float64), else integer mode.
//   run: u8 first slot (0..59), u8 count | bitmap: 8 bytes, bit k = slot k present.
//   integer mode: varint min of the first cell, then five streams, each a varint reference (its
//   smallest value) and a u8 bit width, then every cell's (value - reference) in that width:
//     count, zigzag(min - previous min), max - min, last - min, sum - count * min.
//   A series' counts barely move from cell to cell, so the five numbers need few bits; a stream
//   that never changes (count, nearly always the samples per cell) needs none.
// Integer mode holds whole numbers up to 2^48 (connection counts and their sums); anything else
// (a fraction, a huge value) makes the whole group float mode.

import { ByteReader, ByteWriter } from './byte-stream.js';

export interface PackedCell {
  /** Slot within the group: minute of the hour (0..59) or hour of the day (0..23). */
  slot: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

const FORMAT_BITMAP = 1;
const FORMAT_FLOAT = 2;
const MAX_INT = 2 ** 48;

const isSmallInt = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= MAX_INT;

/** Whether a cell's fields fit integer mode: whole, small, and ordered so every delta is >= 0. */
export function isIntegerCell(min: number, max: number, sum: number, count: number, last: number): boolean {
  return isSmallInt(min) && isSmallInt(max) && isSmallInt(sum) && isSmallInt(count) && isSmallInt(last) &&
    min <= last && last <= max && count * min <= sum;
}
const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);
const unzigzag = (v: number): number => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

function bitsFor(v: number): number {
  let bits = 0;
  while (v >= 1) {
    v = Math.floor(v / 2);
    bits++;
  }
  return bits;
}

const STREAMS = 5;

/** The five integer streams of the cells (see the layout above). */
function streams(cells: readonly PackedCell[]): number[][] {
  const out: number[][] = [[], [], [], [], []];
  let previousMin = (cells[0] as PackedCell).min;
  for (const c of cells) {
    (out[0] as number[]).push(c.count);
    (out[1] as number[]).push(zigzag(c.min - previousMin));
    (out[2] as number[]).push(c.max - c.min);
    (out[3] as number[]).push(c.last - c.min);
    (out[4] as number[]).push(c.sum - c.count * c.min);
    previousMin = c.min;
  }
  return out;
}

/** Encode cells of distinct slots (0..59) in ascending slot order (at least one). */
export function encodeMinutes(cells: readonly PackedCell[]): Buffer {
  if (cells.length === 0) throw new RangeError('packed cells: no cells');
  const w = new ByteWriter();
  const first = (cells[0] as PackedCell).slot;
  const run = (cells.at(-1) as PackedCell).slot - first + 1 === cells.length;
  const integer = cells.every((c) => isIntegerCell(c.min, c.max, c.sum, c.count, c.last));
  w.byte((run ? 0 : FORMAT_BITMAP) | (integer ? 0 : FORMAT_FLOAT));
  if (run) {
    w.byte(first);
    w.byte(cells.length);
  } else {
    const bitmap = new Uint8Array(8);
    for (const c of cells) bitmap[c.slot >> 3] = (bitmap[c.slot >> 3] as number) | (1 << (c.slot & 7));
    for (const b of bitmap) w.byte(b);
  }
  if (!integer) {
    for (const c of cells) for (const v of [c.min, c.max, c.sum, c.count, c.last]) w.float(v);
    return w.finish();
  }
  w.varint((cells[0] as PackedCell).min);
  const values = streams(cells);
  const layout = values.map((stream) => {
    let lo = Infinity;
    let hi = 0;
    for (const v of stream) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return { ref: lo, width: bitsFor(hi - lo) };
  });
  for (const { ref, width } of layout) {
    w.varint(ref);
    w.byte(width);
  }
  for (let s = 0; s < STREAMS; s++) {
    const { ref, width } = layout[s] as { ref: number; width: number };
    if (width === 0) continue;
    for (const v of values[s] as number[]) w.bits(v - ref, width);
  }
  return w.finish();
}

/** Decode a blob from encodeMinutes of a group of `slots` slots. Throws RangeError on a malformed blob. */
export function decodeMinutes(blob: Uint8Array, slots: number): PackedCell[] {
  const cells: PackedCell[] = [];
  decodeCells(blob, slots, (slot, min, max, sum, count, last) => {
    cells.push({ slot, min, max, sum, count, last });
  });
  return cells;
}

/**
 * decodeMinutes without the cell objects: `visit` gets each cell's fields in slot order (a
 * reader building its own objects allocates once per cell). Throws RangeError on a malformed blob.
 */
export function decodeCells(blob: Uint8Array, slots: number, visit: (slot: number, min: number, max: number, sum: number, count: number, last: number) => void): void {
  const r = new ByteReader(blob);
  const format = r.byte();
  // Scratch shared by every call (a report decodes millions of blobs; nothing here is reentrant).
  const present = scratch.present;
  let n = 0;
  if (format & FORMAT_BITMAP) {
    for (let i = 0; i < 8; i++) {
      const b = r.byte();
      for (let k = 0; k < 8; k++) if (b & (1 << k)) present[n++] = i * 8 + k;
    }
  } else {
    const first = r.byte();
    n = r.byte();
    if (first + n > slots) throw new RangeError('packed cells: bad slot set');
    for (let k = 0; k < n; k++) present[k] = first + k;
  }
  if (n === 0 || (present[n - 1] as number) >= slots) throw new RangeError('packed cells: bad slot set');
  if (format & FORMAT_FLOAT) {
    for (let i = 0; i < n; i++) visit(present[i] as number, r.float(), r.float(), r.float(), r.float(), r.float());
    return;
  }
  let previousMin = r.varint();
  const { refs, widths, values } = scratch;
  for (let s = 0; s < STREAMS; s++) {
    refs[s] = r.varint();
    widths[s] = r.byte();
  }
  for (let s = 0; s < STREAMS; s++) {
    const ref = refs[s] as number;
    const width = widths[s] as number;
    const stream = values[s] as Float64Array;
    if (width === 0) stream.fill(ref, 0, n);
    else for (let i = 0; i < n; i++) stream[i] = ref + r.bits(width);
  }
  const [counts, minDeltas, ranges, lasts, sums] = values as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < n; i++) {
    const min = previousMin + unzigzag(minDeltas[i] as number);
    previousMin = min;
    const count = counts[i] as number;
    visit(present[i] as number, min, min + (ranges[i] as number), count * min + (sums[i] as number), count, min + (lasts[i] as number));
  }
}

/** A blob holds at most 64 slots (its bitmap's width). */
const scratch = {
  present: new Uint8Array(64),
  refs: new Float64Array(STREAMS),
  widths: new Uint8Array(STREAMS),
  values: Array.from({ length: STREAMS }, () => new Float64Array(64)),
};

/**
 * Merge `later` into `earlier` by slot (both ascending): min of mins, max of maxes, sums and
 * counts added, `later`'s last (it was written after). Returns a new ascending array.
 */
export function mergeMinutes(earlier: readonly PackedCell[], later: readonly PackedCell[]): PackedCell[] {
  return mergeByKey(earlier, later, (c) => c.slot);
}

/** mergeMinutes for any cells ordered by `keyOf` (a slot, a time): the merged cell keeps `a`'s other fields. */
export function mergeByKey<T extends Cell>(earlier: readonly T[], later: readonly T[], keyOf: (cell: T) => number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < earlier.length || j < later.length) {
    const a = earlier[i];
    const b = later[j];
    if (b === undefined || (a !== undefined && keyOf(a) < keyOf(b))) {
      out.push({ ...(a as T) });
      i++;
    } else if (a === undefined || keyOf(b) < keyOf(a)) {
      out.push({ ...b });
      j++;
    } else {
      out.push(mergeCell(a, b));
      i++;
      j++;
    }
  }
  return out;
}

/** What a cell holds besides its place: the samples' min, max, sum, count and last. */
export interface Cell {
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

/** One cell of `a`'s place holding both: `b` is the later (its last wins). */
export function mergeCell<T extends Cell>(a: T, b: T): T {
  return { ...a, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), sum: a.sum + b.sum, count: a.count + b.count, last: b.last };
}
