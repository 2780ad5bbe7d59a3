// Answers detail requests (full socket rows) on fleetstat.v1.<cluster>.detail.<node>.
// Every request gets a GetSocketsResponse: bad bytes, a failing source, too many requests at
// once or too many from one requester (by its inbox) are answered with `error` set, never by throwing or by silence, so the asking
// collector can tell "node said no" from "node is gone". Replies are cut to the server's
// max_payload (rows dropped from the end are added to `truncated`).
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import type { NatsLink } from '../publish/nats-link.js';
import { detailSubject } from '../publish/snapshot-publisher.js';
import type { DetailSource } from './detail-source.js';
import type { RateLimitOptions } from './requester-rate-limit.js';
import { RequesterRateLimit, natsRequester } from './requester-rate-limit.js';

export interface NatsDetailResponderOptions {
  /** The agent's connection, usually `publisher.link`; not closed by stop(). */
  link: NatsLink;
  cluster: string;
  node: string;
  source: DetailSource;
  /** Requests served at once; further ones are answered "busy" (default 4). Each walks every namespace. */
  maxConcurrent?: number;
  /** Requests per requester (its NATS inbox); default 10/s with a burst of 20. */
  rateLimit?: RateLimitOptions;
  now?: () => number;
  /** How often counted problems are logged (default 60 s). */
  logIntervalMs?: number;
  logger?: Logger;
}

export interface NatsDetailResponderCounters {
  answered: number;
  badRequests: number;
  sourceErrors: number;
  busy: number;
  rateLimited: number;
}

/** Room left in a message for the reply's headers and framing. */
const PAYLOAD_HEADROOM = 1024;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const STOP_WAIT_MS = 5000;
const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 10 };

export class NatsDetailResponder {
  private readonly log: Logger;
  private readonly subject: string;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stats: NatsDetailResponderCounters = { answered: 0, badRequests: 0, sourceErrors: 0, busy: 0, rateLimited: 0 };
  private readonly limit: RequesterRateLimit;
  private logged: NatsDetailResponderCounters = { ...this.stats };
  private lastProblem = '';
  private sub: Subscription | undefined;
  private removeUpListener: (() => void) | undefined;
  private logTimer: NodeJS.Timeout | undefined;
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly opts: NatsDetailResponderOptions) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.subject = detailSubject(opts.cluster, opts.node);
    this.limit = new RequesterRateLimit(opts.rateLimit ?? DEFAULT_RATE_LIMIT);
  }

  /**
   * Starts the link if needed (rejecting as NatsLink.start does) and subscribes as soon as it is
   * up: at once, or on the first connect if NATS is not reachable yet. The client re-subscribes
   * by itself after reconnects.
   */
  async start(): Promise<void> {
    if (this.removeUpListener || this.stopPromise) return;
    this.removeUpListener = this.opts.link.onUp((nc) => this.subscribe(nc));
    this.logTimer = setInterval(() => this.logCounts(), this.opts.logIntervalMs ?? 60_000);
    this.logTimer.unref();
    await this.opts.link.start();
  }

  counters(): NatsDetailResponderCounters {
    return { ...this.stats };
  }

  /** Unsubscribes and waits (up to 5 s) for requests being answered. Safe twice. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private subscribe(nc: NatsConnection): void {
    if (this.sub || this.stopPromise) return;
    this.sub = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err: err.message }, 'detail subscription failed');
          return;
        }
        this.track(this.handle(nc, msg));
      },
    });
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.then(
      () => this.inFlight.delete(p),
      (err: unknown) => {
        this.inFlight.delete(p);
        this.log.error({ err }, 'detail request handler failed');
      },
    );
  }

  private async handle(nc: NatsConnection, msg: Msg): Promise<void> {
    if (!msg.reply) {
      this.problem('badRequests', 'detail request without a reply subject');
      return;
    }
    const node = this.opts.node;
    let reply: GetSocketsResponse;
    const decision = this.limit.take(natsRequester(msg.reply), (this.opts.now ?? Date.now)());
    // This request is not in inFlight yet: track() adds it when handle() first yields.
    if (!decision.allowed) {
      this.problem('rateLimited', `too many detail requests from ${natsRequester(msg.reply)}`);
      reply = errorReply(node, `rate limited: too many detail requests from this requester; retry in ${decision.retryAfterMs} ms`);
    } else if (this.inFlight.size >= (this.opts.maxConcurrent ?? 4)) {
      this.problem('busy', 'too many detail requests at once');
      reply = errorReply(node, `busy: ${this.inFlight.size} detail requests already running on ${node}; retry shortly`);
    } else {
      reply = await this.answer(msg.data);
    }
    try {
      msg.respond(this.fit(nc, reply));
      this.stats.answered++;
    } catch (err) {
      this.problem('sourceErrors', `replying failed: ${(err as Error).message}`);
    }
  }

  private async answer(data: Uint8Array): Promise<GetSocketsResponse> {
    const node = this.opts.node;
    let request: GetSocketsRequest;
    try {
      request = GetSocketsRequest.decode(data);
    } catch (err) {
      this.problem('badRequests', `undecodable request: ${(err as Error).message}`);
      return errorReply(node, `not a fleetstat.v1.GetSocketsRequest (${data.length} bytes): ${(err as Error).message}`);
    }
    try {
      const response = await this.opts.source.getSockets({ ...request, node });
      return { ...response, node };
    } catch (err) {
      this.problem('sourceErrors', (err as Error).message);
      return errorReply(node, `reading sockets on ${node} failed: ${(err as Error).message}`);
    }
  }

  /** Encodes the reply, halving the rows until it fits the server's max_payload. */
  private fit(nc: NatsConnection, reply: GetSocketsResponse): Uint8Array {
    const limit = (nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - PAYLOAD_HEADROOM;
    let bytes = GetSocketsResponse.encode(reply).finish();
    while (bytes.length > limit && reply.rows.length > 0) {
      const keep = Math.floor(reply.rows.length / 2);
      reply = { ...reply, rows: reply.rows.slice(0, keep), truncated: reply.truncated + (reply.rows.length - keep) };
      bytes = GetSocketsResponse.encode(reply).finish();
    }
    return bytes;
  }

  private problem(kind: 'badRequests' | 'sourceErrors' | 'busy' | 'rateLimited', detail: string): void {
    this.stats[kind]++;
    this.lastProblem = detail;
  }

  private logCounts(): void {
    const bad = this.stats.badRequests - this.logged.badRequests;
    const failed = this.stats.sourceErrors - this.logged.sourceErrors;
    const busy = this.stats.busy - this.logged.busy;
    const rateLimited = this.stats.rateLimited - this.logged.rateLimited;
    if (bad + failed + busy + rateLimited > 0) {
      this.log.warn({ badRequests: bad, sourceErrors: failed, busy, rateLimited, last: this.lastProblem }, 'detail requests answered with an error');
    }
    this.logged = { ...this.stats };
  }

  private async doStop(): Promise<void> {
    this.removeUpListener?.();
    if (this.logTimer) clearInterval(this.logTimer);
    const sub = this.sub;
    this.sub = undefined;
    const nc = this.opts.link.connection;
    if (sub && !sub.isClosed() && nc && !nc.isClosed()) sub.unsubscribe();
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_WAIT_MS);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.inFlight]), giveUp]);
      clearTimeout(timer);
    }
    this.logCounts();
  }
}

function errorReply(node: string, error: string): GetSocketsResponse {
  return { node, rows: [], truncated: 0, error };
}
