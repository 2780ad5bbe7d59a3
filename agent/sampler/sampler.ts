// Main-thread handle on the sampling worker: one sample at a time, each with a time limit.

import { Worker } from 'node:worker_threads';
import type { NodeSample, SampleOptions } from './sample-node.js';

export class SampleError extends Error {
  override readonly name = 'SampleError';
}

type Reply = { id: number; sample?: NodeSample; error?: string };

export class Sampler {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: NodeSample) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(options: SampleOptions) {
    this.worker = new Worker(new URL('./sampler-worker.js', import.meta.url), { workerData: options });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(new SampleError('sampling worker failed', { cause: error })));
    this.worker.on('exit', (code) => this.failAll(new SampleError(`sampling worker exited with code ${code}`)));
  }

  sample(timeoutMs: number): Promise<NodeSample> {
    if (this.closed) return Promise.reject(new SampleError('sampler is closed'));
    const id = this.nextId++;
    return new Promise<NodeSample>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SampleError(`sample took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (sample) => {
          clearTimeout(timer);
          resolve(sample);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.worker.postMessage(id);
    });
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.sample) waiter.resolve(reply.sample);
    else waiter.reject(new SampleError(reply.error ?? 'sampling failed'));
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
