// The series the store knows in memory, each interned once as a handle that carries everything
// per series: its current minute's cell, its open hours' journals, its database row id, and the
// zero-fill state. Handles are found in two steps, a group (node, namespace, pod, workload) and
// then a key within it: the collector's numeric connection key on the fast path, or the
// (port, direction, state) labels; no 7-label key string is built per point.
//
// Zero-fill lives here too. The store is handed the current live counts, and a count that drops
// to zero simply disappears from them; without a recorded 0 the rollups would keep the old value
// as `last` and miss the drop in `min`. A series absent from a sample gets a 0 while it has been
// absent for less than `holdMs` (to the second); after that it goes dormant (no more zeros; a
// removed pod or node must not be written forever) and is dropped once its open hours are
// sealed. A dormant series that reports again is the same handle, so one series never has two
// journals.

import type { MinuteJournal } from './minute-journal.js';
import type { Rollup } from './rollup.js';
import { reportKindOf } from './report-kind.js';
import type { SamplePoint, SeriesKey } from './series-key.js';
import { checkLabels, clusterKeyOf } from './series-key.js';

/** A series in memory; as a Rollup it is its current minute's cell (count 0: none; lastAt in ms into the minute). */
export interface SeriesHandle extends Rollup {
  readonly key: SeriesKey;
  /** The report this series is a row of (REPORT_KIND_CODE), or undefined. */
  readonly kind: number | undefined;
  /** The cluster-wide series this one adds into: undefined until looked up, null for none. */
  cluster: SeriesHandle | null | undefined;
  /** Row id in `series`; trusted only while `rowEpoch` equals the writer's epoch. */
  rowId: number;
  rowEpoch: number;
  /** What the database holds, as the writer last wrote it (valid with rowId): series.last_hour and the day's peak. */
  writtenHour: number;
  peakDay: number;
  peakMax: number;
  /** Last seen, in whole seconds: a small integer V8 keeps in the object (a ms timestamp is a boxed double, one more cache miss per sample). */
  lastSeenS: number;
  /** No longer zero-filled; dropped once its open hours are sealed. */
  dormant: boolean;
  /** Dropped from the registry; a handle still pointing here must look its series up again. */
  forgotten: boolean;
  /** The recordSample call that last touched this handle, and its value in that call. */
  stamp: number;
  value: number;
  /** The minute of the current cell. */
  cellMinute: number;
  /** Journals of closed minutes of hours not sealed yet, oldest hour first. */
  journals: MinuteJournal[];
  /** Journal bytes not in a frame yet. */
  dirty: boolean;
  /** In the store's list for the next flush (a row, a newer last_hour). */
  queued: boolean;
  readonly group: SeriesGroup;
  /** Its place in group.members. */
  memberIndex: number;
  /** The keys this handle is found under in its group. */
  readonly aliases: Array<number | string>;
}

export interface SeriesGroup {
  readonly id: string;
  readonly node: string;
  readonly namespace: string;
  readonly pod: string;
  readonly workload: string;
  readonly handles: Map<number | string, SeriesHandle>;
  /** Its distinct handles (handles holds each under one or two keys). */
  readonly members: SeriesHandle[];
  /** Two connection keys name one series here: their points are added before folding. */
  collides: boolean;
  /**
   * The keys of the last counts seen, in their order, and their handles: the next counts (the
   * same keys, usually in the same order) find theirs without a hash lookup.
   */
  readonly orderKeys: number[];
  readonly orderHandles: SeriesHandle[];
  /** The record call that last touched the group, how many of its members it touched, and which (bit i: members[i], for the first 30). */
  stamp: number;
  touched: number;
  touchedMask: number;
  /** The registry's map this group is in. */
  readonly home: Map<string, SeriesGroup>;
}

/** What a numeric connection key stands for (the collector's encoding, decoded by the caller). */
export type ConnectionLabels = (key: number) => { port: number; direction: string; state: string };

/** Members a group tracks by bit in touchedMask (a node has a handful of series; more are looked at one by one). */
export const MASKED_MEMBERS = 30;

const labelsId = (port: number, direction: string, state: string): string => `${port}\0${direction}\0${state}`;

export class SeriesRegistry {
  /** A node's own group by node name (no key string built per sample), the pods' by full id. */
  private readonly nodeGroups = new Map<string, SeriesGroup>();
  private readonly groups = new Map<string, SeriesGroup>();
  private readonly all = new Set<SeriesHandle>();

  constructor(private readonly holdMs: number) {}

  /** The group of (node, namespace, pod, workload); labels must have passed checkGroupLabels. */
  group(node: string, namespace: string, pod: string, workload: string): SeriesGroup {
    const nodeOnly = namespace === '' && pod === '' && workload === '';
    const id = nodeOnly ? node : `${node}\0${namespace}\0${pod}\0${workload}`;
    const groups = nodeOnly ? this.nodeGroups : this.groups;
    let group = groups.get(id);
    if (!group) {
      group = { id, node, namespace, pod, workload, handles: new Map(), members: [], collides: false, orderKeys: [], orderHandles: [], stamp: 0, touched: 0, touchedMask: 0, home: groups };
      groups.set(id, group);
    }
    return group;
  }

  /** The handle for a checked point (see checkPoint), created on first sight. */
  intern(point: SamplePoint): SeriesHandle {
    const group = this.group(point.node, point.namespace ?? '', point.pod ?? '', point.workload ?? '');
    return this.internLabels(group, point.port, point.direction, point.state);
  }

  internKey(key: SeriesKey): SeriesHandle {
    return this.internLabels(this.group(key.node, key.namespace, key.pod, key.workload), key.port, key.direction, key.state);
  }

  /**
   * The handle of the `position`th connection key of a group's counts; undefined when its labels
   * are not acceptable.
   */
  internAt(group: SeriesGroup, position: number, connectionKey: number, labelsOf: ConnectionLabels): SeriesHandle | undefined {
    const cached = group.orderHandles[position];
    if (group.orderKeys[position] === connectionKey && cached && !cached.forgotten) return cached;
    const handle = this.internConnection(group, connectionKey, labelsOf);
    if (handle) {
      group.orderKeys[position] = connectionKey;
      group.orderHandles[position] = handle;
    }
    return handle;
  }

  /** The handle of a connection key in `group`; undefined when its labels are not acceptable. */
  private internConnection(group: SeriesGroup, connectionKey: number, labelsOf: ConnectionLabels): SeriesHandle | undefined {
    const found = group.handles.get(connectionKey);
    if (found) return found;
    const { port, direction, state } = labelsOf(connectionKey);
    if (checkLabels(port, direction, state)) return undefined;
    const handle = this.internLabels(group, port, direction, state);
    if (handle.aliases.some((alias) => typeof alias === 'number')) group.collides = true;
    group.handles.set(connectionKey, handle);
    handle.aliases.push(connectionKey);
    return handle;
  }

  clusterOf(handle: SeriesHandle): SeriesHandle | null {
    if (handle.cluster === undefined) {
      const key = clusterKeyOf(handle.key);
      handle.cluster = key ? this.internKey(key) : null;
    }
    if (handle.cluster?.forgotten) handle.cluster = this.internKey(handle.cluster.key);
    return handle.cluster;
  }

  /**
   * List in `touched` with value 0 the handles to record as 0 at `atMs`: seen before, not
   * dormant, not touched by call `stamp`; returns how many. One absent for `holdMs` or more goes
   * dormant instead (dropped at once when it holds no open data): the store says nothing about a
   * time that far from when it last saw the series. Groups whose every member the call touched
   * (most nodes, most of the time) are passed over without looking at their members.
   */
  absent(atMs: number, stamp: number, touched: SeriesHandle[]): number {
    let zeros = 0;
    const zero = (handle: SeriesHandle): void => {
      if (handle.stamp === stamp || handle.dormant) return;
      if (atMs - handle.lastSeenS * 1000 >= this.holdMs) {
        handle.dormant = true;
        if (!hasOpenData(handle)) this.remove(handle);
        return;
      }
      handle.stamp = stamp;
      handle.value = 0;
      touched.push(handle);
      zeros++;
    };
    for (const groups of [this.nodeGroups, this.groups]) {
      for (const group of groups.values()) {
        const present = group.stamp === stamp;
        const members = group.members;
        if (present && group.touched === members.length) continue;
        // Backwards: remove() moves the last member into the removed one's place. A present
        // group's untouched members are read from its mask, without looking at the others.
        const masked = present && members.length <= MASKED_MEMBERS;
        for (let i = members.length - 1; i >= 0; i--) {
          if (masked && (group.touchedMask & (1 << i)) !== 0) continue;
          zero(members[i] as SeriesHandle);
        }
      }
    }
    return zeros;
  }

  /** Every handle, dormant ones included (they still hold open hours). */
  handles(): IterableIterator<SeriesHandle> {
    return this.all.values();
  }

  /** Drop a handle (dormant and without open data). */
  remove(handle: SeriesHandle): void {
    const group = handle.group;
    for (const alias of handle.aliases) group.handles.delete(alias);
    const moved = group.members.pop() as SeriesHandle;
    if (moved !== handle) {
      group.members[handle.memberIndex] = moved;
      moved.memberIndex = handle.memberIndex;
    }
    if (group.members.length === 0) group.home.delete(group.id);
    this.all.delete(handle);
    handle.forgotten = true;
  }

  get size(): number {
    return this.all.size;
  }

  private internLabels(group: SeriesGroup, port: number, direction: string, state: string): SeriesHandle {
    const id = labelsId(port, direction, state);
    const found = group.handles.get(id);
    if (found) return found;
    const key: SeriesKey = { node: group.node, port, direction, state, namespace: group.namespace, pod: group.pod, workload: group.workload };
    // V8 lays the fields out in this order: what every sample touches comes first, together
    // (two cache lines instead of four), the rest after.
    const handle: SeriesHandle = {
      stamp: 0, value: 0, lastSeenS: -1, dormant: false, group, memberIndex: group.members.length, cluster: undefined,
      cellMinute: -1, min: 0, max: 0, sum: 0, count: 0, last: 0, lastAt: 0, dirty: false, rowEpoch: -1,
      key, kind: reportKindOf(key), rowId: 0, writtenHour: -1, peakDay: -1, peakMax: -1, forgotten: false,
      journals: [], queued: false, aliases: [id],
    };
    group.handles.set(id, handle);
    group.members.push(handle);
    this.all.add(handle);
    return handle;
  }
}

/** A current minute's cell or an unsealed journal: the handle must stay until they are sealed. */
export function hasOpenData(handle: SeriesHandle): boolean {
  return handle.count > 0 || handle.journals.length > 0;
}
