// Capacity figures over a series' steps (rollup rows, or query steps merged from them). Pure
// functions: no clock, no database.
//
// Definitions (one "step value" throughout, so p95, trend and time-to-limit agree):
// - step value: the step's max. Capacity is about the busiest moments, and a step's max is exact
//   (samples themselves are not kept, so a per-sample p95 cannot be recovered from rollups);
// - peak: the largest sample in the range (max of the step maxima);
// - p95: nearest-rank 95th percentile of the step values: the smallest step value that at least
//   95% of steps do not exceed. It depends on the step (over hourly maxima it is at least the one
//   over minute maxima), so a report states its resolution;
// - avg: mean of all samples (sum of sums over sum of counts), not a mean of step means;
// - last: the last sample of the last step;
// - trend: least-squares slope of step value against step start time, in units per day;
// - time to limit: from `nowMs` until the fitted line reaches the limit, in ms: 0 when the last
//   step already reached it, Infinity when the trend is flat or falling, undefined without a trend.

export interface Step {
  /** Step start, ms since the epoch. */
  t: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

export interface Trend {
  /** Change of the step value per day. */
  slopePerDay: number;
  /** The fitted line passes through (meanT, meanValue). */
  meanT: number;
  meanValue: number;
}

export interface CapacityStats {
  peak: number;
  p95: number;
  avg: number;
  last: number;
  /** Slope per day; null with fewer than two steps. */
  trend: number | null;
  /** See timeToLimit; null when no limit was given or there is no trend. */
  timeToLimit: number | null;
  steps: number;
  samples: number;
}

const DAY_MS = 86_400_000;

export function peak(steps: readonly Step[]): number | undefined {
  if (steps.length === 0) return undefined;
  let best = -Infinity;
  for (const s of steps) if (s.max > best) best = s.max;
  return best;
}

/** Nearest-rank percentile (p in (0, 100]) of `values`; integer p keeps the rank exact. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  return kthSmallest(Float64Array.from(values), values.length, nearestRank(p, values.length));
}

/** Step maxima of the series p95 is working on (reused: a report computes it for every series). */
let maxima = new Float64Array(1024);

export function p95(steps: readonly Step[]): number | undefined {
  const n = steps.length;
  if (n === 0) return undefined;
  if (maxima.length < n) maxima = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) maxima[i] = (steps[i] as Step).max;
  return kthSmallest(maxima, n, nearestRank(95, n));
}

function nearestRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil((p * n) / 100)));
}

/**
 * The k-th smallest (1-based) of a[0..n), reordering a: quickselect, linear on average where a
 * sort is n log n (a report ranks 720 steps per series).
 */
export function kthSmallest(a: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[lo..j] <= pivot <= a[i..hi]; between them, pivots.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target] as number;
}

export function average(steps: readonly Step[]): number | undefined {
  let sum = 0;
  let count = 0;
  for (const s of steps) {
    sum += s.sum;
    count += s.count;
  }
  return count === 0 ? undefined : sum / count;
}

export function last(steps: readonly Step[]): number | undefined {
  return steps.at(-1)?.last;
}

export function trend(steps: readonly Step[]): Trend | undefined {
  const n = steps.length;
  if (n < 2) return undefined;
  // Times relative to the first step and centred on their mean: epoch-sized milliseconds
  // squared would lose the digits that matter.
  const t0 = (steps[0] as Step).t;
  let meanX = 0;
  let meanValue = 0;
  for (const s of steps) {
    meanX += (s.t - t0) / DAY_MS;
    meanValue += s.max;
  }
  meanX /= n;
  meanValue /= n;
  let sxy = 0;
  let sxx = 0;
  for (const s of steps) {
    const dx = (s.t - t0) / DAY_MS - meanX;
    sxy += dx * (s.max - meanValue);
    sxx += dx * dx;
  }
  if (sxx === 0) return undefined;
  return { slopePerDay: sxy / sxx, meanT: t0 + meanX * DAY_MS, meanValue };
}

/** The fitted step value at time `tMs`. */
export function trendValueAt(fit: Trend, tMs: number): number {
  return fit.meanValue + (fit.slopePerDay * (tMs - fit.meanT)) / DAY_MS;
}

/** Ms from `nowMs` until the trend reaches `limit` (see the definitions above). */
export function timeToLimit(steps: readonly Step[], limit: number, nowMs: number): number | undefined {
  const lastStep = steps.at(-1);
  if (!lastStep) return undefined;
  if (lastStep.max >= limit) return 0;
  const fit = trend(steps);
  if (!fit) return undefined;
  if (fit.slopePerDay <= 0) return Infinity;
  const gap = limit - trendValueAt(fit, nowMs);
  return gap <= 0 ? 0 : (gap / fit.slopePerDay) * DAY_MS;
}

/** All figures at once; undefined for a series with no steps. */
export function capacityStats(steps: readonly Step[], options: { nowMs: number; limit?: number }): CapacityStats | undefined {
  if (steps.length === 0) return undefined;
  const fit = trend(steps);
  const toLimit = options.limit === undefined ? undefined : timeToLimit(steps, options.limit, options.nowMs);
  return {
    peak: peak(steps) as number,
    p95: p95(steps) as number,
    avg: average(steps) ?? 0,
    last: last(steps) as number,
    trend: fit ? fit.slopePerDay : null,
    timeToLimit: toLimit ?? null,
    steps: steps.length,
    samples: steps.reduce((n, s) => n + s.count, 0),
  };
}
