// Measures the history database's bytes per series per day: simulated nodes report at a fixed
// interval for some days (time compressed through the store's clock), then SQLite's dbstat
// gives the bytes each table holds.
//
//   npx tsx bench/history-disk.ts [--nodes 100] [--series 8] [--days 2] [--interval 10]

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { HistoryStore } from '../collector/history/history-store.js';
import type { SamplePoint } from '../collector/history/series-key.js';

const DAY_MS = 86_400_000;
const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    series: { type: 'string', default: '8' },
    days: { type: 'string', default: '2' },
    interval: { type: 'string', default: '10' },
  },
});
const nodes = Number(values.nodes);
const seriesPerNode = Number(values.series);
const days = Number(values.days);
const intervalMs = Number(values.interval) * 1000;

// Deterministic (mulberry32), so runs compare.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// Realistic mixes: ESTABLISHED in the hundreds, TIME_WAIT in the thousands, SYN_RECV and the
// closing states near zero (often exactly zero, which a series then drops to and back).
const STATES = ['ESTABLISHED', 'TIME_WAIT', 'SYN_RECV', 'CLOSE_WAIT', 'FIN_WAIT2', 'LAST_ACK', 'FIN_WAIT1', 'CLOSING'];
const BASE = [400, 2000, 3, 5, 8, 1, 2, 0];
const points: Array<SamplePoint & { base: number }> = [];
for (let n = 0; n < nodes; n++) {
  for (let s = 0; s < seriesPerNode; s++) {
    const port = s < STATES.length ? 80 : 443;
    const state = STATES[s % STATES.length] as string;
    const base = (BASE[s % BASE.length] as number) * (0.5 + random());
    points.push({ node: `node-${n}`, port, direction: 'inbound', state, value: Math.round(base), base });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-disk-'));
const start = Date.UTC(2024, 0, 1);
const clock = { now: start };
const store = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0, flushPoints: 200_000 });
const began = performance.now();
let samples = 0;
for (let t = start; t < start + days * DAY_MS; t += intervalMs) {
  clock.now = t;
  for (const p of points) {
    // A daily wave plus noise; small series hit 0 and come back.
    const wave = 1 + 0.5 * Math.sin((2 * Math.PI * (t - start)) / DAY_MS);
    p.value = Math.max(0, Math.round(p.base * wave * (0.9 + 0.2 * random()) + (p.base < 10 ? random() * 4 - 2 : 0)));
  }
  store.recordSample(t, points.filter((p) => p.value > 0)); // absent = dropped to zero, as the collector sends it
  samples++;
}
store.close();
const seconds = (performance.now() - began) / 1000;

const db = new Database(join(dir, 'history.db'), { readonly: true });
const byTable = new Map((db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>)
  .map((r) => [r.name, r.bytes]));
const counts = db.prepare(`SELECT (SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM rollup_minute) AS minutes,
  (SELECT COUNT(*) FROM rollup_hour) AS hours`).get() as { series: number; minutes: number; hours: number };
db.close();
const fileBytes = statSync(join(dir, 'history.db')).size;
rmSync(dir, { recursive: true, force: true });

const seriesDays = counts.series * days;
const minuteBytes = byTable.get('rollup_minute') ?? 0;
const hourBytes = byTable.get('rollup_hour') ?? 0;
const perSeriesDay = { minute: minuteBytes / seriesDays, hour: hourBytes / seriesDays };
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`${nodes} nodes x ${seriesPerNode} series (+${counts.series - nodes * seriesPerNode} cluster-wide), ${days} days at ${intervalMs / 1000} s: ${samples} samples in ${seconds.toFixed(1)} s`);
console.log(`rows: ${counts.minutes} minute (${(minuteBytes / counts.minutes).toFixed(1)} B/row), ${counts.hours} hour (${(hourBytes / counts.hours).toFixed(1)} B/row); file ${kb(fileBytes)}`);
console.log(`per series per day: ${kb(perSeriesDay.minute + perSeriesDay.hour)} (minute rows ${kb(perSeriesDay.minute)}, hour rows ${kb(perSeriesDay.hour)})`);
console.log(`per node per day (its ${seriesPerNode} series + its share of the cluster's): ${kb((fileBytes / days) / nodes)}`);
console.log(`steady state per series at 14 d of minutes + 730 d of hours: ${kb(perSeriesDay.minute * 14 + perSeriesDay.hour * 730)}`);
