// Worker thread entry: the history store on its own thread, so recording, flushing, sealing and
// long reports never hold up the collector's event loop (ingest, /metrics, the API). Messages
// are handled one at a time, in order: a query sees every batch posted before it. The store's
// clock is the collector's, as of its last message (tests drive it; the collector records every
// interval, so it never lags by more than one).

import { parentPort, workerData } from 'node:worker_threads';
import { connectionLabels } from '../api/fleet-views.js';
import type { CountBatch } from './count-batch.js';
import { readCountBatch } from './count-batch.js';
import type { HistoryStoreOptions } from './history-options.js';
import type { HistoryStats } from './history-store.js';
import { HistoryStore } from './history-store.js';
import type { Report, ReportQuery, SeriesQuery, SeriesResult } from './queries.js';
import { queryReport, querySeries } from './queries.js';

/** The store's options that can cross a thread (no clock, no logger: those are the worker's). */
export type HistoryWorkerOptions = Omit<HistoryStoreOptions, 'now' | 'logger'> & {
  /** The caller's clock at open (default: this machine's): the store's until the first message. */
  nowMs?: number;
};

export type HistoryRequest =
  | { kind: 'record'; atMs: number; batch: CountBatch }
  | { kind: 'series'; id: number; nowMs: number; query: SeriesQuery }
  | { kind: 'report'; id: number; nowMs: number; query: ReportQuery }
  /** Flush, then seal and prune everything due at nowMs; answers the stats. */
  | { kind: 'settle'; id: number; nowMs: number }
  /** Write everything and close the store; the worker exits after answering. */
  | { kind: 'close'; id: number; nowMs: number };

export type HistoryReply =
  | { kind: 'opened'; stats: HistoryStats }
  | { kind: 'failed'; error: string }
  | { kind: 'recorded'; stats: HistoryStats }
  | { kind: 'answer'; id: number; result: SeriesResult | Report | HistoryStats }
  | { kind: 'answer'; id: number; error: { name: string; message: string } }
  | { kind: 'log'; fields: Record<string, unknown>; msg: string };

const port = parentPort;
if (!port) throw new Error('history-worker.ts runs as a worker thread');
const post = (reply: HistoryReply): void => port.postMessage(reply);

const { nowMs, ...storeOptions } = workerData as HistoryWorkerOptions;
// Never this machine's clock once the caller has its own (a test's, a benchmark's): a timer tick
// judged by it would put sealing off until that time.
let clockMs = nowMs ?? Date.now();
let store: HistoryStore | undefined;
try {
  store = HistoryStore.open({
    ...storeOptions,
    now: () => clockMs,
    // The store only warns (throttled); the collector's logger writes it.
    logger: { warn: (fields, msg) => post({ kind: 'log', fields: { ...fields, err: errorFields(fields['err']) }, msg }) },
  });
  post({ kind: 'opened', stats: store.stats });
} catch (error) {
  post({ kind: 'failed', error: (error as Error).message });
}

port.on('message', (request: HistoryRequest) => {
  if (!store) return;
  if (request.kind === 'record') {
    clockMs = request.atMs;
    // recordCounts never throws; should it, the batch is lost but answered (the thread counts what it has queued).
    try {
      store.recordCounts(request.atMs, readCountBatch(request.batch), connectionLabels);
    } catch (error) {
      post({ kind: 'log', fields: { err: errorFields(error) }, msg: 'history batch could not be recorded' });
    }
    post({ kind: 'recorded', stats: store.stats });
    return;
  }
  clockMs = request.nowMs;
  try {
    post({ kind: 'answer', id: request.id, result: answer(store, request) });
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ kind: 'answer', id: request.id, error: { name, message } });
  }
  if (request.kind === 'close') port.close();
});

function answer(history: HistoryStore, request: Exclude<HistoryRequest, { kind: 'record' }>): SeriesResult | Report | HistoryStats {
  switch (request.kind) {
    case 'series':
      return querySeries(history, request.query);
    case 'report':
      return queryReport(history, request.query);
    case 'settle':
      history.flush();
      while (history.seal() > 0);
      history.prune();
      return history.stats;
    case 'close':
      history.close();
      return history.stats;
  }
}

/** An error as pino's serializer would log it (an Error itself crosses threads without its stack). */
function errorFields(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return { type: error.name, message: error.message, stack: error.stack };
}
