// How many objects a Snapshot would decode into, counted at the wire level without building
// them. Decoding costs far more per element than the wire does: an empty sub-message is 2 bytes
// on the wire but a NetworkNamespace object with its six arrays is about 350 bytes of heap, so a
// 4 MiB message of empty namespaces decoded to 700 MB in 3 s. The decoder counts first and
// refuses shapes no agent writes before paying for them.

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** Field number → the repeated (or mergeable) message or packed scalar field it is. */
interface Shape {
  readonly [field: number]: Shape | 'scalars';
}

const REMOTE_ADDRESSES: Shape = { 3: {} }; // remotes: RemoteCount
const NETWORK_NAMESPACE: Shape = {
  4: 'scalars', // pids
  7: {}, // ports: PortCount
  8: {}, // listeners: Listener
  9: REMOTE_ADDRESSES, // top_remotes
  10: {}, // totals: TableTotal
  11: {}, // parse: ParseStats
  12: {}, // containers: ContainerRef
};
const SNAPSHOT: Shape = { 8: 'scalars', 9: NETWORK_NAMESPACE, 10: {} }; // http_ports, namespaces, parse
const NAMESPACES_FIELD = 9;

export interface ElementCount {
  namespaces: number;
  /** Sub-messages and repeated scalars, the namespaces included. */
  elements: number;
}

/** Counts Snapshot elements; throws (like a decode would) when the bytes are not a well-formed message. */
export function countSnapshotElements(bytes: Uint8Array): ElementCount {
  const count: ElementCount = { namespaces: 0, elements: 0 };
  const reader = new BinaryReader(bytes);
  walk(bytes, reader, bytes.length, SNAPSHOT, count);
  return count;
}

function walk(bytes: Uint8Array, reader: BinaryReader, end: number, shape: Shape, count: ElementCount): void {
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    const inner = shape[field];
    if (inner === undefined) {
      reader.skip(wireType, field);
    } else if (wireType === WireType.LengthDelimited) {
      const length = reader.uint32();
      const stop = reader.pos + length;
      if (stop > end) throw new Error(`field ${field} claims ${length} bytes, ${end - reader.pos} remain`);
      if (inner === 'scalars') {
        count.elements += varintsIn(bytes, reader.pos, stop);
        reader.pos = stop;
      } else {
        count.elements++;
        if (shape === SNAPSHOT && field === NAMESPACES_FIELD) count.namespaces++;
        walk(bytes, reader, stop, inner, count);
      }
    } else {
      // An unpacked repeated scalar, or a wire type the decoder skips as unknown.
      if (inner === 'scalars') count.elements++;
      reader.skip(wireType, field);
    }
    if (reader.pos > end) throw new Error(`field ${field} runs past the end of its message`);
  }
}

/** Varints in a packed run end at each byte without the continuation bit. */
function varintsIn(bytes: Uint8Array, start: number, stop: number): number {
  let n = 0;
  for (let i = start; i < stop; i++) if ((bytes[i] ?? 0) < 0x80) n++;
  return n;
}
