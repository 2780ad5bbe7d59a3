import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PublishRequest } from '../../proto/gen/fleetstat/v1/ingest.js';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { peekSnapshotNode, readPublishRequest, writePublishRequest } from './publish-request-bytes.js';

const snapshot = Snapshot.fromPartial({
  cluster: 'c',
  node: 'node-a',
  epoch: 1,
  seq: 2,
  namespaces: [{ inode: 1, processName: 'p', ports: [{ port: 80, direction: 1, state: 1, count: 3 }] }],
});
const snapshotBytes = Snapshot.encode(snapshot).finish();

describe('readPublishRequest', () => {
  it('returns the snapshot bytes exactly as ts-proto encoded them, as a view', () => {
    const envelope = PublishRequest.encode({ snapshot }).finish();
    const read = readPublishRequest(envelope);
    expect(read).toEqual({ ok: true, snapshot: snapshotBytes });
    expect(read.ok && read.snapshot.buffer).toBe(envelope.buffer);
    expect(writePublishRequest(snapshotBytes)).toEqual(envelope);
  });

  it('merges repeated snapshot fields (the protobuf rule; ts-proto keeps the last) and skips unknown ones', () => {
    const second = Snapshot.encode(Snapshot.fromPartial({ seq: 9 })).finish();
    const unknownField = Uint8Array.of(0x10, 0x05); // field 2, varint
    const bytes = Buffer.concat([writePublishRequest(snapshotBytes), unknownField, writePublishRequest(second)]);
    const read = readPublishRequest(bytes);
    expect(read.ok && Snapshot.decode(read.snapshot)).toEqual({ ...snapshot, seq: 9 });
  });

  // Regression (fuzzing): the first part ended inside a field that the second part completed.
  it('refuses to merge parts whose fields do not end where the part ends', () => {
    const cut = snapshotBytes.subarray(0, 5); // cluster "c", then the node field's tag and length, cut
    const rest = snapshotBytes.subarray(5);
    expect(Snapshot.decode(Buffer.concat([cut, rest]))).toEqual(snapshot);
    const read = readPublishRequest(Buffer.concat([writePublishRequest(cut), writePublishRequest(rest)]));
    expect(read).toMatchObject({ ok: false, detail: expect.stringMatching(/^not a PublishRequest: snapshot part 1: /) });
  });

  it('never throws, and calls anything a full decode rejects not ok', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const read = readPublishRequest(bytes);
        let decodes = true;
        try {
          PublishRequest.decode(bytes);
        } catch {
          decodes = false;
        }
        if (!decodes) expect(read.ok).toBe(false);
        if (!read.ok) expect(read.raw).toBe(bytes);
      }),
    );
  });
});

describe('peekSnapshotNode', () => {
  it('finds the node without decoding, and undefined when unreadable', () => {
    expect(peekSnapshotNode(snapshotBytes)).toBe('node-a');
    expect(peekSnapshotNode(new Uint8Array(0))).toBeUndefined();
    expect(peekSnapshotNode(Uint8Array.of(0x12, 0x7f, 0x61))).toBeUndefined();
  });

  it('agrees with a full decode on arbitrary snapshots', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(), (node, cluster, seq) => {
        const bytes = Snapshot.encode(Snapshot.fromPartial({ node, cluster, seq })).finish();
        // proto3 does not encode an empty string.
        expect(peekSnapshotNode(bytes) ?? '').toBe(Snapshot.decode(bytes).node);
      }),
    );
  });
});
