// Medians and bounded timing loops. Every loop here has a fixed upper bound on iterations.

export interface Timing {
  /** Milliseconds, in run order. */
  runs: number[];
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function timingOf(runs: readonly number[]): Timing {
  return { runs: [...runs], median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface LoopBounds {
  warmup: number;
  /** Measured iterations at least (unless maxIterations is lower)... */
  minIterations: number;
  /** ...and at most; the loop stops between the two once budgetMs is spent. */
  maxIterations: number;
  budgetMs: number;
}

/** Time `fn` (synchronous) after warm-up runs; returns milliseconds per run. */
export function timeSync(bounds: LoopBounds, fn: () => void): Timing {
  for (let i = 0; i < bounds.warmup; i++) fn();
  const runs: number[] = [];
  const started = nowMs();
  for (let i = 0; i < bounds.maxIterations; i++) {
    const t0 = nowMs();
    fn();
    runs.push(nowMs() - t0);
    if (runs.length >= bounds.minIterations && nowMs() - started > bounds.budgetMs) break;
  }
  return timingOf(runs);
}

export async function timeAsync(bounds: LoopBounds, fn: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < bounds.warmup; i++) await fn();
  const runs: number[] = [];
  const started = nowMs();
  for (let i = 0; i < bounds.maxIterations; i++) {
    const t0 = nowMs();
    await fn();
    runs.push(nowMs() - t0);
    if (runs.length >= bounds.minIterations && nowMs() - started > bounds.budgetMs) break;
  }
  return timingOf(runs);
}

/** a / b rounded for tables and JSON. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 1000) / 1000;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
