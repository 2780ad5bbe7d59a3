// Bytes to a Snapshot the collector may trust: size limit, protobuf decoding, and the schema
// rules the aggregate relies on. Pure; the caller counts and logs the outcome.

import { Direction, Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { countSnapshotElements } from './snapshot-element-count.js';
import type { IngestOrigin, RejectReason } from './snapshot-ingest.js';

export interface DecodeLimits {
  maxBytes: number;
  /** Snapshots of other clusters are refused (a shared NATS may carry several). */
  cluster: string;
}

export const DEFAULT_MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024;

/** Node and cluster names travel in NATS subjects: the agent's own rule, checked again here. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,252}$/;
const MAX_NAMESPACES = 100_000;
/**
 * Elements (sub-messages and repeated numbers) allowed per byte of the size limit. A real agent's
 * elements average well over 4 wire bytes (a port count is 8 to 12); empty ones are 1 to 2.
 */
const MIN_BYTES_PER_ELEMENT = 4;
/**
 * Distinct HTTP (port, direction, state) counts per snapshot: each is a /metrics series and a
 * history series per node. An agent with a long --http-ports list has a few hundred; a forged
 * snapshot with hundreds of thousands would make every scrape take seconds.
 */
export const MAX_HTTP_SERIES = 16_384;

export type Decoded = { ok: true; snapshot: Snapshot } | { ok: false; reason: RejectReason; detail: string };

export function decodeSnapshot(bytes: Uint8Array, origin: IngestOrigin, limits: DecodeLimits): Decoded {
  if (bytes.length > limits.maxBytes) {
    return { ok: false, reason: 'too_large', detail: `${bytes.length} bytes > limit ${limits.maxBytes}` };
  }
  let snapshot: Snapshot;
  try {
    // Counted before decoding: the decoded form of a few MB can be hundreds of MB (see countSnapshotElements).
    const { namespaces, elements } = countSnapshotElements(bytes);
    if (namespaces > MAX_NAMESPACES) return { ok: false, reason: 'invalid', detail: `${namespaces} namespaces` };
    if (elements * MIN_BYTES_PER_ELEMENT > limits.maxBytes) {
      return { ok: false, reason: 'too_large', detail: `${elements} elements: more than one per ${MIN_BYTES_PER_ELEMENT} bytes of the ${limits.maxBytes} byte limit` };
    }
    snapshot = Snapshot.decode(bytes);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: error instanceof Error ? error.message : String(error) };
  }
  const invalid = schemaProblem(snapshot);
  if (invalid) return { ok: false, reason: 'invalid', detail: invalid };
  if (snapshot.cluster !== limits.cluster) {
    return { ok: false, reason: 'cluster_mismatch', detail: `cluster "${snapshot.cluster}" is not "${limits.cluster}"` };
  }
  if (origin.claimedNode !== undefined && origin.claimedNode !== snapshot.node) {
    return {
      ok: false,
      reason: 'node_mismatch',
      detail: `snapshot names node "${snapshot.node}" but came from "${origin.claimedNode}"`,
    };
  }
  return { ok: true, snapshot };
}

function schemaProblem(s: Snapshot): string | undefined {
  const httpSeries = new Set<number>();
  if (!NAME.test(s.node)) return `bad node name ${JSON.stringify(s.node.slice(0, 64))}`;
  if (!NAME.test(s.cluster)) return `bad cluster name ${JSON.stringify(s.cluster.slice(0, 64))}`;
  if (!(s.epoch > 0) || !(s.seq > 0)) return 'epoch and seq must be positive';
  if (!(s.intervalMs >= 100 && s.intervalMs <= 3_600_000)) return `interval ${s.intervalMs} ms out of range`;
  for (const ns of s.namespaces) {
    for (const p of ns.ports) {
      if (p.port < 1 || p.port > 65535) return `port ${p.port}`;
      if (p.direction !== Direction.DIRECTION_INBOUND && p.direction !== Direction.DIRECTION_OUTBOUND) {
        return `direction ${p.direction}`;
      }
      if (p.state < 1 || p.state > 12) return `state ${p.state}`;
      if (p.http && httpSeries.add((p.port * 4 + p.direction) * 16 + p.state).size > MAX_HTTP_SERIES) {
        return `more than ${MAX_HTTP_SERIES} distinct HTTP (port, direction, state) counts`;
      }
    }
    for (const l of ns.listeners) if (l.port < 1 || l.port > 65535) return `listener port ${l.port}`;
  }
  return undefined;
}
