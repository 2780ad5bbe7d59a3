// Counts by pod and by workload over live nodes, with names resolved at query time from the
// pod directory (so a pod deleted since the last snapshot is no longer shown by name).

import type { FleetState } from '../fleet-state.js';
import type { ConnectionCountView } from '../api/fleet-views.js';
import { connectionViews } from '../api/fleet-views.js';
import type { PodInfo } from '../kubernetes/pod-info.js';
import type { NodeRecord } from '../state/node-registry.js';

export interface PodCountView {
  namespace: string;
  pod: string;
  node: string;
  workloadKind: string;
  workload: string;
  httpConnections: number;
  connections: ConnectionCountView[];
}

export interface WorkloadCountView {
  namespace: string;
  kind: string;
  name: string;
  pods: number;
  httpConnections: number;
  connections: ConnectionCountView[];
}

export interface PodCounts {
  pod: PodInfo;
  node: string;
  counts: ReadonlyMap<number, number>;
}

/** Every live node's pod counts whose pod the directory knows. */
export function* livePodCounts(state: FleetState): Generator<PodCounts> {
  for (const record of state.registry.records()) {
    if (record.status === 'live') yield* nodePodCounts(state, record);
  }
}

/** One node's pod counts whose pod the directory knows. */
export function* nodePodCounts(state: FleetState, record: NodeRecord): Generator<PodCounts> {
  for (const [uid, counts] of record.summary.pods) {
    const pod = state.pods.pod(uid);
    if (pod) yield { pod, node: record.name, counts };
  }
}

export function podViews(state: FleetState): PodCountView[] {
  return [...livePodCounts(state)]
    .map(({ pod, node, counts }) => ({
      namespace: pod.namespace,
      pod: pod.name,
      node,
      workloadKind: pod.workload.kind,
      workload: pod.workload.name,
      httpConnections: total(counts),
      connections: connectionViews(counts),
    }))
    .sort((a, b) => b.httpConnections - a.httpConnections || compare(`${a.namespace}/${a.pod}`, `${b.namespace}/${b.pod}`));
}

export function workloadViews(state: FleetState): WorkloadCountView[] {
  const byWorkload = new Map<string, { view: WorkloadCountView; counts: Map<number, number> }>();
  for (const { pod, counts } of livePodCounts(state)) {
    const id = `${pod.namespace}\u0000${pod.workload.kind}\u0000${pod.workload.name}`;
    let entry = byWorkload.get(id);
    if (!entry) {
      entry = {
        view: { namespace: pod.namespace, kind: pod.workload.kind, name: pod.workload.name, pods: 0, httpConnections: 0, connections: [] },
        counts: new Map(),
      };
      byWorkload.set(id, entry);
    }
    entry.view.pods++;
    for (const [key, count] of counts) entry.counts.set(key, (entry.counts.get(key) ?? 0) + count);
  }
  return [...byWorkload.values()]
    .map(({ view, counts }) => ({ ...view, httpConnections: total(counts), connections: connectionViews(counts) }))
    .sort((a, b) => b.httpConnections - a.httpConnections || compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

export interface NamespaceCountView {
  namespace: string;
  pods: number;
  httpConnections: number;
  connections: ConnectionCountView[];
}

export function namespaceViews(state: FleetState): NamespaceCountView[] {
  const byNamespace = new Map<string, { pods: number; counts: Map<number, number> }>();
  for (const { pod, counts } of livePodCounts(state)) {
    let entry = byNamespace.get(pod.namespace);
    if (!entry) byNamespace.set(pod.namespace, (entry = { pods: 0, counts: new Map() }));
    entry.pods++;
    for (const [key, count] of counts) entry.counts.set(key, (entry.counts.get(key) ?? 0) + count);
  }
  return [...byNamespace]
    .map(([namespace, { pods, counts }]) => ({ namespace, pods, httpConnections: total(counts), connections: connectionViews(counts) }))
    .sort((a, b) => b.httpConnections - a.httpConnections || compare(a.namespace, b.namespace));
}

function total(counts: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
