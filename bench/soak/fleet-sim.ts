// The simulated fleet of the soak: N nodes, each publishing a snapshot at its own slot of every
// round (interval), with faults injected per publish (loss, duplication, reordering) and a life
// of its own (restart with a new epoch, goodbye and rejoin, going silent without a word).
//
// It knows the truth the collector must hold: per node the newest snapshot that was actually
// delivered (a lost one leaves the previous; a reordered older one arriving late changes
// nothing), when it was first sent, and per slot whether that slot delivered anything newer,
// which is what the stale audit counts as a missed interval. Time and publishing are passed
// in; this file does no I/O.

import { tcpStateName } from '../../agent/procfs/tcp-states.js';
import { Snapshot as SnapshotCodec } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { buildSnapshot } from '../../test/support/collector-child.js';
import type { Counts } from '../../test/support/collector-child.js';

export interface FaultRates {
  /** Share of publishes dropped (never sent). */
  loss: number;
  /** Share of publishes sent twice. */
  dup: number;
  /** Share of publishes held back and sent after the node's next one. */
  reorder: number;
}

export interface LifeRates {
  /** Per node and round: the agent restarts (new epoch, seq from 1). */
  restart: number;
  /** Per node and round: the agent says goodbye and comes back 3 to 12 rounds later. */
  leave: number;
  /** Per node and round: the agent goes quiet without a goodbye for 4 to 15 rounds (a tenth never return). */
  silent: number;
}

export interface FleetOptions {
  nodes: number;
  intervalMs: number;
  cluster: string;
  faults: FaultRates;
  life: LifeRates;
  seed: number;
}

/** A snapshot as delivered to NATS; immutable once made. */
export interface Delivered {
  run: number;
  epoch: number;
  seq: number;
  goodbye: boolean;
  /** HTTP connections by countKey(), summed over the node's namespaces (zeros left out). */
  counts: ReadonlyMap<string, number>;
  total: number;
  /** When it was first published; the collector's lastSeen is when it received it. */
  firstSentMs: number;
}

/** What one slot of one node did, for the stale audit. */
export interface SlotRecord {
  dueMs: number;
  sentMs: number;
  /** Set when this slot delivered a snapshot newer than any before (the collector accepts it). */
  acceptedSentMs?: number;
}

export interface FleetCounters {
  published: number;
  lost: number;
  duplicated: number;
  reordered: number;
  restarts: number;
  goodbyes: number;
  rejoins: number;
  silences: number;
  returns: number;
}

interface Pending {
  snapshot: Omit<Delivered, 'firstSentMs'>;
  bytes: Uint8Array;
}

interface SimNode {
  name: string;
  subject: string;
  run: number;
  epoch: number;
  seq: number;
  namespaces: Counts[];
  mode: 'up' | 'away' | 'silent';
  backAtRound: number;
  held?: Pending;
  truth?: Delivered;
  slots: SlotRecord[];
}

export type Publish = (subject: string, bytes: Uint8Array) => void;

const SLOTS_KEPT = 16;
/** [port, direction, state] the nodes draw their HTTP connections from. */
const POOL: [number, 'in' | 'out', number][] = [
  [80, 'in', 1], [80, 'in', 6], [80, 'in', 3], [443, 'in', 1], [443, 'in', 8], [8080, 'in', 1], [8080, 'in', 5],
  [443, 'out', 1], [443, 'out', 6], [80, 'out', 1], [8443, 'out', 2],
];

export function countKey(port: number, direction: 'inbound' | 'outbound', state: string): string {
  return `${port} ${direction} ${state}`;
}

/** Deterministic (mulberry32), so a run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FleetSim {
  readonly counters: FleetCounters = { published: 0, lost: 0, duplicated: 0, reordered: 0, restarts: 0, goodbyes: 0, rejoins: 0, silences: 0, returns: 0 };
  private readonly nodes: SimNode[] = [];
  private readonly random: () => number;

  constructor(
    readonly options: FleetOptions,
    private readonly publish: Publish,
  ) {
    this.random = seededRandom(options.seed);
    const width = String(options.nodes - 1).length;
    for (let i = 0; i < options.nodes; i++) {
      const name = `soak-${String(i).padStart(width, '0')}`;
      this.nodes.push({
        name,
        subject: `fleetstat.v1.${options.cluster}.snap.${name}`,
        run: 0,
        epoch: this.newEpoch(0),
        seq: 0,
        namespaces: this.freshNamespaces(),
        mode: 'up',
        backAtRound: 0,
        slots: [],
      });
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  nodeName(index: number): string {
    return this.nodes[index]!.name;
  }

  /** The newest snapshot delivered for each node (undefined: none yet), by node name. */
  truth(): Map<string, Delivered | undefined> {
    return new Map(this.nodes.map((n) => [n.name, n.truth]));
  }

  /** The last slots of a node, oldest first (names are soak-<index>). */
  slotsOf(name: string): readonly SlotRecord[] {
    const node = this.nodes[Number(name.slice('soak-'.length))];
    return node?.name === name ? node.slots : [];
  }

  /** Node `index`'s turn in `round`, due at dueMs, run at nowMs. */
  step(index: number, round: number, dueMs: number, nowMs: number): void {
    const node = this.nodes[index]!;
    const record: SlotRecord = { dueMs, sentMs: nowMs };
    const late = node.held;
    node.held = undefined;
    this.live(node, round, record, nowMs);
    // A held snapshot goes out after whatever this slot sent (or at this slot if it sent nothing).
    if (late) this.deliver(node, late, record, nowMs);
    node.slots.push(record);
    if (node.slots.length > SLOTS_KEPT) node.slots.shift();
  }

  private live(node: SimNode, round: number, record: SlotRecord, nowMs: number): void {
    if (node.mode !== 'up') {
      if (round < node.backAtRound) return;
      if (node.mode === 'away') this.counters.rejoins++;
      else this.counters.returns++;
      this.newRun(node, true);
    } else if (this.random() < this.options.life.restart) {
      this.counters.restarts++;
      this.newRun(node, false);
    }
    if (this.random() < this.options.life.silent) {
      this.counters.silences++;
      node.mode = 'silent';
      node.backAtRound = this.random() < 0.1 ? Infinity : round + 4 + Math.floor(this.random() * 12);
      return;
    }
    const goodbye = this.random() < this.options.life.leave;
    if (goodbye) {
      this.counters.goodbyes++;
      node.mode = 'away';
      node.backAtRound = round + 3 + Math.floor(this.random() * 10);
    }
    this.walk(node);
    const pending = this.make(node, goodbye, nowMs);
    const fault = this.random();
    const { loss, dup, reorder } = this.options.faults;
    if (fault < loss) {
      this.counters.lost++;
    } else if (fault < loss + dup) {
      this.counters.duplicated++;
      this.deliver(node, pending, record, nowMs);
      this.deliver(node, pending, record, nowMs);
    } else if (fault < loss + dup + reorder) {
      this.counters.reordered++;
      node.held = pending;
    } else {
      this.deliver(node, pending, record, nowMs);
    }
  }

  private deliver(node: SimNode, pending: Pending, record: SlotRecord, nowMs: number): void {
    this.publish(node.subject, pending.bytes);
    this.counters.published++;
    const s = pending.snapshot;
    const have = node.truth;
    if (!have || s.run > have.run || (s.run === have.run && s.seq > have.seq)) {
      node.truth = { ...s, firstSentMs: nowMs };
      record.acceptedSentMs = nowMs;
    }
  }

  private make(node: SimNode, goodbye: boolean, nowMs: number): Pending {
    node.seq++;
    const namespaces = node.namespaces.map((ns) => ns.filter(([, , , count]) => count > 0));
    const snapshot = buildSnapshot(node.name, { namespaces, intervalMs: this.options.intervalMs }, {
      epoch: node.epoch,
      seq: node.seq,
      agentTimeMs: nowMs,
      goodbye,
      cluster: this.options.cluster,
    });
    const counts = new Map<string, number>();
    let total = 0;
    for (const ns of namespaces) {
      for (const [port, dir, state, count] of ns) {
        const key = countKey(port, dir === 'in' ? 'inbound' : 'outbound', tcpStateName(state));
        counts.set(key, (counts.get(key) ?? 0) + count);
        total += count;
      }
    }
    return {
      snapshot: { run: node.run, epoch: node.epoch, seq: node.seq, goodbye, counts, total },
      bytes: SnapshotCodec.encode(snapshot).finish(),
    };
  }

  private newRun(node: SimNode, fresh: boolean): void {
    node.run++;
    node.epoch = this.newEpoch(node.epoch);
    node.seq = 0;
    node.mode = 'up';
    if (fresh) node.namespaces = this.freshNamespaces();
  }

  /** A random walk: some counts move a little each snapshot, never below zero. */
  private walk(node: SimNode): void {
    for (const ns of node.namespaces) {
      for (const entry of ns) {
        if (this.random() < 0.3) entry[3] = Math.max(0, entry[3] + Math.floor(this.random() * 11) - 5);
      }
    }
  }

  private freshNamespaces(): Counts[] {
    const namespaces: Counts[] = [];
    const count = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < count; i++) {
      const picked = POOL.filter(() => this.random() < 0.45);
      namespaces.push(picked.map(([port, dir, state]) => [port, dir, state, Math.floor(this.random() * 60)]));
    }
    return namespaces;
  }

  private newEpoch(previous: number): number {
    for (;;) {
      const epoch = 1 + Math.floor(this.random() * 0xfffffffe);
      if (epoch !== previous) return epoch;
    }
  }
}
