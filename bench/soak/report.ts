// The soak's verdict and its printed table, from the collected results. Pure.

import type { FleetCounters } from './fleet-sim.js';
import type { Flatness } from './memory.js';
import type { Lateness } from './schedule.js';
import type { CheckRecord } from './checker.js';
import type { SoakOptions } from './options.js';
import type { ScrapeStats } from './scrape-load.js';

export interface StaleSummary {
  events: number;
  correct: number;
  false: number;
  /** Unjudged at the end (their slots were never reached). */
  unjudged: number;
  /** Nodes the checks found still live past 3 intervals of silence, summed over checks, and the most. */
  lateAtChecks: number;
  maxLateAtChecksMs: number;
  /** Detection delay of the correct ones: past lastSeen + 3 intervals. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  examples: { node: string; kind: string; detail: string }[];
}

export interface SoakResult {
  options: SoakOptions;
  machine: Record<string, unknown>;
  commit: string;
  startedAt: string;
  durationS: number;
  rounds: number;
  fleet: FleetCounters;
  lateness: Lateness;
  /** Average CPU use over the run, percent of one core. */
  cpu: { collectorPercent: number; natsPercent: number; soakPercent: number };
  collector: { exitedEarly: string | null; ingest: Record<string, number> };
  /** /metrics + /api/v1/summary while publishing; null when off. */
  queryLoad: (ScrapeStats & { everyMs: number }) | null;
  checks: {
    total: number;
    exact: number;
    mismatched: number;
    inconclusive: number;
    maxMs: number;
    /** Slowest collector answer to /api/v1/nodes, /api/v1/summary or /metrics. */
    maxResponseMs: number;
    /** Longest collector event-loop delay seen by prom-client's monitor. */
    maxEventLoopLagMs: number;
    records: CheckRecord[];
  };
  stale: StaleSummary;
  memory: {
    collectorRss: Flatness;
    collectorHeapUsed: Flatness;
    natsRss: Flatness;
    judged: boolean;
    series: { t: number; collectorRssMiB: number; natsRssMiB: number; soakRssMiB: number }[];
  };
  targets: { exactAggregates: boolean; zeroFalseStale: boolean; flatMemory: boolean | 'not judged' };
  pass: boolean;
}

export function targetsOf(r: Omit<SoakResult, 'targets' | 'pass'>): SoakResult['targets'] {
  const { checks } = r;
  return {
    exactAggregates: checks.exact > 0 && checks.mismatched === 0 && checks.exact >= checks.total * 0.9 && r.collector.exitedEarly === null,
    zeroFalseStale: r.stale.false === 0 && !checks.records.some((c) => (c.outcome?.byKind['false stale'] ?? 0) > 0),
    flatMemory: r.memory.judged ? r.memory.collectorRss.flat && r.memory.collectorHeapUsed.flat : 'not judged',
  };
}

export function renderTable(r: SoakResult): string {
  const o = r.options;
  const f = r.fleet;
  const m = r.memory;
  const mem = (name: string, x: Flatness) =>
    `${name.padEnd(22)} ${String(x.firstHalfMeanMiB).padStart(8)} ${String(x.secondHalfMeanMiB).padStart(8)} ${String(x.slopeMiBPerHour).padStart(10)} ${String(x.secondHalfGrowthMiB).padStart(9)} ${String(x.boundMiB).padStart(7)}  ${x.secondHalfSamples < 3 ? 'too few samples' : x.flat ? 'flat' : 'GROWING'}`;
  const lastCheck = r.checks.records.filter((c) => c.outcome).at(-1)?.outcome;
  const ok = (b: boolean | string) => (b === true ? 'met' : b === false ? 'MISSED' : b);
  return [
    `soak: ${o.nodes} nodes, interval ${o.intervalMs / 1000} s, ${r.rounds} rounds in ${(r.durationS / 60).toFixed(1)} min; faults loss ${o.faults.loss}, dup ${o.faults.dup}, reorder ${o.faults.reorder}; seed ${o.seed}`,
    `machine: ${String(r.machine['nproc'])} cores, ${String(r.machine['memGiB'])} GiB, node ${String(r.machine['node'])}; commit ${r.commit}`,
    `published ${f.published} (lost ${f.lost}, duplicated ${f.duplicated}, reordered ${f.reordered}); restarts ${f.restarts}, goodbyes ${f.goodbyes}, rejoins ${f.rejoins}, silences ${f.silences}, returns ${f.returns}`,
    `collector ingest: ${Object.entries(r.collector.ingest).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    r.queryLoad
      ? `query load while publishing: /metrics + /api/v1/summary every ${r.queryLoad.everyMs / 1000} s, ${r.queryLoad.scrapes} done (${r.queryLoad.failures} failed), mean ${Math.round(r.queryLoad.totalMs / Math.max(1, r.queryLoad.scrapes))} ms, max ${r.queryLoad.maxMs} ms`
      : 'query load while publishing: none',
    `harness lateness: max ${r.lateness.maxMs} ms, ${r.lateness.over50ms} of ${r.lateness.steps} slots over 50 ms; fleet paused ${r.lateness.pauses} times for checks that outlasted the quiet part, ${(r.lateness.pausedMs / 1000).toFixed(1)} s in all`,
    `cpu (average, % of one core): collector ${r.cpu.collectorPercent}, nats-server ${r.cpu.natsPercent}, soak harness ${r.cpu.soakPercent}; load average ${String(r.machine['loadAtStart'])} at start, ${String(r.machine['loadAtEnd'])} at end`,
    '',
    `exactness: ${r.checks.exact} of ${r.checks.total} checks exact, ${r.checks.mismatched} mismatched, ${r.checks.inconclusive} inconclusive (state changed between reads); slowest check ${r.checks.maxMs} ms; slowest collector answer ${r.checks.maxResponseMs} ms, longest collector event-loop delay ${r.checks.maxEventLoopLagMs} ms`,
    lastCheck ? `  last check: ${lastCheck.nodes} nodes (${lastCheck.live} live, ${lastCheck.stale} stale), ${lastCheck.httpConnections} HTTP connections, max receive lag ${lastCheck.maxReceiveLagMs} ms` : '  no check completed',
    `stale: ${r.stale.events} stale events: ${r.stale.correct} correct, ${r.stale.false} false, ${r.stale.unjudged} unjudged; detection delay past 3 intervals p50 ${r.stale.delayP50Ms} ms, p99 ${r.stale.delayP99Ms} ms, max ${r.stale.delayMaxMs} ms; at the checks ${r.stale.lateAtChecks} node(s) still live past 3 intervals (at most ${r.stale.maxLateAtChecksMs} ms past)`,
    '',
    `memory (MiB)${m.judged ? '' : ' — not judged: run shorter than --memory-min-minutes'}`,
    `${'series'.padEnd(22)} ${'1st half'.padStart(8)} ${'2nd half'.padStart(8)} ${'MiB/hour'.padStart(10)} ${'growth'.padStart(9)} ${'bound'.padStart(7)}`,
    mem('collector RSS', m.collectorRss),
    mem('collector heap used', m.collectorHeapUsed),
    mem('nats-server RSS', m.natsRss),
    '',
    `targets: exact aggregates ${ok(r.targets.exactAggregates)}, zero false stale ${ok(r.targets.zeroFalseStale)}, flat memory ${ok(r.targets.flatMemory)} => ${r.pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
