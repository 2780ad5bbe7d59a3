// Stale accuracy: every "node stale" the collector logs, judged against what the node really
// did. Pure: the event and the node's recent slots in, a verdict out.
//
// A node is rightly stale when its last 3 slots before the event delivered nothing the
// collector would accept (lost, held back for reordering, or the node was silent or away).
// With 1% loss and 1% reordering that happens by chance now and then (about 1e-6 per node and
// interval), and then stale is correct. Anything less is a false stale, unless the slot that
// would have kept the node live was sent late by the harness itself (its clock fell behind),
// which is counted apart.

import { MISSED_INTERVALS_BEFORE_STALE } from '../../collector/state/node-registry.js';
import type { SlotRecord } from './fleet-sim.js';

export interface StaleEvent {
  node: string;
  /** The collector's log time of the event. */
  atMs: number;
  /** The collector's lastSeen of the node at that moment. */
  lastSeenMs: number;
}

export type StaleVerdict =
  | { kind: 'correct'; delayMs: number }
  | { kind: 'false' | 'harness late'; detail: string };

/** Harness lateness beyond this, on a slot that would have kept the node live, excuses the collector. */
export const HARNESS_LATE_MS = 50;

export function judgeStale(event: StaleEvent, slots: readonly SlotRecord[], intervalMs: number): StaleVerdict {
  let anchor = -1;
  for (let i = slots.length - 1; i >= 0; i--) {
    const sent = slots[i]!.acceptedSentMs;
    if (sent !== undefined && sent <= event.lastSeenMs) {
      anchor = i;
      break;
    }
  }
  const due = slots.slice(anchor + 1).filter((s) => s.dueMs <= event.atMs);
  const missed = due.filter((s) => s.acceptedSentMs === undefined).length;
  if (missed >= MISSED_INTERVALS_BEFORE_STALE) {
    return { kind: 'correct', delayMs: event.atMs - (event.lastSeenMs + MISSED_INTERVALS_BEFORE_STALE * intervalMs) };
  }
  const delivered = due.filter((s) => s.acceptedSentMs !== undefined);
  const detail =
    `${missed} slot(s) missed since lastSeen ${new Date(event.lastSeenMs).toISOString()}; ` +
    `delivered ${delivered.map((s) => `due +${s.dueMs - event.lastSeenMs} ms sent +${s.acceptedSentMs! - event.lastSeenMs} ms`).join(', ') || 'nothing'}; ` +
    `stale at +${event.atMs - event.lastSeenMs} ms`;
  if (delivered.some((s) => s.acceptedSentMs! - s.dueMs > HARNESS_LATE_MS)) return { kind: 'harness late', detail };
  return { kind: 'false', detail };
}
