// Detail requests answered in this process (`fleetstat up`: the agent lives beside the collector).

import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import type { DetailSource } from '../../agent/detail/detail-source.js';
import type { DetailClient } from './detail-client.js';

export class LocalDetailClient implements DetailClient {
  constructor(
    private readonly node: string,
    private readonly source: DetailSource,
  ) {}

  async getSockets(node: string, request: GetSocketsRequest): Promise<GetSocketsResponse> {
    if (node !== this.node) throw new Error(`node ${node} is not this host (${this.node})`);
    return this.source.getSockets(request);
  }
}
