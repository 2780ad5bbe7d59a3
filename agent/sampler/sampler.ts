// Main-thread handle on the sampling worker: samples and detail requests, each with a time
// limit; the worker runs one at a time, in order.

import { Worker } from 'node:worker_threads';
import type { GetSocketsRequest, GetSocketsResponse } from '../../proto/gen/fleetstat/v1/detail.js';
import type { DetailSource } from '../detail/detail-source.js';
import type { NodeSample, WorkerOptions } from './sample-node.js';
import type { WorkerRequest } from './sampler-worker.js';

export class SampleError extends Error {
  override readonly name = 'SampleError';
}

type Reply = { id: number; result?: unknown; error?: string };
type Waiter = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Body = { kind: 'sample' } | { kind: 'sockets'; request: GetSocketsRequest };

export class Sampler implements DetailSource {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Waiter>();
  private closed = false;

  constructor(options: WorkerOptions, private readonly detailTimeoutMs = 10_000) {
    this.worker = new Worker(new URL('./sampler-worker.js', import.meta.url), { workerData: options });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(new SampleError('sampling worker failed', { cause: error })));
    this.worker.on('exit', (code) => this.failAll(new SampleError(`sampling worker exited with code ${code}`)));
  }

  sample(timeoutMs: number): Promise<NodeSample> {
    return this.call({ kind: 'sample' }, timeoutMs) as Promise<NodeSample>;
  }

  getSockets(request: GetSocketsRequest): Promise<GetSocketsResponse> {
    return this.call({ kind: 'sockets', request }, this.detailTimeoutMs) as Promise<GetSocketsResponse>;
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private call(body: Body, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new SampleError('sampler is closed'));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SampleError(`${body.kind} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const message: WorkerRequest = body.kind === 'sample' ? { id, kind: 'sample' } : { id, kind: 'sockets', request: body.request };
      this.worker.postMessage(message);
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.error === undefined) waiter.resolve(reply.result);
    else waiter.reject(new SampleError(reply.error));
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
