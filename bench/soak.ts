// fleetstat soak (`npm run soak`, not part of `npm test`): a real nats-server, the real
// collector process (bin/fleetstat.js collector, history on disk), and this process simulating
// 10,000 nodes that publish a snapshot every 10 s for 30 minutes, with 1% loss, duplication and
// reordering injected (bench/soak/fleet-sim.ts). It records
//   - exactness: every few rounds, in a quiet moment, the collector's nodes, summary and /metrics
//     against the simulator's truth (bench/soak/verify.ts);
//   - stale accuracy: every "node stale" the collector logs, judged by what the node really did
//     (bench/soak/stale-audit.ts);
//   - memory: collector and nats-server RSS every 10 s, collector heap at every check.
// Writes bench/results/soak-<date>.json, prints a table, and exits 1 when a target is missed
// (exact aggregates, zero false stale, flat memory). Options: bench/soak/options.ts (--help).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { CollectorChild, scrape } from '../test/support/collector-child.js';
import { freePort, startNatsServer } from '../test/support/nats-server.js';
import type { NatsServer } from '../test/support/nats-server.js';
import type { CheckRecord } from './soak/checker.js';
import { checkOnce } from './soak/checker.js';
import { FleetSim } from './soak/fleet-sim.js';
import type { MemoryPoint } from './soak/memory.js';
import { cpuSeconds, flatness, rssBytes } from './soak/memory.js';
import type { SoakOptions } from './soak/options.js';
import { parseSoakOptions, USAGE } from './soak/options.js';
import type { SoakResult, StaleSummary } from './soak/report.js';
import { percentile, renderTable, targetsOf } from './soak/report.js';
import type { ScheduleOptions } from './soak/schedule.js';
import { runSchedule } from './soak/schedule.js';
import { startScrapeLoad } from './soak/scrape-load.js';
import type { StaleEvent } from './soak/stale-audit.js';
import { judgeStale } from './soak/stale-audit.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MEMORY_EVERY_MS = 10_000;
/** How long a check waits for the collector to take in everything sent before it compares anyway. */
const CATCH_UP_MS = 60_000;
const started = Date.now();

function progress(text: string): void {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${text}\n`);
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parseSoakOptions(process.argv.slice(2), (date) => join(ROOT, 'bench', 'results', `soak-${date}.json`));
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: the soak runs the built collector (npx tsc -p tsconfig.build.json, or npm run build)');
  }
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130); // second ^C: the exit hooks kill our children by pid
    stopping = true;
    progress('stopping (signal); results so far follow');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const dataDir = mkdtempSync(join(os.tmpdir(), 'fleetstat-soak-'));
  let nats: NatsServer | undefined;
  let collector: CollectorChild | undefined;
  let nc: NatsConnection | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    nats = await startNatsServer({ jetstream: false });
    collector = await CollectorChild.start(await freePort(), ['--nats', nats.url, '--cluster', options.cluster, '--data', dataDir]);
    nc = await connect({ servers: nats.url, name: 'fleetstat-soak' });
    progress(`nats-server pid ${nats.pid}, collector pid ${collector.pid} at ${collector.base}, history in ${dataDir}`);
    return await soak(options, nats, collector, nc, timers, () => stopping);
  } finally {
    for (const t of timers) clearInterval(t);
    await nc?.close().catch(() => undefined);
    await collector?.stop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function soak(
  options: SoakOptions,
  nats: NatsServer,
  collector: CollectorChild,
  nc: NatsConnection,
  timers: NodeJS.Timeout[],
  stopping: () => boolean,
): Promise<number> {
  const sim = new FleetSim(options, (subject, bytes) => nc.publish(subject, bytes));
  const rounds = Math.max(1, Math.round((options.minutes * 60_000) / options.intervalMs));
  const schedule: ScheduleOptions = { nodes: options.nodes, intervalMs: options.intervalMs, window: options.window, rounds, startMs: Date.now() + 500 };
  const t = () => (Date.now() - schedule.startMs) / 1000;

  // Memory every 10 s.
  const rss: { collector: MemoryPoint[]; nats: MemoryPoint[]; soak: MemoryPoint[] } = { collector: [], nats: [], soak: [] };
  const heap: MemoryPoint[] = [];
  const sampleMemory = () => {
    const at = t();
    const c = collector.pid === undefined ? undefined : rssBytes(collector.pid);
    const n = nats.pid === undefined ? undefined : rssBytes(nats.pid);
    if (c !== undefined) rss.collector.push({ t: at, bytes: c });
    if (n !== undefined) rss.nats.push({ t: at, bytes: n });
    rss.soak.push({ t: at, bytes: process.memoryUsage().rss });
  };
  sampleMemory();
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const cpuAtStart = { collector: collector.pid === undefined ? 0 : (cpuSeconds(collector.pid) ?? 0), nats: nats.pid === undefined ? 0 : (cpuSeconds(nats.pid) ?? 0), soak: process.cpuUsage() };
  timers.push(setInterval(sampleMemory, Math.min(MEMORY_EVERY_MS, options.intervalMs)));

  // Stale events from the collector's log, judged once the simulator has run every slot up to them.
  let progressMs = 0;
  let logCursor = 0;
  const pending: StaleEvent[] = [];
  const stale: StaleSummary = { events: 0, correct: 0, false: 0, unjudged: 0, lateAtChecks: 0, maxLateAtChecksMs: 0, delayP50Ms: 0, delayP99Ms: 0, delayMaxMs: 0, examples: [] };
  const delays: number[] = [];
  const audit = () => {
    for (; logCursor < collector.logs.length; logCursor++) {
      const line = collector.logs[logCursor]!;
      if (line.msg !== 'node stale') continue;
      stale.events++;
      pending.push({ node: String(line['node']), atMs: Number(line['time']), lastSeenMs: Number(line['lastSeenMs']) });
    }
    while (pending.length > 0 && pending[0]!.atMs < progressMs) {
      const event = pending.shift()!;
      const verdict = judgeStale(event, sim.slotsOf(event.node), options.intervalMs);
      if (verdict.kind === 'correct') {
        stale.correct++;
        delays.push(verdict.delayMs);
        continue;
      }
      stale.false++;
      if (stale.examples.length < 20) stale.examples.push({ node: event.node, kind: verdict.kind, detail: verdict.detail });
      progress(`${verdict.kind} stale: ${event.node}: ${verdict.detail}`);
    }
  };
  timers.push(setInterval(audit, 1000));

  // Exactness checks in the quiet part of every checkEvery-th round (and the last); the schedule waits for them.
  const checks: CheckRecord[] = [];
  let checking = false;
  const onQuiet = async (round: number) => {
    if ((round + 1) % options.checkEvery !== 0 && round !== rounds - 1) return;
    checking = true;
    try {
      const record = await checkOnce(collector.base, sim.truth(), () => nc.flush(), Date.now() + CATCH_UP_MS, { round, t: t() });
      checks.push(record);
      const o = record.outcome;
      const kinds = o ? Object.entries(o.byKind).map(([k, v]) => `${k} ${v}`).join(', ') : '';
      progress(
        `round ${round + 1}/${rounds}: check ${o ? (o.mismatches.length === 0 ? 'exact' : `MISMATCH ${kinds}`) : 'inconclusive'}` +
          (o ? ` (${o.nodes} nodes, ${o.live} live, ${o.httpConnections} conns${o.lateStale > 0 ? `, ${o.lateStale} late stale, up to ${o.maxLateStaleMs} ms` : ''})` : '') +
          `, behind ${record.behindAtStart}->${record.behindAtEnd}, ${record.ms} ms, collector RSS ${((rss.collector.at(-1)?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      );
      if (o && o.mismatches.length > 0) for (const m of o.mismatches.slice(0, 5)) progress(`  ${m.kind} ${m.node ?? ''}: ${m.detail}`);
      if (record.heapUsedBytes !== undefined) heap.push({ t: record.t, bytes: record.heapUsedBytes });
      if (o) {
        stale.lateAtChecks += o.lateStale;
        stale.maxLateAtChecksMs = Math.max(stale.maxLateAtChecksMs, o.maxLateStaleMs);
      }
    } catch (err) {
      progress(`check failed: ${(err as Error).message}`);
    } finally {
      checking = false;
    }
  };
  const scrapes = options.scrapeEveryMs > 0 ? startScrapeLoad(collector.base, options.scrapeEveryMs, () => checking) : undefined;

  progress(`simulating ${options.nodes} nodes for ${rounds} rounds of ${options.intervalMs} ms (seed ${options.seed})`);
  const lateness = await runSchedule(
    schedule,
    (index, round, dueMs, nowMs) => {
      sim.step(index, round, dueMs, nowMs);
      progressMs = dueMs;
    },
    onQuiet,
    () => stopping() || !collector.running,
  );
  scrapes?.stop();
  await new Promise((r) => setTimeout(r, 1500)); // the last stale events reach the log
  progressMs = Infinity; // no slot is left to run: judge them all
  audit();
  stale.unjudged = pending.length;
  stale.delayP50Ms = percentile(delays, 0.5);
  stale.delayP99Ms = percentile(delays, 0.99);
  stale.delayMaxMs = delays.length > 0 ? Math.max(...delays) : 0;
  sampleMemory();
  const wallS = t();
  const percent = (used: number | undefined, from: number) => (used === undefined ? -1 : Math.round(((used - from) / wallS) * 100));
  const soakCpu = process.cpuUsage(cpuAtStart.soak);
  const cpu = {
    collectorPercent: percent(collector.pid === undefined ? undefined : cpuSeconds(collector.pid), cpuAtStart.collector),
    natsPercent: percent(nats.pid === undefined ? undefined : cpuSeconds(nats.pid), cpuAtStart.nats),
    soakPercent: percent((soakCpu.user + soakCpu.system) / 1e6, 0),
  };

  const ingest: Record<string, number> = {};
  if (collector.running) {
    const exposition = await scrape(collector.base);
    for (const s of exposition.samples) {
      if (s.name.startsWith('fleetstat_ingest_snapshots_')) {
        const label = s.labels['reason'] ?? s.labels['transport'];
        ingest[`${s.name.replace('fleetstat_ingest_snapshots_', '').replace('_total', '')}${label ? `:${label}` : ''}`] = s.value;
      }
    }
  }
  const exitedEarly = collector.running ? null : `collector exited: ${collector.stderrText().slice(-2000)}`;
  const judged = options.minutes >= options.memoryMinMinutes;
  const mib = (ps: MemoryPoint[], at: number) => Math.round((ps.find((p) => p.t >= at)?.bytes ?? 0) / 2 ** 20);
  const done = checks.filter((c) => c.outcome);
  const partial: Omit<SoakResult, 'targets' | 'pass'> = {
    options,
    machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAtStart, loadAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    commit: commit(),
    startedAt: new Date(schedule.startMs).toISOString(),
    durationS: Math.round(t()),
    rounds,
    fleet: sim.counters,
    lateness,
    cpu,
    collector: { exitedEarly, ingest },
    queryLoad: scrapes ? { everyMs: options.scrapeEveryMs, ...scrapes.stats } : null,
    checks: {
      total: checks.length,
      exact: done.filter((c) => c.outcome!.mismatches.length === 0).length,
      mismatched: done.filter((c) => c.outcome!.mismatches.length > 0).length,
      inconclusive: checks.length - done.length,
      maxMs: Math.max(0, ...checks.map((c) => c.ms)),
      maxResponseMs: Math.max(0, ...checks.map((c) => Math.max(c.responseMs?.nodes ?? 0, c.responseMs?.summary ?? 0, c.responseMs?.metrics ?? 0))),
      maxEventLoopLagMs: Math.max(0, ...checks.map((c) => c.eventLoopLagMaxMs ?? 0)),
      records: checks,
    },
    stale,
    memory: {
      collectorRss: flatness(rss.collector, options.memoryMiB, options.memoryRelative),
      collectorHeapUsed: flatness(heap, options.memoryMiB, options.memoryRelative),
      natsRss: flatness(rss.nats, options.memoryMiB, options.memoryRelative),
      judged,
      series: rss.soak.map((p) => ({ t: Math.round(p.t), collectorRssMiB: mib(rss.collector, p.t), natsRssMiB: mib(rss.nats, p.t), soakRssMiB: Math.round(p.bytes / 2 ** 20) })),
    },
  };
  const targets = targetsOf(partial);
  const result: SoakResult = { ...partial, targets, pass: targets.exactAggregates && targets.zeroFalseStale && targets.flatMemory !== false };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(result, null, 1)}\n`);
  process.stdout.write(`${renderTable(result)}\nwrote ${options.out}\n`);
  return result.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
