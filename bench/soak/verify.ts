// One exactness check of the soak: the collector's views, fetched in a quiet moment, against
// the simulator's truth. Pure: views and truth in, mismatches out.
//
// Exact by construction: every node's (epoch, seq) must be the newest snapshot the simulator
// delivered; the node's status must follow the stale rule on the collector's own clock
// (goodbye, or more than 3 intervals since lastSeen), and lastSeen must be when that snapshot
// was sent (plus transit); the aggregates (/api/v1/summary, /metrics) must then equal the sums
// of the truth's counts over exactly the nodes that are live. Two /api/v1/nodes reads (A before,
// B after the aggregate reads) bound what changed in between: nothing is sent during a check,
// so the only change allowed is live nodes turning stale, and the sweep turns them in order
// of lastSeen. An aggregate that shows k fewer live nodes than A was therefore taken after
// exactly the k oldest of them turned: its truth is A's live nodes without those k.

import { MISSED_INTERVALS_BEFORE_STALE } from '../../collector/state/node-registry.js';
import type { NodeView, SummaryView } from '../../collector/api/fleet-views.js';
import type { Exposition } from '../../test/support/collector-child.js';
import type { Delivered } from './fleet-sim.js';
import { countKey } from './fleet-sim.js';

export interface Mismatch {
  kind: string;
  node?: string;
  detail: string;
}

export interface CheckOutcome {
  nodes: number;
  live: number;
  stale: number;
  httpConnections: number;
  /** Largest lastSeen minus the time the simulator sent that snapshot (transit and queueing). */
  maxReceiveLagMs: number;
  mismatches: Mismatch[];
  /** Mismatches by kind (mismatches itself keeps the first few). */
  byKind: Record<string, number>;
  /**
   * Nodes still live past 3 intervals of silence: not a mismatch of the aggregates (they are
   * checked against the collector's own live set), but late stale detection. The collector may
   * rightly be late by time it could not hear (its own stalls, see reception-gaps.ts).
   */
  lateStale: number;
  maxLateStaleMs: number;
}

const KEPT = 20;
/** The view's age is taken a moment after the sweep that set the status. */
const AGE_SLACK_MS = 50;

/** Nodes that are behind the truth (the collector has not caught up yet), or undefined when none. */
export function behind(view: readonly NodeView[], truth: ReadonlyMap<string, Delivered | undefined>): number {
  const seen = new Map(view.map((n) => [n.name, n]));
  let count = 0;
  for (const [name, t] of truth) {
    if (!t) continue;
    const v = seen.get(name);
    if (!v || v.epoch !== t.epoch || v.seq !== t.seq) count++;
  }
  return count;
}

/**
 * The nodes live in A that B shows stale for missed intervals, oldest lastSeen first; undefined
 * when anything else changed between the reads (a snapshot was taken in: the check then says nothing).
 */
export function turnedStale(a: readonly NodeView[], b: readonly NodeView[]): NodeView[] | undefined {
  if (a.length !== b.length) return undefined;
  const turned: NodeView[] = [];
  for (let i = 0; i < a.length; i++) {
    const n = a[i]!;
    const m = b[i]!;
    if (n.name !== m.name || n.epoch !== m.epoch || n.seq !== m.seq) return undefined;
    if (n.status === m.status) continue;
    if (n.status !== 'live' || m.staleReason !== 'missed_intervals') return undefined;
    turned.push(n);
  }
  return turned.sort((x, y) => Date.parse(x.lastSeen) - Date.parse(y.lastSeen));
}

export function verify(
  truth: ReadonlyMap<string, Delivered | undefined>,
  nodes: readonly NodeView[],
  summary: SummaryView,
  metrics: Exposition,
  turned: readonly NodeView[] = [],
): CheckOutcome {
  const out: CheckOutcome = { nodes: nodes.length, live: 0, stale: 0, httpConnections: 0, maxReceiveLagMs: 0, mismatches: [], byKind: {}, lateStale: 0, maxLateStaleMs: 0 };
  const miss = (kind: string, detail: string, node?: string): void => {
    out.byKind[kind] = (out.byKind[kind] ?? 0) + 1;
    if (out.mismatches.length < KEPT) out.mismatches.push({ kind, detail, ...(node ? { node } : {}) });
  };
  const liveTruth = new Map<string, Delivered>();
  const viewed = new Set<string>();
  for (const v of nodes) {
    viewed.add(v.name);
    const t = truth.get(v.name);
    if (!t) {
      miss('unknown node', `collector lists ${v.name}, which never delivered a snapshot`, v.name);
      continue;
    }
    if (v.epoch !== t.epoch || v.seq !== t.seq) {
      miss('wrong snapshot', `holds epoch ${v.epoch} seq ${v.seq}, newest delivered is epoch ${t.epoch} seq ${t.seq}`, v.name);
      continue;
    }
    const lag = Date.parse(v.lastSeen) - t.firstSentMs;
    out.maxReceiveLagMs = Math.max(out.maxReceiveLagMs, lag);
    if (lag < -5) miss('lastSeen', `lastSeen ${v.lastSeen} is before the snapshot was sent (${new Date(t.firstSentMs).toISOString()})`, v.name);
    const limitMs = MISSED_INTERVALS_BEFORE_STALE * v.intervalMs;
    const ageMs = v.ageSeconds * 1000;
    if (t.goodbye) {
      if (v.status !== 'stale' || v.staleReason !== 'goodbye') miss('status', `said goodbye, shown ${v.status} (${v.staleReason ?? ''})`, v.name);
    } else if (v.status === 'stale') {
      if (v.staleReason !== 'missed_intervals') miss('status', `stale for ${v.staleReason ?? '?'} without a goodbye`, v.name);
      else if (ageMs <= limitMs) miss('false stale', `stale at age ${ageMs} ms, limit ${limitMs} ms`, v.name);
    } else if (ageMs > limitMs + AGE_SLACK_MS) {
      out.lateStale++;
      out.maxLateStaleMs = Math.max(out.maxLateStaleMs, Math.round(ageMs - limitMs));
    }
    if (v.status === 'live') {
      out.live++;
      liveTruth.set(v.name, t);
      out.httpConnections += t.total;
      if (v.httpConnections !== t.total) miss('node total', `httpConnections ${v.httpConnections}, truth ${t.total}`, v.name);
    } else {
      out.stale++;
      if (v.httpConnections !== 0) miss('node total', `stale but httpConnections ${v.httpConnections}`, v.name);
    }
  }
  for (const [name, t] of truth) if (t && !viewed.has(name)) miss('missing node', `delivered epoch ${t.epoch} seq ${t.seq}, not listed`, name);

  const summaryLive = liveAfter(liveTruth, turned, out.live - summary.nodes.live);
  if (!summaryLive || summary.nodes.stale !== out.stale + (out.live - summary.nodes.live)) {
    miss('summary nodes', `summary live ${summary.nodes.live} stale ${summary.nodes.stale}, nodes view live ${out.live} stale ${out.stale}, ${turned.length} turned stale meanwhile`);
  } else {
    const expected = sums(summaryLive);
    if (summary.httpConnections !== expected.total) miss('summary total', `summary ${summary.httpConnections}, truth ${expected.total}`);
    const summaryCounts = new Map(summary.connections.map((c) => [countKey(c.port, c.direction, c.state), c.count]));
    compareCounts('summary counts', summaryCounts, expected.counts, miss);
  }
  compareMetrics(metrics, liveTruth, turned, out, miss);
  return out;
}

/** A's live nodes without the first k that turned stale; undefined when k is out of range. */
function liveAfter(live: ReadonlyMap<string, Delivered>, turned: readonly NodeView[], k: number): Map<string, Delivered> | undefined {
  if (!Number.isInteger(k) || k < 0 || k > turned.length) return undefined;
  const rest = new Map(live);
  for (const n of turned.slice(0, k)) rest.delete(n.name);
  return rest;
}

function sums(live: ReadonlyMap<string, Delivered>): { counts: Map<string, number>; total: number } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const t of live.values()) {
    for (const [key, count] of t.counts) counts.set(key, (counts.get(key) ?? 0) + count);
    total += t.total;
  }
  return { counts, total };
}

function compareMetrics(
  metrics: Exposition,
  liveInA: ReadonlyMap<string, Delivered>,
  turned: readonly NodeView[],
  out: CheckOutcome,
  miss: (kind: string, detail: string, node?: string) => void,
): void {
  const summed = new Map<string, number>();
  const perNode = new Map<string, Map<string, number>>();
  let live = -1;
  let stale = -1;
  for (const s of metrics.samples) {
    if (s.name === 'fleetstat_nodes') {
      if (s.labels['status'] === 'live') live = s.value;
      if (s.labels['status'] === 'stale') stale = s.value;
    }
    if (s.name !== 'fleetstat_http_connections') continue;
    const key = countKey(Number(s.labels['port']), s.labels['direction'] as 'inbound' | 'outbound', s.labels['state'] ?? '');
    summed.set(key, (summed.get(key) ?? 0) + s.value);
    const node = s.labels['node'] ?? '';
    let counts = perNode.get(node);
    if (!counts) perNode.set(node, (counts = new Map()));
    counts.set(key, s.value);
  }
  const liveTruth = liveAfter(liveInA, turned, out.live - live);
  if (!liveTruth || stale !== out.stale + (out.live - live)) {
    miss('metrics nodes', `fleetstat_nodes live ${live} stale ${stale}, nodes view live ${out.live} stale ${out.stale}, ${turned.length} turned stale meanwhile`);
    return;
  }
  compareCounts('metrics counts', summed, sums(liveTruth).counts, miss);
  for (const [node, counts] of perNode) {
    const t = liveTruth.get(node);
    if (!t) miss('metrics node', 'series for a node that is not live', node);
    else compareCounts('metrics node counts', counts, t.counts, miss, node);
  }
  for (const [node, t] of liveTruth) if (t.total > 0 && !perNode.has(node)) miss('metrics node', 'live node without series', node);
}

function compareCounts(
  kind: string,
  got: ReadonlyMap<string, number>,
  want: ReadonlyMap<string, number>,
  miss: (kind: string, detail: string, node?: string) => void,
  node?: string,
): void {
  for (const [key, count] of want) {
    if (count !== 0 && got.get(key) !== count) miss(kind, `${key}: ${got.get(key) ?? 'absent'}, truth ${count}`, node);
  }
  for (const [key, count] of got) if (count !== 0 && !want.get(key)) miss(kind, `${key}: ${count}, truth 0`, node);
}
