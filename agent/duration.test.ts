import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads the forms the CLI documents', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
  });

  it('rejects anything else with a message', () => {
    for (const bad of ['', '10', 's', '5x', '-1s', '1s ', '1 s']) {
      expect(() => parseDuration(bad)).toThrow(/invalid duration/);
    }
  });

  // Regression (fuzzing): "6000000000h" was 2.16e16 ms, past exact integers, and 400 digits were Infinity.
  it('rejects a duration past 2^53 ms rather than returning an inexact or infinite one', () => {
    expect(parseDuration('2000000000h')).toBe(7_200_000_000_000_000);
    expect(() => parseDuration('6000000000h')).toThrow(/duration "6000000000h" is too long/);
    expect(() => parseDuration(`${'9'.repeat(400)}s`)).toThrow(/is too long/);
  });
});
