// The points the collector records into history each interval: every live node's HTTP counts
// by (port, direction, state), and the same split by pod and workload where attribution knows
// the pod. Pure: FleetState in, points out.

import { keyDirection, keyPort, keyState } from '../../agent/snapshot/connection-key.js';
import { tcpStateName } from '../../agent/procfs/tcp-states.js';
import { directionName } from '../api/fleet-views.js';
import type { FleetState } from '../fleet-state.js';
import type { SamplePoint } from './series-key.js';

export function* livePoints(state: FleetState): Generator<SamplePoint> {
  for (const record of state.registry.records()) {
    if (record.status !== 'live') continue;
    for (const [key, value] of record.summary.http) yield { node: record.name, ...labelsOf(key), value };
    for (const [uid, counts] of record.summary.pods) {
      const pod = state.pods.pod(uid);
      if (!pod) continue;
      const workload = `${pod.workload.kind}/${pod.workload.name}`;
      for (const [key, value] of counts) {
        yield { node: record.name, ...labelsOf(key), namespace: pod.namespace, pod: pod.name, workload, value };
      }
    }
  }
}

function labelsOf(key: number): { port: number; direction: string; state: string } {
  return { port: keyPort(key), direction: directionName(keyDirection(key)), state: tcpStateName(keyState(key)) };
}
