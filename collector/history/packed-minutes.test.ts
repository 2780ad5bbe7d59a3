import { describe, expect, it } from 'vitest';
import type { PackedCell } from './packed-minutes.js';
import { decodeMinutes, encodeMinutes, mergeMinutes } from './packed-minutes.js';

// Deterministic (mulberry32), so a failure repeats.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cells as the store makes them: `count` samples per cell around `base`. */
function cells(random: () => number, slots: number[], base: number, spread: number, count = 6): PackedCell[] {
  return slots.map((slot) => {
    const samples = Array.from({ length: count }, () => Math.max(0, Math.round(base + (random() - 0.5) * spread)));
    return { slot, min: Math.min(...samples), max: Math.max(...samples), sum: samples.reduce((a, b) => a + b, 0), count, last: samples.at(-1) as number };
  });
}

const all = Array.from({ length: 60 }, (_, i) => i);

describe('packed minutes', () => {
  it('round-trips a full hour exactly, in a few bytes a minute', () => {
    const random = rng(1);
    for (const [base, spread, maxBytes] of [[500, 100, 5 * 60], [2, 6, 2.5 * 60], [0, 0, 20]] as const) {
      const hour = cells(random, all, base, spread);
      const blob = encodeMinutes(hour);
      expect(decodeMinutes(blob, 60)).toEqual(hour);
      expect(blob.length).toBeLessThanOrEqual(maxBytes);
    }
  });

  it('keeps gaps, uneven counts, huge and fractional values exact', () => {
    const random = rng(2);
    const gappy = cells(random, [0, 3, 4, 59], 40, 30);
    expect(decodeMinutes(encodeMinutes(gappy), 60)).toEqual(gappy);
    const run = cells(random, [17, 18, 19], 40, 30);
    expect(decodeMinutes(encodeMinutes(run), 60)).toEqual(run);
    const uneven = [...cells(random, [0], 9, 4, 1), ...cells(random, [1], 9, 4, 12), ...cells(random, [2], 9, 4, 6)];
    expect(decodeMinutes(encodeMinutes(uneven), 60)).toEqual(uneven);
    const huge = [{ slot: 5, min: 2 ** 40, max: 2 ** 47, sum: 2 ** 47 + 2 ** 40, count: 2, last: 2 ** 47 }];
    expect(decodeMinutes(encodeMinutes(huge), 60)).toEqual(huge);
    const beyond = [{ slot: 1, min: 2 ** 50, max: 2 ** 52, sum: 2 ** 53, count: 3, last: 2 ** 51 }];
    expect(decodeMinutes(encodeMinutes(beyond), 60)).toEqual(beyond);
    const fractional = [{ slot: 0, min: 0.5, max: 2.25, sum: 2.75, count: 2, last: 2.25 }, ...cells(random, [1], 3, 2)];
    expect(decodeMinutes(encodeMinutes(fractional), 60)).toEqual(fractional);
    expect(() => decodeMinutes(encodeMinutes(gappy).subarray(0, 5), 60)).toThrow(RangeError);
  });

  it('round-trips streams of every bit width, narrow and wide mixed in one blob', () => {
    const random = rng(4);
    for (let width = 0; width <= 47; width++) {
      // Each cell's max - min needs up to `width` bits; last stays a few bits wide.
      const group = all.map((slot) => {
        const min = Math.floor(random() * 1000);
        const range = Math.floor(random() * 2 ** width);
        return { slot, min, max: min + range, sum: 2 * min + range, count: 2, last: min + (range % 5) };
      });
      expect(decodeMinutes(encodeMinutes(group), 60)).toEqual(group);
    }
  });

  it('packs a day of hours the same way and checks slots against the group size', () => {
    const random = rng(3);
    const day = cells(random, Array.from({ length: 24 }, (_, i) => i), 3000, 800, 360);
    expect(decodeMinutes(encodeMinutes(day), 24)).toEqual(day);
    const gappy = cells(random, [0, 7, 23], 3000, 800, 360);
    expect(decodeMinutes(encodeMinutes(gappy), 24)).toEqual(gappy);
    // Slot 24 is a minute of an hour, never an hour of a day.
    const late = cells(random, [20, 24], 5, 2);
    expect(decodeMinutes(encodeMinutes(late), 60)).toEqual(late);
    expect(() => decodeMinutes(encodeMinutes(late), 24)).toThrow(/bad slot set/);
    expect(() => decodeMinutes(encodeMinutes(cells(random, [23, 24, 25], 5, 2)), 24)).toThrow(/bad slot set/);
  });

  it('merges two hours of cells as upserts would', () => {
    const a: PackedCell[] = [{ slot: 1, min: 2, max: 5, sum: 7, count: 2, last: 5 }, { slot: 3, min: 1, max: 1, sum: 1, count: 1, last: 1 }];
    const b: PackedCell[] = [{ slot: 1, min: 0, max: 4, sum: 4, count: 2, last: 0 }, { slot: 2, min: 9, max: 9, sum: 9, count: 1, last: 9 }];
    expect(mergeMinutes(a, b)).toEqual([
      { slot: 1, min: 0, max: 5, sum: 11, count: 4, last: 0 },
      { slot: 2, min: 9, max: 9, sum: 9, count: 1, last: 9 },
      { slot: 3, min: 1, max: 1, sum: 1, count: 1, last: 1 },
    ]);
  });
});
