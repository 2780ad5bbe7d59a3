// `npm run soak -- [flags]`: the soak's knobs, with the defaults of the full run.

import { parseArgs } from 'node:util';
import { parseDuration } from '../../agent/duration.js';
import type { FaultRates, LifeRates } from './fleet-sim.js';

export interface SoakOptions {
  nodes: number;
  minutes: number;
  intervalMs: number;
  faults: FaultRates;
  life: LifeRates;
  seed: number;
  /** Check exactness every this many rounds (and after the last). */
  checkEvery: number;
  /** Share of each interval the slots are spread over; the rest is quiet for checks. */
  window: number;
  /** Judge memory flatness only for runs at least this long (shorter ones are mostly warm-up). */
  memoryMinMinutes: number;
  /** Memory flatness bound: this many MiB of growth over the second half, or `memoryRelative` of its mean. */
  memoryMiB: number;
  memoryRelative: number;
  /** Query load while publishing (/metrics and /api/v1/summary), every this many ms; 0: none. */
  scrapeEveryMs: number;
  out: string;
  cluster: string;
}

export const USAGE = `npm run soak -- [--nodes 10000] [--minutes 30] [--interval 10s] [--loss 0.01] [--dup 0.01]
  [--reorder 0.01] [--restart 0.0005] [--leave 0.0002] [--silent 0.0002] [--seed N] [--check-every 3]
  [--window 0.8] [--scrape-every 15s] [--memory-min-minutes 10] [--memory-mib 16] [--memory-relative 0.05] [--out FILE]`;

export function parseSoakOptions(argv: string[], defaultOut: (date: string) => string): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string' },
      minutes: { type: 'string' },
      interval: { type: 'string' },
      loss: { type: 'string' },
      dup: { type: 'string' },
      reorder: { type: 'string' },
      restart: { type: 'string' },
      leave: { type: 'string' },
      silent: { type: 'string' },
      seed: { type: 'string' },
      'check-every': { type: 'string' },
      window: { type: 'string' },
      'scrape-every': { type: 'string' },
      'memory-min-minutes': { type: 'string' },
      'memory-mib': { type: 'string' },
      'memory-relative': { type: 'string' },
      out: { type: 'string' },
      cluster: { type: 'string' },
    },
  });
  const num = (name: keyof typeof values, fallback: number, min: number, max: number, integer = false): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} ${text}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  const rate = (name: keyof typeof values, fallback: number) => num(name, fallback, 0, 0.2);
  const faults = { loss: rate('loss', 0.01), dup: rate('dup', 0.01), reorder: rate('reorder', 0.01) };
  const intervalMs = values.interval === undefined ? 10_000 : parseDuration(values.interval);
  if (intervalMs < 500) throw new Error(`--interval ${values.interval}: at least 500ms`);
  return {
    nodes: num('nodes', 10_000, 1, 100_000, true),
    minutes: num('minutes', 30, 0.05, 24 * 60),
    intervalMs,
    faults,
    life: { restart: rate('restart', 0.0005), leave: rate('leave', 0.0002), silent: rate('silent', 0.0002) },
    seed: num('seed', Date.now() % 2 ** 31, 0, 2 ** 32 - 1, true),
    checkEvery: num('check-every', 3, 1, 1000, true),
    window: num('window', 0.8, 0.1, 0.95),
    memoryMinMinutes: num('memory-min-minutes', 10, 0, 24 * 60),
    memoryMiB: num('memory-mib', 16, 0, 100_000),
    memoryRelative: num('memory-relative', 0.05, 0, 1),
    scrapeEveryMs: values['scrape-every'] === undefined ? 15_000 : values['scrape-every'] === '0' ? 0 : parseDuration(values['scrape-every']),
    out: values.out ?? defaultOut(new Date().toISOString().slice(0, 16).replace(':', '')),
    cluster: values.cluster ?? 'soak',
  };
}
