import { describe, expect, it } from 'vitest';
import { EwmaBaseline } from './ewma-baseline.js';

const rule = { k: 4, minRise: 10 };
// The detector's test: a value at or above the threshold is a surge.
const isSurge = (b: EwmaBaseline, value: number): boolean => value >= b.threshold(rule);

describe('EwmaBaseline', () => {
  it('scores a value against the past, before folding it in', () => {
    const b = new EwmaBaseline({ alpha: 0.5, warmup: 2 });
    b.observe(10);
    b.observe(20); // weight 1/2 during warm-up: mean 15, deviation 5
    expect(b.mean).toBe(15);
    expect(b.deviation).toBe(5);
    expect(b.observe(35)).toBe(4); // (35 − 15) / 5, judged before the 35 moves the mean
    expect(b.mean).toBe(25);
  });

  it('averages plainly during warm-up and judges nothing until warm', () => {
    const b = new EwmaBaseline({ alpha: 0.01, warmup: 4 });
    for (const v of [100, 110, 90]) b.observe(v);
    expect(b.mean).toBeCloseTo(100, 9); // not dragged toward the first sample
    expect(b.warm).toBe(false);
    expect(isSurge(b, 1e6)).toBe(false);
    b.observe(100);
    expect(b.warm).toBe(true);
    expect(isSurge(b, 1e6)).toBe(true);
  });

  it('needs both k deviations and the minimum rise', () => {
    const flat = new EwmaBaseline({ alpha: 0.1, warmup: 3 });
    for (let i = 0; i < 10; i++) flat.observe(5);
    expect(flat.deviation).toBe(0);
    expect(flat.score(6)).toBe(Infinity);
    expect(isSurge(flat, 6)).toBe(false); // a quiet port going 5 → 6 is not a surge
    expect(isSurge(flat, 15)).toBe(true);

    const noisy = new EwmaBaseline({ alpha: 0.1, warmup: 3 });
    for (let i = 0; i < 50; i++) noisy.observe(i % 2 === 0 ? 80 : 120);
    expect(noisy.threshold(rule)).toBeGreaterThan(noisy.mean + 4 * 19);
    expect(isSurge(noisy, 140)).toBe(false); // +40: above minRise, inside the noise
  });

  it('learns nothing while frozen', () => {
    const b = new EwmaBaseline({ alpha: 0.2, warmup: 1 });
    for (let i = 0; i < 5; i++) b.observe(50);
    b.freeze();
    for (let i = 0; i < 100; i++) expect(b.observe(500)).toBe(Infinity);
    expect(b.mean).toBe(50);
    expect(b.count).toBe(5);
    b.unfreeze();
    b.observe(60);
    expect(b.mean).toBe(52);
  });

  it('rejects nonsense options', () => {
    expect(() => new EwmaBaseline({ alpha: 0, warmup: 1 })).toThrow(RangeError);
    expect(() => new EwmaBaseline({ alpha: 0.1, warmup: 0 })).toThrow(RangeError);
  });
});
