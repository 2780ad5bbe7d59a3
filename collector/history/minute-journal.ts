// One series' minute cells of one hour that is not sealed yet, kept in memory as appended bytes
// (~7 bytes a minute instead of a row or an object): the source for reading recent minutes and,
// once the hour is over, for its packed blob and hour row. The bytes not yet persisted go into
// the next frame (journal-frame.ts), so a crash loses at most what the last flush had not taken.
// Cells are appended in the order minutes close; a minute can appear twice (a late sample, a
// restart within the minute) and is merged on reading, the later cell's `last` winning.
//
// Cell: varint (slot * 2 + float flag), then whole numbers as varints: min, max - min,
// last - min, count, sum - count * min; or, when any is fractional, negative or huge, five
// float64s: min, max, sum, count, last. Pure, no I/O.

import { ByteReader } from './byte-stream.js';
import { BlockBytes } from './journal-blocks.js';
import type { PackedCell } from './packed-minutes.js';
import { isIntegerCell, mergeCell } from './packed-minutes.js';
import { MINUTES_PER_HOUR } from './rollup.js';


/** The journal is its bytes (one object per series and hour: fewer to reach at a minute's close). */
export class MinuteJournal extends BlockBytes {
  /** Bytes already taken into a frame (pending or committed). */
  persisted = 0;
  /** The largest sample in the journal (-1: none; counts are never negative): ranks the open hour's series for top-N reports. */
  max = -1;
  /** Cells appended (a minute appended twice counts twice). */
  cells = 0;

  constructor(readonly hour: number) {
    super();
  }

  /** Append a cell of minute `slot` (0..59 within the hour). */
  append(slot: number, min: number, max: number, sum: number, count: number, last: number): void {
    if (isIntegerCell(min, max, sum, count, last)) {
      this.varint(slot * 2);
      this.varint(min);
      this.varint(max - min);
      this.varint(last - min);
      this.varint(count);
      this.varint(sum - count * min);
    } else {
      this.varint(slot * 2 + 1);
      for (const v of [min, max, sum, count, last]) this.float(v);
    }
    if (max > this.max) this.max = max;
    this.cells++;
  }

  /** Append cells read back from a frame (recovery); throws RangeError on malformed bytes. */
  appendEncoded(bytes: Uint8Array): void {
    for (const c of readCells(bytes)) this.append(c.slot, c.min, c.max, c.sum, c.count, c.last);
  }


  /** The journal's minutes, one cell each, ascending (slots 0..59, as encodeMinutes takes them). */
  minutes(): PackedCell[] {
    const slots: Array<PackedCell | undefined> = new Array<PackedCell | undefined>(MINUTES_PER_HOUR);
    for (const c of readCells(this.copy())) {
      const into = slots[c.slot];
      slots[c.slot] = into ? mergeCell(into, c) : c;
    }
    return slots.filter((c): c is PackedCell => c !== undefined);
  }
}

function* readCells(bytes: Uint8Array): Generator<PackedCell> {
  const r = new ByteReader(bytes);
  while (!r.atEnd) {
    const head = r.varint();
    const slot = Math.floor(head / 2);
    if (slot >= MINUTES_PER_HOUR) throw new RangeError('minute journal: bad minute');
    if (head % 2 === 1) {
      yield { slot, min: r.float(), max: r.float(), sum: r.float(), count: r.float(), last: r.float() };
      continue;
    }
    const min = r.varint();
    const max = min + r.varint();
    const last = min + r.varint();
    const count = r.varint();
    yield { slot, min, max, sum: count * min + r.varint(), count, last };
  }
}
