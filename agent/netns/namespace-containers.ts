// The containers living in one network namespace, from their processes' cgroups: what the
// collector joins with Kubernetes pod metadata to put counts on pods and workloads.

import type { ContainerRef } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { PodIdentityCache } from './pod-identity-cache.js';

export function containersOf(pids: readonly number[], identities: PodIdentityCache): ContainerRef[] {
  const byKey = new Map<string, ContainerRef>();
  for (const pid of pids) {
    const identity = identities.identityOf(pid);
    if (!identity || (!identity.podUid && !identity.containerId)) continue;
    const podUid = identity.podUid ?? '';
    const containerId = identity.containerId ?? '';
    const key = `${podUid}/${containerId}`;
    const ref = byKey.get(key);
    if (ref) ref.pidCount++;
    else byKey.set(key, { podUid, containerId, runtime: identity.runtime ?? '', pidCount: 1 });
  }
  return [...byKey.values()].sort((a, b) =>
    a.podUid === b.podUid ? (a.containerId < b.containerId ? -1 : 1) : a.podUid < b.podUid ? -1 : 1,
  );
}
