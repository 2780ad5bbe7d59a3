// Bench part 3a: the history database's bytes per node per day. Simulated nodes (history-model.ts)
// report every 10 s for 30 days through the store's real write path (recordSample, flush, seal),
// time compressed through the store's clock; SQLite's dbstat then gives the bytes each table
// holds. Bytes per node per day do not depend on the node count (each node's series are stored
// apart; only the cluster-wide series are shared, and their share shrinks as nodes are added),
// so a few nodes give the figure for 10,000.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore } from '../collector/history/history-store.js';
import { DEFAULT_RETENTION } from '../collector/history/retention.js';
import { DAY_MS, fleetSeries, makeRandom, pointsAt } from './history-model.js';
import { nowMs } from './lib/stats.js';

const FLUSH_EVERY_MS = 600_000;

export interface DiskResult {
  nodes: number;
  seriesPerNode: number;
  clusterSeries: number;
  days: number;
  intervalMs: number;
  samples: number;
  seconds: number;
  /** Bytes per table (dbstat: pages in use) after the run, before any retention. */
  tableBytes: Record<string, number>;
  fileBytes: number;
  /** Per node per day: all tables, and the growing ones apart. */
  perNodeDay: { total: number; minutePacked: number; minuteRows: number; hourPacked: number; hour: number; dayPeak: number; series: number };
  /** All tables per series per day, and so per node at 10,000 nodes (its 8 series; the cluster's share vanishes). */
  perSeriesDay: number;
  atFleetScalePerNodeDay: number;
  /** Per node once retention holds (default 14 d of minutes, 730 d of hours). */
  steadyPerNode: number;
  /** After pruning at day `days` with default retention. */
  afterPrune: { tableBytes: Record<string, number>; perNode: number };
}

function tableBytes(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.bytes]));
  } finally {
    db.close();
  }
}

export function measureDisk(options: { nodes: number; days: number; intervalMs: number; progress: (text: string) => void }): DiskResult {
  const { nodes, days, intervalMs } = options;
  const random = makeRandom(42);
  const fleet = fleetSeries(nodes, random);
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-disk-'));
  try {
    const start = Date.UTC(2024, 0, 1);
    const clock = { now: start };
    // Timers off: the loop flushes and seals every 10 simulated minutes (the collector flushes
    // every 5 s: the same rows, in fewer transactions, so a 30-day run takes about a minute).
    const store = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0, flushPoints: 1e9 });
    const began = nowMs();
    let samples = 0;
    for (let t = start; t < start + days * DAY_MS; t += intervalMs) {
      clock.now = t;
      store.recordSample(t, pointsAt(fleet, t, start, random));
      samples++;
      if ((t + intervalMs) % FLUSH_EVERY_MS < intervalMs) store.flushAndSeal();
      if (t % DAY_MS === 0 && t > start) options.progress(`  3a: day ${(t - start) / DAY_MS} of ${days}`);
    }
    const seconds = (nowMs() - began) / 1000;
    const clusterSeries = (store.database.prepare("SELECT count(*) AS n FROM series WHERE node = '*'").get() as { n: number }).n;
    store.close();
    const path = join(dir, 'history.db');
    const bytes = tableBytes(path);
    const fileBytes = statSync(path).size;
    const get = (name: string): number => bytes[name] ?? 0;
    const per = (b: number): number => b / nodes / days;
    const minutePacked = get('rollup_minute_packed');
    const hourPacked = get('rollup_hour_packed');
    const hour = get('rollup_hour');
    const dayPeak = get('rollup_day_peak') + get('rollup_day_peak_rank');
    const seriesBytes = get('series') + get('sqlite_autoindex_series_1');
    const total = Object.values(bytes).reduce((a, b) => a + b, 0);
    // Steady state: 14 days of packed minutes, 730 of packed hours and day peaks; the recent
    // minute and hour rows (the open day's hours: every earlier day is sealed), the series and
    // the schema stay as they are.
    const fixed = total - minutePacked - hourPacked - dayPeak;
    const sealedDays = Math.max(1, days - 1);
    const steadyPerNode = (fixed + (minutePacked / days) * (DEFAULT_RETENTION.minutes / DAY_MS) +
      (hourPacked / sealedDays + dayPeak / days) * (DEFAULT_RETENTION.hours / DAY_MS)) / nodes;

    const reopened = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0 });
    reopened.prune(start + days * DAY_MS);
    reopened.close();
    const pruned = tableBytes(path);
    return {
      nodes, seriesPerNode: fleet.length / nodes, clusterSeries, days, intervalMs, samples, seconds,
      tableBytes: bytes, fileBytes,
      perNodeDay: { total: per(total), minutePacked: per(minutePacked), minuteRows: per(get('rollup_minute') + get('rollup_minute_frame')), hourPacked: per(hourPacked), hour: per(hour), dayPeak: per(dayPeak), series: per(seriesBytes) },
      perSeriesDay: total / (fleet.length + clusterSeries) / days,
      atFleetScalePerNodeDay: (total / (fleet.length + clusterSeries) / days) * (fleet.length / nodes),
      steadyPerNode,
      afterPrune: { tableBytes: pruned, perNode: Object.values(pruned).reduce((a, b) => a + b, 0) / nodes },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
