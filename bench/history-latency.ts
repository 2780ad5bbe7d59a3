// Bench part 3c: report latency over a database holding 10,000 nodes x 30 days. Feeding that
// many samples (10,000 x 8 series x 259,200 samples) would take hours, so the database is built
// by bulk inserts into the store's own tables, as the store would hold it at the end of the last
// day: hour cells from a synthetic model (per series a level from history-model.ts, a daily
// triangle wave, 1% growth a day, ±10% noise from an integer hash), packed into one blob per
// series and finished day with the sealer's encoder (sealing 56 million rows through the store
// would take many minutes), the last day's as hour rows, and the day-peak index by the writer's
// rule (largest hour max per series and day, kind from reportKindOf). Queries then run as the
// collector's API runs them: through its history thread (history-thread.ts), whose worker opens
// the file and answers with the real query code (queryReport, querySeries), the answer copied
// back to this thread; repeated for p50 and p99.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../collector/history/capacity.js';
import { HistoryStore } from '../collector/history/history-store.js';
import { pino } from 'pino';
import type { PackedCell } from '../collector/history/packed-minutes.js';
import { encodeMinutes } from '../collector/history/packed-minutes.js';
import { HistoryThread } from '../collector/history/history-thread.js';
import type { ReportQuery, SeriesQuery } from '../collector/history/queries.js';
import { reportKindOf } from '../collector/history/report-kind.js';
import { CLUSTER_NODE } from '../collector/history/series-key.js';
import { DAY_MS, fleetSeries, makeRandom, STATES } from './history-model.js';
import { nowMs } from './lib/stats.js';

const HOUR_MS = 3_600_000;

export interface LatencyRow {
  id: string;
  what: string;
  runs: number;
  p50: number;
  p99: number;
  max: number;
  /** Rows the query returned and series it read (approximate for top N: candidates evaluated are not exposed). */
  rows: number;
}

export interface LatencyResult {
  nodes: number;
  days: number;
  series: number;
  hourRows: number;
  /** Blobs of sealed days (one per series and finished day). */
  packedDays: number;
  dayPeakRows: number;
  fileBytes: number;
  buildSeconds: number;
  queries: LatencyRow[];
}

/** A built series: its row id, level and report kind (undefined: not ranked). */
interface BuiltSeries {
  id: number;
  base: number;
  kind: number | undefined;
}

/** value = base x (1 + 0.5 x triangle wave over the day) x (1 + 1% a day) x (0.9 .. 1.1 noise), as an hour cell of 360 samples. */
function hourCell(s: BuiltSeries, hour: number, firstHour: number): PackedCell {
  const v = s.base * (0.5 + Math.abs((hour % 24) - 12) / 12) * (1 + (0.01 * (hour - firstHour)) / 24) *
    (0.9 + 0.2 * (((s.id * 2654435761 + hour * 40503) % 1000) / 1000));
  const level = Math.trunc(v);
  return { slot: hour % 24, min: Math.trunc(v * 0.8), max: Math.trunc(v * 1.2) + 1, sum: level * 360, count: 360, last: level };
}

function build(db: HistoryStore['database'], nodes: number, workloads: number, firstHour: number, hours: number, progress: (t: string) => void): { series: number } {
  const random = makeRandom(11);
  const fleet = fleetSeries(nodes, random);
  const insertSeries = db.prepare('INSERT INTO series (node, port, direction, state, namespace, pod, workload, last_hour) VALUES (?, 80, ?, ?, ?, \'\', ?, ?)');
  const lastHour = firstHour + hours - 1;
  const clusterBase = new Array<number>(STATES.length).fill(0);
  const built: BuiltSeries[] = [];
  db.transaction(() => {
    const add = (node: string, state: string, namespace: string, workload: string, base: number): void => {
      const id = Number(insertSeries.run(node, 'inbound', state, namespace, workload, lastHour).lastInsertRowid);
      built.push({ id, base, kind: reportKindOf({ node, port: 80, direction: 'inbound', state, namespace, pod: '', workload }) });
    };
    for (const s of fleet) {
      add(s.node, STATES[s.state] as string, '', '', s.base);
      clusterBase[s.state] = (clusterBase[s.state] as number) + s.base;
    }
    STATES.forEach((state, i) => add(CLUSTER_NODE, state, '', '', clusterBase[i] as number));
    for (let w = 0; w < workloads; w++) add(CLUSTER_NODE, 'ESTABLISHED', `ns-${w % 20}`, `Deployment/app-${w}`, 50 + 450 * random());
  })();
  const insertHour = db.prepare(`INSERT INTO rollup_hour (bucket, series_id, min_value, max_value, sum_value, samples, last_value)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const insertPacked = db.prepare('INSERT INTO rollup_hour_packed (day, series_id, hours, cells) VALUES (?, ?, ?, ?)');
  const insertPeak = db.prepare('INSERT INTO rollup_day_peak (day, series_id, kind, max_value) VALUES (?, ?, ?, ?)');
  // What the store holds at the end of the last day: finished days sealed into one blob per series
  // (row-sealer.ts), the last day's hours still rows, and each day's peak by the writer's rule
  // (largest hour max per series and day).
  const firstDay = Math.floor(firstHour / 24);
  const lastDay = Math.floor(lastHour / 24);
  for (let day = firstDay; day <= lastDay; day++) {
    const from = Math.max(firstHour, day * 24);
    const to = Math.min(lastHour, day * 24 + 23);
    db.transaction(() => {
      for (const s of built) {
        const cells: PackedCell[] = [];
        for (let h = from; h <= to; h++) cells.push(hourCell(s, h, firstHour));
        if (day === lastDay) for (const c of cells) insertHour.run(day * 24 + c.slot, s.id, c.min, c.max, c.sum, c.count, c.last);
        else insertPacked.run(day, s.id, cells.length, encodeMinutes(cells));
        if (s.kind !== undefined) insertPeak.run(day, s.id, s.kind, Math.max(...cells.map((c) => c.max)));
      }
    })();
    progress(`  3c: day ${day - firstDay + 1} of ${lastDay - firstDay + 1} written`);
  }
  return { series: built.length };
}

async function timeQuery(id: string, what: string, maxRuns: number, budgetMs: number, run: () => Promise<number>, minRuns = 5): Promise<LatencyRow> {
  await run(); // warm-up: statements prepared, pages cached
  const times: number[] = [];
  let rows = 0;
  const started = nowMs();
  while (times.length < maxRuns && (times.length < minRuns || nowMs() - started < budgetMs)) {
    const t0 = nowMs();
    rows = await run();
    times.push(nowMs() - t0);
  }
  return { id, what, runs: times.length, p50: percentile(times, 50) as number, p99: percentile(times, 99) as number, max: Math.max(...times), rows };
}

export async function measureLatency(options: { nodes: number; days: number; workloads: number; progress: (text: string) => void }): Promise<LatencyResult> {
  const { nodes, days, workloads } = options;
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-latency-'));
  const start = Date.UTC(2024, 0, 1);
  const end = start + days * DAY_MS - 1;
  const clock = { now: end };
  try {
    const began = nowMs();
    const store = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0 });
    const { series } = build(store.database, nodes, workloads, start / HOUR_MS, days * 24, options.progress);
    const counts = store.database.prepare(`SELECT (SELECT count(*) FROM rollup_hour) AS hours, (SELECT count(*) FROM rollup_hour_packed) AS days,
      (SELECT count(*) FROM rollup_day_peak) AS peaks`).get() as { hours: number; days: number; peaks: number };
    store.close();
    const buildSeconds = (nowMs() - began) / 1000;
    // A fresh open, as a collector after a restart: nothing cached but what SQLite reads.
    const thread = await HistoryThread.open({ dir, logger: pino({ level: 'silent' }), flushEveryMs: 0, pruneEveryMs: 0, nowMs: clock.now });
    const since = days * DAY_MS;
    const report = (q: ReportQuery) => async () => (await thread.report(q, clock.now)).rows.length;
    const node = `node-${Math.floor(nodes / 2)}`;
    const seriesOf = (q: SeriesQuery) => async () => (await thread.series(q, clock.now)).series.length;
    options.progress('  3c: timing queries');
    // One at a time: each query has the worker to itself.
    const queries: LatencyRow[] = [];
    queries.push(await timeQuery('port', `report --since ${days}d --by port (cluster-wide series)`, 100, 10_000, report({ since, by: 'port' })));
    queries.push(await timeQuery('workload-top', `report --since ${days}d --by workload --limit 10`, 100, 10_000, report({ since, by: 'workload', limit: 10 })));
    queries.push(await timeQuery('workload', `report --since ${days}d --by workload (all ${workloads})`, 100, 20_000, report({ since, by: 'workload' })));
    queries.push(await timeQuery('node-top10', `report --since ${days}d --by node --limit 10 (of ${nodes * 8} node series)`, 100, 10_000, report({ since, by: 'node', limit: 10 })));
    queries.push(await timeQuery('node-top100', `report --since ${days}d --by node --limit 100`, 100, 20_000, report({ since, by: 'node', limit: 100 })));
    queries.push(await timeQuery('one-node', `series --node ${node} --step 1h over ${days}d (its 8 series)`, 100, 10_000,
      seriesOf({ from: end - since, to: end, stepMs: HOUR_MS, filter: { node } })));
    queries.push(await timeQuery('node-top10-7d', 'report --since 7d --by node --limit 10', 100, 10_000, report({ since: 7 * DAY_MS, by: 'node', limit: 10 })));
    queries.push(await timeQuery('node', `report --since ${days}d --by node (all ${nodes * 8} node series)`, 3, 0, report({ since, by: 'node' }), 3));
    await thread.close(clock.now);
    return { nodes, days, series, hourRows: counts.hours, packedDays: counts.days, dayPeakRows: counts.peaks, fileBytes: statSync(join(dir, 'history.db')).size, buildSeconds, queries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
