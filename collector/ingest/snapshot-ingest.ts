// What every collector transport calls with the bytes it received: one place validates,
// orders and counts, whatever carried the snapshot.

export type IngestTransport = 'nats' | 'jetstream' | 'grpc' | 'memory';

export interface IngestOrigin {
  transport: IngestTransport;
  /** The node named by the NATS subject (or gRPC peer identity); must equal the snapshot's. */
  claimedNode?: string;
  /** Collector receive time, ms since the epoch; defaults to now. */
  receivedAtMs?: number;
}

export type RejectReason = 'too_large' | 'malformed' | 'invalid' | 'node_mismatch' | 'cluster_mismatch' | 'stale_sequence';

export type IngestOutcome = { accepted: true } | { accepted: false; reason: RejectReason; detail: string };

export interface SnapshotIngest {
  ingest(bytes: Uint8Array, origin: IngestOrigin): IngestOutcome;
  /** The transport's own link (the collector's NATS connection) is down: nothing can arrive over it. */
  receptionLost?(link: Exclude<IngestTransport, 'jetstream'>): void;
  /** It is back: silence over it counts again from now. */
  receptionResumed?(link: Exclude<IngestTransport, 'jetstream'>): void;
}
