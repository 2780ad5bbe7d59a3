// The history store on its worker thread, as the collector runs it: answers equal the store's
// in-process answers, errors keep their kind, a data directory survives a restart and a crash of
// the worker, and a worker that falls behind costs dropped (counted) batches, not memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionKey } from '../../agent/snapshot/connection-key.js';
import { connectionLabels } from '../api/fleet-views.js';
import type { CountGroup } from './count-batch.js';
import { HistoryQueryError, HistoryStoreError } from './history-errors.js';
import { HistoryStore } from './history-store.js';
import { HistoryThread, HistoryUnavailableError } from './history-thread.js';
import { queryReport, querySeries } from './queries.js';

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const ESTABLISHED = connectionKey(80, 1, 1);
const TIME_WAIT = connectionKey(80, 1, 6);
const silent = pino({ level: 'silent' });

const dirs: string[] = [];
const threads: HistoryThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-thread-'));
  dirs.push(dir);
  return dir;
}

async function openThread(options: Partial<Parameters<typeof HistoryThread.open>[0]> = {}): Promise<HistoryThread> {
  const thread = await HistoryThread.open({ logger: silent, flushEveryMs: 0, pruneEveryMs: 0, ...options });
  threads.push(thread);
  return thread;
}

/** Node a ramps, node b is flat, pod web-1 on a holds part of a's. */
function groupsAt(i: number): CountGroup[] {
  return [
    { node: 'a', counts: new Map([[ESTABLISHED, 10 + i], [TIME_WAIT, i % 3]]) },
    { node: 'a', namespace: 'shop', pod: 'web-1', workload: 'Deployment/web', counts: new Map([[ESTABLISHED, i]]) },
    { node: 'b', counts: new Map([[ESTABLISHED, 5]]) },
  ];
}

/** The thread's worker and the one being started, for the crash tests. */
const internals = (thread: HistoryThread): { worker: Worker | undefined; starting: Promise<void> | undefined } =>
  thread as unknown as { worker: Worker | undefined; starting: Promise<void> | undefined };

const waitFor = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(ok()).toBe(true);
};

describe('HistoryThread', () => {
  it('answers series and reports as the store does in process', async () => {
    // Room for every batch: they are posted faster than a worker records them.
    const thread = await openThread({ maxQueuedBatches: 200 });
    const store = HistoryStore.open({ now: () => T0 + 30 * 60_000, flushEveryMs: 0, pruneEveryMs: 0 });
    try {
      for (let i = 0; i < 30 * 6; i++) {
        thread.record(T0 + i * 10_000, groupsAt(i));
        store.recordCounts(T0 + i * 10_000, groupsAt(i), connectionLabels);
      }
      const now = T0 + 30 * 60_000;
      for (const by of ['node', 'port', 'pod', 'workload'] as const) {
        expect(await thread.report({ since: 3_600_000, by }, now)).toEqual(queryReport(store, { since: 3_600_000, by }));
      }
      const query = { from: T0, to: now, stepMs: 300_000, filter: { node: 'a' } };
      const series = await thread.series(query, now);
      expect(series).toEqual(querySeries(store, query));
      expect(series.series).toHaveLength(2);
      expect(thread.stats).toMatchObject({ batches: 180, droppedBatches: 0, restarts: 0 });
      expect(thread.stats.store).toMatchObject({ samples: 180, points: 180 * 4 });
      expect(thread.stats.store?.busyMs.record).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('keeps the kind of a query error and reports an unusable directory at open', async () => {
    const thread = await openThread();
    await expect(thread.report({ since: -1, by: 'node' }, T0)).rejects.toBeInstanceOf(HistoryQueryError);
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(HistoryThread.open({ logger: silent, dir: file })).rejects.toBeInstanceOf(HistoryStoreError);
    await expect(HistoryThread.open({ logger: silent, retention: { minutes: -1 } })).rejects.toThrow(/retention/);
  });

  it('keeps history in its directory across close and reopen', async () => {
    const dir = tempDir();
    const first = await openThread({ dir });
    for (let i = 0; i < 12; i++) first.record(T0 + i * 10_000, groupsAt(i));
    await first.close(T0 + 12 * 10_000);
    await first.close();
    await expect(first.report({ since: 3_600_000, by: 'node' }, T0)).rejects.toBeInstanceOf(HistoryUnavailableError);
    expect(first.record(T0, groupsAt(0))).toBe(false);

    const second = await openThread({ dir });
    const report = await second.report({ since: 3_600_000, by: 'node' }, T0 + 2 * 60_000);
    expect(report.rows.map((r) => [r.node, r.state, r.peak, r.last])).toEqual([['a', 'ESTABLISHED', 21, 21], ['b', 'ESTABLISHED', 5, 5], ['a', 'TIME_WAIT', 2, 2]]);
  });

  it('restarts a worker that died, with what its last flush wrote, and drops (counts) batches meanwhile', async () => {
    const dir = tempDir();
    const thread = await openThread({ dir });
    for (let i = 0; i < 12; i++) thread.record(T0 + i * 10_000, groupsAt(i));
    await thread.settle(T0 + 12 * 10_000);
    const minutes = async (): Promise<Array<number | null>> => {
      const result = await thread.series({ from: T0, to: T0 + 2 * 60_000, stepMs: 60_000, filter: { node: 'a', state: 'ESTABLISHED' } }, T0 + 2 * 60_000);
      return result.series[0]?.points.map((p) => p.max) ?? [];
    };
    expect(await minutes()).toEqual([15, 21, null]);

    const asking = minutes();
    await internals(thread).worker?.terminate();
    await expect(asking).rejects.toBeInstanceOf(HistoryUnavailableError);
    expect(thread.record(T0 + 12 * 10_000, groupsAt(12))).toBe(false);
    expect(thread.stats.droppedBatches).toBe(1);

    await waitFor(() => thread.stats.restarts === 1 && thread.record(T0 + 13 * 10_000, groupsAt(13)));
    // The first minute was flushed before the crash; the second was still open (lost, as in a
    // crash of the collector); the third is recorded after the restart.
    expect(await minutes()).toEqual([15, null, 23]);
  });

  it('seals by the caller\'s clock, however far it is from this machine\'s, timer ticks and all', async () => {
    const thread = await openThread({ flushEveryMs: 20, nowMs: T0 });
    // Timer ticks before any batch: the worker's clock is T0, not today.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 6; i++) {
      thread.record(T0 + i * 10 * 60_000, groupsAt(i));
      await thread.settle(T0 + i * 10 * 60_000);
    }
    expect((await thread.settle(T0 + 63 * 60_000)).sealedCells).toBeGreaterThan(0);
  });

  it('opens a directory whose frames it cannot all read, logging what it lost', async () => {
    const dir = tempDir();
    const first = await openThread({ dir });
    for (let i = 0; i < 12; i++) first.record(T0 + i * 10_000, groupsAt(i));
    await first.close(T0 + 12 * 10_000);
    const db = new Database(join(dir, 'history.db'));
    db.prepare('INSERT INTO rollup_minute_frame (last_hour, body) VALUES (?, ?)').run(T0 / 3_600_000, Buffer.from([1, 2, 200, 1]));
    db.close();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const second = await openThread({ dir, logger, nowMs: T0 + 12 * 10_000 });
    expect(second.stats.store).toMatchObject({ badFrames: 1 });
    expect(lines.join('')).toContain('history frames unreadable at open');
    const report = await second.report({ since: 3_600_000, by: 'node' }, T0 + 2 * 60_000);
    expect(report.rows.map((r) => [r.node, r.state, r.peak])).toEqual([['a', 'ESTABLISHED', 21], ['b', 'ESTABLISHED', 5], ['a', 'TIME_WAIT', 2]]);
  });

  it('closes a worker that is still starting after a crash, and stops recording once closed', async () => {
    const thread = await openThread({ dir: tempDir() });
    thread.record(T0, groupsAt(0));
    await thread.settle(T0);
    await internals(thread).worker?.terminate();
    await waitFor(() => internals(thread).starting !== undefined);
    await thread.close(T0);
    expect(internals(thread).worker).toBeUndefined();
    expect(thread.record(T0 + 10_000, groupsAt(1))).toBe(false);
    expect(thread.stats.droppedBatches).toBe(0);
  });

  it('keeps no process alive while idle', () => {
    // A child opens a thread, hands it a batch and returns, asking nothing: it must exit on its
    // own (a collector's CLI command does once its server closes, after closing history).
    const script = `
      import { pino } from 'pino';
      import { HistoryThread } from ${JSON.stringify(new URL('./history-thread.ts', import.meta.url).href)};
      const thread = await HistoryThread.open({ logger: pino({ level: 'silent' }) });
      thread.record(Date.now(), [{ node: 'a', counts: new Map([[${ESTABLISHED}, 1]]) }]);
      console.log('done');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('done');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });

  it('drops batches past maxQueuedBatches while the worker is busy, and counts them', async () => {
    const thread = await openThread({ maxQueuedBatches: 2 });
    const taken = [0, 1, 2, 3].map((i) => thread.record(T0 + i * 10_000, groupsAt(i)));
    expect(taken).toEqual([true, true, false, false]);
    await thread.settle(T0 + 40_000);
    expect(thread.stats).toMatchObject({ batches: 2, droppedBatches: 2 });
    expect(thread.stats.store?.samples).toBe(2);
    expect(thread.record(T0 + 50_000, groupsAt(5))).toBe(true);
  });
});
