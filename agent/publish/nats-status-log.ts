// Follows a NATS connection's status events for agent and collector alike: paces the
// client's reconnects (ReconnectDelay), counts what the server refused, and says why in the
// log without a line per attempt or per message.
//
// What the server refuses arrives as asynchronous 'error' events: an authorization error
// while reconnecting (credentials revoked or changed), a permissions violation when this
// user may not publish or subscribe to a subject. The first of each kind is logged at once;
// repeats at most once per logEveryMs with how many there were. While the link is down a
// line every logEveryMs says for how long, after how many attempts, and the last reason the
// server gave. The client does not report why a dial failed when the server never answered
// (down, unreachable, TLS handshake refused), so then the line says that.
import { errors } from '@nats-io/transport-node';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ReconnectDelay } from './nats-reconnect-delay.js';

export interface NatsStatusCounters {
  disconnects: number;
  reconnects: number;
  /** Authorization errors from the server (bad, revoked or expired credentials). */
  authErrors: number;
  /** Publishes or subscriptions the server refused for this user. */
  permissionViolations: number;
}

export interface NatsStatusLogOptions {
  logger: Logger;
  delay: ReconnectDelay;
  /** Repeated problems are logged at most this often (default 60 s). */
  logEveryMs?: number;
  now?: () => number;
}

type Kind = 'auth' | 'permission' | 'other';

interface Repeat {
  lastLogMs: number;
  unlogged: number;
}

export class NatsStatusLog {
  private readonly stats: NatsStatusCounters = { disconnects: 0, reconnects: 0, authErrors: 0, permissionViolations: 0 };
  private readonly repeats = new Map<string, Repeat>();
  /** Refused publishes per subject; a process publishes to a handful, so a small cap is plenty. */
  private readonly refusedPublishes = new Map<string, number>();
  private readonly now: () => number;
  private readonly everyMs: number;
  private downSinceMs: number | undefined;
  private outageLoggedMs = 0;
  private lastServerError: string | undefined;

  constructor(private readonly opts: NatsStatusLogOptions) {
    this.now = opts.now ?? Date.now;
    this.everyMs = opts.logEveryMs ?? 60_000;
  }

  counters(): NatsStatusCounters {
    return { ...this.stats };
  }

  /** How many publishes to `subject` the server refused (its permissions). */
  refusedPublishesTo(subject: string): number {
    return this.refusedPublishes.get(subject) ?? 0;
  }

  /** The last refusal the server sent (auth or permission), for status pages; cleared on reconnect. */
  lastError(): string | undefined {
    return this.lastServerError;
  }

  /** Follows `nc` until it closes. */
  async follow(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) this.on(s);
  }

  /** One status event; public so the pacing and throttling can be tested without a server. */
  on(s: Status): void {
    switch (s.type) {
      case 'disconnect':
        // The client reports a disconnect (and later a reconnect) per failed dial that reached
        // the server, not only per outage: count and log the outage once.
        if (this.downSinceMs !== undefined) break;
        this.stats.disconnects++;
        this.downSinceMs = this.now();
        this.outageLoggedMs = this.now();
        this.repeat('disconnect', 'warn', { server: s.server }, 'NATS disconnected; reconnecting with backoff');
        break;
      case 'reconnecting':
        this.opts.delay.attempting();
        this.logOutage();
        break;
      case 'reconnect':
        if (this.downSinceMs === undefined) break;
        this.stats.reconnects++;
        this.connected(s.server, 'NATS reconnected');
        break;
      case 'error':
        this.onServerError(s.error);
        break;
      case 'staleConnection':
        this.repeat('stale', 'warn', {}, 'NATS server stopped answering PINGs; reconnecting');
        break;
      case 'slowConsumer':
        this.repeat('slow', 'warn', { sub: s.sub.getSubject() }, 'NATS client is a slow consumer; messages dropped');
        break;
      case 'ldm':
        this.opts.logger.info({ server: s.server }, 'NATS server entering lame duck mode; will move to another');
        break;
      default:
        break;
    }
  }

  /** The link is up (a reconnect, or a dial of our own that succeeded): pacing starts over. */
  connected(server: string, msg = 'connected to NATS'): void {
    const downMs = this.downSinceMs === undefined ? 0 : this.now() - this.downSinceMs;
    this.opts.logger.info({ server, attempts: this.opts.delay.attempts(), downMs }, msg);
    this.opts.delay.connected();
    this.downSinceMs = undefined;
    this.lastServerError = undefined;
  }

  /**
   * A dial of our own (before the client has a connection) failed: unlike the client's
   * reconnects, here the reason is known. Logs like an outage (the dial itself counted the attempt).
   */
  dialFailed(reason: string): void {
    this.downSinceMs ??= this.now();
    this.lastServerError = reason;
    this.logOutage();
  }

  private onServerError(err: Error): void {
    const kind = kindOf(err);
    if (kind === 'auth') this.stats.authErrors++;
    if (kind === 'permission') this.stats.permissionViolations++;
    // Reply subjects (_INBOX.<id>.<n>) are new every time: counting them would crowd out ours.
    if (err instanceof errors.PermissionViolationError && err.operation === 'publish' && !err.subject.startsWith('_INBOX.')) {
      if (this.refusedPublishes.size >= 64 && !this.refusedPublishes.has(err.subject)) this.refusedPublishes.clear();
      this.refusedPublishes.set(err.subject, (this.refusedPublishes.get(err.subject) ?? 0) + 1);
    }
    const reason = describe(err);
    if (kind !== 'other') this.lastServerError = reason;
    const fields = err instanceof errors.PermissionViolationError ? { operation: err.operation, subject: err.subject, err: err.message } : { err: err.message };
    // Throttled per kind and operation, not per subject: a refused reply names a new inbox each time.
    const key = err instanceof errors.PermissionViolationError ? `${kind}:${err.operation}` : `${kind}:${reason}`;
    this.repeat(key, 'error', fields, reason);
  }

  /** Logs at once the first time, then at most once per interval with the count in between. */
  private repeat(key: string, level: 'warn' | 'error', fields: object, msg: string): void {
    const now = this.now();
    const r = this.repeats.get(key);
    if (r && now - r.lastLogMs < this.everyMs) {
      r.unlogged++;
      return;
    }
    this.opts.logger[level]({ ...fields, ...(r ? { repeats: r.unlogged + 1 } : {}) }, msg);
    this.repeats.set(key, { lastLogMs: now, unlogged: 0 });
  }

  private logOutage(): void {
    const now = this.now();
    if (this.downSinceMs === undefined || now - this.outageLoggedMs < this.everyMs) return;
    this.outageLoggedMs = now;
    this.opts.logger.warn(
      {
        downMs: now - this.downSinceMs,
        attempts: this.opts.delay.attempts(),
        nextWaitMs: this.opts.delay.wait(),
        reason: this.lastServerError ?? 'no answer from the server (down, unreachable, or the TLS handshake failed)',
      },
      'still not connected to NATS; retrying with backoff',
    );
  }
}

function kindOf(err: Error): Kind {
  if (err instanceof errors.PermissionViolationError) return 'permission';
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) return 'auth';
  return 'other';
}

function describe(err: Error): string {
  if (err instanceof errors.PermissionViolationError) {
    return `the NATS server refused to let this user ${err.operation === 'publish' ? 'publish to' : 'subscribe to'} ${err.subject} (its subject permissions do not allow it)`;
  }
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) {
    return `the NATS server refused the credentials: ${err.message}`;
  }
  return `NATS server error: ${err.message}`;
}
