// What the collector records into history each interval: every live node's HTTP counts by
// connection key (port, direction, state), and the same split by pod and workload where
// attribution knows the pod. The maps are the collector's own, handed over without copying.
// Pure: FleetState in, groups out.

import { nodePodCounts } from '../attribution/pod-views.js';
import type { FleetState } from '../fleet-state.js';
import type { CountGroup } from './count-batch.js';

export function* liveCountGroups(state: FleetState): Generator<CountGroup> {
  for (const record of state.registry.records()) {
    if (record.status !== 'live') continue;
    yield { node: record.name, counts: record.summary.http };
    if (record.summary.pods.size === 0) continue;
    for (const { pod, node, counts } of nodePodCounts(state, record)) {
      yield { node, namespace: pod.namespace, pod: pod.name, workload: `${pod.workload.kind}/${pod.workload.name}`, counts };
    }
  }
}
