// The collector's NATS connection, shared by the snapshot ingest and the detail client.
// Unlike the agent, the collector fails fast when NATS cannot be reached at start (its
// Deployment restarts it, and an operator sees the reason at once); once connected it
// reconnects forever with backoff, through credential refusals too, and the status log
// says why it is down. Options are the agent's (nats-connect-options.ts).
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { diagnoseConnectError, explainConnectError, natsConnectOptions, reconnectDelayOf, serverList } from '../../agent/publish/nats-connect-options.js';
import type { NatsConnectSettings } from '../../agent/publish/nats-connect-options.js';
import { NatsStatusLog } from '../../agent/publish/nats-status-log.js';

export interface CollectorNatsOptions extends Omit<NatsConnectSettings, 'name'> {
  /** Shown by the server's connz; default `fleetstat-collector`. */
  name?: string;
  /** Repeated connection problems are logged at most this often (default 60 s). */
  logEveryMs?: number;
  logger?: Logger;
}

export class CollectorNatsError extends Error {
  override readonly name = 'CollectorNatsError';
}

export async function connectCollectorNats(opts: CollectorNatsOptions): Promise<NatsConnection> {
  const delay = reconnectDelayOf(opts);
  const logger = opts.logger ?? pino({ level: 'silent' });
  let connection: NatsConnection;
  try {
    connection = await connect(natsConnectOptions({ ...opts, name: opts.name ?? 'fleetstat-collector' }, delay));
  } catch (dialError) {
    const err = await diagnoseConnectError(dialError, opts);
    throw new CollectorNatsError(`cannot connect: ${explainConnectError(err, serverList(opts.servers))}`, { cause: err });
  }
  const statusLog = new NatsStatusLog({ logger, delay, ...(opts.logEveryMs ? { logEveryMs: opts.logEveryMs } : {}) });
  statusLog.follow(connection).catch((err: unknown) => logger.error({ err }, 'NATS status log failed'));
  return connection;
}
