// Fuzz: the value parsers behind flags and query strings (durations, port lists, host:port,
// NATS URLs, netns mode, counts, the history API's query strings). Each returns a value in its documented range or throws an
// Error that says what is wrong; generated valid text parses to what was meant.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../agent/duration.js';
import { AddressError, formatHostPort, parseHostPort } from '../../agent/grpc/host-port.js';
import { parsePortList } from '../../agent/snapshot/http-ports.js';
import { parseListenAddress, parseNatsUrls, parseTargetAddress } from '../../cli/address-options.js';
import { parseNetns } from '../../cli/agent-options.js';
import { parsePositive } from '../../cli/commands/up.js';
import { QueryParamError, reportQueryOf, seriesQueryOf } from '../../collector/api/history-params.js';
import { FUZZ_TIMEOUT_MS, fuzz, guarded, printFigures } from './fuzz-run.js';

/** The value, or the Error it threw; anything thrown that is not an Error fails the property. */
function outcome<T>(parse: () => T): T | Error {
  try {
    return guarded(parse);
  } catch (error) {
    if (!(error instanceof Error)) throw new Error(`threw a non-Error: ${String(error)}`);
    if (/hang guard/.test(error.message)) throw error;
    return error;
  }
}

const near = (alphabet: string, maxLength = 24): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...alphabet), maxLength }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) });

afterAll(printFigures);

describe('durations', () => {
  const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

  it('any text: a whole number of ms that is safe to add and compare, or an "invalid duration" Error', () => {
    fuzz('duration text', [fc.oneof(near('0123456789.msdh '), fc.stringMatching(/^\d{1,400}(ms|s|m|h|d)$/))], (text) => {
      const ms = outcome(() => parseDuration(text));
      if (ms instanceof Error) expect(ms.message).toMatch(/duration/);
      else expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);

  it('generated durations parse to the sum of their parts', () => {
    const part = fc.tuple(fc.nat({ max: 100_000 }), fc.constantFrom(...(Object.keys(UNIT_MS) as (keyof typeof UNIT_MS)[])));
    fuzz('duration parts', [fc.array(part, { minLength: 1, maxLength: 5 })], (parts) => {
      const text = parts.map(([n, unit]) => `${n}${unit}`).join('');
      expect(guarded(() => parseDuration(text))).toBe(parts.reduce((sum, [n, unit]) => sum + n * UNIT_MS[unit], 0));
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('HTTP port lists', () => {
  it('any text: a sorted, unique list of ports 1-65535, or an Error', () => {
    fuzz('port list text', [near('0123456789,- ', 40)], (text) => {
      const ports = outcome(() => parsePortList(text));
      if (ports instanceof Error) return;
      expect(ports.length).toBeGreaterThan(0);
      expect(ports.every((p, i) => Number.isInteger(p) && p >= 1 && p <= 65535 && (i === 0 || p > ports[i - 1]!))).toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);

  it('generated lists of ports and ranges parse to exactly their ports', () => {
    const entry = fc.oneof(
      fc.integer({ min: 1, max: 65535 }).map((p) => [p, p] as const),
      fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.nat({ max: 600 })).filter(([low, width]) => low + width <= 65535).map(([low, width]) => [low, low + width] as const),
    );
    fuzz('port list parts', [fc.array(entry, { minLength: 1, maxLength: 6 })], (entries) => {
      const text = entries.map(([low, high]) => (low === high ? `${low}` : ` ${low}-${high}`)).join(',');
      const expected = new Set<number>();
      for (const [low, high] of entries) for (let p = low; p <= high; p++) expected.add(p);
      expect(guarded(() => parsePortList(text))).toEqual([...expected].sort((a, b) => a - b));
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('addresses', () => {
  const hostPortText = fc.oneof(
    near('abz019.-_:[]', 30),
    fc.tuple(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((a) => `[${a}]`)), fc.nat({ max: 99_999 })).map(([h, p]) => `${h}:${p}`),
  );

  it('host:port: a host and a port in range that format back to an equal address, or an AddressError', () => {
    fuzz('host port', [hostPortText, fc.boolean()], (text, forListening) => {
      const parsed = outcome(() => parseHostPort(text, { forListening }));
      if (parsed instanceof Error) {
        expect(parsed).toBeInstanceOf(AddressError);
        return;
      }
      expect(parsed.port).toBeGreaterThanOrEqual(forListening ? 0 : 1);
      expect(parsed.port).toBeLessThanOrEqual(65535);
      expect(parseHostPort(formatHostPort(parsed.host, parsed.port), { forListening })).toEqual(parsed);
      expect(parseListenAddress(text)).toEqual(parsed);
      if (parsed.port > 0) expect(parseTargetAddress(text)).toBe(text);
    });
  }, FUZZ_TIMEOUT_MS);

  it('NATS URL lists, netns mode and positive counts: the text back, or an Error', () => {
    fuzz('flag values', [fc.oneof(near('nats:/tlsw1.,[]:0 ', 40), fc.webUrl(), fc.constantFrom('all', 'self'))], (text) => {
      const urls = outcome(() => parseNatsUrls(text));
      if (!(urls instanceof Error)) expect(text.split(',').every((u) => /^(nats|tls|ws|wss):\/\/\S+$/.test(u.trim()))).toBe(true);
      const netns = outcome(() => parseNetns(text));
      if (!(netns instanceof Error)) expect(['all', 'self']).toContain(netns);
      const count = outcome(() => parsePositive(text));
      if (!(count instanceof Error)) expect(Number.isSafeInteger(count) && count >= 1).toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('history API query strings', () => {
  const value = fc.oneof(near('0123456789.msdhe-+ ', 16), fc.constantFrom('', 'node', 'port', 'pod', 'workload', '1d', 'NaN', 'Infinity', '1e400'));
  const query = fc.dictionary(fc.constantFrom('from', 'to', 'step', 'port', 'node', 'state', 'by', 'since', 'limit', 'limitValue', 'x'), value, { maxKeys: 6 }).map((d) => new URLSearchParams(d));

  it('/api/v1/series and /api/v1/report parameters: a query of finite numbers, or a QueryParamError', () => {
    fuzz('query strings', [query], (params) => {
      const series = outcome(() => seriesQueryOf(params, 1_700_000_000_000));
      if (series instanceof Error) expect(series).toBeInstanceOf(QueryParamError);
      else expect([series.from, series.to, series.stepMs].every(Number.isFinite)).toBe(true);
      const report = outcome(() => reportQueryOf(params));
      if (report instanceof Error) expect(report).toBeInstanceOf(QueryParamError);
      else expect(Number.isSafeInteger(report.since) && ['node', 'port', 'pod', 'workload'].includes(report.by)).toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);
});
