import { describe, expect, it } from 'vitest';
import { encodeLoad } from '../../test/support/alert-snapshots.js';
import type { LoadSpec } from '../../test/support/alert-snapshots.js';
import { FleetState } from '../fleet-state.js';
import type { Alert, AlertChange } from './alert-types.js';
import type { ThresholdOverrides } from './surge-detector.js';
import { SurgeDetector } from './surge-detector.js';

const ESTABLISHED = 1;
const SYN_RECV = 3;
const TIME_WAIT = 6;
const INTERVAL_MS = 1000; // makeSnapshot's interval: a node is stale after 3 s without one
const ATTACKER = '203.0.113.7';

type Load = Omit<LoadSpec, 'node' | 'seq'>;

/** A fleet, a detector on the same hand-moved clock, and one step = one collector interval. */
function rig(thresholds?: ThresholdOverrides) {
  const clock = { now: 1_700_000_000_000 };
  const now = () => clock.now;
  const fleet = new FleetState({ cluster: 'test', now });
  const detector = new SurgeDetector(thresholds ? { now, thresholds } : { now });
  const seqs = new Map<string, number>();
  const step = (loads: Record<string, Load>): AlertChange[] => {
    clock.now += INTERVAL_MS;
    for (const [node, load] of Object.entries(loads)) {
      const seq = (seqs.get(node) ?? 0) + 1;
      seqs.set(node, seq);
      const outcome = fleet.ingest(encodeLoad({ node, seq, ...load }), { transport: 'grpc' });
      if (!outcome.accepted) throw new Error(`${node}: ${outcome.reason}`);
    }
    fleet.sweep();
    return detector.evaluate(fleet);
  };
  return { clock, fleet, detector, step };
}

/** Deterministic noise (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** About `mean`, ± `spread`, bell-shaped (sum of three uniforms). */
const around = (rnd: () => number, mean: number, spread: number) =>
  Math.max(0, Math.round(mean + ((rnd() + rnd() + rnd()) / 1.5 - 1) * spread));

/** Normal traffic on port 80: ~200 established, ~50 in TIME_WAIT, a few half-open, clients spread out. */
function normal(rnd: () => number, prefix: string): Load {
  const established = around(rnd, 200, 25);
  return {
    inbound: { 80: { [ESTABLISHED]: established, [TIME_WAIT]: around(rnd, 50, 10), [SYN_RECV]: around(rnd, 1, 1) } },
    acceptQueue: { 80: around(rnd, 1, 1) },
    remotes: { 80: { [`${prefix}.1`]: 20, [`${prefix}.2`]: 18, [`${prefix}.3`]: 15 } },
  };
}

/** `base` with `extra` more sockets in `state` on port 80, all from one address. */
function burst(base: Load, state: number, extra: number, from = ATTACKER): Load {
  const states = { ...base.inbound[80] };
  states[state] = (states[state] ?? 0) + extra;
  return { ...base, inbound: { 80: states }, remotes: { 80: { ...base.remotes?.[80], [from]: extra } } };
}

/** Two nodes of normal traffic for `n` intervals; fails on any alert. */
function warmUp(step: (l: Record<string, Load>) => AlertChange[], rnd: () => number, n = 40): void {
  for (let i = 0; i < n; i++) expect(step({ a: normal(rnd, '10.0.1'), b: normal(rnd, '10.0.2') })).toEqual([]);
}

const raised = (changes: AlertChange[]) => changes.filter((c) => c.type === 'raised').map((c) => c.alert);
/** 'kind node:port' (node '*' for cluster-wide), sorted: order-free comparison of alerts. */
const named = (alerts: Alert[]) => alerts.map((a) => `${a.kind} ${a.scope.node ?? '*'}:${a.scope.port}`).sort();

describe('SurgeDetector', () => {
  it('raises nothing during warm-up, however large the burst (except a saturated accept queue)', () => {
    const { step, detector } = rig();
    const rnd = random(1);
    for (let i = 0; i < 29; i++) {
      const big = i === 20 ? burst(burst(normal(rnd, '10.0.1'), ESTABLISHED, 5000), SYN_RECV, 5000) : normal(rnd, '10.0.1');
      expect(step({ a: big })).toEqual([]);
    }
    expect(detector.counters.evaluations).toBe(29);
    expect(detector.active()).toEqual([]);
  });

  it('raises none over 2,000 intervals of steady, noisy load with slow growth', () => {
    const { step, detector } = rig();
    const rnd = random(2);
    for (let i = 0; i < 2000; i++) {
      const grow = (l: Load): Load => burst(l, ESTABLISHED, Math.round(i / 20), '10.0.9.9'); // +100 over the run
      expect(step({ a: grow(normal(rnd, '10.0.1')), b: normal(rnd, '10.0.2') })).toEqual([]);
    }
    expect(detector.counters.raised).toEqual({ connection_surge: 0, syn_surge: 0, accept_queue: 0 });
  });

  it('a burst of connections from one address raises connection_surge on the node and cluster-wide, naming it first', () => {
    const { step, detector, clock } = rig();
    const rnd = random(3);
    warmUp(step, rnd);
    const changes = [
      ...step({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') }),
      ...step({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') }),
    ];
    const alerts = raised(changes);
    expect(named(alerts)).toEqual(['connection_surge *:80', 'connection_surge a:80']);
    for (const alert of alerts) {
      expect(alert.topRemotes[0]).toEqual({ address: ATTACKER, count: 300 });
      expect(alert.topRemotes.length).toBeLessThanOrEqual(5);
      expect(alert.value).toBeGreaterThanOrEqual(alert.threshold);
      expect(alert.startedAt).toBe(clock.now - INTERVAL_MS); // the first evaluation after the burst
      expect(alert.endedAt).toBeUndefined();
    }
    const cluster = alerts.find((a) => a.scope.node === undefined);
    // Merged across nodes: b's clients are in the cluster-wide list too.
    expect(cluster?.topRemotes.map((r) => r.address)).toContain('10.0.2.1');
    expect(cluster?.baseline).toBeGreaterThan(450);
    expect(cluster?.baseline).toBeLessThan(550);
    expect(detector.active()).toHaveLength(2);
    expect(detector.counters.raised.connection_surge).toBe(2);
  });

  it('a SYN_RECV burst raises syn_surge (and not connection_surge)', () => {
    const { step, detector } = rig();
    const rnd = random(4);
    warmUp(step, rnd);
    const alerts = raised(step({ a: normal(rnd, '10.0.1'), b: burst(normal(rnd, '10.0.2'), SYN_RECV, 400) }));
    expect(named(alerts)).toEqual(['syn_surge *:80', 'syn_surge b:80']);
    expect(alerts[0]?.topRemotes[0]?.address).toBe(ATTACKER);
    expect(detector.counters.raised.connection_surge).toBe(0);
  });

  it('an accept queue over the absolute threshold raises accept_queue, even before the baseline is warm', () => {
    const { step } = rig({ acceptQueue: { absoluteByPort: new Map([[8080, 10]]) } });
    const rnd = random(5);
    for (let i = 0; i < 5; i++) step({ a: normal(rnd, '10.0.1') });
    const full: Load = { ...normal(rnd, '10.0.1'), acceptQueue: { 80: 128, 8080: 12 } };
    const alerts = raised(step({ a: full }));
    expect(named(alerts)).toEqual(['accept_queue a:80', 'accept_queue a:8080']);
    expect(alerts.map((a) => [a.scope.port, a.threshold, a.value]).sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0))).toEqual([
      [80, 128, 128],
      [8080, 10, 12],
    ]);
  });

  it('an accept queue rising far above its baseline raises accept_queue below the absolute threshold', () => {
    const { step } = rig();
    const rnd = random(6);
    warmUp(step, rnd);
    const alerts = raised(step({ a: { ...normal(rnd, '10.0.1'), acceptQueue: { 80: 60 } }, b: normal(rnd, '10.0.2') }));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'accept_queue', scope: { node: 'a', port: 80 }, value: 60 });
    expect(alerts[0]?.threshold).toBeLessThan(60);
  });

  it('ends an alert only after 3 evaluations under the lower threshold, and keeps it in recent()', () => {
    const { step, detector, clock } = rig();
    const rnd = random(7);
    warmUp(step, rnd);
    const attack = () => ({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') });
    const calm = () => ({ a: normal(rnd, '10.0.1'), b: normal(rnd, '10.0.2') });
    expect(raised(step(attack()))).toHaveLength(2);
    // Wavering: two calm intervals, then the flood again, is still one alert.
    expect(step(calm())).toEqual([]);
    expect(step(calm())).toEqual([]);
    expect(step(attack())).toEqual([]);
    // +120 on node a, under the burst but over the end level, keeps it going.
    for (let i = 0; i < 5; i++) expect(step({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 120), b: normal(rnd, '10.0.2') })).toEqual([]);
    expect(step(calm())).toEqual([]);
    expect(step(calm())).toEqual([]);
    const ended = step(calm());
    expect(ended.map((c) => c.type)).toEqual(['ended', 'ended']);
    expect(detector.active()).toEqual([]);
    const recent = detector.recent();
    expect(recent).toHaveLength(2);
    for (const alert of recent) {
      expect(alert).toMatchObject({ endedAt: clock.now, endReason: 'recovered' });
      expect(alert.peak).toBeGreaterThanOrEqual(alert.threshold);
      expect(alert.topRemotes[0]?.address).toBe(ATTACKER); // as seen at the peak, not after
    }
    expect(detector.counters.ended.connection_surge).toBe(2);
  });

  it('freezes the baseline during an alert: a long attack is not learnt, and a second identical burst alerts again', () => {
    const { step, detector } = rig();
    const rnd = random(8);
    warmUp(step, rnd);
    const attack = () => ({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') });
    const calm = () => ({ a: normal(rnd, '10.0.1'), b: normal(rnd, '10.0.2') });
    const first = raised(step(attack()));
    expect(first).toHaveLength(2);
    for (let i = 0; i < 200; i++) expect(step(attack())).toEqual([]); // still active, nothing learnt
    expect(detector.active()).toHaveLength(2);
    for (let i = 0; i < 3; i++) step(calm());
    expect(detector.active()).toEqual([]);
    const second = raised(step(attack()));
    expect(second.map((a) => a.scope)).toEqual(first.map((a) => a.scope));
    for (const [i, alert] of second.entries()) expect(alert.baseline).toBeCloseTo(first[i]?.baseline ?? NaN, -1);
    expect(detector.counters.raised.connection_surge).toBe(4);
  });

  it('ignores stale nodes and ends their alerts', () => {
    const { step, detector } = rig();
    const rnd = random(9);
    warmUp(step, rnd);
    expect(raised(step({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') }))).toHaveLength(2);
    // a goes quiet: stale after 3 missed intervals.
    const changes: AlertChange[] = [];
    for (let i = 0; i < 4; i++) changes.push(...step({ b: normal(rnd, '10.0.2') }));
    const ended = changes.filter((c) => c.type === 'ended').map((c) => c.alert);
    expect(ended.find((a) => a.scope.node === 'a')).toMatchObject({ endReason: 'node_gone' });
    expect(raised(changes)).toEqual([]); // a's load leaving the cluster sum is no surge
    expect(detector.active().every((a) => a.scope.node !== 'a')).toBe(true);
  });

  it('keeps a bounded history of ended alerts, newest first', () => {
    const { step, detector } = rig({ historySize: 3 });
    const rnd = random(10);
    warmUp(step, rnd);
    for (let round = 0; round < 3; round++) {
      step({ a: burst(normal(rnd, '10.0.1'), ESTABLISHED, 300), b: normal(rnd, '10.0.2') });
      for (let i = 0; i < 3; i++) step({ a: normal(rnd, '10.0.1'), b: normal(rnd, '10.0.2') });
    }
    const recent = detector.recent();
    expect(recent).toHaveLength(3);
    expect(recent.map((a) => a.endedAt)).toEqual([...recent.map((a) => a.endedAt ?? 0)].sort((x, y) => y - x));
    expect(detector.counters.ended.connection_surge).toBe(6);
    expect(new Set(recent.map((a) => a.id)).size).toBe(3);
  });
});
