// Fuzz: the collector's protobuf inputs. The snapshot decoder (collector/ingest/decode-snapshot.ts)
// and the gRPC PublishRequest byte reader (publish-request-bytes.ts) on generated snapshots,
// mutated encodings and random bytes; the agent's detail-request decode on random bytes.
// Never a throw, only the documented reasons; a decoded snapshot re-encodes to bytes that decode
// to the same snapshot; the wire-level readers agree with a full decode.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { DEFAULT_MAX_SNAPSHOT_BYTES, decodeSnapshot } from '../../collector/ingest/decode-snapshot.js';
import { peekSnapshotNode, readPublishRequest, writePublishRequest } from '../../collector/ingest/publish-request-bytes.js';
import { countSnapshotElements } from '../../collector/ingest/snapshot-element-count.js';
import type { RejectReason } from '../../collector/ingest/snapshot-ingest.js';
import { GetSocketsRequest } from '../../proto/gen/fleetstat/v1/detail.js';
import { PublishRequest } from '../../proto/gen/fleetstat/v1/ingest.js';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { buildSnapshot } from '../support/collector-child.js';
import { FUZZ_TIMEOUT_MS, fuzz, guarded, printFigures } from './fuzz-run.js';
import { hostileBytes } from './mutate.js';
import { validSnapshot } from './snapshot-arbitrary.js';

const limits = { maxBytes: 64 * 1024, cluster: 'test' };
const origin = { transport: 'nats' as const };
const REASONS: RejectReason[] = ['too_large', 'malformed', 'invalid', 'cluster_mismatch', 'node_mismatch'];

/** Real snapshots of a few shapes (and their gRPC envelopes) as the mutation corpus. */
const corpusSnapshots = [
  buildSnapshot('node-a', { namespaces: [[[80, 'in', 1, 5], [443, 'out', 6, 2]]], intervalMs: 10_000 }, { epoch: 7, seq: 3, agentTimeMs: 1_700_000_000_000 }),
  buildSnapshot('node-b', { namespaces: [[[8080, 'in', 10, 1]], [[80, 'out', 1, 9]], []], intervalMs: 1000 }, { epoch: 2 ** 40, seq: 2 ** 33, agentTimeMs: 1, goodbye: true }),
  ...fc.sample(validSnapshot, { numRuns: 8, seed: 1 }),
];
const snapshotCorpus = corpusSnapshots.map((s) => Snapshot.encode(s).finish());
const envelopeCorpus = snapshotCorpus.map((b) => writePublishRequest(b));

const encode = (s: Snapshot): Uint8Array => Snapshot.encode(s).finish();

function elementsOf(s: Snapshot): number {
  let n = s.httpPorts.length + (s.parse ? 1 : 0);
  for (const ns of s.namespaces) {
    n += 1 + ns.pids.length + ns.ports.length + ns.listeners.length + ns.totals.length + ns.containers.length + (ns.parse ? 1 : 0);
    for (const top of ns.topRemotes) n += 1 + top.remotes.length;
  }
  return n;
}

/** Read in full: accepted, or refused for what it says rather than for its bytes. */
const wellFormed = (d: ReturnType<typeof decodeSnapshot>): boolean => d.ok || !['malformed', 'too_large'].includes(d.reason);

afterAll(printFigures);

describe('snapshot decoder', () => {
  it('decodes every valid snapshot; re-encoding is byte-stable; the element count is what was built', () => {
    fuzz('decode valid', [validSnapshot], (s) => {
      const bytes = encode(s);
      const decoded = guarded(() => decodeSnapshot(bytes, origin, limits));
      if (!decoded.ok) throw new Error(`${decoded.reason}: ${decoded.detail}`);
      // Buffer.equals, not toEqual: a deep equal walks every byte through the matcher.
      expect(Buffer.from(encode(decoded.snapshot)).equals(bytes)).toBe(true);
      expect(countSnapshotElements(bytes)).toEqual({ namespaces: s.namespaces.length, elements: elementsOf(s) });
    });
  }, FUZZ_TIMEOUT_MS);

  it('on mutated snapshots and random bytes: never throws, rejects with a documented reason, and what it accepts round-trips', () => {
    fuzz('decode hostile', [hostileBytes(snapshotCorpus)], (bytes) => {
      const decoded = guarded(() => decodeSnapshot(bytes, origin, limits));
      if (!decoded.ok) {
        expect(REASONS).toContain(decoded.reason);
        expect(typeof decoded.detail).toBe('string');
        return;
      }
      const again = decodeSnapshot(encode(decoded.snapshot), origin, limits);
      expect(again.ok && again.snapshot).toEqual(decoded.snapshot);
      // Accepted means it is a protobuf message ts-proto reads the same way.
      expect(Snapshot.decode(bytes)).toEqual(decoded.snapshot);
    });
  }, FUZZ_TIMEOUT_MS);
  it('a length claiming more than remains (up to 4 GB, any field, any depth of the schema) is malformed and never allocated', () => {
    const claim = fc.record({
      prefix: fc.constantFrom(...snapshotCorpus),
      // Snapshot fields, a namespace's fields (inside field 9), or unknown ones.
      path: fc.constantFrom<number[]>([], [9], [9, 9]),
      field: fc.integer({ min: 1, max: 20 }),
      length: fc.integer({ min: 1, max: 0xffff_ffff }),
      tail: fc.uint8Array({ maxLength: 16 }),
    });
    fuzz('length claims', [claim], ({ prefix, path, field, length, tail }) => {
      if (tail.length >= length) return; // the claim happens to fit: not a lie
      let body = new BinaryWriter().tag(field, WireType.LengthDelimited).uint32(length).raw(tail).finish();
      for (const outer of path) body = new BinaryWriter().tag(outer, WireType.LengthDelimited).bytes(body).finish();
      const before = process.memoryUsage().arrayBuffers;
      const decoded = guarded(() => decodeSnapshot(Buffer.concat([prefix, body]), origin, { ...limits, maxBytes: DEFAULT_MAX_SNAPSHOT_BYTES }));
      expect(decoded).toMatchObject({ ok: false, reason: 'malformed' });
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('gRPC PublishRequest bytes', () => {
  it('readPublishRequest never throws and agrees with a full PublishRequest decode', () => {
    fuzz('publish request', [hostileBytes(envelopeCorpus)], (bytes) => {
      const read = guarded(() => readPublishRequest(bytes));
      let full: PublishRequest | undefined;
      try {
        full = PublishRequest.decode(bytes);
      } catch {
        full = undefined;
      }
      if (!read.ok) {
        expect(read.raw).toBe(bytes);
        return;
      }
      const decoded = decodeSnapshot(read.snapshot, origin, limits);
      // What a full decode refuses, ingest refuses too (ts-proto reads a sub-message past its
      // declared end; the collector is stricter, never more lenient).
      if (full === undefined) expect(wellFormed(decoded)).toBe(false);
      // One snapshot field (what agents send) that is well-formed: both read the same snapshot.
      const single = read.snapshot.buffer === bytes.buffer;
      if (single && wellFormed(decoded)) expect(Snapshot.decode(read.snapshot)).toEqual(full?.snapshot);
    });
  }, FUZZ_TIMEOUT_MS);

  it('peekSnapshotNode names the node a full decode finds, whenever the bytes are well-formed', () => {
    fuzz('peek node', [hostileBytes(snapshotCorpus)], (bytes) => {
      const node = guarded(() => peekSnapshotNode(bytes));
      const decoded = decodeSnapshot(bytes, origin, limits);
      if (wellFormed(decoded)) expect(node ?? '').toBe(Snapshot.decode(bytes).node);
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('agent detail requests', () => {
  it('GetSocketsRequest.decode of random bytes returns or throws an Error, nothing else', () => {
    const corpus = [GetSocketsRequest.encode({ node: 'n', port: 80, state: 1, namespaceInode: 4026531840, limit: 100 }).finish()];
    fuzz('detail request', [hostileBytes(corpus)], (bytes) => {
      guarded(() => {
        try {
          const request = GetSocketsRequest.decode(bytes);
          expect(typeof request.port).toBe('number');
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      });
    });
  }, FUZZ_TIMEOUT_MS);
});
