// What one node contributes to the cluster view, computed once per accepted snapshot
// (O(snapshot)), so aggregation and queries never walk namespaces again.

import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { connectionKey } from '../../agent/snapshot/connection-key.js';

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
  /** Every listening port, HTTP or not. */
  listeners: Map<number, ListenerSummary>;
  namespaces: number;
}

export function summarize(snapshot: Snapshot): NodeSummary {
  const http = new Map<number, number>();
  const listeners = new Map<number, ListenerSummary>();
  let httpTotal = 0;
  for (const ns of snapshot.namespaces) {
    for (const p of ns.ports) {
      if (!p.http) continue;
      const key = connectionKey(p.port, p.direction, p.state);
      http.set(key, (http.get(key) ?? 0) + p.count);
      httpTotal += p.count;
    }
    for (const l of ns.listeners) {
      const entry = listeners.get(l.port) ?? { sockets: 0, acceptQueue: 0 };
      entry.sockets++;
      entry.acceptQueue += l.acceptQueue;
      listeners.set(l.port, entry);
    }
  }
  return { http, httpTotal, listeners, namespaces: snapshot.namespaces.length };
}
