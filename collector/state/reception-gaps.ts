// Gaps in reception that are the collector's own doing: its NATS connection is down, or its
// process did not run (SIGSTOP, a stalled event loop). A node is stale when it was silent for
// 3 intervals the collector could have heard it in, so while a link is down the nodes last
// heard over it are not judged at all, and once the link is back their silence counts from
// then; the time the process did not run is left out of every node's silence (not the silence
// before it: a collector that stalls for 2 s every 20 s under load must still see a node that
// went quiet a minute ago). Without this, a broker restart or a paused collector would mark
// the whole fleet stale although no node did anything wrong.

import { performance } from 'node:perf_hooks';
import type { IngestTransport } from '../ingest/snapshot-ingest.js';

/** The collector's receiving side of a transport; JetStream recovery arrives over the NATS link. */
export type ReceptionLink = Exclude<IngestTransport, 'jetstream'>;

function linkOf(transport: IngestTransport): ReceptionLink {
  return transport === 'jetstream' ? 'nats' : transport;
}

const PAUSES_KEPT = 32;

export class ReceptionGaps {
  private readonly down = new Set<ReceptionLink>();
  private readonly resumedAt = new Map<ReceptionLink, number>();
  /** When the process did not run (collector clock), newest last; a few are enough. */
  private readonly pauses: { fromMs: number; toMs: number }[] = [];
  private lastBeat: { monotonicMs: number; periodMs: number } | undefined;

  /** `monotonic` measures whether this process ran (real time even when the collector's clock is a test's). */
  constructor(private readonly monotonic: () => number = () => performance.now()) {}

  /** The link stopped receiving (e.g. the NATS client reported a disconnect). */
  lost(link: ReceptionLink): void {
    this.down.add(link);
  }

  /** The link receives again from nowMs. */
  resumed(link: ReceptionLink, nowMs: number): void {
    this.down.delete(link);
    this.resumedAt.set(link, nowMs);
  }

  isDown(link: ReceptionLink): boolean {
    return this.down.has(link);
  }

  /** The collector's periodic timer ran (at nowMs by the collector's clock) and means to run every periodMs. */
  heartbeat(nowMs: number, periodMs: number): void {
    this.noticePause(nowMs);
    this.lastBeat = { monotonicMs: this.monotonic(), periodMs };
  }

  /**
   * When a node last heard at lastSeenMs over `transport` started being silent, as far as the
   * collector could have heard it; undefined while that link is down (do not judge it now).
   */
  silentSince(transport: IngestTransport, lastSeenMs: number, nowMs: number): number | undefined {
    this.noticePause(nowMs);
    const link = linkOf(transport);
    if (this.down.has(link)) return undefined;
    let blindMs = 0;
    for (const p of this.pauses) blindMs += Math.max(0, p.toMs - Math.max(p.fromMs, lastSeenMs));
    return Math.max(lastSeenMs + blindMs, this.resumedAt.get(link) ?? 0);
  }

  /**
   * A heartbeat more than a period overdue means this process was not running: after SIGCONT
   * libuv may serve a query (which judges staleness) before the overdue timer fires, so every
   * judgement checks, not just the timer.
   */
  noticePause(nowMs: number): void {
    const beat = this.lastBeat;
    const at = this.monotonic();
    if (beat && at - beat.monotonicMs > 2 * beat.periodMs) {
      // It stopped running about when the next beat was due.
      this.pauses.push({ fromMs: nowMs - (at - beat.monotonicMs - beat.periodMs), toMs: nowMs });
      if (this.pauses.length > PAUSES_KEPT) this.pauses.shift();
      this.lastBeat = { monotonicMs: at, periodMs: beat.periodMs };
    }
  }
}
