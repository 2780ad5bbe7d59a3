// Fuzz: what the collector reads from the Kubernetes API (collector/kubernetes): Pod and
// EndpointSlice objects, watch lines and the newline splitter, fed recorded API responses
// (test/fixtures/kubernetes) mutated as bytes and as JSON trees. Never a throw; whatever is
// kept (ports, uids) is something the object said.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { toSlicePorts } from '../../collector/kubernetes/endpoint-slice-ports.js';
import { LineTooLongError, NdjsonLines } from '../../collector/kubernetes/ndjson-lines.js';
import { toPodInfo } from '../../collector/kubernetes/pod-info.js';
import { parseWatchLine } from '../../collector/kubernetes/watch-event.js';
import { FUZZ_TIMEOUT_MS, fuzz, guarded, printFigures } from './fuzz-run.js';
import { hostileBytes } from './mutate.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/kubernetes/${name}`, import.meta.url));
const itemsOf = (name: string): unknown[] => (JSON.parse(fixture(name).toString('utf8')) as { items: unknown[] }).items;
const pods = [...itemsOf('pods-list.json'), ...itemsOf('pods-relist.json')];
const slices = itemsOf('endpointslices-list.json');
const watchFiles = ['watch-events.ndjson', 'endpointslices-watch.ndjson', 'watch-expired.ndjson'].map((f) => new Uint8Array(fixture(f)));

/** A recorded object with a few subtrees replaced by generated JSON or removed. */
function treeMutated(objects: readonly unknown[]): fc.Arbitrary<unknown> {
  const change = fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) });
  return fc.tuple(fc.nat({ max: objects.length - 1 }), fc.array(change, { maxLength: 4 })).map(([pick, changes]) => {
    const root = structuredClone(objects[pick]);
    for (const { path, value } of changes) {
      let node = root;
      for (let depth = 0; depth < path.length; depth++) {
        if (node === null || typeof node !== 'object') break;
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[path[depth]! % keys.length]!;
        const holder = node as Record<string, unknown>;
        if (depth === path.length - 1 || holder[key] === null || typeof holder[key] !== 'object') {
          if (value === undefined) delete holder[key];
          else holder[key] = value;
          break;
        }
        node = holder[key];
      }
    }
    return root;
  });
}

/** Byte-mutated JSON of the objects, kept when it still parses. */
function byteMutated(objects: readonly unknown[]): fc.Arbitrary<unknown> {
  return hostileBytes(objects.map((o) => new Uint8Array(Buffer.from(JSON.stringify(o))))).map((bytes) => {
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    } catch {
      return Buffer.from(bytes).toString('utf8');
    }
  });
}

const hostile = (objects: readonly unknown[]): fc.Arbitrary<unknown> => fc.oneof(treeMutated(objects), byteMutated(objects), fc.jsonValue({ maxDepth: 4 }));
const sortedPorts = (ports: readonly number[]): boolean => ports.every((p, i) => Number.isInteger(p) && p >= 1 && p <= 65535 && (i === 0 || p > ports[i - 1]!));

afterAll(printFigures);

describe('Kubernetes objects', () => {
  it('toPodInfo: never throws; keeps only strings and ports the pod holds', () => {
    fuzz('pod info', [hostile(pods)], (raw) => {
      const info = guarded(() => toPodInfo(raw));
      if (info === undefined) return;
      const json = JSON.stringify(raw);
      for (const text of [info.uid, info.name, info.namespace, info.nodeName, info.podIP, info.configUid]) {
        expect(typeof text).toBe('string');
        expect(json).toContain(JSON.stringify(text).slice(1, -1));
      }
      expect(info.uid && info.name).toBeTruthy();
      expect(sortedPorts(info.httpPorts)).toBe(true);
      for (const port of info.httpPorts) expect(json).toContain(`"containerPort":${port}`);
      expect(typeof info.workload.kind === 'string' && typeof info.workload.name === 'string').toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);

  it('toSlicePorts: never throws; ports and pod uids are the slice\'s own', () => {
    fuzz('endpoint slice', [hostile(slices)], (raw) => {
      const slice = guarded(() => toSlicePorts(raw));
      if (slice === undefined) return;
      const json = JSON.stringify(raw);
      expect(sortedPorts(slice.ports)).toBe(true);
      for (const port of slice.ports) expect(json).toContain(`"port":${port}`);
      for (const uid of [slice.uid, ...slice.podUids]) expect(json).toContain(JSON.stringify(uid));
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('watch bodies', () => {
  it('parseWatchLine: any line is blank, bad, an item, a bookmark or an error; never a throw', () => {
    const lines = hostileBytes(watchFiles).map((bytes) => Buffer.from(bytes).toString('utf8').split('\n'));
    fuzz('watch line', [lines], (texts) => {
      const kinds = guarded(() => texts.map((text) => parseWatchLine(Buffer.from(text)))).map((l) => (l.kind === 'item' && typeof l.object !== 'object' ? 'item without object' : l.kind));
      expect(kinds.filter((k) => !['blank', 'bad', 'item', 'bookmark', 'error'].includes(k))).toEqual([]);
    });
  }, FUZZ_TIMEOUT_MS);

  it('NdjsonLines: any chunking yields the lines of the whole body, or LineTooLongError past its cap', () => {
    const cuts = fc.array(fc.nat(), { maxLength: 20 });
    fuzz('ndjson lines', [hostileBytes(watchFiles), cuts, fc.constantFrom(64, 4096, 1 << 20)], (bytes, at, cap) => {
      const body = Buffer.from(bytes);
      const offsets = [...new Set(at.map((a) => (body.length === 0 ? 0 : a % body.length)))].sort((a, b) => a - b);
      const chunks = [0, ...offsets].map((start, i, all) => body.subarray(start, all[i + 1] ?? body.length));
      const expected = body.toString('latin1').split('\n');
      const last = expected.pop();
      const splitter = new NdjsonLines(cap);
      const got: string[] = [];
      let tooLong = false;
      guarded(() => {
        try {
          for (const chunk of chunks) got.push(...splitter.push(chunk).map((l) => l.toString('latin1')));
          const rest = splitter.end();
          if (rest) got.push(rest.toString('latin1'));
        } catch (error) {
          if (!(error instanceof LineTooLongError)) throw error;
          tooLong = true;
        }
      });
      const longest = Math.max(0, ...expected.map((l) => l.length), last?.length ?? 0);
      expect(tooLong).toBe(longest > cap);
      if (!tooLong) expect(got).toEqual(last ? [...expected, last] : expected);
    });
  }, FUZZ_TIMEOUT_MS);
});
