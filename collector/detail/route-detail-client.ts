// Detail requests go back the way the node's snapshots come: NATS request/reply for nodes
// that publish over NATS (or JetStream), the agent's gRPC DetailService for gRPC nodes.

import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import type { IngestTransport } from '../ingest/snapshot-ingest.js';
import type { DetailClient } from './detail-client.js';

export class RouteDetailClient implements DetailClient {
  constructor(
    private readonly transportOf: (node: string) => IngestTransport | undefined,
    private readonly byTransport: { nats?: DetailClient; grpc?: DetailClient },
  ) {}

  getSockets(node: string, request: GetSocketsRequest, timeoutMs: number): Promise<GetSocketsResponse> {
    const transport = this.transportOf(node);
    const client = transport === 'grpc' ? this.byTransport.grpc : transport === undefined ? undefined : this.byTransport.nats;
    if (!client) return Promise.reject(new Error(transport ? `no detail route for ${transport} nodes` : `unknown node ${node}`));
    return client.getSockets(node, request, timeoutMs);
  }
}
