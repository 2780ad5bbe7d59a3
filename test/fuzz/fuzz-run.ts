// What every fuzz target shares: how many inputs (FLEETSTAT_FUZZ_RUNS: a small default for CI,
// `npm run fuzz` for the nightly 100,000), a hang guard around each call, and the figures a run
// leaves behind (runs, wall time, slowest call, peak heap) for test/fuzz/README.md.
//
// fast-check prints the seed and path of a failure; FLEETSTAT_FUZZ_SEED=<seed> replays a run.

import fc from 'fast-check';
import { performance } from 'node:perf_hooks';

export const FUZZ_RUNS = positiveEnv('FLEETSTAT_FUZZ_RUNS') ?? 2000;
const SEED = process.env['FLEETSTAT_FUZZ_SEED'];

/** One input taking longer than this is a hang (or a super-linear blow-up), not a slow machine. */
export const HANG_MS = 2000;
/** Generous: the largest inputs here are a few MB; a leak or an amplification shows up far above. */
export const HEAP_LIMIT_BYTES = 768 * 1024 * 1024;

/** Per-test timeout for a target: room for a slow machine at nightly size, not a perf assertion. */
export const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 20;

export interface TargetFigures {
  target: string;
  runs: number;
  wallMs: number;
  slowestCallMs: number;
  peakHeapMB: number;
}

const figures: TargetFigures[] = [];
let slowest = 0;
let peakHeap = 0;

/** Runs `call` under the hang guard; samples the heap now and then (memoryUsage() costs a few µs). */
export function guarded<T>(call: () => T): T {
  const start = performance.now();
  const result = call();
  const ms = performance.now() - start;
  if (ms > HANG_MS) throw new Error(`one input took ${ms.toFixed(0)} ms (hang guard ${HANG_MS} ms)`);
  if (ms > slowest) slowest = ms;
  if (Math.random() < 0.01) sampleHeap();
  return result;
}

function sampleHeap(): number {
  const used = process.memoryUsage().heapUsed;
  if (used > peakHeap) peakHeap = used;
  return used;
}

/** fc.assert with the run count and seed of this run; records the target's figures. */
export function fuzz<Ts extends [unknown, ...unknown[]]>(
  target: string,
  arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> },
  check: (...args: Ts) => void,
  runs = FUZZ_RUNS,
): void {
  slowest = 0;
  peakHeap = 0;
  const start = performance.now();
  fc.assert(fc.property(...arbitraries, check), { numRuns: runs, ...(SEED ? { seed: Number(SEED) } : {}) });
  const heap = sampleHeap();
  figures.push({ target, runs, wallMs: Math.round(performance.now() - start), slowestCallMs: Math.round(slowest), peakHeapMB: Math.round(peakHeap / 2 ** 20) });
  if (heap > HEAP_LIMIT_BYTES) throw new Error(`${target}: heap ${Math.round(heap / 2 ** 20)} MB after the run`);
}

/** The figures of this file's targets, one line each, for afterAll. */
export function printFigures(): void {
  for (const f of figures.splice(0)) {
    console.log(`fuzz ${f.target}: ${f.runs} runs, ${(f.wallMs / 1000).toFixed(1)} s, slowest call ${f.slowestCallMs} ms, peak heap ${f.peakHeapMB} MB`);
  }
}

function positiveEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${text}: expected a positive whole number`);
  return n;
}
