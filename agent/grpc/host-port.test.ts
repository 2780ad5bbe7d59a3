import { describe, expect, it } from 'vitest';
import { JitteredBackoff, validateBackoff } from '../publish/jittered-backoff.js';
import { AddressError, formatHostPort, parseHostPort } from './host-port.js';

describe('parseHostPort', () => {
  it('accepts names, IPv4 and bracketed IPv6', () => {
    expect(parseHostPort('collector.fleetstat.svc:7070')).toEqual({ host: 'collector.fleetstat.svc', port: 7070 });
    expect(parseHostPort('10.0.0.1:1')).toEqual({ host: '10.0.0.1', port: 1 });
    expect(parseHostPort('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
    expect(parseHostPort('0.0.0.0:0', { forListening: true })).toEqual({ host: '0.0.0.0', port: 0 });
    expect(formatHostPort('::1', 7070)).toBe('[::1]:7070');
    expect(formatHostPort('a', 7070)).toBe('a:7070');
  });

  it.each(['collector', ':7070', 'collector:', 'a:0', 'a:65536', '::1:7070', '[::1', '[nope]:1', 'a b:1', '-a:1', 'a..b:1', 'http://a:1'])(
    'refuses %j',
    (address) => {
      expect(() => parseHostPort(address)).toThrow(AddressError);
    },
  );

  it('tells how to write IPv6', () => {
    expect(() => parseHostPort('::1:7070')).toThrow(/brackets/);
  });
});

describe('JitteredBackoff', () => {
  it('grows to the cap with jitter in [ceiling/2, ceiling], and resets', () => {
    const low = new JitteredBackoff({ initialMs: 100, maxMs: 1000, multiplier: 2 }, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    low.reset();
    expect(low.next()).toBe(50);
    const high = new JitteredBackoff({ initialMs: 100, maxMs: 1000, multiplier: 2 }, () => 1);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
  });

  it('refuses options that cannot work', () => {
    expect(() => validateBackoff({ initialMs: 0, maxMs: 1, multiplier: 2 })).toThrow();
    expect(() => validateBackoff({ initialMs: 10, maxMs: 5, multiplier: 2 })).toThrow();
    expect(() => validateBackoff({ initialMs: 10, maxMs: 50, multiplier: 0.5 })).toThrow();
  });
});
