// Worker thread entry: takes a sample on each request so the caller's event loop never waits
// on procfs reads (every namespace read walks the host's whole TCP hash table).

import { parentPort, workerData } from 'node:worker_threads';
import type { SampleOptions } from './sample-node.js';
import { NodeSampler } from './sample-node.js';

const sampler = new NodeSampler(workerData as SampleOptions);

parentPort?.on('message', (id: number) => {
  try {
    parentPort?.postMessage({ id, sample: sampler.sample() });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
