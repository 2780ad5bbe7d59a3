// Worker thread entry: takes samples and answers detail requests so the caller's event loop
// never waits on procfs reads (every namespace read walks the host's whole TCP hash table).

import { parentPort, workerData } from 'node:worker_threads';
import type { GetSocketsRequest } from '../../proto/gen/fleetstat/v1/detail.js';
import { socketRows } from '../detail/socket-rows.js';
import { NamespaceTableReader } from '../netns/read-namespace-tables.js';
import type { WorkerOptions } from './sample-node.js';
import { NodeSampler } from './sample-node.js';

export type WorkerRequest = { id: number; kind: 'sample' } | { id: number; kind: 'sockets'; request: GetSocketsRequest };

const options = workerData as WorkerOptions;
const sampler = new NodeSampler(options);
// Detail reads keep their own buffers, so they never disturb the sampler's.
const detailReader = new NamespaceTableReader(options.procRoot);

parentPort?.on('message', (message: WorkerRequest) => {
  try {
    const result =
      message.kind === 'sample'
        ? sampler.sample()
        : socketRows(options.procRoot, options.netns, detailReader, options.node, message.request);
    parentPort?.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
