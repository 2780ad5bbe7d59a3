// How an agent hands snapshots to a transport: one interface, one implementation per
// transport (NATS, gRPC, in-memory), as nats.js and opentelemetry-js exporters do.

import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';

/**
 * 'sent': handed to a connected transport. 'pending': disconnected; kept as the newest
 * snapshot (replacing any older pending one) and sent as soon as the transport reconnects.
 */
export type PublishResult = 'sent' | 'pending';

export interface PublisherStatus {
  connected: boolean;
  /** Why the last attempt failed, for logs and /healthz; undefined while healthy. */
  lastError?: string;
}

export interface PublisherRefusals {
  /** Credentials refused (while reconnecting; at start they end the agent). */
  auth: number;
  /** Publishes or subscriptions the server's permissions did not allow. */
  permission: number;
}

export interface SnapshotPublisher {
  readonly transport: 'nats' | 'grpc' | 'memory';
  /**
   * Connect. Rejects with PublishError when the first connection is refused for a reason
   * retrying cannot fix (bad credentials, TLS); later failures are retried with jittered backoff.
   */
  start(): Promise<void>;
  /** Rejects only on a time-out or a non-retryable error; never throws synchronously. */
  publish(snapshot: Snapshot): Promise<PublishResult>;
  status(): PublisherStatus;
  /** What the server refused since start (NATS: bad credentials, subject permissions), for /metrics. */
  refusals?(): PublisherRefusals;
  /** Flush what can be flushed within the time limit and disconnect. Safe to call twice. */
  shutdown(timeoutMs: number): Promise<void>;
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/** Snapshots go to fleetstat.v1.<cluster>.snap.<node>; detail requests to ...detail.<node>. */
export function snapshotSubject(cluster: string, node: string): string {
  return `fleetstat.v1.${cluster}.snap.${node}`;
}

export function detailSubject(cluster: string, node: string): string {
  return `fleetstat.v1.${cluster}.detail.${node}`;
}
