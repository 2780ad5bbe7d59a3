// The collector's NATS connection, shared by the snapshot ingest and the detail client.
// Unlike the agent, the collector fails fast when NATS cannot be reached at start (its
// Deployment restarts it, and an operator sees the reason at once); once connected it
// reconnects forever with jittered backoff, never closing after the client's default of
// ten attempts.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsCredentials } from '../../agent/publish/nats-link.js';

export interface CollectorNatsOptions {
  /** One URL, a comma-separated list, or a list. */
  servers: string | string[];
  /** Shown by the server's connz; default `fleetstat-collector`. */
  name?: string;
  credentials?: NatsCredentials;
  reconnectTimeWaitMs?: number;
  reconnectJitterMs?: number;
  connectTimeoutMs?: number;
}

export class CollectorNatsError extends Error {
  override readonly name = 'CollectorNatsError';
}

export async function connectCollectorNats(opts: CollectorNatsOptions): Promise<NatsConnection> {
  const servers = (Array.isArray(opts.servers) ? opts.servers : opts.servers.split(',')).map((s) => s.trim()).filter(Boolean);
  const { credentials = {} } = opts;
  try {
    return await connect({
      servers,
      name: opts.name ?? 'fleetstat-collector',
      ...(credentials.token !== undefined ? { token: credentials.token } : {}),
      ...(credentials.user !== undefined ? { user: credentials.user, pass: credentials.pass } : {}),
      timeout: opts.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: opts.reconnectTimeWaitMs ?? 2000,
      reconnectJitter: opts.reconnectJitterMs ?? 1000,
    });
  } catch (err) {
    throw new CollectorNatsError(`cannot connect to NATS at ${servers.join(',')}: ${(err as Error).message}`, { cause: err });
  }
}
