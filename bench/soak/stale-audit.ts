// Stale accuracy: every "node stale" the collector logs, judged against what the node really
// sent. Pure: the event and the node's recent slots in, a verdict out.
//
// Stale is right when the node sent nothing the collector would accept (every later snapshot
// lost, held back for reordering, or never sent because the node was silent, away, or the
// harness paused) for more than 3 intervals before the event. With 1% loss and 1% reordering
// 3 misses in a row happen by chance (about 1e-5 per node and interval), and then stale is
// correct. It is false when the node had sent a snapshot the collector would accept within
// the 3 intervals before the event: the collector had not taken it in yet.

import { MISSED_INTERVALS_BEFORE_STALE } from '../../collector/state/node-registry.js';
import type { SlotRecord } from './fleet-sim.js';

export interface StaleEvent {
  node: string;
  /** The collector's log time of the event. */
  atMs: number;
  /** The collector's lastSeen of the node at that moment. */
  lastSeenMs: number;
}

export type StaleVerdict = { kind: 'correct'; delayMs: number } | { kind: 'false'; detail: string };

export function judgeStale(event: StaleEvent, slots: readonly SlotRecord[], intervalMs: number): StaleVerdict {
  const limitMs = MISSED_INTERVALS_BEFORE_STALE * intervalMs;
  let lastSent: number | undefined;
  for (const s of slots) if (s.acceptedSentMs !== undefined && s.acceptedSentMs <= event.atMs) lastSent = s.acceptedSentMs;
  if (lastSent === undefined || event.atMs - lastSent > limitMs) {
    return { kind: 'correct', delayMs: event.atMs - (Math.max(event.lastSeenMs, lastSent ?? 0) + limitMs) };
  }
  return {
    kind: 'false',
    detail:
      `stale ${event.atMs - event.lastSeenMs} ms after the collector's lastSeen, but a newer snapshot was sent ` +
      `${event.atMs - lastSent} ms before (limit ${limitMs} ms): not taken in yet`,
  };
}
