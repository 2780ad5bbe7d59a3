// The agent's one NATS connection and its life: the first-connect policy, reconnecting
// forever with jittered backoff, and the connected/disconnected state that the publisher
// and the detail responder act on.
//
// First connect: one attempt at start(). A refusal that retrying cannot fix (bad
// credentials, bad URL, TLS) rejects start() at once with a PublishError. A server that is
// simply not there yet (refused, timed out, DNS) does not: in a DaemonSet the agent often
// starts before NATS, so start() resolves, the link reports disconnected with the reason,
// and keeps dialing in the background with the same jittered backoff as a reconnect. We do
// not use the client's waitOnFirstConnect for this because its connect() hides every
// per-attempt error until it gives up, so /healthz could not say why we are not connected,
// and an auth error would surface only after the second attempt.
import { connect, errors } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { PublishError } from './snapshot-publisher.js';
import type { PublisherStatus } from './snapshot-publisher.js';

export interface NatsCredentials {
  token?: string;
  user?: string;
  pass?: string;
}

export interface NatsLinkOptions {
  /** One URL, a comma-separated list, or a list: nats://host:4222 */
  servers: string | string[];
  /** Client name shown by the server's monitoring (connz), e.g. `fleetstat-agent/<node>`. */
  name?: string;
  credentials?: NatsCredentials;
  /** Base wait between connection attempts (default 2000 ms). */
  reconnectTimeWaitMs?: number;
  /** Random extra wait up to this much, so a thousand agents do not reconnect in step (default 1000 ms). */
  reconnectJitterMs?: number;
  /** Handshake time limit per attempt (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Client PING period; a dead peer is noticed after about twice this (default 30000 ms). */
  pingIntervalMs?: number;
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
  private attempts = 0;
  private watcher: Promise<void> | undefined;
  private readonly upListeners = new Set<UpListener>();

  constructor(private readonly opts: NatsLinkOptions) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.servers = (Array.isArray(opts.servers) ? opts.servers : opts.servers.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
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

  /** Set once a failure that retrying cannot fix ended the link (e.g. credentials revoked). */
  failure(): PublishError | undefined {
    return this.fatal;
  }

  status(): PublisherStatus {
    return this.up ? { connected: true } : { connected: false, lastError: this.lastError ?? 'not connected yet' };
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
    } catch (err) {
      if (isFatal(err)) {
        this.fatal = this.connectError(err);
        this.lastError = this.fatal.message;
        throw this.fatal;
      }
      this.lastError = `cannot reach NATS at ${this.servers.join(',')}: ${(err as Error).message}`;
      this.log.warn({ err: (err as Error).message }, 'NATS not reachable yet; retrying in the background');
      this.scheduleRetry();
    }
  }

  private dial(): Promise<NatsConnection> {
    this.attempts++;
    const { credentials = {} } = this.opts;
    return connect({
      servers: this.servers,
      name: this.opts.name,
      ...(credentials.token !== undefined ? { token: credentials.token } : {}),
      ...(credentials.user !== undefined ? { user: credentials.user, pass: credentials.pass } : {}),
      timeout: this.opts.connectTimeoutMs ?? 5000,
      pingInterval: this.opts.pingIntervalMs ?? 30_000,
      // Once connected, never give up: an agent outlives any NATS outage.
      maxReconnectAttempts: -1,
      reconnectTimeWait: this.opts.reconnectTimeWaitMs ?? 2000,
      reconnectJitter: this.opts.reconnectJitterMs ?? 1000,
    });
  }

  private scheduleRetry(): void {
    if (this.closePromise) return;
    const base = this.opts.reconnectTimeWaitMs ?? 2000;
    const jitter = Math.floor(Math.random() * ((this.opts.reconnectJitterMs ?? 1000) + 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial().then(
        (nc) => {
          if (this.closePromise) {
            void nc.close(); // closed while dialing: nothing wants this connection
            return;
          }
          this.log.info({ attempts: this.attempts }, 'connected to NATS');
          this.attach(nc);
        },
        (err: unknown) => {
          if (isFatal(err)) {
            this.fatal = this.connectError(err);
            this.lastError = this.fatal.message;
            this.log.error({ err: this.fatal.message }, 'NATS refused the connection; not retrying');
            return;
          }
          this.lastError = `cannot reach NATS at ${this.servers.join(',')}: ${(err as Error).message}`;
          this.scheduleRetry();
        },
      );
    }, base + jitter);
    this.retryTimer.unref();
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.up = true;
    this.lastError = undefined;
    this.watcher = this.watch(nc).catch((err: unknown) => this.log.error({ err }, 'NATS status watcher failed'));
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

  /** Follows the client's status events; ends when the connection closes for good. */
  private async watch(nc: NatsConnection): Promise<void> {
    const closed = nc.closed().then((err) => {
      this.up = false;
      if (err && !this.closePromise) {
        // The client gave up (it only does so for auth errors with maxReconnectAttempts -1).
        this.fatal = new PublishError(`NATS connection closed: ${err.message}`, { cause: err });
        this.lastError = this.fatal.message;
        this.log.error({ err: err.message }, 'NATS connection closed for good');
      }
    });
    let outageLogged = false;
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.up = false;
          this.lastError ??= `disconnected from ${s.server}`;
          if (!outageLogged) this.log.warn({ server: s.server }, 'NATS disconnected; reconnecting');
          outageLogged = true;
          break;
        case 'reconnect':
          this.up = true;
          this.lastError = undefined;
          if (outageLogged) this.log.info({ server: s.server }, 'NATS reconnected');
          outageLogged = false;
          this.notifyUp(nc);
          break;
        case 'error':
          this.lastError = s.error.message;
          break;
        case 'ldm':
          this.log.info({ server: s.server }, 'NATS server entering lame duck mode; will move to another');
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
    const e = err as Error;
    return new PublishError(`NATS at ${this.servers.join(',')} refused the connection: ${e.message}`, { cause: err });
  }
}

/** Errors that another attempt cannot fix: credentials, a malformed URL or option, TLS. */
function isFatal(err: unknown): boolean {
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) return true;
  if (err instanceof errors.InvalidArgumentError || err instanceof TypeError) return true;
  const e = err as { message?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return /^(ERR_TLS|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code) || /\bTLS\b|certificate/i.test(e.message ?? '');
}
