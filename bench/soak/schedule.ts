// The soak's clock: every round (one interval) gives each node its slot, spread evenly over
// the first `window` of the interval and at the same offset every round (so a node's snapshots
// are exactly one interval apart), then leaves the rest of the round quiet for the checks.
// Due times are absolute, so lateness never accumulates; it is measured instead. A check that
// outlasts the quiet part pauses the fleet: every later slot moves by the overrun (those nodes
// are then quiet for longer, which the stale audit sees as what it is: silence).

export interface ScheduleOptions {
  nodes: number;
  intervalMs: number;
  /** Share of the interval over which the slots are spread (the rest is quiet). */
  window: number;
  rounds: number;
  startMs: number;
}

export interface Lateness {
  steps: number;
  /** Time the fleet was paused for checks that outlasted the quiet part. */
  pausedMs: number;
  pauses: number;
  maxMs: number;
  over50ms: number;
  over250ms: number;
}

export function slotDueMs(opts: ScheduleOptions, round: number, index: number): number {
  return opts.startMs + round * opts.intervalMs + Math.floor((index * opts.window * opts.intervalMs) / opts.nodes);
}

/** When round's quiet part begins. */
export function quietStartMs(opts: ScheduleOptions, round: number): number {
  return opts.startMs + round * opts.intervalMs + Math.ceil(opts.window * opts.intervalMs);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Runs every slot of every round at its due time, then `onQuiet(round)` once the round's slots
 * are done and its quiet part has begun; the next round waits for what it returns. Stops early
 * when `stop()` says so. `opts.startMs` moves by each pause.
 */
export async function runSchedule(
  opts: ScheduleOptions,
  step: (index: number, round: number, dueMs: number, nowMs: number) => void,
  onQuiet: (round: number) => Promise<void> | void,
  stop: () => boolean,
): Promise<Lateness> {
  const lateness: Lateness = { steps: 0, pausedMs: 0, pauses: 0, maxMs: 0, over50ms: 0, over250ms: 0 };
  for (let round = 0; round < opts.rounds && !stop(); round++) {
    let index = 0;
    while (index < opts.nodes) {
      const now = Date.now();
      const due = slotDueMs(opts, round, index);
      if (due > now) {
        await sleep(due - now);
        if (stop()) return lateness;
        continue;
      }
      // Everything due by now, in slot order.
      while (index < opts.nodes) {
        const dueMs = slotDueMs(opts, round, index);
        if (dueMs > now) break;
        const late = now - dueMs;
        lateness.steps++;
        if (late > lateness.maxMs) lateness.maxMs = late;
        if (late > 50) lateness.over50ms++;
        if (late > 250) lateness.over250ms++;
        step(index, round, dueMs, now);
        index++;
      }
    }
    await sleep(quietStartMs(opts, round) - Date.now());
    await onQuiet(round);
    const overrun = Date.now() - (opts.startMs + (round + 1) * opts.intervalMs);
    if (overrun > 0) {
      opts.startMs += overrun;
      lateness.pausedMs += overrun;
      lateness.pauses++;
    }
  }
  return lateness;
}
