// What agent transports call to answer a detail request (full socket rows, filtered and bounded).

import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';

export interface DetailSource {
  getSockets(request: GetSocketsRequest): Promise<GetSocketsResponse>;
}

/** Rows one answer may carry, whatever the request's limit (keeps a reply under 1 MB on NATS). */
export const MAX_DETAIL_ROWS = 5000;
