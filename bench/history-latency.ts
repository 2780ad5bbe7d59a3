// Bench part 3c: report latency over a database holding 10,000 nodes x 30 days. Feeding that
// many samples (10,000 x 8 series x 259,200 samples) would take hours, so the database is built
// by bulk SQL inserts into the store's own tables: hour rows from a synthetic model (per series a
// level from history-model.ts, a daily triangle wave, 1% growth a day, ±10% noise from an
// integer hash), and the day-peak index derived from them by the writer's rule (largest hour max
// per series and day, kind from reportKindOf). Queries then run through the real query code
// (queryReport, querySeries) on a HistoryStore opened on that file, repeated for p50 and p99.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../collector/history/capacity.js';
import { HistoryStore } from '../collector/history/history-store.js';
import type { ReportQuery, SeriesQuery } from '../collector/history/queries.js';
import { queryReport, querySeries } from '../collector/history/queries.js';
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
  dayPeakRows: number;
  fileBytes: number;
  buildSeconds: number;
  queries: LatencyRow[];
}

function build(db: HistoryStore['database'], nodes: number, workloads: number, firstHour: number, hours: number, progress: (t: string) => void): { series: number } {
  const random = makeRandom(11);
  const fleet = fleetSeries(nodes, random);
  const insertSeries = db.prepare('INSERT INTO series (node, port, direction, state, namespace, pod, workload, last_hour) VALUES (?, 80, ?, ?, ?, \'\', ?, ?)');
  db.exec('CREATE TEMP TABLE model (id INTEGER PRIMARY KEY, base REAL NOT NULL, kind INTEGER)');
  const insertModel = db.prepare('INSERT INTO temp.model (id, base, kind) VALUES (?, ?, ?)');
  const lastHour = firstHour + hours - 1;
  const clusterBase = new Array<number>(STATES.length).fill(0);
  db.transaction(() => {
    const add = (node: string, state: string, namespace: string, workload: string, base: number): void => {
      const id = Number(insertSeries.run(node, 'inbound', state, namespace, workload, lastHour).lastInsertRowid);
      insertModel.run(id, base, reportKindOf({ node, port: 80, direction: 'inbound', state, namespace, pod: '', workload }) ?? null);
    };
    for (const s of fleet) {
      add(s.node, STATES[s.state] as string, '', '', s.base);
      clusterBase[s.state] = (clusterBase[s.state] as number) + s.base;
    }
    STATES.forEach((state, i) => add(CLUSTER_NODE, state, '', '', clusterBase[i] as number));
    for (let w = 0; w < workloads; w++) add(CLUSTER_NODE, 'ESTABLISHED', `ns-${w % 20}`, `Deployment/app-${w}`, 50 + 450 * random());
  })();
  const series = fleet.length + STATES.length + workloads;
  // value = base x (1 + 0.5 x triangle wave over the day) x (1 + 1% a day) x (0.9 .. 1.1 noise)
  const insertHour = db.prepare(`INSERT INTO rollup_hour (bucket, series_id, min_value, max_value, sum_value, samples, last_value)
    SELECT @hour, id, CAST(v * 0.8 AS INTEGER), CAST(v * 1.2 AS INTEGER) + 1, CAST(v AS INTEGER) * 360, 360, CAST(v AS INTEGER)
    FROM (SELECT id, base * (0.5 + abs((@hour % 24) - 12) / 12.0) * (1 + 0.01 * (@hour - @first) / 24.0)
      * (0.9 + 0.2 * (((id * 2654435761 + @hour * 40503) % 1000) / 1000.0)) AS v FROM temp.model ORDER BY id)`);
  const insertPeaks = db.prepare(`INSERT INTO rollup_day_peak (day, series_id, kind, max_value)
    SELECT ?, r.series_id, m.kind, max(r.max_value) FROM rollup_hour r JOIN temp.model m ON m.id = r.series_id
    WHERE r.bucket BETWEEN ? AND ? AND m.kind IS NOT NULL GROUP BY r.series_id`);
  for (let h = firstHour; h <= lastHour; h++) {
    db.transaction(() => insertHour.run({ hour: h, first: firstHour }))();
    if ((h + 1) % 24 === 0 || h === lastHour) {
      const day = Math.floor(h / 24);
      insertPeaks.run(day, Math.max(firstHour, day * 24), h);
      progress(`  3c: day ${day - Math.floor(firstHour / 24) + 1} of ${Math.ceil(hours / 24)} written`);
    }
  }
  db.exec('DROP TABLE temp.model');
  return { series };
}

function timeQuery(id: string, what: string, maxRuns: number, budgetMs: number, run: () => number): LatencyRow {
  run(); // warm-up: statements prepared, pages cached
  const times: number[] = [];
  let rows = 0;
  const started = nowMs();
  while (times.length < maxRuns && (times.length < 5 || nowMs() - started < budgetMs)) {
    const t0 = nowMs();
    rows = run();
    times.push(nowMs() - t0);
  }
  return { id, what, runs: times.length, p50: percentile(times, 50) as number, p99: percentile(times, 99) as number, max: Math.max(...times), rows };
}

export function measureLatency(options: { nodes: number; days: number; workloads: number; progress: (text: string) => void }): LatencyResult {
  const { nodes, days, workloads } = options;
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-latency-'));
  const start = Date.UTC(2024, 0, 1);
  const end = start + days * DAY_MS - 1;
  const clock = { now: end };
  try {
    const began = nowMs();
    let store = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0 });
    const { series } = build(store.database, nodes, workloads, start / HOUR_MS, days * 24, options.progress);
    store.close();
    const buildSeconds = (nowMs() - began) / 1000;
    // A fresh open, as a collector after a restart: nothing cached but what SQLite reads.
    store = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0 });
    const counts = store.database.prepare('SELECT (SELECT count(*) FROM rollup_hour) AS hours, (SELECT count(*) FROM rollup_day_peak) AS peaks')
      .get() as { hours: number; peaks: number };
    const since = days * DAY_MS;
    const report = (q: ReportQuery) => () => queryReport(store, q).rows.length;
    const node = `node-${Math.floor(nodes / 2)}`;
    const seriesOf = (q: SeriesQuery) => () => querySeries(store, q).series.length;
    options.progress('  3c: timing queries');
    const queries = [
      timeQuery('port', `report --since ${days}d --by port (cluster-wide series)`, 100, 10_000, report({ since, by: 'port' })),
      timeQuery('workload-top', `report --since ${days}d --by workload --limit 10`, 100, 10_000, report({ since, by: 'workload', limit: 10 })),
      timeQuery('workload', `report --since ${days}d --by workload (all ${workloads})`, 30, 15_000, report({ since, by: 'workload' })),
      timeQuery('node-top10', `report --since ${days}d --by node --limit 10 (of ${nodes * 8} node series)`, 100, 10_000, report({ since, by: 'node', limit: 10 })),
      timeQuery('node-top100', `report --since ${days}d --by node --limit 100`, 50, 15_000, report({ since, by: 'node', limit: 100 })),
      timeQuery('one-node', `series --node ${node} --step 1h over ${days}d (its 8 series)`, 100, 10_000,
        seriesOf({ from: end - since, to: end, stepMs: HOUR_MS, filter: { node } })),
      timeQuery('node-top10-7d', 'report --since 7d --by node --limit 10', 100, 10_000, report({ since: 7 * DAY_MS, by: 'node', limit: 10 })),
    ];
    store.close();
    return { nodes, days, series, hourRows: counts.hours, dayPeakRows: counts.peaks, fileBytes: statSync(join(dir, 'history.db')).size, buildSeconds, queries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
