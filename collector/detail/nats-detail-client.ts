// Asks one agent for socket rows over NATS request/reply on fleetstat.v1.<cluster>.detail.<node>.
// A reply that is not a GetSocketsResponse from that node rejects: garbage must not become an
// empty, plausible-looking answer. A reply with `error` set is an answer and is returned.
import { errors } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { detailSubject } from '../../agent/publish/snapshot-publisher.js';
import { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import type { DetailClient } from './detail-client.js';

export interface NatsDetailClientOptions {
  /** The collector's connection (see connectCollectorNats); not closed here. */
  connection: NatsConnection;
  cluster: string;
}

export class DetailRequestError extends Error {
  override readonly name = 'DetailRequestError';
}

export class NatsDetailClient implements DetailClient {
  constructor(private readonly opts: NatsDetailClientOptions) {}

  async getSockets(node: string, request: GetSocketsRequest, timeoutMs: number): Promise<GetSocketsResponse> {
    const subject = detailSubject(this.opts.cluster, node);
    let data: Uint8Array;
    try {
      const msg = await this.opts.connection.request(subject, GetSocketsRequest.encode({ ...request, node }).finish(), { timeout: timeoutMs });
      data = msg.data;
    } catch (err) {
      throw new DetailRequestError(describe(err, node, subject, timeoutMs), { cause: err });
    }
    let reply: GetSocketsResponse;
    try {
      reply = GetSocketsResponse.decode(data);
    } catch (err) {
      throw new DetailRequestError(`node ${node} sent a reply that is not a GetSocketsResponse (${data.length} bytes): ${(err as Error).message}`, { cause: err });
    }
    if (reply.node !== node) {
      throw new DetailRequestError(`the reply on ${subject} is not from node ${node} (it names ${JSON.stringify(reply.node)}; ${data.length} bytes)`);
    }
    return reply;
  }
}

function describe(err: unknown, node: string, subject: string, timeoutMs: number): string {
  const cause = (err as Error).cause;
  if (err instanceof errors.NoRespondersError || cause instanceof errors.NoRespondersError) {
    return `no agent answers detail requests for node ${node} (${subject}): the agent is down or not connected to this NATS`;
  }
  if (err instanceof errors.TimeoutError || cause instanceof errors.TimeoutError) {
    return `node ${node} did not answer within ${timeoutMs} ms`;
  }
  return `detail request to node ${node} failed: ${(err as Error).message}`;
}
