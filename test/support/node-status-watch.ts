// Samples a collector's /api/v1/nodes every 100 ms for the whole run and remembers every
// status and lastSeen it saw, so a test can ask afterwards whether a node was ever stale in a
// window, and how long the collector heard nothing from it.
import { setTimeout as sleep } from 'node:timers/promises';

export interface StatusSample {
  atMs: number;
  /** Node name to what the collector showed; undefined when it did not answer (restarting, paused). */
  nodes: Record<string, NodeSeen> | undefined;
}

export interface NodeSeen {
  status: string;
  lastSeenMs: number;
  epoch: number;
  seq: number;
}

export interface StalePeriod {
  node: string;
  fromMs: number;
  /** The first sample after it that saw the node live again; undefined while still stale. */
  toMs: number | undefined;
}

export class NodeStatusWatch {
  readonly samples: StatusSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly base: string, everyMs = 100) {
    this.loop = (async () => {
      while (this.running) {
        this.samples.push({ atMs: Date.now(), nodes: await this.fetchNodes() });
        await sleep(everyMs);
      }
    })();
  }

  /** Resolves once a sample taken after `ms` is in (so what happened before `ms` has been seen). */
  async sampledAfter(ms: number): Promise<void> {
    while (!this.samples.some((s) => s.atMs > ms && s.nodes)) await sleep(50);
  }

  /** Stale periods of each node seen between fromMs and toMs (default now). */
  staleBetween(fromMs: number, toMs = Date.now()): StalePeriod[] {
    const periods: StalePeriod[] = [];
    const open = new Map<string, StalePeriod>();
    for (const s of this.samples) {
      if (s.atMs < fromMs || s.atMs > toMs || !s.nodes) continue;
      for (const [node, { status }] of Object.entries(s.nodes)) {
        const current = open.get(node);
        if (status === 'stale' && !current) {
          const period = { node, fromMs: s.atMs, toMs: undefined };
          open.set(node, period);
          periods.push(period);
        } else if (status !== 'stale' && current) {
          current.toMs = s.atMs;
          open.delete(node);
        }
      }
    }
    return periods;
  }

  /**
   * The longest time between two snapshots of `node` the collector accepted, among those it
   * showed between fromMs and toMs (the one it showed at fromMs included): the node's silence.
   */
  longestSilence(node: string, fromMs: number, toMs = Date.now()): number {
    const seen: number[] = [];
    for (const s of this.samples) {
      const lastSeenMs = s.nodes?.[node]?.lastSeenMs;
      if (s.atMs < fromMs || s.atMs > toMs || lastSeenMs === undefined) continue;
      if (seen.at(-1) !== lastSeenMs) seen.push(lastSeenMs);
    }
    let longest = 0;
    for (let i = 1; i < seen.length; i++) longest = Math.max(longest, seen[i]! - seen[i - 1]!);
    return longest;
  }

  /**
   * Snapshots of `node` the collector never accepted between fromMs and toMs: the gaps in the
   * sequence numbers it showed within one agent run (lost in flight, or superseded by a newer
   * one while the agent was disconnected). A restart's new run starts counting afresh.
   */
  missedSnapshots(node: string, fromMs: number, toMs = Date.now()): number {
    let missed = 0;
    let prev: NodeSeen | undefined;
    for (const s of this.samples) {
      const seen = s.nodes?.[node];
      if (s.atMs < fromMs || s.atMs > toMs || !seen) continue;
      if (prev && prev.epoch === seen.epoch && seen.seq > prev.seq) missed += seen.seq - prev.seq - 1;
      prev = seen;
    }
    return missed;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async fetchNodes(): Promise<StatusSample['nodes']> {
    try {
      const res = await fetch(`${this.base}/api/v1/nodes`, { signal: AbortSignal.timeout(1000) });
      if (res.status !== 200) return undefined;
      const list = (await res.json()) as { name: string; status: string; lastSeen: string; epoch: number; seq: number }[];
      return Object.fromEntries(list.map((n) => [n.name, { status: n.status, lastSeenMs: Date.parse(n.lastSeen), epoch: n.epoch, seq: n.seq }]));
    } catch {
      return undefined;
    }
  }
}
