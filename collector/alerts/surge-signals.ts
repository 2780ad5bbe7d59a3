// One evaluation's values, read from the live nodes: per (node, port) and per port
// cluster-wide, inbound connections and SYN_RECV; per (node, port) accept queues.

import { keyDirection, keyPort, keyState } from '../../agent/snapshot/connection-key.js';
import { TCP_LISTEN, TCP_NEW_SYN_RECV, TCP_SYN_RECV } from '../../agent/procfs/tcp-states.js';
import type { NodeRecord } from '../state/node-registry.js';
import type { AlertKind } from './alert-types.js';

const INBOUND = 1;

export interface SignalValue {
  kind: AlertKind;
  node?: string;
  port: number;
  value: number;
}

/** Map key of a series: one baseline per (kind, node or cluster, port). */
export function seriesKey(kind: AlertKind, node: string | undefined, port: number): string {
  return `${kind}|${node ?? ''}|${port}`;
}

/**
 * Connections are inbound HTTP sockets in every state but LISTEN and the handshake states:
 * a flood of short requests shows up in TIME_WAIT as much as in ESTABLISHED, so all of them
 * count; half-open handshakes are the separate syn_surge signal, so one SYN flood does not
 * raise two alerts. (The kernel shows request sockets as SYN_RECV; NEW_SYN_RECV is counted
 * with it in case an agent ever reports it.)
 */
export function readSignals(records: Iterable<NodeRecord>): Map<string, SignalValue> {
  const out = new Map<string, SignalValue>();
  const add = (kind: AlertKind, node: string | undefined, port: number, count: number): void => {
    const key = seriesKey(kind, node, port);
    const entry = out.get(key);
    if (entry) entry.value += count;
    else out.set(key, node === undefined ? { kind, port, value: count } : { kind, node, port, value: count });
  };
  for (const record of records) {
    if (record.status !== 'live') continue;
    for (const [key, count] of record.summary.http) {
      if (keyDirection(key) !== INBOUND) continue;
      const state = keyState(key);
      if (state === TCP_LISTEN) continue;
      const kind: AlertKind = state === TCP_SYN_RECV || state === TCP_NEW_SYN_RECV ? 'syn_surge' : 'connection_surge';
      const port = keyPort(key);
      add(kind, record.name, port, count);
      add(kind, undefined, port, count);
    }
    for (const [port, listener] of record.summary.listeners) add('accept_queue', record.name, port, listener.acceptQueue);
  }
  return out;
}
