// The points the collector records into history each interval: every live node's HTTP counts
// by (port, direction, state), and the same split by pod and workload where attribution knows
// the pod. Pure: FleetState in, points out.

import { connectionLabels } from '../api/fleet-views.js';
import { livePodCounts } from '../attribution/pod-views.js';
import type { FleetState } from '../fleet-state.js';
import type { SamplePoint } from './series-key.js';

export function* livePoints(state: FleetState): Generator<SamplePoint> {
  for (const record of state.registry.records()) {
    if (record.status !== 'live') continue;
    for (const [key, value] of record.summary.http) yield { node: record.name, ...connectionLabels(key), value };
  }
  for (const { pod, node, counts } of livePodCounts(state)) {
    const workload = `${pod.workload.kind}/${pod.workload.name}`;
    for (const [key, value] of counts) {
      yield { node, ...connectionLabels(key), namespace: pod.namespace, pod: pod.name, workload, value };
    }
  }
}
