// The simulated fleet of the history benchmark: 8 series per node (inbound :80 by TCP state),
// ESTABLISHED in the hundreds, TIME_WAIT in the thousands, SYN_RECV and the closing states near
// zero (often exactly zero, which a series then drops to and back from). Each value is a daily
// wave (0.5x to 1.5x), a slow growth, and ±10% noise (±2 more for the small ones).
// Deterministic (mulberry32), so runs compare.

import { connectionKey } from '../agent/snapshot/connection-key.js';
import type { CountGroup } from '../collector/history/count-batch.js';
import type { SamplePoint } from '../collector/history/series-key.js';
import { Direction } from '../proto/gen/fleetstat/v1/snapshot.js';

export const DAY_MS = 86_400_000;
export const STATES = ['ESTABLISHED', 'TIME_WAIT', 'SYN_RECV', 'CLOSE_WAIT', 'FIN_WAIT2', 'LAST_ACK', 'FIN_WAIT1', 'CLOSING'];
/** /proc state codes of STATES (ESTABLISHED 1, SYN_RECV 3, FIN_WAIT1 4, FIN_WAIT2 5, TIME_WAIT 6, CLOSE_WAIT 8, LAST_ACK 9, CLOSING 11). */
export const STATE_CODES = [1, 6, 3, 8, 5, 9, 4, 11];
const BASE = [400, 2000, 3, 5, 8, 1, 2, 0];
/** Growth of every series over 30 days (a trend for the report to find). */
const GROWTH_PER_DAY = 0.01;

export function makeRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ModelSeries {
  node: string;
  /** Index into STATES / STATE_CODES. */
  state: number;
  base: number;
}

export function fleetSeries(nodes: number, random: () => number): ModelSeries[] {
  const series: ModelSeries[] = [];
  for (let n = 0; n < nodes; n++) {
    for (let s = 0; s < STATES.length; s++) series.push({ node: `node-${n}`, state: s, base: (BASE[s] as number) * (0.5 + random()) });
  }
  return series;
}

/** The series' value at `tMs`, `startMs` being day 0 of the simulation. */
export function valueAt(series: ModelSeries, tMs: number, startMs: number, random: () => number): number {
  const days = (tMs - startMs) / DAY_MS;
  const level = series.base * (1 + 0.5 * Math.sin(2 * Math.PI * days)) * (1 + GROWTH_PER_DAY * days);
  return Math.max(0, Math.round(level * (0.9 + 0.2 * random()) + (series.base < 10 ? random() * 4 - 2 : 0)));
}

/** The fleet's points at `tMs` as the collector records them: zero counts are absent. */
export function pointsAt(fleet: readonly ModelSeries[], tMs: number, startMs: number, random: () => number): SamplePoint[] {
  const points: SamplePoint[] = [];
  for (const s of fleet) {
    const value = valueAt(s, tMs, startMs, random);
    if (value > 0) points.push({ node: s.node, port: 80, direction: 'inbound', state: STATES[s.state] as string, value });
  }
  return points;
}

/** The same, as the collector hands them to history: per node, counts by connection key (inbound :80). */
export function countGroupsAt(fleet: readonly ModelSeries[], tMs: number, startMs: number, random: () => number): CountGroup[] {
  const groups = new Map<string, Map<number, number>>();
  for (const s of fleet) {
    const value = valueAt(s, tMs, startMs, random);
    let counts = groups.get(s.node);
    if (!counts) groups.set(s.node, (counts = new Map()));
    if (value > 0) counts.set(connectionKey(80, Direction.DIRECTION_INBOUND, STATE_CODES[s.state] as number), value);
  }
  return [...groups].map(([node, counts]) => ({ node, counts }));
}
