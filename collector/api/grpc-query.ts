// QueryService on the collector's gRPC server: the same answers as /api/v1/summary and /nodes.

import type { Server } from '@grpc/grpc-js';
import type { GetSummaryResponse, ListNodesResponse } from '../../proto/gen/fleetstat/v1/query.js';
import { QueryServiceService } from '../../proto/gen/fleetstat/v1/query.js';
import type { QueryServiceServer } from '../../proto/gen/fleetstat/v1/query.js';
import { keyDirection, keyPort, keyState } from '../../agent/snapshot/connection-key.js';
import type { FleetState } from '../fleet-state.js';

export function addQueryService(server: Server, state: FleetState): void {
  const handlers: QueryServiceServer = {
    getSummary: (_call, callback) => {
      state.sweep();
      callback(null, summaryOf(state));
    },
    listNodes: (_call, callback) => {
      state.sweep();
      callback(null, nodesOf(state));
    },
  };
  server.addService(QueryServiceService, handlers);
}

function summaryOf(state: FleetState): GetSummaryResponse {
  const counts: GetSummaryResponse['counts'] = [];
  for (const record of state.registry.records()) {
    if (record.status !== 'live') continue;
    for (const [key, count] of record.summary.http) {
      counts.push({ node: record.name, port: keyPort(key), direction: keyDirection(key), state: keyState(key), count });
    }
  }
  const { live, stale } = state.registry.statusCounts();
  return { liveNodes: live, staleNodes: stale, httpConnections: state.totals.httpTotal, counts };
}

function nodesOf(state: FleetState): ListNodesResponse {
  return {
    nodes: [...state.registry.records()].map((r) => ({
      name: r.name,
      stale: r.status === 'stale',
      epoch: r.snapshot.epoch,
      seq: r.snapshot.seq,
      lastSeenMs: r.lastSeenMs,
      httpConnections: r.status === 'live' ? r.summary.httpTotal : 0,
    })),
  };
}
