// Surge detection over the live fleet, evaluated once per collector interval: each series
// (kind, node or cluster, port) keeps an EWMA baseline; a value far enough above it raises an
// alert, which ends only after the value has stayed under a lower threshold for a few
// evaluations (hysteresis). While an alert is active its baseline is frozen, so a long
// attack is never learnt as normal and an identical second burst alerts again.

import type { FleetState } from '../fleet-state.js';
import type { NodeRecord } from '../state/node-registry.js';
import type { Alert, AlertChange, AlertKind, RemoteTally, SignalThresholds, SurgeThresholds } from './alert-types.js';
import { ALERT_KINDS, DEFAULT_THRESHOLDS } from './alert-types.js';
import { EwmaBaseline } from './ewma-baseline.js';
import type { SignalValue } from './surge-signals.js';
import { readSignals } from './surge-signals.js';
import { topOf } from '../../agent/snapshot/top-remotes.js';
import { tallyRemotes } from './top-remotes.js';

export type ThresholdOverrides = {
  [K in keyof SurgeThresholds]?: SurgeThresholds[K] extends object ? Partial<SurgeThresholds[K]> : SurgeThresholds[K];
};

export interface SurgeDetectorOptions {
  thresholds?: ThresholdOverrides;
  now?: () => number;
}

export interface SurgeCounters {
  evaluations: number;
  raised: Record<AlertKind, number>;
  ended: Record<AlertKind, number>;
}

interface Series {
  kind: AlertKind;
  node?: string;
  port: number;
  baseline: EwmaBaseline;
  active?: Alert;
  /** Evaluations in a row under the end threshold while active. */
  below: number;
}

export function resolveThresholds(overrides: ThresholdOverrides = {}): SurgeThresholds {
  const d = DEFAULT_THRESHOLDS;
  return {
    baseline: { ...d.baseline, ...overrides.baseline },
    connections: { ...d.connections, ...overrides.connections },
    syn: { ...d.syn, ...overrides.syn },
    acceptQueue: { ...d.acceptQueue, ...overrides.acceptQueue },
    endAfter: overrides.endAfter ?? d.endAfter,
    historySize: overrides.historySize ?? d.historySize,
    topRemotes: overrides.topRemotes ?? d.topRemotes,
  };
}

const zeroByKind = (): Record<AlertKind, number> =>
  Object.fromEntries(ALERT_KINDS.map((k) => [k, 0])) as Record<AlertKind, number>;

export class SurgeDetector {
  readonly thresholds: SurgeThresholds;
  readonly counters: SurgeCounters = { evaluations: 0, raised: zeroByKind(), ended: zeroByKind() };
  private readonly now: () => number;
  private readonly series = new Map<string, Series>();
  /** Ended alerts, oldest first, at most thresholds.historySize. */
  private readonly ended: Alert[] = [];
  private nextId = 1;

  constructor(options: SurgeDetectorOptions = {}) {
    this.thresholds = resolveThresholds(options.thresholds);
    this.now = options.now ?? Date.now;
  }

  /** Judge the fleet as it stands now; returns the alerts raised and ended by this evaluation. */
  evaluate(state: FleetState): AlertChange[] {
    const nowMs = this.now();
    this.counters.evaluations++;
    const changes: AlertChange[] = [];
    const records = new Map<string, NodeRecord>();
    for (const record of state.registry.records()) records.set(record.name, record);
    const values = readSignals(records.values());

    for (const [key, signal] of values) {
      if (!this.series.has(key)) this.series.set(key, this.newSeries(signal));
    }
    for (const [key, series] of this.series) {
      const record = series.node === undefined ? undefined : records.get(series.node);
      if (series.node !== undefined && record?.status !== 'live') {
        // A stale node says nothing about now: don't judge it, and close what it had open.
        if (series.active) changes.push(this.end(series, nowMs, 'node_gone'));
        if (!record) this.series.delete(key);
        continue;
      }
      // A port that was seen before and has no sockets now is a 0, not a gap.
      const value = values.get(key)?.value ?? 0;
      const change = this.judge(series, value, nowMs, records);
      if (change) changes.push(change);
    }
    return changes;
  }

  /** Alerts active now, oldest first. */
  active(): Alert[] {
    const out: Alert[] = [];
    for (const series of this.series.values()) if (series.active) out.push(copy(series.active));
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Ended alerts, newest first. */
  recent(): Alert[] {
    return this.ended.map(copy).reverse();
  }

  private newSeries(signal: SignalValue): Series {
    const base = { kind: signal.kind, port: signal.port, baseline: new EwmaBaseline(this.thresholds.baseline), below: 0 };
    return signal.node === undefined ? base : { ...base, node: signal.node };
  }

  private rule(kind: AlertKind): SignalThresholds {
    if (kind === 'connection_surge') return this.thresholds.connections;
    if (kind === 'syn_surge') return this.thresholds.syn;
    return this.thresholds.acceptQueue;
  }

  /** The absolute accept-queue limit for a series (Infinity where none applies). */
  private absolute(series: Series): number {
    if (series.kind !== 'accept_queue') return Infinity;
    const q = this.thresholds.acceptQueue;
    const limit = q.absoluteByPort?.get(series.port) ?? q.absolute;
    return limit > 0 ? limit : Infinity;
  }

  private startThreshold(series: Series): number {
    return Math.min(series.baseline.threshold(this.rule(series.kind)), this.absolute(series));
  }

  /** Under this the alert counts toward ending; the value has to clear every start condition's lower level. */
  private endThreshold(series: Series): number {
    const rule = this.rule(series.kind);
    const b = series.baseline;
    const fromBaseline = b.warm ? b.mean + Math.max(rule.kEnd * b.deviation, rule.minRise * rule.endRiseFraction) : Infinity;
    return Math.min(fromBaseline, this.absolute(series) * rule.endRiseFraction);
  }

  private judge(series: Series, value: number, nowMs: number, records: Map<string, NodeRecord>): AlertChange | undefined {
    let change: AlertChange | undefined;
    const alert = series.active;
    if (!alert) {
      const threshold = this.startThreshold(series);
      if (value >= threshold) {
        // Freeze before observing, so the surge itself is not folded into the baseline.
        series.baseline.freeze();
        series.below = 0;
        series.active = this.raise(series, value, threshold, nowMs, records);
        change = { type: 'raised', alert: copy(series.active) };
      }
    } else {
      alert.value = value;
      // The sources at the peak are the ones worth naming; after it they fade into the calm.
      if (value > alert.peak) {
        alert.peak = value;
        alert.topRemotes = this.remotes(series, records);
      }
      series.below = value < this.endThreshold(series) ? series.below + 1 : 0;
      if (series.below >= this.thresholds.endAfter) change = this.end(series, nowMs, 'recovered');
    }
    series.baseline.observe(value);
    return change;
  }

  private raise(series: Series, value: number, threshold: number, nowMs: number, records: Map<string, NodeRecord>): Alert {
    this.counters.raised[series.kind]++;
    const scope = series.node === undefined ? { port: series.port } : { node: series.node, port: series.port };
    return {
      id: `${series.kind}:${series.node ?? 'cluster'}:${series.port}:${nowMs}:${this.nextId++}`,
      kind: series.kind,
      scope,
      startedAt: nowMs,
      value,
      peak: value,
      baseline: series.baseline.mean,
      threshold,
      topRemotes: this.remotes(series, records),
    };
  }

  private end(series: Series, nowMs: number, reason: 'recovered' | 'node_gone'): AlertChange {
    const alert = series.active;
    if (!alert) throw new Error('end() without an active alert');
    alert.endedAt = nowMs;
    alert.endReason = reason;
    series.active = undefined;
    series.below = 0;
    series.baseline.unfreeze();
    this.counters.ended[series.kind]++;
    this.ended.push(alert);
    if (this.ended.length > this.thresholds.historySize) this.ended.splice(0, this.ended.length - this.thresholds.historySize);
    return { type: 'ended', alert: copy(alert) };
  }

  /** Only computed for active alerts: a cluster-wide tally walks every live node. */
  private remotes(series: Series, records: Map<string, NodeRecord>): RemoteTally[] {
    const tally = new Map<string, number>();
    const scope = series.node === undefined ? records.values() : [records.get(series.node)];
    for (const record of scope) if (record?.status === 'live') tallyRemotes(record.snapshot, series.port, tally);
    return topOf(tally, this.thresholds.topRemotes);
  }
}

function copy(alert: Alert): Alert {
  return { ...alert, scope: { ...alert.scope }, topRemotes: alert.topRemotes.map((r) => ({ ...r })) };
}
