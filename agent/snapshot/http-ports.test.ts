import { describe, expect, it } from 'vitest';
import { parsePortList } from './http-ports.js';

describe('parsePortList', () => {
  it('reads lists and ranges, sorted and without repeats', () => {
    expect(parsePortList('8080,80,443')).toEqual([80, 443, 8080]);
    expect(parsePortList('8000-8002, 80,8001')).toEqual([80, 8000, 8001, 8002]);
  });

  it('rejects bad ports with the part that is wrong', () => {
    expect(() => parsePortList('80,http')).toThrow(/"http"/);
    expect(() => parsePortList('0')).toThrow(/"0"/);
    expect(() => parsePortList('65536')).toThrow(/"65536"/);
    expect(() => parsePortList('90-80')).toThrow(/"90-80"/);
    expect(() => parsePortList('1-65535')).toThrow(/wider/);
    expect(() => parsePortList(',')).toThrow(/no HTTP ports/);
  });
});
