// The no-broker path: one long-lived IngestService.Publish client stream from agent to collector.
//
// "Connected" means the collector accepted the stream: the ingest server sends initial metadata
// as soon as a stream opens (collector/ingest/grpc-ingest.ts), so a TCP connection to something
// that is not a fleetstat collector never counts as connected. Snapshots are full state, not
// deltas: one lost in a breaking stream costs one interval of freshness, so delivery is
// at-most-once per stream and only the newest undelivered snapshot is kept.

import type { ChannelCredentials, ChannelOptions, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { Client, credentials as grpcCredentials, Metadata, status as Status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { IngestServiceService, PublishRequest } from '../../proto/gen/fleetstat/v1/ingest.js';
import type { PublishResponse } from '../../proto/gen/fleetstat/v1/ingest.js';
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { connectionFailureText, isTlsFailure, tlsFailureHint } from '../grpc/grpc-tls.js';
import { parseHostPort } from '../grpc/host-port.js';
import type { BackoffOptions } from './jittered-backoff.js';
import { DEFAULT_BACKOFF, JitteredBackoff, validateBackoff } from './jittered-backoff.js';
import type { PublisherStatus, PublishResult, SnapshotPublisher } from './snapshot-publisher.js';
import { PublishError } from './snapshot-publisher.js';

export interface GrpcPublisherOptions {
  /** The collector's IngestService: host:port or [ipv6]:port. */
  address: string;
  /**
   * The TLS/mTLS seam: channel credentials, or a function building them (so that reading
   * certificate files fails start() with PublishError). Insecure when absent.
   */
  credentials?: ChannelCredentials | (() => ChannelCredentials);
  /** A publish whose write has not completed by then rejects with PublishTimeoutError. Default 5 s. */
  publishTimeoutMs?: number;
  /** How long start() waits for the first attempt's outcome before resolving anyway. Default 5 s. */
  startTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** PublishRequest bytes over this are refused locally (the collector would end the stream). */
  maxMessageBytes?: number;
  /**
   * Asked when the first attempt fails with nothing more than "failed to connect": the TLS
   * problem behind it (plaintext to a TLS port, a refused client certificate), which fails
   * start() like any TLS failure; undefined to keep retrying (see grpc-tls-probe.ts).
   */
  probeTls?: () => Promise<string | undefined>;
  /** Extra grpc-js channel options (merged over ours). */
  channelOptions?: ChannelOptions;
  /** Connection changes only, never one line per snapshot. Silent by default. */
  logger?: Logger;
}

/** The collector's default limit (collector/ingest/grpc-ingest.ts): a 4 MiB snapshot plus its envelope. */
export const DEFAULT_MAX_PUBLISH_BYTES = 4 * 1024 * 1024 + 16;

/** A publish that did not complete in time; the publisher itself keeps working. */
export class PublishTimeoutError extends Error {
  override readonly name = 'PublishTimeoutError';
}

export interface GrpcPublisherStats {
  /** Writes completed (handed to HTTP/2). */
  written: number;
  timedOut: number;
  /** Pending snapshots replaced by a newer one while disconnected (or left at shutdown). */
  dropped: number;
  streamsOpened: number;
}

/** Statuses that retrying cannot fix: not a collector, or credentials refused. */
const NON_RETRYABLE: ReadonlySet<number> = new Set([Status.UNIMPLEMENTED, Status.UNAUTHENTICATED, Status.PERMISSION_DENIED]);

/** While the collector stays unreachable, one warning per this window (with the attempts since). */
const RETRY_LOG_WINDOW_MS = 60_000;

/** Snapshots are encoded once, in publish() (to check the size); the call passes the bytes through. */
const passBytes = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

interface Outgoing {
  bytes: Uint8Array;
  /** Publish order: decides which snapshot is the newest when writes fall back to pending. */
  order: number;
}

interface OpenStream {
  call: ClientWritableStream<Uint8Array>;
  accepted: boolean;
  /** Writes handed to the stream whose completion has not been seen yet. */
  inFlight: Map<Outgoing, (result: PublishResult | Error) => void>;
  /** Why we cancelled it ourselves, when we did. */
  abandonReason?: string;
  onEnd?: (response: PublishResponse | undefined) => void;
}

export class GrpcPublisher implements SnapshotPublisher {
  readonly transport = 'grpc' as const;
  private readonly logger: Logger;
  private readonly publishTimeoutMs: number;
  private readonly maxMessageBytes: number;
  private state: 'new' | 'running' | 'failed' | 'closed' = 'new';
  private client: Client | undefined;
  private backoffOptions: BackoffOptions = DEFAULT_BACKOFF;
  private backoff: JitteredBackoff | undefined;
  private stream: OpenStream | undefined;
  private pending: Outgoing | undefined;
  private publishCount = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private refusedLogged = false;
  /** Failed attempts since the last accepted stream, and the last one logged (when, and why). */
  private failedAttempts = 0;
  private lastRetryLogMs = -Infinity;
  private lastRetryReason: string | undefined;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private startPromise: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private readonly counters: GrpcPublisherStats = { written: 0, timedOut: 0, dropped: 0, streamsOpened: 0 };

  constructor(private readonly options: GrpcPublisherOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_PUBLISH_BYTES;
  }

  /**
   * Validates the options and opens the stream. Resolves when the collector accepts it, or when
   * the first attempt fails for a reason that may pass (collector down or not yet resolvable in
   * DNS: agents may start first; retried in the background), or after startTimeoutMs. Rejects
   * with PublishError for what retrying cannot fix: a bad address or option, credentials that
   * cannot be built, a first answer of UNIMPLEMENTED / UNAUTHENTICATED / PERMISSION_DENIED
   * (the address is not a collector, or it refuses us), or a first TLS handshake that fails
   * (wrong CA, no client certificate). After start-up every failure is retried with backoff and
   * logged (throttled), TLS ones included: a collector restarted with a new certificate comes back.
   * Calling it again returns the same promise.
   */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  /** 'sent' once the write completed on an accepted stream; otherwise 'pending' (kept as the newest). */
  async publish(snapshot: Snapshot): Promise<PublishResult> {
    if (this.state !== 'running') throw new PublishError(`gRPC publisher is ${this.state === 'new' ? 'not started' : this.state}`);
    let bytes: Uint8Array;
    try {
      bytes = PublishRequest.encode({ snapshot }).finish();
    } catch (error) {
      throw new PublishError('cannot encode snapshot', { cause: error });
    }
    if (bytes.length > this.maxMessageBytes) {
      throw new PublishError(`snapshot is ${bytes.length} bytes; the limit is ${this.maxMessageBytes}`);
    }
    const outgoing = { bytes, order: ++this.publishCount };
    const stream = this.stream;
    if (!stream?.accepted) {
      this.keepNewest(outgoing);
      return 'pending';
    }
    return this.write(stream, outgoing);
  }

  status(): PublisherStatus {
    return { connected: this.stream?.accepted === true, ...(this.lastError !== undefined && { lastError: this.lastError }) };
  }

  stats(): GrpcPublisherStats {
    return { ...this.counters };
  }

  /**
   * Half-closes the stream so the collector answers with its accepted/rejected counts, waiting up
   * to timeoutMs (then cancels). A snapshot still pending (the goodbye, typically) is written
   * first, on a new stream if none is open. Safe to call twice; never rejects.
   */
  shutdown(timeoutMs: number): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(timeoutMs);
    return this.shutdownPromise;
  }

  private async doStart(): Promise<void> {
    if (this.state !== 'new') throw new PublishError(`gRPC publisher is ${this.state}`);
    const { address } = this.options;
    try {
      parseHostPort(address);
      this.backoffOptions = validateBackoff({ ...DEFAULT_BACKOFF, ...this.options.backoff });
    } catch (error) {
      throw new PublishError(`gRPC publisher: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const backoff = this.backoffOptions;
    this.backoff = new JitteredBackoff(backoff);
    try {
      const given = this.options.credentials;
      const channelCredentials = typeof given === 'function' ? given() : (given ?? grpcCredentials.createInsecure());
      this.client = new Client(address, channelCredentials, {
        // Our reconnect loop owns retries: grpc-js must neither replay the stream nor buffer
        // copies of snapshots for it, so a write completes only once HTTP/2 has taken it.
        'grpc.enable_retries': 0,
        'grpc.per_rpc_retry_buffer_size': 0,
        // The channel's own reconnect backoff would otherwise grow to 120 s and delay us past ours.
        'grpc.initial_reconnect_backoff_ms': backoff.initialMs,
        'grpc.max_reconnect_backoff_ms': backoff.maxMs,
        // A collector that vanished without a FIN is noticed within ~40 s, not at the next TCP timeout.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        ...this.options.channelOptions,
      });
    } catch (error) {
      throw new PublishError(`gRPC publisher cannot set up a channel to ${address}`, { cause: error });
    }
    this.state = 'running';
    const startTimeoutMs = this.options.startTimeoutMs ?? 5000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.startWaiter = undefined;
        this.logger.warn({ address, timeoutMs: startTimeoutMs }, 'collector has not answered yet; still trying');
        resolve();
      }, startTimeoutMs);
      timer.unref();
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        this.startWaiter = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.startWaiter = { resolve: () => settle(), reject: settle };
      this.openStream();
    });
  }

  /** `waitForReady` only for shutdown's last stream, which should wait (bounded) for the channel to reconnect. */
  private openStream(waitForReady = false): OpenStream | undefined {
    const client = this.client;
    if (!client) return undefined;
    this.counters.streamsOpened++;
    // The callback below may only run after the call exists, so it reads the stream from here.
    const created: { stream?: OpenStream } = {};
    // No deadline: the stream lives as long as the agent; keepalive pings watch the connection.
    // Normally no waitForReady: an unreachable collector fails the attempt at once, and our
    // backoff decides when to retry.
    const { path, responseDeserialize } = IngestServiceService.publish;
    const call = client.makeClientStreamRequest<Uint8Array, PublishResponse>(
      path,
      passBytes,
      responseDeserialize,
      // waitForReady is a Metadata option in grpc-js, not a CallOptions one.
      new Metadata({ waitForReady }),
      {},
      (error: ServiceError | null, response?: PublishResponse) => {
        if (created.stream) this.onStreamEnd(created.stream, error, response);
      },
    );
    const stream: OpenStream = { call, accepted: false, inFlight: new Map() };
    created.stream = stream;
    call.on('metadata', () => this.onStreamAccepted(stream));
    // Failures arrive through the callback above; an 'error' event must not crash the agent.
    call.on('error', (error: Error) => this.logger.debug({ err: error }, 'publish stream error'));
    this.stream = stream;
    return stream;
  }

  private onStreamAccepted(stream: OpenStream): void {
    if (this.stream !== stream || stream.accepted) return;
    stream.accepted = true;
    this.lastError = undefined;
    this.refusedLogged = false;
    this.failedAttempts = 0;
    this.lastRetryLogMs = -Infinity;
    this.lastRetryReason = undefined;
    this.logger.info({ address: this.options.address }, 'connected to collector');
    this.startWaiter?.resolve();
    const pending = this.pending;
    if (pending && this.state === 'running') {
      this.pending = undefined;
      this.write(stream, pending).catch((error: unknown) => {
        // Timed out: still the newest we have, so it goes on the next stream unless something
        // newer came. Refused (PublishError): sending it again cannot help.
        if (error instanceof PublishTimeoutError) this.keepNewest(pending);
        this.logger.debug({ err: error }, 'pending snapshot not delivered');
      });
    }
  }

  private write(stream: OpenStream, outgoing: Outgoing): Promise<PublishResult> {
    return new Promise<PublishResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.inFlight.delete(outgoing);
        this.counters.timedOut++;
        reject(new PublishTimeoutError(`publish did not complete within ${this.publishTimeoutMs} ms`));
        // A write stuck this long means flow control is exhausted or the connection is dead: start over.
        this.abandon(stream, `a write did not complete within ${this.publishTimeoutMs} ms`);
      }, this.publishTimeoutMs);
      timer.unref();
      stream.inFlight.set(outgoing, (result) => {
        clearTimeout(timer);
        stream.inFlight.delete(outgoing);
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      stream.call.write(outgoing.bytes, (error?: Error | null) => {
        const settle = stream.inFlight.get(outgoing);
        if (!settle) return;
        if (error) {
          this.keepNewest(outgoing);
          settle('pending');
          return;
        }
        this.counters.written++;
        // A stream that carried a snapshot proves the path works: the next failure starts from initialMs.
        this.backoff?.reset();
        settle('sent');
      });
    });
  }

  private abandon(stream: OpenStream, reason: string): void {
    stream.abandonReason ??= reason;
    stream.call.cancel();
  }

  private onStreamEnd(stream: OpenStream, error: ServiceError | null, response: PublishResponse | undefined): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    const code = error?.code;
    const tlsFailed = code === Status.UNAVAILABLE && isTlsFailure(error?.details ?? '');
    const hint = tlsFailed ? tlsFailureHint(error?.details ?? '') : undefined;
    const reason =
      stream.abandonReason ??
      (error ? `${Status[error.code] ?? error.code}: ${connectionFailureText(error.details)}${hint ? ` (${hint})` : ''}` : 'collector ended the stream');
    // RESOURCE_EXHAUSTED: the collector refused a message's size; sending it again cannot help.
    const refusedMessage = code === Status.RESOURCE_EXHAUSTED;
    for (const [outgoing, settle] of stream.inFlight) {
      if (refusedMessage) {
        settle(new PublishError(`collector refused the snapshot: ${reason}`, { cause: error }));
      } else {
        // It may not have reached the collector: keep it (if still the newest) for the next stream.
        this.keepNewest(outgoing);
        settle('pending');
      }
    }
    stream.onEnd?.(response);
    if (this.state !== 'running') return;
    this.lastError = reason;
    const refused = code !== undefined && NON_RETRYABLE.has(code);
    const waiter = this.startWaiter;
    const { address, probeTls } = this.options;
    if (waiter && (refused || tlsFailed)) {
      const message = tlsFailed ? `TLS handshake with the collector at ${address} failed: ${reason}` : `collector at ${address} refused the publish stream: ${reason}`;
      this.failStart(waiter, new PublishError(message, { cause: error }));
      return;
    }
    if (waiter && code === Status.UNAVAILABLE && probeTls) {
      void probeTls().catch(() => undefined).then((found) => {
        if (this.state !== 'running') return;
        // The start timer may have resolved start() meanwhile: then it is a retry like any other.
        if (found && this.startWaiter === waiter) {
          this.failStart(waiter, new PublishError(`TLS handshake with the collector at ${address} failed: ${found}`, { cause: error }));
        } else this.retry(stream, reason, refused, this.startWaiter);
      });
      return;
    }
    this.retry(stream, reason, refused, waiter);
  }

  private failStart(waiter: { reject: (error: Error) => void }, error: PublishError): void {
    this.state = 'failed';
    this.client?.close();
    waiter.reject(error);
  }

  private retry(stream: OpenStream, reason: string, refused: boolean, waiter: { resolve: () => void } | undefined): void {
    if (!stream.accepted) this.failedAttempts++;
    if (waiter) {
      this.logger.warn({ address: this.options.address, reason }, 'collector not reachable yet; retrying in the background');
      waiter.resolve();
    } else if (stream.accepted) {
      this.logger.warn({ address: this.options.address, reason }, 'disconnected from collector; reconnecting');
    } else if (refused && !this.refusedLogged) {
      this.refusedLogged = true;
      this.logger.error({ address: this.options.address, reason }, 'collector refuses the publish stream; retrying slowly');
    }
    const delayMs = refused ? this.backoffOptions.maxMs : (this.backoff?.next() ?? 0);
    if (!waiter && !stream.accepted && !refused) this.logStillFailing(reason, delayMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === 'running') this.openStream();
    }, delayMs);
    this.reconnectTimer.unref();
  }

  /**
   * Why reconnecting keeps failing: at once when the reason changes (collector down, then back
   * with a certificate we do not trust), otherwise at most once per RETRY_LOG_WINDOW_MS.
   */
  private logStillFailing(reason: string, retryInMs: number): void {
    const now = Date.now();
    if (reason === this.lastRetryReason && now - this.lastRetryLogMs < RETRY_LOG_WINDOW_MS) return;
    this.lastRetryLogMs = now;
    this.lastRetryReason = reason;
    this.logger.warn({ address: this.options.address, reason, failedAttempts: this.failedAttempts, retryInMs }, 'cannot reach the collector; retrying');
  }

  /** While disconnected only the newest snapshot is kept; an older one is dropped and counted. */
  private keepNewest(outgoing: Outgoing): void {
    if (this.pending && this.pending.order >= outgoing.order) {
      if (this.pending !== outgoing) this.counters.dropped++;
      return;
    }
    if (this.pending) this.counters.dropped++;
    this.pending = outgoing;
  }

  private async doShutdown(timeoutMs: number): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    this.startWaiter?.resolve();
    let stream = this.stream;
    // Best effort for the last snapshot (the goodbye): one more stream, bounded by timeoutMs.
    if (!stream && this.pending && wasRunning) stream = this.openStream(true);
    if (stream && !stream.accepted) {
      if (this.pending) {
        // Buffered by the call and sent if the collector accepts the stream in time.
        stream.call.write(this.pending.bytes);
        this.pending = undefined;
      } else {
        // Nothing to deliver on a stream still connecting: do not wait out the time limit for it.
        this.abandon(stream, 'shutdown');
        stream = undefined;
      }
    }
    if (stream) {
      const open = stream;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.abandon(open, `shutdown after ${timeoutMs} ms`);
          resolve();
        }, timeoutMs);
        timer.unref();
        open.onEnd = (response) => {
          clearTimeout(timer);
          if (response) this.logger.debug({ accepted: response.accepted, rejected: response.rejected }, 'publish stream closed');
          resolve();
        };
        // Half-close: writes still queued go first, then the collector replies PublishResponse.
        open.call.end();
      });
    }
    if (this.pending) {
      this.counters.dropped++;
      this.pending = undefined;
    }
    this.client?.close();
  }
}
