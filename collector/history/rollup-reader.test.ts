// The reader takes runs of neighbouring series ids with one range seek per bucket: whatever ids
// it is given (sparse, dense, one), each series gets exactly its own steps, merged from packed
// blobs, late rows and the open hour in memory.
import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from './capacity.js';
import { HistoryStore } from './history-store.js';
import type { Resolution } from './rollup.js';
import { BUCKET_MS, bucketOf } from './rollup.js';
import { selectSeries, StepReader } from './rollup-reader.js';
import type { SamplePoint } from './series-key.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const NODES = 30;
const PORTS = [80, 443];

const stores: HistoryStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

const valueOf = (node: number, port: number, t: number): number => (node * 7 + port + Math.floor(t / 10_000) * 3) % 50;

/** Three hours of samples every 10 s; hours 0 and 1 sealed, a late sample at the end of hour 0 as a row (later in time too, so its `last` wins either way), hour 2 open in memory. */
function filledStore(): { store: HistoryStore; samples: Map<string, Array<[number, number]>> } {
  const clock = { now: T0 };
  const store = HistoryStore.open({ flushEveryMs: 0, pruneEveryMs: 0, now: () => clock.now });
  stores.push(store);
  const samples = new Map<string, Array<[number, number]>>();
  const record = (t: number): void => {
    const points: SamplePoint[] = [];
    for (let n = 0; n < NODES; n++) {
      for (const port of PORTS) {
        const value = valueOf(n, port, t);
        points.push({ node: `n${n}`, port, direction: 'inbound', state: 'ESTABLISHED', value });
        const key = `n${n}:${port}`;
        samples.set(key, [...(samples.get(key) ?? []), [t, value]]);
      }
    }
    store.recordSample(t, points);
  };
  for (let t = T0; t < T0 + 3 * HOUR; t += 10_000) {
    clock.now = t;
    record(t);
    if (t % 600_000 === 0) store.flushAndSeal();
  }
  store.flush();
  while (store.seal() > 0);
  record(T0 + HOUR - 5_000);
  store.flush();
  return { store, samples };
}

function expected(samples: Array<[number, number]>, resolution: Resolution): Array<Omit<Step, 't'> & { t: number }> {
  const cells = new Map<number, Step>();
  for (const [t, v] of [...samples].sort((a, b) => a[0] - b[0])) {
    const start = bucketOf(t, resolution) * BUCKET_MS[resolution];
    const c = cells.get(start);
    if (!c) cells.set(start, { t: start, min: v, max: v, sum: v, count: 1, last: v });
    else Object.assign(c, { min: Math.min(c.min, v), max: Math.max(c.max, v), sum: c.sum + v, count: c.count + 1, last: v });
  }
  return [...cells.values()];
}

describe('StepReader', () => {
  it.each(['minute', 'hour'] as const)('reads each series\' own %s steps, for sparse, dense and single ids alike', (resolution) => {
    const { store, samples } = filledStore();
    // All three sources are there: sealed blobs, late rows, open hours.
    expect(store.stats.sealedCells).toBeGreaterThan(0);
    expect(store.stats.rowsWritten).toBeGreaterThan(0);
    expect(store.openSeries().size).toBeGreaterThan(NODES);
    const series = selectSeries(store.database, { sql: "s.node <> '*'", params: [] });
    expect(series).toHaveLength(NODES * PORTS.length);
    // Wide enough at minute resolution that a run holds only a few series.
    const from = bucketOf(T0 - 10 * 24 * HOUR, resolution);
    const to = bucketOf(T0 + 4 * HOUR, resolution);
    const source = { database: store.database, openSeries: () => store.openSeries() };
    const byId = new Map(series.map((s) => [s.id, `${s.node}:${s.port}`]));
    const ids = series.map((s) => s.id);
    const selections = [ids, ids.filter((_, i) => i % 3 === 0), [...ids.slice(0, 5), ...ids.slice(-5)], [ids[7] as number]];
    for (const wanted of selections) {
      const seen: number[] = [];
      new StepReader(source, resolution, from, to).readMany(wanted, (i, steps) => {
        seen.push(wanted[i] as number);
        const key = byId.get(wanted[i] as number) as string;
        // The open hour and the late row are in: every sample recorded is counted once.
        expect(steps.map((s) => ({ ...s }))).toEqual(expected(samples.get(key) ?? [], resolution));
      });
      expect(seen).toEqual(wanted);
    }
    const one = new StepReader(source, resolution, from, to);
    expect(one.read(ids[3] as number).map((s) => ({ ...s }))).toEqual(expected(samples.get(byId.get(ids[3] as number) as string) ?? [], resolution));
    expect(one.read(-1)).toEqual([]);
  });
});
