// The inbound remote addresses on one port, merged over a node's namespaces (or over every
// live node for a cluster-wide alert). Agents send a bounded top list per namespace, so the
// merge is an estimate of the heaviest sources, which is what an alert needs to name.

import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';

/** Add one snapshot's inbound remotes on `port` into `into`. */
export function tallyRemotes(snapshot: Snapshot, port: number, into: Map<string, number>): void {
  for (const ns of snapshot.namespaces) {
    for (const group of ns.topRemotes) {
      if (group.port !== port || group.direction !== Direction.DIRECTION_INBOUND) continue;
      for (const r of group.remotes) into.set(r.address, (into.get(r.address) ?? 0) + r.count);
    }
  }
}
