// DetailClient over gRPC: asks a node's agent for socket rows at the DetailService address the
// node advertised (Snapshot.detail_address). One channel per address, reused across requests,
// bounded in number, closed when idle.

import type { ChannelCredentials, ChannelOptions, ServiceError } from '@grpc/grpc-js';
import { credentials as grpcCredentials, Metadata, status as Status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { connectionFailureText, isTlsFailure } from '../../agent/grpc/grpc-tls.js';
import { parseHostPort } from '../../agent/grpc/host-port.js';
import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import { DetailServiceClient } from '../../proto/gen/fleetstat/v1/detail.js';
import type { DetailClient } from './detail-client.js';

export interface GrpcDetailClientOptions {
  /** The node's DetailService host:port; undefined when it advertises none. */
  resolveAddress: (node: string) => string | undefined;
  /** TLS (agent/grpc/grpc-tls.ts); insecure when absent. */
  credentials?: ChannelCredentials;
  /** Channels kept open at most (the least recently used idle one is closed first). Default 64. */
  maxChannels?: number;
  /** A channel unused this long is closed. Default 60 s. */
  idleMs?: number;
  channelOptions?: ChannelOptions;
  logger?: Logger;
}

export type DetailFailure = 'no_address' | 'bad_address' | 'timeout' | 'unavailable' | 'refused' | 'wrong_node' | 'closed';

export class DetailRequestError extends Error {
  override readonly name = 'DetailRequestError';

  constructor(
    message: string,
    readonly node: string,
    readonly failure: DetailFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface CachedChannel {
  client: DetailServiceClient;
  lastUsedMs: number;
  inFlight: number;
}

export class GrpcDetailClient implements DetailClient {
  private readonly channels = new Map<string, CachedChannel>();
  private readonly maxChannels: number;
  private readonly idleMs: number;
  private readonly logger: Logger;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: GrpcDetailClientOptions) {
    this.maxChannels = options.maxChannels ?? 64;
    this.idleMs = options.idleMs ?? 60_000;
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  /** Rejects with DetailRequestError (its `failure` says why) on time-out, no address, or no answer. */
  async getSockets(node: string, request: GetSocketsRequest, timeoutMs: number): Promise<GetSocketsResponse> {
    if (this.closed) throw new DetailRequestError('detail client is closed', node, 'closed');
    const address = this.options.resolveAddress(node);
    if (!address) throw new DetailRequestError(`node "${node}" advertises no gRPC detail address`, node, 'no_address');
    try {
      parseHostPort(address);
    } catch (error) {
      throw new DetailRequestError(`node "${node}" advertises a bad detail address "${address}"`, node, 'bad_address', { cause: error });
    }
    const channel = this.acquire(address);
    try {
      const response = await new Promise<GetSocketsResponse>((resolve, reject) => {
        // No waitForReady: an agent that cannot be reached fails now, not at the deadline.
        channel.client.getSockets(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, reply) => {
          if (error) reject(failure(node, address, timeoutMs, error));
          else resolve(reply);
        });
      });
      if (response.node !== '' && response.node !== node) {
        throw new DetailRequestError(`${address} answered for node "${response.node}", not "${node}"`, node, 'wrong_node');
      }
      return response;
    } finally {
      channel.inFlight--;
      channel.lastUsedMs = Date.now();
    }
  }

  /** Closes every channel; later requests reject. Safe to call twice. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const channel of this.channels.values()) channel.client.close();
    this.channels.clear();
  }

  private acquire(address: string): CachedChannel {
    let channel = this.channels.get(address);
    if (channel) {
      // Map order is use order: re-insert so the least recently used stays first.
      this.channels.delete(address);
    } else {
      this.evictFor();
      channel = {
        client: new DetailServiceClient(address, this.options.credentials ?? grpcCredentials.createInsecure(), this.options.channelOptions),
        lastUsedMs: Date.now(),
        inFlight: 0,
      };
      this.startSweeping();
    }
    this.channels.set(address, channel);
    channel.inFlight++;
    channel.lastUsedMs = Date.now();
    return channel;
  }

  /** Makes room for one more channel. Busy channels are never closed, so the bound is exceeded only while all are busy. */
  private evictFor(): void {
    for (const [address, channel] of this.channels) {
      if (this.channels.size < this.maxChannels) return;
      if (channel.inFlight > 0) continue;
      channel.client.close();
      this.channels.delete(address);
    }
  }

  private startSweeping(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(1000, this.idleMs / 2));
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [address, channel] of this.channels) {
      if (channel.inFlight === 0 && now - channel.lastUsedMs >= this.idleMs) {
        channel.client.close();
        this.channels.delete(address);
        this.logger.debug({ address }, 'closed idle detail channel');
      }
    }
    if (this.channels.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}

function failure(node: string, address: string, timeoutMs: number, error: ServiceError): DetailRequestError {
  const where = `node "${node}" (${address})`;
  switch (error.code) {
    case Status.DEADLINE_EXCEEDED:
      return new DetailRequestError(`${where}: no answer within ${timeoutMs} ms`, node, 'timeout', { cause: error });
    case Status.UNAVAILABLE: {
      const text = connectionFailureText(error.details);
      const message = isTlsFailure(error.details) ? `${where}: TLS handshake failed: ${text}` : `${where} is unreachable: ${text}`;
      return new DetailRequestError(message, node, 'unavailable', { cause: error });
    }
    case Status.NOT_FOUND:
      return new DetailRequestError(`${where}: ${error.details}`, node, 'wrong_node', { cause: error });
    default:
      return new DetailRequestError(`${where} refused the request: ${Status[error.code] ?? error.code} ${error.details}`, node, 'refused', {
        cause: error,
      });
  }
}
