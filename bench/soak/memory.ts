// Memory over time: resident set size from /proc/<pid>/status (and CPU time from /proc/<pid>/stat),
// and whether a series is flat
// (least-squares slope over the second half of the run, projected over that half).

import { readFileSync } from 'node:fs';

export interface MemoryPoint {
  /** Seconds since the soak started. */
  t: number;
  bytes: number;
}

export interface Flatness {
  samples: number;
  firstHalfMeanMiB: number;
  secondHalfMeanMiB: number;
  /** Least-squares slope over the second half. */
  slopeMiBPerHour: number;
  /** The slope times the second half's length: how much it grew while it should be flat. */
  secondHalfGrowthMiB: number;
  boundMiB: number;
  /** Judged on at least 3 samples in the second half; otherwise false. */
  flat: boolean;
  secondHalfSamples: number;
}

const MiB = 2 ** 20;

/** VmRSS of a process in bytes; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th (clock ticks, 100 Hz).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Flat when the second half grew by less than the bound: `absMiB`, or `relative` of its mean
 * when that is larger (a bigger process may breathe more in absolute terms).
 */
export function flatness(points: readonly MemoryPoint[], absMiB: number, relative: number): Flatness {
  const end = points.at(-1)?.t ?? 0;
  const first = points.filter((p) => p.t < end / 2);
  const second = points.filter((p) => p.t >= end / 2);
  const mean = (ps: readonly MemoryPoint[]) => ps.reduce((s, p) => s + p.bytes, 0) / Math.max(1, ps.length) / MiB;
  const slopePerSecond = slope(second) / MiB;
  const span = second.length > 1 ? second.at(-1)!.t - second[0]!.t : 0;
  const secondMean = mean(second);
  const boundMiB = Math.max(absMiB, relative * secondMean);
  const growth = slopePerSecond * span;
  return {
    samples: points.length,
    firstHalfMeanMiB: round1(mean(first)),
    secondHalfMeanMiB: round1(secondMean),
    slopeMiBPerHour: round1(slopePerSecond * 3600),
    secondHalfGrowthMiB: round1(growth),
    boundMiB: round1(boundMiB),
    flat: second.length >= 3 && growth <= boundMiB,
    secondHalfSamples: second.length,
  };
}

/** Least-squares slope in bytes per second (0 with fewer than two points). */
export function slope(points: readonly MemoryPoint[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mb = points.reduce((s, p) => s + p.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.bytes - mb);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
