import { describe, expect, it } from 'vitest';
import { LineTooLongError, NdjsonLines } from './ndjson-lines.js';

function splitAll(text: string, cuts: number[]): string[] {
  const bytes = Buffer.from(text);
  const lines = new NdjsonLines();
  const out: string[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    for (const line of lines.push(bytes.subarray(at, cut))) out.push(line.toString('utf8'));
    at = cut;
  }
  const last = lines.end();
  if (last) out.push(last.toString('utf8'));
  return out;
}

describe('NdjsonLines', () => {
  const text = '{"a":1}\n{"b":"ümlaut €"}\n\n{"c":3}\n';

  it('gives the same lines wherever the chunks are cut', () => {
    const whole = splitAll(text, []);
    expect(whole).toEqual(['{"a":1}', '{"b":"ümlaut €"}', '', '{"c":3}']);
    const bytes = Buffer.byteLength(text);
    for (let a = 0; a <= bytes; a++) {
      for (let b = a; b <= bytes; b += 3) expect(splitAll(text, [a, b])).toEqual(whole);
    }
  });

  it('one byte at a time, including inside multi-byte characters', () => {
    const cuts = Array.from({ length: Buffer.byteLength(text) }, (_, i) => i);
    expect(splitAll(text, cuts)).toEqual(['{"a":1}', '{"b":"ümlaut €"}', '', '{"c":3}']);
  });

  it('returns an unterminated last line at end()', () => {
    expect(splitAll('{"a":1}\n{"b":2}', [3, 9])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('joins a large line from many chunks', () => {
    const big = JSON.stringify({ blob: 'x'.repeat(3_000_000) });
    const bytes = Buffer.from(`${big}\n{"after":1}\n`);
    const lines = new NdjsonLines();
    const out: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) out.push(...lines.push(bytes.subarray(at, at + 65_536)));
    expect(out.map((l) => l.length)).toEqual([big.length, 11]);
    expect(out[0]?.toString()).toBe(big);
  });

  it('refuses a line past the cap, then carries on with the next chunk', () => {
    const lines = new NdjsonLines(10);
    expect(() => lines.push(Buffer.from('0123456789abc'))).toThrow(LineTooLongError);
    expect(lines.push(Buffer.from('ok\n')).map(String)).toEqual(['ok']);
    lines.push(Buffer.from('01234'));
    expect(() => lines.push(Buffer.from('56789ab\n'))).toThrow(LineTooLongError);
  });
});
