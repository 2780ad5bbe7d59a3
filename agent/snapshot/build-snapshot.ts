// A node sample plus the agent's identity and sequence: the protobuf Snapshot it publishes.

import { randomInt } from 'node:crypto';
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { NodeSample } from '../sampler/sample-node.js';

export interface AgentIdentity {
  cluster: string;
  node: string;
  /** Random per start; kept below 2^53 so it survives JSON and JavaScript numbers. */
  epoch: number;
  intervalMs: number;
  httpPorts: readonly number[];
  version: string;
  /** host:port of this agent's gRPC DetailService, when it serves one. */
  detailAddress?: string;
}

export function newEpoch(): number {
  return randomInt(1, 2 ** 48 - 1);
}

export function buildSnapshot(
  identity: AgentIdentity,
  seq: number,
  agentTimeMs: number,
  sample: { namespaces: NodeSample['namespaces']; parse: NodeSample['parse'] | undefined },
): Snapshot {
  return {
    cluster: identity.cluster,
    node: identity.node,
    epoch: identity.epoch,
    seq,
    agentTimeMs,
    intervalMs: identity.intervalMs,
    goodbye: false,
    httpPorts: [...identity.httpPorts],
    namespaces: sample.namespaces,
    parse: sample.parse,
    agentVersion: identity.version,
    detailAddress: identity.detailAddress ?? '',
  };
}
