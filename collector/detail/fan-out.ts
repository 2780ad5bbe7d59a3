// The cluster-wide `netstat -an | grep :80`: ask every live node (or one) for its matching
// socket rows, a few at a time, each with a time limit; a silent node is reported, not fatal.

import type { GetSocketsRequest, SocketRow } from '../../proto/gen/fleetstat/v1/detail.js';
import type { DetailClient } from './detail-client.js';

export interface NodeRows {
  node: string;
  rows: SocketRow[];
  truncated: number;
  error?: string;
}

export async function fanOutDetail(
  client: DetailClient,
  nodes: readonly string[],
  request: Omit<GetSocketsRequest, 'node'>,
  options: { timeoutMs: number; concurrency: number },
): Promise<NodeRows[]> {
  const results: NodeRows[] = new Array<NodeRows>(nodes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < nodes.length; i = next++) {
      const node = nodes[i] ?? '';
      try {
        const reply = await client.getSockets(node, { ...request, node }, options.timeoutMs);
        results[i] = reply.error
          ? { node, rows: [], truncated: 0, error: reply.error }
          : { node, rows: reply.rows, truncated: reply.truncated };
      } catch (error) {
        results[i] = { node, rows: [], truncated: 0, error: error instanceof Error ? error.message : String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, nodes.length) }, worker));
  return results;
}
