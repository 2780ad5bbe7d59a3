import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { makeSnapshot } from '../../test/support/snapshots.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES, MAX_HTTP_SERIES, decodeSnapshot } from './decode-snapshot.js';
import { countSnapshotElements } from './snapshot-element-count.js';

const limits = { maxBytes: DEFAULT_MAX_SNAPSHOT_BYTES, cluster: 'test' };
const origin = { transport: 'nats' as const };

/** A valid snapshot's bytes followed by `repeat` copies of one field. */
function withRepeated(field: number, body: Uint8Array, repeat: number): Uint8Array {
  const w = new BinaryWriter();
  for (let i = 0; i < repeat; i++) w.tag(field, WireType.LengthDelimited).bytes(body);
  return Buffer.concat([Snapshot.encode(makeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', 1, 2]] })).finish(), w.finish()]);
}

describe('decodeSnapshot', () => {
  it('accepts a valid snapshot', () => {
    const decoded = decodeSnapshot(withRepeated(9, new Uint8Array(0), 0), origin, limits);
    expect(decoded.ok && decoded.snapshot.namespaces[0]?.ports).toEqual([{ port: 80, direction: 1, state: 1, count: 2, http: true }]);
  });

  // Each distinct HTTP count is a /metrics series: 200,000 of them fit in 4 MB and made every scrape block for seconds.
  it('refuses more distinct HTTP series than MAX_HTTP_SERIES, not repeats of one or non-HTTP counts', () => {
    // n distinct (port, direction) pairs, ESTABLISHED, one connection each.
    const ports = (n: number): [number, 'in' | 'out', number, number][] =>
      Array.from({ length: n }, (_, i) => [1 + (i % 65535), i < 65535 ? 'in' : 'out', 1, 1]);
    const encode = (n: number, http: boolean): Uint8Array => {
      const snapshot = makeSnapshot({ node: 'a', seq: 1, http: ports(n) });
      for (const p of snapshot.namespaces[0]?.ports ?? []) p.http = http;
      return Snapshot.encode(snapshot).finish();
    };
    expect(decodeSnapshot(encode(MAX_HTTP_SERIES, true), origin, limits).ok).toBe(true);
    expect(decodeSnapshot(encode(MAX_HTTP_SERIES + 1, true), origin, limits)).toMatchObject({
      ok: false, reason: 'invalid', detail: `more than ${MAX_HTTP_SERIES} distinct HTTP (port, direction, state) counts`,
    });
    expect(decodeSnapshot(encode(100_000, false), origin, limits).ok).toBe(true);
  });

  // Regression (fuzzing): 2 million empty namespaces in 4 MB decoded to 700 MB of heap in 3 s.
  it('refuses many empty namespaces before building them', () => {
    const bytes = withRepeated(9, new Uint8Array(0), 2_000_000);
    expect(bytes.length).toBeLessThan(DEFAULT_MAX_SNAPSHOT_BYTES);
    const before = process.memoryUsage().heapUsed;
    expect(decodeSnapshot(bytes, origin, limits)).toEqual({ ok: false, reason: 'invalid', detail: '2000001 namespaces' });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 2 ** 20);
  });

  it('refuses more elements than one per 4 bytes of the limit: empty port counts, packed numbers', () => {
    const ports = new BinaryWriter();
    for (let i = 0; i < 1_100_000; i++) ports.tag(7, WireType.LengthDelimited).bytes(new Uint8Array(0));
    const manyPorts = withRepeated(9, ports.finish(), 1);
    expect(decodeSnapshot(manyPorts, origin, limits)).toMatchObject({ ok: false, reason: 'too_large', detail: expect.stringMatching(/^1100\d{3} elements/) });
    const pids = withRepeated(8, new Uint8Array(1_100_000).fill(7), 1);
    expect(decodeSnapshot(pids, origin, limits)).toMatchObject({ ok: false, reason: 'too_large', detail: expect.stringMatching(/^1100\d{3} elements/) });
    // The same shapes under the limit's budget decode (and fail only the schema: port 0).
    expect(decodeSnapshot(manyPorts, origin, { ...limits, maxBytes: 4 * 1_200_000 })).toMatchObject({ ok: false, reason: 'invalid', detail: 'port 0' });
  });

  it('calls a length past the end malformed without allocating it', () => {
    const valid = withRepeated(9, new Uint8Array(0), 0);
    const before = process.memoryUsage().arrayBuffers;
    for (const field of [9, 15]) {
      const claim = new BinaryWriter().tag(field, WireType.LengthDelimited).uint32(0xffff_fff0).finish();
      expect(decodeSnapshot(Buffer.concat([valid, claim]), origin, limits)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });
});

describe('countSnapshotElements', () => {
  it('counts what the decoder builds: namespaces, their sub-messages and packed numbers', () => {
    const s = makeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', 1, 2], [443, 'out', 1, 1]] });
    s.namespaces.push({ ...s.namespaces[0]!, pids: [1, 2, 300], topRemotes: [{ port: 80, direction: 1, remotes: [{ address: '10.0.0.1', count: 1 }], other: 0 }] });
    // 2 http ports; ns 1: 1 pid, 2 ports, 1 listener; ns 2: 3 pids, 2 ports, 1 listener, 1 top + 1 remote; 2 namespaces.
    expect(countSnapshotElements(Snapshot.encode(s).finish())).toEqual({ namespaces: 2, elements: 2 + 4 + 8 + 2 });
  });
});
