// The agent's one NATS connection and its life: the first-connect policy, reconnecting
// forever with backoff, and the connected/disconnected state that the publisher and the
// detail responder act on. Connection options, reconnect pacing and the status log are
// shared with the collector (nats-connect-options.ts, nats-status-log.ts).
//
// First connect: one attempt at start(). A refusal that retrying cannot fix (bad
// credentials, bad URL, TLS) rejects start() at once with a PublishError. A server that is
// simply not there yet (refused, timed out, DNS) does not: in a DaemonSet the agent often
// starts before NATS, so start() resolves, the link reports disconnected with the reason,
// and keeps dialing in the background with the same backoff as a reconnect. We do not use
// the client's waitOnFirstConnect for this because its connect() hides every per-attempt
// error until it gives up, so /healthz could not say why we are not connected, and an auth
// error would surface only after the second attempt.
//
// After the first connect the client reconnects by itself, through credential refusals too
// (a server being reconfigured); the status log says why it is still down.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { diagnoseConnectError, explainConnectError, isPermanentConnectError, natsConnectOptions, reconnectDelayOf, serverList } from './nats-connect-options.js';
import type { NatsConnectSettings } from './nats-connect-options.js';
import type { ReconnectDelay } from './nats-reconnect-delay.js';
import { NatsStatusLog } from './nats-status-log.js';
import type { NatsStatusCounters } from './nats-status-log.js';
import { PublishError } from './snapshot-publisher.js';
import type { PublisherStatus } from './snapshot-publisher.js';

export interface NatsLinkOptions extends Omit<NatsConnectSettings, 'name'> {
  /** Client name shown by the server's monitoring (connz), e.g. `fleetstat-agent/<node>`. */
  name?: string;
  /** Repeated connection problems are logged at most this often (default 60 s). */
  logEveryMs?: number;
  logger?: Logger;
}

type UpListener = (nc: NatsConnection) => void;

export class NatsLink {
  private readonly log: Logger;
  private readonly servers: string[];
  private nc: NatsConnection | undefined;
  private up = false;
  private lastError: string | undefined;
  private fatal: PublishError | undefined;
  private startPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly delay: ReconnectDelay;
  private readonly statusLog: NatsStatusLog;
  private watcher: Promise<void> | undefined;
  private readonly upListeners = new Set<UpListener>();

  constructor(private readonly opts: NatsLinkOptions) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.servers = serverList(opts.servers);
    this.delay = reconnectDelayOf(opts);
    this.statusLog = new NatsStatusLog({ logger: this.log, delay: this.delay, ...(opts.logEveryMs ? { logEveryMs: opts.logEveryMs } : {}) });
  }

  /** See the file comment. Idempotent: later calls return the first call's promise. */
  start(): Promise<void> {
    this.startPromise ??= this.firstAttempt();
    return this.startPromise;
  }

  /** The live connection, or undefined before the first successful connect and after close. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  isConnected(): boolean {
    return this.up;
  }

  /**
   * Set once a failure that retrying cannot fix ended the link: a refusal on the first connect
   * (also when that comes from the background retries of an agent started before NATS).
   */
  failure(): PublishError | undefined {
    return this.fatal;
  }

  status(): PublisherStatus {
    if (!this.up) return { connected: false, lastError: this.statusLog.lastError() ?? this.lastError ?? 'not connected yet' };
    // Connected, yet the server refuses what we publish or subscribe to: say so.
    const refused = this.statusLog.lastError();
    return refused ? { connected: true, lastError: refused } : { connected: true };
  }

  /** How many publishes to `subject` the server's permissions refused. */
  refusedPublishesTo(subject: string): number {
    return this.statusLog.refusedPublishesTo(subject);
  }

  /** What the server refused and how often the link dropped, for /metrics. */
  counters(): NatsStatusCounters {
    return this.statusLog.counters();
  }

  /**
   * Calls `fn` every time the link comes up (first connect and each reconnect), and at once if it
   * is up now. Returns a function that removes the listener.
   */
  onUp(fn: UpListener): () => void {
    this.upListeners.add(fn);
    if (this.up && this.nc) fn(this.nc);
    return () => this.upListeners.delete(fn);
  }

  /** Drains (flushing what the client buffered) within the time limit, then closes. Safe twice. */
  close(timeoutMs: number): Promise<void> {
    this.closePromise ??= this.doClose(timeoutMs);
    return this.closePromise;
  }

  private async firstAttempt(): Promise<void> {
    try {
      this.attach(await this.dial());
    } catch (dialError) {
      const err = await diagnoseConnectError(dialError, this.opts);
      if (isPermanentConnectError(err)) {
        this.fatal = this.connectError(err);
        this.lastError = this.fatal.message;
        throw this.fatal;
      }
      this.dialFailed(err);
      this.scheduleRetry();
    }
  }

  private dial(): Promise<NatsConnection> {
    this.delay.attempting();
    return connect(natsConnectOptions({ ...this.opts, name: this.opts.name ?? 'fleetstat-agent' }, this.delay));
  }

  private dialFailed(err: unknown): void {
    this.lastError = `cannot reach NATS at ${this.servers.join(',')}: ${(err as Error).message}`;
    this.statusLog.dialFailed(this.lastError);
  }

  private scheduleRetry(): void {
    if (this.closePromise) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial().then(
        (nc) => {
          if (this.closePromise) {
            void nc.close(); // closed while dialing: nothing wants this connection
            return;
          }
          this.attach(nc);
        },
        async (dialError: unknown) => {
          const err = await diagnoseConnectError(dialError, this.opts);
          if (isPermanentConnectError(err)) {
            this.fatal = this.connectError(err);
            this.lastError = this.fatal.message;
            this.log.error({ err: this.fatal.message }, 'NATS refused the connection; not retrying');
            return;
          }
          this.dialFailed(err);
          this.scheduleRetry();
        },
      ).catch((err: unknown) => this.log.error({ err }, 'NATS retry failed'));
    }, this.delay.wait());
    this.retryTimer.unref();
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.up = true;
    this.lastError = undefined;
    this.statusLog.connected(nc.getServer());
    const following = this.statusLog.follow(nc).catch((err: unknown) => this.log.error({ err }, 'NATS status log failed'));
    this.watcher = Promise.all([following, this.watch(nc).catch((err: unknown) => this.log.error({ err }, 'NATS status watcher failed'))]).then(() => undefined);
    this.notifyUp(nc);
  }

  private notifyUp(nc: NatsConnection): void {
    for (const fn of this.upListeners) {
      try {
        fn(nc);
      } catch (err) {
        this.log.error({ err }, 'NATS up-listener threw');
      }
    }
  }

  /** Follows the client's status events for the link's state; ends when the connection closes for good. */
  private async watch(nc: NatsConnection): Promise<void> {
    const closed = nc.closed().then((err) => {
      this.up = false;
      if (err && !this.closePromise) {
        // The client gave up; with the options we give it that should not happen, but if it does nothing will reconnect.
        this.fatal = new PublishError(`NATS connection closed: ${err.message}`, { cause: err });
        this.lastError = this.fatal.message;
        this.log.error({ err: err.message }, 'NATS connection closed for good');
      }
    });
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.up = false;
          this.lastError ??= `disconnected from ${s.server}`;
          break;
        case 'reconnect':
          if (this.up) break; // one outage can end in several reconnect events
          this.up = true;
          this.lastError = undefined;
          this.notifyUp(nc);
          break;
        case 'close':
          this.up = false;
          break;
        default:
          break;
      }
    }
    await closed;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const nc = this.nc;
    if (!nc) return;
    if (!nc.isClosed()) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      const drained = nc.drain().then(
        () => 'drained' as const,
        () => 'failed' as const,
      );
      const result = await Promise.race([drained, timedOut]);
      clearTimeout(timer);
      if (result !== 'drained') await nc.close().catch(() => undefined);
    }
    this.up = false;
    await this.watcher;
  }

  private connectError(err: unknown): PublishError {
    return new PublishError(explainConnectError(err, this.servers), { cause: err });
  }
}
