import { describe, expect, it } from 'vitest';
import { TopRemotes } from './top-remotes.js';

describe('TopRemotes', () => {
  it('is exact while distinct addresses fit', () => {
    const top = new TopRemotes(8);
    for (const a of ['a', 'b', 'a', 'c', 'a', 'b']) top.add(a);
    expect(top.top(2)).toEqual([
      { address: 'a', count: 3 },
      { address: 'b', count: 2 },
    ]);
    expect(top.total).toBe(6);
  });

  it('keeps a heavy hitter among many one-off clients, in bounded memory', () => {
    const top = new TopRemotes(16);
    for (let i = 0; i < 10_000; i++) {
      top.add(`10.0.${i >> 8}.${i & 255}`);
      if (i % 10 === 0) top.add('198.18.0.66');
    }
    const [first] = top.top(1);
    expect(first?.address).toBe('198.18.0.66');
    expect(first?.count).toBeGreaterThanOrEqual(1000);
    expect(top.top(100).length).toBeLessThanOrEqual(16);
  });
});
