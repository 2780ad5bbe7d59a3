// The collector's end of IngestService.Publish: every streamed snapshot goes to SnapshotIngest
// as its raw bytes (decoded once, there), and the stream answers with its counts when the
// agent half-closes it. Bad input costs a reject, never the server.

import type { sendUnaryData, ServerCredentials, ServerOptions, ServerReadableStream, ServiceDefinition } from '@grpc/grpc-js';
import { Metadata, Server, ServerCredentials as Credentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { bindServer, shutdownServer } from '../../agent/grpc/grpc-server-lifecycle.js';
import { IngestServiceService } from '../../proto/gen/fleetstat/v1/ingest.js';
import type { PublishResponse } from '../../proto/gen/fleetstat/v1/ingest.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES } from './decode-snapshot.js';
import type { PublishEnvelope } from './publish-request-bytes.js';
import { peekSnapshotNode, readPublishRequest, writePublishRequest } from './publish-request-bytes.js';
import type { IngestOrigin, SnapshotIngest } from './snapshot-ingest.js';

/** The snapshot limit plus PublishRequest's tag and length, so both limits agree on snapshot size. */
export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = DEFAULT_MAX_SNAPSHOT_BYTES + 16;

/** IngestService as generated, except that requests stay bytes (see readPublishRequest). */
export const RAW_INGEST_SERVICE = {
  publish: {
    ...IngestServiceService.publish,
    requestSerialize: (envelope: PublishEnvelope): Buffer =>
      Buffer.from(envelope.ok ? writePublishRequest(envelope.snapshot) : envelope.raw),
    requestDeserialize: (bytes: Buffer): PublishEnvelope => readPublishRequest(bytes),
  },
} satisfies ServiceDefinition;

export type PublishCall = ServerReadableStream<PublishEnvelope, PublishResponse>;

export interface GrpcIngestServiceOptions {
  ingest: SnapshotIngest;
  /** Never one line per snapshot (SnapshotIngest logs rejections once per reason and window). */
  logger?: Logger;
  /**
   * The mTLS seam: a node name the peer has proven (its client certificate, say) binds the stream
   * from the first message. Without it the first accepted snapshot's node binds it.
   */
  identifyPeer?: (call: PublishCall) => string | undefined;
}

export interface IngestStreamStats {
  openStreams: number;
  streamsOpened: number;
  accepted: number;
  rejected: number;
}

interface StreamState {
  /** The node this stream speaks for, once bound. */
  node: string | undefined;
  accepted: number;
  rejected: number;
  answer: sendUnaryData<PublishResponse>;
}

/** How often an ingest that throws (a bug, not bad input) is logged. */
const THROW_LOG_WINDOW_MS = 60_000;

export class GrpcIngestService {
  private readonly logger: Logger;
  private readonly open = new Set<StreamState>();
  private readonly totals = { streamsOpened: 0, accepted: 0, rejected: 0 };
  private lastThrowLogMs = -Infinity;
  private suppressedThrows = 0;

  constructor(private readonly options: GrpcIngestServiceOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  /** Adds IngestService to `server`; its grpc.max_receive_message_length is the size limit. */
  addTo(server: Server): void {
    server.addService(RAW_INGEST_SERVICE, { publish: (call: PublishCall, answer: sendUnaryData<PublishResponse>) => this.handle(call, answer) });
  }

  stats(): IngestStreamStats {
    return { openStreams: this.open.size, ...this.totals };
  }

  /**
   * Answers every open stream with its counts, as if each agent had half-closed it: on shutdown
   * agents see a clean end and reconnect (to this collector when it is back, or another replica).
   */
  closeStreams(): void {
    for (const stream of [...this.open]) this.finish(stream);
  }

  private handle(call: PublishCall, answer: sendUnaryData<PublishResponse>): void {
    const stream: StreamState = { node: this.options.identifyPeer?.(call), accepted: 0, rejected: 0, answer };
    this.open.add(stream);
    this.totals.streamsOpened++;
    // Initial metadata at once: the publisher's sign that a collector (not just a port) took the stream.
    call.sendMetadata(new Metadata());
    call.on('data', (envelope: PublishEnvelope) => this.onMessage(stream, envelope));
    call.on('end', () => this.finish(stream));
    // Gone without a half-close (agent killed, connection lost, message over the size limit):
    // nobody is left to answer.
    call.on('cancelled', () => this.open.delete(stream));
    call.on('error', (error: Error) => {
      this.open.delete(stream);
      this.logger.debug({ err: error }, 'publish stream error');
    });
  }

  private onMessage(stream: StreamState, envelope: PublishEnvelope): void {
    // A broken envelope still goes to ingest, so that it is counted (as malformed) in one place.
    const bytes = envelope.ok ? envelope.snapshot : envelope.raw;
    const origin: IngestOrigin = { transport: 'grpc', ...(stream.node !== undefined && { claimedNode: stream.node }) };
    let accepted: boolean;
    try {
      accepted = this.options.ingest.ingest(bytes, origin).accepted;
    } catch (error) {
      this.logThrow(error);
      accepted = false;
    }
    if (!accepted) {
      stream.rejected++;
      this.totals.rejected++;
      return;
    }
    stream.accepted++;
    this.totals.accepted++;
    // The first accepted snapshot names the node; a later one naming another is a node_mismatch.
    stream.node ??= peekSnapshotNode(bytes);
  }

  private finish(stream: StreamState): void {
    if (!this.open.delete(stream)) return;
    stream.answer(null, { accepted: stream.accepted, rejected: stream.rejected });
  }

  private logThrow(error: unknown): void {
    const now = Date.now();
    if (now - this.lastThrowLogMs < THROW_LOG_WINDOW_MS) {
      this.suppressedThrows++;
      return;
    }
    this.logger.error({ err: error, suppressedSinceLast: this.suppressedThrows }, 'snapshot ingest threw; counted as rejected');
    this.lastThrowLogMs = now;
    this.suppressedThrows = 0;
  }
}

export interface GrpcIngestServerOptions extends GrpcIngestServiceOptions {
  /** host:port to listen on; port 0 picks a free one. */
  address: string;
  /** Largest PublishRequest accepted; a larger one ends its stream with RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** TLS or mutual TLS (agent/grpc/grpc-tls.ts); insecure when absent. */
  credentials?: ServerCredentials;
  /** Extra grpc-js server options (merged over ours). */
  serverOptions?: ServerOptions;
}

/** A grpc.Server of its own serving IngestService; add QueryService etc. to `server` before start(). */
export class GrpcIngestServer {
  readonly server: Server;
  readonly service: GrpcIngestService;
  private started = false;
  private shutdownPromise: Promise<void> | undefined;

  constructor(private readonly options: GrpcIngestServerOptions) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES,
      // Streams of agents that vanished without a FIN are reaped instead of kept for hours.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      ...options.serverOptions,
    });
    this.service = new GrpcIngestService(options);
    this.service.addTo(this.server);
  }

  /** Resolves the bound port; rejects with GrpcServerError (address in use, bad address). */
  async start(): Promise<number> {
    this.started = true;
    return bindServer(this.server, this.options.address, this.options.credentials ?? Credentials.createInsecure());
  }

  /** Answers open streams, then waits up to timeoutMs for calls to end. Safe to call twice. */
  shutdown(timeoutMs: number): Promise<void> {
    this.shutdownPromise ??= this.started ? this.stop(timeoutMs) : Promise.resolve();
    return this.shutdownPromise;
  }

  private async stop(timeoutMs: number): Promise<void> {
    this.service.closeStreams();
    await shutdownServer(this.server, timeoutMs);
  }
}
