// Snapshots for surge-detection tests: inbound counts by state, listeners with accept queues,
// and top remote addresses, in one namespace per snapshot.
import { Direction, Snapshot as SnapshotCodec } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { makeSnapshot } from './snapshots.js';

export interface LoadSpec {
  node: string;
  seq: number;
  /** Inbound sockets on each port by TCP state code: { 80: { 1: 100, 3: 2 } }. */
  inbound: Record<number, Record<number, number>>;
  /** Accept queue per listening port (every port in `inbound` listens, queue 0 by default). */
  acceptQueue?: Record<number, number>;
  /** Inbound remote addresses per port: { 80: { '10.0.0.9': 300 } }. */
  remotes?: Record<number, Record<string, number>>;
}

export function encodeLoad(spec: LoadSpec): Uint8Array {
  const snapshot = makeSnapshot({ node: spec.node, seq: spec.seq, agentTimeMs: 1_000_000 + spec.seq });
  const ns = snapshot.namespaces[0];
  if (!ns) throw new Error('makeSnapshot gave no namespace');
  const ports = new Set([...Object.keys(spec.inbound), ...Object.keys(spec.acceptQueue ?? {})].map(Number));
  ns.ports = Object.entries(spec.inbound).flatMap(([port, states]) =>
    Object.entries(states).map(([state, count]) => ({
      port: Number(port),
      direction: Direction.DIRECTION_INBOUND,
      state: Number(state),
      count,
      http: true,
    })),
  );
  ns.listeners = [...ports].map((port) => ({ address: '0.0.0.0', port, acceptQueue: spec.acceptQueue?.[port] ?? 0, http: true }));
  ns.topRemotes = Object.entries(spec.remotes ?? {}).map(([port, remotes]) => ({
    port: Number(port),
    direction: Direction.DIRECTION_INBOUND,
    remotes: Object.entries(remotes).map(([address, count]) => ({ address, count })),
    other: 0,
  }));
  return SnapshotCodec.encode(snapshot).finish();
}
