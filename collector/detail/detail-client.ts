// How the collector asks one agent for socket rows; one implementation per transport.

import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';

export interface DetailClient {
  /** Rejects on time-out or when the node does not answer. */
  getSockets(node: string, request: GetSocketsRequest, timeoutMs: number): Promise<GetSocketsResponse>;
}
