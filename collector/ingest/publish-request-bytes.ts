// PublishRequest and Snapshot read at the wire level, without decoding the snapshot: the gRPC
// ingest hands SnapshotIngest the snapshot's own bytes (which it decodes once) and needs only
// the node name to bind a stream to a node.

import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export type PublishEnvelope =
  | { ok: true; snapshot: Uint8Array }
  /** Not a PublishRequest: `raw` is what arrived, so ingest can count it as malformed. */
  | { ok: false; raw: Uint8Array; detail: string };

const SNAPSHOT_FIELD = 1; // PublishRequest.snapshot
const NODE_FIELD = 2; // Snapshot.node

/**
 * PublishRequest.snapshot as a view into `bytes` (no copy). Several occurrences are concatenated,
 * which is protobuf's merge rule for a message field; none gives empty bytes (a default Snapshot,
 * which ingest rejects as invalid). Never throws.
 */
export function readPublishRequest(bytes: Uint8Array): PublishEnvelope {
  try {
    const reader = new BinaryReader(bytes);
    const parts: Uint8Array[] = [];
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== SNAPSHOT_FIELD) {
        reader.skip(wireType, field);
        continue;
      }
      if (wireType !== WireType.LengthDelimited) {
        return { ok: false, raw: bytes, detail: `PublishRequest.snapshot has wire type ${wireType}` };
      }
      parts.push(reader.bytes());
    }
    if (parts.length === 1) return { ok: true, snapshot: parts[0] ?? new Uint8Array(0) };
    // Concatenation merges only messages that end where their length says: otherwise a field cut
    // at the end of one part would run on into the next, and two broken parts could read as one whole.
    parts.forEach(checkFieldsEndWithin);
    return { ok: true, snapshot: Buffer.concat(parts) };
  } catch (error) {
    return { ok: false, raw: bytes, detail: `not a PublishRequest: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Throws unless `message`'s top-level fields end exactly at its end. */
function checkFieldsEndWithin(message: Uint8Array, index: number): void {
  const reader = new BinaryReader(message);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      reader.skip(wireType, field);
    }
  } catch (error) {
    throw new Error(`snapshot part ${index + 1}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Snapshot.node, skipping every other field without decoding it; undefined when unreadable. */
export function peekSnapshotNode(snapshot: Uint8Array): string | undefined {
  try {
    const reader = new BinaryReader(snapshot);
    let node: string | undefined;
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      // Last one wins, as in a full decode.
      if (field === NODE_FIELD && wireType === WireType.LengthDelimited) node = reader.string();
      else reader.skip(wireType, field);
    }
    return node;
  } catch {
    return undefined;
  }
}

/** The inverse of readPublishRequest, for clients and tests that hold snapshot bytes already. */
export function writePublishRequest(snapshot: Uint8Array): Uint8Array {
  return new BinaryWriter().tag(SNAPSHOT_FIELD, WireType.LengthDelimited).bytes(snapshot).finish();
}
