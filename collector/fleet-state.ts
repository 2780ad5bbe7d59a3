// The collector's live view of the fleet: validates and orders incoming snapshots, keeps each
// node's record and the incremental cluster totals, and turns quiet nodes stale.

import type { Logger } from 'pino';
import { pino } from 'pino';
import type { DecodeLimits } from './ingest/decode-snapshot.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES, decodeSnapshot } from './ingest/decode-snapshot.js';
import { RejectLog } from './ingest/reject-log.js';
import type { IngestOrigin, IngestOutcome, IngestTransport, RejectReason, SnapshotIngest } from './ingest/snapshot-ingest.js';
import { LiveTotals } from './state/live-totals.js';
import type { ReceptionLink } from './state/reception-gaps.js';
import { ReceptionGaps } from './state/reception-gaps.js';
import type { NodeRecord } from './state/node-registry.js';
import { NodeRegistry } from './state/node-registry.js';
import { summarize } from './state/node-summary.js';
import type { PodDirectory } from './attribution/pod-directory.js';
import { NO_PODS } from './attribution/pod-directory.js';

export interface FleetStateOptions {
  cluster: string;
  maxSnapshotBytes?: number;
  logger?: Logger;
  /** Window of the once-per-reason rejection log. */
  rejectLogWindowMs?: number;
  now?: () => number;
  /** Pod metadata for attribution (Kubernetes); none outside it. */
  pods?: PodDirectory;
}

export interface IngestCounters {
  received: Map<IngestTransport, number>;
  accepted: number;
  rejected: Map<RejectReason, number>;
}

export class FleetState implements SnapshotIngest {
  readonly registry = new NodeRegistry();
  readonly totals = new LiveTotals();
  /** Times the collector itself could not receive; they do not count against a node. */
  readonly reception = new ReceptionGaps();
  readonly counters: IngestCounters = { received: new Map(), accepted: 0, rejected: new Map() };
  /** Called with each accepted snapshot's size (the metrics histogram). */
  onAcceptedBytes: (bytes: number) => void = () => undefined;
  private readonly limits: DecodeLimits;
  private readonly rejectLog: RejectLog;
  private readonly logger: Logger;
  readonly now: () => number;
  readonly pods: PodDirectory;

  constructor(options: FleetStateOptions) {
    this.limits = { cluster: options.cluster, maxBytes: options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES };
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.rejectLog = new RejectLog(this.logger, options.rejectLogWindowMs ?? 10_000);
    this.now = options.now ?? Date.now;
    this.pods = options.pods ?? NO_PODS;
  }

  get cluster(): string {
    return this.limits.cluster;
  }

  ingest(bytes: Uint8Array, origin: IngestOrigin): IngestOutcome {
    const nowMs = origin.receivedAtMs ?? this.now();
    this.counters.received.set(origin.transport, (this.counters.received.get(origin.transport) ?? 0) + 1);
    const decoded = decodeSnapshot(bytes, origin, this.limits);
    if (!decoded.ok) return this.reject(decoded.reason, decoded.detail, nowMs);
    const snapshot = decoded.snapshot;
    const offer = this.registry.offer(snapshot, () => summarize(snapshot, this.pods), origin.transport, nowMs);
    if (!offer.accepted) return this.reject('stale_sequence', `${snapshot.node}: ${offer.detail}`, nowMs);

    if (offer.replaced?.status === 'live') this.totals.remove(offer.replaced.summary);
    if (offer.record.status === 'live') this.totals.add(offer.record.summary);
    if (offer.replaced?.status === 'stale' && offer.record.status === 'live') {
      this.logger.info({ node: snapshot.node }, 'node live again');
    } else if (!offer.replaced) {
      this.logger.info({ node: snapshot.node, epoch: snapshot.epoch }, 'new node');
    }
    if (snapshot.goodbye) this.logger.info({ node: snapshot.node }, 'node said goodbye');
    this.counters.accepted++;
    this.onAcceptedBytes(bytes.length);
    return { accepted: true };
  }

  receptionLost(link: ReceptionLink): void {
    if (this.reception.isDown(link)) return;
    this.reception.lost(link);
    this.logger.warn({ transport: link }, 'cannot receive snapshots; nodes heard this way are not judged stale until it is back');
  }

  receptionResumed(link: ReceptionLink, nowMs = this.now()): void {
    this.reception.resumed(link, nowMs);
  }

  /**
   * sweep() once the input that is already waiting has been taken in (setImmediate runs after
   * the event loop's poll phase): a collector that was busy for a moment (a long query, GC)
   * must not turn a node stale whose next snapshot sits unread in a socket.
   */
  sweepAfterInput(): Promise<NodeRecord[]> {
    return new Promise((resolve) => setImmediate(() => resolve(this.sweep())));
  }

  /** Turn nodes that missed 3 intervals the collector could hear stale and take them out of the totals. */
  sweep(nowMs = this.now()): NodeRecord[] {
    // Once per sweep: a pause that ended just now is dated now, whether or not a node is judged.
    this.reception.noticePause(nowMs);
    const turned = this.registry.sweep(nowMs, (r) => this.reception.silentSince(r.transport, r.lastSeenMs, nowMs));
    for (const record of turned) {
      this.totals.remove(record.summary);
      this.logger.warn({ node: record.name, lastSeenMs: record.lastSeenMs }, 'node stale');
    }
    return turned;
  }

  private reject(reason: RejectReason, detail: string, nowMs: number): IngestOutcome {
    this.counters.rejected.set(reason, (this.counters.rejected.get(reason) ?? 0) + 1);
    this.rejectLog.record(reason, detail, nowMs);
    return { accepted: false, reason, detail };
  }
}
