import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryStoreOptions } from './history-store.js';
import { HistoryStore } from './history-store.js';
import { HistoryStoreError } from './history-errors.js';
import type { Resolution } from './rollup.js';
import { bucketOf } from './rollup.js';
import { readSeriesSteps } from './rollup-reader.js';
import type { SamplePoint } from './series-key.js';

const T0 = Date.UTC(2024, 0, 1); // on a minute and an hour boundary
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

interface StoredRow {
  node: string;
  port: number;
  state: string;
  bucket: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
}

const dirs: string[] = [];
const stores: HistoryStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-history-'));
  dirs.push(dir);
  return dir;
}

/** A store on a clock the test moves; no timers, so flushes and prunes happen when the test says. */
function openStore(clock: { now: number }, options: HistoryStoreOptions = {}): HistoryStore {
  const store = HistoryStore.open({ flushEveryMs: 0, pruneEveryMs: 0, now: () => clock.now, ...options });
  stores.push(store);
  return store;
}

/** Stored rollups through the store's reader (minutes from packed hours and rows alike), in key then time order. */
function rows(store: HistoryStore, resolution: Resolution, node?: string): StoredRow[] {
  const out: StoredRow[] = [];
  const where = node === undefined ? { sql: '1', params: [] } : { sql: 's.node = ?', params: [node] };
  readSeriesSteps(store, resolution, where, bucketOf(T0 - DAY, resolution), bucketOf(T0 + 10 * DAY, resolution), (key, steps) => {
    for (const s of steps) {
      out.push({ node: key.node, port: key.port, state: key.state, bucket: bucketOf(s.t, resolution), min: s.min, max: s.max, sum: s.sum, count: s.count, last: s.last });
    }
  });
  const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => text(a.node, b.node) || a.port - b.port || text(a.state, b.state) || a.bucket - b.bucket);
}

const point = (node: string, value: number, port = 80, state = 'ESTABLISHED'): SamplePoint =>
  ({ node, port, direction: 'inbound', state, value });

/** Rollups computed the obvious way from (time, value) samples: what the store must match. */
function expectedRollups(samples: Array<[number, number]>, bucketMs: number): Array<Omit<StoredRow, 'node' | 'port' | 'state'>> {
  const out = new Map<number, Omit<StoredRow, 'node' | 'port' | 'state'>>();
  for (const [t, v] of samples) {
    const bucket = Math.floor(t / bucketMs);
    const r = out.get(bucket);
    if (!r) out.set(bucket, { bucket, min: v, max: v, sum: v, count: 1, last: v });
    else Object.assign(r, { min: Math.min(r.min, v), max: Math.max(r.max, v), sum: r.sum + v, count: r.count + 1, last: v });
  }
  return [...out.values()];
}

function tableRows(store: HistoryStore, table: string): number {
  return (store.database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

const strip = (r: StoredRow): Omit<StoredRow, 'node' | 'port' | 'state'> =>
  ({ bucket: r.bucket, min: r.min, max: r.max, sum: r.sum, count: r.count, last: r.last });

describe('HistoryStore rollups', () => {
  it('keeps exact min, max, sum, count and last per minute and per hour, over many flushes', () => {
    const clock = { now: T0 };
    // flushPoints 7: flushes land mid-minute, so buckets are merged by upserts across flushes.
    const store = openStore(clock, { flushPoints: 7 });
    const a: Array<[number, number]> = [];
    const b: Array<[number, number]> = [];
    const cluster: Array<[number, number]> = [];
    for (let i = 0; i < 2 * 360 + 5; i++) { // 2 h 50 s at a 10 s interval
      const t = T0 + i * 10_000;
      const va = (i * 7) % 11;
      const vb = 3 + (i % 4);
      a.push([t, va]);
      b.push([t, vb]);
      cluster.push([t, va + vb]);
      expect(store.recordSample(t, [point('a', va), point('b', vb)])).toEqual({ accepted: 3, rejected: 0, dropped: 0 });
    }
    store.flush();

    // The first minute by hand: i = 0..5 give a = 0, 7, 3, 10, 6, 2.
    expect(strip(rows(store, 'minute', 'a')[0] as StoredRow)).toEqual({ bucket: T0 / MIN, min: 0, max: 10, sum: 28, count: 6, last: 2 });
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(expectedRollups(a, MIN));
    expect(rows(store, 'minute', 'b').map(strip)).toEqual(expectedRollups(b, MIN));
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(a, HOUR));
    expect(rows(store, 'hour', 'b').map(strip)).toEqual(expectedRollups(b, HOUR));
    // Cluster-wide rows are rollups of the per-sample sums, not sums of the nodes' rollups.
    expect(rows(store, 'minute', '*').map(strip)).toEqual(expectedRollups(cluster, MIN));
    expect(rows(store, 'hour', '*').map(strip)).toEqual(expectedRollups(cluster, HOUR));
    expect(rows(store, 'hour', 'a')).toHaveLength(3);
    expect(rows(store, 'minute', 'a')).toHaveLength(121);
  });

  it('adds points with the same key in one sample', () => {
    const store = openStore({ now: T0 });
    store.recordSample(T0, [point('a', 2), point('a', 3)]);
    store.flush();
    expect(rows(store, 'minute', 'a').map(strip)).toEqual([{ bucket: T0 / MIN, min: 5, max: 5, sum: 5, count: 1, last: 5 }]);
  });

  it('records 0 for a series that vanished, then stops writing it', () => {
    const clock = { now: T0 };
    const store = openStore(clock, { zeroFillMs: 2 * MIN });
    store.recordSample(T0, [point('a', 4), point('b', 1)]);
    store.recordSample(T0 + 30_000, [point('b', 1)]); // a dropped to zero connections
    store.recordSample(T0 + 90_000, [point('b', 1)]); // still absent, within zeroFillMs
    store.recordSample(T0 + 3 * MIN, [point('b', 1)]); // absent for zeroFillMs: forgotten, nothing written
    store.flush();
    expect(rows(store, 'minute', 'a').map(strip)).toEqual([
      { bucket: T0 / MIN, min: 0, max: 4, sum: 4, count: 2, last: 0 },
      { bucket: T0 / MIN + 1, min: 0, max: 0, sum: 0, count: 1, last: 0 },
    ]);
    // The cluster's port-80 series kept b's count throughout.
    expect(rows(store, 'minute', '*').map((r) => [r.min, r.max, r.last])).toEqual([[1, 5, 1], [1, 1, 1], [1, 1, 1]]);
    expect(store.stats.zeroFilled).toBe(2);
  });
});

describe('HistoryStore persistence and retention', () => {
  it('seals finished hours from memory into blobs and hour rows, exactly, and merges a late sample into a sealed hour', () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const store = openStore(clock, { dir, zeroFillMs: 2 * MIN });
    const a: Array<[number, number]> = [];
    for (let i = 0; i < 3 * 360; i++) { // 3 h at a 10 s interval, a non-trivial pattern
      const t = T0 + i * 10_000;
      const v = (i * 37) % 101 + (i % 360 === 0 ? 5000 : 0);
      a.push([t, v]);
      clock.now = t;
      store.recordSample(t, [point('a', v)]);
      if (i % 30 === 0) store.flush();
      // The first hour ended a minute ago: not sealed before 2 minutes.
      if (i === 366) expect(store.seal()).toBe(0);
    }
    store.flush();
    const count = (table: string): number => (store.database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(count('rollup_minute_packed') + count('rollup_minute') + count('rollup_hour')).toBe(0);
    expect(count('rollup_minute_frame')).toBeGreaterThan(0);
    // Two hours ended more than the grace ago; the third ended 1 min ago.
    clock.now = T0 + 3 * HOUR + MIN;
    while (store.seal() > 0);
    expect(store.stats.sealedCells).toBe(2 * 2 * 60); // a and the cluster, two hours
    expect(count('rollup_minute_packed')).toBe(2 * 2);
    expect(count('rollup_hour')).toBe(2 * 2);
    expect(count('rollup_minute')).toBe(0);
    // Frames holding only sealed hours are gone; the third hour's are kept.
    expect((store.database.prepare('SELECT min(last_hour) AS h FROM rollup_minute_frame').get() as { h: number }).h).toBe(T0 / HOUR + 2);
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(expectedRollups(a, MIN));
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(a, HOUR));

    // A sample for a sealed minute: a row, read merged at once, packed into the blob by the next
    // seal. Written last, it is its buckets' last, as with any upsert.
    store.recordSample(T0 + 5_000, [point('a', 7000)]);
    store.flush();
    expect(count('rollup_minute')).toBe(2);
    const late: Array<[number, number]> = [...a.slice(0, 6), [T0 + 5_000, 7000], ...a.slice(6)];
    const lateHour: Array<[number, number]> = [...a.slice(0, 360), [T0 + 5_000, 7000], ...a.slice(360)];
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(expectedRollups(late, MIN));
    while (store.seal() > 0);
    expect(count('rollup_minute')).toBe(0);
    expect(count('rollup_minute_packed')).toBe(2 * 2);
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(expectedRollups(late, MIN));
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(lateHour, HOUR));
    store.close();
    const reopened = openStore(clock, { dir });
    expect(reopened.stats.recoveredCells).toBe(2 * 60);
    expect(rows(reopened, 'minute', 'a').map(strip)).toEqual(expectedRollups(late, MIN));
    expect(rows(reopened, 'hour', 'a').map(strip)).toEqual(expectedRollups(lateHour, HOUR));
    // The recovered hour is sealed like any other, exactly.
    clock.now = T0 + 4 * HOUR;
    while (reopened.seal() > 0);
    expect(rows(reopened, 'minute', 'a').map(strip)).toEqual(expectedRollups(late, MIN));
    expect(rows(reopened, 'hour', 'a').map(strip)).toEqual(expectedRollups(lateHour, HOUR));
    expect((reopened.database.prepare('SELECT count(*) AS n FROM rollup_minute_frame').get() as { n: number }).n).toBe(0);
  });

  it('rebuilds the open hours after a crash from the last flush, losing only what it had not written (and the open minute)', () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const crashed = openStore(clock, { dir });
    const a: Array<[number, number]> = [];
    for (let i = 0; i < 30; i++) { // 5 minutes
      const t = T0 + i * 10_000;
      clock.now = t;
      if (i < 18) a.push([t, i]);
      crashed.recordSample(t, [point('a', i)]);
      // Minutes 0-2 are closed (minute 3's first sample closed minute 2); minute 3 is still open.
      if (i === 23) crashed.flush();
    }
    // No close(): a second store opens the file as a restarted collector would.
    const restarted = HistoryStore.open({ dir, flushEveryMs: 0, pruneEveryMs: 0, now: () => clock.now });
    expect(restarted.stats.recoveredCells).toBe(2 * 3);
    expect(rows(restarted, 'minute', 'a').map(strip)).toEqual(expectedRollups(a, MIN));
    restarted.close();
  });

  it('skips a frame it cannot read at open, counts it, and keeps the others', () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(clock, { dir });
    for (let i = 0; i < 12; i++) first.recordSample(T0 + i * 10_000, [point('a', i)]);
    first.close();
    const db = new Database(join(dir, 'history.db'));
    db.prepare('INSERT INTO rollup_minute_frame (last_hour, body) VALUES (?, ?)').run(T0 / HOUR, Buffer.from([1, 2, 200, 1]));
    db.close();
    const second = openStore(clock, { dir });
    expect(second.stats).toMatchObject({ badFrames: 1, recoveredCells: 2 * 2 });
    expect(rows(second, 'minute', 'a').map((r) => r.count)).toEqual([6, 6]);
  });

  it('packs finished days\' hours into day blobs, exactly, and merges a late hour into a sealed day', () => {
    const clock = { now: T0 };
    const store = openStore(clock);
    const a: Array<[number, number]> = [];
    for (let i = 0; i < 2 * 144 + 20; i++) { // 2 days 3 h 20 min every 10 min, a non-trivial pattern
      const t = T0 + i * 10 * MIN;
      const v = (i * 37) % 101 + (i % 50 === 0 ? 5000 : 0);
      a.push([t, v]);
      store.recordSample(t, [point('a', v)]);
    }
    store.flush();
    const before = rows(store, 'hour');
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(a, HOUR));
    // Day 1 ended 2 h 1 min ago (past the grace), day 2 is open: two days of a and the cluster sealed.
    clock.now = T0 + 2 * DAY + 2 * HOUR + MIN;
    while (store.seal() > 0);
    expect(tableRows(store, 'rollup_hour_packed')).toBe(2 * 2);
    expect(tableRows(store, 'rollup_hour')).toBe(2 * 1); // hour 48 of day 2; 49-51 are still open, in memory
    expect(rows(store, 'hour')).toEqual(before);

    // A late sample for a sealed day: read merged at once, packed into the day's blob by the next
    // seal. Written last, it is its hour's last, as with any upsert.
    store.recordSample(T0 + 5 * HOUR + 1_000, [point('a', 9000)]);
    store.flush();
    const late: Array<[number, number]> = [...a.slice(0, 36), [T0 + 5 * HOUR + 1_000, 9000], ...a.slice(36)];
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(late, HOUR));
    expect(tableRows(store, 'rollup_hour')).toBe(2 * 1 + 2);
    while (store.seal() > 0);
    expect(tableRows(store, 'rollup_hour')).toBe(2 * 1);
    expect(tableRows(store, 'rollup_hour_packed')).toBe(2 * 2);
    expect(rows(store, 'hour', 'a').map(strip)).toEqual(expectedRollups(late, HOUR));
  });

  it('upgrades a schema-2 database in place and keeps its data', () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(clock, { dir });
    first.recordSample(T0, [point('a', 5)]);
    first.recordSample(T0 + HOUR, [point('a', 9)]);
    first.close();
    // Schema 2 is schema 3 without rollup_hour_packed.
    const old = new Database(join(dir, 'history.db'));
    old.exec('DROP TABLE rollup_hour_packed');
    old.pragma('user_version = 2');
    old.close();

    clock.now = T0 + DAY + 3 * HOUR;
    const upgraded = openStore(clock, { dir });
    expect(upgraded.database.pragma('user_version', { simple: true })).toBe(3);
    const hours = [{ bucket: T0 / HOUR, min: 5, max: 5, sum: 5, count: 1, last: 5 }, { bucket: T0 / HOUR + 1, min: 9, max: 9, sum: 9, count: 1, last: 9 }];
    expect(rows(upgraded, 'hour', 'a').map(strip)).toEqual(hours);
    // Its hour rows are sealed into days like any others.
    while (upgraded.seal() > 0);
    expect(tableRows(upgraded, 'rollup_hour')).toBe(0);
    expect(rows(upgraded, 'hour', 'a').map(strip)).toEqual(hours);
  });

  it('refuses a database from a newer fleetstat', () => {
    const dir = tempDir();
    const newer = new Database(join(dir, 'history.db'));
    newer.pragma('user_version = 4');
    newer.close();
    expect(() => HistoryStore.open({ dir })).toThrow(/schema 4, newer than this fleetstat's \(3\)/);
  });

  it('refuses a database in the pre-release layout with a clear message', () => {
    const dir = tempDir();
    const old = new Database(join(dir, 'history.db'));
    old.pragma('user_version = 1');
    old.close();
    expect(() => HistoryStore.open({ dir })).toThrow(/pre-release schema 1.*move it away or delete it/);
  });

  it('keeps history across close and reopen on the same dir, and keeps merging into it', () => {
    const dir = tempDir();
    const clock = { now: T0 };
    const first = openStore(clock, { dir });
    first.recordSample(T0, [point('a', 5)]);
    first.recordSample(T0 + 10_000, [point('a', 9)]);
    first.close(); // flushes
    first.close(); // safe twice

    const second = openStore(clock, { dir });
    expect(rows(second, 'minute', 'a').map(strip)).toEqual([{ bucket: T0 / MIN, min: 5, max: 9, sum: 14, count: 2, last: 9 }]);
    // a was non-zero before the restart and is absent after it: it still gets its 0.
    second.recordSample(T0 + 20_000, [point('b', 1)]);
    second.flush();
    expect(rows(second, 'minute', 'a').map(strip)).toEqual([{ bucket: T0 / MIN, min: 0, max: 9, sum: 14, count: 3, last: 0 }]);
    expect(second.database.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('removes buckets wholly older than each retention, and only those', () => {
    const clock = { now: T0 };
    const store = openStore(clock, { retention: { minutes: 1 * DAY, hours: 3 * DAY } });
    const cutoffMinute = T0 + 2 * DAY; // "now - minute retention" once the clock is moved
    store.recordSample(T0 + 10 * MIN, [point('old', 1)]); // a series whose rows all expire
    for (const t of [cutoffMinute - 2 * MIN, cutoffMinute - MIN, cutoffMinute, cutoffMinute + MIN]) store.recordSample(t, [point('a', 1)]);
    store.flush();
    expect(rows(store, 'hour', 'old')).toHaveLength(1);

    // Now is 30 s into the minute at the cutoff, an hour boundary: the packed hour before it
    // (a's two minutes) and "old"'s go, each with the cluster's cells (x2); the cutoff's hour
    // still holds minutes inside the window and stays.
    clock.now = cutoffMinute + 1 * DAY + 30_000;
    while (store.seal() > 0);
    expect(store.prune()).toEqual({ minuteRows: 2 * 3, hourRows: 0, series: 0 });
    expect(rows(store, 'minute', 'a').map((r) => r.bucket)).toEqual([cutoffMinute / MIN, cutoffMinute / MIN + 1]);
    expect(rows(store, 'hour', 'old')).toHaveLength(1);
    // Once all of day 0 is past the hour retention, its packed day goes, T0's hour with it, and
    // "old" (it has nothing left); the minute retention has by then passed a's last two minutes.
    clock.now = T0 + 4 * DAY;
    expect(store.prune()).toEqual({ minuteRows: 2 * 2, hourRows: 2 * 1, series: 1 });
    expect(rows(store, 'hour', 'old')).toEqual([]);
    expect(rows(store, 'minute', 'a')).toEqual([]);
    expect(rows(store, 'hour', 'a').map((r) => r.bucket)).toEqual([(cutoffMinute - HOUR) / HOUR, cutoffMinute / HOUR]);
    expect(store.stats.prunedSeries).toBe(1);
    // A pruned series comes back cleanly when it reports again.
    store.recordSample(clock.now, [point('old', 2)]);
    store.flush();
    expect(rows(store, 'minute', 'old').map((r) => r.last)).toEqual([2]);
  });

  it('removes a packed day once all its hours are past retention, and the series with its last', () => {
    const clock = { now: T0 };
    const store = openStore(clock, { retention: { minutes: 1 * DAY, hours: 3 * DAY } });
    for (let t = T0; t < T0 + 2 * DAY; t += 30 * MIN) store.recordSample(t, [point('a', 1)]);
    store.flush();
    clock.now = T0 + 2 * DAY + 3 * HOUR;
    while (store.seal() > 0);
    expect(tableRows(store, 'rollup_hour')).toBe(0);
    expect(tableRows(store, 'rollup_hour_packed')).toBe(2 * 2);

    // Hour 23 of day 0 is still inside the hour retention: the whole day stays. Every minute goes.
    clock.now = T0 + 3 * DAY + 23 * HOUR + 30 * MIN;
    expect(store.prune()).toEqual({ minuteRows: 2 * 96, hourRows: 0, series: 0 });
    expect(rows(store, 'hour', 'a')).toHaveLength(48);
    // Day 0's last hour is past it: its 24 hours go, for a and the cluster.
    clock.now = T0 + 4 * DAY + 30 * MIN;
    expect(store.prune()).toEqual({ minuteRows: 0, hourRows: 2 * 24, series: 0 });
    expect(rows(store, 'hour', 'a').map((r) => r.bucket)).toEqual(Array.from({ length: 24 }, (_, h) => T0 / HOUR + 24 + h));
    // Day 1 too, and with it a's and the cluster's last hour: both series go.
    clock.now = T0 + 5 * DAY;
    expect(store.prune()).toEqual({ minuteRows: 0, hourRows: 2 * 24, series: 2 });
    expect(tableRows(store, 'rollup_hour_packed')).toBe(0);
    expect(tableRows(store, 'series')).toBe(0);
  });
});

describe('HistoryStore batching and bad input', () => {
  it('writes what a flush gathered as one frame in one transaction', () => {
    const clock = { now: T0 };
    const store = openStore(clock);
    for (let i = 0; i < 1000; i++) {
      clock.now = T0 + i * 1000;
      store.recordSample(clock.now, Array.from({ length: 10 }, (_, n) => point(`node-${n}`, i % 13)));
    }
    expect(store.stats.transactions).toBe(0);
    expect(store.flush()).toBe(true);
    expect(store.stats).toMatchObject({ transactions: 1, framesWritten: 1, rowsWritten: 0, points: 10_000 });
    expect((store.database.prepare('SELECT count(*) AS n FROM rollup_minute_frame').get() as { n: number }).n).toBe(1);
    // Minutes 0-15 from the frame's journals, minute 16 (still open) from memory.
    expect(rows(store, 'minute', 'node-3').reduce((n, r) => n + r.count, 0)).toBe(1000);
    expect(store.flush()).toBe(true);
    expect(store.stats.transactions).toBe(1); // nothing new: no write
  });

  /** A store whose first hour (nodes a-d at T0) is sealed: samples for it are late rows. */
  function sealedStore(options: HistoryStoreOptions): { store: HistoryStore; clock: { now: number } } {
    const clock = { now: T0 };
    const store = openStore(clock, options);
    store.recordSample(T0, ['a', 'b', 'c', 'd'].map((n) => point(n, 1)));
    clock.now = T0 + 2 * HOUR;
    store.flush();
    while (store.seal() > 0);
    return { store, clock };
  }

  it('flushes late rows by itself once flushPoints of them are pending', () => {
    const { store } = sealedStore({ flushPoints: 30 });
    const before = store.stats.flushes;
    // 5 points each (a, b, the cluster, zeros for c and d): the 6th call reaches 30 and flushes.
    for (let i = 0; i < 10; i++) store.recordSample(T0 + i * 1000, [point('a', 1), point('b', 1)]);
    expect(store.stats.flushes).toBe(before + 1);
    expect(store.pendingCells).toBe(5); // the last 4 calls' cells, one per series
  });

  it('bounds the late-row buffer and counts what it drops', () => {
    const { store } = sealedStore({ maxPendingCells: 4 });
    const result = store.recordSample(T0 + 1000, [point('a', 1), point('b', 1), point('c', 1), point('d', 1)]);
    expect(result).toEqual({ accepted: 4, rejected: 0, dropped: 1 }); // 4 nodes + 1 cluster cell
    expect(store.recordSample(T0 + 2000, [point('a', 2)]).accepted).toBe(4); // existing cells still merge
    expect(store.stats.dropped).toBeGreaterThanOrEqual(1);
    store.flush();
    expect(store.pendingCells).toBe(0);
  });

  it('keeps samples through a failed flush or seal and writes them on the next', () => {
    const clock = { now: T0 };
    const dir = tempDir();
    const store = openStore(clock, { dir });
    store.recordSample(T0, [point('a', 3)]);
    clock.now = T0 + MIN;
    store.recordSample(clock.now, [point('a', 4)]); // closes minute 0: its cell is in the next frame
    store.database.exec('ALTER TABLE rollup_minute_frame RENAME TO frames_away');
    expect(store.flush()).toBe(false);
    expect(store.stats).toMatchObject({ flushErrors: 1, transactions: 0 });
    store.database.exec('ALTER TABLE frames_away RENAME TO rollup_minute_frame');
    store.recordSample(T0 + 1000, [point('a', 5)]); // late for its minute, which is journaled
    expect(store.flush()).toBe(true);
    const minutes = [{ bucket: T0 / MIN, min: 3, max: 5, sum: 8, count: 2, last: 5 }, { bucket: T0 / MIN + 1, min: 4, max: 4, sum: 4, count: 1, last: 4 }];
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(minutes);
    // The frame the failed flush could not write went with the next, once: a restart reads
    // minute 0 exactly (minute 1 is still open, in memory only).
    const restarted = HistoryStore.open({ dir, flushEveryMs: 0, pruneEveryMs: 0, now: () => clock.now });
    expect(rows(restarted, 'minute', 'a').map(strip)).toEqual(minutes.slice(0, 1));
    restarted.close();

    // The hour upsert fails mid-seal, after the blob went in: all of it is undone and redone.
    clock.now = T0 + 2 * HOUR;
    store.database.exec('ALTER TABLE rollup_hour RENAME TO rollup_hour_away');
    expect(store.seal()).toBe(0);
    expect(store.stats.sealErrors).toBe(1);
    store.database.exec('ALTER TABLE rollup_hour_away RENAME TO rollup_hour');
    expect(store.seal()).toBe(2 * 2);
    expect(rows(store, 'minute', 'a').map(strip)).toEqual(minutes);
    expect(rows(store, 'hour', 'a').map(strip)).toEqual([{ bucket: T0 / HOUR, min: 3, max: 5, sum: 12, count: 3, last: 4 }]);
  });

  it.each(['plain', 'two keys naming one series', 'a group given twice'])('takes the collector\'s counts by connection key as it takes points (%s), and counts bad ones', (variant) => {
    // Two keys of one series add up; a group given again in the same call is refused.
    // Key 99 has an impossible port; 1080 names port 80 as 80 does (a collision).
    const labels = (key: number): { port: number; direction: string; state: string } =>
      key === 99 ? { port: 70_000, direction: 'inbound', state: '' } : { port: key % 1000, direction: 'inbound', state: 'ESTABLISHED' };
    const byKey = openStore({ now: T0 });
    const byPoint = openStore({ now: T0 });
    for (let i = 0; i < 20; i++) {
      const t = T0 + i * 10_000;
      const counts = new Map([[80, i % 7], [443, 3], [99, 1]]);
      if (variant === 'two keys naming one series') counts.set(1080, 2);
      const groups = [
        { node: 'n1', counts }, { node: 'n1', namespace: 'shop', pod: 'web-1', workload: 'Deployment/web', counts: new Map([[80, 2]]) },
        { node: '*', counts }, { node: 'n2', counts: new Map([[80, Number.NaN]]) },
      ];
      if (variant === 'a group given twice') groups.push({ node: 'n1', counts: new Map([[80, 5]]) });
      const extra = variant === 'two keys naming one series' ? 2 : 0;
      const repeated = variant === 'a group given twice' ? 1 : 0;
      expect(byKey.recordCounts(t, groups, labels)).toMatchObject({ accepted: 2 + 1 + 3, rejected: 1 + counts.size + 1 + repeated });
      byPoint.recordSample(t, [point('n1', (i % 7) + extra), point('n1', 3, 443),
        { ...point('n1', 2), namespace: 'shop', pod: 'web-1', workload: 'Deployment/web' }]);
    }
    const all = (store: HistoryStore): StoredRow[] => {
      const out: StoredRow[] = [];
      readSeriesSteps(store, 'minute', { sql: '1', params: [] }, T0 / MIN, T0 / MIN + 10, (key, steps) => {
        for (const s of steps) out.push({ node: `${key.node}/${key.pod}/${key.workload}`, port: key.port, state: key.state, bucket: bucketOf(s.t, 'minute'), min: s.min, max: s.max, sum: s.sum, count: s.count, last: s.last });
      });
      return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) || a.port - b.port || a.bucket - b.bucket);
    };
    byKey.flush();
    byPoint.flush();
    expect(all(byKey)).toHaveLength(2 * 4 * 2 + 2 * 4); // n1 and '*' x 2 ports x 4 minutes, the pod and its workload x 4 minutes
    expect(all(byKey)).toEqual(all(byPoint));
    expect(byKey.stats.rejected.bad_value).toBe(20);
  });

  it('rejects and counts garbage, never throws', () => {
    const store = openStore({ now: T0 });
    const garbage = [
      point('a', -1), point('a', Number.NaN), point('a', Number.POSITIVE_INFINITY),
      { ...point('a', 1), value: '3' }, null, 'x', { ...point('a', 1), port: 70_000 }, { ...point('a', 1), port: 1.5 },
      point('*', 1), point('', 1), { ...point('a', 1), direction: 7 }, { ...point('a', 1), pod: 'p'.repeat(300) },
    ] as unknown as SamplePoint[];
    const result = store.recordSample(T0, [...garbage, point('ok', 2)]);
    expect(result).toEqual({ accepted: 2, rejected: 12, dropped: 0 });
    expect(store.stats.rejected).toMatchObject({ bad_value: 4, bad_key: 8 });

    expect(store.recordSample(Number.NaN, [point('a', 1)])).toMatchObject({ accepted: 0, rejected: 1 });
    expect(store.stats.rejected.bad_time).toBe(1);
    function* broken(): Generator<SamplePoint> {
      yield point('a', 1);
      throw new Error('iterator failed');
    }
    expect(store.recordSample(T0, broken())).toMatchObject({ accepted: 0, rejected: 1 });
    expect(store.recordSample(T0, null as unknown as SamplePoint[])).toMatchObject({ accepted: 0, rejected: 1 });
    expect(store.stats.rejected.bad_input).toBe(2);

    store.flush();
    expect(rows(store, 'minute').map((r) => [r.node, r.last])).toEqual([['*', 2], ['ok', 2]]);
    store.close();
    expect(store.recordSample(T0, [point('a', 1)])).toMatchObject({ accepted: 0, rejected: 1 });
    expect(store.stats.rejected.closed).toBe(1);
  });

  it('fails fast at open on bad options', () => {
    expect(() => HistoryStore.open({ retention: { minutes: -1 } })).toThrow(HistoryStoreError);
    expect(() => HistoryStore.open({ flushEveryMs: Number.NaN })).toThrow(HistoryStoreError);
  });
});
