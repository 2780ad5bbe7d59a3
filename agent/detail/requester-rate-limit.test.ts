import { describe, expect, it } from 'vitest';
import { RequesterRateLimit, grpcRequester, natsRequester } from './requester-rate-limit.js';

describe('RequesterRateLimit', () => {
  it('allows a burst, then one request per 1/perSecond, per requester', () => {
    const limit = new RequesterRateLimit({ perSecond: 2, burst: 3 });
    const at0 = [1, 2, 3, 4].map(() => limit.take('a', 0));
    expect(at0.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(at0[3]).toEqual({ allowed: false, retryAfterMs: 500 });
    // Another requester is not held back by a's flood.
    expect(limit.take('b', 0).allowed).toBe(true);
    expect(limit.take('a', 499).allowed).toBe(false);
    expect(limit.take('a', 1000).allowed).toBe(true);
    // Idle long: refills to the burst, not beyond.
    const later = [1, 2, 3, 4].map(() => limit.take('a', 60_000).allowed);
    expect(later).toEqual([true, true, true, false]);
  });

  it('a flood at 100/s gets exactly the sustained rate plus the burst', () => {
    const limit = new RequesterRateLimit({ perSecond: 5 });
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 10) if (limit.take('flood', t).allowed) allowed++;
    // burst 10 + 5/s over 9.99 s (49 whole tokens)
    expect(allowed).toBe(10 + 49);
  });

  it('bounds memory: past maxRequesters the longest idle is forgotten', () => {
    const limit = new RequesterRateLimit({ perSecond: 1, burst: 1, maxRequesters: 3 });
    for (const who of ['a', 'b', 'c']) limit.take(who, 0);
    limit.take('a', 0); // a is now the most recent (and out of tokens)
    limit.take('d', 0); // evicts b
    expect(limit.size).toBe(3);
    expect(limit.take('a', 0).allowed).toBe(false);
    expect(limit.take('b', 0).allowed).toBe(true); // forgotten, so a fresh bucket
  });

  it('refuses nonsense settings', () => {
    expect(() => new RequesterRateLimit({ perSecond: 0 })).toThrow(RangeError);
    expect(() => new RequesterRateLimit({ perSecond: Infinity })).toThrow(RangeError);
    expect(() => new RequesterRateLimit({ perSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});

describe('requester names', () => {
  it('takes the inbox prefix of a NATS reply subject', () => {
    expect(natsRequester('_INBOX.Fx3kQ9bZ1s2c7J0mYvLpA8.12')).toBe('_INBOX.Fx3kQ9bZ1s2c7J0mYvLpA8');
    expect(natsRequester('_INBOX.Fx3kQ9bZ1s2c7J0mYvLpA8')).toBe('_INBOX.Fx3kQ9bZ1s2c7J0mYvLpA8');
    expect(natsRequester('reply')).toBe('reply');
  });

  it('takes the address of a gRPC peer without its port', () => {
    expect(grpcRequester('127.0.0.1:51234')).toBe('127.0.0.1');
    expect(grpcRequester('ipv4:10.1.2.3:443')).toBe('10.1.2.3');
    expect(grpcRequester('[::1]:51234')).toBe('::1');
    expect(grpcRequester('ipv6:[fd00::5]:80')).toBe('fd00::5');
    expect(grpcRequester('unix:/tmp/s')).toBe('unix:/tmp/s');
    expect(grpcRequester('fd00::5')).toBe('fd00::5');
  });
});
