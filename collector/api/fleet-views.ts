// The JSON answers of the query API (HTTP and gRPC share them): pure reads of FleetState.

import { keyDirection, keyPort, keyState } from '../../agent/snapshot/connection-key.js';
import { tcpStateName } from '../../agent/procfs/tcp-states.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { FleetState } from '../fleet-state.js';
import type { NodeRecord, NodeStatus } from '../state/node-registry.js';
import { namespaceHttpCounts } from '../state/node-summary.js';
import type { PodDirectory } from '../attribution/pod-directory.js';

export type DirectionName = 'inbound' | 'outbound';

export interface ConnectionCountView {
  port: number;
  direction: DirectionName;
  state: string;
  count: number;
}

export interface SummaryView {
  cluster: string;
  nodes: { live: number; stale: number };
  httpConnections: number;
  connections: ConnectionCountView[];
}

export interface NodeView {
  name: string;
  status: NodeStatus;
  staleReason?: string;
  epoch: number;
  seq: number;
  lastSeen: string;
  /** The agent's clock when it sampled: ordering only, but a skewed node clock shows here. */
  agentTime: string;
  ageSeconds: number;
  intervalMs: number;
  httpConnections: number;
  namespaces: number;
  agentVersion: string;
}

export function directionName(direction: number): DirectionName {
  return direction === Direction.DIRECTION_INBOUND ? 'inbound' : 'outbound';
}

/** A connection key as the labels every view and metric uses (in the metrics' label order). */
export function connectionLabels(key: number): { port: number; state: string; direction: DirectionName } {
  return { port: keyPort(key), state: tcpStateName(keyState(key)), direction: directionName(keyDirection(key)) };
}

export function connectionViews(counts: ReadonlyMap<number, number>): ConnectionCountView[] {
  return [...counts].sort(([a], [b]) => a - b).map(([key, count]) => ({ ...connectionLabels(key), count }));
}

export function summaryView(state: FleetState): SummaryView {
  return {
    cluster: state.cluster,
    nodes: state.registry.statusCounts(),
    httpConnections: state.totals.httpTotal,
    connections: connectionViews(state.totals.http),
  };
}

export function nodeView(record: NodeRecord, nowMs: number): NodeView {
  const s = record.snapshot;
  return {
    name: record.name,
    status: record.status,
    ...(record.staleReason ? { staleReason: record.staleReason } : {}),
    epoch: s.epoch,
    seq: s.seq,
    lastSeen: new Date(record.lastSeenMs).toISOString(),
    agentTime: new Date(s.agentTimeMs).toISOString(),
    ageSeconds: Math.max(0, (nowMs - record.lastSeenMs) / 1000),
    intervalMs: s.intervalMs,
    httpConnections: record.status === 'live' ? record.summary.httpTotal : 0,
    namespaces: record.summary.namespaces,
    agentVersion: s.agentVersion,
  };
}

export function nodesView(state: FleetState): NodeView[] {
  const now = state.now();
  return [...state.registry.records()].map((r) => nodeView(r, now)).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** One node with its connections, listeners and namespaces (as the agent reported them). */
export function nodeDetailView(record: NodeRecord, nowMs: number, pods: PodDirectory): Record<string, unknown> {
  return {
    ...nodeView(record, nowMs),
    connections: connectionViews(record.summary.http),
    listeners: [...record.summary.listeners].map(([port, l]) => ({ port, sockets: l.sockets, acceptQueue: l.acceptQueue })),
    namespacesDetail: record.snapshot.namespaces.map((ns) => ({
      inode: ns.inode,
      host: ns.host,
      pidCount: ns.pidCount,
      processName: ns.processName,
      cgroup: ns.cgroup,
      connections: connectionViews(namespaceHttpCounts(ns, record.name, pods)),
      topRemotes: ns.topRemotes.map((r) => ({ port: r.port, direction: directionName(r.direction), remotes: r.remotes, other: r.other })),
    })),
    parse: record.snapshot.parse,
  };
}
