// A frame: what one flush adds to the open hours' journals, for every series at once, as one
// blob (one row of rollup_minute_frame, ~13 bytes per series and minute). Replaying the frames
// in order rebuilds the journals after a restart. Entry: varint series id, varint hour, varint
// byte length, that many journal bytes (minute-journal.ts). Pure, no I/O.

import { ByteReader, ByteWriter } from './byte-stream.js';
import type { BlockBytes } from './journal-blocks.js';

export interface FrameEntry {
  seriesId: number;
  hour: number;
  bytes: Uint8Array;
}

export interface FrameMark {
  length: number;
  lastHour: number;
  entries: number;
}

/** Entries appended one by one; the bytes are the frame row's body. */
export class FrameWriter {
  private readonly w = new ByteWriter(1 << 16);
  /** The newest hour of any entry: the frame can go once that hour is sealed. */
  lastHour = -1;
  entries = 0;

  /** Start a new frame in the same buffer. */
  reset(): void {
    this.rollback({ length: 0, lastHour: -1, entries: 0 });
  }

  /** Where the frame is now, to roll back to. */
  mark(): FrameMark {
    return { length: this.w.length, lastHour: this.lastHour, entries: this.entries };
  }

  rollback(mark: FrameMark): void {
    this.w.length = mark.length;
    this.lastHour = mark.lastHour;
    this.entries = mark.entries;
  }

  /** Add `source`'s bytes in [from, to) as the entry of (seriesId, hour). */
  add(seriesId: number, hour: number, source: BlockBytes, from: number, to: number): void {
    this.w.varint(seriesId);
    this.w.varint(hour);
    this.w.varint(to - from);
    source.copyTo(this.w, from, to);
    if (hour > this.lastHour) this.lastHour = hour;
    this.entries++;
  }

  body(): Uint8Array {
    return this.w.view();
  }
}

/** The frame's entries; throws RangeError on a malformed body. */
export function* readFrame(body: Uint8Array): Generator<FrameEntry> {
  const r = new ByteReader(body);
  while (!r.atEnd) {
    const seriesId = r.varint();
    const hour = r.varint();
    const length = r.varint();
    yield { seriesId, hour, bytes: r.take(length) };
  }
}
