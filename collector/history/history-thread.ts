// The collector's handle on its history, which runs on a worker thread (history-worker.ts): the
// collector hands over each interval's counts as one message (count-batch.ts) and goes on;
// recording, flushing, sealing and queries happen on the worker. Batches the worker has not
// taken are bounded: past `maxQueuedBatches` a batch is dropped, counted and logged. If the
// worker dies it is restarted (backing off), reopening the store: a data directory's open hours
// come back from their frames, as after a restart of the collector.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CountGroup } from './count-batch.js';
import { CountBatchWriter } from './count-batch.js';
import { HistoryQueryError, HistoryStoreError } from './history-errors.js';
import type { HistoryStats } from './history-store.js';
import type { HistoryReply, HistoryRequest, HistoryWorkerOptions } from './history-worker.js';
import type { Report, ReportQuery, SeriesQuery, SeriesResult } from './queries.js';
import { ThrottledWarning } from './throttled-warning.js';

/** History is not there right now (its worker is restarting, or closed): HTTP 503, gRPC UNAVAILABLE. */
export class HistoryUnavailableError extends Error {
  override readonly name = 'HistoryUnavailableError';
}

export interface HistoryThreadOptions extends HistoryWorkerOptions {
  logger: Logger;
  /** Batches posted but not yet recorded before new ones are dropped. Default 30 (5 minutes at 10 s). */
  maxQueuedBatches?: number;
}

export interface HistoryThreadStats {
  /** Batches handed to the worker, and dropped because it was behind or down. */
  batches: number;
  droppedBatches: number;
  /** Times the worker died and was started again. */
  restarts: number;
  /** The store's own figures, as of the worker's last answer (they restart with a restarted worker). */
  store: HistoryStats | undefined;
}

type Waiter = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Ask = Exclude<HistoryRequest, { kind: 'record' }>;

const RESTART_MS = { first: 1_000, max: 60_000 };
const TSX_API = import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : '';

export class HistoryThread {
  readonly stats: HistoryThreadStats = { batches: 0, droppedBatches: 0, restarts: 0, store: undefined };
  private worker: Worker | undefined;
  /** A worker being started (at open, or after one died). */
  private starting: Promise<void> | undefined;
  /** When the running worker opened: one that lived long enough restarts without backing off. */
  private openedAtMs = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  /** Batches posted and not yet answered by the running worker. */
  private queued = 0;
  private readonly batchWriter = new CountBatchWriter();
  private readonly warning: ThrottledWarning;
  private restartMs = RESTART_MS.first;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The caller's clock as of its last call: a restarted worker starts on it. */
  private clockMs: number | undefined;
  private closing: Promise<void> | undefined;

  /** Start the worker and open the store; throws HistoryStoreError where the store cannot open (bad options, an unusable directory). */
  static async open(options: HistoryThreadOptions): Promise<HistoryThread> {
    const thread = new HistoryThread(options);
    await thread.startWorker();
    return thread;
  }

  private constructor(private readonly options: HistoryThreadOptions) {
    this.warning = new ThrottledWarning(options.logger, 60_000);
    this.clockMs = options.nowMs;
  }

  /** Hand the counts at `atMs` to the worker; false when the batch was dropped (worker behind or down, or history closed). */
  record(atMs: number, groups: Iterable<CountGroup>): boolean {
    if (this.closing) return false;
    this.clockMs = atMs;
    if (!this.worker || this.queued >= (this.options.maxQueuedBatches ?? 30)) {
      this.stats.droppedBatches++;
      this.warning.warn('history batch dropped: its worker is behind or restarting', new Error(`${this.queued} batches queued`), atMs);
      return false;
    }
    const batch = this.batchWriter.write(groups);
    const request: HistoryRequest = { kind: 'record', atMs, batch };
    // Moved, not copied: the batch is this call's own.
    this.worker.postMessage(request, [batch.numbers.buffer as ArrayBuffer]);
    this.queued++;
    this.stats.batches++;
    return true;
  }

  series(query: SeriesQuery, nowMs: number): Promise<SeriesResult> {
    return this.ask({ kind: 'series', id: 0, nowMs, query }) as Promise<SeriesResult>;
  }

  report(query: ReportQuery, nowMs: number): Promise<Report> {
    return this.ask({ kind: 'report', id: 0, nowMs, query }) as Promise<Report>;
  }

  /** Once every batch before it is recorded: flush, seal and prune what is due at `nowMs`. */
  async settle(nowMs: number): Promise<HistoryStats> {
    return (await this.ask({ kind: 'settle', id: 0, nowMs })) as HistoryStats;
  }

  /** Write everything and stop the worker (one being started too); safe to call twice. */
  close(nowMs = Date.now()): Promise<void> {
    this.closing ??= this.closeWorker(nowMs);
    return this.closing;
  }

  private async closeWorker(nowMs: number): Promise<void> {
    clearTimeout(this.restartTimer);
    await this.starting?.catch(() => undefined);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    try {
      await this.ask({ kind: 'close', id: 0, nowMs }, true);
    } finally {
      await exited;
    }
  }

  private ask(request: Ask, closing = false): Promise<unknown> {
    const worker = this.worker;
    if (!worker || (this.closing && !closing)) {
      return Promise.reject(new HistoryUnavailableError(this.closing ? 'history is closed' : 'history is restarting after its worker failed'));
    }
    this.clockMs = request.nowMs;
    const id = this.nextId++;
    // An answer awaited keeps the process alive (an idle worker does not).
    worker.ref();
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private startWorker(): Promise<void> {
    this.starting = this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** A worker on the store; resolves once it has opened it (the store may log before). */
  private spawn(): Promise<void> {
    const worker = spawnWorker(this.options, this.clockMs);
    return new Promise<void>((resolve, reject) => {
      const failed = (why: string): void => reject(new HistoryStoreError(why));
      worker.on('message', (reply: HistoryReply) => {
        if (this.worker === worker || reply.kind === 'log') {
          this.settleReply(reply);
          return;
        }
        if (reply.kind !== 'opened') {
          failed(reply.kind === 'failed' ? reply.error : `history worker said ${reply.kind} before opening the store`);
          void worker.terminate();
          return;
        }
        this.stats.store = reply.stats;
        this.worker = worker;
        this.queued = 0;
        this.openedAtMs = Date.now();
        // Listening refs a worker: an idle one must not keep the process alive.
        worker.unref();
        resolve();
      });
      worker.on('error', (error) => {
        if (this.worker === worker) this.options.logger.error({ err: error }, 'history worker failed');
        else failed(`history worker failed to start: ${error.message}`);
      });
      worker.once('exit', (code) => {
        if (this.worker === worker) this.exited(code);
        else failed(`history worker exited with code ${code} before opening the store`);
      });
    });
  }

  private settleReply(reply: HistoryReply): void {
    switch (reply.kind) {
      case 'recorded':
        this.queued--;
        this.stats.store = reply.stats;
        return;
      case 'answer': {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if ('error' in reply) waiter?.reject(errorOf(reply.error));
        else waiter?.resolve(reply.result);
        // Closing: stay referenced until the worker has exited (close() awaits it).
        if (this.waiting.size === 0 && !this.closing) this.worker?.unref();
        return;
      }
      case 'log':
        this.options.logger.warn(reply.fields, reply.msg);
        return;
      default:
        return;
    }
  }

  /** The worker is gone: fail what waits on it, and unless closing, start a new one. */
  private exited(code: number): void {
    this.worker = undefined;
    const error = new HistoryUnavailableError(this.closing ? 'history is closed' : `history worker exited with code ${code}`);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    if (this.closing) return;
    // A worker that lived a while failed for a reason of its own; one that keeps dying backs off.
    if (Date.now() - this.openedAtMs >= RESTART_MS.max) this.restartMs = RESTART_MS.first;
    this.options.logger.error({ code, restartInMs: this.restartMs, dir: this.options.dir ?? null }, 'history worker exited; restarting it');
    this.restartLater();
  }

  private restartLater(): void {
    this.restartTimer = setTimeout(() => {
      if (this.closing) return;
      this.startWorker().then(
        () => {
          this.stats.restarts++;
        },
        (cause: unknown) => {
          this.options.logger.error({ err: cause, restartInMs: this.restartMs }, 'history worker could not restart');
          this.restartLater();
        },
      );
    }, this.restartMs);
    this.restartTimer.unref();
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MS.max);
  }
}

/** The built worker beside this file; from TypeScript sources (tests, benchmarks) through tsx's loader. */
function spawnWorker(options: HistoryThreadOptions, nowMs: number | undefined): Worker {
  // What crosses to the worker: the store's options and the caller's clock, not the logger or the queue bound.
  const workerData: HistoryWorkerOptions = { ...options, ...(nowMs === undefined ? {} : { nowMs }) };
  delete (workerData as Partial<HistoryThreadOptions>).logger;
  delete (workerData as Partial<HistoryThreadOptions>).maxQueuedBatches;
  return import.meta.url.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./history-worker.ts', import.meta.url).href)}); })`, { eval: true, workerData })
    : new Worker(new URL('./history-worker.js', import.meta.url), { workerData });
}

function errorOf(error: { name: string; message: string }): Error {
  if (error.name === 'HistoryQueryError') return new HistoryQueryError(error.message);
  return new Error(`history worker: ${error.message}`);
}
