// Bench part 3b: what recording history costs the collector's ingest. Two collectors take the
// same encoded snapshots of 10,000 simulated nodes, interval after interval (interleaved, so
// machine load hits both alike): one without history, one recording every interval as
// collector.ts does (recordHistory: liveCountGroups handed to the history thread as one batch).
// History runs on its worker thread (history-thread.ts), with its own 5 s flush timer, while the
// next interval is ingested: the ingest thread pays the handoff and whatever the worker's work
// costs it (two threads sharing memory and caches). History's share is the collector's
// ingest-thread time with history over its time without, both as means per interval. The worker's
// own time (the store's busyMs) is reported beside it: CPU it takes on another core. The first 7
// intervals warm up and are not counted: every node is new in the first, and the first minute's
// close (the 7th) starts every series' journal for the hour, which happens once an hour. Hourly
// work on the worker is timed apart: the rest of the hour filled with one sample a minute, then
// the hour sealed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Collector } from '../collector/collector.js';
import type { HistoryStats } from '../collector/history/history-store.js';
import { HistoryThread } from '../collector/history/history-thread.js';
import { encodeSnapshot } from '../test/support/snapshots.js';
import { countGroupsAt, fleetSeries, makeRandom, STATE_CODES, valueAt } from './history-model.js';
import type { Timing } from './lib/stats.js';
import { nowMs, timingOf } from './lib/stats.js';

const INTERVAL_MS = 10_000;
/** Intervals not counted: the first (every node new) through the first minute's close. */
const WARMUP = 7;

export interface IngestResult {
  nodes: number;
  intervals: number;
  snapshotBytes: number;
  /** Per interval (all nodes' snapshots), the ingest thread's ms: without history, and with it. */
  off: Timing;
  on: Timing;
  /** The history collector's interval: its ingest, and handing the counts to the history thread. */
  onParts: { ingest: Timing; handoff: Timing };
  /** The history worker's busy ms (store busyMs), means per counted interval, on its own thread. */
  worker: {
    record: number;
    flush: number;
    seal: number;
    /** The interval whose record starts every series' journal for a new hour (recording + flush), and sealing one full open hour. */
    hourStartMs: number;
    sealHourMs: number;
    sealCells: number;
    /** record + flush + seal + 1/360 of the hourly work: the worker's time per 10 s interval. */
    perIntervalMs: number;
  };
  /** Snapshots per second of the ingest thread without and with history. */
  throughputOff: number;
  throughputOn: number;
  /** What history costs the ingest thread: (on - off) / off, as means per interval. */
  historyShare: number;
  /** The handoff alone over ingest without history. */
  handoffShare: number;
  /** The worker's time per interval over the ingest thread's without history (what history would cost if it ran on the ingest thread). */
  workerShare: number;
}

export async function measureIngest(options: { nodes: number; intervals: number; progress: (text: string) => void }): Promise<IngestResult> {
  const { nodes, intervals } = options;
  const random = makeRandom(7);
  const fleet = fleetSeries(nodes, random);
  const start = Date.UTC(2024, 0, 1);
  const clock = { now: start };
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-ingest-'));
  const logger = pino({ level: 'silent' });
  // As the collector runs it: a data directory, the worker's own flush timer, compressed as the
  // clock is (an interval takes ~0.45 s here, so 200 ms flushes about twice an interval, as 5 s
  // does in 10 s).
  const history = await HistoryThread.open({ dir, logger, nowMs: start, flushEveryMs: 200 });
  const withHistory = new Collector({ cluster: 'test', logger, history, now: () => clock.now });
  // The same collector without history (its metrics hooks and all): history is the only difference.
  const without = new Collector({ cluster: 'test', logger, now: () => clock.now });
  try {
    options.progress(`  3b: encoding ${nodes} snapshots x ${WARMUP + intervals} intervals`);
    const rounds: Uint8Array[][] = [];
    let snapshotBytes = 0;
    for (let round = 0; round < WARMUP + intervals; round++) {
      const t = start + round * INTERVAL_MS;
      const snapshots: Uint8Array[] = [];
      for (let n = 0; n < nodes; n++) {
        const http: Array<[number, 'in', number, number]> = [];
        for (let s = 0; s < 8; s++) {
          const value = valueAt(fleet[n * 8 + s]!, t, start, random);
          if (value > 0) http.push([80, 'in', STATE_CODES[s]!, value]);
        }
        const bytes = encodeSnapshot({ node: `node-${n}`, seq: round + 1, intervalMs: INTERVAL_MS, http });
        snapshotBytes += bytes.length;
        snapshots.push(bytes);
      }
      rounds.push(snapshots);
    }
    const off: number[] = [];
    const on: number[] = [];
    const parts = { ingest: [] as number[], handoff: [] as number[] };
    // The worker's busy time before and after the hour's first minute close, and after the counted intervals.
    let beforeHourStart: HistoryStats | undefined;
    let afterWarmup: HistoryStats | undefined;
    for (let round = 0; round < WARMUP + intervals; round++) {
      clock.now = start + round * INTERVAL_MS;
      const snapshots = rounds[round]!;
      const origin = { transport: 'nats' as const, receivedAtMs: clock.now };
      const runOff = (): number => {
        const t0 = nowMs();
        for (const bytes of snapshots) without.state.ingest(bytes, origin);
        return nowMs() - t0;
      };
      const runOn = (): number[] => {
        const t0 = nowMs();
        for (const bytes of snapshots) withHistory.state.ingest(bytes, origin);
        const t1 = nowMs();
        if (!withHistory.recordHistory(history, clock.now)) throw new Error('history dropped a batch: its worker fell behind');
        return [t1 - t0, nowMs() - t1];
      };
      // Alternate which goes first. The worker records this interval while the next is ingested.
      let offMs: number;
      let onMs: number[];
      if (round % 2 === 0) {
        offMs = runOff();
        onMs = runOn();
      } else {
        onMs = runOn();
        offMs = runOff();
      }
      // A turn of the event loop, as between a collector's intervals: the worker's answers are read.
      await new Promise((resolve) => setImmediate(resolve));
      // Barriers (untimed) only around the warm-up's hour start.
      if (round === WARMUP - 2) beforeHourStart = await history.settle(clock.now);
      if (round === WARMUP - 1) afterWarmup = await history.settle(clock.now);
      if (round < WARMUP) continue;
      off.push(offMs);
      on.push(onMs[0]! + onMs[1]!);
      parts.ingest.push(onMs[0]!);
      parts.handoff.push(onMs[1]!);
    }
    const accepted = withHistory.state.counters.accepted;
    if (accepted !== nodes * (WARMUP + intervals)) throw new Error(`history collector accepted ${accepted} snapshots, expected ${nodes * (WARMUP + intervals)}`);
    const counted = await history.settle(clock.now);

    // A full open hour for every series: one sample a minute (the model's values) for the rest
    // of the hour, then the hour sealed.
    options.progress('  3b: filling the open hour of every series, then sealing it');
    for (let t = clock.now + 60_000; t < start + 3_600_000; t += 60_000) {
      clock.now = t;
      history.record(t, countGroupsAt(fleet, t, start, random));
      await history.settle(t);
    }
    const filled = await history.settle(clock.now);
    const sealed = await history.settle(start + 3_600_000 + 30 * 60_000);

    const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const busy = (to: HistoryStats, from: HistoryStats, part: keyof HistoryStats['busyMs']): number => to.busyMs[part] - from.busyMs[part];
    const first = afterWarmup!;
    const worker = {
      record: busy(counted, first, 'record') / intervals,
      flush: busy(counted, first, 'flush') / intervals,
      seal: (busy(counted, first, 'seal') + busy(counted, first, 'prune')) / intervals,
      hourStartMs: busy(first, beforeHourStart!, 'record') + busy(first, beforeHourStart!, 'flush'),
      sealHourMs: busy(sealed, filled, 'seal'),
      sealCells: sealed.sealedCells - filled.sealedCells,
      perIntervalMs: 0,
    };
    worker.perIntervalMs = worker.record + worker.flush + worker.seal + (worker.hourStartMs + worker.sealHourMs) / 360;
    const offMs = mean(off);
    const onMs = mean(on);
    return {
      nodes, intervals, snapshotBytes: Math.round(snapshotBytes / rounds.length / nodes),
      off: timingOf(off), on: timingOf(on),
      onParts: { ingest: timingOf(parts.ingest), handoff: timingOf(parts.handoff) },
      worker,
      throughputOff: nodes / (offMs / 1000),
      throughputOn: nodes / (onMs / 1000),
      historyShare: (onMs - offMs) / offMs,
      handoffShare: mean(parts.handoff) / offMs,
      workerShare: worker.perIntervalMs / offMs,
    };
  } finally {
    await history.close(clock.now);
    rmSync(dir, { recursive: true, force: true });
  }
}
