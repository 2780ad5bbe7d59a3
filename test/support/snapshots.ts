// Snapshots made to order for collector tests.
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { Direction, Snapshot as SnapshotCodec } from '../../proto/gen/fleetstat/v1/snapshot.js';

export interface MadeSnapshot {
  node: string;
  epoch?: number;
  seq: number;
  agentTimeMs?: number;
  intervalMs?: number;
  goodbye?: boolean;
  cluster?: string;
  /** [port, 'in' | 'out', state code, count] */
  http?: [number, 'in' | 'out', number, number][];
}

export function makeSnapshot(m: MadeSnapshot): Snapshot {
  return {
    cluster: m.cluster ?? 'test',
    node: m.node,
    epoch: m.epoch ?? 1,
    seq: m.seq,
    agentTimeMs: m.agentTimeMs ?? 1_000_000 + m.seq,
    intervalMs: m.intervalMs ?? 1000,
    goodbye: m.goodbye ?? false,
    httpPorts: [80, 443],
    namespaces: [
      {
        inode: 4026531840,
        host: true,
        pidCount: 1,
        pids: [1],
        processName: 'init',
        cgroup: '/',
        ports: (m.http ?? []).map(([port, dir, state, count]) => ({
          port,
          direction: dir === 'in' ? Direction.DIRECTION_INBOUND : Direction.DIRECTION_OUTBOUND,
          state,
          count,
          http: true,
        })),
        listeners: [{ address: '0.0.0.0', port: 80, acceptQueue: 0, http: true }],
        topRemotes: [],
        totals: [],
        parse: undefined,
        containers: [],
      },
    ],
    parse: undefined,
    agentVersion: 'test',
    detailAddress: '',
  };
}

export function encodeSnapshot(m: MadeSnapshot): Uint8Array {
  return SnapshotCodec.encode(makeSnapshot(m)).finish();
}
