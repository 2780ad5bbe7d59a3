// Bench part 3b: what recording history costs the collector's ingest. Two collectors take the
// same encoded snapshots of 10,000 simulated nodes, interval after interval (interleaved, so
// machine load hits both alike): one without history, one recording every interval as
// collector.ts does (recordHistory: liveCountGroups -> recordCounts) and flushing and sealing as
// its 5 s timer does. History's share is its time (recordHistory, flush, seal) over the
// ingest-only collector's ingest time, both as means per interval. The first 7 intervals warm up
// and are not counted: every node is new in the first, and the first minute's close (the 7th)
// starts every series' journal for the hour, which happens once an hour. Hourly work is timed
// apart and added per interval as 1/360 of it: that 7th interval's recordHistory and flush
// (whole, not just the extra), and sealing one full open hour of every series from memory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Collector } from '../collector/collector.js';
import { FleetState } from '../collector/fleet-state.js';
import { HistoryStore } from '../collector/history/history-store.js';
import { encodeSnapshot } from '../test/support/snapshots.js';
import { fleetSeries, makeRandom, pointsAt, STATE_CODES, valueAt } from './history-model.js';
import type { Timing } from './lib/stats.js';
import { nowMs, timingOf } from './lib/stats.js';

const INTERVAL_MS = 10_000;
/** Intervals not counted: the first (every node new) through the first minute's close. */
const WARMUP = 7;

export interface IngestResult {
  nodes: number;
  intervals: number;
  snapshotBytes: number;
  /** Per interval (all nodes' snapshots), ms. */
  off: Timing;
  on: Timing;
  /** Parts of the history collector's interval: its ingest, recordHistory, flush + seal. */
  onParts: { ingest: Timing; record: Timing; flush: Timing };
  /** One open hour of every series sealed (packed blobs, hour rows), ms; and the minute cells it held. */
  sealHourMs: number;
  sealCells: number;
  /** The interval whose record starts every series' journal for a new hour: recordHistory + flush, ms. */
  hourStartMs: number;
  /**
   * History's cost per interval: the means of recordHistory and flush (a minute's close happens
   * every 6th interval: a median would leave it out), plus 1/360 of the hour's start and seal.
   */
  historyMs: number;
  /** Snapshots per second without and with history, and history's cost as a share of ingest time. */
  throughputOff: number;
  throughputOn: number;
  historyShare: number;
}

export function measureIngest(options: { nodes: number; intervals: number; progress: (text: string) => void }): IngestResult {
  const { nodes, intervals } = options;
  const random = makeRandom(7);
  const fleet = fleetSeries(nodes, random);
  const start = Date.UTC(2024, 0, 1);
  const clock = { now: start };
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-ingest-'));
  const logger = pino({ level: 'silent' });
  const history = HistoryStore.open({ dir, now: () => clock.now, flushEveryMs: 0, pruneEveryMs: 0 });
  const withHistory = new Collector({ cluster: 'test', logger, history, now: () => clock.now });
  const without = new FleetState({ cluster: 'test', logger, now: () => clock.now });
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
    const parts = { ingest: [] as number[], record: [] as number[], flush: [] as number[] };
    // Round 0 warms both up (every node is new there) and is not counted.
    let hourStartMs = 0;
    for (let round = 0; round < WARMUP + intervals; round++) {
      clock.now = start + round * INTERVAL_MS;
      const snapshots = rounds[round]!;
      const origin = { transport: 'nats' as const, receivedAtMs: clock.now };
      const runOff = (): number => {
        const t0 = nowMs();
        for (const bytes of snapshots) without.ingest(bytes, origin);
        return nowMs() - t0;
      };
      const runOn = (): number[] => {
        const t0 = nowMs();
        for (const bytes of snapshots) withHistory.state.ingest(bytes, origin);
        const t1 = nowMs();
        withHistory.recordHistory(history, clock.now);
        const t2 = nowMs();
        history.flushAndSeal();
        return [t1 - t0, t2 - t1, nowMs() - t2];
      };
      // Alternate which goes first.
      let offMs: number;
      let onMs: number[];
      if (round % 2 === 0) {
        offMs = runOff();
        onMs = runOn();
      } else {
        onMs = runOn();
        offMs = runOff();
      }
      if (round === WARMUP - 1) hourStartMs = onMs[1]! + onMs[2]!;
      if (round < WARMUP) continue;
      off.push(offMs);
      on.push(onMs[0]! + onMs[1]! + onMs[2]!);
      parts.ingest.push(onMs[0]!);
      parts.record.push(onMs[1]!);
      parts.flush.push(onMs[2]!);
    }
    const accepted = withHistory.state.counters.accepted;
    if (accepted !== nodes * (WARMUP + intervals)) throw new Error(`history collector accepted ${accepted} snapshots, expected ${nodes * (WARMUP + intervals)}`);

    // A full open hour for every series: one sample a minute (the model's values) for the rest
    // of the hour, flushed as the timer would, then the hour sealed.
    options.progress('  3b: filling the open hour of every series, then sealing it');
    for (let t = clock.now + 60_000; t < start + 3_600_000; t += 60_000) {
      clock.now = t;
      history.recordSample(t, pointsAt(fleet, t, start, random));
      history.flush();
    }
    clock.now = start + 3_600_000 + 30 * 60_000;
    history.flush();
    const sealedBefore = history.stats.sealedCells;
    const t0 = nowMs();
    while (history.seal() > 0);
    const sealHourMs = nowMs() - t0;
    const sealCells = history.stats.sealedCells - sealedBefore;

    const offT = timingOf(off);
    const onT = timingOf(on);
    const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const historyMs = mean(parts.record) + mean(parts.flush) + (hourStartMs + sealHourMs) / 360;
    const ingestMs = mean(off);
    return {
      nodes, intervals, snapshotBytes: Math.round(snapshotBytes / rounds.length / nodes),
      off: offT, on: onT,
      onParts: { ingest: timingOf(parts.ingest), record: timingOf(parts.record), flush: timingOf(parts.flush) },
      sealHourMs, sealCells, hourStartMs, historyMs,
      throughputOff: nodes / (ingestMs / 1000),
      throughputOn: nodes / ((ingestMs + historyMs) / 1000),
      historyShare: historyMs / ingestMs,
    };
  } finally {
    history.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

