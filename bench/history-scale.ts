// fleetstat history benchmark (bench part 3, issue 5): 10,000 simulated nodes over 30 simulated
// days at a 10 s interval, time compressed.
//   a. database bytes per node per day (history-disk.ts),
//   b. ingest cost per snapshot with history on versus off (history-ingest.ts),
//   c. report latency over 30 days (history-latency.ts).
// Prints a table and writes bench/results/history-scale.json. Runs alone:
//   npx tsx bench/history-scale.ts
// and as section 4 of `npm run bench` (FSBENCH_HISTORY=0 skips it there).
// Knobs: FSBENCH_HISTORY_DISK_NODES (default 10), FSBENCH_HISTORY_NODES (default 10000),
// FSBENCH_HISTORY_DAYS (default 30), FSBENCH_HISTORY_INTERVALS (part b, default 36: six minutes, six minute closes),
// FSBENCH_HISTORY_PARTS (default abc: e.g. c runs part c alone and writes history-scale.c.json).

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DiskResult } from './history-disk.js';
import { measureDisk } from './history-disk.js';
import type { IngestResult } from './history-ingest.js';
import { measureIngest } from './history-ingest.js';
import type { LatencyResult } from './history-latency.js';
import { measureLatency } from './history-latency.js';
import { nowMs, round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGETS = { bytesPerNodeDay: 50 * 1024, historyShare: 0.2, reportP99Ms: 200 };

export interface HistoryScaleResults {
  when: string;
  machine: { nproc: number; cpu: string; node: string; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  /** Parts left out by FSBENCH_HISTORY_PARTS are absent. */
  disk?: DiskResult;
  ingest?: IngestResult;
  latency?: LatencyResult;
  durationS: number;
}

const ALL_PARTS = 'abc';

function parts(): string {
  const text = process.env.FSBENCH_HISTORY_PARTS ?? '';
  if (text === '') return ALL_PARTS;
  if (![...text].every((p) => ALL_PARTS.includes(p))) throw new Error(`FSBENCH_HISTORY_PARTS=${text}: expected some of ${ALL_PARTS}`);
  return [...ALL_PARTS].filter((p) => text.includes(p)).join('');
}

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${String(text)}: expected a positive integer`);
  return value;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');

function pad(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd());
}

export function historyReport(r: HistoryScaleResults): string {
  const out = [`4. History at fleet scale (bench/history-scale.ts), load average ${r.machine.loadavgAtStart.join(' ')} at start, ${r.machine.loadavgAtEnd.join(' ')} at end`];
  const sections = [r.disk && diskReport(r.disk), r.ingest && ingestReport(r.ingest), r.latency && latencyReport(r.latency)];
  return [...out, ...sections.filter((s) => s !== undefined).map((s) => s.join('\n'))].join('\n');
}

function diskReport(d: DiskResult): string[] {
  const out: string[] = [];
  out.push(`a. Disk: ${d.nodes} nodes x ${d.seriesPerNode} series (+${d.clusterSeries} cluster-wide), ${d.days} days at ${d.intervalMs / 1000} s through recordSample/flush/seal ` +
    `(${d.samples} samples in ${d.seconds.toFixed(0)} s); bytes per node per day (dbstat):`);
  out.push(...pad([
    ['table', 'per node per day', 'what'],
    ['rollup_minute_packed', kb(d.perNodeDay.minutePacked), 'minutes of sealed hours, one blob per series and hour'],
    ['rollup_hour_packed', kb(d.perNodeDay.hourPacked), 'hours of sealed days, one blob per series and day'],
    ['rollup_hour', kb(d.perNodeDay.hour), `hour rows of the open day (shown spread over ${d.days} days)`],
    ['rollup_day_peak (+index)', kb(d.perNodeDay.dayPeak), 'top-N ranking index'],
    ['rollup_minute_frame + rollup_minute', kb(d.perNodeDay.minuteRows), `the open hour's frames and late rows (a fixed ~1 h, shown spread over ${d.days} days)`],
    ['all tables', kb(d.perNodeDay.total), `its ${d.seriesPerNode} series + 1/${d.nodes} of the cluster's ${d.clusterSeries}`],
    ['at 10,000 nodes', kb(d.atFleetScalePerNodeDay), `${kb(d.perSeriesDay)} per series per day x ${d.seriesPerNode}; ` +
      `target <= ${kb(TARGETS.bytesPerNodeDay)}: ${verdict(d.atFleetScalePerNodeDay <= TARGETS.bytesPerNodeDay)}`],
  ]));
  out.push(`   file ${kb(d.fileBytes / d.nodes / d.days)} per node per day; after pruning at day ${d.days} with default retention: ${kb(d.afterPrune.perNode)} per node; ` +
    `steady state (14 d of minutes, 730 d of hours): ${(d.steadyPerNode / 2 ** 20).toFixed(2)} MiB per node`);
  return out;
}

function ingestReport(i: IngestResult): string[] {
  const out = [''];
  const mean = (t: { runs: number[] }): number => t.runs.reduce((x, y) => x + y, 0) / t.runs.length;
  const w = i.worker;
  out.push(`b. Ingest, ${i.nodes} nodes (${i.snapshotBytes} B snapshots), ${i.intervals} intervals interleaved, mean ms per interval (all nodes) on the ingest thread:`);
  out.push(...pad([
    ['collector', 'ms/interval', 'snapshots/s', 'parts (mean ms per interval)'],
    ['history off', ms(mean(i.off)), i.throughputOff.toFixed(0), 'ingest'],
    ['history on', ms(mean(i.on)), i.throughputOn.toFixed(0),
      `ingest ${ms(mean(i.onParts.ingest))} + handing the counts to the history thread ${ms(mean(i.onParts.handoff))} (median ${ms(i.onParts.handoff.median)})`],
  ]));
  out.push(`   history costs the ingest thread ${(i.historyShare * 100).toFixed(0)}% (on - off over off; the handoff alone ${(i.handoffShare * 100).toFixed(1)}%) ` +
    `(target <= ${TARGETS.historyShare * 100}%: ${verdict(i.historyShare <= TARGETS.historyShare)})`);
  out.push(`   the history worker, on its own thread: ${ms(w.perIntervalMs)} ms per interval (${((w.perIntervalMs / 10_000) * 100).toFixed(1)}% of a core; ` +
    `${(i.workerShare * 100).toFixed(0)}% of the ingest thread's time): record ${ms(w.record)} + flush ${ms(w.flush)} + seal ${ms(w.seal)} + hourly ${ms((w.hourStartMs + w.sealHourMs) / 360)} ` +
    `(/360 of: the hour's first minute close ${ms(w.hourStartMs)}, sealing an open hour of ${w.sealCells} minute cells ${ms(w.sealHourMs)})`);
  return out;
}

function latencyReport(l: LatencyResult): string[] {
  const out = [''];
  out.push(`c. Report latency: ${l.nodes} nodes x ${l.days} days, ${l.series} series, ${l.packedDays} packed days, ${l.hourRows} hour rows, ` +
    `${l.dayPeakRows} day peaks, ` +
    `file ${(l.fileBytes / 2 ** 20).toFixed(0)} MiB (bulk-built in ${l.buildSeconds.toFixed(0)} s)`);
  out.push(...pad([
    ['query', 'runs', 'p50 ms', 'p99 ms', 'rows', `p99 <= ${TARGETS.reportP99Ms} ms`],
    ...l.queries.map((q) => [q.what, String(q.runs), ms(q.p50), ms(q.p99), String(q.rows), verdict(q.p99 <= TARGETS.reportP99Ms)]),
  ]));
  return out;
}

export async function runHistoryScale(progress: (text: string) => void): Promise<HistoryScaleResults> {
  const started = nowMs();
  const loadavgAtStart = os.loadavg().map((v) => round(v));
  const days = envInt('FSBENCH_HISTORY_DAYS', 30);
  const nodes = envInt('FSBENCH_HISTORY_NODES', 10_000);
  const run = parts();
  let disk: DiskResult | undefined;
  let ingest: IngestResult | undefined;
  let latency: LatencyResult | undefined;
  if (run.includes('a')) {
    progress(`history 3a: disk, ${envInt('FSBENCH_HISTORY_DISK_NODES', 10)} nodes x ${days} days`);
    disk = measureDisk({ nodes: envInt('FSBENCH_HISTORY_DISK_NODES', 10), days, intervalMs: 10_000, progress });
  }
  if (run.includes('b')) {
    progress(`history 3b: ingest, ${nodes} nodes`);
    ingest = await measureIngest({ nodes, intervals: envInt('FSBENCH_HISTORY_INTERVALS', 36), progress });
  }
  if (run.includes('c')) {
    // Part b's two 10,000-node collectors are garbage by now; collected here, not in the middle
    // of a timed query (each part measures its own work).
    collectGarbage();
    progress(`history 3c: report latency, ${nodes} nodes x ${days} days`);
    latency = await measureLatency({ nodes, days, workloads: 300, progress });
  }
  return {
    when: new Date().toISOString(),
    machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', node: process.version, loadavgAtStart, loadavgAtEnd: os.loadavg().map((v) => round(v)) },
    disk, ingest, latency,
    durationS: round((nowMs() - started) / 1000, 1),
  };
}

/** A full garbage collection now (V8's gc(), reached without --expose-gc). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Write the results beside the main bench's (timing runs left out of the table, kept in the
 * JSON); a run of some parts only goes to its own file, so it never replaces a full run's.
 */
export function writeHistoryResults(results: HistoryScaleResults, text: string): string {
  const run = parts();
  const out = join(ROOT, 'bench', 'results', run === ALL_PARTS ? 'history-scale.json' : `history-scale.${run}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...results, table: text.split('\n') }, null, 2)}\n`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = nowMs();
  const progress = (text: string): void => {
    process.stderr.write(`[${((nowMs() - t0) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);
  };
  const results = await runHistoryScale(progress);
  const text = historyReport(results);
  process.stdout.write(`\n${text}\n`);
  progress(`wrote ${writeHistoryResults(results, text)}`);
}
