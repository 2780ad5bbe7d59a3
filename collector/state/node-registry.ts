// Every node the collector has heard from: ordering of its snapshots and its live/stale state.
//
// Ordering: within one agent run (epoch) a snapshot is newer when its seq is larger. Epochs
// are random per start, so across runs the agent clock orders them, and an epoch once
// replaced is retired for good, so a replay of an older run can never come back. A node is
// stale after 3 missed intervals (by the collector's clock, not counting time the collector
// itself could not receive: see reception-gaps.ts) or at once after a goodbye.

import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { IngestTransport } from '../ingest/snapshot-ingest.js';
import type { NodeSummary } from './node-summary.js';

export type NodeStatus = 'live' | 'stale';

export interface NodeRecord {
  name: string;
  status: NodeStatus;
  /** Why the node is stale: it said goodbye, or it went quiet. */
  staleReason?: 'goodbye' | 'missed_intervals';
  snapshot: Snapshot;
  summary: NodeSummary;
  /** How the last snapshot came: detail requests go back the same way. */
  transport: IngestTransport;
  /** Collector time of the last accepted snapshot. */
  lastSeenMs: number;
}

export type Offer =
  | { accepted: true; record: NodeRecord; replaced?: NodeRecord }
  | { accepted: false; detail: string };

export const MISSED_INTERVALS_BEFORE_STALE = 3;
const RETIRED_EPOCHS_KEPT = 16;

export class NodeRegistry {
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly retired = new Map<string, number[]>();

  /**
   * Accept the snapshot when it is newer than what the node last sent. The summary is made
   * only then: duplicates and replays cost no more than the ordering check.
   */
  offer(snapshot: Snapshot, summarize: () => NodeSummary, transport: IngestTransport, nowMs: number): Offer {
    const current = this.nodes.get(snapshot.node);
    if (current) {
      const problem = this.olderThan(snapshot, current, nowMs);
      if (problem) return { accepted: false, detail: problem };
    }
    if (current && current.snapshot.epoch !== snapshot.epoch) this.retire(snapshot.node, current.snapshot.epoch);
    const record: NodeRecord = {
      name: snapshot.node,
      status: snapshot.goodbye ? 'stale' : 'live',
      ...(snapshot.goodbye ? { staleReason: 'goodbye' as const } : {}),
      snapshot,
      summary: summarize(),
      transport,
      lastSeenMs: nowMs,
    };
    this.nodes.set(snapshot.node, record);
    return current ? { accepted: true, record, replaced: current } : { accepted: true, record };
  }

  /**
   * Mark nodes stale that missed 3 intervals; returns those that just turned stale. `silentSince`
   * says from when a node's silence counts (undefined: do not judge it now); by default its
   * last snapshot.
   */
  sweep(nowMs: number, silentSince: (record: NodeRecord) => number | undefined = (r) => r.lastSeenMs): NodeRecord[] {
    const turned: NodeRecord[] = [];
    for (const record of this.nodes.values()) {
      const limitMs = MISSED_INTERVALS_BEFORE_STALE * record.snapshot.intervalMs;
      // silentSince only ever moves a silence later (or suspends it), so a node heard within the
      // limit needs no asking: the sweep stays a comparison per node.
      if (record.status !== 'live' || nowMs - record.lastSeenMs <= limitMs) continue;
      const since = silentSince(record);
      if (since !== undefined && nowMs - since > limitMs) {
        record.status = 'stale';
        record.staleReason = 'missed_intervals';
        turned.push(record);
      }
    }
    return turned;
  }

  get(name: string): NodeRecord | undefined {
    return this.nodes.get(name);
  }

  records(): IterableIterator<NodeRecord> {
    return this.nodes.values();
  }

  /** Nodes by status, for summaries and fleetstat_nodes. */
  statusCounts(): { live: number; stale: number } {
    let live = 0;
    for (const record of this.nodes.values()) if (record.status === 'live') live++;
    return { live, stale: this.nodes.size - live };
  }

  get size(): number {
    return this.nodes.size;
  }

  private olderThan(snapshot: Snapshot, current: NodeRecord, nowMs: number): string | undefined {
    const have = current.snapshot;
    if (snapshot.epoch === have.epoch) {
      return snapshot.seq > have.seq ? undefined : `seq ${snapshot.seq} <= ${have.seq} of epoch ${have.epoch}`;
    }
    if (this.retired.get(snapshot.node)?.includes(snapshot.epoch)) return `epoch ${snapshot.epoch} was replaced`;
    // A new run: newer by the agent clock, or the old run has ended: it said goodbye, went
    // stale, or missed an interval (by the collector's clock). So a restarted agent whose clock
    // stepped back is accepted as soon as its predecessor is quiet, not only once that one turns
    // stale (which would report the node stale for 3 intervals although it runs).
    const predecessorQuiet = current.status === 'stale' || nowMs - current.lastSeenMs > have.intervalMs;
    if (snapshot.agentTimeMs > have.agentTimeMs || predecessorQuiet) return undefined;
    return `epoch ${snapshot.epoch} at ${snapshot.agentTimeMs} is older than epoch ${have.epoch} at ${have.agentTimeMs}`;
  }

  private retire(node: string, epoch: number): void {
    const list = this.retired.get(node) ?? [];
    list.push(epoch);
    if (list.length > RETIRED_EPOCHS_KEPT) list.shift();
    this.retired.set(node, list);
  }
}
