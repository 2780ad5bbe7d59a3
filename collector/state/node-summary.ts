// What one node contributes to the cluster view, computed once per accepted snapshot
// (O(snapshot)), so aggregation and queries never walk namespaces again.
//
// Pods: a pod's own network namespace belongs to the one pod its containers name; in the
// host's namespace, a listening port belongs to the hostNetwork pod that declares it. Ports
// a pod names http/https (or a Service marks with appProtocol) count as HTTP inbound even
// when the agent's --http-ports does not list them.

import type { NetworkNamespace, Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { connectionKey } from '../../agent/snapshot/connection-key.js';
import type { PodDirectory } from '../attribution/pod-directory.js';
import { NO_PODS } from '../attribution/pod-directory.js';

export interface ListenerSummary {
  /** Listening sockets on this port across the node's namespaces. */
  sockets: number;
  /** Sum of their accept queues. */
  acceptQueue: number;
}

export interface NodeSummary {
  /** HTTP connections by connectionKey(port, direction, state), summed over namespaces. */
  http: Map<number, number>;
  httpTotal: number;
  /** The same counts split by pod UID, for the connections attributed to a pod. */
  pods: Map<string, Map<number, number>>;
  /** Every listening port, HTTP or not. */
  listeners: Map<number, ListenerSummary>;
  namespaces: number;
}

export function summarize(snapshot: Snapshot, directory: PodDirectory = NO_PODS): NodeSummary {
  const http = new Map<number, number>();
  const pods = new Map<string, Map<number, number>>();
  const listeners = new Map<number, ListenerSummary>();
  let httpTotal = 0;
  for (const ns of snapshot.namespaces) {
    forEachHttpCount(ns, snapshot.node, directory, (key, count, podUid) => {
      add(http, key, count);
      httpTotal += count;
      if (podUid !== undefined) {
        let counts = pods.get(podUid);
        if (!counts) pods.set(podUid, (counts = new Map()));
        add(counts, key, count);
      }
    });
    for (const l of ns.listeners) {
      const entry = listeners.get(l.port) ?? { sockets: 0, acceptQueue: 0 };
      entry.sockets++;
      entry.acceptQueue += l.acceptQueue;
      listeners.set(l.port, entry);
    }
  }
  return { http, httpTotal, pods, listeners, namespaces: snapshot.namespaces.length };
}

/** One namespace's HTTP counts by connectionKey, judged as summarize judges them (for a node's detail view). */
export function namespaceHttpCounts(ns: NetworkNamespace, node: string, directory: PodDirectory): Map<number, number> {
  const counts = new Map<number, number>();
  forEachHttpCount(ns, node, directory, (key, count) => add(counts, key, count));
  return counts;
}

/** The namespace's port counts that are HTTP: flagged by the agent, or inbound on a port a pod names HTTP. */
function forEachHttpCount(
  ns: NetworkNamespace,
  node: string,
  directory: PodDirectory,
  visit: (key: number, count: number, podUid: string | undefined) => void,
): void {
  const { owner, portOwners } = ownersOf(ns, node, directory);
  for (const p of ns.ports) {
    const inbound = p.direction === Direction.DIRECTION_INBOUND;
    if (!p.http && !(inbound && portOwners.has(p.port))) continue;
    visit(connectionKey(p.port, p.direction, p.state), p.count, owner ?? (inbound ? portOwners.get(p.port) : undefined));
  }
}

/** The pod owning a namespace (a pod's own), and the owners of named HTTP ports in it. */
function ownersOf(
  ns: NetworkNamespace,
  node: string,
  directory: PodDirectory,
): { owner: string | undefined; portOwners: Map<number, string> } {
  const portOwners = new Map<number, string>();
  const uids = [...new Set(ns.containers.map((c) => c.podUid).filter((uid) => uid !== ''))];
  const owner = !ns.host && uids.length === 1 ? uids[0] : undefined;
  // In the host's namespace: the hostNetwork pods whose processes the agent found there by
  // their cgroups, then any other hostNetwork pod the API places on this node.
  const found = uids.map((uid) => directory.pod(uid));
  const candidates = ns.host ? [...found, ...directory.hostNetworkPods(node)] : found;
  for (const pod of candidates) {
    if (!pod) continue;
    for (const port of directory.httpPorts(pod)) if (!portOwners.has(port)) portOwners.set(port, pod.uid);
  }
  return { owner, portOwners };
}

function add(map: Map<number, number>, key: number, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}
