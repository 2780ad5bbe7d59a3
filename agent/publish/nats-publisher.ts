// Publishes snapshots to fleetstat.v1.<cluster>.snap.<node> over NATS: core publish by
// default, or JetStream publish with a message id so the stream drops a re-sent snapshot.
//
// While the link is down nothing is handed to the client (which would buffer every
// snapshot of the outage): publish() keeps only the newest snapshot and answers 'pending';
// that snapshot goes out as soon as the link is up again. A core publish is followed by a
// flush (one PING/PONG round trip, once per interval) so that 'sent' means the server has
// it and a half-open connection shows up as a time-out instead of silent loss.
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { NatsLink } from './nats-link.js';
import type { NatsLinkOptions } from './nats-link.js';
import { PublishError, snapshotSubject } from './snapshot-publisher.js';
import type { PublisherRefusals, PublisherStatus, PublishResult, SnapshotPublisher } from './snapshot-publisher.js';

export interface NatsPublisherOptions extends Partial<NatsLinkOptions> {
  cluster: string;
  node: string;
  /**
   * A link to share (e.g. with the detail responder); the publisher then neither owns nor closes
   * it. Without one, the publisher makes its own from `servers` and the other link options.
   */
  link?: NatsLink;
  /** Publish through JetStream with msgID `<node>.<epoch>.<seq>` (needs a stream on the subject). */
  jetstream?: boolean;
  /** Time limit for the server's acknowledgement (flush or JetStream ack); default 5000 ms. */
  publishTimeoutMs?: number;
}

export interface NatsPublisherCounters {
  /** Snapshots the server acknowledged (flush or JetStream ack). */
  sent: number;
  /** Pending snapshots replaced by a newer one during an outage (never sent, by design). */
  superseded: number;
  /** JetStream acks that reported a duplicate (a re-send the stream dropped). */
  duplicates: number;
}

interface Outgoing {
  bytes: Uint8Array;
  msgID: string;
}

class PublishTimeout extends Error {}

export class NatsPublisher implements SnapshotPublisher {
  readonly transport = 'nats' as const;
  /** The connection this publisher uses; hand it to NatsDetailResponder to share one connection. */
  readonly link: NatsLink;
  private readonly ownsLink: boolean;
  private readonly subject: string;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private pending: Outgoing | undefined;
  private resending = false;
  private js: JetStreamClient | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private readonly stats: NatsPublisherCounters = { sent: 0, superseded: 0, duplicates: 0 };

  constructor(private readonly opts: NatsPublisherOptions) {
    if (!opts.cluster || !opts.node) throw new PublishError('NatsPublisher needs a cluster and a node name');
    this.log = opts.logger ?? pino({ level: 'silent' });
    if (opts.link) {
      this.link = opts.link;
      this.ownsLink = false;
    } else {
      if (!opts.servers || opts.servers.length === 0) throw new PublishError('NatsPublisher needs servers or a link');
      this.link = new NatsLink({ ...opts, servers: opts.servers, name: opts.name ?? `fleetstat-agent/${opts.node}`, logger: this.log });
      this.ownsLink = true;
    }
    this.subject = snapshotSubject(opts.cluster, opts.node);
    this.timeoutMs = opts.publishTimeoutMs ?? 5000;
    // Every (re)connect sends what waited; the listener lives as long as the publisher.
    this.link.onUp(() => void this.sendPending());
  }

  /** Rejects with PublishError only when NATS refuses us for good (credentials, URL, TLS); see NatsLink. */
  start(): Promise<void> {
    return this.link.start();
  }

  async publish(snapshot: Snapshot): Promise<PublishResult> {
    if (this.shutdownPromise) throw new PublishError('publish after shutdown');
    const fatal = this.link.failure();
    if (fatal) throw fatal;
    if (snapshot.node !== this.opts.node || snapshot.cluster !== this.opts.cluster) {
      throw new PublishError(
        `snapshot of ${snapshot.cluster}/${snapshot.node} given to the publisher of ${this.opts.cluster}/${this.opts.node}`,
      );
    }
    const out = { bytes: Snapshot.encode(snapshot).finish(), msgID: `${snapshot.node}.${snapshot.epoch}.${snapshot.seq}` };
    if (!this.link.isConnected() || this.resending) {
      this.hold(out);
      return 'pending';
    }
    try {
      await this.send(out);
      return 'sent';
    } catch (err) {
      if (!isRetryable(err)) throw new PublishError(`publish to ${this.subject} failed: ${explain(err, this.subject)}`, { cause: err });
      // Keep it for the reconnect unless a newer snapshot is already waiting.
      if (!this.pending) this.pending = out;
      if (!this.link.isConnected()) return 'pending';
      throw new PublishError(`publish to ${this.subject} not acknowledged within ${this.timeoutMs} ms`, { cause: err });
    }
  }

  status(): PublisherStatus {
    const fatal = this.link.failure();
    return fatal ? { connected: false, lastError: fatal.message } : this.link.status();
  }

  refusals(): PublisherRefusals {
    const c = this.link.counters();
    return { auth: c.authErrors, permission: c.permissionViolations };
  }

  counters(): NatsPublisherCounters {
    return { ...this.stats };
  }

  /** Sends the waiting snapshot (e.g. a goodbye) if connected, then drains and closes an owned link. */
  shutdown(timeoutMs: number): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(timeoutMs);
    return this.shutdownPromise;
  }

  private async doShutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.pending && this.link.isConnected()) {
      await withTimeout(this.sendPending(), timeoutMs).catch(() => undefined);
    }
    if (this.ownsLink) await this.link.close(Math.max(0, deadline - Date.now()));
  }

  private hold(out: Outgoing): void {
    if (this.pending) this.stats.superseded++;
    this.pending = out;
  }

  /** Sends the pending snapshot, and any newer one that arrives meanwhile, while the link is up. */
  private async sendPending(): Promise<void> {
    if (this.resending) return;
    this.resending = true;
    try {
      while (this.pending && this.link.isConnected()) {
        const out = this.pending;
        this.pending = undefined;
        try {
          await this.send(out);
        } catch (err) {
          if (!this.pending && isRetryable(err)) this.pending = out;
          this.log.warn({ err: explain(err, this.subject) }, 'sending the snapshot kept during the outage failed');
          break;
        }
      }
    } finally {
      this.resending = false;
    }
  }

  private async send(out: Outgoing): Promise<void> {
    const nc = this.link.connection;
    if (!nc) throw new errors.ConnectionError('not connected');
    // A publish the user's permissions do not allow is refused with an asynchronous -ERR: before
    // a flush's PONG (whose status event is handled a tick later), or instead of a JetStream ack.
    const refusedBefore = this.link.refusedPublishesTo(this.subject);
    const refused = () => this.link.refusedPublishesTo(this.subject) > refusedBefore;
    const refusal = (cause?: unknown) =>
      new PublishError(`the NATS server's permissions do not let this user publish to ${this.subject}`, { cause });
    try {
      if (this.opts.jetstream) {
        const ack = await this.jetstream(nc).publish(this.subject, out.bytes, { msgID: out.msgID, timeout: this.timeoutMs });
        if (ack.duplicate) this.stats.duplicates++;
      } else {
        nc.publish(this.subject, out.bytes);
        await withTimeout(nc.flush(), this.timeoutMs);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      throw refused() ? refusal(err) : err;
    }
    if (refused()) throw refusal();
    this.stats.sent++;
  }

  private jetstream(nc: NatsConnection): JetStreamClient {
    this.js ??= jetstream(nc, { timeout: this.timeoutMs });
    return this.js;
  }
}

/** Failures worth keeping the snapshot for: the link dropped or the server did not answer in time. */
function isRetryable(err: unknown): boolean {
  return (
    err instanceof PublishTimeout ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.ConnectionError ||
    err instanceof errors.ClosedConnectionError ||
    // A flush or request in flight when the link drops: the client rejects it this way and
    // discards its unsent buffer, so the snapshot may never have left.
    (err instanceof errors.RequestError && /disconnected/.test(err.message))
  );
}

/** The client reports a subject no stream captures as "jetstream is not enabled"; say what it means. */
function explain(err: unknown, subject: string): string {
  const e = err as Error;
  if (e.cause instanceof errors.NoRespondersError || /no responders/.test(String((e.cause as Error | undefined)?.message))) {
    return `no JetStream stream captures ${subject}: start a collector with JetStream (it creates the stream) or publish without JetStream`;
  }
  return e.message;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeout(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
