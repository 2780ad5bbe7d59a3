// The alerts the surge detector raises, and the thresholds it judges by.

import type { RemoteTally } from '../../agent/snapshot/top-remotes.js';
import type { BaselineOptions, SurgeRule } from './ewma-baseline.js';

export type { RemoteTally };

export type AlertKind = 'connection_surge' | 'syn_surge' | 'accept_queue';

export const ALERT_KINDS: readonly AlertKind[] = ['connection_surge', 'syn_surge', 'accept_queue'];

/** A port cluster-wide (no node) or on one node. */
export interface AlertScope {
  node?: string;
  port: number;
}


export interface Alert {
  id: string;
  kind: AlertKind;
  scope: AlertScope;
  /** Collector time (ms since the epoch). */
  startedAt: number;
  endedAt?: number;
  /** Why it ended: the value fell back, or the node it watched went stale or away. */
  endReason?: 'recovered' | 'node_gone';
  /** The latest value while active; the last value seen when ended. */
  value: number;
  /** The highest value seen while active. */
  peak: number;
  /** The (frozen) baseline mean the value is judged against. */
  baseline: number;
  /** The value at which the alert was raised (start threshold at the time). */
  threshold: number;
  /** Inbound remote addresses on the port at the peak (at the start until a higher value), merged across namespaces (and nodes), top first. */
  topRemotes: RemoteTally[];
}

export interface AlertChange {
  type: 'raised' | 'ended';
  alert: Alert;
}

/** Start and end rules for one baseline-judged signal. */
export interface SignalThresholds extends SurgeRule {
  /**
   * Hysteresis: once raised, the value has to fall below mean + max(kEnd·dev, minRise·endRiseFraction)
   * for `endAfter` evaluations in a row before the alert ends, so a flood that wavers
   * around the start threshold gives one alert, not a string of them.
   */
  kEnd: number;
  endRiseFraction: number;
}

export interface AcceptQueueThresholds extends SignalThresholds {
  /**
   * Queued completed handshakes (summed over the node's listeners on the port) at which the
   * port is saturated regardless of its history. /proc/net/tcp does not expose the listen()
   * backlog, so saturation cannot be judged as a fraction of it; 0 disables.
   */
  absolute: number;
  /** Per-port overrides of `absolute` (a port whose backlog is known to be small or large). */
  absoluteByPort?: ReadonlyMap<number, number>;
}

export interface SurgeThresholds {
  baseline: BaselineOptions;
  connections: SignalThresholds;
  syn: SignalThresholds;
  acceptQueue: AcceptQueueThresholds;
  /** Evaluations in a row under the end threshold before an alert ends. */
  endAfter: number;
  /** Ended alerts kept for recent(). */
  historySize: number;
  /** Remote addresses reported per alert. */
  topRemotes: number;
}

// Defaults, for a collector interval around 10 s (see README in the report for the reasoning):
// alpha 0.02 is an effective window of ~100 intervals (~16 min), slow enough that a flood
// ramping over a minute or two is still judged against the load before it; warm-up 30
// (~5 min) so the deviation has seen some noise. k = 6 mean absolute deviations (≈ 4.8 σ of
// normal noise, one-sided p ≈ 1e-6): at 8,640 evaluations a day per series, 4 σ would still
// give a false alert every few days per series; a real flood is far beyond either.
export const DEFAULT_THRESHOLDS: SurgeThresholds = {
  baseline: { alpha: 0.02, warmup: 30 },
  // 50 more inbound connections than usual is the least worth waking someone for.
  connections: { k: 6, minRise: 50, kEnd: 3, endRiseFraction: 0.5 },
  // SYN_RECV is near 0 on a healthy server (handshakes finish in one RTT): 20 half-open
  // sockets above the usual is already a flood or a lossy path.
  syn: { k: 6, minRise: 20, kEnd: 3, endRiseFraction: 0.5 },
  // 128 queued accepts: the historic SOMAXCONN, so a listener with a default backlog is full;
  // a baseline rise of 32 catches a growing queue on ports with bigger backlogs.
  acceptQueue: { absolute: 128, k: 6, minRise: 32, kEnd: 3, endRiseFraction: 0.5 },
  endAfter: 3,
  historySize: 200,
  topRemotes: 5,
};
