// DetailService.GetSockets on the agent: answers a collector's request from a DetailSource.
// Errors become gRPC statuses here, at the edge, and nowhere else.

import type { sendUnaryData, ServerCredentials, ServerOptions, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import { Server, ServerCredentials as Credentials, status as Status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import { DetailServiceService } from '../../proto/gen/fleetstat/v1/detail.js';
import { bindServer, shutdownServer } from '../grpc/grpc-server-lifecycle.js';
import type { DetailSource } from './detail-source.js';
import type { RateLimitOptions } from './requester-rate-limit.js';
import { RequesterRateLimit, grpcRequester } from './requester-rate-limit.js';

export interface GrpcDetailServerOptions {
  /** host:port to listen on (port 0: any free port). Advertise a reachable one in Snapshot.detail_address. */
  address: string;
  source: DetailSource;
  /**
   * This agent's node. A request naming another node is refused with NOT_FOUND: a collector
   * holding a stale address (pod IPs are reused) must not get another node's sockets.
   */
  node?: string;
  /** Requests served at once; more are refused with RESOURCE_EXHAUSTED (each one reads every namespace). Default 4. */
  maxConcurrent?: number;
  /** Requests per requester (the peer's address); default 10/s with a burst of 20. More: RESOURCE_EXHAUSTED. */
  rateLimit?: RateLimitOptions;
  /** TLS or mutual TLS (agent/grpc/grpc-tls.ts); insecure when absent. */
  credentials?: ServerCredentials;
  serverOptions?: ServerOptions;
  logger?: Logger;
}

const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 10 };
/** How often failures of the source are logged. */
const FAILURE_LOG_WINDOW_MS = 60_000;

export class GrpcDetailServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly maxConcurrent: number;
  private readonly limit: RequesterRateLimit;
  private running = 0;
  private started = false;
  private shutdownPromise: Promise<void> | undefined;
  private lastFailureLogMs = -Infinity;
  private suppressedFailures = 0;

  constructor(private readonly options: GrpcDetailServerOptions) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.limit = new RequesterRateLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT);
    this.server = new Server(options.serverOptions);
    this.server.addService(DetailServiceService, {
      getSockets: (call: ServerUnaryCall<GetSocketsRequest, GetSocketsResponse>, answer: sendUnaryData<GetSocketsResponse>) =>
        this.getSockets(call, answer),
    });
  }

  /** Resolves the bound port; rejects with GrpcServerError (address in use, bad address). */
  async start(): Promise<number> {
    this.started = true;
    return bindServer(this.server, this.options.address, this.options.credentials ?? Credentials.createInsecure());
  }

  /** Waits up to timeoutMs for requests in progress, then cancels them. Safe to call twice. */
  shutdown(timeoutMs: number): Promise<void> {
    this.shutdownPromise ??= this.started ? shutdownServer(this.server, timeoutMs) : Promise.resolve();
    return this.shutdownPromise;
  }

  private getSockets(call: ServerUnaryCall<GetSocketsRequest, GetSocketsResponse>, answer: sendUnaryData<GetSocketsResponse>): void {
    const request = call.request;
    const node = this.options.node;
    if (node !== undefined && request.node !== '' && request.node !== node) {
      answer(status(Status.NOT_FOUND, `this agent is node "${node}", not "${request.node}"`));
      return;
    }
    const decision = this.limit.take(grpcRequester(call.getPeer()), Date.now());
    if (!decision.allowed) {
      answer(status(Status.RESOURCE_EXHAUSTED, `rate limited: too many detail requests from this requester; retry in ${decision.retryAfterMs} ms`));
      return;
    }
    if (this.running >= this.maxConcurrent) {
      answer(status(Status.RESOURCE_EXHAUSTED, `${this.running} detail requests already running`));
      return;
    }
    this.running++;
    // A source that throws instead of rejecting must not leave `running` counted up.
    new Promise<GetSocketsResponse>((resolve) => resolve(this.options.source.getSockets(request))).then(
      (response) => {
        this.running--;
        answer(null, response);
      },
      (error: unknown) => {
        this.running--;
        this.logFailure(error);
        const message = error instanceof Error ? error.message : String(error);
        // Past the caller's deadline the source was too slow; anything else is this agent's fault.
        const expired = Date.now() >= Number(call.getDeadline());
        answer(status(expired ? Status.DEADLINE_EXCEEDED : Status.INTERNAL, `detail source failed: ${message}`));
      },
    );
  }

  private logFailure(error: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLogMs < FAILURE_LOG_WINDOW_MS) {
      this.suppressedFailures++;
      return;
    }
    this.logger.warn({ err: error, suppressedSinceLast: this.suppressedFailures }, 'detail request failed');
    this.lastFailureLogMs = now;
    this.suppressedFailures = 0;
  }
}

function status(code: Status, details: string): Partial<ServiceError> {
  return { code, details };
}
