// QueryService on the collector's gRPC server: the same answers as /api/v1/summary, /nodes,
// /series, /report and /alerts.

import type { Server, sendUnaryData } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { GetSummaryResponse, ListNodesResponse } from '../../proto/gen/fleetstat/v1/query.js';
import { QueryServiceService } from '../../proto/gen/fleetstat/v1/query.js';
import type { QueryServiceServer } from '../../proto/gen/fleetstat/v1/query.js';
import { keyDirection, keyPort, keyState } from '../../agent/snapshot/connection-key.js';
import type { SurgeDetector } from '../alerts/surge-detector.js';
import type { FleetState } from '../fleet-state.js';
import { HistoryQueryError } from '../history/history-errors.js';
import type { HistoryThread } from '../history/history-thread.js';
import { HistoryUnavailableError } from '../history/history-thread.js';
import {
  QueryRequestError, alertMessage, reportQueryOfRequest, reportResponseOf, seriesQueryOfRequest, seriesResponseOf,
} from './query-messages.js';

export interface QuerySources {
  state: FleetState;
  history?: HistoryThread | undefined;
  alerts?: SurgeDetector | undefined;
}

export function addQueryService(server: Server, sources: QuerySources): void {
  const { state } = sources;
  const handlers: QueryServiceServer = {
    // Staleness is judged after the input already waiting, as the HTTP API does (sweepAfterInput).
    getSummary: (_call, callback) => void state.sweepAfterInput().then(() => callback(null, summaryOf(state))),
    listNodes: (_call, callback) => void state.sweepAfterInput().then(() => callback(null, nodesOf(state))),
    getSeries: (call, callback) =>
      answer(callback, async () => seriesResponseOf(await needHistory(sources).series(seriesQueryOfRequest(call.request, state.now()), state.now()))),
    getReport: (call, callback) =>
      answer(callback, async () => reportResponseOf(await needHistory(sources).report(reportQueryOfRequest(call.request), state.now()))),
    listAlerts: (_call, callback) =>
      answer(callback, () => {
        const { alerts } = sources;
        if (!alerts) throw new Unavailable('this collector runs no surge detection (started with --no-alerts)');
        return { active: alerts.active().map(alertMessage), recent: alerts.recent().map(alertMessage) };
      }),
  };
  server.addService(QueryServiceService, handlers);
}

/** The feature is off in this collector (FAILED_PRECONDITION, as the HTTP API's 501). */
class Unavailable extends Error {}

function needHistory(sources: QuerySources): HistoryThread {
  if (!sources.history) throw new Unavailable('this collector keeps no history (started with --no-history)');
  return sources.history;
}

function answer<T>(callback: sendUnaryData<T>, query: () => T | Promise<T>): void {
  (async () => query())()
    .then(
      (reply) => callback(null, reply),
      (error: unknown) => {
        const code = error instanceof Unavailable ? status.FAILED_PRECONDITION
          : error instanceof HistoryQueryError || error instanceof QueryRequestError ? status.INVALID_ARGUMENT
            : error instanceof HistoryUnavailableError ? status.UNAVAILABLE
              : status.INTERNAL;
        callback({ code, details: (error as Error).message });
      },
    )
    // A callback that throws (a reply it cannot serialize) fails the call: tell the client once
    // more, and never let it become an unhandled rejection that ends the collector.
    .catch((error: unknown) => {
      try {
        callback({ code: status.INTERNAL, details: (error as Error).message });
      } catch {
        // The call is already over.
      }
    });
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
