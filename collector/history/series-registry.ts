// The series the store has seen recently, each interned once as a handle: a sample's points
// find their handle by one string lookup, and everything after (summing duplicates, the
// cluster-wide sum, zero-fill, the pending buffer, the database row id) works on the handle
// without building keys again.
//
// Zero-fill lives here too. recordSample is handed the current live counts, and a count that
// drops to zero simply disappears from them; without a recorded 0 the rollups would keep the
// old value as `last` and miss the drop in `min`. A series absent from a sample gets a 0 while
// it has been absent for less than `holdMs`; after that it is forgotten (a removed pod or node
// must not be written forever), and its later steps read as "no data".

import type { SamplePoint, SeriesKey } from './series-key.js';
import { clusterKeyOf, keyString } from './series-key.js';

export interface SeriesHandle {
  readonly key: SeriesKey;
  /** The cluster-wide series this one adds into: undefined until looked up, null for none. */
  cluster: SeriesHandle | null | undefined;
  /** Row id in `series`; trusted only while `rowEpoch` equals the writer's epoch. */
  rowId: number;
  rowEpoch: number;
  /** What the database holds, as the writer last wrote it (valid with rowId): series.last_hour and the day's peak. */
  writtenHour: number;
  peakDay: number;
  peakMax: number;
  lastSeenMs: number;
  /** Dropped from the registry; a handle still pointing here must look its series up again. */
  forgotten: boolean;
  /** The recordSample call that last touched this handle, and its value in that call. */
  stamp: number;
  value: number;
}

export class SeriesRegistry {
  private readonly byKey = new Map<string, SeriesHandle>();

  constructor(private readonly holdMs: number) {}

  /** The handle for a checked point (see checkPoint), created on first sight. */
  intern(point: SamplePoint): SeriesHandle {
    const namespace = point.namespace ?? '';
    const pod = point.pod ?? '';
    const workload = point.workload ?? '';
    const id = keyString(point.node, point.port, point.direction, point.state, namespace, pod, workload);
    return this.byKey.get(id) ?? this.add(id, { node: point.node, port: point.port, direction: point.direction, state: point.state, namespace, pod, workload });
  }

  internKey(key: SeriesKey): SeriesHandle {
    const id = keyString(key.node, key.port, key.direction, key.state, key.namespace, key.pod, key.workload);
    return this.byKey.get(id) ?? this.add(id, key);
  }

  clusterOf(handle: SeriesHandle): SeriesHandle | null {
    if (handle.cluster === undefined) {
      const key = clusterKeyOf(handle.key);
      handle.cluster = key ? this.internKey(key) : null;
    }
    // A forgotten cluster handle is not reused: zero-fill would no longer see it.
    if (handle.cluster?.forgotten) handle.cluster = this.internKey(handle.cluster.key);
    return handle.cluster;
  }

  /**
   * Handles to record as 0 at `atMs`: seen before, not touched by call `stamp`. One absent for
   * `holdMs` or more is forgotten instead: the store says nothing about a time that far from
   * when it last saw the series (samples come every interval, far more often than that).
   */
  absent(atMs: number, stamp: number): SeriesHandle[] {
    const zeros: SeriesHandle[] = [];
    for (const [id, handle] of this.byKey) {
      if (handle.stamp === stamp) continue;
      if (atMs - handle.lastSeenMs >= this.holdMs) {
        this.byKey.delete(id);
        handle.forgotten = true;
      } else {
        zeros.push(handle);
      }
    }
    return zeros;
  }

  get size(): number {
    return this.byKey.size;
  }

  private add(id: string, key: SeriesKey): SeriesHandle {
    const handle: SeriesHandle = {
      key, cluster: undefined, rowId: 0, rowEpoch: -1, writtenHour: -1, peakDay: -1, peakMax: -Infinity,
      lastSeenMs: -Infinity, forgotten: false, stamp: 0, value: 0,
    };
    this.byKey.set(id, handle);
    return handle;
  }
}
