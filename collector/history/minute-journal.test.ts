import { describe, expect, it } from 'vitest';
import { ByteWriter } from './byte-stream.js';
import { BlockBytes, BlockPool } from './journal-blocks.js';
import { FrameWriter, readFrame } from './journal-frame.js';
import { MinuteJournal } from './minute-journal.js';

describe('minute journal', () => {
  it('gives back its minutes in order, a minute appended twice merged with the later last', () => {
    const journal = new MinuteJournal(100);
    journal.append(5, 10, 30, 120, 6, 20);
    journal.append(2, 0, 4, 9, 6, 1);
    journal.append(5, 8, 12, 20, 2, 9); // a restart within minute 5
    expect(journal.minutes()).toEqual([
      { slot: 2, min: 0, max: 4, sum: 9, count: 6, last: 1 },
      { slot: 5, min: 8, max: 30, sum: 140, count: 8, last: 9 },
    ]);
    expect(journal.max).toBe(30);
    expect(journal.cells).toBe(3);
    // Whole numbers take a few bytes a cell.
    expect(journal.length).toBeLessThanOrEqual(3 * 8);
    journal.release();
  });

  it('keeps fractions, huge numbers and inconsistent cells exactly (as floats)', () => {
    const journal = new MinuteJournal(7);
    const cells = [
      { slot: 0, min: 0.5, max: 1.25, sum: 1.75, count: 2, last: 1.25 },
      { slot: 1, min: 2 ** 50, max: 2 ** 50, sum: 2 ** 50, count: 1, last: 2 ** 50 },
      { slot: 2, min: 3, max: 3, sum: 1, count: 2, last: 3 }, // sum < count x min: not encodable as deltas
    ];
    for (const c of cells) journal.append(c.slot, c.min, c.max, c.sum, c.count, c.last);
    expect(journal.minutes()).toEqual(cells);
    journal.release();
  });

  it('reads back what a frame carried, and refuses bytes that are not cells', () => {
    const source = new MinuteJournal(9);
    for (let slot = 0; slot < 60; slot++) source.append(slot, slot, slot * 2, slot * 7, 6, slot + 1);
    const copy = new MinuteJournal(9);
    copy.appendEncoded(source.copy());
    expect(copy.minutes()).toEqual(source.minutes());
    expect(() => new MinuteJournal(9).appendEncoded(Uint8Array.of(2 * 60))).toThrow(RangeError); // minute 60
    expect(() => new MinuteJournal(9).appendEncoded(Uint8Array.of(0, 0x80))).toThrow(RangeError); // truncated varint
    source.release();
    copy.release();
  });
});

describe('journal blocks', () => {
  it('stores bytes across 64-byte blocks exactly and recycles released blocks', () => {
    const pool = new BlockPool();
    const a = new BlockBytes(pool);
    const b = new BlockBytes(pool);
    for (let i = 0; i < 1000; i++) {
      a.byte(i & 0xff);
      b.byte((i * 7) & 0xff);
    }
    expect(pool.inUse).toBe(2 * Math.ceil(1000 / 64));
    expect(Array.from(a.copy(), (v, i) => v === (i & 0xff)).every(Boolean)).toBe(true);
    expect(Array.from(b.copy(60, 70))).toEqual(Array.from({ length: 10 }, (_, i) => ((60 + i) * 7) & 0xff));
    const out = new ByteWriter(4);
    b.copyTo(out, 120, 200);
    expect(Array.from(out.view())).toEqual(Array.from(b.copy(120, 200)));
    a.release();
    expect(pool.inUse).toBe(Math.ceil(1000 / 64));
    const c = new BlockBytes(pool);
    for (let i = 0; i < 64 * 16; i++) c.byte(1);
    expect(pool.inUse).toBe(2 * 16); // a's blocks served c: no new ones
    expect(a.length).toBe(0);
  });
});

describe('journal frames', () => {
  it('round-trips entries, and rolls back to a mark', () => {
    const bytes = new BlockBytes(new BlockPool());
    for (let i = 0; i < 100; i++) bytes.byte(i);
    const frame = new FrameWriter();
    frame.add(1, 400_000, bytes, 0, 10);
    frame.add(70_000, 400_001, bytes, 10, 100);
    const mark = frame.mark();
    frame.add(2, 400_002, bytes, 0, 1);
    frame.rollback(mark);
    expect(frame.entries).toBe(2);
    expect(frame.lastHour).toBe(400_001);
    const entries = [...readFrame(frame.body())].map((e) => ({ ...e, bytes: Array.from(e.bytes) }));
    expect(entries).toEqual([
      { seriesId: 1, hour: 400_000, bytes: Array.from(bytes.copy(0, 10)) },
      { seriesId: 70_000, hour: 400_001, bytes: Array.from(bytes.copy(10, 100)) },
    ]);
    expect(() => [...readFrame(frame.body().subarray(0, frame.body().length - 1))]).toThrow(RangeError);
    frame.reset();
    expect([...readFrame(frame.body())]).toEqual([]);
  });
});
