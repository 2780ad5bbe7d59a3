import { describe, expect, it } from 'vitest';
import type { Step } from './capacity.js';
import { average, capacityStats, kthSmallest, last, p95, peak, percentile, timeToLimit, trend } from './capacity.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A step whose samples were all `max` except one `min`: only max, sum and count matter here. */
const step = (t: number, max: number, extra: Partial<Step> = {}): Step => ({ t, min: 0, max, sum: max, count: 1, last: max, ...extra });

describe('capacity figures', () => {
  it('p95 is the nearest-rank 95th percentile of the step maxima', () => {
    // 20 steps with maxima 1..20 (shuffled): rank ceil(0.95 * 20) = 19.
    const order = [7, 3, 20, 1, 15, 9, 12, 2, 18, 5, 11, 19, 4, 14, 6, 17, 8, 13, 10, 16];
    const steps = order.map((max, i) => step(T0 + i * HOUR, max));
    expect(p95(steps)).toBe(19);
    // 100 steps 1..100: 95; 21 steps: rank ceil(19.95) = 20.
    expect(percentile(Array.from({ length: 100 }, (_, i) => 100 - i), 95)).toBe(95);
    expect(percentile(Array.from({ length: 21 }, (_, i) => i + 1), 95)).toBe(20);
    expect(p95([step(T0, 42)])).toBe(42);
    expect(p95([])).toBeUndefined();
    // Per-step maxima, not means: a step averaging 1 with one sample at 50 counts as 50.
    expect(p95([step(T0, 50, { sum: 60, count: 60 })])).toBe(50);
  });

  it('selects the k-th smallest as a sort would, duplicates and all', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let run = 0; run < 500; run++) {
      const n = 1 + Math.floor(random() * 800);
      // Few distinct values in half the runs: long runs of equal keys.
      const spread = run % 2 === 0 ? 5 : 1e6;
      const values = Array.from({ length: n }, () => Math.floor(random() * spread));
      const sorted = [...values].sort((a, b) => a - b);
      const k = 1 + Math.floor(random() * n);
      expect(kthSmallest(Float64Array.from(values), n, k)).toBe(sorted[k - 1]);
      expect(percentile(values, 95)).toBe(sorted[Math.ceil(0.95 * n) - 1]);
    }
  });

  it('peak, avg and last', () => {
    const steps = [step(T0, 4, { sum: 10, count: 2, last: 6 }), step(T0 + HOUR, 9, { sum: 30, count: 3, last: 7 })];
    expect(peak(steps)).toBe(9);
    // Sample-weighted: 40 / 5, not the mean of step means (5 + 10) / 2.
    expect(average(steps)).toBe(8);
    expect(last(steps)).toBe(7);
  });

  it('trend is the least-squares slope of the step maxima, per day', () => {
    // Daily steps 100 + 5d plus noise (0, 1, -1, -1, 1, 0) that is orthogonal to d - 2.5:
    // Sxy = 87.5, Sxx = 17.5, slope exactly 5.
    const daily = [100, 106, 109, 114, 121, 125].map((max, d) => step(T0 + d * DAY, max));
    expect(trend(daily)?.slopePerDay).toBe(5);
    // Not orthogonal: (100, 106, 109, 115, 120, 124) gives Sxy = 84, slope 4.8.
    expect(trend([100, 106, 109, 115, 120, 124].map((max, d) => step(T0 + d * DAY, max)))?.slopePerDay).toBeCloseTo(4.8, 12);
    // Hourly steps rising 2 an hour: 48 a day.
    const hourly = Array.from({ length: 24 }, (_, h) => step(T0 + h * HOUR, 10 + 2 * h));
    expect(trend(hourly)?.slopePerDay).toBeCloseTo(48, 9);
    expect(trend([step(T0, 1)])).toBeUndefined();
  });

  it('time to limit extrapolates the trend from now', () => {
    // Maxima 100 + 5d for d = 0..9: the line is exact; at day 9 it is 145.
    const steps = Array.from({ length: 10 }, (_, d) => step(T0 + d * DAY, 100 + 5 * d));
    expect(timeToLimit(steps, 200, T0 + 9 * DAY)).toBe(11 * DAY); // (200 - 145) / 5 a day
    expect(timeToLimit(steps, 200, T0 + 10 * DAY)).toBe(10 * DAY);
    expect(timeToLimit(steps, 200, T0 + 9.5 * DAY)).toBe(10.5 * DAY);
    expect(timeToLimit(steps, 145, T0 + 9 * DAY)).toBe(0); // the last step reached it
    expect(timeToLimit(steps, 140, T0 + 20 * DAY)).toBe(0);
    const flat = Array.from({ length: 5 }, (_, d) => step(T0 + d * DAY, 50));
    expect(timeToLimit(flat, 100, T0 + 5 * DAY)).toBe(Infinity);
    const falling = Array.from({ length: 5 }, (_, d) => step(T0 + d * DAY, 90 - d));
    expect(timeToLimit(falling, 100, T0 + 5 * DAY)).toBe(Infinity);
    expect(timeToLimit([step(T0, 10)], 100, T0)).toBeUndefined();
    expect(timeToLimit([], 100, T0)).toBeUndefined();
  });

  it('capacityStats gathers them', () => {
    const steps = Array.from({ length: 10 }, (_, d) => step(T0 + d * DAY, 100 + 5 * d));
    const stats = capacityStats(steps, { nowMs: T0 + 9 * DAY, limit: 200 });
    expect(stats).toMatchObject({ peak: 145, p95: 145, avg: 122.5, last: 145, steps: 10, samples: 10 });
    expect(stats?.trend).toBe(5);
    expect(stats?.timeToLimit).toBe(11 * DAY);
    expect(capacityStats(steps, { nowMs: T0 })?.timeToLimit).toBeNull();
    expect(capacityStats([], { nowMs: T0 })).toBeUndefined();
  });
});
